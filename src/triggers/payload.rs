//! The send payload every trigger carries, in JSON, form fields or
//! multipart parts: `msg` (or `text`), `channel`, `format`, `mentions`,
//! `caption`, `thread`, `API_KEY`, `idempotency_key`, `file`.

use serde_json::{Map, Value};

use crate::app::{FileRequest, MessageRef, MessageRequest, SendRequest};
use crate::domain::Attachment;
use crate::domain::{ChannelNames, Content};
use crate::error::{AppError, ErrorCode};

/// Largest request body accepted (bytes, after base64 decoding), files
/// aside: the send payload, however it arrives.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Longest idempotency key we keep.
const MAX_IDEMPOTENCY_KEY: usize = 255;

/// A payload that arrived as text (an SQS body; a direct invocation or an
/// EventBridge detail that is a string): JSON, or the Python dict literal
/// the original service's producers queued with `str(dict)`
/// (`src/triggers/python_literal.rs`).
pub fn parse_text(text: &str) -> Option<Value> {
    serde_json::from_str(text)
        .ok()
        .or_else(|| super::python_literal::parse(text))
}

/// The payload as callers write it, read once from whatever carried it
/// (a JSON object, form fields, multipart parts): each field's type
/// checked and its aliases resolved, nothing else. What the values mean
/// (channels, formats, mentions) is checked by the requests built from
/// it, after the caller is authenticated.
#[derive(Clone, Default)]
pub struct Payload {
    /// `msg`, else `text`.
    pub msg: Option<String>,
    /// `channel`: a name or a list of names, as given; `None` when absent,
    /// null or blank (then the request misses a parameter).
    pub channel: Option<Value>,
    /// `format`.
    pub format: Option<String>,
    /// `mentions`, as given.
    pub mentions: Option<Value>,
    /// `caption` (of a file).
    pub caption: Option<String>,
    /// `thread`: the id of the message to reply to (a string, or a number
    /// as some platforms' ids are).
    pub thread: Option<String>,
    /// `API_KEY` (as the original service took it), else `api_key`.
    pub api_key: Option<String>,
    /// `idempotency_key`.
    pub idempotency_key: Option<String>,
    /// The JSON upload's `file` object, as given.
    pub file: Option<Value>,
    /// The name to show for an uploaded file (the original `/send-image`
    /// callers' field; else the file part's own name).
    pub img_name: Option<String>,
}

/// Leaves out the key.
impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payload")
            .field("msg", &self.msg)
            .field("channel", &self.channel)
            .field("format", &self.format)
            .field("caption", &self.caption)
            .field("thread", &self.thread)
            .field("idempotency_key", &self.idempotency_key)
            .finish_non_exhaustive()
    }
}

impl Payload {
    /// The payload of a JSON object; anything else is refused.
    pub fn from_json(value: Value) -> Result<Self, AppError> {
        match value {
            Value::Object(map) => Self::from_map(map),
            _ => Err(AppError::new(
                ErrorCode::InvalidJson,
                "the body must be a JSON object like {\"msg\": \"...\", \"channel\": \"...\"}",
            )),
        }
    }

    /// The payload of `application/x-www-form-urlencoded` pairs (a later
    /// pair wins over an earlier one of the same name).
    pub fn from_form(pairs: Vec<(String, String)>) -> Result<Self, AppError> {
        Self::from_map(
            pairs
                .into_iter()
                .map(|(name, value)| (name, Value::String(value)))
                .collect(),
        )
    }

    fn from_map(mut map: Map<String, Value>) -> Result<Self, AppError> {
        let mut take = |name: &str| match map.remove(name) {
            None | Some(Value::Null) => None,
            Some(value) => Some(value),
        };
        Ok(Self {
            msg: match text("msg", take("msg"))? {
                Some(msg) => Some(msg),
                None => text("text", take("text"))?,
            },
            channel: take("channel")
                .filter(|channel| !channel.as_str().is_some_and(|name| name.trim().is_empty())),
            format: text("format", take("format"))?,
            mentions: take("mentions"),
            caption: text("caption", take("caption"))?,
            thread: id_text("thread", take("thread"))?,
            api_key: match text("API_KEY", take("API_KEY"))? {
                Some(key) => Some(key),
                None => text("api_key", take("api_key"))?,
            },
            idempotency_key: text("idempotency_key", take("idempotency_key"))?,
            file: take("file"),
            img_name: text("img_name", take("img_name"))?,
        })
    }

    /// Whether a JSON payload names anything we would send (read in
    /// place: classifying an event must not copy it).
    pub fn looks_like_send(payload: &Value) -> bool {
        payload.as_object().is_some_and(|map| {
            ["msg", "text", "channel"]
                .iter()
                .any(|name| map.contains_key(*name))
        })
    }

    /// The checked request. `fallback_key` is the trigger's own
    /// idempotency key (header, event id, message id), used when the
    /// payload has none.
    pub fn send_request(&self, fallback_key: Option<&str>) -> Result<SendRequest, AppError> {
        let msg = self.msg.as_deref();
        let channels = self.channels();
        let (Some(msg), Some(channels)) = (msg, channels) else {
            return Err(AppError::missing_parameters());
        };
        if msg.trim().is_empty() {
            return Err(AppError::missing_parameters());
        }
        let channels = channels?;
        Ok(SendRequest {
            channels,
            content: self.content(msg)?,
            thread: self.thread()?,
            idempotency_key: self.idempotency_key(fallback_key)?,
        })
    }

