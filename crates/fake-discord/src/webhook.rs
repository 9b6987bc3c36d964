//! The webhook operations: execute, get, edit and delete its messages, get
//! the webhook. Each one checks, in Discord's order: the ids are
//! snowflakes, the webhook exists (404 `10015`), the token is its token
//! (401 `50027`), the rate limit, the query, then the message (for the
//! `.../messages/{message_id}` routes) and the body.

use serde_json::{Value, json};

use super::form::{Payload, Upload};
use super::mentions::{self, Pings};
use super::state::{State, StoredMessage};
use super::validate::{self, Kind, attachment_id};
use super::wire::{self, FormErrors, Req, Resp, is_snowflake, not_snowflake};
use super::{DiscordFile, DiscordMessage, MAX_FILES};

/// A webhook the request may use, and the rate-limit headers to answer with.
struct Authorized {
    index: usize,
    rate_headers: Vec<(String, String)>,
}

fn authorize(state: &mut State, id: &str, token: &str) -> Result<Authorized, Resp> {
    if !is_snowflake(id) {
        return Err(not_snowflake("webhook_id", id));
    }
    let Some(index) = state.webhooks.iter().position(|w| w.id == id && !w.deleted) else {
        return Err(wire::unknown_webhook());
    };
    if state.webhooks[index].token != token {
        return Err(wire::invalid_token());
    }
    let rate_headers = state.take_rate_limit(id)?;
    Ok(Authorized {
        index,
        rate_headers,
    })
}

/// `?thread_id=`: `Ok(None)` without one, the thread when it is one of the
/// webhook's channel, else 400 (`50035` when no snowflake, `10003`).
fn thread(state: &State, req: &Req, channel_id: &str) -> Result<Option<String>, Resp> {
    let Some(thread_id) = req.query_param("thread_id") else {
        return Ok(None);
    };
    if !is_snowflake(&thread_id) {
        return Err(not_snowflake("thread_id", &thread_id));
    }
    if !state.is_thread_of(channel_id, &thread_id) {
        return Err(wire::unknown_channel());
    }
    Ok(Some(thread_id))
}

/// `?wait=`: Discord's boolean spellings.
fn wait(req: &Req) -> Result<bool, Resp> {
    match req.query_param("wait").as_deref() {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => Ok(false),
        Some(_) => Err(wire::form_error(
            &["wait"],
            "BASE_TYPE_BOOLEAN",
            "Must be either true or false.",
        )),
    }
}

/// `GET /webhooks/{id}/{token}`.
pub(crate) fn get_webhook(state: &mut State, id: &str, token: &str, base_url: &str) -> Resp {
    let auth = match authorize(state, id, token) {
        Ok(auth) => auth,
        Err(resp) => return resp,
    };
    let webhook = &state.webhooks[auth.index];
    let body = json!({
        "type": 1,
        "id": webhook.id,
        "name": webhook.name,
        "avatar": null,
        "channel_id": webhook.channel_id,
        "guild_id": state.guild_id,
        "application_id": null,
        "token": webhook.token,
        "url": format!("{base_url}/api/webhooks/{}/{}", webhook.id, webhook.token),
    });
    Resp::json(200, &body).headers(auth.rate_headers)
}

/// `POST /webhooks/{id}/{token}`.
pub(crate) fn execute(
    state: &mut State,
    req: &Req,
    id: &str,
    token: &str,
    payload: Result<Payload, Resp>,
) -> Resp {
    let auth = match authorize(state, id, token) {
        Ok(auth) => auth,
        Err(resp) => return resp,
    };
    let headers = auth.rate_headers.clone();
    match execute_checked(state, req, auth.index, payload) {
        Ok(resp) | Err(resp) => resp.headers(headers),
    }
}

