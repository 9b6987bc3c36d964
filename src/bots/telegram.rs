//! Telegram's Bot API: `sendMessage` in the HTML parse mode (its escaping
//! is exact: `&`, `<`, `>`), answered with the `message_id`;
//! `reply_parameters` to reply to a message and `message_thread_id` for a
//! forum topic; `editMessageText`, `deleteMessage`; `sendPhoto` and
//! `sendDocument` for files. The bot token is part of every URL
//! (`{api}/bot{token}/{method}`), so no URL is ever logged or shown.

use reqwest::multipart::{Form, Part};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::{BotError, Bots, excerpt};
use crate::domain::{Attachment, Platform};
use crate::http_answer::Answer;

const PLATFORM: Platform = Platform::Telegram;

/// Where a Telegram post goes.
#[derive(Debug, Clone, Copy)]
pub struct TelegramPlace<'a> {
    /// `chat_id`: a number (`-100...`) or `@channelusername`.
    pub chat: &'a str,
    /// A forum topic (`message_thread_id`).
    pub topic: Option<i64>,
    /// The message to reply to.
    pub reply_to: Option<&'a str>,
}

/// The Telegram calls of one bot token.
pub struct Telegram<'a> {
    bots: &'a Bots,
    token: &'a SecretString,
}

impl Bots {
    /// Telegram, as the bot whose token is `token`.
    pub fn telegram<'a>(&'a self, token: &'a SecretString) -> Telegram<'a> {
        Telegram { bots: self, token }
    }
}

impl Telegram<'_> {
    /// Sends `html`; the message id.
    pub async fn send(&self, place: TelegramPlace<'_>, html: &str) -> Result<String, BotError> {
        let mut params = place_params(place)?;
        params["text"] = json!(html);
        params["parse_mode"] = json!("HTML");
        params["link_preview_options"] = json!({"is_disabled": true});
        let result = self.call("sendMessage", &params, true).await?;
        message_id(&result)
    }

    /// Sends `file` as a photo (`picture`) or a document, with an
    /// optional HTML caption; the message id.
    pub async fn send_file(
        &self,
        place: TelegramPlace<'_>,
        file: &Attachment,
        picture: bool,
    ) -> Result<String, BotError> {
        let (method, field) = match picture {
            true => ("sendPhoto", "photo"),
            false => ("sendDocument", "document"),
        };
        let params = place_params(place)?;
        let mut form = Form::new();
        for (name, value) in params.as_object().into_iter().flatten() {
            let value = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_string);
            form = form.text(name.clone(), value);
        }
        let part = Part::bytes(file.bytes.clone()).file_name(file.name.clone());
        let request = self
            .bots
            .http
            .post(self.url(method))
            .multipart(form.part(field, part));
        let answer = self.bots.exchange(PLATFORM, request, true).await?;
        message_id(&classify(answer)?)
    }

    /// Replaces a message's text.
    pub async fn edit(&self, chat: &str, id: &str, html: &str) -> Result<(), BotError> {
        let params = json!({
            "chat_id": chat_id(chat),
            "message_id": number(id)?,
            "text": html,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": true},
        });
        match self.call("editMessageText", &params, true).await {
            // The same text again: the message already says it.
            Err(BotError::Refused { code, .. }) if code.contains("message is not modified") => {
                Ok(())
            }
            other => other.map(drop),
        }
    }

    /// Deletes a message.
    pub async fn delete(&self, chat: &str, id: &str) -> Result<(), BotError> {
        let params = json!({"chat_id": chat_id(chat), "message_id": number(id)?});
        self.call("deleteMessage", &params, true).await.map(drop)
    }

    /// Whether the token still works (`getMe`), for `/health`.
    pub async fn check(&self) -> Result<(), BotError> {
        self.call("getMe", &json!({}), false).await.map(drop)
    }

    fn url(&self, method: &str) -> String {
        format!(
            "{}/bot{}/{method}",
            self.bots.urls.telegram,
            self.token.expose_secret()
        )
    }

    async fn call(&self, method: &str, params: &Value, posts: bool) -> Result<Value, BotError> {
        let request = self.bots.http.post(self.url(method)).json(params);
        let answer = self.bots.exchange(PLATFORM, request, posts).await?;
        classify(answer)
    }
}

/// `chat_id`, `message_thread_id` and `reply_parameters` of a place.
fn place_params(place: TelegramPlace<'_>) -> Result<Value, BotError> {
    let mut params = json!({"chat_id": chat_id(place.chat)});
    if let Some(topic) = place.topic {
        params["message_thread_id"] = json!(topic);
    }
    if let Some(reply_to) = place.reply_to {
        params["reply_parameters"] = json!({"message_id": number(reply_to)?});
    }
    Ok(params)
}

/// A numeric chat id as a number, `@username` as it is.
fn chat_id(chat: &str) -> Value {
    chat.parse::<i64>()
        .map_or_else(|_| json!(chat), |id| json!(id))
}

/// A message id: Telegram's are whole numbers.
fn number(id: &str) -> Result<i64, BotError> {
    id.parse().map_err(|_| BotError::MessageNotFound {
        platform: PLATFORM,
        code: "a Telegram message id is a whole number".into(),
    })
}

fn message_id(result: &Value) -> Result<String, BotError> {
    result["message_id"]
        .as_i64()
        .map(|id| id.to_string())
        .ok_or_else(|| BotError::BadAnswer {
            platform: PLATFORM,
            what: "no message_id in the answer".into(),
        })
}

/// `{"ok": true, "result"}`, or the error class its `description` names.
fn classify(answer: Answer) -> Result<Value, BotError> {
    let body: Value = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
    if answer.status == 200 && body["ok"] == true {
        return Ok(body["result"].clone());
    }
    let description = excerpt(body["description"].as_str().unwrap_or(""));
    let lower = description.to_ascii_lowercase();
    let has = |text: &str| lower.contains(text);
    let code = description.clone();
    Err(match answer.status {
        429 => BotError::RateLimited {
            platform: PLATFORM,
            retry_after: body["parameters"]["retry_after"]
                .as_u64()
                .map(std::time::Duration::from_secs)
                .or(answer.retry_after),
        },
        // A 404 "Not Found" is a token that names no bot.
        401 | 404 => BotError::AuthRevoked {
            platform: PLATFORM,
            code,
        },
        403 => BotError::NotInChannel {
            platform: PLATFORM,
            code,
        },
        413 => BotError::FileTooLarge { platform: PLATFORM },
        500..=599 => BotError::server(PLATFORM, answer.status),
        _ if has("chat not found") || has("thread not found") => BotError::DestinationNotFound {
            platform: PLATFORM,
            code,
        },
        _ if has("message to edit not found")
            || has("message to delete not found")
            || has("message to be replied not found") =>
        {
            BotError::MessageNotFound {
                platform: PLATFORM,
                code,
            }
        }
        _ if has("can't be edited") || has("can't be deleted") => BotError::NotOwnMessage {
            platform: PLATFORM,
            code,
        },
        _ if has("message is too long") || has("caption is too long") => BotError::TooLong {
            platform: PLATFORM,
            code,
        },
        200..=299 => BotError::BadAnswer {
            platform: PLATFORM,
            what: "not the Bot API's answer".into(),
        },
        _ => BotError::Refused {
            platform: PLATFORM,
            code,
        },
    })
}
