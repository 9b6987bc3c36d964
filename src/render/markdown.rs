//! Reads `format: markdown` (CommonMark with strikethrough) into a
//! [`Document`]. Raw HTML stays text: markdown cannot inject markup.

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};

use super::builder::{Builder, Container, Span};
use super::document::{Block, Document, Inline};

/// A verbatim block being collected.
enum Raw {
    Code(String),
    Html(String),
}

/// The document `text` describes; `@{id|Name}` in its text are mentions.
pub fn read(text: &str) -> Document {
    let mut builder = Builder::new(true);
    let mut raw: Option<Raw> = None;
    for event in Parser::new_ext(text, Options::ENABLE_STRIKETHROUGH) {
        if let Some(Raw::Code(buffer) | Raw::Html(buffer)) = &mut raw {
            match event {
                Event::Text(text) | Event::Html(text) | Event::InlineHtml(text) => {
                    buffer.push_str(&text);
                    continue;
                }
                Event::End(TagEnd::CodeBlock | TagEnd::HtmlBlock) => {}
                _ => continue,
            }
        }
        match event {
            Event::Start(tag) => start(&mut builder, &mut raw, tag),
            Event::End(tag) => end(&mut builder, &mut raw, tag),
            Event::Text(text) | Event::Html(text) | Event::InlineHtml(text) => {
                builder.text(&text);
            }
            Event::Code(code) => builder.inline(Inline::Code(code.to_string())),
            Event::SoftBreak | Event::HardBreak => builder.inline(Inline::Break),
            Event::Rule => builder.block(Block::Paragraph(vec![Inline::Text("⸻".into())])),
            Event::TaskListMarker(done) => builder.text(if done { "☑ " } else { "☐ " }),
            Event::FootnoteReference(name) => builder.text(&format!("[^{name}]")),
            Event::InlineMath(math) | Event::DisplayMath(math) => builder.text(&math),
        }
    }
    builder.finish()
}

fn start(builder: &mut Builder, raw: &mut Option<Raw>, tag: Tag<'_>) {
    match tag {
        Tag::Paragraph => builder.open(Span::Paragraph),
        Tag::Heading { .. } => builder.open(Span::Heading),
        Tag::BlockQuote(_) => builder.open_container(Container::Quote),
        // A fenced block's info string (its language) is not shown.
        Tag::CodeBlock(_) => *raw = Some(Raw::Code(String::new())),
        Tag::HtmlBlock => *raw = Some(Raw::Html(String::new())),
        Tag::List(start) => builder.open_container(Container::List(start)),
        Tag::Item => builder.open_container(Container::Item),
        Tag::Emphasis => builder.open(Span::Italic),
        Tag::Strong => builder.open(Span::Bold),
        Tag::Strikethrough => builder.open(Span::Strike),
        Tag::Link {
            link_type,
            dest_url,
            ..
        } => builder.open(Span::Link(match link_type {
            LinkType::Email => format!("mailto:{dest_url}"),
            _ => dest_url.to_string(),
        })),
        // Images are not fetched: their alt text is what they say.
        Tag::Image { .. } => builder.open(Span::Plain),
        _ => {}
    }
}

fn end(builder: &mut Builder, raw: &mut Option<Raw>, tag: TagEnd) {
    match tag {
        TagEnd::Paragraph => builder.close(&Span::Paragraph),
        TagEnd::Heading(_) => builder.close(&Span::Heading),
        TagEnd::BlockQuote(_) => builder.close_container(Container::Quote),
        TagEnd::CodeBlock | TagEnd::HtmlBlock => match raw.take() {
            Some(Raw::Code(code)) => {
                builder.block(Block::Code(code.strip_suffix('\n').unwrap_or(&code).into()));
            }
            Some(Raw::Html(html)) => {
                builder.open(Span::Paragraph);
                builder.text(html.trim_end_matches('\n'));
                builder.close(&Span::Paragraph);
            }
            None => {}
        },
        TagEnd::List(_) => builder.close_container(Container::List(None)),
        TagEnd::Item => builder.close_container(Container::Item),
        TagEnd::Emphasis => builder.close(&Span::Italic),
        TagEnd::Strong => builder.close(&Span::Bold),
        TagEnd::Strikethrough => builder.close(&Span::Strike),
        TagEnd::Link => builder.close(&Span::Link(String::new())),
        TagEnd::Image => builder.close(&Span::Plain),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Mention;

    fn text(s: &str) -> Inline {
        Inline::Text(s.into())
    }

    fn para(inlines: Vec<Inline>) -> Block {
        Block::Paragraph(inlines)
    }

    #[test]
    fn emphasis_code_and_links() {
        assert_eq!(
            read("**b** _i_ ~~s~~ `c<` [x](https://e.example) [y](javascript:alert(1))").blocks,
            vec![para(vec![
                Inline::Bold(vec![text("b")]),
                text(" "),
                Inline::Italic(vec![text("i")]),
                text(" "),
                Inline::Strike(vec![text("s")]),
                text(" "),
                Inline::Code("c<".into()),
                text(" "),
                Inline::Link {
                    href: "https://e.example/".into(),
                    children: vec![text("x")]
                },
                text(" y"),
            ])]
        );
    }

    #[test]
    fn blocks() {
        let doc = read(
            "# Title\n\n> quoted\n\n- a\n- b\n\n3. c\n\n```rust\nlet x = 1;\n```\n\n<div>\nhi\n</div>",
        );
        assert_eq!(
            doc.blocks,
            vec![
                Block::Heading(vec![text("Title")]),
                Block::Quote(vec![para(vec![text("quoted")])]),
                Block::List {
                    start: None,
                    items: vec![vec![para(vec![text("a")])], vec![para(vec![text("b")])]]
                },
                Block::List {
                    start: Some(3),
                    items: vec![vec![para(vec![text("c")])]]
                },
                Block::Code("let x = 1;".into()),
                para(vec![
                    text("<div>"),
                    Inline::Break,
                    text("hi"),
                    Inline::Break,
                    text("</div>")
                ]),
            ]
        );
    }

    #[test]
    fn line_breaks_are_kept_and_mentions_found() {
        assert_eq!(
            read("one\ntwo  \nthree @{8:live:joe_b|Joe}").blocks,
            vec![para(vec![
                text("one"),
                Inline::Break,
                text("two"),
                Inline::Break,
                text("three "),
                Inline::Mention(Mention {
                    id: "8:live:joe_b".into(),
                    name: "Joe".into()
                }),
            ])]
        );
        assert_eq!(
            read("`@{8:joe}`").blocks,
            vec![para(vec![Inline::Code("@{8:joe}".into())])]
        );
    }

    #[test]
    fn autolinks_and_images() {
        assert_eq!(
            read("<joe@example.com> ![alt **x**](https://e.example/i.png)").blocks,
            vec![para(vec![
                Inline::Link {
                    href: "mailto:joe@example.com".into(),
                    children: vec![text("joe@example.com")]
                },
                text(" alt "),
                Inline::Bold(vec![text("x")]),
            ])]
        );
    }
}