    /// A checked file post of `attachment`, with an optional `caption`.
    pub fn file_request(
        &self,
        attachment: Attachment,
        fallback_key: Option<&str>,
    ) -> Result<FileRequest, AppError> {
        let channels = self.channels().ok_or_else(AppError::missing_parameters)??;
        let caption = match self.caption.as_deref() {
            Some(caption) if !caption.trim().is_empty() => Some(self.content(caption)?),
            _ => None,
        };
        Ok(FileRequest {
            channels,
            attachment,
            caption,
            thread: self.thread()?,
            idempotency_key: self.idempotency_key(fallback_key)?,
        })
    }

    /// The message an edit or delete names, in `channel`.
    pub fn message_request(&self, message: MessageRef) -> Result<MessageRequest, AppError> {
        let channel = self.channels().ok_or_else(|| {
            AppError::new(
                ErrorCode::MissingParameters,
                "channel is required: the conversation the message is in",
            )
        })??;
        Ok(MessageRequest { channel, message })
    }

    /// The new text of an edit.
    pub fn edit_content(&self) -> Result<Content, AppError> {
        let msg = self
            .msg
            .as_deref()
            .filter(|msg| !msg.trim().is_empty())
            .ok_or_else(AppError::missing_parameters)?;
        self.content(msg)
    }

    /// `channel` parsed: `None` when it was not given.
    pub fn channels(&self) -> Option<Result<ChannelNames, AppError>> {
        let channel = self.channel.as_ref()?;
        Some(ChannelNames::parse(channel).map_err(AppError::from))
    }

    /// `msg` read with the payload's `format` and `mentions`.
    fn content(&self, msg: &str) -> Result<Content, AppError> {
        Ok(Content::parse(
            msg,
            self.format.as_deref(),
            self.mentions.as_ref(),
        )?)
    }

    /// The message to reply to: an id as a post answered it.
    fn thread(&self) -> Result<Option<String>, AppError> {
        let Some(thread) = self.thread.as_deref().map(str::trim) else {
            return Ok(None);
        };
        match MessageRef::parse(thread) {
            Ok(MessageRef::Id(id)) => Ok(Some(id)),
            _ => Err(AppError::new(
                ErrorCode::InvalidField,
                "thread must be the \"id\" a post answered with (the message to reply to)",
            )),
        }
    }

    /// The payload's key, else the trigger's.
    pub fn idempotency_key(&self, fallback_key: Option<&str>) -> Result<Option<String>, AppError> {
        let key = self
            .idempotency_key
            .as_deref()
            .or(fallback_key)
            .map(str::trim)
            .filter(|key| !key.is_empty())
            .map(str::to_string);
        if key
            .as_ref()
            .is_some_and(|key| key.len() > MAX_IDEMPOTENCY_KEY)
        {
            return Err(AppError::new(
                ErrorCode::InvalidField,
                "idempotency_key is longer than 255 characters",
            ));
        }
        Ok(key)
    }
}

/// A field that must be a string, when given.
fn text(name: &str, value: Option<Value>) -> Result<Option<String>, AppError> {
    match value {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(AppError::new(
            ErrorCode::InvalidField,
            format!("{name} must be a string"),
        )),
    }
}

/// A string or a whole number, as text (ids are either, by platform).
fn id_text(name: &str, value: Option<Value>) -> Result<Option<String>, AppError> {
    match value {
        Some(Value::Number(number)) if number.is_u64() || number.is_i64() => {
            Ok(Some(number.to_string()))
        }
        other => text(name, other),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(value: Value) -> Payload {
        Payload::from_json(value).unwrap()
    }

    #[test]
    fn msg_or_text_and_channel_are_required() {
        let request = fields(json!({"text": "hi", "channel": "8:fred.2"}))
            .send_request(None)
            .unwrap();
        assert_eq!(request.content.text.as_str(), "hi");
        for missing in [
            json!({"msg": "hi"}),
            json!({"channel": "8:fred.2"}),
            json!({"msg": " ", "channel": "8:fred.2"}),
        ] {
            let err = fields(missing).send_request(None).unwrap_err();
            assert_eq!(
                (err.status, err.message.as_str()),
                (400, "missing request parameters")
            );
        }
    }

    #[test]
    fn wrong_types_are_named() {
        // Types are checked as the payload is read, before anything else.
        let err = Payload::from_json(json!({"msg": 5, "channel": "8:fred.2"})).unwrap_err();
        assert_eq!(
            (err.code.as_str(), err.message.as_str()),
            ("invalid_field", "msg must be a string")
        );
        assert!(Payload::from_json(json!([1, 2])).is_err());
    }

    #[test]
    fn a_thread_is_an_id_string_or_number() {
        let request = |thread: Value| {
            Payload::from_json(json!({"msg": "hi", "channel": "8:fred.2", "thread": thread}))
                .and_then(|payload| payload.send_request(None))
        };
        assert_eq!(
            request(json!("1700000000001")).unwrap().thread.as_deref(),
            Some("1700000000001")
        );
        assert_eq!(request(json!(42)).unwrap().thread.as_deref(), Some("42"));
        assert_eq!(request(Value::Null).unwrap().thread, None);
        for bad in [
            json!("a b"),
            json!(""),
            json!("key:x"),
            json!(1.5),
            json!({}),
        ] {
            assert_eq!(request(bad).unwrap_err().code, ErrorCode::InvalidField);
        }
    }

    #[test]
    fn idempotency_key_from_payload_or_trigger() {
        let base = json!({"msg": "hi", "channel": "8:fred.2"});
        let request = fields(base.clone()).send_request(Some("event-1")).unwrap();
        assert_eq!(request.idempotency_key.as_deref(), Some("event-1"));
        let mut own = base;
        own["idempotency_key"] = json!("mine");
        let request = fields(own).send_request(Some("event-1")).unwrap();
        assert_eq!(request.idempotency_key.as_deref(), Some("mine"));
    }
}
