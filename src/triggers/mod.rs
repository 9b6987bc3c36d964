//! Every way the function is invoked, decoded into one use case call and
//! answered in the trigger's own shape. Nothing here knows the Skype wire
//! format; nothing in `skype` knows these shapes.

mod answer;
mod http;
mod payload;
mod python_literal;
mod reminder;
mod sqs;
pub(crate) mod upload;

use serde_json::{Value, json};

use crate::app::App;
use crate::deadline::Deadline;
use crate::domain::Caller;
use crate::error::{AppError, ErrorCode};
use answer::Posted;
pub use http::Shape;
pub use payload::MAX_BODY_BYTES;
use payload::Payload;

/// What invoked us, read from the event's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// API Gateway or a Function URL.
    Http(Shape),
    /// An SQS batch.
    Sqs,
    /// An EventBridge event envelope (rule or bus).
    EventBridge,
    /// `{"action": "refresh"}` (usually from a schedule) or
    /// `{"action": "remind", ...}` (another Lambda creating a reminder).
    Action,
    /// `{"msg", "channel"}` from another Lambda, a rule's constant input,
    /// or a reminder's schedule (with its `reminder` object).
    Direct,
    /// None of the above.
    Unknown,
}

/// A failed invocation, reported to Lambda as a function error so that
/// asynchronous sources retry and finally dead-letter the event.
#[derive(Debug)]
pub struct FunctionError(pub AppError);

impl From<FunctionError> for lambda_runtime::Diagnostic {
    fn from(err: FunctionError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: err.0.code.to_string(),
            error_message: err.0.message,
        }
    }
}

impl From<AppError> for FunctionError {
    fn from(err: AppError) -> Self {
        Self(err)
    }
}

/// Tells the trigger from the event. HTTP v2 is checked before v1, since
/// some emulators put a stray `httpMethod` into Function URL events.
pub fn classify(event: &Value) -> Trigger {
    let has = |pointer: &str| event.pointer(pointer).is_some_and(|v| !v.is_null());
    if has("/requestContext/http/method") {
        Trigger::Http(Shape::HttpV2)
    } else if has("/httpMethod") && has("/requestContext") {
        Trigger::Http(Shape::RestV1)
    } else if event
        .pointer("/Records/0/eventSource")
        .and_then(Value::as_str)
        == Some("aws:sqs")
    {
        Trigger::Sqs
    } else if has("/detail-type") && has("/source") {
        Trigger::EventBridge
    } else if event.get("action").is_some() {
        Trigger::Action
    } else if Payload::looks_like_send(event)
        || event
            .as_str()
            .and_then(payload::parse_text)
            .is_some_and(|payload| Payload::looks_like_send(&payload))
    {
        Trigger::Direct
    } else {
        Trigger::Unknown
    }
}

/// Handles any event, answering before `deadline` (Lambda's).
pub async fn handle_within(
    app: &App,
    event: Value,
    deadline: Deadline,
) -> Result<Value, FunctionError> {
    match classify(&event) {
        Trigger::Http(shape) => Ok(http::handle(app, event, shape, deadline).await),
        Trigger::Direct => match reminder::delivery(&event) {
            Some(due) => {
                let (payload, key) = due?;
                Ok(send_payload(app, payload, Some(&key), deadline).await?)
            }
            None => Ok(send_payload(app, event, None, deadline).await?),
        },
        Trigger::EventBridge => eventbridge(app, event, deadline).await,
        Trigger::Sqs => Ok(sqs::handle(app, &event, deadline).await),
        Trigger::Action => action(app, event).await,
        Trigger::Unknown => Err(AppError::new(ErrorCode::UnknownEvent,
            "expected an API Gateway / Function URL request, {\"msg\": ..., \"channel\": ...}, an EventBridge event whose detail holds them, an SQS batch of them, or {\"action\": \"refresh\"}",
        )
        .into()),
    }
}

