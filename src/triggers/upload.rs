//! The body of `POST /send-file` (and the direct invocation's JSON form),
//! decoded into a checked [`Upload`]: the text fields beside one
//! [`Attachment`] whose size, shown name and kind (picture or file) are
//! settled here, once.
//!
//! Two shapes are read. `multipart/form-data` (what the original service's
//! `/send-image` callers sent): a `document` (or `file`) part, and either a
//! `data` part holding JSON or the same fields as text parts. Or JSON whose
//! `file` member carries the content in base64. Errors never quote the
//! file's content.

use std::convert::Infallible;

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

use super::payload::{MAX_BODY_BYTES, Payload};
use crate::domain::MAX_MESSAGE_CHARS;
use crate::domain::{Attachment, AttachmentError, MAX_FILE_BYTES};
use crate::error::{AppError, ErrorCode};

/// Largest upload body accepted: about Lambda's own request limit, so a
/// body that got this far is never cut off unnoticed.
pub const MAX_UPLOAD_BODY_BYTES: usize = 6 * 1024 * 1024;

/// The text fields of an upload: the name they are kept under, and the
/// names accepted for it.
const TEXT_FIELDS: [(&str, &[&str]); 5] = [
    ("channel", &["channel"]),
    ("caption", &["caption"]),
    ("API_KEY", &["API_KEY", "api_key"]),
    ("idempotency_key", &["idempotency_key"]),
    // The name to show, as the original `/send-image` callers gave it.
    ("img_name", &["img_name"]),
];

/// The members of the JSON form's `file` object.
const FILE_MEMBERS: [&str; 3] = ["name", "content_base64", "content_type"];

/// Base64 as people produce it: padded or not.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A decoded upload, ready to authenticate and send.
pub struct Upload {
    /// Only the text fields, each present if it was given: `channel`,
    /// `caption` (checked: at most 28000 characters), `API_KEY` (also read
    /// from `api_key`) and `idempotency_key`. The channel's presence is for
    /// the caller to check.
    pub fields: Payload,
    /// The file: at most [`MAX_FILE_BYTES`], not empty, its name safe to
    /// show, its kind decided.
    pub attachment: Attachment,
}

/// Leaves out the fields: they hold the API key.
impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("attachment", &self.attachment)
            .finish_non_exhaustive()
    }
}

/// Decodes a `multipart/form-data` body. `content_type` is the request's
/// header (it holds the boundary). A part over its limit is refused while
/// it is read, before it is kept whole.
pub async fn from_multipart(content_type: &str, body: Vec<u8>) -> Result<Upload, AppError> {
    if body.len() > MAX_UPLOAD_BODY_BYTES {
        return Err(body_too_large());
    }
    let boundary = multer::parse_boundary(content_type).map_err(|err| match err {
        multer::Error::NoBoundary => AppError::new(ErrorCode::InvalidBody,
            "the multipart/form-data Content-Type has no boundary: let the client (curl -F, a form library) write the header",
        ),
        _ => unsupported_media_type(),
    })?;
    let stream = futures_util::stream::once(async move { Ok::<_, Infallible>(body) });
    let mut multipart = multer::Multipart::with_constraints(stream, boundary, constraints());
    let mut form = Form::default();
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_string();
        match Part::named(&name) {
            Part::File => {
                if form.file.is_some() {
                    return Err(AppError::new(
                        ErrorCode::InvalidField,
                        "send exactly one file: this body has more than one document (or file) part",
                    ));
                }
                let name = field.file_name().map(str::to_string);
                let declared_type = field
                    .content_type()
                    .map(|mime| mime.essence_str().to_string());
                let bytes = field.bytes().await.map_err(malformed)?.into();
                form.file = Some(FilePart {
                    name,
                    declared_type,
                    bytes,
                });
            }
            Part::Data => {
                let bytes = field.bytes().await.map_err(malformed)?;
                form.add_data(&bytes)?;
            }
            Part::Text(kept) => {
                let bytes = field.bytes().await.map_err(malformed)?;
                let value = String::from_utf8(bytes.into()).map_err(|_| {
                    AppError::new(
                        ErrorCode::InvalidField,
                        format!("{name} is not valid UTF-8"),
                    )
                })?;
                form.add(Payload::from_form(vec![(kept.to_string(), value)])?)?;
            }
            Part::Unknown => {
                let shown = if name.is_empty() {
                    "(a part without a name)".to_string()
                } else {
                    format!("{:?}", printable(&name))
                };
                return Err(AppError::new(
                    ErrorCode::InvalidField,
                    format!(
                        "unknown part {shown}: the parts are document (or file), data, channel, caption, API_KEY, idempotency_key and img_name"
                    ),
                ));
            }
        }
    }
    form.finish()
}

