//! The JSON body of a message post or edit, checked field by field against
//! what SkPy sent (protocol doc §4 and the capture). Pure: no state.

use serde_json::{Map, Value};

/// Every field a message body may hold.
const KNOWN_FIELDS: &[&str] = &[
    "contenttype",
    "messagetype",
    "content",
    "imdisplayname",
    "Has-Mentions",
    "clientmessageid",
    "skypeemoteoffset",
];

/// The message types the service accepted from SkPy.
pub(crate) const MESSAGE_TYPES: &[&str] = &[
    "Text",
    "RichText",
    "RichText/Media_GenericFile",
    "RichText/UriObject",
    "RichText/Contacts",
    "Control/Typing",
];

/// A new message (needs `clientmessageid`) or an edit (must not have one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Send,
    Edit,
}

/// A body that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MessageBody {
    pub messagetype: String,
    pub content: Option<String>,
    pub imdisplayname: Option<String>,
    pub has_mentions: Option<String>,
    pub clientmessageid: Option<String>,
    pub skypeemoteoffset: Option<u64>,
}

/// Text or RichText: the kinds that carry a display name and mentions.
fn is_text(messagetype: &str) -> bool {
    matches!(messagetype, "Text" | "RichText")
}

/// Check a parsed body.
pub(crate) fn parse(value: &Value, mode: Mode) -> Result<MessageBody, String> {
    let body = value.as_object().ok_or("body must be a JSON object")?;
    if let Some(unknown) = body.keys().find(|k| !KNOWN_FIELDS.contains(&k.as_str())) {
        return Err(format!("unknown field {unknown:?}"));
    }
    if body.get("contenttype") != Some(&Value::String("text".into())) {
        return Err("contenttype must be the string \"text\"".into());
    }
    let messagetype = optional_string(body, "messagetype")?.ok_or("messagetype is required")?;
    if !MESSAGE_TYPES.contains(&messagetype.as_str()) {
        return Err(format!("unsupported messagetype {messagetype:?}"));
    }
    if mode == Mode::Edit && !is_text(&messagetype) {
        return Err("only Text and RichText messages can be edited".into());
    }
    let content = if messagetype == "Control/Typing" {
        optional_string(body, "content")?
    } else {
        Some(optional_string(body, "content")?.ok_or("content must be a string")?)
    };
    let imdisplayname = optional_string(body, "imdisplayname")?;
    let has_mentions = optional_string(body, "Has-Mentions")?;
    if is_text(&messagetype) {
        if imdisplayname.is_none() {
            return Err("imdisplayname is required for Text and RichText".into());
        }
        if has_mentions.is_none() {
            return Err("Has-Mentions (a string) is required for Text and RichText".into());
        }
    }
    if let Some(flag) = &has_mentions {
        let mentions = messagetype.starts_with("RichText")
            && content.as_deref().is_some_and(|c| c.contains("<at id="));
        if flag != "true" && flag != "false" {
            return Err("Has-Mentions must be the string \"true\" or \"false\"".into());
        }
        if (flag == "true") != mentions {
            return Err(format!(
                "Has-Mentions must be \"{mentions}\": it is \"true\" exactly when RichText content holds <at id=...>"
            ));
        }
    }
    let skypeemoteoffset = emote_offset(body, &messagetype, &content, &imdisplayname)?;
    let clientmessageid = optional_string(body, "clientmessageid")?;
    match (mode, &clientmessageid) {
        (Mode::Send, None) => return Err("clientmessageid (a digit string) is required".into()),
        (Mode::Send, Some(id))
            if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) =>
        {
            return Err("clientmessageid must be a string of digits".into());
        }
        (Mode::Edit, Some(_)) => return Err("an edit must not carry a clientmessageid".into()),
        _ => {}
    }
    Ok(MessageBody {
        messagetype,
        content,
        imdisplayname,
        has_mentions,
        clientmessageid,
        skypeemoteoffset,
    })
}

/// `skypeemoteoffset` (a `/me` action): len(display name) + 1, and the
/// content must start with the display name and a space.
fn emote_offset(
    body: &Map<String, Value>,
    messagetype: &str,
    content: &Option<String>,
    imdisplayname: &Option<String>,
) -> Result<Option<u64>, String> {
    let Some(raw) = body.get("skypeemoteoffset") else {
        return Ok(None);
    };
    if !is_text(messagetype) {
        return Err("skypeemoteoffset is only valid on Text and RichText".into());
    }
    let offset = raw
        .as_u64()
        .ok_or("skypeemoteoffset must be a non-negative integer")?;
    let name = imdisplayname.as_deref().unwrap_or("");
    let expected = name.chars().count() as u64 + 1;
    if offset != expected {
        return Err(format!(
            "skypeemoteoffset must be len(imdisplayname) + 1 = {expected}"
        ));
    }
    let prefix = format!("{name} ");
    if !content.as_deref().unwrap_or("").starts_with(&prefix) {
        return Err("an action message must start with the display name and a space".into());
    }
    Ok(Some(offset))
}

/// A field that, when present and not null, must be a string.
fn optional_string(body: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("{name} must be a string, got {other}")),
    }
}
