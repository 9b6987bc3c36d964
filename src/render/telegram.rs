//! Telegram's HTML parse mode: `<b>`, `<i>`, `<s>`, `<code>`, `<pre>`,
//! `<a href>`, `<blockquote>`; only `&`, `<`, `>` (and `"` in attributes)
//! need escaping, so the caller's text shows as typed. Mentions of
//! Telegram user ids (digits) are `<a href="tg://user?id=...">Name</a>`,
//! which notifies them; `@username` ids are written as they are (Telegram
//! links them); others show as `@Name`. The walk is shared (`dialect`).

use super::dialect::{self, Dialect};
use super::document::Inline;
use crate::domain::{Content, Mention};
use crate::skype::markup;

/// A message as Telegram takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramText {
    /// The HTML sent (`parse_mode: HTML`).
    pub html: String,
    /// The text people see (what Telegram's 4096 limit counts).
    pub visible: String,
}

/// The Telegram message for `content`.
pub fn telegram(content: &Content) -> TelegramText {
    let html = dialect::write(&Telegram, &super::read(content), content.text.as_str());
    TelegramText {
        visible: visible(&html),
        html,
    }
}

/// `html` as shown: tags dropped, the four entities decoded.
fn visible(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match (in_tag, c) {
            (false, '<') => in_tag = true,
            (true, '>') => in_tag = false,
            (false, c) => out.push(c),
            (true, _) => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

struct Telegram;

impl Dialect for Telegram {
    fn escape(&self, text: &str) -> String {
        markup::escape(text)
    }

    fn bold(&self, inner: &str) -> String {
        format!("<b>{inner}</b>")
    }

    fn italic(&self, inner: &str) -> String {
        format!("<i>{inner}</i>")
    }

    fn strike(&self, inner: &str) -> String {
        format!("<s>{inner}</s>")
    }

    fn inline_code(&self, code: &str) -> String {
        format!("<code>{}</code>", markup::escape(code))
    }

    fn code_block(&self, code: &str) -> String {
        format!("<pre>{}</pre>", markup::escape(code))
    }

    fn link(&self, href: &str, children: &[Inline]) -> String {
        format!(
            r#"<a href="{}">{}</a>"#,
            markup::escape_attribute(href),
            dialect::inlines(self, children)
        )
    }

    fn mention(&self, mention: &Mention) -> String {
        let id = mention.id.as_str();
        if !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit()) {
            return format!(
                r#"<a href="tg://user?id={id}">{}</a>"#,
                markup::escape(&mention.name)
            );
        }
        match id.strip_prefix('@') {
            Some(_) => markup::escape(id),
            None => markup::escape(&format!("@{}", mention.name)),
        }
    }

    fn quote(&self, inner: &str) -> String {
        format!("<blockquote>{inner}</blockquote>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Format;
    use crate::render::test_content;

    #[test]
    fn markdown_becomes_telegram_html_and_counts_what_shows() {
        let text = telegram(&test_content(
            "**b** <i> & [site](https://e.test/?a=1&b=2)",
            Format::Markdown,
            vec![],
        ));
        assert_eq!(
            text.html,
            r#"<b>b</b> &lt;i&gt; &amp; <a href="https://e.test/?a=1&amp;b=2">site</a>"#
        );
        assert_eq!(text.visible, "b <i> & site");
    }

    #[test]
    fn mentions_notify_by_user_id() {
        let joe = Mention::new("123456", Some("Joe <J>")).unwrap();
        let text = telegram(&test_content("hi", Format::Plain, vec![joe]));
        assert_eq!(
            text.html,
            r#"<a href="tg://user?id=123456">Joe &lt;J&gt;</a> hi"#
        );
    }
}