/// Posts what a trusted payload asks for; the direct-invocation answer.
async fn send_payload(
    app: &App,
    payload: Value,
    key: Option<&str>,
    deadline: Deadline,
) -> Result<Value, AppError> {
    let payload = match payload {
        Value::String(text) => payload::parse_text(&text).ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidJson,
                "the payload is a string holding neither a JSON object nor a Python dict",
            )
        })?,
        payload => payload,
    };
    let payload = Payload::from_json(payload)?;
    if payload.file.is_some() {
        let upload = upload::upload_from_json(&payload)?;
        let request = upload.fields.file_request(upload.attachment, key)?;
        let outcomes = app
            .send_file_within(&Caller::Trusted, &request, deadline)
            .await?;
        return Posted::new(outcomes, "Posted file").direct();
    }
    let request = payload.send_request(key)?;
    let outcomes = app
        .send_within(&Caller::Trusted, &request, deadline)
        .await?;
    Posted::new(outcomes, "Posted message").direct()
}

/// An EventBridge envelope: the payload is its `detail`, its `id` the
/// idempotency key (a redelivered event posts once).
async fn eventbridge(app: &App, event: Value, deadline: Deadline) -> Result<Value, FunctionError> {
    let detail = event.get("detail").cloned().unwrap_or(Value::Null);
    let empty = match &detail {
        Value::Null => true,
        Value::Object(map) => map.is_empty(),
        _ => false,
    };
    if empty {
        return Err(AppError::new(ErrorCode::EmptyEventDetail,
            "this EventBridge event carries no message: set the rule's or schedule's input to {\"msg\": \"...\", \"channel\": \"...\"} (constant JSON input)",
        )
        .into());
    }
    let id = event.get("id").and_then(Value::as_str).map(str::to_string);
    Ok(send_payload(app, detail, id.as_deref(), deadline).await?)
}

/// `{"action": ...}`: `refresh` or `remind`.
async fn action(app: &App, event: Value) -> Result<Value, FunctionError> {
    match event.get("action").and_then(Value::as_str) {
        Some("refresh") => refresh(app).await,
        Some("remind") => Ok(remind(app, event).await?),
        _ => Err(AppError::new(
            ErrorCode::UnknownAction,
            "the actions are \"refresh\" and \"remind\"",
        )
        .into()),
    }
}

/// `{"action": "remind", ...}`: `POST /reminders` for other Lambdas
/// (`idempotency_key` in the event plays the header's part).
async fn remind(app: &App, event: Value) -> Result<Value, AppError> {
    let Value::Object(mut body) = event else {
        return Err(AppError::new(ErrorCode::InvalidJson, "expected an object"));
    };
    body.remove("action");
    let key = match body.remove("idempotency_key") {
        None | Some(Value::Null) => None,
        Some(Value::String(key)) => Some(key),
        Some(_) => {
            return Err(AppError::new(
                ErrorCode::InvalidField,
                "idempotency_key must be a string",
            ));
        }
    };
    let draft = reminder::draft(&body, jiff::Timestamp::now())?;
    let (created, _) = app
        .create_reminder(&Caller::Trusted, &draft, key.as_deref())
        .await?;
    Ok(reminder::view(&created))
}

/// Renews the session ahead of its expiry.
async fn refresh(app: &App) -> Result<Value, FunctionError> {
    let expiries = match app.refresh().await {
        Ok(Some(expiries)) => expiries,
        Ok(None) => {
            return Ok(json!({
                "ok": true,
                "renewed": false,
                "msg": "no Skype account in the secret: nothing to keep alive",
            }));
        }
        // A new stack before its secret is filled in: nothing to keep
        // alive, and not a failure to retry and dead-letter every half hour.
        Err(err) if err.code == ErrorCode::NotConfigured => {
            tracing::warn!(
                error = err.code.as_str(),
                "the secret is not filled in yet: no session to keep alive"
            );
            return Ok(json!({"ok": false, "error": err.code, "msg": err.message}));
        }
        Err(err) => return Err(err.into()),
    };
    Ok(json!({
        "ok": true,
        "renewed": expiries.renewed,
        "skype_token_expires_at": expiries.skype_token,
        "registration_token_expires_at": expiries.registration_token,
        "window_minutes": app.refresh_window().as_secs() / 60,
    }))
}
