//! Slack mrkdwn, the `text` of an incoming webhook: `*bold*`, `_italic_`,
//! `~strike~`, code, `<url|text>` links, `> ` quotes. Only `&`, `<` and
//! `>` can be escaped in mrkdwn; other marker characters in text stay as
//! typed. Mentions show as `@Name` (Skype ids mean nothing on Slack).
//! The walk over the document is shared (`dialect`); this file says only
//! how mrkdwn writes each piece.

use super::dialect::{self, Dialect};
use super::document::{Inline, plain_text, quote_lines, same_url, wrap};
use crate::domain::{Content, Mention};

/// The mrkdwn text for `content`, for an incoming webhook: mentions show
/// as `@Name`.
pub fn slack(content: &Content) -> String {
    let slack = Slack { notify: false };
    dialect::write(&slack, &super::read(content), content.text.as_str())
}

/// The mrkdwn text for `content`, for the Slack bot: mentions of Slack
/// user ids (`U...`, `W...`) are `<@id>`, which notifies them.
pub fn slack_bot(content: &Content) -> String {
    let slack = Slack { notify: true };
    dialect::write(&slack, &super::read(content), content.text.as_str())
}

/// Slack mrkdwn: markers hug their text (spaces moved outside), links
/// show their label as plain text.
struct Slack {
    /// Write mentions as `<@id>` (the bot), not `@Name` (webhooks).
    notify: bool,
}

impl Dialect for Slack {
    /// `&`, `<` and `>` as the entities Slack decodes.
    fn escape(&self, text: &str) -> String {
        crate::skype::markup::escape(text)
    }

    fn bold(&self, inner: &str) -> String {
        wrap(inner, "*", "*")
    }

    fn italic(&self, inner: &str) -> String {
        wrap(inner, "_", "_")
    }

    fn strike(&self, inner: &str) -> String {
        wrap(inner, "~", "~")
    }

    fn inline_code(&self, code: &str) -> String {
        wrap(&self.escape(code), "`", "`")
    }

    fn code_block(&self, code: &str) -> String {
        format!("```{}```", self.escape(code))
    }

    fn link(&self, href: &str, children: &[Inline]) -> String {
        let url = self.escape(href).replace('|', "%7C");
        let label = plain_text(children);
        if same_url(&label, href) {
            format!("<{url}>")
        } else {
            format!("<{url}|{}>", self.escape(&label))
        }
    }

    fn mention(&self, mention: &Mention) -> String {
        let user_id = mention.id.len() <= 24
            && mention
                .id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        match (self.notify, mention.id.as_str()) {
            (true, "*") => "<!channel>".to_string(),
            (true, id) if user_id => format!("<@{id}>"),
            _ => self.escape(&format!("@{}", mention.name)),
        }
    }

    fn quote(&self, inner: &str) -> String {
        quote_lines(inner)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::{Format, Mention};
    use crate::render::test_content;

    fn render(text: &str, format: Format) -> String {
        slack(&test_content(text, format, vec![]))
    }

    fn md(text: &str) -> String {
        render(text, Format::Markdown)
    }

    #[test]
    fn markdown_constructs() {
        for (markdown, mrkdwn) in [
            ("**b** *i* ~~s~~ `c`", "*b* _i_ ~s~ `c`"),
            ("** spaced **", "** spaced **"),
            ("**bold _it_**", "*bold _it_*"),
            ("```\nlet a = b < c;\n```", "```let a = b &lt; c;```"),
            (
                "[docs](https://e.example/a|b?x=1&y=2)",
                "<https://e.example/a%7Cb?x=1&amp;y=2|docs>",
            ),
            ("<https://e.example>", "<https://e.example/>"),
            ("[x](javascript:alert(1))", "x"),
            ("> one\n> two\n>\n> three", "> one\n> two\n>\n> three"),
            ("- a\n- b\n\n1. c", "• a\n• b\n\n1. c"),
            ("# Title\nline\nnext", "*Title*\n\nline\nnext"),
            (
                "1 < 2 & <b>x</b> ünï 😀",
                "1 &lt; 2 &amp; &lt;b&gt;x&lt;/b&gt; ünï 😀",
            ),
        ] {
            assert_eq!(md(markdown), mrkdwn, "{markdown:?}");
        }
    }

    #[test]
    fn rich_text_reads_right() {
        assert_eq!(
            render(
                r#"<b raw_pre="*" raw_post="*">Build</b> <i>failed</i> on <a href="https://ci.example/1">CI</a> &amp; <at id="8:live:joe">Joe</at><quote>log</quote><pre>x < y</pre>"#,
                Format::Rich
            ),
            "*Build* _failed_ on <https://ci.example/1|CI> &amp; @Joe\n\n> log\n\n`x &lt; y`"
        );
    }

    #[test]
    fn plain_and_mentions() {
        assert_eq!(
            render("a *b* <c> @{8:x}\nd", Format::Plain),
            "a *b* &lt;c&gt; @{8:x}\nd"
        );
        let mentions = Mention::parse_list(&json!(["*", "8:live:joe"])).unwrap();
        let content = test_content("hi @{8:ann|Ann}", Format::Markdown, mentions);
        assert_eq!(slack(&content), "@All @joe hi @Ann");
    }
}
