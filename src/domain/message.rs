//! The text to post and how it is to be read.

use crate::skype::{OutgoingMessage, markup};

/// Skype's own limit on a message's length, in characters.
pub const MAX_MESSAGE_CHARS: usize = 28_000;

/// A message that can be sent: not blank, not longer than Skype takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

/// Why a text cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// Only whitespace.
    #[error("msg is empty")]
    Empty,
    /// Over [`MAX_MESSAGE_CHARS`].
    #[error("msg is {0} characters long; the limit is 28000")]
    TooLong(usize),
    /// `format` is not one we know.
    #[error("format must be \"rich\" (default) or \"plain\"")]
    UnknownFormat,
    /// `format: markdown` is planned but not built yet.
    #[error("format \"markdown\" is not supported yet: use \"rich\" (Skype markup) or \"plain\"")]
    MarkdownNotYet,
}

impl MessageText {
    /// Checks the length rules (characters, as Skype counts them).
    pub fn parse(text: &str) -> Result<Self, MessageError> {
        if text.trim().is_empty() {
            return Err(MessageError::Empty);
        }
        let chars = text.chars().count();
        if chars > MAX_MESSAGE_CHARS {
            return Err(MessageError::TooLong(chars));
        }
        Ok(Self(text.to_string()))
    }

    /// The text as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How the caller wants the text read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Skype markup (`<b>`, `<at>`, ...), as the original service sent it.
    #[default]
    Rich,
    /// Shown exactly as typed: markup characters are escaped.
    Plain,
}

impl Format {
    /// Reads the `format` field (`None`: the default).
    pub fn parse(value: Option<&str>) -> Result<Self, MessageError> {
        match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("rich") | Some("html") => Ok(Self::Rich),
            Some("plain") | Some("text") => Ok(Self::Plain),
            Some("markdown") | Some("md") => Err(MessageError::MarkdownNotYet),
            Some(_) => Err(MessageError::UnknownFormat),
        }
    }

    /// The Skype message for `text` in this format.
    pub fn render(self, text: &MessageText) -> OutgoingMessage {
        match self {
            Self::Rich => OutgoingMessage::rich(text.as_str()),
            // Rich text with the markup escaped: shown literally, and no
            // caller can inject a mention or a link by accident.
            Self::Plain => OutgoingMessage::rich(markup::escape(text.as_str())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_characters() {
        assert!(MessageText::parse(&"é".repeat(MAX_MESSAGE_CHARS)).is_ok());
        assert_eq!(
            MessageText::parse(&"a".repeat(MAX_MESSAGE_CHARS + 1)),
            Err(MessageError::TooLong(MAX_MESSAGE_CHARS + 1))
        );
        assert_eq!(MessageText::parse(" \n\t"), Err(MessageError::Empty));
    }

    #[test]
    fn formats() {
        assert_eq!(Format::parse(None), Ok(Format::Rich));
        assert_eq!(Format::parse(Some("PLAIN")), Ok(Format::Plain));
        assert_eq!(
            Format::parse(Some("markdown")),
            Err(MessageError::MarkdownNotYet)
        );
        assert_eq!(
            Format::parse(Some("bbcode")),
            Err(MessageError::UnknownFormat)
        );
    }

    #[test]
    fn plain_text_cannot_inject_markup() {
        let text = MessageText::parse(r#"<at id="*">all</at> & <b>x</b>"#).unwrap();
        let message = Format::Plain.render(&text);
        assert_eq!(
            message.text,
            r#"&lt;at id="*"&gt;all&lt;/at&gt; &amp; &lt;b&gt;x&lt;/b&gt;"#
        );
        assert_eq!(Format::Rich.render(&text).text, text.as_str());
    }
}
