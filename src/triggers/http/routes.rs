//! What each HTTP route does: read the request into a use case call, and
//! the result into an answer.

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::request::{HttpRequest, RequestBody};
use crate::app::{App, MessageRef};
use crate::deadline::Deadline;
use crate::domain::Caller;
use crate::error::{AppError, ErrorCode};
use crate::triggers::answer::{Posted, Reply};
use crate::triggers::payload::Payload;
use crate::triggers::{reminder, upload};

/// `POST /send-message`; with `send_at`, a one-time reminder instead.
pub async fn send_message(
    app: &App,
    request: &HttpRequest,
    deadline: Deadline,
) -> Result<Reply, AppError> {
    let payload = match request.body()? {
        RequestBody::Json(Value::Object(mut body)) if body.contains_key("send_at") => {
            // `at` (and its `timezone`): a message sent once, later.
            if let Some(send_at) = body.remove("send_at") {
                body.insert("at".into(), send_at);
            }
            return create_reminder_from(app, request, body).await;
        }
        body => body.payload()?,
    };
    let caller = authenticate(app, request, &payload).await?;
    let idempotency_key = request.header("idempotency-key");
    let send = payload.send_request(idempotency_key.as_deref())?;
    let outcomes = app.send_within(&caller, &send, deadline).await?;
    Posted::new(outcomes, "Posted message").http()
}

/// `POST /send-file`: multipart (`document` + `data`, as the original
/// `/send-image` callers sent it) or JSON with the file in base64.
pub async fn send_file(
    app: &App,
    request: &HttpRequest,
    deadline: Deadline,
) -> Result<Reply, AppError> {
    let content_type = request.content_type();
    let body = request.body.as_slice();
    let upload = if content_type.starts_with("multipart/") {
        upload::from_multipart(&request.content_type_raw(), body.to_vec()).await?
    } else if content_type.is_empty() || content_type.contains("json") {
        upload::from_json_body(body)?
    } else {
        return Err(AppError::new(
            ErrorCode::UnsupportedMediaType,
            "send multipart/form-data (a document part and a data part) or JSON with file.content_base64",
        ));
    };
    let caller = authenticate(app, request, &upload.fields).await?;
    let idempotency_key = request.header("idempotency-key");
    let file = upload
        .fields
        .file_request(upload.attachment, idempotency_key.as_deref())?;
    let outcomes = app.send_file_within(&caller, &file, deadline).await?;
    Posted::new(outcomes, "Posted file").http()
}

/// `PATCH /messages/{id}`: new text for a message the bot posted.
pub async fn edit_message(
    app: &App,
    request: &HttpRequest,
    id: &str,
    deadline: Deadline,
) -> Result<Reply, AppError> {
    let payload = request.payload()?;
    let caller = authenticate(app, request, &payload).await?;
    let target = payload.message_request(message_ref(id)?)?;
    let content = payload.edit_content()?;
    let edited = app
        .edit_within(&caller, &target, &content, deadline)
        .await?;
    Ok(Reply::ok(json!({
        "msg": "Edited message",
        "id": edited.id,
        "channel": edited.channel,
        "edit_time": edited.edit_time,
    })))
}

/// `DELETE /messages/{id}` (channel in the body or the query string).
pub async fn delete_message(
    app: &App,
    request: &HttpRequest,
    id: &str,
    deadline: Deadline,
) -> Result<Reply, AppError> {
    let mut payload = request.payload()?;
    if payload.channel.is_none() {
        // Only the channel: a key in a query string ends up in access logs.
        payload.channel = request
            .query
            .get("channel")
            .filter(|name| !name.trim().is_empty())
            .map(|name| name.into());
    }
    let caller = authenticate(app, request, &payload).await?;
    let target = payload.message_request(message_ref(id)?)?;
    let deleted = app.delete_within(&caller, &target, deadline).await?;
    Ok(Reply::ok(json!({
        "msg": "Deleted message",
        "id": deleted.id,
        "channel": deleted.channel,
    })))
}

/// `GET /health`: any valid key may ask; only unscoped keys see the
/// details (session expiries, the last post and login times), which say
/// something about everyone's traffic.
pub async fn health(app: &App, request: &HttpRequest) -> Result<Reply, AppError> {
    let caller = authenticate(app, request, &Payload::default()).await?;
    let health = app.health().await?;
    let healthy = health.healthy();
    let status = if healthy { 200 } else { 503 };
    if !caller.is_unscoped() {
        let msg = if healthy {
            "healthy"
        } else {
            "a person must log the bot in"
        };
        return Ok(Reply::new(status, json!({ "ok": healthy, "msg": msg })));
    }
    let msg = if healthy {
        "healthy"
    } else {
        "a person must act: log the bot in (see last_login) or renew a bot token (see credentials)"
    };
    let body = json!({
        "ok": healthy,
        "msg": msg,
        "session": health.session.as_ref().map(|s| json!({
            "skype_token_expires_at": s.skype_token_expires_at,
            "registration_token_expires_at": s.registration_token_expires_at,
            "expires_in_seconds": s.skype_token_expires_at.min(s.registration_token_expires_at) as i64 - health.now as i64,
        })),
        "last_post_at": health.last_post_ms,
        "last_login": health.last_login.as_ref().map(|login| json!({
            "at": login.at,
            "outcome": login.outcome.as_str(),
        })),
        "teams": health.teams.as_ref().map(|teams| json!({
            "app_token": if teams.app_token_cached { "cached" } else { "not yet fetched" },
            "conversations": teams.conversations,
        })),
        "credentials": health.credentials.iter().map(|c| json!({
            "platform": c.platform.kind(),
            "ok": c.error.is_none(),
            "error": c.error,
        })).collect::<Vec<_>>(),
        "now": health.now,
    });
    Ok(Reply::new(status, body))
}

