//! The Bot API methods, each a plain function of the state, the calling
//! bot and the request's parameters. Checks come in the server's order:
//! the parameters themselves (missing, malformed, markup), then the chat
//! (`chat not found`), the bot's right to write there (403), the topic, the
//! message replied to, and last the lengths of the parsed text.

use serde_json::{Map, Value, json};

use super::files::{self, check_photo};
use super::markup::{self, Mode, utf16_len};
use super::params::{Params, Upload};
use super::state::{State, StoredFile, StoredMessage};
use super::wire::{Resp, bad_request, error, forbidden, now_secs, ok};
use super::{ChatKind, MAX_CAPTION_UTF16, MAX_TEXT_UTF16, MAX_UPLOAD_BYTES, TelegramFile};

/// What the server answers an edit that changes nothing.
const NOT_MODIFIED: &str = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";

/// Run `method` (its documented spelling) for the bot `bot_id`.
pub(crate) fn call(state: &mut State, method: &str, bot_id: i64, params: &mut Params) -> Resp {
    let outcome = match method {
        "getMe" => get_me(state, bot_id),
        "sendMessage" => send_message(state, bot_id, params),
        "editMessageText" => edit_message_text(state, bot_id, params),
        "deleteMessage" => delete_message(state, bot_id, params),
        "sendDocument" => send_file(state, bot_id, params, FileKind::Document),
        "sendPhoto" => send_file(state, bot_id, params, FileKind::Photo),
        _ => Err(error(404, "Not Found")),
    };
    match outcome {
        Ok(result) => ok(result),
        Err(resp) => resp,
    }
}

fn get_me(state: &State, bot_id: i64) -> Result<Value, Resp> {
    let mut me = bot_user(state, bot_id);
    let extra = json!({
        "can_join_groups": true,
        "can_read_all_group_messages": false,
        "supports_inline_queries": false,
        "can_connect_to_business": false,
        "has_main_web_app": false,
    });
    if let (Some(me), Value::Object(extra)) = (me.as_object_mut(), extra) {
        me.extend(extra);
    }
    Ok(me)
}

fn bot_user(state: &State, bot_id: i64) -> Value {
    let username = state
        .bots
        .iter()
        .find(|b| b.id == bot_id)
        .map(|b| b.username.clone())
        .unwrap_or_default();
    json!({"id": bot_id, "is_bot": true, "first_name": username, "username": username})
}

// ------------------------------------------------------------ the checks

/// The chat `chat_id` names (an integer id or `@username`).
fn resolve_chat(state: &State, value: Option<String>) -> Result<i64, Resp> {
    let Some(value) = value else {
        return Err(bad_request("chat_id is empty"));
    };
    let value = value.trim();
    let id = match value.strip_prefix('@') {
        Some(username) => state
            .chats
            .iter()
            .find(|(_, c)| {
                c.username
                    .as_deref()
                    .is_some_and(|u| u.eq_ignore_ascii_case(username))
            })
            .map(|(id, _)| *id),
        None => value.parse::<i64>().ok(),
    };
    id.filter(|id| state.chats.contains_key(id))
        .ok_or_else(|| bad_request("chat not found"))
}

/// Whether the bot may act in the chat: it must be in it (have been
/// started, in a private chat).
fn check_member(state: &State, bot_id: i64, chat_id: i64) -> Result<(), Resp> {
    let chat = &state.chats[&chat_id];
    if chat.members.contains(&bot_id) {
        return Ok(());
    }
    let kicked = chat.removed.contains(&bot_id);
    Err(forbidden(&match (chat.kind, kicked) {
        (ChatKind::Private, false) => "bot can't initiate conversation with a user".to_string(),
        (ChatKind::Private, true) => "bot was blocked by the user".to_string(),
        (kind, false) => format!("bot is not a member of the {} chat", kind.api_type()),
        (kind, true) => format!("bot was kicked from the {} chat", kind.api_type()),
    }))
}

/// `message_thread_id`: a topic of this forum (0 or absent: none).
fn check_thread(state: &State, chat_id: i64, params: &Params) -> Result<Option<i64>, Resp> {
    match params.int("message_thread_id")? {
        None | Some(0) => Ok(None),
        Some(thread) if state.chats[&chat_id].topics.contains(&thread) => Ok(Some(thread)),
        Some(_) => Err(bad_request("message thread not found")),
    }
}

/// A message by `(chat_id, message_id)`.
type MessageRef = (i64, i64);

