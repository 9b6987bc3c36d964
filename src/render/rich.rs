//! Reads Skype rich text (its small HTML dialect) into a [`Document`], so
//! a message written for Skype looks right elsewhere too. Tolerant: an
//! unknown tag is dropped and its text kept, a stray `<` is text, unknown
//! entities stay as written.

use super::builder::{Builder, Container, Span};
use super::document::{Block, Document, Inline};
use crate::domain::Mention;

/// The document Skype would show for `text`; `@{id|Name}` are mentions.
pub fn read(text: &str) -> Document {
    let mut reader = Reader {
        builder: Builder::new(true),
        verbatim: None,
    };
    let mut rest = text;
    while let Some(at) = rest.find('<') {
        reader.text(&decode(&rest[..at]));
        rest = &rest[at..];
        match parse_tag(rest) {
            Some((tag, len)) => {
                reader.tag(tag);
                rest = &rest[len..];
            }
            None => {
                reader.text("<");
                rest = &rest[1..];
            }
        }
    }
    reader.text(&decode(rest));
    reader.finish()
}

/// A tag as written: lowercase name, whether it closes, its attributes.
#[derive(Debug, PartialEq, Eq)]
struct Tag {
    name: String,
    closing: bool,
    attributes: Vec<(String, String)>,
}

impl Tag {
    fn attribute(&self, name: &str) -> &str {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
    }
}

/// An element whose content is taken as text, up to its closing tag.
struct Verbatim {
    /// `at`, `pre` or `legacyquote`.
    name: String,
    /// The `at` id.
    id: String,
    text: String,
}

struct Reader {
    builder: Builder,
    verbatim: Option<Verbatim>,
}

impl Reader {
    fn text(&mut self, text: &str) {
        match &mut self.verbatim {
            Some(verbatim) => verbatim.text.push_str(text),
            None => self.builder.text(text),
        }
    }

    fn tag(&mut self, tag: Tag) {
        if let Some(verbatim) = &self.verbatim {
            if tag.closing && tag.name == verbatim.name {
                self.end_verbatim();
            }
            return;
        }
        let b = &mut self.builder;
        match (tag.name.as_str(), tag.closing) {
            ("b" | "strong", false) => b.open(Span::Bold),
            ("b" | "strong", true) => b.close(&Span::Bold),
            ("i" | "em", false) => b.open(Span::Italic),
            ("i" | "em", true) => b.close(&Span::Italic),
            ("s" | "strike" | "del", false) => b.open(Span::Strike),
            ("s" | "strike" | "del", true) => b.close(&Span::Strike),
            ("a", false) => b.open(Span::Link(tag.attribute("href").to_string())),
            ("a", true) => b.close(&Span::Link(String::new())),
            ("quote", false) => b.open_container(Container::Quote),
            ("quote", true) => b.close_container(Container::Quote),
            ("p" | "div", false) => b.open(Span::Paragraph),
            ("p" | "div", true) => b.close(&Span::Paragraph),
            ("br", _) => b.inline(Inline::Break),
            ("at" | "pre" | "legacyquote", false) => {
                self.verbatim = Some(Verbatim {
                    id: tag.attribute("id").to_string(),
                    name: tag.name,
                    text: String::new(),
                });
            }
            _ => {}
        }
    }

    fn end_verbatim(&mut self) {
        let Some(verbatim) = self.verbatim.take() else {
            return;
        };
        match verbatim.name.as_str() {
            "at" => match Mention::new(&verbatim.id, Some(&verbatim.text)) {
                Ok(mention) => self.builder.inline(Inline::Mention(mention)),
                Err(_) => self.builder.text(&verbatim.text),
            },
            "pre" if verbatim.text.contains('\n') => {
                let code = verbatim.text.strip_prefix('\n').unwrap_or(&verbatim.text);
                let code = code.strip_suffix('\n').unwrap_or(code);
                self.builder.block(Block::Code(code.to_string()));
            }
            "pre" => self.builder.inline(Inline::Code(verbatim.text)),
            // A quote's "[time] name:" header, which Skype shows its own way.
            _ => {}
        }
    }

    fn finish(mut self) -> Document {
        self.end_verbatim();
        self.builder.finish()
    }
}

/// The tag `s` starts with (`s` starts with `<`) and its length in bytes;
/// `None` when it is not a tag (then `<` is text). Comments are a tag
/// with an empty name.
fn parse_tag(s: &str) -> Option<(Tag, usize)> {
    if s.starts_with("<!--") {
        let len = s.find("-->").map_or(s.len(), |end| end + 3);
        return Some((tag("", false), len));
    }
    let bytes = s.as_bytes();
    let mut at = 1;
    let closing = bytes.get(at) == Some(&b'/');
    if closing {
        at += 1;
    }
    let name_len = bytes[at..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'_'))
        .count();
    if name_len == 0 || !bytes[at].is_ascii_alphabetic() {
        return None;
    }
    let mut tag = tag(&s[at..at + name_len], closing);
    at += name_len;
    loop {
        while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        match bytes.get(at)? {
            b'>' => return Some((tag, at + 1)),
            // `a<b<c>`: the first `<` was text.
            b'<' => return None,
            b'/' => at += 1,
            _ => {
                let (attribute, len) = parse_attribute(&s[at..])?;
                tag.attributes.extend(attribute);
                at += len;
            }
        }
    }
}

