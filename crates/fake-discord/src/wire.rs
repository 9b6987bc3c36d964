//! Discord's error bodies, and the small encodings the handlers share (snowflakes,
//! tokens, timestamps).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

pub(crate) use fake_http::{Req, Resp};

/// Discord's JSON error body: `{"message", "code"}`.
pub(crate) fn error(status: u16, code: u32, message: &str) -> Resp {
    Resp::json(status, &json!({"message": message, "code": code}))
}

/// The front end's own answers (`404: Not Found`, `405: Method Not
/// Allowed`, injected statuses): code 0.
pub(crate) fn http_error(status: u16) -> Resp {
    let reason = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    };
    error(status, 0, &format!("{status}: {reason}"))
}

pub(crate) fn unknown_webhook() -> Resp {
    error(404, 10015, "Unknown Webhook")
}

pub(crate) fn invalid_token() -> Resp {
    error(401, 50027, "Invalid Webhook Token")
}

pub(crate) fn unknown_message() -> Resp {
    error(404, 10008, "Unknown Message")
}

pub(crate) fn unknown_channel() -> Resp {
    error(400, 10003, "Unknown Channel")
}

pub(crate) fn empty_message() -> Resp {
    error(400, 50006, "Cannot send an empty message")
}

pub(crate) fn invalid_json() -> Resp {
    error(400, 50109, "The request body contains invalid JSON.")
}

pub(crate) fn too_large() -> Resp {
    error(413, 40005, "Request entity too large")
}

/// The `errors` tree of an `Invalid Form Body` answer: each failing field
/// under its JSON path (array indexes as keys), with `_errors` leaves.
#[derive(Default)]
pub(crate) struct FormErrors {
    tree: Map<String, Value>,
}

impl FormErrors {
    /// Add one error at `path` (empty: the body itself).
    pub fn add(&mut self, path: &[&str], code: &str, message: &str) {
        let mut node = &mut self.tree;
        for key in path {
            node = node
                .entry(key.to_string())
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .expect("error tree nodes are objects");
        }
        let leaf = node
            .entry("_errors")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(errors) = leaf {
            errors.push(json!({"code": code, "message": message}));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// 400 `{"code": 50035, "errors": {...}, "message": "Invalid Form Body"}`.
    pub fn into_resp(self) -> Resp {
        Resp::json(
            400,
            &json!({"code": 50035, "errors": self.tree, "message": "Invalid Form Body"}),
        )
    }
}

/// One error as a whole answer.
pub(crate) fn form_error(path: &[&str], code: &str, message: &str) -> Resp {
    let mut errors = FormErrors::default();
    errors.add(path, code, message);
    errors.into_resp()
}

/// Whether `s` reads as a snowflake (a decimal u64).
pub(crate) fn is_snowflake(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 20
        && s.bytes().all(|b| b.is_ascii_digit())
        && s.parse::<u64>().is_ok()
}

/// The 400 for a path or query id that is no snowflake.
pub(crate) fn not_snowflake(field: &str, value: &str) -> Resp {
    form_error(
        &[field],
        "NUMBER_TYPE_COERCE",
        &format!("Value \"{value}\" is not snowflake."),
    )
}

/// Discord's epoch (2015-01-01), the base of snowflake timestamps.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// A new snowflake after `last`: the time since Discord's epoch in the top
/// bits, made strictly increasing.
pub(crate) fn next_snowflake(last: u64) -> u64 {
    let now = now_ms().saturating_sub(DISCORD_EPOCH_MS) << 22;
    now.max(last + 1)
}

/// 68 random URL-safe characters, the shape of a webhook token.
pub(crate) fn new_token() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::iter::repeat_with(|| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .take(68)
        .collect()
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`, Discord's message timestamps.
pub(crate) fn timestamp() -> String {
    let time = UNIX_EPOCH + Duration::from_micros(now_ms() * 1000);
    let text = humantime::format_rfc3339_micros(time).to_string();
    format!("{}+00:00", text.trim_end_matches('Z'))
}

/// Seconds with three decimals, as the rate-limit headers write them.
pub(crate) fn secs3(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}
