//! `auth.test`, `chat.postMessage`, `chat.update`, `chat.delete`,
//! `conversations.history` and `conversations.replies`: each a plain
//! function of the state, the authenticated bot and the parameters.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::blocks::{check_blocks, check_metadata};
use super::state::{Bot, State};
use super::wire::{Outcome, Params, Refusal, parse_ts};
use super::{MAX_HISTORY_LIMIT, MAX_TEXT_CHARS, SlackMessage};

/// `conversations.history`'s default page.
const DEFAULT_LIMIT: usize = 100;

fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

pub(crate) fn auth_test(state: &State, bot: &Bot) -> Outcome {
    let slug: String = bot
        .team
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    Ok(fields(json!({
        "url": format!("https://{slug}.slack.com/"),
        "team": bot.team,
        "user": bot.user_id.to_ascii_lowercase(),
        "team_id": bot.team_id,
        "user_id": bot.user_id,
        "bot_id": state.bot_id_of(&bot.user_id),
        "is_enterprise_install": false,
    })))
}

/// The channel a `chat.postMessage` names: an id, or a name with or
/// without `#`, as Slack resolves it there.
fn resolve_channel(state: &State, channel: &str) -> Option<String> {
    let name = channel.trim_start_matches('#');
    state
        .channels
        .iter()
        .find(|c| c.id == channel)
        .or_else(|| state.channels.iter().find(|c| c.name == name))
        .map(|c| c.id.clone())
}

/// The `channel` parameter of the other methods: an existing channel id.
fn channel_param(state: &State, params: &Params, name: &str) -> Result<String, Refusal> {
    let channel = params
        .non_empty(name)?
        .ok_or_else(|| Refusal::new("channel_not_found"))?;
    match state.channel(&channel) {
        Some(c) => Ok(c.id.clone()),
        None => Err(Refusal::new("channel_not_found")),
    }
}

/// `not_in_channel` unless the bot is a member.
pub(crate) fn require_member(state: &State, bot: &Bot, channel: &str) -> Result<(), Refusal> {
    match state.channel(channel) {
        Some(c) if c.members.contains(&bot.user_id) => Ok(()),
        Some(_) => Err(Refusal::new("not_in_channel")),
        None => Err(Refusal::new("channel_not_found")),
    }
}

/// The flags Slack types as booleans; a value of another type is refused.
fn check_flags(params: &Params) -> Result<(), Refusal> {
    for name in [
        "mrkdwn",
        "unfurl_links",
        "unfurl_media",
        "reply_broadcast",
        "as_user",
        "link_names",
    ] {
        params.boolean(name)?;
    }
    Ok(())
}

/// The content of a post or an update, read and checked: `text` (at most
/// [`MAX_TEXT_CHARS`] characters), `blocks`, `metadata`; `no_text` when
/// there is neither text nor a block.
struct Content {
    text: Option<String>,
    blocks: Option<Value>,
    metadata: Option<Value>,
}

fn read_content(params: &Params, empty_metadata_ok: bool) -> Result<Content, Refusal> {
    let text = params.string("text")?;
    let blocks = params.structured("blocks", "invalid_blocks")?;
    let metadata = params.structured("metadata", "invalid_metadata_format")?;
    let has_text = text.as_deref().is_some_and(|t| !t.is_empty());
    let has_blocks = blocks
        .as_ref()
        .is_some_and(|b| b.as_array().is_none_or(|a| !a.is_empty()));
    if !has_text && !has_blocks {
        return Err(Refusal::new("no_text"));
    }
    if text
        .as_deref()
        .is_some_and(|t| t.chars().count() > MAX_TEXT_CHARS)
    {
        return Err(Refusal::new("msg_too_long"));
    }
    if let Some(blocks) = &blocks {
        check_blocks(blocks)?;
    }
    if let Some(metadata) = &metadata {
        let removal = empty_metadata_ok && metadata.as_object().is_some_and(Map::is_empty);
        if !removal {
            check_metadata(metadata)?;
        }
    }
    Ok(Content {
        text,
        blocks,
        metadata,
    })
}

/// The parent `ts` a `thread_ts` names in `channel`: a live message there
/// (a reply's `ts` means its parent's thread, as Slack files it).
pub(crate) fn thread_parent(
    state: &State,
    channel: &str,
    thread_ts: &str,
) -> Result<String, Refusal> {
    state
        .messages
        .iter()
        .find(|m| m.channel == channel && m.ts == thread_ts && !m.deleted)
        .map(|m| m.thread_ts.clone().unwrap_or_else(|| m.ts.clone()))
        .ok_or_else(|| Refusal::new("thread_not_found"))
}

