//! The fake's own view of an HTTP exchange ([`Req`], [`Resp`]) and the small
//! encodings every handler needs: forms, queries, cookies, percent-decoding,
//! base64, XML escaping, dates and the two error-body styles.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::server::Host;

/// A received request, body already read, so handlers are plain functions.
pub(crate) struct Req {
    pub method: String,
    pub host: Host,
    pub path: String,
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    /// The first value of a header, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `Content-Type` without parameters, lower-cased.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
    }

    /// Require a `Content-Type` (parameters such as charset allowed).
    pub fn require_media_type(&self, expected: &str) -> Result<(), String> {
        match self.media_type() {
            Some(m) if m == expected => Ok(()),
            Some(m) => Err(format!("Content-Type must be {expected}, got {m}")),
            None => Err(format!("Content-Type must be {expected}, none sent")),
        }
    }

    /// The decoded query pairs.
    pub fn query_pairs(&self) -> Result<Vec<(String, String)>, String> {
        parse_urlencoded(self.query.as_deref().unwrap_or("").as_bytes())
    }

    /// The decoded form body pairs.
    pub fn form(&self) -> Result<Vec<(String, String)>, String> {
        parse_urlencoded(&self.body)
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Result<Value, String> {
        serde_json::from_slice(&self.body).map_err(|e| format!("body is not valid JSON: {e}"))
    }

    /// The cookies of the `Cookie` header(s), in order.
    pub fn cookies(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
            .flat_map(|(_, v)| v.split(';'))
            .filter_map(|c| {
                let (name, value) = c.trim().split_once('=')?;
                Some((name.trim().to_string(), value.trim().to_string()))
            })
            .collect()
    }
}

/// An answer, turned into an HTTP response by the server module.
#[derive(Debug)]
pub(crate) struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When set, the body is this many filler bytes, streamed instead of
    /// `body` (huge answers without holding them in memory).
    pub filler: Option<usize>,
}

impl Resp {
    pub fn empty(status: u16) -> Resp {
        Resp {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            filler: None,
        }
    }

    pub fn json(status: u16, value: &Value) -> Resp {
        Resp::empty(status)
            .header("Content-Type", "application/json; charset=utf-8")
            .body(value.to_string())
    }

    pub fn html(status: u16, page: String) -> Resp {
        Resp::empty(status)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(page)
    }

    pub fn xml(status: u16, document: String) -> Resp {
        Resp::empty(status)
            .header("Content-Type", "application/soap+xml; charset=utf-8")
            .body(document)
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Resp {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// A streamed body of `bytes` filler bytes (see [`Resp::filler`]).
    pub fn filler(mut self, bytes: usize) -> Resp {
        self.filler = Some(bytes);
        self
    }

    fn body(mut self, body: String) -> Resp {
        self.body = body.into_bytes();
        self
    }
}

/// A login/API-host error: `{"status":{"code":N,"text":"..."}}`.
pub(crate) fn status_error(http: u16, code: u32, text: &str) -> Resp {
    Resp::json(http, &json!({"status": {"code": code, "text": text}}))
}

/// A messaging/ASM-host error: `{"errorCode":N,"message":"..."}`.
pub(crate) fn msg_error(http: u16, code: u32, message: &str) -> Resp {
    Resp::json(http, &json!({"errorCode": code, "message": message}))
}

/// A plain 400 for a malformed messaging/ASM request.
pub(crate) fn bad_request(message: &str) -> Resp {
    msg_error(400, 400, message)
}

/// Decode `application/x-www-form-urlencoded` text (also query strings).
pub(crate) fn parse_urlencoded(raw: &[u8]) -> Result<Vec<(String, String)>, String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(raw)
        .map_err(|e| format!("malformed url-encoded data: {e}"))
}

/// Check that `pairs` hold exactly `names`, each once, and return them by
/// name: the real forms were fixed, and an extra or doubled field is a bug.
pub(crate) fn exact_fields<'a>(
    pairs: &'a [(String, String)],
    names: &[&str],
) -> Result<HashMap<&'a str, &'a str>, String> {
    let mut out = HashMap::new();
    for (name, value) in pairs {
        if !names.contains(&name.as_str()) {
            return Err(format!("unexpected field {name:?}"));
        }
        if out.insert(name.as_str(), value.as_str()).is_some() {
            return Err(format!("field {name:?} sent twice"));
        }
    }
    match names.iter().find(|n| !out.contains_key(**n)) {
        Some(missing) => Err(format!("missing field {missing:?}")),
        None => Ok(out),
    }
}

/// Percent-decode a path segment; `None` when it is not valid UTF-8.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|decoded| decoded.into_owned())
}

/// Standard base64 with padding.
pub(crate) fn base64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Escape text for XML/HTML content and double-quoted attributes.
pub(crate) fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for Unix milliseconds (message times).
pub(crate) fn iso8601_ms(ms: u64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_millis(time).to_string()
}

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds (the SOAP lifetimes, error texts).
pub(crate) fn iso8601(secs: u64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    humantime::format_rfc3339_seconds(time).to_string()
}
