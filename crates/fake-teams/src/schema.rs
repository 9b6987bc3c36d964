//! The activity a bot posts, checked as the Connector checks it.
//!
//! Unknown top-level fields are tolerated (the schema grows, and the
//! Connector ignores what it does not know), but a known field of the wrong
//! type is a 400 `BadArgument`, and so is a message with nothing to show, a
//! `textFormat` Teams does not have, an attachment it cannot render, or a
//! mention entity whose `<at>` text is not in the message. The size limits
//! answer 413 `MessageSizeTooBig`: the activity as UTF-16 without its
//! inline images, and each inline image on its own.

use base64::Engine;
use serde_json::Value;

use super::wire::{Resp, bad_argument, connector_error};
use super::{MAX_INLINE_IMAGE_BYTES, MAX_MESSAGE_BYTES};

/// The content type of an Adaptive Card attachment.
pub(crate) const ADAPTIVE_CARD: &str = "application/vnd.microsoft.card.adaptive";
/// Card types that need no deeper check here.
const OTHER_CARDS: &[&str] = &[
    "application/vnd.microsoft.card.hero",
    "application/vnd.microsoft.card.thumbnail",
];
/// Picture types Teams shows inline, with their first bytes.
const IMAGES: &[(&str, &[u8])] = &[
    ("image/png", b"\x89PNG\r\n\x1a\n"),
    ("image/jpeg", b"\xff\xd8\xff"),
    ("image/gif", b"GIF8"),
];
/// The `textFormat` values Teams knows.
const TEXT_FORMATS: &[&str] = &["markdown", "plain", "xml"];

/// The JSON type a known field must have (or be `null`, meaning absent).
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Obj,
    Arr,
}

/// Known activity fields and their types.
const FIELDS: &[(&str, Kind)] = &[
    ("type", Kind::Str),
    ("id", Kind::Str),
    ("timestamp", Kind::Str),
    ("localTimestamp", Kind::Str),
    ("channelId", Kind::Str),
    ("serviceUrl", Kind::Str),
    ("text", Kind::Str),
    ("textFormat", Kind::Str),
    ("summary", Kind::Str),
    ("locale", Kind::Str),
    ("replyToId", Kind::Str),
    ("attachmentLayout", Kind::Str),
    ("inputHint", Kind::Str),
    ("importance", Kind::Str),
    ("from", Kind::Obj),
    ("recipient", Kind::Obj),
    ("conversation", Kind::Obj),
    ("channelData", Kind::Obj),
    ("suggestedActions", Kind::Obj),
    ("attachments", Kind::Arr),
    ("entities", Kind::Arr),
];

/// The parts of an accepted activity the fake stores.
pub(crate) struct Checked {
    pub text: Option<String>,
    pub text_format: Option<String>,
    pub attachments: Vec<Value>,
    pub entities: Vec<Value>,
}

