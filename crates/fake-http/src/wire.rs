//! A fake's own view of an HTTP exchange: a request with its body already
//! read ([`Req`]) and the answer a handler builds ([`Resp`]).

use serde_json::Value;

/// The first value of a header in `headers`, case-insensitively.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The status an injected `Status` fault answers: itself when HTTP can
/// carry it, else 500 (a test's typo must not take the server down).
pub fn injected_status(status: u16) -> u16 {
    if (100..=999).contains(&status) {
        status
    } else {
        500
    }
}

/// A received request, body already read, so handlers are plain functions.
#[derive(Debug, Clone)]
pub struct Req {
    /// HTTP method.
    pub method: String,
    /// The raw (still percent-encoded) path.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// All headers, names lowercase, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl Req {
    /// The first value of a header, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
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

    /// The last value of a query parameter (the one services read); `None`
    /// also when the query string does not decode.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let pairs: Vec<(String, String)> = self
            .query
            .as_deref()
            .and_then(|q| serde_urlencoded::from_str(q).ok())
            .unwrap_or_default();
        pairs
            .into_iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

/// An answer, turned into an HTTP response by the server loop.
#[derive(Debug)]
pub struct Resp {
    /// The status (0 only for a dropped connection, never sent).
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Resp {
    /// A status without headers or body.
    pub fn empty(status: u16) -> Resp {
        Resp {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// JSON as `application/json`, as Discord and Telegram label it.
    pub fn json(status: u16, value: &Value) -> Resp {
        Resp::text(status, "application/json", &value.to_string())
    }

    /// JSON as `application/json; charset=utf-8`, as Microsoft's services
    /// and Slack label it.
    pub fn json_utf8(status: u16, value: &Value) -> Resp {
        Resp::text(
            status,
            "application/json; charset=utf-8",
            &value.to_string(),
        )
    }

    /// Any text with its `Content-Type`.
    pub fn text(status: u16, content_type: &str, text: &str) -> Resp {
        let mut resp = Resp::empty(status).header("Content-Type", content_type);
        resp.body = text.as_bytes().to_vec();
        resp
    }

    /// One more header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Resp {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// More headers, in order.
    pub fn headers(mut self, headers: Vec<(String, String)>) -> Resp {
        self.headers.extend(headers);
        self
    }
}