pub(crate) fn post_message(state: &mut State, bot: &Bot, params: &Params) -> Outcome {
    let channel = params
        .non_empty("channel")?
        .and_then(|c| resolve_channel(state, &c))
        .ok_or_else(|| Refusal::new("channel_not_found"))?;
    require_member(state, bot, &channel)?;
    check_flags(params)?;
    let content = read_content(params, false)?;
    let thread_ts = match params.non_empty("thread_ts")? {
        Some(ts) => Some(thread_parent(state, &channel, &ts)?),
        None => None,
    };
    let ts = state.next_ts();
    let message = SlackMessage {
        ts: ts.clone(),
        channel: channel.clone(),
        thread_ts,
        text: content.text.unwrap_or_default(),
        blocks: content.blocks,
        metadata: content.metadata,
        user: bot.user_id.clone(),
        bot: true,
        edited: false,
        deleted: false,
        files: Vec::new(),
        body: params.as_json(),
    };
    let shown = message_json(state, &message, true);
    state.messages.push(message);
    Ok(fields(
        json!({"channel": channel, "ts": ts, "message": shown}),
    ))
}

/// The live message `ts` of `channel` that `bot` may change:
/// `message_not_found` (also for a deleted one), else `refused` when
/// someone else posted it.
fn own_message(
    state: &State,
    bot: &Bot,
    params: &Params,
    channel: &str,
    refused: &'static str,
) -> Result<usize, Refusal> {
    let ts = params
        .non_empty("ts")?
        .ok_or_else(|| Refusal::new("message_not_found"))?;
    let index = state
        .messages
        .iter()
        .position(|m| m.channel == channel && m.ts == ts && !m.deleted)
        .ok_or_else(|| Refusal::new("message_not_found"))?;
    if state.messages[index].user != bot.user_id {
        return Err(Refusal::new(refused));
    }
    Ok(index)
}

pub(crate) fn update(state: &mut State, bot: &Bot, params: &Params) -> Outcome {
    let channel = channel_param(state, params, "channel")?;
    let index = own_message(state, bot, params, &channel, "cant_update_message")?;
    check_flags(params)?;
    let content = read_content(params, true)?;
    let edit_ts = state.next_ts();
    let message = &mut state.messages[index];
    // Slack's rules: new text without blocks drops the old blocks; blocks
    // without text keep the old text; no metadata keeps it, `{}` drops it.
    match (content.text, content.blocks) {
        (Some(text), None) => {
            message.text = text;
            message.blocks = None;
        }
        (text, Some(blocks)) => {
            if let Some(text) = text {
                message.text = text;
            }
            message.blocks = Some(blocks);
        }
        (None, None) => {}
    }
    match content.metadata {
        Some(Value::Object(object)) if object.is_empty() => message.metadata = None,
        Some(metadata) => message.metadata = Some(metadata),
        None => {}
    }
    message.edited = true;
    message.body = params.as_json();
    let ts = message.ts.clone();
    let text = message.text.clone();
    state.edits.insert((channel.clone(), ts.clone()), edit_ts);
    let shown = message_json(state, &state.messages[index], true);
    Ok(fields(json!({
        "channel": channel,
        "ts": ts,
        "text": text,
        "message": shown,
    })))
}

pub(crate) fn delete(state: &mut State, bot: &Bot, params: &Params) -> Outcome {
    let channel = channel_param(state, params, "channel")?;
    let index = own_message(state, bot, params, &channel, "cant_delete_message")?;
    let message = &mut state.messages[index];
    message.deleted = true;
    Ok(fields(json!({"channel": channel, "ts": message.ts})))
}

/// A message as the history methods show it.
fn message_json(state: &State, message: &SlackMessage, with_metadata: bool) -> Value {
    let mut shown = json!({
        "type": "message",
        "ts": message.ts,
        "text": message.text,
        "user": message.user,
    });
    let object = shown.as_object_mut().expect("an object");
    if message.bot {
        object.insert("bot_id".into(), json!(state.bot_id_of(&message.user)));
        if let Some(bot) = state.bots.iter().find(|b| b.user_id == message.user) {
            object.insert("team".into(), json!(bot.team_id));
        }
    }
    if let Some(blocks) = &message.blocks {
        object.insert("blocks".into(), blocks.clone());
    }
    match &message.thread_ts {
        Some(parent) => {
            object.insert("thread_ts".into(), json!(parent));
            if let Some(p) = state
                .messages
                .iter()
                .find(|m| m.channel == message.channel && &m.ts == parent)
            {
                object.insert("parent_user_id".into(), json!(p.user));
            }
        }
        None => {
            let replies: Vec<&SlackMessage> = state
                .messages
                .iter()
                .filter(|m| {
                    m.channel == message.channel
                        && m.thread_ts.as_deref() == Some(message.ts.as_str())
                        && !m.deleted
                })
                .collect();
            if let Some(latest) = replies.last() {
                object.insert("thread_ts".into(), json!(message.ts));
                object.insert("reply_count".into(), json!(replies.len()));
                object.insert("latest_reply".into(), json!(latest.ts));
            }
        }
    }
    if let Some(edit_ts) = state
        .edits
        .get(&(message.channel.clone(), message.ts.clone()))
    {
        object.insert(
            "edited".into(),
            json!({"user": message.user, "ts": edit_ts}),
        );
    }
    if !message.files.is_empty() {
        let files: Vec<Value> = message
            .files
            .iter()
            .filter_map(|id| state.files.iter().find(|f| &f.id == id))
            .map(|f| {
                json!({
                    "id": f.id,
                    "name": f.filename,
                    "title": f.title.clone().unwrap_or_else(|| f.filename.clone()),
                    "size": f.length,
                })
            })
            .collect();
        object.insert("files".into(), Value::Array(files));
        object.insert("upload".into(), json!(true));
    }
    if with_metadata && let Some(metadata) = &message.metadata {
        object.insert("metadata".into(), metadata.clone());
    }
    shown
}

