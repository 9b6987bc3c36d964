//! Reads a body the way Discord does: JSON, or `multipart/form-data` with
//! the JSON in a `payload_json` part and the files in `files[n]` parts.
//!
//! The multipart reading is stricter than Discord's in one way: a part
//! other than `payload_json` and `files[0]`..`files[9]` (say a bare
//! `content` text part, or a file named `file`) is refused with a 400,
//! so the adapter sticks to the documented form.

use std::convert::Infallible;

use serde_json::{Map, Value};

use super::wire::{self, Req, Resp};
use super::{MAX_FILE_BYTES, MAX_FILES};

/// One uploaded file, by its `files[n]` index.
pub(crate) struct Upload {
    pub index: usize,
    pub filename: String,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// A request body, read.
pub(crate) struct Payload {
    /// The JSON body (or `payload_json`); `{}` when there was none.
    pub json: Value,
    /// Uploaded files, in index order.
    pub files: Vec<Upload>,
}

/// Read the body of an execute or edit. A body that is neither JSON nor
/// multipart is read as no fields at all, as Discord ignores what it cannot
/// parse (an execute then meets `Cannot send an empty message`).
pub(crate) async fn parse(req: &Req) -> Result<Payload, Resp> {
    match req.media_type().as_deref() {
        Some("application/json") => Ok(Payload {
            json: parse_json(&req.body)?,
            files: Vec::new(),
        }),
        Some("multipart/form-data") => parse_multipart(req).await,
        _ => Ok(Payload {
            json: Value::Object(Map::new()),
            files: Vec::new(),
        }),
    }
}

fn parse_json(bytes: &[u8]) -> Result<Value, Resp> {
    serde_json::from_slice(bytes).map_err(|_| wire::invalid_json())
}

/// `files[n]` → `n`.
fn file_index(name: &str) -> Option<usize> {
    let digits = name.strip_prefix("files[")?.strip_suffix(']')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

async fn parse_multipart(req: &Req) -> Result<Payload, Resp> {
    let content_type = req.header("content-type").unwrap_or("");
    let boundary = multer::parse_boundary(content_type).map_err(|_| wire::http_error(400))?;
    let body = req.body.clone();
    let stream = futures_util::stream::once(async move { Ok::<_, Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut json = None;
    let mut files: Vec<Upload> = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| wire::http_error(400))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let filename = field.file_name().map(str::to_string);
        let content_type = field.content_type().map(|m| m.to_string());
        let bytes = field
            .bytes()
            .await
            .map_err(|_| wire::http_error(400))?
            .to_vec();
        if name == "payload_json" && filename.is_none() {
            if json.is_some() {
                return Err(wire::http_error(400));
            }
            json = Some(parse_json(&bytes)?);
            continue;
        }
        match (file_index(&name), filename) {
            (Some(index), Some(filename)) => {
                if files.iter().any(|f| f.index == index) {
                    return Err(wire::http_error(400));
                }
                if index >= MAX_FILES || files.len() >= MAX_FILES {
                    return Err(wire::form_error(
                        &["files"],
                        "BASE_TYPE_MAX_LENGTH",
                        &format!("Must be {MAX_FILES} or fewer in length."),
                    ));
                }
                if bytes.len() > MAX_FILE_BYTES {
                    return Err(wire::too_large());
                }
                files.push(Upload {
                    index,
                    filename,
                    content_type,
                    bytes,
                });
            }
            _ => return Err(wire::http_error(400)),
        }
    }
    files.sort_by_key(|f| f.index);
    Ok(Payload {
        json: json.unwrap_or_else(|| Value::Object(Map::new())),
        files,
    })
}
