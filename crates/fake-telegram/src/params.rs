//! A method's parameters, from wherever the Bot API takes them: the query
//! string, then an `application/x-www-form-urlencoded`, `application/json`
//! or `multipart/form-data` body (later ones win). Form and multipart
//! values are strings, object parameters among them JSON-serialized; JSON
//! bodies carry typed values and objects. The accessors accept both, as the
//! service does, and nothing else.

use std::collections::BTreeMap;
use std::convert::Infallible;

use axum::body::Bytes;
use serde_json::{Map, Value};

use super::METHODS;
use super::wire::{Req, Resp, bad_request};

/// A file part of a multipart body (a part with a `filename`).
pub(crate) struct Upload {
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// The parameters of one request.
#[derive(Default)]
pub(crate) struct Params {
    values: BTreeMap<String, Value>,
    files: BTreeMap<String, Upload>,
}

/// The bot id of a token (`<id>:<secret>`), when it has that shape.
pub(crate) fn token_bot_id(token: &str) -> Option<i64> {
    let (id, secret) = token.split_once(':')?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) || secret.is_empty() {
        return None;
    }
    id.parse().ok().filter(|id| *id > 0)
}

/// The documented spelling of a method name given in any case.
pub(crate) fn canonical_method(name: &str) -> Option<&'static str> {
    METHODS
        .iter()
        .copied()
        .find(|m| m.eq_ignore_ascii_case(name))
}

impl Params {
    /// Read the query string and the body.
    pub async fn parse(req: &Req) -> Result<Params, Resp> {
        let mut params = Params::default();
        if let Some(query) = &req.query {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
                .map_err(|_| bad_request("can't parse query string"))?;
            params.add_strings(pairs);
        }
        if req.body.is_empty() {
            return Ok(params);
        }
        match req.media_type().as_deref() {
            Some("application/x-www-form-urlencoded") => {
                let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&req.body)
                    .map_err(|_| bad_request("can't parse form body"))?;
                params.add_strings(pairs);
            }
            Some("application/json") => {
                let value: Value = serde_json::from_slice(&req.body)
                    .map_err(|_| bad_request("can't parse JSON object"))?;
                let Value::Object(object) = value else {
                    return Err(bad_request("can't parse JSON object"));
                };
                params.values.extend(object);
            }
            Some("multipart/form-data") => params.add_multipart(req).await?,
            // Other bodies are not parameters: the method then finds its
            // parameters missing, as on the real service.
            _ => {}
        }
        Ok(params)
    }

    fn add_strings(&mut self, pairs: Vec<(String, String)>) {
        for (name, value) in pairs {
            self.values.insert(name, Value::String(value));
        }
    }

    async fn add_multipart(&mut self, req: &Req) -> Result<(), Resp> {
        let broken = || bad_request("can't parse multipart/form-data body");
        let content_type = req.header("content-type").unwrap_or("");
        let boundary = multer::parse_boundary(content_type).map_err(|_| broken())?;
        let body = Bytes::from(req.body.clone());
        let stream = futures_util::stream::once(async move { Ok::<Bytes, Infallible>(body) });
        let mut multipart = multer::Multipart::new(stream, boundary);
        while let Some(field) = multipart.next_field().await.map_err(|_| broken())? {
            let Some(name) = field.name().map(str::to_string) else {
                return Err(broken());
            };
            let filename = field.file_name().map(str::to_string);
            let content_type = field.content_type().map(|m| m.to_string());
            let bytes = field.bytes().await.map_err(|_| broken())?.to_vec();
            match filename {
                Some(filename) => {
                    self.files.insert(
                        name,
                        Upload {
                            filename: Some(filename),
                            content_type,
                            bytes,
                        },
                    );
                }
                None => {
                    let text = String::from_utf8(bytes).map_err(|_| broken())?;
                    self.values.insert(name, Value::String(text));
                }
            }
        }
        Ok(())
    }

    /// A parameter as text; `None` when absent or empty (the service does
    /// not tell them apart). Numbers and booleans of JSON bodies read as
    /// their text, objects as their JSON.
    pub fn str(&self, name: &str) -> Option<String> {
        let text = match self.values.get(name)? {
            Value::Null => return None,
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        (!text.is_empty()).then_some(text)
    }

    /// An integer parameter; a value that is not one is refused.
    pub fn int(&self, name: &str) -> Result<Option<i64>, Resp> {
        match self.values.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| bad_request(&format!("invalid {name} specified"))),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| bad_request(&format!("invalid {name} specified"))),
            Some(_) => Err(bad_request(&format!("invalid {name} specified"))),
        }
    }

    /// A boolean parameter (`true`/`1` or JSON `true`).
    pub fn bool(&self, name: &str) -> bool {
        match self.values.get(name) {
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) => n.as_i64() == Some(1),
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true") || s == "1",
            _ => false,
        }
    }

    /// An object parameter: an object in a JSON body, JSON-serialized text
    /// elsewhere. Anything else is refused with `Bad Request: {refusal}`.
    pub fn object(&self, name: &str, refusal: &str) -> Result<Option<Map<String, Value>>, Resp> {
        match self.values.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(object)) => Ok(Some(object.clone())),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => match serde_json::from_str(s) {
                Ok(Value::Object(object)) => Ok(Some(object)),
                _ => Err(bad_request(refusal)),
            },
            Some(_) => Err(bad_request(refusal)),
        }
    }

    /// An array parameter (`entities`, `caption_entities`), same rules.
    pub fn array(&self, name: &str, refusal: &str) -> Result<Option<Vec<Value>>, Resp> {
        match self.values.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items.clone())),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => match serde_json::from_str(s) {
                Ok(Value::Array(items)) => Ok(Some(items)),
                _ => Err(bad_request(refusal)),
            },
            Some(_) => Err(bad_request(refusal)),
        }
    }

    /// The uploaded file of a parameter, if it came as a file part.
    pub fn take_file(&mut self, name: &str) -> Option<Upload> {
        self.files.remove(name)
    }
}
