//! Slack's Web API with a bot token (`xoxb-...`): `chat.postMessage`
//! (answered with the message's `ts`, which is its id), `thread_ts`,
//! `chat.update`, `chat.delete`, the three-step file upload, and
//! `conversations.history` to find a post again by the `metadata` we
//! attach to it. Every method answers HTTP 200 `{"ok": false, "error"}`
//! when it refuses; 429 carries `Retry-After`.

use std::time::Duration;

use reqwest::Url;
use reqwest::header::CONTENT_TYPE;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::{BotError, Bots, excerpt};
use crate::base_url::is_trusted;
use crate::domain::{Attachment, Platform};
use crate::http_answer::Answer;

const PLATFORM: Platform = Platform::Slack;
/// The `metadata.event_type` of our posts: their idempotency key rides in
/// the payload, so a post whose answer was lost can be found again.
pub const KEY_EVENT: &str = "skype_sender_post";
/// How far back a lost post is looked for (messages).
const HISTORY_LIMIT: u32 = 100;

/// The Slack calls of one bot token.
pub struct Slack<'a> {
    bots: &'a Bots,
    token: &'a SecretString,
}

impl Bots {
    /// Slack, as the bot whose token is `token`.
    pub fn slack<'a>(&'a self, token: &'a SecretString) -> Slack<'a> {
        Slack { bots: self, token }
    }
}

impl Slack<'_> {
    /// Posts mrkdwn `text` to `channel` (in `thread` when given), tagged
    /// with `key`; the message's `ts`.
    pub async fn post(
        &self,
        channel: &str,
        text: &str,
        thread: Option<&str>,
        key: Option<&str>,
    ) -> Result<String, BotError> {
        let mut body = json!({"channel": channel, "text": text, "unfurl_links": false});
        if let Some(thread) = thread {
            body["thread_ts"] = json!(thread);
        }
        if let Some(key) = key {
            body["metadata"] = json!({"event_type": KEY_EVENT, "event_payload": {"key": key}});
        }
        let answer = self.call("chat.postMessage", &body, true).await?;
        string(&answer, "/ts")
    }

    /// Replaces a message's text.
    pub async fn update(&self, channel: &str, ts: &str, text: &str) -> Result<(), BotError> {
        let body = json!({"channel": channel, "ts": ts, "text": text});
        self.call("chat.update", &body, true).await.map(drop)
    }

    /// Deletes a message.
    pub async fn delete(&self, channel: &str, ts: &str) -> Result<(), BotError> {
        let body = json!({"channel": channel, "ts": ts});
        self.call("chat.delete", &body, true).await.map(drop)
    }

    /// The `ts` of the recent message posted with `key`, if any.
    pub async fn find_by_key(&self, channel: &str, key: &str) -> Result<Option<String>, BotError> {
        let params =
            json!({"channel": channel, "limit": HISTORY_LIMIT, "include_all_metadata": true});
        let answer = self.call_form("conversations.history", &params).await?;
        let messages = answer["messages"].as_array().cloned().unwrap_or_default();
        Ok(messages.iter().find_map(|message| {
            let metadata = &message["metadata"];
            let ours =
                metadata["event_type"] == KEY_EVENT && metadata["event_payload"]["key"] == key;
            ours.then(|| message["ts"].as_str().map(str::to_string))
                .flatten()
        }))
    }

    /// Uploads `file` and shares it in `channel` (in `thread` when given);
    /// the `ts` of the message that shows it.
    pub async fn upload(
        &self,
        channel: &str,
        file: &Attachment,
        thread: Option<&str>,
    ) -> Result<String, BotError> {
        let length = file.bytes.len().to_string();
        let params = json!({"filename": file.name, "length": length});
        let ticket = self
            .call_form("files.getUploadURLExternal", &params)
            .await?;
        let file_id = string(&ticket, "/file_id")?;
        let upload_url = Url::parse(&string(&ticket, "/upload_url")?)
            .ok()
            .filter(is_trusted)
            .ok_or_else(|| bad("an upload URL that is not https"))?;
        // The upload URL is its own credential: no token goes there.
        let upload = self
            .bots
            .http
            .post(upload_url)
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(file.bytes.clone());
        let answer = self.bots.exchange(PLATFORM, upload, false).await?;
        if answer.status != 200 {
            return Err(classify_status(&answer).unwrap_or_else(|| refused(&answer.body)));
        }
        let mut complete = json!({
            "files": [{"id": file_id, "title": file.name}],
            "channel_id": channel,
        });
        if let Some(thread) = thread {
            complete["thread_ts"] = json!(thread);
        }
        self.call("files.completeUploadExternal", &complete, true)
            .await?;
        self.shared_ts(&file_id, channel).await
    }

    /// Whether the token still works (`auth.test`), for `/health`.
    pub async fn check(&self) -> Result<(), BotError> {
        self.call("auth.test", &json!({}), false).await.map(drop)
    }

    /// Where a completed upload was shared: Slack shares it a moment
    /// after `files.completeUploadExternal` answers, so ask a few times.
    async fn shared_ts(&self, file_id: &str, channel: &str) -> Result<String, BotError> {
        for attempt in 0..4 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            let info = self
                .call_form("files.info", &json!({"file": file_id}))
                .await?;
            for scope in ["public", "private"] {
                let pointer = format!("/file/shares/{scope}/{channel}/0/ts");
                if let Some(ts) = info.pointer(&pointer).and_then(Value::as_str) {
                    return Ok(ts.to_string());
                }
            }
        }
        Err(bad(
            "the file was uploaded but Slack did not say where it was shared",
        ))
    }

    /// One method with a JSON body.
    async fn call(&self, method: &str, body: &Value, posts: bool) -> Result<Value, BotError> {
        let request = self
            .bots
            .http
            .post(format!("{}/{method}", self.bots.urls.slack))
            .bearer_auth(self.token.expose_secret())
            .header(CONTENT_TYPE, "application/json; charset=utf-8")
            .body(body.to_string());
        let answer = self.bots.exchange(PLATFORM, request, posts).await?;
        classify(answer)
    }

    /// One method with form parameters (the methods that take no JSON).
    async fn call_form(&self, method: &str, params: &Value) -> Result<Value, BotError> {
        let form: Vec<(String, String)> = params
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, value)| {
                let value = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_string);
                (name.clone(), value)
            })
            .collect();
        let request = self
            .bots
            .http
            .post(format!("{}/{method}", self.bots.urls.slack))
            .bearer_auth(self.token.expose_secret())
            .form(&form);
        let answer = self.bots.exchange(PLATFORM, request, false).await?;
        classify(answer)
    }
}

