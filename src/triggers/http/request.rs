//! Reading an HTTP request's parts: the body's fields (JSON or a form),
//! the query string, the API key, headers.

use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap};
use lambda_http::{Body, Request};
use serde_json::Value;

use crate::error::{AppError, ErrorCode};
use crate::triggers::payload::{MAX_BODY_BYTES, Payload};

/// The query string's parameters, read from the event itself (the event
/// is stripped of its query before lambda_http sees it: it panics on some
/// that API Gateway never sends but a direct invocation can).
#[derive(Debug, Clone, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// `queryStringParameters` of any API Gateway / Function URL event.
    pub fn from_event(event: &Value) -> Self {
        let pairs = event
            .get("queryStringParameters")
            .and_then(Value::as_object)
            .map(|map| {
                map.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        Self(pairs)
    }

    /// The parameter `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(have, _)| have == name)
            .map(|(_, value)| value.as_str())
    }
}

/// The request body's bytes.
pub fn body_bytes(request: &Request) -> &[u8] {
    match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    }
}

/// The payload, from JSON (whatever the content type claims, as curl
/// users often forget `-H 'Content-Type: application/json'`) or a form.
pub fn payload(request: &Request) -> Result<Payload, AppError> {
    let bytes = body_bytes(request);
    if bytes.len() > MAX_BODY_BYTES {
        return Err(AppError::new(
            ErrorCode::BodyTooLarge,
            "the request body is larger than 256 KiB",
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| {
        AppError::new(
            ErrorCode::InvalidBody,
            "the request body is not valid UTF-8",
        )
    })?;
    let content_type = content_type(request);
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Ok(Payload::default());
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') || content_type.contains("json") {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            AppError::new(
                ErrorCode::InvalidJson,
                format!(
                    "the body is not valid JSON (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        return Payload::from_json(value);
    }
    if content_type.is_empty() || content_type.starts_with("application/x-www-form-urlencoded") {
        let pairs = serde_urlencoded::from_str(text).map_err(|_| {
            AppError::new(ErrorCode::InvalidBody, "the form body cannot be decoded")
        })?;
        return Payload::from_form(pairs);
    }
    Err(AppError::new(
        ErrorCode::UnsupportedMediaType,
        "send JSON (application/json) or a form (application/x-www-form-urlencoded)",
    ))
}

/// The `Content-Type`, lower case (empty when absent).
pub fn content_type(request: &Request) -> String {
    header(request.headers(), CONTENT_TYPE.as_str())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The API key: the body's `API_KEY` (as the original service took it),
/// else `x-api-key`, else `Authorization: Bearer`.
pub fn presented_key(request: &Request, payload: &Payload) -> Option<String> {
    payload
        .api_key
        .clone()
        .or_else(|| header(request.headers(), "x-api-key"))
        .or_else(|| bearer(request.headers()))
}

/// A header's value, trimmed; `None` when absent or blank.
pub fn header(headers: &HeaderMap, name: &str) -> Option<String> {
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