/// `POST /api/messages`: the Teams bot's messaging endpoint. No API key:
/// the Bot Framework's token is the authentication (`App::teams_inbound`).
/// Answered `200 {}` at once: the Bot Framework wants no content.
pub async fn teams_inbound(
    app: &App,
    request: &HttpRequest,
    deadline: Deadline,
) -> Result<Reply, AppError> {
    let authorization = request.header("authorization");
    app.teams_inbound(authorization.as_deref(), &request.body, deadline)
        .await?;
    Ok(Reply::ok(json!({})))
}

/// `POST /reminders`: 201 with the reminder (the same one again for a
/// repeated `Idempotency-Key`).
pub async fn create_reminder(app: &App, request: &HttpRequest) -> Result<Reply, AppError> {
    create_reminder_from(app, request, request.json_object()?).await
}

async fn create_reminder_from(
    app: &App,
    request: &HttpRequest,
    body: Map<String, Value>,
) -> Result<Reply, AppError> {
    let caller = authenticate_json(app, request, &body).await?;
    let draft = reminder::draft(&body, Timestamp::now())?;
    let key = request.header("idempotency-key");
    let (created, _) = app.create_reminder(&caller, &draft, key.as_deref()).await?;
    Ok(Reply::new(201, reminder::view(&created)))
}

/// `GET /reminders[?all=true][&limit=N][&next_token=T]`: the caller's
/// reminders (all of them for an unscoped key that asks), a page at a time.
pub async fn list_reminders(app: &App, request: &HttpRequest) -> Result<Reply, AppError> {
    let caller = authenticate(app, request, &Payload::default()).await?;
    let all = request.query.get("all").is_some_and(|v| v == "true");
    let limit = match request.query.get("limit") {
        None => 20,
        Some(limit) => limit
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::InvalidField,
                    "limit must be a number from 1 to 100",
                )
            })?,
    };
    let next_token = request.query.get("next_token").map(str::to_string);
    let page = app.list_reminders(&caller, all, next_token, limit).await?;
    Ok(Reply::ok(json!({
        "reminders": page.reminders.iter().map(reminder::view).collect::<Vec<_>>(),
        "next_token": page.next_token,
    })))
}

/// `GET /reminders/{id}`.
pub async fn get_reminder(app: &App, request: &HttpRequest, id: &str) -> Result<Reply, AppError> {
    let caller = authenticate(app, request, &Payload::default()).await?;
    let found = app.reminder(&caller, id).await?;
    Ok(Reply::ok(reminder::view(&found)))
}

/// `PATCH /reminders/{id}`: the fields given replace the stored ones, and
/// the whole is checked again as a new reminder would be.
pub async fn change_reminder(
    app: &App,
    request: &HttpRequest,
    id: &str,
) -> Result<Reply, AppError> {
    let patch = request.json_object()?;
    let caller = authenticate_json(app, request, &patch).await?;
    let current = app.reminder(&caller, id).await?;
    let mut merged = reminder::patched(&current, &patch);
    merged.remove("API_KEY");
    merged.remove("api_key");
    let draft = reminder::draft(&merged, Timestamp::now())?;
    let changed = app.change_reminder(&caller, id, &draft).await?;
    Ok(Reply::ok(reminder::view(&changed)))
}

/// `DELETE /reminders/{id}`.
pub async fn delete_reminder(
    app: &App,
    request: &HttpRequest,
    id: &str,
) -> Result<Reply, AppError> {
    let caller = authenticate(app, request, &Payload::default()).await?;
    app.delete_reminder(&caller, id).await?;
    Ok(Reply::ok(json!({"msg": "Deleted reminder", "id": id})))
}

/// The caller of a JSON body that may carry `API_KEY` / `api_key`.
async fn authenticate_json(
    app: &App,
    request: &HttpRequest,
    body: &Map<String, Value>,
) -> Result<Caller, AppError> {
    let key_only: Map<String, Value> = body
        .iter()
        .filter(|(name, _)| matches!(name.as_str(), "API_KEY" | "api_key"))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let payload = Payload::from_json(Value::Object(key_only))?;
    authenticate(app, request, &payload).await
}

async fn authenticate(
    app: &App,
    request: &HttpRequest,
    payload: &Payload,
) -> Result<Caller, AppError> {
    app.authenticate(request.presented_key(payload).as_deref())
        .await
}

/// The `{id}` segment, percent-decoded (`key:...` ids may hold anything).
fn message_ref(segment: &str) -> Result<MessageRef, AppError> {
    let decoded = percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .map_err(|_| AppError::new(ErrorCode::InvalidMessageId, "the message id is not UTF-8"))?;
    MessageRef::parse(&decoded)
}