/// The file of a JSON payload's `file` member
/// (`{"name", "content_base64", "content_type"}`), `None` when there is
/// none. Also checks the caption, as [`from_multipart`] does.
pub fn from_json(payload: &Payload) -> Result<Option<Attachment>, AppError> {
    check_caption(payload)?;
    let file = match &payload.file {
        None => return Ok(None),
        Some(Value::Object(file)) => file,
        Some(_) => {
            return Err(AppError::new(
                ErrorCode::InvalidField,
                "file must be an object like {\"name\": \"report.pdf\", \"content_base64\": \"...\"}",
            ));
        }
    };
    if let Some(unknown) = file
        .keys()
        .find(|key| !FILE_MEMBERS.contains(&key.as_str()))
    {
        return Err(AppError::new(
            ErrorCode::InvalidField,
            format!(
                "file.{} is not a member we know: use name, content_base64 and content_type",
                printable(unknown)
            ),
        ));
    }
    let encoded = member_text(file, "content_base64")?.ok_or_else(|| {
        AppError::new(
            ErrorCode::MissingFile,
            "file.content_base64 is missing: put the file's content there, base64-encoded",
        )
    })?;
    let bytes = decode_base64(encoded)?;
    Attachment::parse(
        member_text(file, "name")?,
        member_text(file, "content_type")?,
        bytes,
    )
    .map(Some)
    .map_err(AppError::from)
}

/// A whole JSON upload (a direct invocation's payload): the file is
/// required, and the fields keep only the text ones (not the base64).
pub fn upload_from_json(payload: &Payload) -> Result<Upload, AppError> {
    let attachment = from_json(payload)?.ok_or_else(missing_file)?;
    Ok(Upload {
        fields: text_fields(payload),
        attachment,
    })
}

/// A JSON request body (`Content-Type: application/json` over HTTP).
pub fn from_json_body(body: &[u8]) -> Result<Upload, AppError> {
    if body.len() > MAX_UPLOAD_BODY_BYTES {
        return Err(body_too_large());
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|err| invalid_json("the body", &err))?;
    if !value.is_object() {
        return Err(AppError::new(
            ErrorCode::InvalidJson,
            "the body must be a JSON object like {\"channel\": \"...\", \"file\": {\"name\": \"report.pdf\", \"content_base64\": \"...\"}}",
        ));
    }
    upload_from_json(&Payload::from_json(value)?)
}

/// What a multipart part is, by its name.
enum Part {
    /// `document`, or its alias `file`.
    File,
    /// JSON holding the text fields.
    Data,
    /// One text field, by the name it is kept under.
    Text(&'static str),
    /// Anything else.
    Unknown,
}

impl Part {
    fn named(name: &str) -> Self {
        match name {
            "document" | "file" => Self::File,
            "data" => Self::Data,
            _ => TEXT_FIELDS
                .iter()
                .find(|(_, names)| names.contains(&name))
                .map_or(Self::Unknown, |(kept, _)| Self::Text(kept)),
        }
    }
}

/// The multipart parts read so far.
#[derive(Default)]
struct Form {
    fields: Payload,
    file: Option<FilePart>,
}

/// The file part as sent; checked once the form is read, since a `data`
/// part after it may name it (`img_name`).
struct FilePart {
    name: Option<String>,
    declared_type: Option<String>,
    bytes: Vec<u8>,
}

impl Form {
    /// Takes the text fields of one part (or of the `data` part); a field
    /// given twice is refused rather than one of them silently kept.
    fn add(&mut self, part: Payload) -> Result<(), AppError> {
        let part = text_fields(&part);
        let fields = &mut self.fields;
        put("channel", &mut fields.channel, part.channel)?;
        put("caption", &mut fields.caption, part.caption)?;
        put("API_KEY", &mut fields.api_key, part.api_key)?;
        put(
            "idempotency_key",
            &mut fields.idempotency_key,
            part.idempotency_key,
        )?;
        put("img_name", &mut fields.img_name, part.img_name)
    }