fn execute_checked(
    state: &mut State,
    req: &Req,
    index: usize,
    payload: Result<Payload, Resp>,
) -> Result<Resp, Resp> {
    let (webhook_id, channel_id) = {
        let w = &state.webhooks[index];
        (w.id.clone(), w.channel_id.clone())
    };
    let wait = wait(req)?;
    let thread = thread(state, req, &channel_id)?;
    let Payload { json: body, files } = payload?;
    validate::check(&body, Kind::Execute)?;
    let attachments = attachments(state, &body, files, Vec::new())?;
    let content = str_field(&body, "content").unwrap_or_default();
    let embeds = list_field(&body, "embeds").unwrap_or_default();
    let components = list_field(&body, "components").unwrap_or_default();
    let has_other = ["poll", "sticker_ids"]
        .iter()
        .any(|k| body.get(*k).is_some_and(|v| !v.is_null()));
    if is_empty(&content, &embeds, &attachments) && components.is_empty() && !has_other {
        return Err(wire::empty_message());
    }
    let allowed_mentions = body
        .get("allowed_mentions")
        .filter(|v| !v.is_null())
        .cloned();
    let pings = mentions::resolve(&content, allowed_mentions.as_ref());
    let (attachment_meta, files): (Vec<_>, Vec<_>) = attachments.into_iter().unzip();
    let id = state.snowflake();
    let message = StoredMessage {
        public: DiscordMessage {
            id,
            channel_id: thread.unwrap_or(channel_id),
            webhook_id,
            content,
            embeds,
            attachments: files,
            allowed_mentions,
            pinged_users: pings.users,
            pinged_roles: pings.roles,
            pinged_everyone: pings.everyone,
            edited: false,
            deleted: false,
            body: body.clone(),
        },
        attachment_meta,
        username: str_field(&body, "username"),
        tts: body.get("tts").and_then(Value::as_bool).unwrap_or(false),
        flags: body.get("flags").and_then(Value::as_u64).unwrap_or(0),
        components,
        timestamp: wire::timestamp(),
        edited_timestamp: None,
    };
    let answer = if wait {
        Resp::json(200, &message_json(state, &message))
    } else {
        Resp::empty(204)
    };
    state.messages.push(message);
    Ok(answer)
}

/// The message a `.../messages/{message_id}` request may touch: this
/// webhook's, not deleted, in the channel or in the thread `?thread_id=`
/// names. Anything else is `Unknown Message`.
fn own_message(state: &State, req: &Req, index: usize, message_id: &str) -> Result<usize, Resp> {
    if !is_snowflake(message_id) {
        return Err(not_snowflake("message_id", message_id));
    }
    let webhook = &state.webhooks[index];
    let place = thread(state, req, &webhook.channel_id)?.unwrap_or(webhook.channel_id.clone());
    state
        .messages
        .iter()
        .position(|m| {
            m.public.id == message_id
                && m.public.webhook_id == webhook.id
                && !m.public.deleted
                && m.public.channel_id == place
        })
        .ok_or_else(wire::unknown_message)
}

/// `GET /webhooks/{id}/{token}/messages/{message_id}`.
pub(crate) fn get_message(
    state: &mut State,
    req: &Req,
    id: &str,
    token: &str,
    message_id: &str,
) -> Resp {
    let auth = match authorize(state, id, token) {
        Ok(auth) => auth,
        Err(resp) => return resp,
    };
    let resp = match own_message(state, req, auth.index, message_id) {
        Ok(m) => Resp::json(200, &message_json(state, &state.messages[m])),
        Err(resp) => resp,
    };
    resp.headers(auth.rate_headers)
}

/// `DELETE /webhooks/{id}/{token}/messages/{message_id}`.
pub(crate) fn delete(
    state: &mut State,
    req: &Req,
    id: &str,
    token: &str,
    message_id: &str,
) -> Resp {
    let auth = match authorize(state, id, token) {
        Ok(auth) => auth,
        Err(resp) => return resp,
    };
    let resp = match own_message(state, req, auth.index, message_id) {
        Ok(m) => {
            state.messages[m].public.deleted = true;
            Resp::empty(204)
        }
        Err(resp) => resp,
    };
    resp.headers(auth.rate_headers)
}

