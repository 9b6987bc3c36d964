//! A Teams bot message: the `text` of a Connector activity in Teams'
//! markdown (`**bold**`, `_italic_`, `~~strike~~`, code, `[text](url)`,
//! `> ` quotes, lists), with every marker character in the caller's text
//! escaped, and mentions as `<at>Name</at>` plus the entity Teams needs to
//! notify that person. Teams reads HTML inside markdown text, so `&`, `<`
//! and `>` are entities. The walk over the document is shared (`dialect`).

use std::cell::RefCell;

use super::dialect::{self, Dialect};
use super::document::{Inline, plain_text, wrap};
use crate::domain::{Content, Mention};
use crate::teams::{TeamsMessage, at_tag};

/// The Teams text for `content`.
pub fn teams_bot(content: &Content) -> TeamsMessage {
    let writer = TeamsMarkdown::default();
    let text = dialect::write(&writer, &super::read(content), content.text.as_str());
    TeamsMessage {
        text,
        mentions: writer.mentioned.into_inner(),
    }
}

/// Teams markdown; remembers whom it wrote a mention of.
#[derive(Default)]
struct TeamsMarkdown {
    mentioned: RefCell<Vec<Mention>>,
}

fn html_escape(text: &str) -> String {
    crate::skype::markup::escape(text)
}

impl Dialect for TeamsMarkdown {
    /// Markdown markers behind a backslash, HTML's three as entities.
    fn escape(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '\\' | '*' | '_' | '~' | '`' | '[' | ']' | '(' | ')' | '#' | '|' => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
        out
    }

    fn bold(&self, inner: &str) -> String {
        wrap(inner, "**", "**")
    }

    fn italic(&self, inner: &str) -> String {
        wrap(inner, "_", "_")
    }

    fn strike(&self, inner: &str) -> String {
        wrap(inner, "~~", "~~")
    }

    fn inline_code(&self, code: &str) -> String {
        let code = code.replace('`', "'");
        wrap(&html_escape(&code), "`", "`")
    }

    fn code_block(&self, code: &str) -> String {
        format!("```\n{}\n```", html_escape(&code.replace("```", "'''")))
    }

    fn link(&self, href: &str, children: &[Inline]) -> String {
        let url = href
            .replace('(', "%28")
            .replace(')', "%29")
            .replace(' ', "%20")
            .replace('<', "%3C")
            .replace('>', "%3E");
        format!("[{}]({url})", self.escape(&plain_text(children)))
    }

    fn mention(&self, mention: &Mention) -> String {
        let mut mentioned = self.mentioned.borrow_mut();
        if !mentioned.contains(mention) {
            mentioned.push(mention.clone());
        }
        at_tag(&mention.name)
    }

    fn quote(&self, inner: &str) -> String {
        let lines: Vec<String> = inner
            .split('\n')
            .map(|line| format!("> {line}").trim_end().to_string())
            .collect();
        lines.join("\n")
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
    fn markdown_becomes_teams_markdown() {
        assert_eq!(
            render(
                "**bold** _it_ ~~gone~~ `x<y` [site](https://e.test/a(b))",
                Format::Markdown
            ),
            "**bold** _it_ ~~gone~~ `x&lt;y` [site](https://e.test/a%28b%29)"
        );
        assert_eq!(
            render("> said\n\n- a\n- b", Format::Markdown),
            "> said\n\n• a\n• b"
        );
    }

    #[test]
    fn plain_text_shows_as_typed() {
        assert_eq!(
            render("2*3 <b>not bold</b> & [x](y)", Format::Plain),
            r"2\*3 &lt;b&gt;not bold&lt;/b&gt; &amp; \[x\]\(y\)"
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
