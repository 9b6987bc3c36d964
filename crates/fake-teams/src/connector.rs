//! The Bot Connector REST API under the `serviceUrl`: what a bot calls to
//! post, reply, update and delete activities, start a thread in a channel
//! and list a conversation's members.
//!
//! Every call needs `Authorization: Bearer <token>` with an unexpired
//! token the token endpoint granted for the Bot Framework (else 401
//! `{"message": "Authorization has been denied for this request."}`), for
//! an app installed in the conversation (else 403
//! `BotNotInConversationRoster`); an unknown conversation is 404
//! `ConversationNotFound`. Ids arrive as percent-encoded path segments
//! (`19%3Aabc%40thread.tacv2%3Bmessageid%3D123`) or with `:` `@` `;` `=`
//! as they are (all legal in a path segment); either way they are decoded
//! once, so a client that encodes twice names a conversation that does not
//! exist. A bot may update or delete only the activities it sent.

use serde_json::{Value, json};

use super::schema::{self, Checked};
use super::state::State;
use super::wire::{
    Req, Resp, bad_argument, connector_error, denied, framework_message, now_secs, percent_decode,
};
use super::{ConversationKind, Member, StoredActivity, base_conversation};

/// Where the Connector lives on the fake's port (the `serviceUrl` is this
/// plus `/`).
pub(crate) const PREFIX: &str = "/connector";
/// The resource a Connector token must be for.
const RESOURCE: &str = "https://api.botframework.com";

/// A request that passed authentication and the conversation checks.
struct Allowed {
    app_id: String,
    /// The conversation's base id (no `;messageid=` part).
    base: String,
    kind: ConversationKind,
    /// The thread named by `;messageid=<root>`, in a channel.
    thread: Option<String>,
}

/// The app a bearer token was granted to, or the 401.
fn authorize(state: &State, req: &Req) -> Result<String, Resp> {
    let header = req.header("authorization").ok_or_else(denied)?;
    let (scheme, token) = header.trim().split_once(' ').ok_or_else(denied)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(denied());
    }
    let granted = state.access_tokens.get(token.trim()).ok_or_else(denied)?;
    if granted.expires_at <= now_secs() || granted.resource != RESOURCE {
        return Err(denied());
    }
    Ok(granted.app_id.clone())
}

/// A JSON request body, or the answer the framework gives instead.
fn json_body(req: &Req) -> Result<Value, Resp> {
    match req.media_type() {
        Some(media) if media == "application/json" => {}
        other => {
            let media = other.unwrap_or_default();
            return Err(framework_message(
                415,
                &format!(
                    "The request entity's media type '{media}' is not supported for this resource."
                ),
            ));
        }
    }
    serde_json::from_slice(&req.body)
        .map_err(|e| bad_argument(&format!("The request body is not valid JSON: {e}")))
}

/// Find the conversation and check the app is in it.
fn allow(state: &State, app_id: String, raw_conversation: &str) -> Result<Allowed, Resp> {
    let Some(conversation) = percent_decode(raw_conversation) else {
        return Err(bad_argument(
            "The conversation id is not valid percent-encoded UTF-8.",
        ));
    };
    let base = base_conversation(&conversation).to_string();
    let Some(found) = state.conversations.get(&base) else {
        return Err(not_found());
    };
    if !found.roster.contains(&app_id) {
        return Err(not_in_roster());
    }
    let thread = match conversation.split_once(';') {
        None => None,
        Some((_, part)) => {
            let root = part.strip_prefix("messageid=").ok_or_else(not_found)?;
            let is_root = state.activities.iter().any(|a| {
                a.conversation == base && a.id == root && a.thread.as_deref() == Some(root)
            });
            if found.kind != ConversationKind::Channel || !is_root {
                return Err(not_found());
            }
            Some(root.to_string())
        }
    };
    Ok(Allowed {
        app_id,
        base,
        kind: found.kind,
        thread,
    })
}

fn not_found() -> Resp {
    connector_error(404, "ConversationNotFound", "Conversation not found.")
}

fn not_in_roster() -> Resp {
    connector_error(
        403,
        "BotNotInConversationRoster",
        "The bot is not part of the conversation roster.",
    )
}