/// `PATCH /webhooks/{id}/{token}/messages/{message_id}`: the fields sent
/// replace the message's (`null` clears), the others stay. With
/// `attachments`, the existing attachments it lists stay and the others go;
/// without it, they all stay; new files are added either way.
///
/// Mentions are resolved again when the edit sets `content`, under the
/// edit's own `allowed_mentions` (Discord's default, everyone mentioned,
/// when it sends none: an adapter that forgets it on edits is caught).
pub(crate) fn edit(
    state: &mut State,
    req: &Req,
    id: &str,
    token: &str,
    message_id: &str,
    payload: Result<Payload, Resp>,
) -> Resp {
    let auth = match authorize(state, id, token) {
        Ok(auth) => auth,
        Err(resp) => return resp,
    };
    let headers = auth.rate_headers.clone();
    match edit_checked(state, req, auth.index, message_id, payload) {
        Ok(resp) | Err(resp) => resp.headers(headers),
    }
}

fn edit_checked(
    state: &mut State,
    req: &Req,
    index: usize,
    message_id: &str,
    payload: Result<Payload, Resp>,
) -> Result<Resp, Resp> {
    let m = own_message(state, req, index, message_id)?;
    let Payload { json: body, files } = payload?;
    validate::check(&body, Kind::Edit)?;
    let old = &state.messages[m];
    let kept = match body.get("attachments") {
        Some(Value::Array(listed)) => {
            let listed: Vec<String> = listed
                .iter()
                .filter_map(|a| a.get("id").and_then(attachment_id))
                .collect();
            old.attachment_meta
                .iter()
                .cloned()
                .zip(old.public.attachments.iter().cloned())
                .filter(|((id, _), _)| listed.contains(id))
                .collect()
        }
        _ => old
            .attachment_meta
            .iter()
            .cloned()
            .zip(old.public.attachments.iter().cloned())
            .collect(),
    };
    let attachments = attachments(state, &body, files, kept)?;
    let old = &state.messages[m];
    let content = match body.get("content") {
        None => old.public.content.clone(),
        Some(_) => str_field(&body, "content").unwrap_or_default(),
    };
    let embeds = match body.get("embeds") {
        None => old.public.embeds.clone(),
        Some(_) => list_field(&body, "embeds").unwrap_or_default(),
    };
    let components = match body.get("components") {
        None => old.components.clone(),
        Some(_) => list_field(&body, "components").unwrap_or_default(),
    };
    if is_empty(&content, &embeds, &attachments) && components.is_empty() {
        return Err(wire::empty_message());
    }
    let (allowed_mentions, pings) = if body.get("content").is_some() {
        let allowed = body
            .get("allowed_mentions")
            .filter(|v| !v.is_null())
            .cloned();
        let pings = mentions::resolve(&content, allowed.as_ref());
        (allowed, pings)
    } else {
        (
            old.public.allowed_mentions.clone(),
            Pings {
                users: old.public.pinged_users.clone(),
                roles: old.public.pinged_roles.clone(),
                everyone: old.public.pinged_everyone,
            },
        )
    };
    let flags = body
        .get("flags")
        .and_then(Value::as_u64)
        .unwrap_or(old.flags);
    let (attachment_meta, files): (Vec<_>, Vec<_>) = attachments.into_iter().unzip();
    let message = &mut state.messages[m];
    message.public.content = content;
    message.public.embeds = embeds;
    message.public.attachments = files;
    message.public.allowed_mentions = allowed_mentions;
    message.public.pinged_users = pings.users;
    message.public.pinged_roles = pings.roles;
    message.public.pinged_everyone = pings.everyone;
    message.public.edited = true;
    message.public.body = body;
    message.attachment_meta = attachment_meta;
    message.components = components;
    message.flags = flags;
    message.edited_timestamp = Some(wire::timestamp());
    Ok(Resp::json(200, &message_json(state, &state.messages[m])))
}

/// Attachment metadata (snowflake, description) beside its file.
type Attachment = ((String, Option<String>), DiscordFile);

