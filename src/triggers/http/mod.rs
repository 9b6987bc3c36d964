//! API Gateway (REST v1, HTTP API v2) and Function URL requests: decoding
//! the event, routing, and the answer in the caller's shape. The routes
//! themselves are in `routes`, reading a request's parts in `request`.

mod request;
mod routes;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body as ResponseBody;
use base64::Engine;
use http::Method;
use http::header::{ALLOW, CONTENT_TYPE, HeaderMap, HeaderValue};
use lambda_http::{Request, RequestExt};
use serde_json::{Value, json};

use super::answer::Reply;
use crate::app::App;
use crate::deadline::Deadline;
use crate::error::{AppError, ErrorCode};
use request::Query;

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
    let query = Query::from_event(&event);
    let reply = match parse(event) {
        Ok(request) => route(app, request, query, deadline)
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

fn parse(event: Value) -> Result<Request, AppError> {
    if !headers_fit(&event) {
        return Err(AppError::new(
            ErrorCode::HeadersTooLarge,
            format!(
                "the request has more than {MAX_HEADERS} headers or {MAX_HEADER_BYTES} bytes of them"
            ),
        ));
    }
    // lambda_http panics on a base64 body it cannot decode: check first.
    if event.get("isBase64Encoded") == Some(&Value::Bool(true))
        && let Some(body) = event.get("body").and_then(Value::as_str)
        && base64::engine::general_purpose::STANDARD
            .decode(body)
            .is_err()
    {
        return Err(AppError::new(
            ErrorCode::InvalidBody,
            "the body is marked base64 but is not valid base64",
        ));
    }
    let text = without_uri_parts(event).to_string();
    // A last guard: a hostile direct invocation must still get an answer.
    std::panic::catch_unwind(|| lambda_http::request::from_str(&text))
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidEvent,
                "not a valid API Gateway or Function URL request",
            )
        })
}

/// The event without what lambda_http builds a URI from and we never use
/// (host, scheme, query string), and with a path it can always parse:
/// lambda_http panics on a host or query it cannot parse, which API
/// Gateway never sends but a direct invocation can.
fn without_uri_parts(mut event: Value) -> Value {
    for headers in ["headers", "multiValueHeaders"] {
        if let Some(headers) = event.get_mut(headers).and_then(Value::as_object_mut) {
            headers.retain(|name, _| {
                !name.eq_ignore_ascii_case("host")
                    && !name.eq_ignore_ascii_case("x-forwarded-proto")
            });
        }
    }
    if let Some(context) = event
        .get_mut("requestContext")
        .and_then(Value::as_object_mut)
    {
        context.remove("domainName");
        context.remove("stage");
    }
    for query in [
        "rawQueryString",
        "queryStringParameters",
        "multiValueQueryStringParameters",
    ] {
        if let Some(object) = event.as_object_mut() {
            object.remove(query);
        }
    }
    for path in ["rawPath", "path"] {
        if let Some(value) = event.get_mut(path)
            && !value.as_str().is_some_and(is_plain_path)
        {
            *value = Value::String("/".into());
        }
    }
    event
}

/// A path of the characters a URI path may hold as they are.
fn is_plain_path(path: &str) -> bool {
    path.starts_with('/')
        && path.len() <= 1024
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&b))
        && is_percent_encoded(path)
}

/// Every `%` starts a `%XX` escape.
fn is_percent_encoded(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.iter().enumerate().all(|(i, b)| {
        *b != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    })
}

/// The routes, matched on the path's end so that a stage or a Function
/// URL prefix (`/prod/send-message`) routes the same.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    SendMessage,
    SendFile,
    Message(String),
    Health,
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
            (Some("messages"), id) if !id.is_empty() => Some(Self::Message(id.to_string())),
            _ => None,
        }
    }

    /// The methods the route answers (for 405's `Allow`).
    fn allowed(&self) -> &'static str {
        match self {
            Self::SendMessage | Self::SendFile => "POST",
            Self::Message(_) => "PATCH, DELETE",
            Self::Health => "GET",
        }
    }
}

async fn route(
    app: &App,
    request: Request,
    query: Query,
    deadline: Deadline,
) -> Result<Reply, AppError> {
    let path = request.raw_http_path().to_string();
    let path = if path.is_empty() {
        request.uri().path().to_string()
    } else {
        path
    };
    let Some(route) = Route::of(&path) else {
        return Err(AppError::new(
            ErrorCode::NotFound,
            format!(
                "no route for {}; the routes are POST /send-message, POST /send-file (or /send-image), PATCH or DELETE /messages/{{id}} and GET /health",
                printable(&path)
            ),
        ));
    };
    let method = request.method().clone();
    match (&route, method) {
        (Route::SendMessage, Method::POST) => routes::send_message(app, &request, deadline).await,
        (Route::SendFile, Method::POST) => routes::send_file(app, &request, deadline).await,
        (Route::Message(id), Method::PATCH) => {
            routes::edit_message(app, &request, id, deadline).await
        }
        (Route::Message(id), Method::DELETE) => {
            routes::delete_message(app, &request, &query, id, deadline).await
        }
        (Route::Health, Method::GET) => routes::health(app, &request).await,
        (route, method) => {
            let mut reply = Reply::from(AppError::new(
                ErrorCode::MethodNotAllowed,
                format!(
                    "{} does not take {method}; use {}",
                    printable(&path),
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