fn activity_not_found() -> Resp {
    connector_error(
        404,
        "ActivityNotFoundInConversation",
        "Message does not exist in the thread.",
    )
}

/// The bot's own id in a conversation.
fn bot_id(app_id: &str) -> String {
    format!("28:{app_id}")
}

/// Store a new activity from the bot; its id. In a channel it belongs to
/// `thread`, or starts a thread of its own.
fn store(
    state: &mut State,
    allowed: &Allowed,
    checked: Checked,
    body: Value,
    thread: Option<String>,
    reply_to_id: Option<String>,
) -> String {
    let id = state.next_activity_id();
    let thread = match allowed.kind {
        ConversationKind::Channel => Some(thread.unwrap_or_else(|| id.clone())),
        _ => None,
    };
    state.activities.push(StoredActivity {
        id: id.clone(),
        conversation: allowed.base.clone(),
        thread: thread.clone(),
        reply_to_id,
        from: bot_id(&allowed.app_id),
        text: checked.text,
        text_format: checked.text_format,
        attachments: checked.attachments,
        entities: checked.entities,
        edited: false,
        deleted: false,
        body,
    });
    id
}

/// `POST /v3/conversations/{id}/activities`: in a channel, a new thread
/// (or, to `...;messageid=<root>`, a reply in that thread).
pub(crate) fn send(state: &mut State, req: &Req, raw_conversation: &str) -> Resp {
    let (allowed, body, checked) = match allow_with_body(state, req, raw_conversation) {
        Ok(allowed) => allowed,
        Err(resp) => return resp,
    };
    let thread = allowed.thread.clone();
    let id = store(state, &allowed, checked, body, thread, None);
    Resp::json_utf8(201, &json!({"id": id}))
}

/// `POST /v3/conversations/{id}/activities/{activityId}`: a reply to that
/// activity; in a channel it goes into the activity's thread.
pub(crate) fn reply(
    state: &mut State,
    req: &Req,
    raw_conversation: &str,
    raw_activity: &str,
) -> Resp {
    let (allowed, body, checked) = match allow_with_body(state, req, raw_conversation) {
        Ok(allowed) => allowed,
        Err(resp) => return resp,
    };
    let Some(target) = find_activity(state, &allowed, raw_activity) else {
        return activity_not_found();
    };
    let thread = state.activities[target].thread.clone();
    let reply_to = state.activities[target].id.clone();
    let id = store(state, &allowed, checked, body, thread, Some(reply_to));
    Resp::json_utf8(201, &json!({"id": id}))
}

/// `PUT /v3/conversations/{id}/activities/{activityId}`: replace the text,
/// attachments and entities of one of the bot's own activities.
pub(crate) fn update(
    state: &mut State,
    req: &Req,
    raw_conversation: &str,
    raw_activity: &str,
) -> Resp {
    let (allowed, body, checked) = match allow_with_body(state, req, raw_conversation) {
        Ok(allowed) => allowed,
        Err(resp) => return resp,
    };
    let index = match own_activity(state, &allowed, raw_activity) {
        Ok(index) => index,
        Err(resp) => return resp,
    };
    let activity = &mut state.activities[index];
    activity.text = checked.text;
    activity.text_format = checked.text_format;
    activity.attachments = checked.attachments;
    activity.entities = checked.entities;
    activity.body = body;
    activity.edited = true;
    Resp::json_utf8(200, &json!({"id": activity.id}))
}

/// `DELETE /v3/conversations/{id}/activities/{activityId}`: one of the
/// bot's own activities.
pub(crate) fn delete(
    state: &mut State,
    req: &Req,
    raw_conversation: &str,
    raw_activity: &str,
) -> Resp {
    let allowed = match authorize(state, req).and_then(|app| allow(state, app, raw_conversation)) {
        Ok(allowed) => allowed,
        Err(resp) => return resp,
    };
    let index = match own_activity(state, &allowed, raw_activity) {
        Ok(index) => index,
        Err(resp) => return resp,
    };
    state.activities[index].deleted = true;
    Resp::empty(200)
}