/// The message's attachments: `kept` ones, then every uploaded file (in
/// index order) with the `filename` and `description` its
/// `attachments[]` entry gives. An entry that names neither a kept
/// attachment nor an uploaded file is `ATTACHMENT_NOT_FOUND`.
fn attachments(
    state: &mut State,
    body: &Value,
    files: Vec<Upload>,
    kept: Vec<Attachment>,
) -> Result<Vec<Attachment>, Resp> {
    let listed = body
        .get("attachments")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut errors = FormErrors::default();
    for (i, entry) in listed.iter().enumerate() {
        let Some(id) = entry.get("id").and_then(attachment_id) else {
            continue;
        };
        let known = kept.iter().any(|((k, _), _)| *k == id)
            || files.iter().any(|f| f.index.to_string() == id);
        if !known {
            errors.add(
                &["attachments", &i.to_string()],
                "ATTACHMENT_NOT_FOUND",
                "Attachment data not found",
            );
        }
    }
    if !errors.is_empty() {
        return Err(errors.into_resp());
    }
    if kept.len() + files.len() > MAX_FILES {
        return Err(wire::form_error(
            &["attachments"],
            "BASE_TYPE_MAX_LENGTH",
            &format!("Must be {MAX_FILES} or fewer in length."),
        ));
    }
    let mut all = kept;
    for upload in files {
        let entry = listed
            .iter()
            .find(|e| e.get("id").and_then(attachment_id) == Some(upload.index.to_string()));
        let field = |key: &str| {
            entry
                .and_then(|e| e.get(key))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let filename = field("filename").unwrap_or(upload.filename);
        let description = field("description");
        all.push((
            (state.snowflake(), description),
            DiscordFile {
                filename,
                content_type: upload.content_type,
                bytes: upload.bytes,
            },
        ));
    }
    Ok(all)
}

fn is_empty(content: &str, embeds: &[Value], attachments: &[Attachment]) -> bool {
    content.trim().is_empty() && embeds.is_empty() && attachments.is_empty()
}

fn str_field(body: &Value, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).map(str::to_string)
}

fn list_field(body: &Value, key: &str) -> Option<Vec<Value>> {
    body.get(key).and_then(Value::as_array).cloned()
}

/// The message object Discord answers with.
fn message_json(state: &State, message: &StoredMessage) -> Value {
    let m = &message.public;
    let webhook_name = state
        .webhooks
        .iter()
        .find(|w| w.id == m.webhook_id)
        .map_or("Captain Hook", |w| w.name.as_str());
    let attachments: Vec<Value> = message
        .attachment_meta
        .iter()
        .zip(&m.attachments)
        .map(|((id, description), file)| {
            let url = format!(
                "https://cdn.discordapp.com/attachments/{}/{id}/{}",
                m.channel_id, file.filename
            );
            let mut a = json!({
                "id": id,
                "filename": file.filename,
                "size": file.bytes.len(),
                "url": url,
                "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"),
            });
            if let Some(content_type) = &file.content_type {
                a["content_type"] = json!(content_type);
            }
            if let Some(description) = description {
                a["description"] = json!(description);
            }
            a
        })
        .collect();
    let embeds: Vec<Value> = m
        .embeds
        .iter()
        .map(|e| {
            let mut e = e.clone();
            if let Some(map) = e.as_object_mut() {
                map.entry("type").or_insert(json!("rich"));
            }
            e
        })
        .collect();
    let mentions: Vec<Value> = m
        .pinged_users
        .iter()
        .map(|id| {
            json!({
                "id": id,
                "username": format!("user{id}"),
                "global_name": null,
                "avatar": null,
                "discriminator": "0",
                "public_flags": 0,
            })
        })
        .collect();
    json!({
        "type": 0,
        "id": m.id,
        "channel_id": m.channel_id,
        "content": m.content,
        "author": {
            "bot": true,
            "id": m.webhook_id,
            "username": message.username.as_deref().unwrap_or(webhook_name),
            "avatar": null,
            "discriminator": "0000",
        },
        "attachments": attachments,
        "embeds": embeds,
        "mentions": mentions,
        "mention_roles": m.pinged_roles,
        "mention_everyone": m.pinged_everyone,
        "pinned": false,
        "tts": message.tts,
        "timestamp": message.timestamp,
        "edited_timestamp": message.edited_timestamp,
        "flags": message.flags,
        "components": message.components,
        "webhook_id": m.webhook_id,
    })
}
