//! API Gateway (REST v1, HTTP API v2) and Function URL requests: routing,
//! body decoding, key extraction, and the answer in the caller's shape.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body as ResponseBody;
use base64::Engine;
use http::header::{ALLOW, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use lambda_http::{Body, Request, RequestExt};
use serde_json::{Value, json};

use super::payload::Fields;
use crate::app::App;
use crate::deadline::Deadline;
use crate::error::AppError;

/// Largest request body accepted (bytes, after base64 decoding).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Which response shape the caller expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// API Gateway REST API (payload format 1.0).
    RestV1,
    /// HTTP API (2.0) and Function URLs.
    HttpV2,
}

/// An HTTP answer before it is put into its shape.
struct Reply {
    status: u16,
    body: Value,
    headers: Vec<(http::HeaderName, String)>,
}

impl Reply {
    fn ok(body: Value) -> Self {
        Self {
            status: 200,
            body,
            headers: Vec::new(),
        }
    }
}

impl From<AppError> for Reply {
    fn from(err: AppError) -> Self {
        let mut body = json!({"msg": err.message, "error": err.code});
        let mut headers = Vec::new();
        if let Some(after) = err.retry_after {
            body["retry_after"] = json!(after);
            headers.push((RETRY_AFTER, after.to_string()));
        }
        if err.status == 405 {
            headers.push((ALLOW, "POST".to_string()));
        }
        Self {
            status: err.status,
            body,
            headers,
        }
    }
}

/// Handles one HTTP event and answers in its shape.
pub async fn handle(app: &App, event: Value, shape: Shape, deadline: Deadline) -> Value {
    let reply = match parse(event) {
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

fn parse(event: Value) -> Result<Request, AppError> {
    // lambda_http panics on a base64 body it cannot decode: check first.
    if event.get("isBase64Encoded") == Some(&Value::Bool(true))
        && let Some(body) = event.get("body").and_then(Value::as_str)
        && base64::engine::general_purpose::STANDARD
            .decode(body)
            .is_err()
    {
        return Err(AppError::bad_request(
            "invalid_body",
            "the body is marked base64 but is not valid base64",
        ));
    }
    let text = without_uri_parts(event).to_string();
    // A last guard: a hostile direct invocation must still get an answer.
    std::panic::catch_unwind(|| lambda_http::request::from_str(&text))
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| {
            AppError::bad_request(
                "invalid_event",
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
            .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b))
}

async fn route(app: &App, request: Request, deadline: Deadline) -> Result<Reply, AppError> {
    let path = request.raw_http_path().trim_end_matches('/').to_string();
    let path = if path.is_empty() {
        request.uri().path().trim_end_matches('/').to_string()
    } else {
        path
    };
    if !(path == "/send-message" || path.ends_with("/send-message")) {
        return Err(AppError::new(
            404,
            "not_found",
            format!("no route for {}; POST /send-message", printable(&path)),
        ));
    }
    if request.method() != http::Method::POST {
        return Err(AppError::new(
            405,
            "method_not_allowed",
            "use POST for /send-message",
        ));
    }
    send(app, request, deadline).await
}

/// POST /send-message.
async fn send(app: &App, request: Request, deadline: Deadline) -> Result<Reply, AppError> {
    let fields = fields(&request)?;
    let presented = fields
        .text(&["API_KEY", "api_key"])?
        .map(str::to_string)
        .or_else(|| header(request.headers(), "x-api-key"))
        .or_else(|| bearer(request.headers()));
    let caller = app.authenticate(presented.as_deref()).await?;
    let idempotency_key = header(request.headers(), "idempotency-key");
    let send = fields.send_request(idempotency_key.as_deref())?;
    let delivered = app.send_within(&caller, &send, deadline).await?;
    Ok(Reply::ok(json!({
        "msg": "Posted message",
        "id": delivered.id,
        "channel": delivered.channel,
        "arrival_time": delivered.arrival_time,
    })))
}

/// The payload, from JSON (whatever the content type claims, as curl
/// users often forget `-H 'Content-Type: application/json'`) or a form.
fn fields(request: &Request) -> Result<Fields, AppError> {
    let bytes: &[u8] = match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(AppError::new(
            413,
            "body_too_large",
            "the request body is larger than 256 KiB",
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| {
        AppError::bad_request("invalid_body", "the request body is not valid UTF-8")
    })?;
    let content_type = header(request.headers(), CONTENT_TYPE.as_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Ok(Fields::default());
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') || content_type.contains("json") {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            AppError::bad_request(
                "invalid_json",
                format!(
                    "the body is not valid JSON (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        return Fields::from_json(value);
    }
    if content_type.is_empty() || content_type.starts_with("application/x-www-form-urlencoded") {
        let pairs = serde_urlencoded::from_str(text).map_err(|_| {
            AppError::bad_request("invalid_body", "the form body cannot be decoded")
        })?;
        return Ok(Fields::from_form(pairs));
    }
    Err(AppError::new(
        415,
        "unsupported_media_type",
        "send JSON (application/json) or a form (application/x-www-form-urlencoded)",
    ))
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
}

/// The key of `Authorization: Bearer <key>`.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = header(headers, AUTHORIZATION.as_str())?;
    let (scheme, key) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| key.trim().to_string())
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
