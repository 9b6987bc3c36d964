//! An HTTP request read from its event: method, path, headers, body and
//! query, in one small value the routes read. Built from the typed events
//! (`aws_lambda_events`, as lambda_http re-exports them), not from
//! lambda_http's `Request`: that conversion builds a URI from the host,
//! stage and query string, and panics on some that API Gateway never sends
//! but a direct invocation can.

use base64::Engine;
use http::Method;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap};
use lambda_http::aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayV2httpRequest};
use serde_json::{Map, Value};

use super::Shape;
use crate::error::{AppError, ErrorCode};
use crate::triggers::payload::{MAX_BODY_BYTES, Payload};

/// One HTTP request, whatever event carried it.
#[derive(Debug)]
pub struct HttpRequest {
    pub method: Method,
    /// The path as the client sent it (with any stage prefix).
    pub path: String,
    pub headers: HeaderMap,
    /// Base64 already decoded.
    pub body: Vec<u8>,
    pub query: Query,
}

impl HttpRequest {
    /// Reads `event`, which [`super::super::classify`] found to be `shape`.
    pub fn from_event(event: Value, shape: Shape) -> Result<Self, AppError> {
        let query = Query::from_event(&event);
        let invalid = |_| {
            AppError::new(
                ErrorCode::InvalidEvent,
                "not a valid API Gateway or Function URL request",
            )
        };
        let (method, path, headers, body, base64) = match shape {
            Shape::HttpV2 => {
                let event: ApiGatewayV2httpRequest =
                    serde_json::from_value(event).map_err(invalid)?;
                let path = event
                    .raw_path
                    .unwrap_or_else(|| event.request_context.http.path.unwrap_or_default());
                let method = event.request_context.http.method;
                (
                    method,
                    path,
                    event.headers,
                    event.body,
                    event.is_base64_encoded,
                )
            }
            Shape::RestV1 => {
                let event: ApiGatewayProxyRequest =
                    serde_json::from_value(event).map_err(invalid)?;
                // Both maps, the single-value one winning, as API Gateway
                // fills them alike.
                let mut headers = event.multi_value_headers;
                for (name, value) in &event.headers {
                    headers.insert(name.clone(), value.clone());
                }
                let path = event.path.unwrap_or_default();
                (
                    event.http_method,
                    path,
                    headers,
                    event.body,
                    event.is_base64_encoded,
                )
            }
        };
        let body = match (body, base64) {
            (None, _) => Vec::new(),
            (Some(text), false) => text.into_bytes(),
            (Some(text), true) => base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| {
                    AppError::new(
                        ErrorCode::InvalidBody,
                        "the body is marked base64 but is not valid base64",
                    )
                })?,
        };
        Ok(Self {
            method,
            path,
            headers,
            body,
            query,
        })
    }

    /// A header's value, trimmed; `None` when absent or blank.
    pub fn header(&self, name: &str) -> Option<String> {
        header(&self.headers, name)
    }

    /// The `Content-Type` as sent (multipart boundaries are
    /// case-sensitive); empty when absent.
    pub fn content_type_raw(&self) -> String {
        self.header(CONTENT_TYPE.as_str()).unwrap_or_default()
    }

    /// The `Content-Type`, lower case (empty when absent).
    pub fn content_type(&self) -> String {
        self.content_type_raw().to_ascii_lowercase()
    }

    /// The body, read once: JSON (whatever the content type claims, as
    /// curl users often forget `-H 'Content-Type: application/json'`), a
    /// form, or nothing.
    pub fn body(&self) -> Result<RequestBody, AppError> {
        let bytes = self.body.as_slice();
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
        let content_type = self.content_type();
        let trimmed = text.trim_start();
        if trimmed.is_empty() {
            return Ok(RequestBody::Empty);
        }
        if trimmed.starts_with('{') || trimmed.starts_with('[') || content_type.contains("json") {
            let value = serde_json::from_str(text).map_err(|e| {
                AppError::new(
                    ErrorCode::InvalidJson,
                    format!(
                        "the body is not valid JSON (line {}, column {})",
                        e.line(),
                        e.column()
                    ),
                )
            })?;
            return Ok(RequestBody::Json(value));
        }
        if content_type.is_empty() || content_type.starts_with("application/x-www-form-urlencoded")
        {
            let pairs = serde_urlencoded::from_str(text).map_err(|_| {
                AppError::new(ErrorCode::InvalidBody, "the form body cannot be decoded")
            })?;
            return Ok(RequestBody::Form(pairs));
        }
        Err(AppError::new(
            ErrorCode::UnsupportedMediaType,
            "send JSON (application/json) or a form (application/x-www-form-urlencoded)",
        ))
    }

    /// The payload of a send, an edit or a delete (JSON or a form).
    pub fn payload(&self) -> Result<Payload, AppError> {
        self.body()?.payload()
    }

    /// The body as a JSON object (reminders take JSON only); an empty
    /// body is an empty object.
    pub fn json_object(&self) -> Result<Map<String, Value>, AppError> {
        self.body()?.json_object()
    }

    /// The API key: the body's `API_KEY` (as the original service took it),
    /// else `x-api-key`, else `Authorization: Bearer`.
    pub fn presented_key(&self, payload: &Payload) -> Option<String> {
        payload
            .api_key
            .clone()
            .or_else(|| self.header("x-api-key"))
            .or_else(|| bearer(&self.headers))
    }
}

/// A request body as read: each route takes what it needs from it.
#[derive(Debug)]
pub enum RequestBody {
    /// No body, or only white space.
    Empty,
    /// JSON, parsed.
    Json(Value),
    /// `application/x-www-form-urlencoded` pairs.
    Form(Vec<(String, String)>),
}

impl RequestBody {
    /// The payload it holds.
    pub fn payload(self) -> Result<Payload, AppError> {
        match self {
            Self::Empty => Ok(Payload::default()),
            Self::Json(value) => Payload::from_json(value),
            Self::Form(pairs) => Payload::from_form(pairs),
        }
    }

    /// The JSON object it is (empty for no body).
    pub fn json_object(self) -> Result<Map<String, Value>, AppError> {
        match self {
            Self::Empty => Ok(Map::new()),
            Self::Json(Value::Object(map)) => Ok(map),
            _ => Err(AppError::new(
                ErrorCode::InvalidJson,
                "the body must be a JSON object",
            )),
        }
    }
}

/// The query string's parameters, read from the event itself.
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

/// A header's value, trimmed; `None` when absent or blank.
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
