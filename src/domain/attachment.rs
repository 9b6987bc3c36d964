//! A file to post, checked once: not empty, not too large, a name safe to
//! show, and whether it is shown as a picture. The rules are the domain's;
//! how the bytes arrived (multipart, base64) is the trigger's business.

/// Largest file accepted, in decoded bytes. Lambda takes at most 6 MB per
/// request and the file arrives base64-encoded (by API Gateway, or in the
/// JSON form), which makes 4 MiB into about 5.6 MB.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

/// Longest file name shown, in characters (what file systems allow).
const MAX_NAME_CHARS: usize = 255;

/// Longest extension kept whole when a long name is shortened.
const MAX_EXTENSION_CHARS: usize = 16;

/// Whether an attachment is shown as a file or as a picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentKind {
    /// Any file, offered for download.
    File,
    /// An image, shown inline.
    Image,
}

/// A file to share in a conversation.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    /// File or picture.
    pub kind: AttachmentKind,
    /// The name shown (and offered when saving).
    pub name: String,
    /// The content.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("size", &self.bytes.len())
            .finish()
    }
}

/// Why a file cannot be posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AttachmentError {
    /// Zero bytes.
    #[error("the file is empty")]
    Empty,
    /// Over [`MAX_FILE_BYTES`].
    #[error(
        "the file is larger than 4 MiB ({MAX_FILE_BYTES} bytes): Lambda takes 6 MB per request, and base64 makes 4 MiB into 5.6 MB"
    )]
    TooLarge,
}

impl Attachment {
    /// The checked file: `name` as the caller gave it (made safe to
    /// show), `content_type` if one was declared.
    pub fn parse(
        name: Option<&str>,
        content_type: Option<&str>,
        bytes: Vec<u8>,
    ) -> Result<Self, AttachmentError> {
        if bytes.is_empty() {
            return Err(AttachmentError::Empty);
        }
        if bytes.len() > MAX_FILE_BYTES {
            return Err(AttachmentError::TooLarge);
        }
        let name = display_name(name.unwrap_or_default());
        let kind = kind(&bytes, &name, content_type);
        Ok(Self { kind, name, bytes })
    }
}

impl Attachment {
    /// The picture format the content itself is (by its signature), as a
    /// MIME type: what a platform that checks the bytes will accept.
    pub fn picture_type(&self) -> Option<&'static str> {
        signature_type(&self.bytes)
    }
}

/// The picture format `bytes` start with the signature of.
fn signature_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(&b"WEBP"[..]) {
        Some("image/webp")
    } else {
        None
    }
}

/// The formats Skype shows inline: (extension, MIME type).
const PICTURES: [(&[&str], &str); 4] = [
    (&["png"], "image/png"),
    (&["jpg", "jpeg"], "image/jpeg"),
    (&["gif"], "image/gif"),
    (&["webp"], "image/webp"),
];

/// A picture (shown inline) or a file (offered for download), asked in
/// the order of how far each witness can be trusted: the content's
/// signature, then the name's extension, then the declared type. Callers
/// get the last two wrong more often than not (a PNG declared
/// `application/octet`, or named `chart.bin`), so the content decides
/// whenever it is one of the formats; the others only when it is not.
fn kind(bytes: &[u8], name: &str, content_type: Option<&str>) -> AttachmentKind {
    let by_extension = || {
        name.rsplit_once('.').is_some_and(|(_, extension)| {
            let extension = extension.to_ascii_lowercase();
            PICTURES
                .iter()
                .any(|(names, _)| names.contains(&extension.as_str()))
        })
    };
    let by_type = || {
        let essence = content_type.unwrap_or_default().split(';').next();
        let essence = essence.unwrap_or_default().trim().to_ascii_lowercase();
        PICTURES.iter().any(|(_, mime)| *mime == essence)
    };
    if signature_is_picture(bytes) || by_extension() || by_type() {
        AttachmentKind::Image
    } else {
        AttachmentKind::File
    }
}

/// Whether `bytes` start with the signature every PNG, JPEG, GIF or WebP
/// file starts with.
fn signature_is_picture(bytes: &[u8]) -> bool {
    signature_type(bytes).is_some()
}

/// The name to show: no directories, no control or text-direction
/// characters, at most 255 characters (keeping the extension), never empty.
fn display_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = last
        .chars()
        .filter(|&c| !c.is_control() && !is_direction_mark(c))
        .collect();
    let kept = kept.trim();
    if kept.is_empty() || kept == "." || kept == ".." {
        return "file".to_string();
    }
    if kept.chars().count() <= MAX_NAME_CHARS {
        return kept.to_string();
    }
    match kept.rsplit_once('.') {
        Some((stem, extension))
            if !stem.is_empty() && extension.chars().count() <= MAX_EXTENSION_CHARS =>
        {
            let room = MAX_NAME_CHARS - 1 - extension.chars().count();
            let stem: String = stem.chars().take(room).collect();
            format!("{stem}.{extension}")
        }
        _ => kept.chars().take(MAX_NAME_CHARS).collect(),
    }
}

