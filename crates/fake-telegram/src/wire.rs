//! The Bot API's two answer shapes, and the small encodings the methods
//! share.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

pub(crate) use fake_http::{Req, Resp};

/// `{"ok": true, "result": ...}` with 200.
pub(crate) fn ok(result: Value) -> Resp {
    Resp::json(200, &json!({"ok": true, "result": result}))
}

/// `{"ok": false, "error_code": N, "description": ...}` with status `N`.
pub(crate) fn error(code: u16, description: &str) -> Resp {
    Resp::json(
        code,
        &json!({"ok": false, "error_code": code, "description": description}),
    )
}

/// 400 `Bad Request: {what}`, the answer to most refusals.
pub(crate) fn bad_request(what: &str) -> Resp {
    error(400, &format!("Bad Request: {what}"))
}

/// 403 `Forbidden: {what}`.
pub(crate) fn forbidden(what: &str) -> Resp {
    error(403, &format!("Forbidden: {what}"))
}

/// The flood-control answer: the description names the delay, and
/// `parameters.retry_after` (and the `Retry-After` header) carry it.
pub(crate) fn too_many_requests(retry_after: u64) -> Resp {
    Resp::json(
        429,
        &json!({
            "ok": false,
            "error_code": 429,
            "description": format!("Too Many Requests: retry after {retry_after}"),
            "parameters": {"retry_after": retry_after},
        }),
    )
    .header("Retry-After", retry_after.to_string())
}

/// The description the Bot API gives a bare status.
pub(crate) fn status_description(code: u16) -> &'static str {
    match code {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        413 => "Request Entity Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

/// Seconds since the Unix epoch (`date`, `edit_date`).
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A made-up opaque id in the shape of `file_id`s (URL-safe base64).
pub(crate) fn opaque_id(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..len)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect()
}
