//! A Teams bot message: the `text` of a Connector activity in the HTML
//! subset Teams shows (`textFormat: xml`): `<b>`, `<i>`, `<s>`, `<code>`,
//! `<pre>`, `<a href>`, `<blockquote>`, line breaks as `<br>`. HTML rather
//! than Teams' markdown because its escaping is exact: the caller's text
//! needs only `&`, `<` and `>` as entities to show as typed, where markdown
//! would need backslashes Teams does not always honour. Mentions are
//! `<at>Name</at>` plus the entity Teams needs to notify that person. The
//! walk over the document is shared (`dialect`).

use std::cell::RefCell;

use super::dialect::{self, Dialect};
use super::document::Inline;
use crate::domain::{Content, Mention};
use crate::teams::{TeamsMessage, at_tag};

/// The Teams text for `content`.
pub fn teams_bot(content: &Content) -> TeamsMessage {
    let writer = TeamsHtml::default();
    let text = dialect::write(&writer, &super::read(content), content.text.as_str());
    TeamsMessage {
        text: text.replace('\n', "<br>"),
        mentions: writer.mentioned.into_inner(),
    }
}

/// Teams' HTML; remembers whom it wrote a mention of.
#[derive(Default)]
struct TeamsHtml {
    mentioned: RefCell<Vec<Mention>>,
}

fn html_escape(text: &str) -> String {
    crate::skype::markup::escape(text)
}

impl Dialect for TeamsHtml {
    fn escape(&self, text: &str) -> String {
        html_escape(text)
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
        format!("<code>{}</code>", html_escape(code))
    }

    /// Its lines kept by `<br>` already, so the final pass leaves it alone.
    fn code_block(&self, code: &str) -> String {
        format!("<pre>{}</pre>", html_escape(code).replace('\n', "<br>"))
    }

    fn link(&self, href: &str, children: &[Inline]) -> String {
        format!(
            r#"<a href="{}">{}</a>"#,
            crate::skype::markup::escape_attribute(href),
            dialect::inlines(self, children)
        )
    }

    fn mention(&self, mention: &Mention) -> String {
        let mut mentioned = self.mentioned.borrow_mut();
        if !mentioned.contains(mention) {
            mentioned.push(mention.clone());
        }
        at_tag(&mention.name)
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
    use crate::teams::at_tag;

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
}
