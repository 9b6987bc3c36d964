//! Posting, editing and deleting messages: the headers, the conversation id,
//! the body (see `message_body`) and, for files and images, the ASM object
//! the `<URIObject>` points at.

use std::sync::LazyLock;

use regex_lite::Regex;
use serde_json::json;

use super::StoredMessage;
use super::conversation::{self, NotATarget};
use super::message_body::{self, MessageBody, Mode};
use super::registration::registration_for;
use super::routes::Target;
use super::state::{Registration, State, now_ms};
use super::wire::{Req, Resp, bad_request, msg_error, percent_decode};

/// The `ClientInfo` header SkPy sent on every message post.
pub(crate) const CLIENT_INFO: &str = "os=Windows; osVer=10; proc=x86; lcid=en-US; deviceType=1; country=US; clientName=skype4life; clientVer=1418/9.99.0.999//skype4life";

static URI_OBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?s)^<URIObject((?: [^>]*)?)>(.*)</URIObject>$"#).expect("static regex")
});
static OBJECT_URI: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"/v1/objects/([A-Za-z0-9-]+)$").expect("static regex"));

/// `POST .../conversations/<id>/messages`.
pub(crate) fn send(state: &mut State, req: &Req, target: &Target) -> Resp {
    let Target::Conversation(raw) = target else {
        return msg_error(404, 404, "no conversation in path");
    };
    let (registration, conversation, body) = match checked(state, req, raw, Mode::Send, true) {
        Ok(checked) => checked,
        Err(resp) => return resp,
    };
    if let Err(why) = check_rich_content(state, registration.account, &body) {
        return bad_request(&why);
    }
    let sender = state.accounts[registration.account].user_id.clone();
    let origin = state.origin(req.host);
    let location =
        |id: &str| format!("{origin}/v1/users/ME/conversations/{conversation}/messages/{id}");
    let clientmessageid = body.clientmessageid.clone().unwrap_or_default();
    let key = (conversation.clone(), sender.clone(), clientmessageid);
    if let Some(id) = state.dedupe.get(&key) {
        // The service deduplicated retries by clientmessageid.
        let arrival = id.parse::<u64>().unwrap_or(0);
        return created(location(id), arrival);
    }
    let id = state.next_message_id();
    if body.messagetype == "Control/Typing" {
        // A typing notification is acknowledged but is not a message.
        return created(location(&id.to_string()), id);
    }
    let message = StoredMessage {
        id: id.to_string(),
        conversation: conversation.clone(),
        messagetype: body.messagetype,
        content: body.content,
        imdisplayname: body.imdisplayname,
        has_mentions: body.has_mentions,
        clientmessageid: body.clientmessageid,
        skypeemoteoffset: body.skypeemoteoffset,
        arrival_time: id,
        edited: false,
        deleted: false,
        sender,
    };
    state.dedupe.insert(key, message.id.clone());
    state
        .messages
        .entry(conversation.clone())
        .or_default()
        .push(message.clone());
    state.pending_events.push(message);
    created(location(&id.to_string()), id)
}

/// `PUT .../messages/<id>`: replace a message's content.
pub(crate) fn edit(state: &mut State, req: &Req, target: &Target) -> Resp {
    let Target::Message { conversation, id } = target else {
        return msg_error(404, 404, "no message in path");
    };
    let (registration, conversation, body) =
        match checked(state, req, conversation, Mode::Edit, false) {
            Ok(checked) => checked,
            Err(resp) => return resp,
        };
    let sender = state.accounts[registration.account].user_id.clone();
    let message = match own_message(state, &conversation, id, &sender) {
        Ok(message) => message,
        Err(resp) => return resp,
    };
    message.messagetype = body.messagetype;
    message.content = body.content;
    message.imdisplayname = body.imdisplayname;
    message.has_mentions = body.has_mentions;
    message.skypeemoteoffset = body.skypeemoteoffset;
    message.edited = true;
    Resp::json(200, &json!({"edittime": now_ms()}))
}

/// `DELETE .../messages/<id>`.
pub(crate) fn delete(state: &mut State, req: &Req, target: &Target) -> Resp {
    let Target::Message { conversation, id } = target else {
        return msg_error(404, 404, "no message in path");
    };
    let registration = match registration_for(state, req) {
        Ok(registration) => registration,
        Err(resp) => return resp,
    };
    let conversation = match conversation_id(conversation) {
        Ok(conversation) => conversation,
        Err(resp) => return resp,
    };
    let sender = state.accounts[registration.account].user_id.clone();
    match own_message(state, &conversation, id, &sender) {
        Ok(message) => message.deleted = true,
        Err(resp) => return resp,
    }
    Resp::json(200, &json!({"deletetime": now_ms()}))
}