/// The message to reply to: `reply_parameters` (or the older
/// `reply_to_message_id`), checked to exist, not deleted, and in the topic
/// the message goes to. A reply without a topic goes to its target's.
/// Returns the target and the topic.
fn check_reply(
    state: &State,
    chat_id: i64,
    thread: Option<i64>,
    params: &Params,
) -> Result<(Option<MessageRef>, Option<i64>), Resp> {
    let refusal = "can't parse reply parameters JSON object";
    let (target_chat, target_id, allow_missing) =
        match params.object("reply_parameters", refusal)? {
            Some(reply) => {
                let message_id = match reply.get("message_id") {
                    Some(Value::Number(n)) => n.as_i64(),
                    Some(Value::String(s)) => s.parse().ok(),
                    _ => None,
                };
                let Some(message_id) = message_id else {
                    return Err(bad_request(refusal));
                };
                let target_chat = match reply.get("chat_id") {
                    None | Some(Value::Null) => chat_id,
                    Some(Value::String(s)) => resolve_chat(state, Some(s.clone()))?,
                    Some(other) => resolve_chat(state, Some(other.to_string()))?,
                };
                let allow = reply
                    .get("allow_sending_without_reply")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                (target_chat, message_id, allow)
            }
            None => match params.int("reply_to_message_id")? {
                Some(id) if id != 0 => (chat_id, id, params.bool("allow_sending_without_reply")),
                _ => return Ok((None, thread)),
            },
        };
    let target = state
        .message(target_chat, target_id)
        .filter(|m| !m.deleted)
        .filter(|m| target_chat != chat_id || thread.is_none() || m.thread == thread);
    match target {
        Some(m) => Ok((
            Some((target_chat, target_id)),
            if target_chat == chat_id {
                thread.or(m.thread)
            } else {
                thread
            },
        )),
        None if allow_missing => Ok((None, thread)),
        None => Err(bad_request("message to be replied not found")),
    }
}

/// `parse_mode`, refused when the server does not know it.
fn parse_mode(params: &Params) -> Result<(Option<String>, Option<Mode>), Resp> {
    match params.str("parse_mode") {
        None => Ok((None, None)),
        Some(name) => match Mode::parse(&name) {
            Some(mode) => Ok((Some(name), Some(mode))),
            None => Err(bad_request("unsupported parse_mode")),
        },
    }
}

/// A text or caption as sent, parsed: its plain text and entities. With no
/// parse mode, explicit entities (`entities`, `caption_entities`) are kept.
struct Rendered {
    raw: String,
    text: String,
    entities: Vec<Value>,
    parse_mode: Option<String>,
}

fn render(params: &Params, field: &str, entities_field: &str) -> Result<Option<Rendered>, Resp> {
    let Some(raw) = params.str(field) else {
        return Ok(None);
    };
    let (parse_mode, mode) = parse_mode(params)?;
    let (text, mut entities) = markup::render(&raw, mode)
        .map_err(|e| bad_request(&format!("can't parse entities: {e}")))?;
    if mode.is_none()
        && let Some(explicit) = params.array(entities_field, "can't parse entities JSON object")?
    {
        entities = explicit;
    }
    Ok(Some(Rendered {
        raw,
        text,
        entities,
        parse_mode,
    }))
}

/// `link_preview_options` must be an object when present.
fn check_link_preview(params: &Params) -> Result<(), Resp> {
    params
        .object(
            "link_preview_options",
            "can't parse link preview options JSON object",
        )
        .map(|_| ())
}

/// `message_id`, required by edits and deletions.
fn message_id(params: &Params) -> Result<i64, Resp> {
    match params.int("message_id")? {
        Some(id) if id > 0 => Ok(id),
        _ => Err(bad_request("message identifier is not specified")),
    }
}

// -------------------------------------------------------------- methods

fn send_message(state: &mut State, bot_id: i64, params: &mut Params) -> Result<Value, Resp> {
    let chat = params.str("chat_id");
    if chat.is_none() {
        return Err(bad_request("chat_id is empty"));
    }
    let Some(rendered) = render(params, "text", "entities")? else {
        return Err(bad_request("message text is empty"));
    };
    check_link_preview(params)?;
    let chat_id = resolve_chat(state, chat)?;
    check_member(state, bot_id, chat_id)?;
    let thread = check_thread(state, chat_id, params)?;
    let (reply_to, thread) = check_reply(state, chat_id, thread, params)?;
    if rendered.text.is_empty() {
        return Err(bad_request("message text is empty"));
    }
    if utf16_len(&rendered.text) > MAX_TEXT_UTF16 {
        return Err(bad_request("message is too long"));
    }
    let message = StoredMessage {
        message_id: 0,
        chat_id,
        sender_bot: Some(bot_id),
        thread,
        reply_to,
        text: Some(rendered.text),
        raw_text: Some(rendered.raw),
        parse_mode: rendered.parse_mode,
        entities: rendered.entities,
        document: None,
        photo: None,
        caption: None,
        date: now_secs(),
        edit_date: None,
        deleted: false,
    };
    Ok(store(state, message))
}

