//! One walker over the document for every text markup dialect (Skype rich
//! text, Slack mrkdwn). The document's structure (blocks apart, list items
//! marked and indented, inlines in order) is the same on every platform
//! that takes text; only the leaf rules differ. So each writer states just
//! its [`Dialect`], and [`write`] does the walking once for all of them.

use super::document::{Block, Document, Inline, list_item, marker};
use crate::domain::Mention;

/// How one text markup dialect writes each construct. Every method gets
/// its parts already written in the dialect (`inner`) or raw (`code`,
/// `text`, `href`), and must escape whatever raw text it shows.
pub trait Dialect {
    /// `text` shown as typed, nothing in it read as markup.
    fn escape(&self, text: &str) -> String;
    /// Strong emphasis around written `inner`.
    fn bold(&self, inner: &str) -> String;
    /// Emphasis around written `inner`.
    fn italic(&self, inner: &str) -> String;
    /// Strikethrough around written `inner`.
    fn strike(&self, inner: &str) -> String;
    /// Raw `code` inside a line.
    fn inline_code(&self, code: &str) -> String;
    /// Raw `code` as a block of its own.
    fn code_block(&self, code: &str) -> String;
    /// A link to the safe `href` showing `children` (dialects differ in
    /// whether a label may carry formatting, so they get it unwritten).
    fn link(&self, href: &str, children: &[Inline]) -> String;
    /// A mention of a person (or everyone).
    fn mention(&self, mention: &Mention) -> String;
    /// A quotation of the written blocks `inner`.
    fn quote(&self, inner: &str) -> String;
    /// A heading: chat platforms have none, so bold unless a dialect says otherwise.
    fn heading(&self, inner: &str) -> String {
        self.bold(inner)
    }
}

/// `document` in `dialect`; when that shows nothing (markdown that is only
/// a link definition, say), `source`, the text it was read from, escaped:
/// a message is never sent blank.
pub fn write(dialect: &impl Dialect, document: &Document, source: &str) -> String {
    let written = blocks(dialect, &document.blocks);
    if written.trim().is_empty() {
        return dialect.escape(source);
    }
    written
}

/// `content` in `dialect`, for the links whose label keeps its formatting.
pub fn inlines(dialect: &impl Dialect, content: &[Inline]) -> String {
    content.iter().map(|item| inline(dialect, item)).collect()
}

fn blocks(dialect: &impl Dialect, blocks: &[Block]) -> String {
    let written: Vec<String> = blocks.iter().map(|item| block(dialect, item)).collect();
    written.join("\n\n")
}

fn block(dialect: &impl Dialect, block: &Block) -> String {
    match block {
        Block::Paragraph(content) => inlines(dialect, content),
        Block::Heading(content) => dialect.heading(&inlines(dialect, content)),
        Block::Code(code) => dialect.code_block(code),
        Block::Quote(inner) => dialect.quote(&blocks(dialect, inner)),
        Block::List { start, items } => {
            let lines: Vec<String> = items
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    let body: Vec<String> = item.iter().map(|b| self::block(dialect, b)).collect();
                    list_item(&marker(*start, index), &body.join("\n"), "\n")
                })
                .collect();
            lines.join("\n")
        }
    }
}

fn inline(dialect: &impl Dialect, inline: &Inline) -> String {
    match inline {
        Inline::Text(text) => dialect.escape(text),
        Inline::Bold(content) => dialect.bold(&inlines(dialect, content)),
        Inline::Italic(content) => dialect.italic(&inlines(dialect, content)),
        Inline::Strike(content) => dialect.strike(&inlines(dialect, content)),
        Inline::Code(code) => dialect.inline_code(code),
        Inline::Link { href, children } => dialect.link(href, children),
        Inline::Mention(mention) => dialect.mention(mention),
        Inline::Break => "\n".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dialect that names each construct, so the walk itself shows.
    struct Names;

    impl Dialect for Names {
        fn escape(&self, text: &str) -> String {
            text.replace('(', "\\(")
        }
        fn bold(&self, inner: &str) -> String {
            format!("b({inner})")
        }
        fn italic(&self, inner: &str) -> String {
            format!("i({inner})")
        }
        fn strike(&self, inner: &str) -> String {
            format!("s({inner})")
        }
        fn inline_code(&self, code: &str) -> String {
            format!("c({})", self.escape(code))
        }
        fn code_block(&self, code: &str) -> String {
            format!("pre({})", self.escape(code))
        }
        fn link(&self, href: &str, children: &[Inline]) -> String {
            format!("a({href}, {})", inlines(self, children))
        }
        fn mention(&self, mention: &Mention) -> String {
            format!("at({})", mention.id)
        }
        fn quote(&self, inner: &str) -> String {
            format!("q({inner})")
        }
    }

    fn text(s: &str) -> Inline {
        Inline::Text(s.into())
    }

    fn paragraph(s: &str) -> Block {
        Block::Paragraph(vec![text(s)])
    }

    #[test]
    fn every_construct_goes_to_its_rule() {
        let joe = Mention {
            id: "8:joe".into(),
            name: "Joe".into(),
        };
        let line = vec![
            Inline::Bold(vec![Inline::Italic(vec![text("(x")])]),
            Inline::Strike(vec![Inline::Code("(c".into())]),
            Inline::Break,
            Inline::Link {
                href: "https://e.example/".into(),
                children: vec![Inline::Bold(vec![text("l")])],
            },
            Inline::Mention(joe),
        ];
        let document = Document {
            blocks: vec![
                Block::Heading(vec![text("h")]),
                Block::Paragraph(line),
                Block::Quote(vec![paragraph("q1"), Block::Code("(p".into())]),
            ],
        };
        assert_eq!(
            write(&Names, &document, "unused"),
            "b(h)\n\nb(i(\\(x))s(c(\\(c))\na(https://e.example/, b(l))at(8:joe)\n\nq(q1\n\npre(\\(p))"
        );
    }

    #[test]
    fn lists_are_marked_and_nested_items_indented() {
        let nested = Block::List {
            start: None,
            items: vec![vec![paragraph("c")]],
        };
        let document = Document {
            blocks: vec![Block::List {
                start: Some(7),
                items: vec![vec![paragraph("a"), nested], vec![paragraph("b\nmore")]],
            }],
        };
        assert_eq!(
            write(&Names, &document, "unused"),
            "7. a\n  • c\n8. b\n  more"
        );
    }

    #[test]
    fn a_blank_document_shows_its_source_escaped() {
        let blank = Document {
            blocks: vec![paragraph(" ")],
        };
        assert_eq!(write(&Names, &blank, "[r]: (x"), "[r]: \\(x");
        assert_eq!(write(&Names, &Document::default(), "(y"), "\\(y");
    }
}
