//! Microsoft Teams: the `body` elements of an Adaptive Card (1.4). Text is
//! TextBlocks in the markdown subset cards support (`**bold**`, `_italic_`,
//! `[text](url)`, `- ` and `1. ` lists); code is a monospace TextBlock,
//! quotes an emphasis Container. Cards have no strikethrough or inline
//! code: their text is kept plain. Mentions show as `@Name`.

use serde_json::{Value, json};

use super::document::{Block, Inline, plain_text, wrap};
use crate::domain::Content;

/// A line break inside a TextBlock (a single `\n` is not one in cards).
const BREAK: &str = "\n\n";
/// Between list items (what the Adaptive Cards documentation uses).
const ITEM_BREAK: &str = "\r";

/// The card body elements for `content`.
pub fn teams(content: &Content) -> Vec<Value> {
    let body = blocks(&super::read(content).blocks);
    if body.is_empty() {
        return vec![text_block(escape(content.text.as_str(), true))];
    }
    body
}

fn blocks(blocks: &[Block]) -> Vec<Value> {
    blocks.iter().map(block).collect()
}

fn block(block: &Block) -> Value {
    match block {
        Block::Paragraph(content) => text_block(inlines(content, BREAK)),
        Block::Heading(content) => {
            let mut heading = text_block(inlines(content, BREAK));
            heading["weight"] = json!("Bolder");
            heading["size"] = json!("Medium");
            heading
        }
        Block::Code(code) => {
            let mut code = text_block(code_text(code, BREAK));
            code["fontType"] = json!("Monospace");
            code
        }
        Block::Quote(inner) => {
            json!({"type": "Container", "style": "emphasis", "items": blocks(inner)})
        }
        Block::List { start, items } => text_block(list(*start, items)),
    }
}

fn text_block(text: String) -> Value {
    json!({"type": "TextBlock", "text": text, "wrap": true})
}

/// A list as card markdown: one line per item, nested lists indented.
fn list(start: Option<u64>, items: &[Vec<Block>]) -> String {
    let lines: Vec<String> = items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let marker = match start {
                Some(start) => format!("{}. ", start.saturating_add(index as u64)),
                None => "- ".to_string(),
            };
            let mut text = String::new();
            let mut nested = Vec::new();
            for block in item {
                match block {
                    Block::List { start, items } => nested.push(list(*start, items)),
                    other => {
                        if !text.is_empty() {
                            text.push(' ');
                        }
                        text.push_str(&item_text(other));
                    }
                }
            }
            let mut line = format!("{marker}{text}");
            for inner in nested {
                for inner_line in inner.split(ITEM_BREAK) {
                    line.push_str(ITEM_BREAK);
                    line.push_str("  ");
                    line.push_str(inner_line);
                }
            }
            line
        })
        .collect();
    lines.join(ITEM_BREAK)
}

/// A block inside a list item, on one line.
fn item_text(block: &Block) -> String {
    match block {
        Block::Paragraph(content) | Block::Heading(content) => inlines(content, " "),
        Block::Code(code) => code_text(code, " "),
        Block::Quote(inner) => inner.iter().map(item_text).collect::<Vec<_>>().join(" "),
        Block::List { start, items } => list(*start, items),
    }
}

/// Code lines, escaped, their indentation kept (markdown would eat spaces).
fn code_text(code: &str, line_break: &str) -> String {
    let lines: Vec<String> = code
        .split('\n')
        .map(|line| {
            let body = line.trim_start_matches(' ');
            let indent = "\u{a0}".repeat(line.len() - body.len());
            format!("{indent}{}", escape(body, true))
        })
        .collect();
    lines.join(line_break)
}

fn inlines(content: &[Inline], line_break: &str) -> String {
    let mut out = String::new();
    let mut line_start = true;
    for inline in content {
        out.push_str(&match inline {
            Inline::Text(text) => escape(text, line_start),
            Inline::Bold(children) => wrap(&inlines(children, line_break), "**", "**"),
            Inline::Italic(children) => wrap(&inlines(children, line_break), "_", "_"),
            Inline::Strike(children) => inlines(children, line_break),
            Inline::Code(code) => escape(code, line_start),
            Inline::Link { href, children } => {
                format!("[{}]({})", escape(&plain_text(children), false), url(href))
            }
            Inline::Mention(mention) => escape(&format!("@{}", mention.name), line_start),
            Inline::Break => line_break.to_string(),
        });
        line_start = matches!(inline, Inline::Break);
    }
    out
}