    /// The `data` part: a JSON object whose text fields are taken (other
    /// members are ignored, as `/send-message` ignores them).
    fn add_data(&mut self, bytes: &[u8]) -> Result<(), AppError> {
        let value: Value =
            serde_json::from_slice(bytes).map_err(|err| invalid_json("the data part", &err))?;
        if !value.is_object() {
            return Err(AppError::new(
                ErrorCode::InvalidJson,
                "the data part must be a JSON object like {\"channel\": \"general\", \"caption\": \"...\"}",
            ));
        }
        self.add(Payload::from_json(value)?)
    }

    fn finish(self) -> Result<Upload, AppError> {
        let file = self.file.ok_or_else(missing_file)?;
        let name = self.fields.img_name.as_deref().or(file.name.as_deref());
        let attachment = Attachment::parse(name, file.declared_type.as_deref(), file.bytes)?;
        check_caption(&self.fields)?;
        Ok(Upload {
            fields: self.fields,
            attachment,
        })
    }
}

/// Sets a field of the form once.
fn put<T>(name: &str, kept: &mut Option<T>, given: Option<T>) -> Result<(), AppError> {
    match (kept.is_some(), given) {
        (_, None) => Ok(()),
        (true, Some(_)) => Err(AppError::new(
            ErrorCode::InvalidField,
            format!("{name} is given twice (in two parts, or in data and in a part)"),
        )),
        (false, given) => {
            *kept = given;
            Ok(())
        }
    }
}

/// Multer's limits: the file's, a text part's (a whole `/send-message`
/// body), and the body's.
fn constraints() -> multer::Constraints {
    let text_parts = TEXT_FIELDS
        .iter()
        .flat_map(|(_, names)| names.iter().copied())
        .chain(["data"]);
    let limits = text_parts.fold(
        multer::SizeLimit::new()
            .whole_stream(MAX_UPLOAD_BODY_BYTES as u64)
            .per_field(MAX_FILE_BYTES as u64),
        |limits, name| limits.for_field(name, MAX_BODY_BYTES as u64),
    );
    multer::Constraints::new().size_limit(limits)
}

/// Multer's failures, said without quoting the body.
fn malformed(err: multer::Error) -> AppError {
    match err {
        multer::Error::FieldSizeExceeded { field_name, .. } => {
            let name = field_name.unwrap_or_default();
            match Part::named(&name) {
                Part::File => file_too_large(),
                _ => AppError::new(
                    ErrorCode::BodyTooLarge,
                    format!("the {} part is larger than 256 KiB", printable(&name)),
                ),
            }
        }
        multer::Error::StreamSizeExceeded { .. } => body_too_large(),
        multer::Error::IncompleteFieldData { .. }
        | multer::Error::IncompleteHeaders
        | multer::Error::IncompleteStream => AppError::new(
            ErrorCode::InvalidBody,
            "the multipart body ends before its closing boundary: was it cut short?",
        ),
        multer::Error::ReadHeaderFailed(_)
        | multer::Error::DecodeHeaderName { .. }
        | multer::Error::DecodeHeaderValue { .. } => AppError::new(
            ErrorCode::InvalidBody,
            "the multipart body is malformed: a part's headers cannot be read",
        ),
        _ => AppError::new(ErrorCode::InvalidBody, "the multipart body is malformed"),
    }
}

/// Only the text fields of an upload: not the base64, not the rest.
fn text_fields(payload: &Payload) -> Payload {
    Payload {
        channel: payload.channel.clone(),
        caption: payload.caption.clone(),
        api_key: payload.api_key.clone(),
        idempotency_key: payload.idempotency_key.clone(),
        img_name: payload.img_name.clone(),
        ..Payload::default()
    }
}

fn check_caption(payload: &Payload) -> Result<(), AppError> {
    let chars = payload
        .caption
        .as_deref()
        .map_or(0, |caption| caption.chars().count());
    if chars > MAX_MESSAGE_CHARS {
        return Err(AppError::new(
            ErrorCode::CaptionTooLong,
            format!("caption is {chars} characters long; the limit is {MAX_MESSAGE_CHARS}"),
        ));
    }
    Ok(())
}

/// A string member of the `file` object; another type is an error.
fn member_text<'a>(file: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, AppError> {
    match file.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(AppError::new(
            ErrorCode::InvalidField,
            format!("file.{name} must be a string"),
        )),
    }
}

