//! The HTML two platforms take, written once: the Teams bot's
//! (`textFormat: xml`) and Telegram's (`parse_mode: HTML`). Both show
//! `<b>`, `<i>`, `<s>`, `<code>`, `<pre>`, `<a href>`, `<blockquote>`,
//! and both need only `&`, `<` and `>` as entities for the caller's text
//! to show as typed (exact, where markdown would need backslashes these
//! platforms do not always honour). They differ in two things, which
//! [`Flavour`] says: Teams wants line breaks as `<br>` and mentions as
//! `<at>Name</at>` with an entity; Telegram keeps `\n` and mentions by
//! `tg://user?id=` links. The walk over the document is shared (`dialect`).

use std::cell::RefCell;

use super::dialect::{self, Dialect};
use super::document::Inline;
use crate::domain::{Content, Mention};
use crate::skype::markup;
use crate::teams::{TeamsMessage, at_tag};

/// The Teams bot's text for `content`, and whom its `<at>` tags mention.
pub fn teams_bot(content: &Content) -> TeamsMessage {
    let writer = Html::new(Flavour::Teams);
    let text = dialect::write(&writer, &super::read(content), content.text.as_str());
    TeamsMessage {
        text: text.replace('\n', "<br>"),
        mentions: writer.mentioned.into_inner(),
    }
}

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
    let writer = Html::new(Flavour::Telegram);
    let html = dialect::write(&writer, &super::read(content), content.text.as_str());
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

/// Whose HTML.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavour {
    Teams,
    Telegram,
}

/// The HTML writer; remembers whom it wrote a mention of (Teams needs one
/// entity per `<at>` tag).
struct Html {
    flavour: Flavour,
    mentioned: RefCell<Vec<Mention>>,
}

impl Html {
    fn new(flavour: Flavour) -> Self {
        Self {
            flavour,
            mentioned: RefCell::default(),
        }
    }
}

impl Dialect for Html {
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

    /// Teams: its lines kept by `<br>` already, so the final pass leaves
    /// it alone.
    fn code_block(&self, code: &str) -> String {
        let code = markup::escape(code);
        match self.flavour {
            Flavour::Teams => format!("<pre>{}</pre>", code.replace('\n', "<br>")),
            Flavour::Telegram => format!("<pre>{code}</pre>"),
        }
    }

    fn link(&self, href: &str, children: &[Inline]) -> String {
        format!(
            r#"<a href="{}">{}</a>"#,
            markup::escape_attribute(href),
            dialect::inlines(self, children)
        )
    }

    fn mention(&self, mention: &Mention) -> String {
        match self.flavour {
            Flavour::Teams => {
                let mut mentioned = self.mentioned.borrow_mut();
                if !mentioned.contains(mention) {
                    mentioned.push(mention.clone());
                }
                at_tag(&mention.name)
            }
            Flavour::Telegram => telegram_mention(mention),
        }
    }

    fn quote(&self, inner: &str) -> String {
        format!("<blockquote>{inner}</blockquote>")
    }
}

/// A Telegram user id (digits) notifies by a `tg://user` link;
/// `@username` is written as it is (Telegram links it); others show as
/// `@Name`.
fn telegram_mention(mention: &Mention) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Format;
    use crate::render::test_content;

    fn render(text: &str, format: Format) -> String {
        teams_bot(&test_content(text, format, vec![])).text
    }

    #[test]
    fn markdown_becomes_teams_html() {
        assert_eq!(
            render(
                "**bold** _it_ ~~gone~~ `x<y` [site](https://e.test/?a=1&b=2)",
                Format::Markdown
            ),
            r#"<b>bold</b> <i>it</i> <s>gone</s> <code>x&lt;y</code> <a href="https://e.test/?a=1&amp;b=2">site</a>"#
        );
        assert_eq!(
            render("> said\n\n```\nfn a() {}\n  b\n```", Format::Markdown),
            "<blockquote>said</blockquote><br><br><pre>fn a() {}<br>  b</pre>"
        );
    }

    #[test]
    fn plain_text_shows_as_typed() {
        assert_eq!(
            render("2*3 (yes) <b>not bold</b> & [x](y)\nnext", Format::Plain),
            "2*3 (yes) &lt;b&gt;not bold&lt;/b&gt; &amp; [x](y)<br>next"
        );
    }

    #[test]
    fn mentions_are_at_tags_listed_once() {
        let ann = Mention::new("29:1ann", Some("Ann <A&B>")).unwrap();
        let content = test_content(
            "hi @{29:1joe|Joe} and @{29:1ann|Ann <A&B>}",
            Format::Markdown,
            vec![ann.clone()],
        );
        let written = teams_bot(&content);
        assert!(
            written
                .text
                .starts_with("<at>Ann &lt;A&amp;B&gt;</at> hi <at>Joe</at>"),
            "{}",
            written.text
        );
        let ids: Vec<&str> = written.mentions.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["29:1ann", "29:1joe"]);
        assert_eq!(at_tag(&ann.name), "<at>Ann &lt;A&amp;B&gt;</at>");
    }

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