/// Check one activity body; the error is the Connector's answer.
pub(crate) fn check(activity: &Value) -> Result<Checked, Resp> {
    let Some(object) = activity.as_object() else {
        return Err(bad_argument("The activity must be a JSON object."));
    };
    if message_bytes(activity) > MAX_MESSAGE_BYTES {
        return Err(too_big());
    }
    for (field, kind) in FIELDS {
        let ok = matches!(
            (object.get(*field), kind),
            (None | Some(Value::Null), _)
                | (Some(Value::String(_)), Kind::Str)
                | (Some(Value::Object(_)), Kind::Obj)
                | (Some(Value::Array(_)), Kind::Arr)
        );
        if !ok {
            let expected = match kind {
                Kind::Str => "a string",
                Kind::Obj => "an object",
                Kind::Arr => "an array",
            };
            return Err(bad_argument(&format!("'{field}' must be {expected}.")));
        }
    }
    let string = |field: &str| {
        object
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let array = |field: &str| {
        object
            .get(field)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    match string("type").as_deref() {
        Some("message") => {}
        Some(other) => {
            return Err(bad_argument(&format!(
                "Activity type '{other}' is not supported here; send a 'message'."
            )));
        }
        None => return Err(bad_argument("The activity 'type' is required.")),
    }
    let text_format = string("textFormat");
    if let Some(format) = &text_format
        && !TEXT_FORMATS.contains(&format.as_str())
    {
        return Err(bad_argument(&format!(
            "Unknown textFormat '{format}': use markdown, plain or xml."
        )));
    }
    let text = string("text");
    let attachments = array("attachments");
    for (i, attachment) in attachments.iter().enumerate() {
        check_attachment(i, attachment)?;
    }
    if text.as_deref().is_none_or(|t| t.trim().is_empty()) && attachments.is_empty() {
        return Err(bad_argument(
            "The message has neither text nor attachments.",
        ));
    }
    let entities = array("entities");
    for (i, entity) in entities.iter().enumerate() {
        check_entity(i, entity, text.as_deref())?;
    }
    Ok(Checked {
        text,
        text_format,
        attachments,
        entities,
    })
}

/// The 413 of an activity or picture over the limit.
fn too_big() -> Resp {
    connector_error(413, "MessageSizeTooBig", "Message size too large.")
}

/// The activity's size as the limit counts it: UTF-16 bytes of the JSON,
/// inline images (`data:` URIs) left out.
fn message_bytes(activity: &Value) -> usize {
    let mut counted = activity.clone();
    if let Some(attachments) = counted.get_mut("attachments").and_then(Value::as_array_mut) {
        for attachment in attachments {
            if let Some(url) = attachment.get_mut("contentUrl")
                && url.as_str().is_some_and(|u| u.starts_with("data:"))
            {
                *url = Value::String(String::new());
            }
        }
    }
    counted.to_string().encode_utf16().count() * 2
}

fn check_attachment(i: usize, attachment: &Value) -> Result<(), Resp> {
    let path = format!("attachments[{i}]");
    let Some(content_type) = attachment.get("contentType").and_then(Value::as_str) else {
        return Err(bad_argument(&format!("{path}.contentType is required.")));
    };
    if let Some((_, magic)) = IMAGES.iter().find(|(t, _)| *t == content_type) {
        return check_image(&path, content_type, magic, attachment);
    }
    if content_type == ADAPTIVE_CARD {
        return check_adaptive_card(&path, attachment.get("content"));
    }
    if OTHER_CARDS.contains(&content_type) {
        return match attachment.get("content") {
            Some(Value::Object(_)) => Ok(()),
            _ => Err(bad_argument(&format!("{path}.content must be an object."))),
        };
    }
    Err(bad_argument(&format!(
        "{path}.contentType '{content_type}' is not a card or picture Teams can show."
    )))
}

/// A picture: an `https` URL, or a base64 `data:` URI of the same type,
/// within the size limit, whose bytes are that type.
fn check_image(
    path: &str,
    content_type: &str,
    magic: &[u8],
    attachment: &Value,
) -> Result<(), Resp> {
    let Some(url) = attachment.get("contentUrl").and_then(Value::as_str) else {
        return Err(bad_argument(&format!(
            "{path}.contentUrl is required for a picture."
        )));
    };
    if url.starts_with("https://") {
        return Ok(());
    }
    let Some(rest) = url.strip_prefix("data:") else {
        return Err(bad_argument(&format!(
            "{path}.contentUrl must be an https URL or a data: URI."
        )));
    };
    let Some((media_type, data)) = rest.split_once(";base64,") else {
        return Err(bad_argument(&format!(
            "{path}.contentUrl must be a base64 data: URI."
        )));
    };
    if !media_type.eq_ignore_ascii_case(content_type) {
        return Err(bad_argument(&format!(
            "{path}: the data: URI is {media_type}, the contentType {content_type}."
        )));
    }
    // Decoded size first: 4 characters carry 3 bytes.
    if data.len() / 4 * 3 > MAX_INLINE_IMAGE_BYTES + 2 {
        return Err(too_big());
    }
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(data) else {
        return Err(bad_argument(&format!(
            "{path}: the data: URI is not valid base64."
        )));
    };
    if bytes.len() > MAX_INLINE_IMAGE_BYTES {
        return Err(too_big());
    }
    if !bytes.starts_with(magic) {
        return Err(bad_argument(&format!(
            "{path}: the picture's bytes are not {content_type}."
        )));
    }
    Ok(())
}

/// An Adaptive Card: `type: AdaptiveCard`, a `1.x` version, and a body of
/// elements that each say their `type`.
fn check_adaptive_card(path: &str, content: Option<&Value>) -> Result<(), Resp> {
    let Some(card) = content.filter(|c| c.is_object()) else {
        return Err(bad_argument(&format!("{path}.content must be an object.")));
    };
    if card.get("type").and_then(Value::as_str) != Some("AdaptiveCard") {
        return Err(bad_argument(&format!(
            "{path}.content.type must be AdaptiveCard."
        )));
    }
    let version = card.get("version").and_then(Value::as_str).unwrap_or("");
    let versioned = version
        .strip_prefix("1.")
        .is_some_and(|minor| !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()));
    if !versioned {
        return Err(bad_argument(&format!(
            "{path}.content.version must be a string like \"1.5\"."
        )));
    }
    match card.get("body") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Array(elements)) => {
            for (i, element) in elements.iter().enumerate() {
                if element.get("type").and_then(Value::as_str).is_none() {
                    return Err(bad_argument(&format!(
                        "{path}.content.body[{i}].type is required."
                    )));
                }
            }
            Ok(())
        }
        Some(_) => Err(bad_argument(&format!(
            "{path}.content.body must be an array."
        ))),
    }
}

/// A mention names who (`mentioned.id`) and the `<at>Name</at>` text that
/// stands for them in the message.
fn check_entity(i: usize, entity: &Value, text: Option<&str>) -> Result<(), Resp> {
    let path = format!("entities[{i}]");
    let Some(kind) = entity.get("type").and_then(Value::as_str) else {
        return Err(bad_argument(&format!("{path}.type is required.")));
    };
    if kind != "mention" {
        return Ok(());
    }
    let mentioned_id = entity
        .get("mentioned")
        .and_then(|m| m.get("id"))
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty());
    if mentioned_id.is_none() {
        return Err(bad_argument(&format!("{path}.mentioned.id is required.")));
    }
    if let Some(name) = entity.get("mentioned").and_then(|m| m.get("name"))
        && !name.is_string()
        && !name.is_null()
    {
        return Err(bad_argument(&format!(
            "{path}.mentioned.name must be a string."
        )));
    }
    let Some(at_text) = entity.get("text").and_then(Value::as_str) else {
        return Err(bad_argument(&format!("{path}.text is required.")));
    };
    if !(at_text.starts_with("<at>") && at_text.ends_with("</at>")) {
        return Err(bad_argument(&format!(
            "{path}.text must be <at>Name</at>, got {at_text:?}."
        )));
    }
    if !text.is_some_and(|t| t.contains(at_text)) {
        return Err(bad_argument(&format!(
            "{path}.text {at_text:?} does not appear in the message text."
        )));
    }
    Ok(())
}
