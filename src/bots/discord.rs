//! Discord webhooks with ids: `POST {webhook}?wait=true` answers the
//! message (its `id`), `thread_id` posts into a thread, `PATCH` / `DELETE
//! {webhook}/messages/{id}` change the webhook's own messages, files go as
//! multipart (`payload_json` + `files[n]`). Mentions are `<@id>`, and
//! `allowed_mentions` pings exactly the people listed (never `@everyone`
//! by accident). The webhook URL is the credential: it is never shown.

use reqwest::Url;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use super::{BotError, Bots, excerpt};
use crate::domain::{Attachment, Platform, WebhookUrl};
use crate::http_answer::Answer;

const PLATFORM: Platform = Platform::DiscordWebhook;

/// A message to post or an edit: text and the user ids it may ping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscordMessage {
    /// Discord markdown.
    pub content: String,
    /// The user ids mentioned (`<@id>` in `content`): the only pings.
    pub pings: Vec<String>,
}

impl DiscordMessage {
    fn payload(&self) -> Value {
        json!({
            "content": self.content,
            "allowed_mentions": {"parse": [], "users": self.pings},
        })
    }
}

/// A message's id as the API answers it: `<message id>`, or
/// `<thread id>:<message id>` for one in a thread (edits must name the
/// thread again).
pub fn message_id(thread: Option<&str>, id: &str) -> String {
    match thread {
        Some(thread) => format!("{thread}:{id}"),
        None => id.to_string(),
    }
}

/// The thread and message of an id made by [`message_id`].
fn split_id(id: &str) -> (Option<&str>, &str) {
    match id.split_once(':') {
        Some((thread, message)) => (Some(thread), message),
        None => (None, id),
    }
}

impl Bots {
    /// Posts `message` (and `file`, if any) through the webhook, in
    /// `thread` when given; the message's id.
    pub async fn discord_post(
        &self,
        webhook: &WebhookUrl,
        message: Option<&DiscordMessage>,
        file: Option<&Attachment>,
        thread: Option<&str>,
    ) -> Result<String, BotError> {
        let url = endpoint(webhook, None, thread, true)?;
        let payload = message.map_or_else(
            || json!({"allowed_mentions": {"parse": []}}),
            DiscordMessage::payload,
        );
        let request = match file {
            None => self.http.post(url).json(&payload),
            Some(file) => {
                let mut payload = payload;
                payload["attachments"] = json!([{"id": 0, "filename": file.name}]);
                let part = Part::bytes(file.bytes.clone()).file_name(file.name.clone());
                let form = Form::new()
                    .text("payload_json", payload.to_string())
                    .part("files[0]", part);
                self.http.post(url).multipart(form)
            }
        };
        let answer = self.exchange(PLATFORM, request, true).await?;
        let body = classify(answer)?;
        let id = body["id"]
            .as_str()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| bad("no message id in the answer"))?;
        Ok(message_id(thread, id))
    }

    /// Replaces the content of the webhook's message `id`.
    pub async fn discord_edit(
        &self,
        webhook: &WebhookUrl,
        id: &str,
        message: &DiscordMessage,
    ) -> Result<(), BotError> {
        let (thread, id) = split_id(id);
        let url = endpoint(webhook, Some(id), thread, false)?;
        let request = self.http.patch(url).json(&message.payload());
        classify(self.exchange(PLATFORM, request, true).await?).map(drop)
    }

    /// Deletes the webhook's message `id`.
    pub async fn discord_delete(&self, webhook: &WebhookUrl, id: &str) -> Result<(), BotError> {
        let (thread, id) = split_id(id);
        let url = endpoint(webhook, Some(id), thread, false)?;
        classify(self.exchange(PLATFORM, self.http.delete(url), true).await?).map(drop)
    }
}

/// The webhook's URL, or one of its messages', with the query.
fn endpoint(
    webhook: &WebhookUrl,
    message: Option<&str>,
    thread: Option<&str>,
    wait: bool,
) -> Result<Url, BotError> {
    let mut url =
        Url::parse(webhook.expose_secret()).map_err(|_| bad("the webhook URL cannot be read"))?;
    if let Some(message) = message {
        url.path_segments_mut()
            .map_err(|_| bad("the webhook URL has no path"))?
            .pop_if_empty()
            .extend(["messages", message]);
    }
    {
        let mut query = url.query_pairs_mut();
        if wait {
            query.append_pair("wait", "true");
        }
        if let Some(thread) = thread {
            query.append_pair("thread_id", thread);
        }
    }
    if url.query() == Some("") {
        url.set_query(None);
    }
    Ok(url)
}

fn bad(what: &str) -> BotError {
    BotError::BadAnswer {
        platform: PLATFORM,
        what: what.to_string(),
    }
}

/// A success (its JSON, `null` for 204), or the error class Discord's
/// status and `code` name.
fn classify(answer: Answer) -> Result<Value, BotError> {
    if (200..300).contains(&answer.status) {
        return Ok(serde_json::from_str(&answer.body).unwrap_or(Value::Null));
    }
    let body: Value = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
    let code = body["code"].as_i64().unwrap_or(0);
    let label = || {
        excerpt(&format!(
            "{code} {}",
            body["message"].as_str().unwrap_or("")
        ))
    };
    Err(match (answer.status, code) {
        (429, _) => BotError::RateLimited {
            platform: PLATFORM,
            retry_after: body["retry_after"]
                .as_f64()
                .filter(|secs| secs.is_finite() && *secs >= 0.0)
                .map(std::time::Duration::from_secs_f64)
                .or(answer.retry_after),
        },
        (401, _) | (404, 10015) | (403, 50013) => BotError::AuthRevoked {
            platform: PLATFORM,
            code: label(),
        },
        (404, 10008) => BotError::MessageNotFound {
            platform: PLATFORM,
            code: label(),
        },
        (_, 10003) => BotError::DestinationNotFound {
            platform: PLATFORM,
            code: label(),
        },
        (400, 50035) if answer.body.contains("BASE_TYPE_MAX_LENGTH") => BotError::TooLong {
            platform: PLATFORM,
            code: label(),
        },
        (413, _) => BotError::FileTooLarge { platform: PLATFORM },
        (500..=599, _) => BotError::server(PLATFORM, answer.status),
        _ => BotError::Refused {
            platform: PLATFORM,
            code: label(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_thread() {
        assert_eq!(message_id(Some("55"), "66"), "55:66");
        assert_eq!(split_id("55:66"), (Some("55"), "66"));
        assert_eq!(split_id("66"), (None, "66"));
        let hook = WebhookUrl::parse("https://discord.com/api/webhooks/1/tok").unwrap();
        assert_eq!(
            endpoint(&hook, Some("66"), Some("55"), false)
                .unwrap()
                .as_str(),
            "https://discord.com/api/webhooks/1/tok/messages/66?thread_id=55"
        );
        assert_eq!(
            endpoint(&hook, None, None, true).unwrap().as_str(),
            "https://discord.com/api/webhooks/1/tok?wait=true"
        );
    }
}
