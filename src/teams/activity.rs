//! The activities the bot sends: a message (Teams markdown, with mention
//! entities) or a picture (an inline image attachment).

use base64::Engine;
use serde_json::{Value, json};

use crate::domain::{Attachment, Mention};
use crate::skype::markup;

/// Teams shows one inline picture of at most this many bytes.
pub const MAX_PICTURE_BYTES: usize = 1024 * 1024;
/// The picture types Teams shows inline.
pub const PICTURE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif"];

/// A message as Teams takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamsMessage {
    /// Teams' HTML (`textFormat: xml`), mentions written as [`at_tag`]s.
    pub text: String,
    /// Who the `<at>` tags in `text` are, in order, each once.
    pub mentions: Vec<Mention>,
}

/// How a mention of `name` appears in the text and in its entity: the
/// Connector pairs them by this exact text.
pub fn at_tag(name: &str) -> String {
    format!("<at>{}</at>", markup::escape(name))
}

impl TeamsMessage {
    /// The `message` activity.
    pub fn activity(&self) -> Value {
        let entities: Vec<Value> = self
            .mentions
            .iter()
            .map(|mention| {
                json!({
                    "type": "mention",
                    "text": at_tag(&mention.name),
                    "mentioned": {"id": mention.id, "name": mention.name},
                })
            })
            .collect();
        let mut activity = json!({
            "type": "message",
            "text": self.text,
            "textFormat": "xml",
        });
        if !entities.is_empty() {
            activity["entities"] = Value::Array(entities);
        }
        activity
    }
}

/// Why a file cannot be a Teams picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAPicture {
    /// Not PNG, JPEG or GIF.
    Kind,
    /// Over [`MAX_PICTURE_BYTES`].
    TooLarge(usize),
}

/// The `message` activity showing `attachment` as a picture.
pub fn picture(attachment: &Attachment) -> Result<Value, NotAPicture> {
    let Some(content_type) = attachment
        .picture_type()
        .filter(|kind| PICTURE_TYPES.contains(kind))
    else {
        return Err(NotAPicture::Kind);
    };
    let bytes = &attachment.bytes;
    if bytes.len() > MAX_PICTURE_BYTES {
        return Err(NotAPicture::TooLarge(bytes.len()));
    }
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    Ok(json!({
        "type": "message",
        "attachments": [{
            "contentType": content_type,
            "contentUrl": format!("data:{content_type};base64,{data}"),
            "name": attachment.name,
        }],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_pair_tag_and_entity() {
        let ann = Mention::new("29:1ann", Some("Ann & Co")).unwrap();
        let message = TeamsMessage {
            text: format!("{} hello", at_tag(&ann.name)),
            mentions: vec![ann],
        };
        let activity = message.activity();
        assert_eq!(activity["textFormat"], "xml");
        assert_eq!(activity["entities"][0]["text"], "<at>Ann &amp; Co</at>");
        assert_eq!(activity["entities"][0]["mentioned"]["id"], "29:1ann");
        assert!(
            activity["text"]
                .as_str()
                .unwrap()
                .contains(activity["entities"][0]["text"].as_str().unwrap())
        );
    }
}
