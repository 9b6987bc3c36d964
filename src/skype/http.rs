//! The one HTTP client, and how Skype's answers are turned into results.

use std::time::Duration;

use reqwest::{Response, StatusCode, header};
use serde_json::Value;

use super::config::{ClientOptions, SkypeUrls};
use super::error::SkypeError;

/// The most of any answer we read. Skype's JSON answers and login pages
/// are a few KiB to a few hundred; a broken or hostile host must not make a
/// small function allocate without bound. Anything longer is a bad answer.
pub(crate) const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// The most of a page of recent messages we read: 100 messages of up to
/// 28 000 characters each, JSON-escaped, can exceed [`MAX_ANSWER_BYTES`].
pub(crate) const MAX_MESSAGE_PAGE_BYTES: usize = 8 * 1024 * 1024;

/// How much of an error body `check` reads: Skype's error JSON is short;
/// only the start of a longer body is looked at.
const ERROR_BODY_BYTES: usize = 16 * 1024;

/// Which credential a request carried: it decides what a 401 means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// Login steps: a 429 there is the login throttle (803).
    Login,
    /// The skype token: a 401 means log in again.
    SkypeToken,
    /// The registration token: a 401/403/729 means register again.
    Registration,
}

/// The protocol operations, sharing one connection pool and the base URLs.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    pub http: reqwest::Client,
    pub urls: SkypeUrls,
    pub options: ClientOptions,
}

impl Api {
    pub fn new(urls: SkypeUrls, options: ClientOptions) -> Result<Self, SkypeError> {
        let http = reqwest::Client::builder()
            .user_agent(options.user_agent.clone())
            // A redirect would carry the message, the tokens or the password
            // to wherever it points. The one the protocol documents (the web
            // login's first page) is followed by hand, under the base URL rule.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|_| SkypeError::Connection("cannot build the HTTP client".into()))?;
        Ok(Self {
            http,
            urls,
            options,
        })
    }
}

/// Status codes SkPy accepts as success.
fn is_success(status: StatusCode) -> bool {
    matches!(status.as_u16(), 200 | 201 | 202 | 204 | 207)
}

/// Passes a success through; turns anything else into a typed error.
/// A redirect is an error too: nothing is ever re-sent elsewhere.
pub(crate) async fn check(response: Response, auth: Auth) -> Result<Response, SkypeError> {
    let status = response.status();
    if is_success(status) {
        return Ok(response);
    }
    if status.is_redirection() {
        return Err(redirect_error(status));
    }
    let retry_after = retry_after(&response);
    let body = read_prefix(response, ERROR_BODY_BYTES).await;
    Err(classify(
        status,
        retry_after,
        &String::from_utf8_lossy(&body),
        auth,
    ))
}

/// What a 3xx that we do not follow is.
pub(crate) fn redirect_error(status: StatusCode) -> SkypeError {
    SkypeError::Protocol(format!(
        "the Skype host answered a redirect (HTTP {}), which is never followed",
        status.as_u16()
    ))
}