/// Base64 as `base64` prints it (line breaks and all), refused before
/// decoding when it cannot fit in [`MAX_FILE_BYTES`].
fn decode_base64(encoded: &str) -> Result<Vec<u8>, AppError> {
    let compact: Vec<u8> = encoded
        .bytes()
        .filter(|byte| !byte.is_ascii_whitespace())
        .collect();
    let most = base64::encoded_len(MAX_FILE_BYTES, true).unwrap_or(usize::MAX);
    if compact.len() > most {
        return Err(file_too_large());
    }
    BASE64.decode(&compact).map_err(|_| {
        AppError::new(
            ErrorCode::InvalidFile,
            "file.content_base64 is not valid base64 (standard alphabet: A-Z a-z 0-9 + /)",
        )
    })
}

/// A name from the request, safe to echo in a message.
fn printable(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(64).collect()
}

fn invalid_json(what: &str, err: &serde_json::Error) -> AppError {
    AppError::new(
        ErrorCode::InvalidJson,
        format!(
            "{what} is not valid JSON (line {}, column {})",
            err.line(),
            err.column()
        ),
    )
}

fn missing_file() -> AppError {
    AppError::new(
        ErrorCode::MissingFile,
        "no file: send it as a multipart part named document (curl -F document=@report.pdf), or as JSON {\"file\": {\"name\": \"report.pdf\", \"content_base64\": \"...\"}}",
    )
}

fn file_too_large() -> AppError {
    AttachmentError::TooLarge.into()
}

fn body_too_large() -> AppError {
    AppError::new(
        ErrorCode::BodyTooLarge,
        "the request body is larger than 6 MiB, the most Lambda takes",
    )
}