fn bad(what: &str) -> BotError {
    BotError::BadAnswer {
        platform: PLATFORM,
        what: what.to_string(),
    }
}

fn refused(code: &str) -> BotError {
    BotError::Refused {
        platform: PLATFORM,
        code: excerpt(code),
    }
}

fn string(answer: &Value, pointer: &str) -> Result<String, BotError> {
    answer
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| bad(&format!("no {} in the answer", &pointer[1..])))
}

/// The errors an HTTP status says by itself.
fn classify_status(answer: &Answer) -> Option<BotError> {
    match answer.status {
        429 => Some(BotError::RateLimited {
            platform: PLATFORM,
            retry_after: answer.retry_after,
        }),
        500..=599 => Some(BotError::server(PLATFORM, answer.status)),
        _ => None,
    }
}

/// `{"ok": true, ...}`, or the error class its code names.
fn classify(answer: Answer) -> Result<Value, BotError> {
    if let Some(err) = classify_status(&answer) {
        return Err(err);
    }
    let body: Value = serde_json::from_str(&answer.body)
        .map_err(|_| bad(&format!("not JSON (HTTP {})", answer.status)))?;
    if body["ok"] == true {
        return Ok(body);
    }
    let code = body["error"]
        .as_str()
        .unwrap_or("unknown_error")
        .to_string();
    let code = excerpt(&code);
    Err(match code.as_str() {
        "invalid_auth" | "not_authed" | "token_revoked" | "token_expired" | "account_inactive"
        | "missing_scope" | "no_permission" => BotError::AuthRevoked {
            platform: PLATFORM,
            code,
        },
        "not_in_channel" | "is_archived" => BotError::NotInChannel {
            platform: PLATFORM,
            code,
        },
        "channel_not_found" => BotError::DestinationNotFound {
            platform: PLATFORM,
            code,
        },
        "message_not_found" | "thread_not_found" | "file_not_found" => BotError::MessageNotFound {
            platform: PLATFORM,
            code,
        },
        "cant_update_message" | "cant_delete_message" | "edit_window_closed" => {
            BotError::NotOwnMessage {
                platform: PLATFORM,
                code,
            }
        }
        "msg_too_long" => BotError::TooLong {
            platform: PLATFORM,
            code,
        },
        "ratelimited" => BotError::RateLimited {
            platform: PLATFORM,
            retry_after: answer.retry_after,
        },
        "internal_error" | "fatal_error" | "service_unavailable" | "request_timeout" => {
            BotError::server(PLATFORM, answer.status)
        }
        _ => BotError::Refused {
            platform: PLATFORM,
            code,
        },
    })
}