/// Characters a link destination cannot hold as they are.
fn url(href: &str) -> String {
    href.replace('(', "%28")
        .replace(')', "%29")
        .replace(' ', "%20")
}

/// Text shown as typed: every character card markdown could read as markup
/// is backslash-escaped; at a line's start, list and heading markers too.
fn escape(text: &str, line_start: bool) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    if line_start {
        let indent = rest.len() - rest.trim_start().len();
        out.push_str(&rest[..indent]);
        rest = &rest[indent..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 && rest[digits..].starts_with(['.', ')']) {
            out.push_str(&rest[..digits]);
            out.push('\\');
            rest = &rest[digits..];
        } else if rest.starts_with(['-', '+', '#', '>', '=']) {
            out.push('\\');
        }
    }
    for c in rest.chars() {
        if matches!(
            c,
            '\\' | '*' | '_' | '[' | ']' | '`' | '<' | '>' | '&' | '~' | '|'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::{Format, Mention};
    use crate::render::test_content;

    fn render(text: &str, format: Format) -> Vec<Value> {
        teams(&test_content(text, format, vec![]))
    }

    fn block(text: &str) -> Value {
        json!({"type": "TextBlock", "text": text, "wrap": true})
    }

    #[test]
    fn markdown_constructs() {
        assert_eq!(
            render(
                "**b** *i* ~~s~~ `c*` [docs](https://e.example/a_(b))",
                Format::Markdown
            ),
            vec![block(
                r"**b** _i_ s c\* [docs](https://e.example/a_%28b%29)"
            )]
        );
        assert_eq!(
            render("# Title\n\npara\nline", Format::Markdown),
            vec![
                json!({"type": "TextBlock", "text": "Title", "wrap": true, "weight": "Bolder", "size": "Medium"}),
                block("para\n\nline"),
            ]
        );
        assert_eq!(
            render("- a\n- b\n  - c\n\n3. x\n4. y", Format::Markdown),
            vec![block("- a\r- b\r  - c"), block("3. x\r4. y")]
        );
        assert_eq!(
            render("```\nif a < b {\n    *p = 1;\n}\n```", Format::Markdown),
            vec![
                json!({"type": "TextBlock", "text": "if a \\< b {\n\n\u{a0}\u{a0}\u{a0}\u{a0}\\*p = 1;\n\n}", "wrap": true, "fontType": "Monospace"})
            ]
        );
        assert_eq!(
            render("> quoted **x**\n\nafter", Format::Markdown),
            vec![
                json!({"type": "Container", "style": "emphasis", "items": [block("quoted **x**")]}),
                block("after"),
            ]
        );
        assert_eq!(
            render("[x](javascript:alert(1))", Format::Markdown),
            vec![block("x")]
        );
    }

    #[test]
    fn plain_text_is_shown_literally() {
        assert_eq!(
            render(
                "- not a list\n1. nor this\n**not bold** [no](link) # x\n#tag",
                Format::Plain
            ),
            vec![block(
                "\\- not a list\n\n1\\. nor this\n\n\\*\\*not bold\\*\\* \\[no\\](link) # x\n\n\\#tag"
            )]
        );
    }

    #[test]
    fn rich_text_and_mentions() {
        assert_eq!(
            render(
                r#"<b>Build</b> <s>ok</s> <at id="8:joe">Joe</at>"#,
                Format::Rich
            ),
            vec![block("**Build** ok @Joe")]
        );
        let mentions = Mention::parse_list(&json!(["*"])).unwrap();
        let content = test_content("```\ncode\n```", Format::Markdown, mentions);
        assert_eq!(
            teams(&content),
            vec![
                block("@All"),
                json!({"type": "TextBlock", "text": "code", "wrap": true, "fontType": "Monospace"})
            ]
        );
    }
}