fn unsupported_media_type() -> AppError {
    AppError::new(
        ErrorCode::UnsupportedMediaType,
        "send multipart/form-data (curl -F document=@file) or JSON (application/json)",
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::domain::AttachmentKind;

    /// As curl 8 writes it.
    const BOUNDARY: &str = "------------------------d74496d66958873e";
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    fn header() -> String {
        format!("multipart/form-data; boundary={BOUNDARY}")
    }

    /// One part: `name`, an optional file name and type, the content.
    fn part(name: &str, file: Option<(&str, &str)>, content: &[u8]) -> Vec<u8> {
        let mut part = format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"");
        if let Some((file_name, content_type)) = file {
            part.push_str(&format!(
                "; filename=\"{file_name}\"\r\nContent-Type: {content_type}"
            ));
        }
        part.push_str("\r\n\r\n");
        let mut part = part.into_bytes();
        part.extend_from_slice(content);
        part.extend_from_slice(b"\r\n");
        part
    }

    fn body(parts: &[Vec<u8>]) -> Vec<u8> {
        let mut body = parts.concat();
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        body
    }

    async fn decode(parts: &[Vec<u8>]) -> Result<Upload, AppError> {
        from_multipart(&header(), body(parts)).await
    }

    fn text<'a>(upload: &'a Upload, name: &'static str) -> Option<&'a str> {
        let fields = &upload.fields;
        match name {
            "channel" => fields.channel.as_ref().and_then(Value::as_str),
            "caption" => fields.caption.as_deref(),
            "API_KEY" => fields.api_key.as_deref(),
            "idempotency_key" => fields.idempotency_key.as_deref(),
            _ => unreachable!("not an upload field: {name}"),
        }
    }

    /// Nothing but the text fields was kept.
    fn only_text_fields(upload: &Upload) -> bool {
        let fields = &upload.fields;
        fields.msg.is_none()
            && fields.format.is_none()
            && fields.mentions.is_none()
            && fields.file.is_none()
    }

    fn json_fields(value: Value) -> Payload {
        Payload::from_json(value).unwrap()
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[track_caller]
    fn assert_error(result: Result<impl std::fmt::Debug, AppError>, status: u16, code: &str) {
        let err = result.unwrap_err();
        assert_eq!(
            (err.status, err.code.as_str()),
            (status, code),
            "{}",
            err.message
        );
    }

    #[tokio::test]
    async fn curl_document_and_data_json() {
        // curl -F document=@x.png -F 'data={"channel":"general"}'
        let mut body = b"--------------------------d74496d66958873e\r\n\
Content-Disposition: form-data; name=\"document\"; filename=\"x.png\"\r\n\
Content-Type: image/png\r\n\
\r\n"
            .to_vec();
        body.extend_from_slice(PNG);
        body.extend_from_slice(
            b"\r\n--------------------------d74496d66958873e\r\n\
Content-Disposition: form-data; name=\"data\"\r\n\
\r\n\
{\"channel\":\"general\"}\r\n\
--------------------------d74496d66958873e--\r\n",
        );
        let upload = from_multipart(&header(), body).await.unwrap();
        assert_eq!(upload.attachment.kind, AttachmentKind::Image);
        assert_eq!(upload.attachment.name, "x.png");
        assert_eq!(upload.attachment.bytes, PNG);
        assert_eq!(text(&upload, "channel"), Some("general"));
        assert_eq!(text(&upload, "caption"), None);
    }

    #[tokio::test]
    async fn data_json_carries_every_field() {
        let data = json!({
            "channel": "general", "caption": "the report", "API_KEY": "k-1",
            "idempotency_key": "once", "extra": 5,
        });
        let upload = decode(&[
            part("data", None, data.to_string().as_bytes()),
            part("document", Some(("r.pdf", "application/pdf")), b"%PDF-1.4"),
        ])
        .await
        .unwrap();
        assert_eq!(upload.attachment.kind, AttachmentKind::File);
        for (name, value) in [
            ("channel", "general"),
            ("caption", "the report"),
            ("API_KEY", "k-1"),
            ("idempotency_key", "once"),
        ] {
            assert_eq!(text(&upload, name), Some(value));
        }
        assert!(only_text_fields(&upload));
    }

    #[tokio::test]
    async fn fields_as_text_parts() {
        // curl -F document=@r.pdf -F channel=general -F caption=hi -F api_key=...
        let upload = decode(&[
            part("document", Some(("r.pdf", "application/pdf")), b"%PDF-1.4"),
            part("channel", None, b"general"),
            part("caption", None, "hé <b>hi</b>".as_bytes()),
            part("api_key", None, b"k-1"),
            part("idempotency_key", None, b"once"),
        ])
        .await
        .unwrap();
        assert_eq!(text(&upload, "channel"), Some("general"));
        assert_eq!(text(&upload, "caption"), Some("hé <b>hi</b>"));
        assert_eq!(text(&upload, "API_KEY"), Some("k-1"));
        assert_eq!(text(&upload, "idempotency_key"), Some("once"));
        assert_eq!(upload.attachment.name, "r.pdf");
    }

    #[tokio::test]
    async fn file_is_an_alias_of_document() {
        let upload = decode(&[
            part("channel", None, b"general"),
            part("file", Some(("notes.txt", "text/plain")), b"notes"),
        ])
        .await
        .unwrap();
        assert_eq!(upload.attachment.kind, AttachmentKind::File);
        assert_eq!(upload.attachment.name, "notes.txt");
        assert_eq!(upload.attachment.bytes, b"notes");
    }

    #[tokio::test]
    async fn a_part_without_a_file_name_is_called_file() {
        let upload = decode(&[part("document", None, b"plain text")])
            .await
            .unwrap();
        assert_eq!(
            (upload.attachment.name.as_str(), upload.attachment.kind),
            ("file", AttachmentKind::File)
        );
    }

    #[tokio::test]
    async fn a_picture_by_its_content_first() {
        for (name, declared) in [
            ("shot.bin", "application/octet"),
            ("shot.png", "application/octet"),
        ] {
            let png = decode(&[part("document", Some((name, declared)), PNG)])
                .await
                .unwrap();
            assert_eq!(png.attachment.kind, AttachmentKind::Image, "{name}");
        }
        let text = decode(&[part(
            "document",
            Some(("notes.txt", "application/octet-stream")),
            b"not a picture",
        )])
        .await
        .unwrap();
        assert_eq!(text.attachment.kind, AttachmentKind::File);
    }

    #[tokio::test]
    async fn unknown_parts_are_named() {
        let err = decode(&[
            part("document", Some(("a.txt", "text/plain")), b"a"),
            part("photo", None, b"b"),
        ])
        .await
        .unwrap_err();
        assert_eq!((err.status, err.code.as_str()), (400, "invalid_field"));
        assert!(err.message.contains("\"photo\""), "{}", err.message);
    }

    #[tokio::test]
    async fn missing_and_empty_files() {
        assert_error(
            decode(&[part("channel", None, b"general")]).await,
            400,
            "missing_file",
        );
        assert_error(
            decode(&[part("document", Some(("a.txt", "text/plain")), b"")]).await,
            400,
            "empty_file",
        );
    }

    #[tokio::test]
    async fn exactly_one_file() {
        let file = part("document", Some(("a.txt", "text/plain")), b"a");
        let alias = part("file", Some(("b.txt", "text/plain")), b"b");
        assert_error(
            decode(&[file.clone(), file.clone()]).await,
            400,
            "invalid_field",
        );
        assert_error(decode(&[file, alias]).await, 400, "invalid_field");
    }

    #[tokio::test]
    async fn a_field_given_twice_is_refused() {
        let file = part("document", Some(("a.txt", "text/plain")), b"a");
        let err = decode(&[
            file.clone(),
            part("data", None, br#"{"channel": "general"}"#),
            part("channel", None, b"random"),
        ])
        .await
        .unwrap_err();
        assert_eq!(err.code, "invalid_field");
        assert!(err.message.starts_with("channel is given twice"));
        assert_error(
            decode(&[
                file,
                part("API_KEY", None, b"a"),
                part("api_key", None, b"b"),
            ])
            .await,
            400,
            "invalid_field",
        );
    }

    #[tokio::test]
    async fn bad_data_and_text_parts() {
        let file = part("document", Some(("a.txt", "text/plain")), b"a");
        for data in [&b"{not json"[..], b"[1]", b"\"general\""] {
            assert_error(
                decode(&[file.clone(), part("data", None, data)]).await,
                400,
                "invalid_json",
            );
        }
        assert_error(
            // (`channel` is kept as given and checked with the request.)
            decode(&[file.clone(), part("data", None, br#"{"caption": 7}"#)]).await,
            400,
            "invalid_field",
        );
        assert_error(
            decode(&[file, part("channel", None, b"\xff\xfe")]).await,
            400,
            "invalid_field",
        );
    }

    #[tokio::test]
    async fn caption_at_most_28000_characters() {
        let file = part("document", Some(("a.txt", "text/plain")), b"a");
        let longest = "é".repeat(MAX_MESSAGE_CHARS);
        let upload = decode(&[file.clone(), part("caption", None, longest.as_bytes())])
            .await
            .unwrap();
        assert_eq!(text(&upload, "caption").map(str::len), Some(longest.len()));
        let over = "a".repeat(MAX_MESSAGE_CHARS + 1);
        assert_error(
            decode(&[file.clone(), part("caption", None, over.as_bytes())]).await,
            413,
            "caption_too_long",
        );
        let data = json!({"caption": over}).to_string();
        assert_error(
            decode(&[file, part("data", None, data.as_bytes())]).await,
            413,
            "caption_too_long",
        );
    }

    #[tokio::test]
    async fn file_size_limit_while_streaming() {
        let mut largest = PNG.to_vec();
        largest.resize(MAX_FILE_BYTES, 0);
        let upload = decode(&[part("document", Some(("big.png", "image/png")), &largest)])
            .await
            .unwrap();
        assert_eq!(upload.attachment.bytes.len(), MAX_FILE_BYTES);
        largest.push(0);
        let err = decode(&[part("file", Some(("big.png", "image/png")), &largest)])
            .await
            .unwrap_err();
        assert_eq!((err.status, err.code.as_str()), (413, "file_too_large"));
        assert!(err.message.contains("4194304"), "{}", err.message);
    }

    #[tokio::test]
    async fn text_parts_have_their_own_limit() {
        let file = part("document", Some(("a.txt", "text/plain")), b"a");
        let huge = vec![b' '; MAX_BODY_BYTES + 1];
        assert_error(
            decode(&[file, part("data", None, &huge)]).await,
            413,
            "body_too_large",
        );
    }

    #[tokio::test]
    async fn body_limit() {
        let body = vec![b'-'; MAX_UPLOAD_BODY_BYTES + 1];
        assert_error(from_multipart(&header(), body).await, 413, "body_too_large");
    }

    #[tokio::test]
    async fn content_type_must_be_multipart_with_a_boundary() {
        let body = body(&[part("document", Some(("a.txt", "text/plain")), b"a")]);
        assert_error(
            from_multipart("multipart/form-data", body.clone()).await,
            400,
            "invalid_body",
        );
        for content_type in ["application/json", "", "not a type"] {
            assert_error(
                from_multipart(content_type, body.clone()).await,
                415,
                "unsupported_media_type",
            );
        }
        // The quoted form works as well.
        let quoted = format!("multipart/form-data; boundary=\"{BOUNDARY}\"");
        assert!(from_multipart(&quoted, body).await.is_ok());
    }

    #[tokio::test]
    async fn a_body_cut_short_is_refused_without_quoting_it() {
        let full = body(&[
            part("channel", None, b"general"),
            part("document", Some(("a.txt", "text/plain")), b"SECRET-CONTENT"),
        ]);
        let cut = full
            .windows(7)
            .position(|window| window == b"CONTENT")
            .unwrap();
        let err = from_multipart(&header(), full[..cut].to_vec())
            .await
            .unwrap_err();
        assert_eq!((err.status, err.code.as_str()), (400, "invalid_body"));
        assert!(err.message.contains("cut short"), "{}", err.message);
        assert!(!err.message.contains("SECRET"));
        // Cut inside the part headers.
        let headers_cut = format!("--{BOUNDARY}\r\nContent-Disposition: form-da");
        assert_error(
            from_multipart(&header(), headers_cut.into_bytes()).await,
            400,
            "invalid_body",
        );
    }

    #[test]
    fn json_file() {
        let fields = json_fields(json!({
            "channel": "general",
            "caption": "the logo",
            "file": {"name": "logo.png", "content_base64": b64(PNG)},
        }));
        let attachment = from_json(&fields).unwrap().unwrap();
        assert_eq!(attachment.kind, AttachmentKind::Image);
        assert_eq!(attachment.name, "logo.png");
        assert_eq!(attachment.bytes, PNG);

        let typed = json_fields(json!({"file": {
            "name": "r.pdf", "content_type": "application/pdf",
            // As `base64` prints it: wrapped.
            "content_base64": "JVBERi0xLjQK\nJSDi48/T\n",
        }}));
        let attachment = from_json(&typed).unwrap().unwrap();
        assert_eq!(attachment.kind, AttachmentKind::File);
        assert_eq!(attachment.bytes, b"%PDF-1.4\n% \xe2\xe3\xcf\xd3");
        let unpadded = json_fields(json!({"file": {"content_base64": "YWI"}}));
        assert_eq!(from_json(&unpadded).unwrap().unwrap().bytes, b"ab");
    }

    #[test]
    fn json_without_a_file() {
        assert_eq!(
            from_json(&json_fields(json!({"channel": "general"}))).unwrap(),
            None
        );
        assert_eq!(
            from_json(&json_fields(json!({"file": null}))).unwrap(),
            None
        );
        let err = upload_from_json(&json_fields(json!({"channel": "general"}))).unwrap_err();
        assert_eq!(err.code, "missing_file");
    }

    #[test]
    fn json_errors() {
        let cases = [
            (json!({"file": "x.png"}), 400, "invalid_field"),
            (json!({"file": {"name": "x"}}), 400, "missing_file"),
            (json!({"file": {"content_base64": 5}}), 400, "invalid_field"),
            (
                json!({"file": {"content_base64": "YQ==", "name": ["x"]}}),
                400,
                "invalid_field",
            ),
            (
                json!({"file": {"content_base64": "YQ==", "content": "x"}}),
                400,
                "invalid_field",
            ),
            (json!({"file": {"content_base64": ""}}), 400, "empty_file"),
            (
                json!({"file": {"content_base64": "SECRET*content!"}}),
                400,
                "invalid_file",
            ),
            (
                json!({"file": {"content_base64": "YQ=="}, "caption": "a".repeat(MAX_MESSAGE_CHARS + 1)}),
                413,
                "caption_too_long",
            ),
        ];
        for (payload, status, code) in cases {
            let err = from_json(&json_fields(payload.clone())).unwrap_err();
            assert_eq!((err.status, err.code.as_str()), (status, code), "{payload}");
            assert!(!err.message.contains("SECRET"), "{}", err.message);
        }
    }

    #[test]
    fn json_file_size_limit() {
        let mut largest = vec![7u8; MAX_FILE_BYTES];
        let fields = json_fields(json!({"file": {"content_base64": b64(&largest)}}));
        assert_eq!(
            from_json(&fields).unwrap().unwrap().bytes.len(),
            MAX_FILE_BYTES
        );
        largest.push(7);
        let fields = json_fields(json!({"file": {"content_base64": b64(&largest)}}));
        assert_error(from_json(&fields), 413, "file_too_large");
    }

    #[test]
    fn json_body() {
        let body = json!({
            "channel": "general", "API_KEY": "k-1", "format": "plain",
            "file": {"name": "a.txt", "content_base64": b64(b"hello")},
        });
        let upload = from_json_body(body.to_string().as_bytes()).unwrap();
        assert_eq!(upload.attachment.bytes, b"hello");
        assert_eq!(text(&upload, "channel"), Some("general"));
        assert_eq!(text(&upload, "API_KEY"), Some("k-1"));
        // Only the text fields are kept: not the base64, not the rest.
        assert!(only_text_fields(&upload));
        let shown = format!("{upload:?}");
        assert!(
            !shown.contains("k-1") && !shown.contains("aGVsbG8"),
            "{shown}"
        );

        assert_error(from_json_body(b"{oops"), 400, "invalid_json");
        assert_error(from_json_body(b"[]"), 400, "invalid_json");
        assert_error(
            from_json_body(&vec![b' '; MAX_UPLOAD_BODY_BYTES + 1]),
            413,
            "body_too_large",
        );
    }

    #[tokio::test]
    async fn multipart_file_names_are_sanitized() {
        let upload = decode(&[part(
            "document",
            Some(("C:\\\\tmp\\\\..\\\\shot.png", "image/png")),
            PNG,
        )])
        .await
        .unwrap();
        assert_eq!(upload.attachment.name, "shot.png");
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(
            start in prop::sample::select(vec![
                String::new(),
                format!("--{BOUNDARY}\r\n"),
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"document\"; filename=\"x.png\"\r\n\r\n"),
            ]),
            rest in prop::collection::vec(any::<u8>(), 0..512),
        ) {
            let mut body = start.into_bytes();
            body.extend_from_slice(&rest);
            if let Err(err) = runtime().block_on(from_multipart(&header(), body)) {
                prop_assert!([400, 413].contains(&err.status), "{err:?}");
            }
        }

    }
}
