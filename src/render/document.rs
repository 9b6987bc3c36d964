//! The small platform-neutral document every reader produces and every
//! writer consumes: blocks of inlines, nothing a platform cannot show.

use crate::domain::Mention;

/// A whole message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Document {
    /// The blocks, in order.
    pub blocks: Vec<Block>,
}

/// A block of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A paragraph.
    Paragraph(Vec<Inline>),
    /// A heading (every level alike: chat platforms show them bold).
    Heading(Vec<Inline>),
    /// Preformatted code, shown as written.
    Code(String),
    /// A quotation.
    Quote(Vec<Block>),
    /// A list; numbered from `start` when `Some`.
    List {
        /// The first number of an ordered list.
        start: Option<u64>,
        /// Each item's blocks.
        items: Vec<Vec<Block>>,
    },
}

/// A run of text inside a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    /// Text as the reader should see it (writers escape it).
    Text(String),
    /// Strong emphasis.
    Bold(Vec<Inline>),
    /// Emphasis.
    Italic(Vec<Inline>),
    /// Struck out.
    Strike(Vec<Inline>),
    /// Inline code.
    Code(String),
    /// A link whose `href` is known to be safe (see [`link`]).
    Link {
        /// An http, https or mailto URL.
        href: String,
        /// What the link shows.
        children: Vec<Inline>,
    },
    /// A mention of a person (or everyone).
    Mention(Mention),
    /// A line break.
    Break,
}

impl Document {
    /// `mentions` ahead of the text, followed by a space, as the payload's
    /// `mentions` list asks.
    pub fn with_mentions(mut self, mentions: &[Mention]) -> Self {
        if mentions.is_empty() {
            return self;
        }
        let mut lead = Vec::new();
        for mention in mentions {
            lead.push(Inline::Mention(mention.clone()));
            lead.push(Inline::Text(" ".into()));
        }
        match self.blocks.first_mut() {
            Some(Block::Paragraph(inlines)) => {
                lead.append(inlines);
                *inlines = lead;
            }
            _ => {
                lead.pop();
                self.blocks.insert(0, Block::Paragraph(lead));
            }
        }
        self
    }
}

/// The inlines a link becomes: a [`Inline::Link`] when `href` is an http,
/// https or mailto URL, else just its text. When the text itself looks
/// like another URL the link shows its real target instead (Skype refuses
/// "a link whose text is another URL", and it would mislead anyone).
pub fn link(href: &str, children: Vec<Inline>) -> Vec<Inline> {
    let Some(href) = safe_href(href) else {
        return children;
    };
    let text = plain_text(&children);
    let children =
        if children.is_empty() || (looks_like_url(text.trim()) && !same_url(text.trim(), &href)) {
            vec![Inline::Text(href.clone())]
        } else {
            children
        };
    vec![Inline::Link { href, children }]
}

/// What `inlines` say, without formatting (mentions as `@Name`).
pub fn plain_text(inlines: &[Inline]) -> String {
    let mut out = String::new();
    for inline in inlines {
        match inline {
            Inline::Text(text) | Inline::Code(text) => out.push_str(text),
            Inline::Bold(children) | Inline::Italic(children) | Inline::Strike(children) => {
                out.push_str(&plain_text(children));
            }
            Inline::Link { children, .. } => out.push_str(&plain_text(children)),
            Inline::Mention(mention) => {
                out.push('@');
                out.push_str(&mention.name);
            }
            Inline::Break => out.push('\n'),
        }
    }
    out
}

/// `inner` between `open` and `close` with its surrounding whitespace
/// moved outside (markdown-like markers next to a space do not format);
/// blank `inner` is left bare.
pub fn wrap(inner: &str, open: &str, close: &str) -> String {
    let trimmed = inner.trim();
    if trimmed.is_empty() {
        return inner.to_string();
    }
    let start = inner.len() - inner.trim_start().len();
    let end = start + trimmed.len();
    format!("{}{open}{trimmed}{close}{}", &inner[..start], &inner[end..])
}

/// Every line behind `> ` (a blank one as a bare `>`): a quote in the
/// markdown-like dialects (Slack, Discord).
pub fn quote_lines(inner: &str) -> String {
    let lines: Vec<String> = inner
        .split('\n')
        .map(|line| format!("> {line}").trim_end().to_string())
        .collect();
    lines.join("\n")
}

/// `body` as a list item: `marker` before its first line, the others
/// indented so they stay inside the item.
pub fn list_item(marker: &str, body: &str, line_end: &str) -> String {
    let mut out = String::new();
    for (index, line) in body.split(line_end).enumerate() {
        if index == 0 {
            out.push_str(marker);
        } else {
            out.push_str(line_end);
            if !line.is_empty() {
                out.push_str("  ");
            }
        }
        out.push_str(line);
    }
    out
}

