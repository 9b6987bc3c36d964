//! Uploaded files: what the server checks of a photo (it must decode as an
//! image, within its size and shape limits), and the `Document` and
//! `PhotoSize` objects it answers.

use serde_json::{Value, json};

use super::state::StoredFile;
use super::wire::opaque_id;
use super::{MAX_PHOTO_BYTES, TelegramFile};

/// Why a photo is refused (the text after `Bad Request: `).
pub(crate) fn check_photo(bytes: &[u8]) -> Result<(u32, u32), &'static str> {
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err("PHOTO_SAVE_FILE_INVALID");
    }
    let (width, height) = image_size(bytes).ok_or("IMAGE_PROCESS_FAILED")?;
    let (small, large) = (width.min(height), width.max(height));
    // The documented limits: width + height at most 10000, ratio at most 20.
    if small == 0 || width + height > 10_000 || large > small * 20 {
        return Err("PHOTO_INVALID_DIMENSIONS");
    }
    Ok((width, height))
}

/// The pixel size of a JPEG, PNG, GIF or WebP image, read from its header;
/// `None` for anything else (or a header cut short).
fn image_size(b: &[u8]) -> Option<(u32, u32)> {
    let be16 = |i: usize| Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]) as u32);
    let le16 = |i: usize| Some(u16::from_le_bytes([*b.get(i)?, *b.get(i + 1)?]) as u32);
    let be32 = |i: usize| {
        Some(u32::from_be_bytes([
            *b.get(i)?,
            *b.get(i + 1)?,
            *b.get(i + 2)?,
            *b.get(i + 3)?,
        ]))
    };
    let le24 = |i: usize| {
        Some(u32::from_le_bytes([
            *b.get(i)?,
            *b.get(i + 1)?,
            *b.get(i + 2)?,
            0,
        ]))
    };
    if b.starts_with(b"\x89PNG\r\n\x1a\n") && b.get(12..16) == Some(b"IHDR") {
        return Some((be32(16)?, be32(20)?));
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        return Some((le16(6)?, le16(8)?));
    }
    if b.starts_with(b"\xff\xd8\xff") {
        // Walk the markers to the first start-of-frame.
        let mut i = 2;
        while i + 4 <= b.len() {
            if b[i] != 0xff {
                return None;
            }
            let marker = b[i + 1];
            if marker == 0xff {
                i += 1;
                continue;
            }
            let is_frame = (0xc0..=0xcf).contains(&marker) && !matches!(marker, 0xc4 | 0xc8 | 0xcc);
            if is_frame {
                return Some((be16(i + 7)?, be16(i + 5)?));
            }
            i += 2 + be16(i + 2)? as usize;
        }
        return None;
    }
    if b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WEBP") {
        return match b.get(12..16)? {
            b"VP8X" => Some((le24(24)? + 1, le24(27)? + 1)),
            b"VP8L" => {
                let bits = u32::from_le_bytes([*b.get(21)?, *b.get(22)?, *b.get(23)?, *b.get(24)?]);
                Some(((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1))
            }
            b"VP8 " => Some((le16(26)? & 0x3fff, le16(28)? & 0x3fff)),
            _ => None,
        };
    }
    None
}

/// Keep an upload with the ids the API answers for it.
pub(crate) fn store(file: TelegramFile, width: u32, height: u32) -> StoredFile {
    StoredFile {
        file,
        file_id: format!("BQACAgIAAxkBAA{}", opaque_id(52)),
        file_unique_id: format!("AgAD{}", opaque_id(12)),
        width,
        height,
    }
}

/// The API's `Document` object.
pub(crate) fn document_json(f: &StoredFile) -> Value {
    let mut value = json!({
        "file_id": f.file_id,
        "file_unique_id": f.file_unique_id,
        "file_size": f.file.bytes.len(),
    });
    if let Some(name) = &f.file.filename {
        value["file_name"] = json!(name);
    }
    if let Some(mime) = &f.file.mime_type {
        value["mime_type"] = json!(mime);
    }
    value
}

/// The API's `photo` array (one `PhotoSize`: the fake makes no thumbnails).
pub(crate) fn photo_json(f: &StoredFile) -> Value {
    json!([{
        "file_id": f.file_id,
        "file_unique_id": f.file_unique_id,
        "file_size": f.file.bytes.len(),
        "width": f.width,
        "height": f.height,
    }])
}