/// Characters that reorder the text around them ("gpj.exe" shown as
/// "exe.jpg"): never wanted in a file name.
fn is_direction_mark(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn pictures_are_told_by_their_content() {
        use AttachmentKind::{File, Image};
        let jpeg: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'];
        let cases: [(&[u8], AttachmentKind); 16] = [
            (PNG, Image),
            (jpeg, Image),
            (b"GIF87a\x01\0\x01\0", Image),
            (b"GIF89a\x01\0\x01\0", Image),
            (b"RIFF\x24\0\0\0WEBPVP8 ", Image),
            // Other image formats: not shown inline.
            (b"BM\x3a\0\0\0\0\0\0\0\x36\0", File),
            (b"II*\0\x08\0\0\0", File),
            (b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>", File),
            (b"\0\0\0\x18ftypheic", File),
            // A RIFF that is no WebP, and signatures cut short.
            (b"RIFF\x24\0\0\0WAVEfmt ", File),
            (b"RIFF\x24\0\0\0WEB", File),
            (b"\x89PNG\r\n\x1a", File),
            (&[0xFF, 0xD8], File),
            (b"GIF8", File),
            (b"%PDF-1.4", File),
            (b"", File),
        ];
        for (bytes, expected) in cases {
            assert_eq!(signature_is_picture(bytes), expected == Image, "{bytes:?}");
        }
    }

    #[test]
    fn the_content_first_then_the_extension_then_the_declared_type() {
        use AttachmentKind::{File, Image};
        let jpeg: &[u8] = &[0xFF, 0xD8, 0xFF, 0xDB];
        let cases: [(Option<&str>, &str, &[u8], AttachmentKind); 15] = [
            // The original callers' PNG, declared `application/octet`.
            (Some("application/octet"), "chart.png", PNG, Image),
            // The content wins over the name and the type.
            (Some("application/octet-stream"), "chart.bin", PNG, Image),
            (None, "chart", PNG, Image),
            (Some("text/plain"), "x.png", PNG, Image),
            (Some("image/svg+xml"), "x.txt", jpeg, Image),
            // Content that is none of the formats: the extension...
            (None, "photo.JPEG", b"not a signature", Image),
            (
                Some("application/pdf"),
                "x.webp",
                b"RIFF\x24\0\0\0WAVE",
                Image,
            ),
            // ...then the declared type.
            (Some("image/png"), "x.bin", b"anything", Image),
            (Some("IMAGE/JPEG; charset=x"), "x", b"anything", Image),
            (Some("image/gif"), "x", b"x", Image),
            (Some("image/webp"), "x", b"x", Image),
            // Neither: a file.
            (Some("image/svg+xml"), "x.svg", b"<svg/>", File),
            (Some("application/pdf"), "report.pdf", b"%PDF-1.4", File),
            (None, "png", b"no extension, only a name", File),
            (None, "notes.txt", b"hello", File),
        ];
        for (content_type, name, bytes, expected) in cases {
            let attachment = Attachment::parse(Some(name), content_type, bytes.to_vec()).unwrap();
            assert_eq!(
                attachment.kind, expected,
                "{content_type:?} {name} {bytes:?}"
            );
        }
    }

    #[test]
    fn file_names_are_made_safe_to_show() {
        let long = format!("{}.pdf", "a".repeat(300));
        let shortened = display_name(&long);
        assert_eq!(shortened.chars().count(), MAX_NAME_CHARS);
        assert!(shortened.ends_with("a.pdf"));
        let no_extension = "b".repeat(300);
        assert_eq!(display_name(&no_extension), "b".repeat(MAX_NAME_CHARS));
        for (raw, shown) in [
            ("report.pdf", "report.pdf"),
            ("C:\\Users\\me\\x.png", "x.png"),
            ("../../etc/passwd", "passwd"),
            ("dir/", "file"),
            ("", "file"),
            ("..", "file"),
            ("a\0b\r\n\u{7f}.txt", "ab.txt"),
            ("  spaced.txt  ", "spaced.txt"),
            ("invoice\u{202E}fdp.exe", "invoicefdp.exe"),
            ("été 2024.jpg", "été 2024.jpg"),
        ] {
            assert_eq!(display_name(raw), shown, "{raw:?}");
        }
    }

    #[test]
    fn empty_and_oversized_files_are_refused() {
        assert_eq!(
            Attachment::parse(Some("a"), None, vec![]),
            Err(AttachmentError::Empty)
        );
        assert_eq!(
            Attachment::parse(Some("a"), None, vec![0; MAX_FILE_BYTES + 1]),
            Err(AttachmentError::TooLarge)
        );
    }

    proptest! {
        #[test]
        fn shown_names_are_always_safe(raw in any::<String>()) {
            let shown = display_name(&raw);
            prop_assert!(!shown.is_empty() && shown.chars().count() <= MAX_NAME_CHARS);
            prop_assert!(!shown.contains(['/', '\\']));
            prop_assert!(!shown.chars().any(|c| c.is_control() || is_direction_mark(c)));
        }
    }
}
