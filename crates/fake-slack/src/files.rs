//! Slack's external upload flow, in its three steps: reserve
//! (`files.getUploadURLExternal`: a file id and a one-time URL), send the
//! bytes to that URL (no token there, as on `files.slack.com`), complete
//! (`files.completeUploadExternal`: share in a channel, one bot message);
//! and `files.info` to read a file's shares back.

use serde_json::{Map, Value, json};

use super::chat::{require_member, thread_parent};
use super::state::{Bot, File, State, random_id};
use super::wire::{Outcome, Params, Refusal, Resp, invalid_argument};
use super::{SlackMessage, blocks};

/// `alt_txt` length limit.
const MAX_ALT_TXT: usize = 1000;
/// Where the upload URLs live on this fake.
pub(crate) const UPLOAD_PREFIX: &str = "/upload/v1/";

fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn missing(field: &str) -> Refusal {
    invalid_argument(&format!("missing required field: {field}"), field)
}

pub(crate) fn get_upload_url(state: &mut State, bot: &Bot, params: &Params) -> Outcome {
    let filename = params
        .non_empty("filename")?
        .ok_or_else(|| missing("filename"))?;
    let length = params.integer("length")?.ok_or_else(|| missing("length"))?;
    if length == 0 {
        return Err(Refusal::with(
            "missing_argument",
            "[ERROR] `length` must be more than 0 [json-pointer:/length]",
        ));
    }
    if params
        .string("alt_txt")?
        .is_some_and(|alt| alt.chars().count() > MAX_ALT_TXT)
    {
        return Err(Refusal::new("alt_txt_too_large"));
    }
    params.string("snippet_type")?;
    let id = format!("F0{}", random_id(9));
    let ticket = random_id(32);
    state.files.push(File {
        id: id.clone(),
        ticket: ticket.clone(),
        owner: bot.user_id.clone(),
        filename,
        length: length as usize,
        bytes: None,
        title: None,
        channel: None,
        thread_ts: None,
        initial_comment: None,
        message_ts: None,
        completed: false,
        created: (state.last_ts / 1_000_000) as u64,
    });
    let upload_url = format!("http://127.0.0.1:{}{UPLOAD_PREFIX}{ticket}", state.port);
    Ok(fields(json!({"upload_url": upload_url, "file_id": id})))
}

/// The bytes POSTed to an upload URL: stored whatever their length (a
/// mismatch with the reserved `length` fails the completion, not this),
/// answered `OK - <length>` as Slack's upload host does. A ticket that is
/// unknown or already completed is a 404.
pub(crate) fn upload(state: &mut State, ticket: &str, bytes: Option<Vec<u8>>) -> Resp {
    let Some(file) = state
        .files
        .iter_mut()
        .find(|f| f.ticket == ticket && !f.completed)
    else {
        return Resp::text(404, "text/plain; charset=utf-8", "Not Found");
    };
    let Some(bytes) = bytes else {
        return Resp::text(
            400,
            "text/plain; charset=utf-8",
            "multipart body without a `file` part",
        );
    };
    let answer = format!("OK - {}", bytes.len());
    file.bytes = Some(bytes);
    Resp::text(200, "text/plain; charset=utf-8", &answer)
}

/// One entry of `files`: `{"id": "F...", "title"?: string}`.
fn file_entries(params: &Params) -> Result<Vec<(String, Option<String>)>, Refusal> {
    let files = params
        .structured("files", "invalid_arguments")?
        .ok_or_else(|| missing("files"))?;
    let Value::Array(entries) = files else {
        return Err(invalid_argument("must be an array", "files"));
    };
    if entries.is_empty() {
        return Err(invalid_argument("must contain at least 1 file", "files"));
    }
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let id = match entry.get("id") {
                Some(Value::String(id)) if !id.is_empty() => id.clone(),
                _ => return Err(missing(&format!("files/{i}/id"))),
            };
            let title = match entry.get("title") {
                None | Some(Value::Null) => None,
                Some(Value::String(title)) => Some(title.clone()),
                Some(_) => {
                    return Err(invalid_argument(
                        "must be a string",
                        &format!("files/{i}/title"),
                    ));
                }
            };
            Ok((id, title))
        })
        .collect()
}

