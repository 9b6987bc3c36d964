//! Skype rich text. `rich` passes through as the original service sent it
//! (only inline `@{id}` mentions become `<at>`), `plain` is escaped, and
//! `markdown` is written from the document with the tags of
//! docs/skype-protocol.md §6.6, all text escaped. The walk over the
//! document is shared (`dialect`); this file says only how Skype writes
//! each piece.

use super::dialect::{self, Dialect};
use super::document::Inline;
use super::markdown;
use crate::domain::{Content, Format, Mention, Piece, split_inline};
use crate::skype::{OutgoingMessage, markup};

/// The Skype message for `content`: its listed mentions, a space, then the text.
pub fn skype(content: &Content) -> OutgoingMessage {
    let mut out = String::new();
    for mention in &content.mentions {
        out.push_str(&markup::mention(&mention.id, &mention.name));
        out.push(' ');
    }
    let text = content.text.as_str();
    match content.format {
        Format::Rich => out.push_str(&rich(text)),
        Format::Plain => out.push_str(&markup::escape(text)),
        Format::Markdown => out.push_str(&dialect::write(&Skype, &markdown::read(text), text)),
    }
    OutgoingMessage::rich(out)
}

/// The caller's markup unchanged, inline mentions outside tags made `<at>`.
fn rich(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let tag_at = tag_start(rest).unwrap_or(rest.len());
        for piece in split_inline(&rest[..tag_at]) {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Mention(mention) => {
                    out.push_str(&markup::mention(&mention.id, &mention.name))
                }
            }
        }
        rest = &rest[tag_at..];
        let tag_end = rest.find('>').map_or(rest.len(), |end| end + 1);
        out.push_str(&rest[..tag_end]);
        rest = &rest[tag_end..];
    }
    out
}