/// Reads a whole body of at most `cap` bytes, chunk by chunk, so a longer
/// one costs at most `cap` bytes before it is refused.
pub(crate) async fn read_body(mut response: Response, cap: usize) -> Result<Vec<u8>, SkypeError> {
    let too_large = || SkypeError::Protocol(format!("answer larger than {cap} bytes"));
    let announced = response.content_length().unwrap_or(0);
    if announced > cap as u64 {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(announced as usize);
    while let Some(chunk) = response.chunk().await? {
        if chunk.len() > cap - body.len() {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A body as text (invalid UTF-8 replaced), at most `cap` bytes.
pub(crate) async fn read_text(response: Response, cap: usize) -> Result<String, SkypeError> {
    let body = read_body(response, cap).await?;
    Ok(String::from_utf8(body)
        .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned()))
}

/// The first `cap` bytes of a body, or fewer if it breaks off: for error
/// answers, whose status already says what happened.
async fn read_prefix(mut response: Response, cap: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < cap {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let take = chunk.len().min(cap - body.len());
                body.extend_from_slice(&chunk[..take]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    body
}

/// Maps a failed answer to what the caller should do about it
/// (docs/skype-protocol.md §9).
pub(crate) fn classify(
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &str,
    auth: Auth,
) -> SkypeError {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let error_code = json.get("errorCode").and_then(Value::as_u64);
    let status_code = json.pointer("/status/code").and_then(Value::as_u64);
    let skype_token_expired = status_code == Some(40160) || body.contains("Skypetoken has expired");
    let token_mismatch = body.contains("registration token does not match");
    match (status.as_u16(), auth) {
        (429, Auth::Login) => SkypeError::LoginRateLimited { retry_after },
        (429, _) if error_code == Some(803) => SkypeError::LoginRateLimited { retry_after },
        (429, _) => SkypeError::RateLimited { retry_after },
        (401, _) if skype_token_expired => SkypeError::SkypeTokenRejected,
        (401, Auth::SkypeToken) => SkypeError::SkypeTokenRejected,
        (401, Auth::Registration) => SkypeError::RegistrationRejected,
        (403 | 404, Auth::Registration) if error_code == Some(729) || token_mismatch => {
            SkypeError::RegistrationRejected
        }
        (500..=599, _) => SkypeError::Unavailable {
            status: status.as_u16(),
        },
        (code, _) => SkypeError::Rejected {
            status: code,
            message: explanation(&json, body),
        },
    }
}

/// Skype's own words for a failure, whatever shape it used, kept short.
fn explanation(json: &Value, body: &str) -> String {
    let text = json
        .get("message")
        .or_else(|| json.pointer("/status/text"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| body.trim().to_string());
    let mut text: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    if text.is_empty() {
        text = "no explanation given".into();
    }
    text
}

/// `Retry-After` in seconds (the form Skype used).
fn retry_after(response: &Response) -> Option<Duration> {
    response
        .headers()
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// Reads a JSON body (at most [`MAX_ANSWER_BYTES`]), or says what was wrong with it.
pub(crate) async fn json_body(response: Response, what: &str) -> Result<Value, SkypeError> {
    let body = read_body(response, MAX_ANSWER_BYTES).await?;
    serde_json::from_slice(&body).map_err(|_| SkypeError::Protocol(format!("{what} is not JSON")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> StatusCode {
        StatusCode::from_u16(code).unwrap()
    }

    fn response(code: u16, body: &str) -> Response {
        Response::from(
            http::Response::builder()
                .status(code)
                .body(body.to_string())
                .unwrap(),
        )
    }

    #[tokio::test]
    async fn bodies_are_read_up_to_the_cap_and_no_further() {
        assert_eq!(read_body(response(200, "0123"), 4).await.unwrap(), b"0123");
        assert_eq!(read_text(response(200, "ab"), 4).await.unwrap(), "ab");
        assert_eq!(
            read_body(response(200, "01234"), 4).await.unwrap_err(),
            SkypeError::Protocol("answer larger than 4 bytes".into())
        );
        assert_eq!(read_prefix(response(500, "0123456789"), 4).await, b"0123");
        assert_eq!(read_prefix(response(500, "01"), 4).await, b"01");
    }

    #[tokio::test]
    async fn redirects_and_long_error_bodies_are_typed() {
        let err = check(response(302, ""), Auth::Registration)
            .await
            .unwrap_err();
        assert_eq!(err, redirect_error(status(302)));
        assert!(err.to_string().contains("redirect (HTTP 302)"));
        let long = format!(
            r#"{{"errorCode":803,"message":"Login Rate limit exceeded"}}{}"#,
            " ".repeat(10 * ERROR_BODY_BYTES)
        );
        // Only the start is read; it still says what happened.
        assert!(matches!(
            check(response(429, &long), Auth::SkypeToken).await,
            Err(SkypeError::LoginRateLimited { .. })
        ));
    }

    #[test]
    fn maps_the_errors_the_real_service_gave() {
        let expired = r#"{"status":{"code":40160,"text":"Skypetoken has expired at 2026"}}"#;
        assert_eq!(
            classify(status(401), None, expired, Auth::Registration),
            SkypeError::SkypeTokenRejected
        );
        let missing_endpoint = r#"{"errorCode":729,"message":"You must create an endpoint before performing this operation."}"#;
        assert_eq!(
            classify(status(404), None, missing_endpoint, Auth::Registration),
            SkypeError::RegistrationRejected
        );
        assert_eq!(
            classify(status(401), None, "", Auth::Registration),
            SkypeError::RegistrationRejected
        );
        assert_eq!(
            classify(
                status(403),
                None,
                "The content in the registration token does not match",
                Auth::Registration
            ),
            SkypeError::RegistrationRejected
        );
        let login_limit = r#"{"errorCode":803,"message":"Login Rate limit exceeded"}"#;
        assert_eq!(
            classify(
                status(429),
                Some(Duration::from_secs(300)),
                login_limit,
                Auth::SkypeToken
            ),
            SkypeError::LoginRateLimited {
                retry_after: Some(Duration::from_secs(300))
            }
        );
        let command_limit =
            r#"{"errorCode":800,"message":"Command Rate limit exceeded Throttling command"}"#;
        assert_eq!(
            classify(
                status(429),
                Some(Duration::from_secs(2)),
                command_limit,
                Auth::Registration
            ),
            SkypeError::RateLimited {
                retry_after: Some(Duration::from_secs(2))
            }
        );
        assert_eq!(
            classify(status(503), None, "<html>", Auth::Registration),
            SkypeError::Unavailable { status: 503 }
        );
        let quarantine = r#"{"errorCode":804,"message":"Quarantine limit Exceeded"}"#;
        assert_eq!(
            classify(status(403), None, quarantine, Auth::SkypeToken),
            SkypeError::Rejected {
                status: 403,
                message: "Quarantine limit Exceeded".into()
            }
        );
        // An unknown message id is not a stale registration.
        assert!(matches!(
            classify(
                status(404),
                None,
                r#"{"message":"not found"}"#,
                Auth::Registration
            ),
            SkypeError::Rejected { status: 404, .. }
        ));
    }
}
