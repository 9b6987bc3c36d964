//! The send payload every trigger carries, in JSON or form fields:
//! `msg` (or `text`), `channel`, `format`, `API_KEY`, `idempotency_key`.

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

/// The payload's fields, before they are checked.
#[derive(Debug, Clone, Default)]
pub struct Fields(Map<String, Value>);

impl Fields {
    /// Fields from a JSON object; anything else is refused.
    pub fn from_json(value: Value) -> Result<Self, AppError> {
        match value {
            Value::Object(map) => Ok(Self(map)),
            _ => Err(AppError::new(
                ErrorCode::InvalidJson,
                "the body must be a JSON object like {\"msg\": \"...\", \"channel\": \"...\"}",
            )),
        }
    }

    /// Fields from `application/x-www-form-urlencoded` pairs.
    pub fn from_form(pairs: Vec<(String, String)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        )
    }

    /// These fields, with `other`'s where these have none.
    pub fn or(mut self, other: Fields) -> Self {
        for (name, value) in other.0 {
            self.0.entry(name).or_insert(value);
        }
        self
    }

    /// A string field under any of `names`; a non-string value is an error.
    pub fn text(&self, names: &[&'static str]) -> Result<Option<&str>, AppError> {
        for name in names {
            match self.0.get(*name) {
                None | Some(Value::Null) => continue,
                Some(Value::String(text)) => return Ok(Some(text)),
                Some(_) => {
                    return Err(AppError::new(
                        ErrorCode::InvalidField,
                        format!("{name} must be a string"),
                    ));
                }
            }
        }
        Ok(None)
    }

    /// A member as it was given (`None` when absent), for the fields that
    /// are not plain text (the `file` object of a JSON upload).
    pub fn member(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
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
        let msg = self.text(&["msg", "text"])?;
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
        let caption = match self.text(&["caption"])? {
            Some(caption) if !caption.trim().is_empty() => Some(self.content(caption)?),
            _ => None,
        };
        Ok(FileRequest {
            channels,
            attachment,
            caption,
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
            .text(&["msg", "text"])?
            .filter(|msg| !msg.trim().is_empty())
            .ok_or_else(AppError::missing_parameters)?;
        self.content(msg)
    }

    /// `channel`: `None` when absent or blank (then the request misses a
    /// parameter), else a name or a list of names.
    pub fn channels(&self) -> Option<Result<ChannelNames, AppError>> {
        match self.0.get("channel") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) if name.trim().is_empty() => None,
            Some(value) => Some(ChannelNames::parse(value).map_err(AppError::from)),
        }
    }

    /// `msg` read with the payload's `format` and `mentions`.
    fn content(&self, msg: &str) -> Result<Content, AppError> {
        Ok(Content::parse(
            msg,
            self.text(&["format"])?,
            self.0.get("mentions"),
        )?)
    }

    /// The payload's key, else the trigger's.
    pub fn idempotency_key(&self, fallback_key: Option<&str>) -> Result<Option<String>, AppError> {
        let key = self
            .text(&["idempotency_key"])?
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(value: Value) -> Fields {
        Fields::from_json(value).unwrap()
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
        let err = fields(json!({"msg": 5, "channel": "8:fred.2"}))
            .send_request(None)
            .unwrap_err();
        assert_eq!(
            (err.code.as_str(), err.message.as_str()),
            ("invalid_field", "msg must be a string")
        );
        assert!(Fields::from_json(json!([1, 2])).is_err());
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