/// `POST /v3/conversations` with `isGroup: true`, `channelData.channel.id`
/// and an `activity`: a new thread in that channel, answered with the
/// thread's conversation id and the activity id.
pub(crate) fn create_conversation(state: &mut State, req: &Req) -> Resp {
    let app_id = match authorize(state, req) {
        Ok(app_id) => app_id,
        Err(resp) => return resp,
    };
    let params = match json_body(req) {
        Ok(params) => params,
        Err(resp) => return resp,
    };
    if !params.is_object() {
        return bad_argument("The conversation parameters must be a JSON object.");
    }
    if params
        .get("isGroup")
        .is_some_and(|g| !g.is_boolean() && !g.is_null())
    {
        return bad_argument("'isGroup' must be a boolean.");
    }
    let Some(channel) = params
        .pointer("/channelData/channel/id")
        .and_then(Value::as_str)
    else {
        return bad_argument(
            "channelData.channel.id is required: only new threads in a channel are supported here.",
        );
    };
    let Some(activity) = params.get("activity").filter(|a| a.is_object()) else {
        return bad_argument("'activity' is required to start a thread.");
    };
    if let Some(tenant) = params.get("tenantId")
        && !tenant.is_string()
        && !tenant.is_null()
    {
        return bad_argument("'tenantId' must be a string.");
    }
    let base = base_conversation(channel).to_string();
    let Some(found) = state.conversations.get(&base) else {
        return not_found();
    };
    if !found.roster.contains(&app_id) {
        return not_in_roster();
    }
    if found.kind != ConversationKind::Channel {
        return bad_argument("channelData.channel.id is not a channel.");
    }
    if params.get("isGroup").and_then(Value::as_bool) != Some(true) {
        return bad_argument("'isGroup' must be true to start a thread in a channel.");
    }
    let checked = match schema::check(activity) {
        Ok(checked) => checked,
        Err(resp) => return resp,
    };
    let allowed = Allowed {
        app_id,
        base: base.clone(),
        kind: ConversationKind::Channel,
        thread: None,
    };
    let id = store(state, &allowed, checked, activity.clone(), None, None);
    Resp::json_utf8(
        201,
        &json!({"id": format!("{base};messageid={id}"), "activityId": id}),
    )
}

/// `GET /v3/conversations/{id}/members`: the users of the conversation.
pub(crate) fn members(state: &State, req: &Req, raw_conversation: &str) -> Resp {
    let allowed = match authorize(state, req).and_then(|app| allow(state, app, raw_conversation)) {
        Ok(allowed) => allowed,
        Err(resp) => return resp,
    };
    let members: Vec<Value> = state
        .conversations
        .get(&allowed.base)
        .map(|c| c.members.iter().map(member_json).collect())
        .unwrap_or_default();
    Resp::json_utf8(200, &Value::Array(members))
}

fn member_json(member: &Member) -> Value {
    json!({
        "id": member.id,
        "name": member.name,
        "aadObjectId": member.aad_object_id,
        "objectId": member.aad_object_id,
    })
}

/// [`allow`], then the JSON body and its schema check.
fn allow_with_body(
    state: &State,
    req: &Req,
    raw_conversation: &str,
) -> Result<(Allowed, Value, Checked), Resp> {
    let app_id = authorize(state, req)?;
    let body = json_body(req)?;
    let allowed = allow(state, app_id, raw_conversation)?;
    let checked = schema::check(&body)?;
    Ok((allowed, body, checked))
}

/// The index of activity `raw_activity` in the allowed conversation.
fn find_activity(state: &State, allowed: &Allowed, raw_activity: &str) -> Option<usize> {
    let id = percent_decode(raw_activity)?;
    state
        .activities
        .iter()
        .position(|a| a.conversation == allowed.base && a.id == id)
}

/// The index of one of the bot's own, not deleted, activities.
fn own_activity(state: &State, allowed: &Allowed, raw_activity: &str) -> Result<usize, Resp> {
    let index = find_activity(state, allowed, raw_activity).ok_or_else(activity_not_found)?;
    let activity = &state.activities[index];
    if activity.from != bot_id(&allowed.app_id) {
        return Err(connector_error(
            403,
            "Forbidden",
            "A bot can update or delete only the activities it sent.",
        ));
    }
    if activity.deleted {
        // What the service answers for an activity that was deleted.
        return Err(connector_error(403, "ServiceError", "Unknown"));
    }
    Ok(index)
}