/// Token, headers, conversation id and body of a post or edit.
fn checked(
    state: &State,
    req: &Req,
    raw_conversation: &str,
    mode: Mode,
    client_info_required: bool,
) -> Result<(Registration, String, MessageBody), Resp> {
    let registration = registration_for(state, req)?;
    match req.header("ClientInfo") {
        Some(CLIENT_INFO) => {}
        None if !client_info_required => {}
        None => return Err(bad_request("a ClientInfo header is required")),
        Some(other) => {
            return Err(bad_request(&format!(
                "ClientInfo must be {CLIENT_INFO:?}, got {other:?}"
            )));
        }
    }
    if let Err(why) = req.require_media_type("application/json") {
        return Err(bad_request(&why));
    }
    let conversation = conversation_id(raw_conversation)?;
    let value = req.json().map_err(|why| bad_request(&why))?;
    let body = message_body::parse(&value, mode).map_err(|why| bad_request(&why))?;
    Ok((registration, conversation, body))
}

/// Decode and check the conversation id of a path.
fn conversation_id(raw: &str) -> Result<String, Resp> {
    let id = percent_decode(raw).ok_or_else(|| bad_request("malformed conversation id"))?;
    match conversation::check(&id) {
        Ok(()) => Ok(id),
        Err(NotATarget::System) => Err(msg_error(
            403,
            403,
            &format!("{id} is a system conversation and cannot receive messages"),
        )),
        Err(NotATarget::Malformed) => Err(bad_request(&format!(
            "{id:?} is not a valid conversation id"
        ))),
    }
}

/// A live message of `sender` in `conversation`, or the 404 / 403.
fn own_message<'a>(
    state: &'a mut State,
    conversation: &str,
    id: &str,
    sender: &str,
) -> Result<&'a mut StoredMessage, Resp> {
    let message = state
        .messages
        .get_mut(conversation)
        .and_then(|messages| messages.iter_mut().find(|m| m.id == id && !m.deleted))
        .ok_or_else(|| msg_error(404, 404, &format!("message {id} not found")))?;
    if message.sender != sender {
        return Err(msg_error(403, 403, "only the sender can change a message"));
    }
    Ok(message)
}

/// Files, images and contacts must carry the markup SkPy produced, and a
/// file or image must point at an uploaded ASM object of the sender.
fn check_rich_content(state: &State, account: usize, body: &MessageBody) -> Result<(), String> {
    let content = body.content.as_deref().unwrap_or("");
    let (uri_type, kind, view) = match body.messagetype.as_str() {
        "RichText/Media_GenericFile" => ("File.1", "sharing/file", "original"),
        "RichText/UriObject" => ("Picture.1", "pish/image", "imgpsh"),
        "RichText/Contacts" => {
            return if content.starts_with("<contacts>") && content.ends_with("</contacts>") {
                Ok(())
            } else {
                Err("RichText/Contacts content must be a <contacts> element".into())
            };
        }
        _ => return Ok(()),
    };
    let captures = URI_OBJECT
        .captures(content)
        .ok_or("content must be a <URIObject ...>...</URIObject> element")?;
    let attributes = captures.get(1).map_or("", |m| m.as_str());
    let inner = captures.get(2).map_or("", |m| m.as_str());
    if attribute(attributes, "type").as_deref() != Some(uri_type) {
        return Err(format!("URIObject type must be {uri_type}"));
    }
    let uri = attribute(attributes, "uri").ok_or("URIObject must have a uri attribute")?;
    let id = OBJECT_URI
        .captures(&uri)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_string())
        .ok_or("URIObject uri must be <asm>/v1/objects/<id>")?;
    let record = state
        .objects
        .get(&id)
        .ok_or_else(|| format!("ASM object {id} does not exist"))?;
    if record.owner != account {
        return Err(format!("ASM object {id} belongs to another account"));
    }
    if record.object.kind != kind {
        return Err(format!("ASM object {id} is not a {kind}"));
    }
    let Some(bytes) = &record.object.content else {
        return Err(format!("ASM object {id} has no uploaded content"));
    };
    if record.object.view.as_deref() != Some(view) {
        return Err(format!(
            "ASM object {id} was not uploaded to /content/{view}"
        ));
    }
    if let Some(size) = child_value(inner, "FileSize")
        && size != bytes.len().to_string()
    {
        return Err(format!(
            "FileSize v=\"{size}\" but the object holds {} bytes",
            bytes.len()
        ));
    }
    if let (Some(name), Some(filename)) =
        (child_value(inner, "OriginalName"), &record.object.filename)
        && &name != filename
    {
        return Err(format!(
            "OriginalName v=\"{name}\" but the object is named {filename:?}"
        ));
    }
    Ok(())
}

/// A double-quoted attribute in an opening tag's attribute text.
fn attribute(attributes: &str, name: &str) -> Option<String> {
    let pattern = format!(" {name}=\"");
    let start = attributes.find(&pattern)? + pattern.len();
    let end = attributes[start..].find('"')? + start;
    Some(attributes[start..end].to_string())
}

/// The `v` attribute of a `<Name v="..."/>` child.
fn child_value(inner: &str, element: &str) -> Option<String> {
    let open = format!("<{element}");
    let start = inner.find(&open)? + open.len();
    let tag_end = inner[start..].find('>')? + start;
    attribute(&inner[start..tag_end], "v")
}

fn created(location: String, arrival: u64) -> Resp {
    Resp::json(201, &json!({"OriginalArrivalTime": arrival})).header("Location", location)
}
