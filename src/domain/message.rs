//! The text to post, how it is to be read, and whom it mentions.

use serde_json::Value;

use super::mention::Mention;

/// Skype's own limit on a message's length, in characters.
pub const MAX_MESSAGE_CHARS: usize = 28_000;

/// A message that can be sent: not blank, not longer than Skype takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

/// Why a message cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// Only whitespace.
    #[error("msg is empty")]
    Empty,
    /// Over [`MAX_MESSAGE_CHARS`].
    #[error("msg is {0} characters long; the limit is 28000")]
    TooLong(usize),
    /// `format` is not one we know.
    #[error("format must be \"rich\" (default, Skype markup), \"plain\" or \"markdown\"")]
    UnknownFormat,
    /// `mentions` is neither a list nor a string of ids.
    #[error("mentions must be a list of user ids or {{\"id\", \"name\"}} objects")]
    MentionsNotAList,
    /// More than [`super::MAX_MENTIONS`] entries.
    #[error("{0} mentions; the limit is 100")]
    TooManyMentions(usize),
    /// An entry is neither an id nor an object with a string `id`.
    #[error(
        "mentions[{0}] must be a user id or an object with a string \"id\" and optional string \"name\""
    )]
    MentionShape(usize),
    /// An entry's id is empty.
    #[error("mentions[{0}] has an empty id")]
    MentionIdEmpty(usize),
    /// An entry's id has characters no Skype id has.
    #[error("mentions[{0}] id must not contain whitespace, control characters or <>\"&")]
    MentionIdInvalid(usize),
    /// An entry's id is too long to be a Skype id.
    #[error("mentions[{0}] id is longer than 256 characters")]
    MentionIdTooLong(usize),
    /// An entry's display name is too long.
    #[error("mentions[{0}] name is longer than 256 characters")]
    MentionNameTooLong(usize),
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
    /// A safe CommonMark subset, rendered for each platform.
    Markdown,
}

impl Format {
    /// Reads the `format` field (`None`: the default).
    pub fn parse(value: Option<&str>) -> Result<Self, MessageError> {
        match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("rich") | Some("html") => Ok(Self::Rich),
            Some("plain") | Some("text") => Ok(Self::Plain),
            Some("markdown") | Some("md") => Ok(Self::Markdown),
            Some(_) => Err(MessageError::UnknownFormat),
        }
    }
}

/// The checked content of any post, whatever the platform it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// What the caller wrote.
    pub text: MessageText,
    /// How to read it.
    pub format: Format,
    /// Who to call out ahead of the text (the payload's `mentions`).
    pub mentions: Vec<Mention>,
}

impl Content {
    /// Content from parts already checked.
    pub fn new(text: MessageText, format: Format, mentions: Vec<Mention>) -> Self {
        Self {
            text,
            format,
            mentions,
        }
    }

    /// Checks a payload's `msg`, `format` and `mentions` (`None` or JSON
    /// `null`: none) in one go.
    pub fn parse(
        text: &str,
        format: Option<&str>,
        mentions: Option<&Value>,
    ) -> Result<Self, MessageError> {
        Ok(Self::new(
            MessageText::parse(text)?,
            Format::parse(format)?,
            Mention::parse_list(mentions.unwrap_or(&Value::Null))?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

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
        assert_eq!(Format::parse(Some(" Html ")), Ok(Format::Rich));
        assert_eq!(Format::parse(Some("PLAIN")), Ok(Format::Plain));
        assert_eq!(Format::parse(Some("text")), Ok(Format::Plain));
        assert_eq!(Format::parse(Some("markdown")), Ok(Format::Markdown));
        assert_eq!(Format::parse(Some("MD")), Ok(Format::Markdown));
        let unknown = Format::parse(Some("bbcode")).unwrap_err();
        assert_eq!(unknown, MessageError::UnknownFormat);
        for name in ["rich", "plain", "markdown"] {
            assert!(unknown.to_string().contains(name));
        }
    }

    #[test]
    fn content_parses_every_part() {
        let content = Content::parse("hi", Some("md"), Some(&json!(["8:live:joe"]))).unwrap();
        assert_eq!(content.format, Format::Markdown);
        assert_eq!(content.mentions[0].name, "joe");
        assert!(
            Content::parse("hi", None, None)
                .unwrap()
                .mentions
                .is_empty()
        );
        assert_eq!(
            Content::parse("hi", None, Some(&json!(3))),
            Err(MessageError::MentionsNotAList)
        );
        assert_eq!(Content::parse(" ", None, None), Err(MessageError::Empty));
    }

    #[test]
    fn plain_text_cannot_inject_markup() {
        let text = MessageText::parse(r#"<at id="*">all</at> & <b>x</b>"#).unwrap();
        let message = crate::render::skype(&Content::new(text.clone(), Format::Plain, vec![]));
        assert_eq!(
            message.text,
            r#"&lt;at id="*"&gt;all&lt;/at&gt; &amp; &lt;b&gt;x&lt;/b&gt;"#
        );
        let rich = crate::render::skype(&Content::new(text.clone(), Format::Rich, vec![]));
        assert_eq!(rich.text, text.as_str());
    }
}
