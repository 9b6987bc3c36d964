//! The error body of each service, and the small encodings the handlers
//! share (the exchange itself, [`Req`] and [`Resp`], is `fake_http`'s).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

pub(crate) use fake_http::{Req, Resp};

/// The Connector's error body: `{"error": {"code", "message"}}`.
pub(crate) fn connector_error(status: u16, code: &str, message: &str) -> Resp {
    Resp::json_utf8(
        status,
        &json!({"error": {"code": code, "message": message}}),
    )
}

/// A 400 `BadArgument`, the Connector's answer to a malformed request.
pub(crate) fn bad_argument(message: &str) -> Resp {
    connector_error(400, "BadArgument", message)
}

/// The web framework's own bodies in front of the Connector (401, 404,
/// 405, 415): a bare `{"message": ...}`.
pub(crate) fn framework_message(status: u16, message: &str) -> Resp {
    Resp::json_utf8(status, &json!({"message": message}))
}

/// What the Connector answers any request whose bearer token it refuses.
pub(crate) fn denied() -> Resp {
    framework_message(401, "Authorization has been denied for this request.")
}

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, the activities' timestamps.
pub(crate) fn iso8601_ms(ms: u64) -> String {
    let time = UNIX_EPOCH + Duration::from_millis(ms);
    humantime::format_rfc3339_millis(time).to_string()
}

/// `YYYY-MM-DD HH:MM:SSZ`, the token endpoint's error timestamps.
pub(crate) fn entra_timestamp(secs: u64) -> String {
    let time = UNIX_EPOCH + Duration::from_secs(secs);
    humantime::format_rfc3339_seconds(time)
        .to_string()
        .replacen('T', " ", 1)
}

/// A lower-case random (version 4) GUID.
pub(crate) fn guid() -> String {
    let h: String = std::iter::repeat_with(|| format!("{:02x}", fastrand::u8(..)))
        .take(16)
        .collect();
    let variant = ['8', '9', 'a', 'b'][fastrand::usize(..4)];
    format!(
        "{}-{}-4{}-{}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        variant,
        &h[17..20],
        &h[20..32]
    )
}

/// Percent-decode one path segment, as the Connector does before it looks
/// an id up; `None` when the escapes do not make UTF-8.
pub(crate) fn percent_decode(segment: &str) -> Option<String> {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .ok()
        .map(|decoded| decoded.into_owned())
}
