//! What each HTTP route does: read the request into a use case call, and
//! the result into an answer.

use serde_json::json;

use super::request::HttpRequest;
use crate::app::{App, MessageRef};
use crate::deadline::Deadline;
use crate::domain::Caller;
use crate::error::{AppError, ErrorCode};
use crate::triggers::answer::{Posted, Reply};
use crate::triggers::payload::Payload;
use crate::triggers::upload;

/// `POST /send-message`.
pub async fn send_message(
    app: &App,
    request: &HttpRequest,
    deadline: Deadline,
) -> Result<Reply, AppError> {
    let payload = request.payload()?;
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