fn tag(name: &str, closing: bool) -> Tag {
    Tag {
        name: name.to_ascii_lowercase(),
        closing,
        attributes: Vec::new(),
    }
}

/// `name`, `name=value`, `name="value"` or `name='value'` at the start of
/// `s`, and its length; `None` when a quote is never closed.
fn parse_attribute(s: &str) -> Option<(Option<(String, String)>, usize)> {
    let bytes = s.as_bytes();
    let name_len = bytes
        .iter()
        .take_while(|b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'/' | b'<'))
        .count();
    if name_len == 0 {
        // A stray `=`: skip it.
        return Some((None, 1));
    }
    let name = s[..name_len].to_ascii_lowercase();
    if bytes.get(name_len) != Some(&b'=') {
        return Some((Some((name, String::new())), name_len));
    }
    let value_at = name_len + 1;
    let (value, end) = match bytes.get(value_at) {
        Some(&quote @ (b'"' | b'\'')) => {
            let close = s[value_at + 1..].find(quote as char)? + value_at + 1;
            (&s[value_at + 1..close], close + 1)
        }
        _ => {
            let len = bytes[value_at..]
                .iter()
                .take_while(|b| !b.is_ascii_whitespace() && **b != b'>')
                .count();
            (&s[value_at..value_at + len], value_at + len)
        }
    };
    Some((Some((name, decode(value))), end))
}

/// Text with its character references replaced; unknown ones stay.
fn decode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let entity = rest
            .char_indices()
            .take(12)
            .find(|(_, c)| *c == ';')
            .and_then(|(end, _)| Some((entity(&rest[1..end])?, end + 1)));
        // An unknown reference stays: its `&` is text.
        let (c, len) = entity.unwrap_or(('&', 1));
        out.push(c);
        rest = &rest[len..];
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    let code = match name {
        "amp" => return Some('&'),
        "lt" => return Some('<'),
        "gt" => return Some('>'),
        "quot" => return Some('"'),
        "apos" => return Some('\''),
        "nbsp" => return Some('\u{a0}'),
        _ => name.strip_prefix('#')?,
    };
    let number = match code.strip_prefix(['x', 'X']) {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => code.parse().ok()?,
    };
    char::from_u32(number).filter(|c| *c != '\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Inline {
        Inline::Text(s.into())
    }

    fn para(doc: Document) -> Vec<Inline> {
        match doc.blocks.as_slice() {
            [Block::Paragraph(inlines)] => inlines.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_the_skype_subset() {
        let doc = read(
            r#"<b raw_pre="*" raw_post="*">B <i>I</i></b> <s>S</s> <a href="https://e.example/?a=1&amp;b=2">L</a> <at id="8:joe">Joe B</at> <pre>x<y</pre> &lt;&amp;&#233;&#x1F600;&bogus; &"#,
        );
        assert_eq!(
            para(doc),
            vec![
                Inline::Bold(vec![text("B "), Inline::Italic(vec![text("I")])]),
                text(" "),
                Inline::Strike(vec![text("S")]),
                text(" "),
                Inline::Link {
                    href: "https://e.example/?a=1&b=2".into(),
                    children: vec![text("L")]
                },
                text(" "),
                Inline::Mention(Mention {
                    id: "8:joe".into(),
                    name: "Joe B".into()
                }),
                text(" "),
                Inline::Code("x<y".into()),
                text(" <&é😀&bogus; &"),
            ]
        );
    }

    #[test]
    fn quotes_code_blocks_and_breaks() {
        let doc = read(
            "<quote author=\"x\"><legacyquote>[1] x: </legacyquote>said</quote>a<br/>b\n<pre>\nline1\nline2\n</pre>",
        );
        assert_eq!(
            doc.blocks,
            vec![
                Block::Quote(vec![Block::Paragraph(vec![text("said")])]),
                Block::Paragraph(vec![text("a"), Inline::Break, text("b"), Inline::Break]),
                Block::Code("line1\nline2".into()),
            ]
        );
    }

    #[test]
    fn tolerates_what_is_not_the_subset() {
        assert_eq!(
            para(read(
                r#"a < b <ss type="smile">:)</ss> </i> <!-- c --> <unclosed "#
            )),
            vec![text("a < b :)   <unclosed ")]
        );
        assert_eq!(
            para(read(r#"<a href="javascript:alert(1)">x</a><b>open"#)),
            vec![text("x"), Inline::Bold(vec![text("open")])]
        );
        assert_eq!(
            para(read(r#"<at id="bad id">Joe</at> @{8:ann}"#)),
            vec![
                text("Joe "),
                Inline::Mention(Mention {
                    id: "8:ann".into(),
                    name: "ann".into()
                })
            ]
        );
        assert_eq!(para(read(r#"<a href='x>y'>q"#)), vec![text("q")]);
        assert_eq!(
            para(read(r#"<a href="unclosed>q"#)),
            vec![text(r#"<a href="unclosed>q"#)]
        );
    }
}