fn edit_message_text(state: &mut State, bot_id: i64, params: &mut Params) -> Result<Value, Resp> {
    if params.str("inline_message_id").is_some() {
        // The fake has no inline messages.
        return Err(bad_request("MESSAGE_ID_INVALID"));
    }
    let chat = params.str("chat_id");
    if chat.is_none() && params.str("message_id").is_none() {
        return Err(bad_request("message identifier is not specified"));
    }
    let Some(rendered) = render(params, "text", "entities")? else {
        return Err(bad_request("message text is empty"));
    };
    check_link_preview(params)?;
    let chat_id = resolve_chat(state, chat)?;
    let message_id = message_id(params)?;
    check_member(state, bot_id, chat_id)?;
    let Some(current) = state.message(chat_id, message_id).filter(|m| !m.deleted) else {
        return Err(bad_request("message to edit not found"));
    };
    if current.sender_bot != Some(bot_id) {
        return Err(bad_request("message can't be edited"));
    }
    if current.text.is_none() {
        return Err(bad_request("there is no text in the message to edit"));
    }
    if rendered.text.is_empty() {
        return Err(bad_request("message text is empty"));
    }
    if utf16_len(&rendered.text) > MAX_TEXT_UTF16 {
        return Err(bad_request("message is too long"));
    }
    if current.text.as_deref() == Some(rendered.text.as_str())
        && current.entities == rendered.entities
    {
        return Err(bad_request(NOT_MODIFIED));
    }
    let Some(message) = state.message_mut(chat_id, message_id) else {
        return Err(bad_request("message to edit not found"));
    };
    message.text = Some(rendered.text);
    message.raw_text = Some(rendered.raw);
    message.parse_mode = rendered.parse_mode;
    message.entities = rendered.entities;
    message.edit_date = Some(now_secs());
    let message = message.clone();
    Ok(message_json(state, &message, true))
}

fn delete_message(state: &mut State, bot_id: i64, params: &mut Params) -> Result<Value, Resp> {
    let chat_id = resolve_chat(state, params.str("chat_id"))?;
    let message_id = message_id(params)?;
    check_member(state, bot_id, chat_id)?;
    let Some(message) = state.message(chat_id, message_id).filter(|m| !m.deleted) else {
        return Err(bad_request("message to delete not found"));
    };
    // Simplified: a bot deletes only its own messages (the real rules
    // also let admins delete others').
    if message.sender_bot != Some(bot_id) {
        return Err(bad_request("message can't be deleted"));
    }
    if let Some(message) = state.message_mut(chat_id, message_id) {
        message.deleted = true;
    }
    Ok(Value::Bool(true))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Document,
    Photo,
}

impl FileKind {
    fn field(self) -> &'static str {
        match self {
            FileKind::Document => "document",
            FileKind::Photo => "photo",
        }
    }
}

fn send_file(
    state: &mut State,
    bot_id: i64,
    params: &mut Params,
    kind: FileKind,
) -> Result<Value, Resp> {
    let chat = params.str("chat_id");
    if chat.is_none() {
        return Err(bad_request("chat_id is empty"));
    }
    let field = kind.field();
    let upload: Upload = match params.take_file(field) {
        Some(upload) => upload,
        // A file id or URL: the fake knows no file ids and fetches nothing.
        None if params.str(field).is_some() => {
            return Err(bad_request("wrong file identifier/HTTP URL specified"));
        }
        None => return Err(bad_request(&format!("there is no {field} in the request"))),
    };
    if upload.bytes.len() > MAX_UPLOAD_BYTES {
        return Err(error(413, "Request Entity Too Large"));
    }
    if upload.bytes.is_empty() {
        return Err(bad_request("file must be non-empty"));
    }
    let caption = render(params, "caption", "caption_entities")?;
    let chat_id = resolve_chat(state, chat)?;
    check_member(state, bot_id, chat_id)?;
    let thread = check_thread(state, chat_id, params)?;
    let (reply_to, thread) = check_reply(state, chat_id, thread, params)?;
    if let Some(caption) = &caption
        && utf16_len(&caption.text) > MAX_CAPTION_UTF16
    {
        return Err(bad_request("message caption is too long"));
    }
    let (width, height) = match kind {
        FileKind::Photo => check_photo(&upload.bytes).map_err(bad_request)?,
        FileKind::Document => (0, 0),
    };
    let file: StoredFile = files::store(
        TelegramFile {
            filename: upload.filename,
            mime_type: upload.content_type,
            bytes: upload.bytes,
        },
        width,
        height,
    );
    let (document, photo) = match kind {
        FileKind::Document => (Some(file), None),
        FileKind::Photo => (None, Some(file)),
    };
    let (caption_text, raw, parse_mode, entities) = match caption {
        Some(c) if !c.text.is_empty() => (Some(c.text), Some(c.raw), c.parse_mode, c.entities),
        Some(c) => (None, Some(c.raw), c.parse_mode, Vec::new()),
        None => (None, None, None, Vec::new()),
    };
    let message = StoredMessage {
        message_id: 0,
        chat_id,
        sender_bot: Some(bot_id),
        thread,
        reply_to,
        text: None,
        raw_text: raw,
        parse_mode,
        entities,
        document,
        photo,
        caption: caption_text,
        date: now_secs(),
        edit_date: None,
        deleted: false,
    };
    Ok(store(state, message))
}

