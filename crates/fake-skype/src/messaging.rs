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
use super::wire::{Req, Resp, bad_request, exact_fields, iso8601_ms, msg_error, percent_decode};

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
    if let Some(id) = state.dedupe.get(&key).filter(|_| state.dedupe_on) {
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

/// The `targetType` SkPy's `getMsgs` asks for.
const TARGET_TYPE: &str = "Passport|Skype|Lync|Thread";
/// The largest `pageSize` the fake serves.
const MAX_PAGE_SIZE: usize = 200;

/// `GET .../conversations/<id>/messages?startTime=&pageSize=&view=msnp24Equivalent&targetType=...`:
/// the conversation's messages from `startTime` (Unix ms) on, newest
/// first, one page at a time. An optional `syncState` (as the
/// `backwardLink` carries it) asks for the page older than the last one.
pub(crate) fn list(state: &mut State, req: &Req, target: &Target) -> Resp {
    let Target::Conversation(raw) = target else {
        return msg_error(404, 404, "no conversation in path");
    };
    if let Err(resp) = registration_for(state, req) {
        return resp;
    }
    let conversation = match conversation_id(raw) {
        Ok(conversation) => conversation,
        Err(resp) => return resp,
    };
    let query = match list_query(req) {
        Ok(query) => query,
        Err(why) => return bad_request(&why),
    };
    let origin = state.origin(req.host);
    let conversation_link = format!("{origin}/v1/users/ME/conversations/{conversation}");
    let link = |before: Option<u64>| {
        let mut link = format!(
            "{conversation_link}/messages?startTime={}&pageSize={}&view=msnp24Equivalent&targetType={}",
            query.start_time,
            query.page_size,
            TARGET_TYPE.replace('|', "%7C")
        );
        if let Some(before) = before {
            link.push_str(&format!("&syncState=before{before}"));
        }
        link
    };
    let all = state
        .messages
        .get(&conversation)
        .cloned()
        .unwrap_or_default();
    let matching: Vec<&StoredMessage> = all
        .iter()
        .rev()
        .filter(|m| m.arrival_time >= query.start_time)
        .collect();
    let older: Vec<&StoredMessage> = matching
        .iter()
        .copied()
        .filter(|m| query.before.is_none_or(|before| m.arrival_time < before))
        .collect();
    let page = &older[..older.len().min(query.page_size)];
    let messages: Vec<serde_json::Value> = page
        .iter()
        .map(|m| listed(m, &origin, &conversation_link))
        .collect();
    let mut metadata = json!({
        "totalCount": matching.len(),
        "forwardLink": link(None),
        "syncState": link(None),
        "lastCompleteSegmentStartTime": page.last().map_or(query.start_time, |m| m.arrival_time),
        "lastCompleteSegmentEndTime": now_ms(),
    });
    if older.len() > page.len()
        && let Some(oldest) = page.last()
    {
        metadata["backwardLink"] = json!(link(Some(oldest.arrival_time)));
    }
    Resp::json(200, &json!({"messages": messages, "_metadata": metadata}))
}

struct ListQuery {
    start_time: u64,
    page_size: usize,
    before: Option<u64>,
}

/// Exactly SkPy's four parameters (plus the `syncState` of a backward link).
fn list_query(req: &Req) -> Result<ListQuery, String> {
    let pairs = req.query_pairs()?;
    let mut names = vec!["startTime", "pageSize", "view", "targetType"];
    if pairs.iter().any(|(name, _)| name == "syncState") {
        names.push("syncState");
    }
    let fields = exact_fields(&pairs, &names)?;
    let start_time = fields["startTime"]
        .parse()
        .map_err(|_| "startTime must be Unix milliseconds".to_string())?;
    let page_size = fields["pageSize"]
        .parse()
        .ok()
        .filter(|size| (1..=MAX_PAGE_SIZE).contains(size))
        .ok_or(format!("pageSize must be 1 to {MAX_PAGE_SIZE}"))?;
    if fields["view"] != "msnp24Equivalent" {
        return Err("view must be msnp24Equivalent".into());
    }
    if fields["targetType"] != TARGET_TYPE {
        return Err(format!("targetType must be {TARGET_TYPE}"));
    }
    let before = match fields.get("syncState") {
        None => None,
        Some(state) => Some(
            state
                .strip_prefix("before")
                .and_then(|ms| ms.parse().ok())
                .ok_or("unknown syncState")?,
        ),
    };
    Ok(ListQuery {
        start_time,
        page_size,
        before,
    })
}

/// A stored message as the service listed it.
fn listed(message: &StoredMessage, origin: &str, conversation_link: &str) -> serde_json::Value {
    let time = iso8601_ms(message.arrival_time);
    let mut item = json!({
        "id": message.id,
        "originalarrivaltime": time,
        "messagetype": message.messagetype,
        "version": message.id,
        "composetime": time,
        "conversationLink": conversation_link,
        "content": if message.deleted { "" } else { message.content.as_deref().unwrap_or("") },
        "type": "Message",
        "conversationid": message.conversation,
        "from": format!("{origin}/v1/users/ME/contacts/8:{}", message.sender),
    });
    if let Some(id) = &message.clientmessageid {
        item["clientmessageid"] = json!(id);
    }
    if let Some(name) = &message.imdisplayname {
        item["imdisplayname"] = json!(name);
    }
    if message.deleted {
        item["properties"] = json!({"deletetime": message.arrival_time.to_string()});
    }
    item
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