/// `limit`: default 100, at most [`MAX_HISTORY_LIMIT`] (more is clamped).
fn limit(params: &Params) -> Result<usize, Refusal> {
    Ok(match params.integer("limit")? {
        None | Some(0) => DEFAULT_LIMIT,
        Some(n) => (n as usize).min(MAX_HISTORY_LIMIT),
    })
}

/// A cursor: base64 of `next_ts:<ts in microseconds>`, Slack's own shape.
fn encode_cursor(micros: u128) -> String {
    STANDARD.encode(format!("next_ts:{micros}"))
}

fn decode_cursor(cursor: &str) -> Option<u128> {
    let decoded = STANDARD.decode(cursor).ok()?;
    std::str::from_utf8(&decoded)
        .ok()?
        .strip_prefix("next_ts:")?
        .parse()
        .ok()
}

fn micros(message: &SlackMessage) -> u128 {
    parse_ts(&message.ts).unwrap_or(0)
}

pub(crate) fn history(state: &State, bot: &Bot, params: &Params) -> Outcome {
    let channel = channel_param(state, params, "channel")?;
    require_member(state, bot, &channel)?;
    let limit = limit(params)?;
    let oldest = match params.non_empty("oldest")? {
        Some(ts) => Some(parse_ts(&ts).ok_or_else(|| Refusal::new("invalid_ts_oldest"))?),
        None => None,
    };
    let latest = match params.non_empty("latest")? {
        Some(ts) => Some(parse_ts(&ts).ok_or_else(|| Refusal::new("invalid_ts_latest"))?),
        None => None,
    };
    let inclusive = params.boolean("inclusive")?.unwrap_or(false);
    let with_metadata = params.boolean("include_all_metadata")?.unwrap_or(false);
    let cursor = match params.non_empty("cursor")? {
        Some(c) => Some(decode_cursor(&c).ok_or_else(|| Refusal::new("invalid_cursor"))?),
        None => None,
    };
    // Top-level messages only, newest first: thread replies are read with
    // conversations.replies, as in Slack.
    let mut listed: Vec<&SlackMessage> = state
        .messages
        .iter()
        .filter(|m| m.channel == channel && !m.deleted && m.thread_ts.is_none())
        .filter(|m| {
            let t = micros(m);
            let after = oldest.is_none_or(|o| if inclusive { t >= o } else { t > o });
            let before = latest.is_none_or(|l| if inclusive { t <= l } else { t < l });
            after && before
        })
        .filter(|m| cursor.is_none_or(|c| micros(m) <= c))
        .collect();
    listed.sort_by_key(|m| std::cmp::Reverse(micros(m)));
    page(state, listed, limit, with_metadata)
}

/// One page of `listed` with `has_more` and the next cursor.
fn page(state: &State, listed: Vec<&SlackMessage>, limit: usize, with_metadata: bool) -> Outcome {
    let has_more = listed.len() > limit;
    let messages: Vec<Value> = listed
        .iter()
        .take(limit)
        .map(|m| message_json(state, m, with_metadata))
        .collect();
    let mut answer = fields(json!({"messages": messages, "has_more": has_more}));
    if has_more {
        answer.insert(
            "response_metadata".into(),
            json!({"next_cursor": encode_cursor(micros(listed[limit]))}),
        );
    }
    Ok(answer)
}

pub(crate) fn replies(state: &State, bot: &Bot, params: &Params) -> Outcome {
    let channel = channel_param(state, params, "channel")?;
    require_member(state, bot, &channel)?;
    let ts = params
        .non_empty("ts")?
        .ok_or_else(|| Refusal::new("thread_not_found"))?;
    let parent = thread_parent(state, &channel, &ts)?;
    let limit = match params.integer("limit")? {
        None | Some(0) => 1000,
        Some(n) => (n as usize).min(1000),
    };
    let with_metadata = params.boolean("include_all_metadata")?.unwrap_or(false);
    let cursor = match params.non_empty("cursor")? {
        Some(c) => Some(decode_cursor(&c).ok_or_else(|| Refusal::new("invalid_cursor"))?),
        None => None,
    };
    // The parent first, then its replies, oldest first.
    let listed: Vec<&SlackMessage> = state
        .messages
        .iter()
        .filter(|m| m.channel == channel && !m.deleted)
        .filter(|m| m.ts == parent || m.thread_ts.as_deref() == Some(parent.as_str()))
        .filter(|m| cursor.is_none_or(|c| micros(m) >= c))
        .collect();
    page(state, listed, limit, with_metadata)
}