// ------------------------------------------------------------ answers

/// Give the message its id, keep it, and answer it.
fn store(state: &mut State, mut message: StoredMessage) -> Value {
    let Some(chat) = state.chats.get_mut(&message.chat_id) else {
        return Value::Null;
    };
    message.message_id = chat.next_message_id();
    let value = message_json(state, &message, true);
    state.messages.push(message);
    value
}

fn chat_json(state: &State, chat_id: i64) -> Value {
    let Some(chat) = state.chats.get(&chat_id) else {
        return json!({"id": chat_id});
    };
    let mut value = Map::new();
    value.insert("id".into(), json!(chat_id));
    value.insert("type".into(), json!(chat.kind.api_type()));
    match chat.kind {
        ChatKind::Private => {
            value.insert("first_name".into(), json!("User"));
        }
        _ => {
            value.insert("title".into(), json!(format!("Chat {chat_id}")));
        }
    }
    if let Some(username) = &chat.username {
        value.insert("username".into(), json!(username));
    }
    if chat.kind == (ChatKind::Supergroup { forum: true }) {
        value.insert("is_forum".into(), json!(true));
    }
    Value::Object(value)
}

/// The API's `Message` object; `reply_to_message` is one level deep.
fn message_json(state: &State, m: &StoredMessage, with_reply: bool) -> Value {
    let chat = chat_json(state, m.chat_id);
    let is_channel = state
        .chats
        .get(&m.chat_id)
        .is_some_and(|c| c.kind == ChatKind::Channel);
    let mut value = Map::new();
    value.insert("message_id".into(), json!(m.message_id));
    if is_channel {
        // Channel posts are signed by the channel, not a user.
        value.insert("sender_chat".into(), chat.clone());
    } else {
        let from = match m.sender_bot {
            Some(bot_id) => bot_user(state, bot_id),
            None => {
                let user_id = if m.chat_id > 0 { m.chat_id } else { 424242 };
                json!({"id": user_id, "is_bot": false, "first_name": "User"})
            }
        };
        value.insert("from".into(), from);
    }
    value.insert("chat".into(), chat);
    value.insert("date".into(), json!(m.date));
    if let Some(edit_date) = m.edit_date {
        value.insert("edit_date".into(), json!(edit_date));
    }
    if let Some(thread) = m.thread {
        value.insert("message_thread_id".into(), json!(thread));
        value.insert("is_topic_message".into(), json!(true));
    }
    if with_reply
        && let Some((chat_id, id)) = m.reply_to
        && let Some(target) = state.message(chat_id, id)
    {
        value.insert(
            "reply_to_message".into(),
            message_json(state, target, false),
        );
    }
    if let Some(text) = &m.text {
        value.insert("text".into(), json!(text));
        if !m.entities.is_empty() {
            value.insert("entities".into(), json!(m.entities));
        }
    }
    if let Some(document) = &m.document {
        value.insert("document".into(), files::document_json(document));
    }
    if let Some(photo) = &m.photo {
        value.insert("photo".into(), files::photo_json(photo));
    }
    if let Some(caption) = &m.caption {
        value.insert("caption".into(), json!(caption));
        if !m.entities.is_empty() {
            value.insert("caption_entities".into(), json!(m.entities));
        }
    }
    Value::Object(value)
}
