//! Discord markdown, the `content` of a webhook message: `**bold**`,
//! `*italic*`, `~~strike~~`, code, `[text](<url>)` links, `> ` quotes.
//! Discord honours a backslash before any marker character, so the
//! caller's text is shown as typed (parentheses need none: with `[` and
//! `]` escaped, no link can form). Mentions of Discord user ids (digits)
//! are `<@id>`, and only those people are pinged (`allowed_mentions`); any
//! other mention shows as `@Name`. The walk is shared (`dialect`).

use std::cell::RefCell;

use super::dialect::{self, Dialect};
use super::document::{Inline, plain_text, quote_lines, wrap};
use crate::bots::discord::DiscordMessage;
use crate::domain::{Content, Mention};

/// The Discord message for `content`.
pub fn discord(content: &Content) -> DiscordMessage {
    let writer = Discord::default();
    let text = dialect::write(&writer, &super::read(content), content.text.as_str());
    DiscordMessage {
        content: text,
        pings: writer.pings.into_inner(),
    }
}

/// Discord markdown; remembers whom it pinged.
#[derive(Default)]
struct Discord {
    pings: RefCell<Vec<String>>,
}

impl Dialect for Discord {
    fn escape(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if matches!(
                c,
                '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '<' | '#' | '-' | '[' | ']' | '@'
            ) {
                out.push('\\');
            }
            out.push(c);
        }
        out
    }

    fn bold(&self, inner: &str) -> String {
        wrap(inner, "**", "**")
    }

    fn italic(&self, inner: &str) -> String {
        wrap(inner, "*", "*")
    }

    fn strike(&self, inner: &str) -> String {
        wrap(inner, "~~", "~~")
    }

    /// Code cannot escape a backtick: it gets fences one longer.
    fn inline_code(&self, code: &str) -> String {
        match code.contains('`') {
            true => format!("`` {code} ``"),
            false => format!("`{code}`"),
        }
    }

    fn code_block(&self, code: &str) -> String {
        format!("```\n{}\n```", code.replace("```", "`\u{200b}``"))
    }

    fn link(&self, href: &str, children: &[Inline]) -> String {
        let href = href.replace('>', "%3E").replace(' ', "%20");
        format!("[{}](<{href}>)", self.escape(&plain_text(children)))
    }

    fn mention(&self, mention: &Mention) -> String {
        let snowflake =
            (15..=21).contains(&mention.id.len()) && mention.id.bytes().all(|b| b.is_ascii_digit());
        if !snowflake {
            return self.escape(&format!("@{}", mention.name));
        }
        let mut pings = self.pings.borrow_mut();
        if !pings.contains(&mention.id) {
            pings.push(mention.id.clone());
        }
        format!("<@{}>", mention.id)
    }

    fn quote(&self, inner: &str) -> String {
        quote_lines(inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Format;
    use crate::render::test_content;

    #[test]
    fn markdown_and_plain_text_as_discord_shows_them() {
        let render = |text: &str, format| discord(&test_content(text, format, vec![])).content;
        assert_eq!(
            render(
                "**b** _i_ ~~s~~ `c` [site](https://e.test/a)",
                Format::Markdown
            ),
            "**b** *i* ~~s~~ `c` [site](<https://e.test/a>)"
        );
        assert_eq!(
            render("2*3 <@123> @everyone", Format::Plain),
            r"2\*3 \<\@123\> \@everyone"
        );
    }

    #[test]
    fn only_listed_discord_users_are_pinged() {
        let joe = Mention::new("123456789012345678", Some("Joe")).unwrap();
        let skype = Mention::new("8:live:ann", Some("Ann")).unwrap();
        let message = discord(&test_content("hi", Format::Plain, vec![joe, skype]));
        assert_eq!(message.content, r"<@123456789012345678> \@Ann hi");
        assert_eq!(message.pings, ["123456789012345678"]);
    }
}
