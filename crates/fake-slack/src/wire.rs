//! How a method's parameters are read from a request ([`Params`], with Slack's rules on
//! content types and field types), Slack's answer shapes and its
//! timestamps.

use serde_json::{Map, Value, json};

pub(crate) use fake_http::{Req, Resp};

/// A `Content-Type` split into its media type (lower-cased) and `charset`.
pub(crate) struct ContentType {
    pub media: String,
    pub charset: Option<String>,
}

impl ContentType {
    pub fn parse(value: &str) -> ContentType {
        let mut parts = value.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let charset = parts
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
            .map(|(_, v)| v.trim().trim_matches('"').to_ascii_lowercase());
        ContentType { media, charset }
    }
}

/// Why a method refused: Slack's `error` code, and the
/// `response_metadata.messages` that say where (newer methods and Block
/// Kit give them).
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub code: &'static str,
    pub messages: Vec<String>,
}

impl Refusal {
    pub fn new(code: &'static str) -> Refusal {
        Refusal {
            code,
            messages: Vec::new(),
        }
    }

    pub fn with(code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            messages: vec![message.into()],
        }
    }
}

/// `invalid_arguments` naming the field, as Slack's newer methods answer.
pub(crate) fn invalid_argument(what: &str, field: &str) -> Refusal {
    Refusal::with(
        "invalid_arguments",
        format!("[ERROR] {what} [json-pointer:/{field}]"),
    )
}

/// A method's outcome: the fields of `{"ok": true, ...}` or a refusal.
pub(crate) type Outcome = Result<Map<String, Value>, Refusal>;

