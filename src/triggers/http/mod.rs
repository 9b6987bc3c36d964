//! API Gateway (REST v1, HTTP API v2) and Function URL requests: decoding
//! the event, routing, and the answer in the caller's shape. The routes
//! themselves are in `routes`, reading a request's parts in `request`.

mod request;
mod routes;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body as ResponseBody;
use http::Method;
use http::header::{ALLOW, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::{Value, json};

use super::answer::Reply;
use crate::app::App;
use crate::deadline::Deadline;
use crate::error::{AppError, ErrorCode};
use request::HttpRequest;

/// Which response shape the caller expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// API Gateway REST API (payload format 1.0).
    RestV1,
    /// HTTP API (2.0) and Function URLs.
    HttpV2,
}

/// Handles one HTTP event and answers in its shape.
pub async fn handle(app: &App, event: Value, shape: Shape, deadline: Deadline) -> Value {
    let reply = match parse(event, shape) {
        Ok(request) => route(app, request, deadline)
            .await
            .unwrap_or_else(Reply::from),
        Err(err) => Reply::from(err),
    };
    if reply.status >= 500 {
        tracing::warn!(status = reply.status, error = %reply.body["error"], "request failed");
    }
    encode(reply, shape)
}

/// More headers than API Gateway ever passes on (its limit is 10 KB of
/// them); the `http` crate panics past 32 768, so a hostile direct
/// invocation is refused long before.
const MAX_HEADERS: usize = 256;
/// All header names and values together, in bytes.
const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Whether the event's header maps are within what a real request has.
fn headers_fit(event: &Value) -> bool {
    let (mut count, mut bytes) = (0usize, 0usize);
    for map in ["headers", "multiValueHeaders"] {
        let Some(headers) = event.get(map).and_then(Value::as_object) else {
            continue;
        };
        for (name, value) in headers {
            let values = match value {
                Value::Array(values) => values.as_slice(),
                value => std::slice::from_ref(value),
            };
            count += values.len();
            bytes += values
                .iter()
                .map(|value| name.len() + value.as_str().map_or(0, str::len))
                .sum::<usize>();
            if count > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
                return false;
            }
        }
    }
    true
}

fn parse(event: Value, shape: Shape) -> Result<HttpRequest, AppError> {
    if !headers_fit(&event) {
        return Err(AppError::new(
            ErrorCode::HeadersTooLarge,
            format!(
                "the request has more than {MAX_HEADERS} headers or {MAX_HEADER_BYTES} bytes of them"
            ),
        ));
    }
    HttpRequest::from_event(event, shape)
}

/// The routes, matched on the path's end so that a stage or a Function
/// URL prefix (`/prod/send-message`) routes the same.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    SendMessage,
    SendFile,
    Message(String),
    Health,
    /// The Teams bot's messaging endpoint.
    TeamsInbound,
    /// `/reminders`.
    Reminders,
    /// `/reminders/{id}`.
    Reminder(String),
}

impl Route {
    fn of(path: &str) -> Option<Self> {
        let mut segments = path.trim_end_matches('/').rsplit('/');
        let last = segments.next()?;
        match (segments.next(), last) {
            (_, "send-message") => Some(Self::SendMessage),
            // The original service's name for it, kept for its callers.
            (_, "send-file" | "send-image") => Some(Self::SendFile),
            (_, "health") => Some(Self::Health),
            (Some("api"), "messages") => Some(Self::TeamsInbound),
            (Some("messages"), id) if !id.is_empty() => Some(Self::Message(id.to_string())),
            (_, "reminders") => Some(Self::Reminders),
            (Some("reminders"), id) if !id.is_empty() => Some(Self::Reminder(id.to_string())),
            _ => None,
        }
    }

    /// The methods the route answers (for 405's `Allow`).
    fn allowed(&self) -> &'static str {
        match self {
            Self::SendMessage | Self::SendFile | Self::TeamsInbound => "POST",
            Self::Message(_) => "PATCH, DELETE",
            Self::Health => "GET",
            Self::Reminders => "GET, POST",
            Self::Reminder(_) => "GET, PATCH, DELETE",
        }
    }
}

async fn route(app: &App, request: HttpRequest, deadline: Deadline) -> Result<Reply, AppError> {
    let path = &request.path;
    let Some(route) = Route::of(path) else {
        return Err(AppError::new(
            ErrorCode::NotFound,
            format!(
                "no route for {}; the routes are POST /send-message, POST /send-file (or /send-image), PATCH or DELETE /messages/{{id}}, GET or POST /reminders, GET, PATCH or DELETE /reminders/{{id}}, GET /health and POST /api/messages (the Teams bot)",
                printable(path)
            ),
        ));
    };
    let method = request.method.clone();
    match (&route, method) {
        (Route::SendMessage, Method::POST) => routes::send_message(app, &request, deadline).await,
        (Route::SendFile, Method::POST) => routes::send_file(app, &request, deadline).await,
        (Route::Message(id), Method::PATCH) => {
            routes::edit_message(app, &request, id, deadline).await
        }
        (Route::Message(id), Method::DELETE) => {
            routes::delete_message(app, &request, id, deadline).await
        }
        (Route::Health, Method::GET) => routes::health(app, &request).await,
        (Route::TeamsInbound, Method::POST) => routes::teams_inbound(app, &request, deadline).await,
        (Route::Reminders, Method::POST) => routes::create_reminder(app, &request).await,
        (Route::Reminders, Method::GET) => routes::list_reminders(app, &request).await,
        (Route::Reminder(id), Method::GET) => routes::get_reminder(app, &request, id).await,
        (Route::Reminder(id), Method::PATCH) => routes::change_reminder(app, &request, id).await,
        (Route::Reminder(id), Method::DELETE) => routes::delete_reminder(app, &request, id).await,
        (route, method) => {
            let mut reply = Reply::from(AppError::new(
                ErrorCode::MethodNotAllowed,
                format!(
                    "{} does not take {method}; use {}",
                    printable(path),
                    route.allowed()
                ),
            ));
            reply.headers.push((ALLOW, route.allowed().to_string()));
            Ok(reply)
        }
    }
}

/// A path safe to echo in a message.
fn printable(path: &str) -> String {
    path.chars().filter(|c| !c.is_control()).take(100).collect()
}

fn encode(reply: Reply, shape: Shape) -> Value {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in reply.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    let body = Some(ResponseBody::Text(reply.body.to_string()));
    let status = i64::from(reply.status);
    let encoded = match shape {
        Shape::RestV1 => {
            let mut response = ApiGatewayProxyResponse::default();
            response.status_code = status;
            response.headers = headers;
            response.body = body;
            serde_json::to_value(response)
        }
        Shape::HttpV2 => {
            let mut response = ApiGatewayV2httpResponse::default();
            response.status_code = status;
            response.headers = headers;
            response.body = body;
            serde_json::to_value(response)
        }
    };
    encoded.unwrap_or_else(|_| json!({"statusCode": 500}))
}
