//! Message content rendered for each platform: readers (markdown, Skype
//! rich text, plain text) build one small document (blocks of inlines), writers
//! (Skype, Slack, Teams cards, Teams bot markdown) turn it into what each platform shows. Every
//! entry point is pure and total: any input renders, nothing panics.

mod builder;
mod dialect;
mod discord;
mod document;
mod html;
mod markdown;
mod rich;
mod skype;
mod slack;
mod teams;

pub use discord::discord;
pub use html::{TelegramText, teams_bot, telegram};
pub use skype::skype;
pub use slack::{slack, slack_bot};
pub use teams::teams;

use crate::domain::{Content, Format};
use builder::Builder;
use document::Document;

/// The document `content` describes, its listed mentions first.
fn read(content: &Content) -> Document {
    let text = content.text.as_str();
    let document = match content.format {
        Format::Rich => rich::read(text),
        Format::Markdown => markdown::read(text),
        Format::Plain => {
            let mut builder = Builder::new(false);
            builder.text(text);
            builder.finish()
        }
    };
    document.with_mentions(&content.mentions)
}

/// The writers' tests' content: `text` is a literal known to be a valid message.
#[cfg(test)]
fn test_content(text: &str, format: Format, mentions: Vec<crate::domain::Mention>) -> Content {
    Content::new(
        crate::domain::MessageText::parse(text).unwrap(),
        format,
        mentions,
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::{Mention, MessageText};

    /// Markup-heavy fragments, so random strings reach every construct.
    const FRAGMENTS: &[&str] = &[
        "*",
        "**",
        "_",
        "~~",
        "`",
        "```\n",
        "[",
        "](",
        ")",
        "<",
        ">",
        "&",
        "&amp;",
        "&#x",
        ";",
        "\n",
        "\n\n",
        "  \n",
        "> ",
        "- ",
        "1. ",
        "# ",
        "    ",
        "\\",
        "@{",
        "}",
        "|",
        "8:live:joe",
        "*",
        "<b>",
        "</b>",
        "<at id=\"*\">",
        "</at>",
        "<pre>",
        "</pre>",
        "<quote>",
        "</quote>",
        "<a href=\"",
        "https://e.example",
        "javascript:x",
        "\"",
        "'",
        "<!--",
        "-->",
        "<br/>",
        "é",
        "😀",
        "\u{0}",
        "\r",
        "x",
        " ",
        "![",
        "<div>",
        "\t",
    ];

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            prop::collection::vec(prop::sample::select(FRAGMENTS), 1..60)
                .prop_map(|parts| parts.concat()),
        ]
    }

    /// The names of the tags in Skype markup whose text is all escaped.
    fn tag_names(markup: &str) -> Vec<String> {
        markup
            .split('<')
            .skip(1)
            .map(|tag| {
                tag.trim_start_matches('/')
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect()
            })
            .collect()
    }

    fn all_formats(text: &MessageText) -> Vec<Content> {
        let joe = Mention::new("8:live:joe", None).unwrap();
        [Format::Rich, Format::Plain, Format::Markdown]
            .into_iter()
            .map(|format| Content::new(text.clone(), format, vec![joe.clone()]))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn any_text_renders_everywhere(text in text()) {
            let Ok(text) = MessageText::parse(&text) else {
                return Ok(());
            };
            for content in all_formats(&text) {
                let message = skype(&content);
                prop_assert!(!message.text.trim().is_empty());
                prop_assert!(!slack(&content).trim().is_empty());
                prop_assert!(!teams(&content).is_empty());
            }
        }

        #[test]
        fn markdown_makes_only_the_skype_subset(text in text()) {
            let Ok(text) = MessageText::parse(&text) else {
                return Ok(());
            };
            let content = Content::new(text, Format::Markdown, Vec::new());
            let markup = skype(&content).text;
            for name in tag_names(&markup) {
                prop_assert!(
                    ["b", "i", "s", "pre", "a", "at", "quote"].contains(&name.as_str()),
                    "tag {name:?} in {markup:?}"
                );
            }
        }
    }

    #[test]
    fn deep_nesting_is_harmless() {
        for text in [
            ">".repeat(20_000),
            "- ".repeat(10_000),
            "*_".repeat(5_000) + &"_*".repeat(5_000),
            "[".repeat(10_000),
            "<quote><b>".repeat(2_500),
        ] {
            let text = MessageText::parse(&format!("{text}x")).unwrap();
            for content in all_formats(&text) {
                let _ = (skype(&content), slack(&content), teams(&content));
            }
        }
    }
}