/// Where the first tag (`<` then a letter, `/` or `!`) starts.
fn tag_start(text: &str) -> Option<usize> {
    text.match_indices('<').map(|(at, _)| at).find(|at| {
        text[at + 1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!')
    })
}

/// Skype rich text as docs/skype-protocol.md §6.6 describes it: `raw_pre`
/// and `raw_post` keep the markers Skype clients show when text is copied.
struct Skype;

impl Dialect for Skype {
    fn escape(&self, text: &str) -> String {
        markup::escape(text)
    }

    fn bold(&self, inner: &str) -> String {
        format!(r#"<b raw_pre="*" raw_post="*">{inner}</b>"#)
    }

    fn italic(&self, inner: &str) -> String {
        format!(r#"<i raw_pre="_" raw_post="_">{inner}</i>"#)
    }

    fn strike(&self, inner: &str) -> String {
        format!(r#"<s raw_pre="~" raw_post="~">{inner}</s>"#)
    }

    fn inline_code(&self, code: &str) -> String {
        self.code_block(code)
    }

    fn code_block(&self, code: &str) -> String {
        format!(
            r#"<pre raw_pre="{{code}}" raw_post="{{code}}">{}</pre>"#,
            markup::escape(code)
        )
    }

    fn link(&self, href: &str, children: &[Inline]) -> String {
        format!(
            r#"<a href="{}">{}</a>"#,
            markup::escape_attribute(href),
            dialect::inlines(self, children)
        )
    }

    fn mention(&self, mention: &Mention) -> String {
        markup::mention(&mention.id, &mention.name)
    }

    fn quote(&self, inner: &str) -> String {
        format!("<quote>{inner}</quote>")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::Mention;
    use crate::render::test_content;

    fn render(text: &str, format: Format) -> String {
        skype(&test_content(text, format, vec![])).text
    }

    fn md(text: &str) -> String {
        render(text, Format::Markdown)
    }

    #[test]
    fn markdown_constructs() {
        assert_eq!(md("**b**"), r#"<b raw_pre="*" raw_post="*">b</b>"#);
        assert_eq!(
            md("*i* _j_"),
            r#"<i raw_pre="_" raw_post="_">i</i> <i raw_pre="_" raw_post="_">j</i>"#
        );
        assert_eq!(md("~~s~~"), r#"<s raw_pre="~" raw_post="~">s</s>"#);
        assert_eq!(
            md("`a<b>`"),
            r#"<pre raw_pre="{code}" raw_post="{code}">a&lt;b&gt;</pre>"#
        );
        assert_eq!(
            md("```\n<at id=\"*\">x</at>\n& y\n```"),
            r#"<pre raw_pre="{code}" raw_post="{code}">&lt;at id="*"&gt;x&lt;/at&gt;
&amp; y</pre>"#
        );
        assert_eq!(
            md("[docs](https://e.example/a?b=1&c=\"2\")"),
            r#"<a href="https://e.example/a?b=1&amp;c=%222%22">docs</a>"#
        );
        assert_eq!(md("a\nb  \nc\n\nd"), "a\nb\nc\n\nd");
        assert_eq!(md("> q\n\nafter"), "<quote>q</quote>\n\nafter");
        assert_eq!(md("- a\n- b\n  - c"), "• a\n• b\n  • c");
        assert_eq!(md("2. a\n3. b"), "2. a\n3. b");
        assert_eq!(
            md("# Title\ntext"),
            "<b raw_pre=\"*\" raw_post=\"*\">Title</b>\n\ntext"
        );
        assert_eq!(
            md("***both*** **bold _it_**"),
            r#"<i raw_pre="_" raw_post="_"><b raw_pre="*" raw_post="*">both</b></i> <b raw_pre="*" raw_post="*">bold <i raw_pre="_" raw_post="_">it</i></b>"#
        );
        assert_eq!(
            md("héllo 😀 **日本**"),
            r#"héllo 😀 <b raw_pre="*" raw_post="*">日本</b>"#
        );
    }

    #[test]
    fn markdown_cannot_inject_markup() {
        assert_eq!(
            md(r#"**<at id="*">x</at>**"#),
            r#"<b raw_pre="*" raw_post="*">&lt;at id="*"&gt;x&lt;/at&gt;</b>"#
        );
        assert_eq!(md("[x](javascript:alert(1))"), "x");
        assert_eq!(
            md("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            md("<div>\n<b>x</b>\n</div>"),
            "&lt;div&gt;\n&lt;b&gt;x&lt;/b&gt;\n&lt;/div&gt;"
        );
        assert_eq!(
            md("[https://evil.example](https://good.example)"),
            r#"<a href="https://good.example/">https://good.example/</a>"#
        );
        assert!(!markup::has_mentions(&md(r#"<at id="*">all</at>"#)));
        assert_eq!(md("[ref]: https://e.example"), "[ref]: https://e.example");
    }

    #[test]
    fn mentions_inline_and_listed() {
        assert_eq!(
            md("hi @{8:live:joe|Joe <B>}"),
            r#"hi <at id="8:live:joe">Joe &lt;B&gt;</at>"#
        );
        assert_eq!(
            md("`@{8:live:joe}`"),
            r#"<pre raw_pre="{code}" raw_post="{code}">@{8:live:joe}</pre>"#
        );
        assert_eq!(
            render("<b>hi</b> @{*} <a href=\"@{8:x}\">y</a>", Format::Rich),
            r#"<b>hi</b> <at id="*">All</at> <a href="@{8:x}">y</a>"#
        );
        assert_eq!(
            render("a < b @{8:x}", Format::Rich),
            r#"a < b <at id="8:x">x</at>"#
        );
        assert_eq!(render("@{8:x} & <", Format::Plain), "@{8:x} &amp; &lt;");
        let mentions =
            Mention::parse_list(&json!(["*", {"id": "8:live:joe", "name": "Joe"}])).unwrap();
        for format in [Format::Rich, Format::Plain, Format::Markdown] {
            let message = skype(&test_content("hi", format, mentions.clone()));
            assert_eq!(
                message.text,
                r#"<at id="*">All</at> <at id="8:live:joe">Joe</at> hi"#
            );
            assert!(markup::has_mentions(&message.text));
        }
    }

    #[test]
    fn rich_and_plain_are_as_before() {
        let markup = r#"<b raw_pre="*" raw_post="*">Bold</b> <at id="8:joe.4">Joe</at> &amp; <ss type="smile">:)</ss>"#;
        let message = skype(&test_content(markup, Format::Rich, vec![]));
        assert_eq!(message, OutgoingMessage::rich(markup));
        assert!(markup::has_mentions(&message.text));
        assert!(!markup::has_mentions(&render("**x**", Format::Markdown)));
        assert!(!markup::has_mentions(&render(markup, Format::Plain)));
    }
}