/// HTTP 200 with `{"ok": true, ...}` or `{"ok": false, "error": ...}`, and
/// the warnings Slack adds (`missing_charset`, `superfluous_charset`) both
/// as `warning` and in `response_metadata.warnings`.
pub(crate) fn answer(outcome: Outcome, warnings: &[&'static str]) -> Resp {
    let mut body = Map::new();
    let mut metadata = Map::new();
    match outcome {
        Ok(fields) => {
            body.insert("ok".into(), Value::Bool(true));
            body.extend(fields);
        }
        Err(refusal) => {
            body.insert("ok".into(), Value::Bool(false));
            body.insert("error".into(), Value::String(refusal.code.to_string()));
            if !refusal.messages.is_empty() {
                metadata.insert("messages".into(), json!(refusal.messages));
            }
        }
    }
    if !warnings.is_empty() {
        body.insert("warning".into(), Value::String(warnings.join(",")));
        metadata.insert("warnings".into(), json!(warnings));
    }
    if !metadata.is_empty() {
        match body.get_mut("response_metadata") {
            Some(Value::Object(existing)) => existing.extend(metadata),
            _ => {
                body.insert("response_metadata".into(), Value::Object(metadata));
            }
        }
    }
    Resp::json_utf8(200, &Value::Object(body))
}

/// `{"ok": false, "error": code}` with another status (404, 405, 429).
pub(crate) fn error_status(status: u16, code: &str) -> Resp {
    Resp::json_utf8(status, &json!({"ok": false, "error": code}))
}

/// One parameter as it arrived: a string (query, form) or a JSON value.
pub(crate) enum Raw<'a> {
    Str(&'a str),
    Json(&'a Value),
}

/// A method's parameters: query string and form fields, or a JSON body.
pub(crate) struct Params {
    /// Query string then form fields, in arrival order.
    pub fields: Vec<(String, String)>,
    /// The JSON body, when the method takes JSON and one came.
    pub json: Option<Map<String, Value>>,
    /// Warnings for the answer.
    pub warnings: Vec<&'static str>,
}

impl Params {
    /// A parameter: the JSON body's field first, else the last form or
    /// query field of that name.
    pub fn raw(&self, name: &str) -> Option<Raw<'_>> {
        if let Some(value) = self.json.as_ref().and_then(|j| j.get(name)) {
            return Some(Raw::Json(value));
        }
        self.fields
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| Raw::Str(v.as_str()))
    }

    /// A field only forms and query strings may carry (`token`).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A string parameter; in JSON it must be a string (or `null`).
    pub fn string(&self, name: &str) -> Result<Option<String>, Refusal> {
        match self.raw(name) {
            None | Some(Raw::Json(Value::Null)) => Ok(None),
            Some(Raw::Str(s)) => Ok(Some(s.to_string())),
            Some(Raw::Json(Value::String(s))) => Ok(Some(s.clone())),
            Some(Raw::Json(_)) => Err(invalid_argument("must be a string", name)),
        }
    }

    /// A non-empty string parameter.
    pub fn non_empty(&self, name: &str) -> Result<Option<String>, Refusal> {
        Ok(self.string(name)?.filter(|s| !s.is_empty()))
    }

    /// A boolean: `true`/`false`/`1`/`0` in a form, a JSON boolean in JSON.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, Refusal> {
        match self.raw(name) {
            None | Some(Raw::Json(Value::Null)) => Ok(None),
            Some(Raw::Json(Value::Bool(b))) => Ok(Some(*b)),
            Some(Raw::Str(s)) => match s.to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(Some(true)),
                "false" | "0" => Ok(Some(false)),
                _ => Err(invalid_argument("must be a boolean", name)),
            },
            Some(Raw::Json(_)) => Err(invalid_argument("must be a boolean", name)),
        }
    }

    /// A non-negative integer: digits in a form, a JSON integer in JSON.
    pub fn integer(&self, name: &str) -> Result<Option<u64>, Refusal> {
        match self.raw(name) {
            None | Some(Raw::Json(Value::Null)) => Ok(None),
            Some(Raw::Str(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s
                .parse()
                .map(Some)
                .map_err(|_| invalid_argument("must be an integer", name)),
            Some(Raw::Json(Value::Number(n))) if n.as_u64().is_some() => Ok(n.as_u64()),
            _ => Err(invalid_argument("must be an integer", name)),
        }
    }

    /// A structured parameter (`blocks`, `metadata`, `files`): a JSON
    /// string in a form, JSON itself in a JSON body (a JSON *string* there
    /// is refused with `code`, as is a form value that is not JSON).
    pub fn structured(&self, name: &str, code: &'static str) -> Result<Option<Value>, Refusal> {
        match self.raw(name) {
            None | Some(Raw::Json(Value::Null)) => Ok(None),
            Some(Raw::Str(s)) => serde_json::from_str(s).map(Some).map_err(|_| {
                Refusal::with(
                    code,
                    format!("[ERROR] `{name}` is not valid JSON [json-pointer:/{name}]"),
                )
            }),
            Some(Raw::Json(Value::String(_))) => Err(Refusal::with(
                code,
                format!(
                    "[ERROR] `{name}` must be JSON, not a string, in a JSON body [json-pointer:/{name}]"
                ),
            )),
            Some(Raw::Json(value)) => Ok(Some(value.clone())),
        }
    }

    /// The parameters as one JSON object (form fields as strings), the
    /// token left out: what a stored message keeps as its `body`.
    pub fn as_json(&self) -> Value {
        let mut object = Map::new();
        for (name, value) in &self.fields {
            if name != "token" {
                object.insert(name.clone(), Value::String(value.clone()));
            }
        }
        if let Some(json) = &self.json {
            object.extend(json.clone());
        }
        Value::Object(object)
    }
}

/// Read the parameters of an API call by Slack's rules: the query string
/// always; a POST body as a form (`application/x-www-form-urlencoded`,
/// `multipart/form-data`) or, when the method takes it, JSON
/// (`application/json`); a JSON body to a method that does not take JSON
/// is ignored, as Slack ignores it (so its required fields are missing).
pub(crate) async fn read_params(req: &Req, accepts_json: bool) -> Result<Params, Refusal> {
    let mut params = Params {
        fields: req
            .query
            .as_deref()
            .and_then(|q| serde_urlencoded::from_str(q).ok())
            .unwrap_or_default(),
        json: None,
        warnings: Vec::new(),
    };
    if req.method != "POST" {
        return Ok(params);
    }
    let Some(content_type) = req.header("content-type") else {
        return if req.body.is_empty() {
            Ok(params)
        } else {
            Err(Refusal::new("missing_post_type"))
        };
    };
    let content_type = ContentType::parse(content_type);
    match content_type.charset.as_deref() {
        None | Some("utf-8") | Some("utf8") | Some("iso-8859-1") => {}
        Some(_) => return Err(Refusal::new("invalid_charset")),
    }
    match content_type.media.as_str() {
        "application/x-www-form-urlencoded" => {
            if content_type.charset.is_some() {
                params.warnings.push("superfluous_charset");
            }
            let form: Vec<(String, String)> = std::str::from_utf8(&req.body)
                .ok()
                .and_then(|body| serde_urlencoded::from_str(body).ok())
                .ok_or_else(|| Refusal::new("invalid_form_data"))?;
            params.fields.extend(form);
        }
        "multipart/form-data" => {
            let parts = multipart(req)
                .await
                .ok_or_else(|| Refusal::new("invalid_form_data"))?;
            for part in parts {
                if part.filename.is_none() {
                    let value = String::from_utf8(part.bytes)
                        .map_err(|_| Refusal::new("invalid_form_data"))?;
                    params.fields.push((part.name, value));
                }
            }
        }
        "application/json" => {
            if content_type.charset.is_none() {
                params.warnings.push("missing_charset");
            }
            if accepts_json {
                let value: Value =
                    serde_json::from_slice(&req.body).map_err(|_| Refusal::new("invalid_json"))?;
                match value {
                    Value::Object(object) => params.json = Some(object),
                    _ => return Err(Refusal::new("json_not_object")),
                }
            }
        }
        // Slack accepts the type and reads no parameters from it.
        "text/plain" => {}
        _ => return Err(Refusal::new("invalid_post_type")),
    }
    Ok(params)
}

/// One part of a `multipart/form-data` body.
pub(crate) struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub bytes: Vec<u8>,
}

/// The parts of a `multipart/form-data` body; `None` when it is not one.
pub(crate) async fn multipart(req: &Req) -> Option<Vec<Part>> {
    let boundary = multer::parse_boundary(req.header("content-type")?).ok()?;
    let body = req.body.clone();
    let stream = futures_util::stream::once(async move { Ok::<Vec<u8>, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut parts = Vec::new();
    while let Some(field) = multipart.next_field().await.ok()? {
        let name = field.name()?.to_string();
        let filename = field.file_name().map(str::to_string);
        let bytes = field.bytes().await.ok()?.to_vec();
        parts.push(Part {
            name,
            filename,
            bytes,
        });
    }
    Some(parts)
}

/// A Slack timestamp (`1700000000.000100`, or whole seconds) in
/// microseconds; `None` when it is not one.
pub(crate) fn parse_ts(ts: &str) -> Option<u128> {
    let (secs, micros) = ts.split_once('.').unwrap_or((ts, ""));
    if secs.is_empty()
        || !secs.bytes().all(|b| b.is_ascii_digit())
        || micros.len() > 6
        || !micros.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let secs: u128 = secs.parse().ok()?;
    let micros: u128 = if micros.is_empty() {
        0
    } else {
        format!("{micros:0<6}").parse().ok()?
    };
    Some(secs * 1_000_000 + micros)
}
