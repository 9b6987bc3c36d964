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
    /// The checked file: `name` as the caller gave it, made safe to show.
    /// Whether it is a picture is read from `bytes` alone (`kind`).
    pub fn parse(name: Option<&str>, bytes: Vec<u8>) -> Result<Self, AttachmentError> {
        if bytes.is_empty() {
            return Err(AttachmentError::Empty);
        }
        if bytes.len() > MAX_FILE_BYTES {
            return Err(AttachmentError::TooLarge);
        }
        let name = display_name(name.unwrap_or_default());
        let kind = kind(&bytes);
        Ok(Self { kind, name, bytes })
    }
}

/// A picture when the content is one of the formats Skype shows inline
/// (PNG, JPEG, GIF, WebP), told by the signature every file of these
/// formats starts with; anything else is a file, offered for download.
///
/// The content decides both ways, and the name's extension and the
/// declared type never do. They are what callers get wrong: a PNG arrives
/// as `application/octet-stream` or `application/octet`, or named
/// `chart.bin`, and is still a picture. And they cannot make a picture of
/// content that is none: without its signature no file is a PNG, JPEG, GIF
/// or WebP, whatever its name or type say (text in `x.png` declared
/// `image/png`), and posted as a picture it would show as a broken image
/// instead of being offered as the file it is. Other image formats (BMP,
/// TIFF, SVG, HEIC) are files too: not among those shown inline.
fn kind(bytes: &[u8]) -> AttachmentKind {
    let picture = bytes.starts_with(b"\x89PNG\r\n\x1a\n")
        || bytes.starts_with(&[0xFF, 0xD8, 0xFF])
        || bytes.starts_with(b"GIF87a")
        || bytes.starts_with(b"GIF89a")
        || (bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(&b"WEBP"[..]));
    if picture {
        AttachmentKind::Image
    } else {
        AttachmentKind::File
    }
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
            assert_eq!(kind(bytes), expected, "{bytes:?}");
        }
    }

    #[test]
    fn the_content_wins_over_the_name_and_the_declared_type() {
        use AttachmentKind::{File, Image};
        // (name, bytes, kind); the declared type is not even asked for.
        let cases: [(&str, &[u8], AttachmentKind); 6] = [
            // The original callers' PNG, declared `application/octet`.
            ("chart.png", PNG, Image),
            ("chart.bin", PNG, Image),
            ("chart", PNG, Image),
            ("photo.png", &[0xFF, 0xD8, 0xFF, 0xDB], Image),
            // Text is a file whatever it is called or declared as (`image/png`):
            // posted as a picture it would show as a broken image.
            ("x.png", b"hello, not a picture", File),
            ("x.jpg", b"<html>", File),
        ];
        for (name, bytes, expected) in cases {
            let attachment = Attachment::parse(Some(name), bytes.to_vec()).unwrap();
            assert_eq!(
                (attachment.kind, attachment.name.as_str()),
                (expected, name)
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
            Attachment::parse(Some("a"), vec![]),
            Err(AttachmentError::Empty)
        );
        assert_eq!(
            Attachment::parse(Some("a"), vec![0; MAX_FILE_BYTES + 1]),
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