pub(crate) fn complete(state: &mut State, bot: &Bot, params: &Params) -> Outcome {
    let entries = file_entries(params)?;
    // Each file: reserved by this bot, its bytes uploaded at the length
    // reserved, not completed yet; else `file_not_found`, "Could not find
    // the file from the upload ticket".
    let mut indexes = Vec::new();
    for (id, _) in &entries {
        let index = state
            .files
            .iter()
            .position(|f| &f.id == id && f.owner == bot.user_id && !f.completed)
            .filter(|&i| !indexes.contains(&i))
            .ok_or_else(|| Refusal::new("file_not_found"))?;
        let file = &state.files[index];
        if file.bytes.as_ref().map(Vec::len) != Some(file.length) {
            return Err(Refusal::with(
                "file_not_found",
                format!(
                    "[ERROR] {id}: {} bytes uploaded, `length` was {}",
                    file.bytes.as_ref().map_or(0, Vec::len),
                    file.length
                ),
            ));
        }
        indexes.push(index);
    }
    let mut channels: Vec<String> = Vec::new();
    if let Some(channel) = params.non_empty("channel_id")? {
        channels.push(channel);
    }
    if let Some(list) = params.non_empty("channels")? {
        channels.extend(list.split(',').map(|c| c.trim().to_string()));
    }
    channels.dedup();
    for channel in &channels {
        require_member(state, bot, channel)?;
    }
    let thread_ts = match params.non_empty("thread_ts")? {
        None => None,
        Some(ts) => match channels.as_slice() {
            [channel] => Some(thread_parent(state, channel, &ts)?),
            _ => {
                return Err(invalid_argument(
                    "`thread_ts` needs exactly one channel",
                    "thread_ts",
                ));
            }
        },
    };
    let initial_comment = params.string("initial_comment")?;
    // Blocks are ignored when there is an initial comment, as documented.
    let blocks = match &initial_comment {
        Some(_) => None,
        None => params.structured("blocks", "invalid_blocks")?,
    };
    if let Some(blocks) = &blocks {
        blocks::check_blocks(blocks)?;
    }
    let ids: Vec<String> = entries.iter().map(|(id, _)| id.clone()).collect();
    let mut first_ts = None;
    for channel in &channels {
        let ts = state.next_ts();
        first_ts.get_or_insert_with(|| ts.clone());
        state.messages.push(SlackMessage {
            ts,
            channel: channel.clone(),
            thread_ts: thread_ts.clone(),
            text: initial_comment.clone().unwrap_or_default(),
            blocks: blocks.clone(),
            metadata: None,
            user: bot.user_id.clone(),
            bot: true,
            edited: false,
            deleted: false,
            files: ids.clone(),
            body: params.as_json(),
        });
    }
    let mut answered = Vec::new();
    for (index, (_, title)) in indexes.into_iter().zip(entries) {
        let file = &mut state.files[index];
        file.completed = true;
        file.title = title;
        file.channel = channels.first().cloned();
        file.thread_ts = thread_ts.clone();
        file.initial_comment = initial_comment.clone();
        file.message_ts = first_ts.clone();
        answered.push(json!({
            "id": file.id,
            "title": file.title.clone().unwrap_or_else(|| file.filename.clone()),
            "name": file.filename,
        }));
    }
    Ok(fields(json!({"files": answered})))
}

pub(crate) fn info(state: &State, params: &Params) -> Outcome {
    let id = params
        .non_empty("file")?
        .ok_or_else(|| Refusal::new("file_not_found"))?;
    let file = state
        .files
        .iter()
        .find(|f| f.id == id && f.completed)
        .ok_or_else(|| Refusal::new("file_not_found"))?;
    // Shares: every live message sharing the file, by channel, under
    // `public` (C...) or `private` (G..., D...).
    let mut public = Map::new();
    let mut private = Map::new();
    let mut channels = Vec::new();
    for message in state
        .messages
        .iter()
        .filter(|m| !m.deleted && m.files.contains(&file.id))
    {
        let mut share = json!({"ts": message.ts});
        if let Some(thread_ts) = &message.thread_ts {
            share["thread_ts"] = json!(thread_ts);
        }
        let target = if message.channel.starts_with('C') {
            &mut public
        } else {
            &mut private
        };
        if let Value::Array(list) = target
            .entry(message.channel.clone())
            .or_insert_with(|| json!([]))
        {
            list.push(share);
        }
        if !channels.contains(&message.channel) {
            channels.push(message.channel.clone());
        }
    }
    let mut shares = Map::new();
    if !public.is_empty() {
        shares.insert("public".into(), Value::Object(public));
    }
    if !private.is_empty() {
        shares.insert("private".into(), Value::Object(private));
    }
    Ok(fields(json!({
        "file": {
            "id": file.id,
            "created": file.created,
            "name": file.filename,
            "title": file.title.clone().unwrap_or_else(|| file.filename.clone()),
            "user": file.owner,
            "size": file.length,
            "channels": channels,
            "shares": shares,
        }
    })))
}