/// The marker of item `index` of a list numbered from `start` (bulleted when `None`).
pub fn marker(start: Option<u64>, index: usize) -> String {
    match start {
        Some(start) => format!("{}. ", start.saturating_add(index as u64)),
        None => "• ".to_string(),
    }
}

/// `href` normalized (percent-encoded) when it is an http, https or mailto URL.
fn safe_href(href: &str) -> Option<String> {
    let url = url::Url::parse(href.trim()).ok()?;
    let safe = match url.scheme() {
        "http" | "https" => url.host().is_some(),
        "mailto" => true,
        _ => false,
    };
    safe.then(|| url.to_string())
}

fn looks_like_url(text: &str) -> bool {
    if text.chars().any(char::is_whitespace) {
        return false;
    }
    let lower = text.to_ascii_lowercase();
    lower.starts_with("www.")
        || lower.contains("://")
        || lower.starts_with("mailto:")
        || url::Url::parse(text).is_ok_and(|url| url.host().is_some())
}

/// Whether `text` names the same place as `href` (scheme, `www.`, case and
/// a trailing slash aside).
pub fn same_url(text: &str, href: &str) -> bool {
    let normal = |s: &str| {
        let s = s.to_ascii_lowercase();
        let s = s.trim_end_matches('/');
        let s = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"))
            .or_else(|| s.strip_prefix("mailto:"))
            .unwrap_or(s);
        s.strip_prefix("www.").unwrap_or(s).to_string()
    };
    normal(text) == normal(href)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Inline {
        Inline::Text(s.into())
    }

    fn href(inlines: &[Inline]) -> Option<(&str, String)> {
        match inlines {
            [Inline::Link { href, children }] => Some((href.as_str(), plain_text(children))),
            _ => None,
        }
    }

    #[test]
    fn only_web_and_mail_links_are_links() {
        assert_eq!(
            href(&link("https://example.com/a?b=1", vec![text("docs")])),
            Some(("https://example.com/a?b=1", "docs".into()))
        );
        assert_eq!(
            href(&link("mailto:joe@example.com", vec![text("Joe")])),
            Some(("mailto:joe@example.com", "Joe".into()))
        );
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,x",
            "file:///etc/passwd",
            "/relative",
            "http://",
            "",
        ] {
            assert_eq!(link(bad, vec![text("x")]), vec![text("x")], "{bad}");
        }
    }

    #[test]
    fn a_url_as_text_must_be_the_target() {
        let shown = |label: &str| {
            href(&link("https://good.example/", vec![text(label)]))
                .unwrap()
                .1
        };
        for (label, expected) in [
            ("https://evil.example/", "https://good.example/"),
            ("https://good.example.evil.example", "https://good.example/"),
            ("www.evil.example", "https://good.example/"),
            ("https://good.example", "https://good.example"),
            ("www.good.example", "www.good.example"),
            ("click here", "click here"),
        ] {
            assert_eq!(shown(label), expected, "{label:?}");
        }
        assert_eq!(
            href(&link("https://a.example", vec![])).unwrap().1,
            "https://a.example/"
        );
    }

    #[test]
    fn wrapping_keeps_spaces_outside() {
        assert_eq!(wrap(" a b ", "*", "*"), " *a b* ");
        assert_eq!(wrap("  ", "*", "*"), "  ");
        assert_eq!(list_item("• ", "a\nb\n\nc", "\n"), "• a\n  b\n\n  c");
        assert_eq!(marker(Some(u64::MAX), 3), format!("{}. ", u64::MAX));
        assert_eq!(marker(None, 3), "• ");
    }

    #[test]
    fn mentions_lead_the_first_paragraph() {
        let joe = Mention {
            id: "8:joe".into(),
            name: "joe".into(),
        };
        let doc = Document {
            blocks: vec![Block::Paragraph(vec![text("hi")])],
        }
        .with_mentions(std::slice::from_ref(&joe));
        assert_eq!(
            doc.blocks,
            vec![Block::Paragraph(vec![
                Inline::Mention(joe.clone()),
                text(" "),
                text("hi")
            ])]
        );
        let doc = Document {
            blocks: vec![Block::Code("x".into())],
        }
        .with_mentions(std::slice::from_ref(&joe));
        assert_eq!(doc.blocks[0], Block::Paragraph(vec![Inline::Mention(joe)]));
    }
}
