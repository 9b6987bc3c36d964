//! The three parse modes, turning marked-up text into plain text and
//! entities as the server does (TDLib's `parse_html`, `parse_markdown_v2`,
//! `parse_markdown`), with its error texts: what follows `Bad Request:
//! can't parse entities: ` in the answer.
//!
//! Offsets and lengths are UTF-16 code units, as in the API. After parsing
//! the server trims the text (entities clipped with it); lengths are
//! checked on that result.
//!
//! HTML is where the fake is stricter than the server: the documentation
//! says every `<`, `>` and `&` that is not markup must be escaped, and the
//! server forgives a bare `&` or `>` (keeping it literally). The fake
//! refuses them, so that an adapter that does not escape user text fails
//! here rather than garbling text like `&lt;` in production.

use serde_json::{Value, json};

/// One entity; offsets in UTF-16 code units.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entity {
    pub kind: &'static str,
    pub offset: usize,
    pub length: usize,
    pub url: Option<String>,
    pub user_id: Option<i64>,
    pub language: Option<String>,
    pub custom_emoji_id: Option<String>,
}

impl Entity {
    fn new(kind: &'static str, offset: usize, length: usize) -> Entity {
        Entity {
            kind,
            offset,
            length,
            url: None,
            user_id: None,
            language: None,
            custom_emoji_id: None,
        }
    }

    /// The `MessageEntity` object of the API.
    pub fn to_json(&self) -> Value {
        let mut value = json!({"type": self.kind, "offset": self.offset, "length": self.length});
        if let Some(url) = &self.url {
            value["url"] = json!(url);
        }
        if let Some(id) = self.user_id {
            value["user"] = json!({"id": id, "is_bot": false, "first_name": ""});
        }
        if self.kind == "pre"
            && let Some(language) = &self.language
        {
            value["language"] = json!(language);
        }
        if let Some(id) = &self.custom_emoji_id {
            value["custom_emoji_id"] = json!(id);
        }
        value
    }
}

/// The parse modes the server knows (`parse_mode`, case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Html,
    MarkdownV2,
    Markdown,
}

impl Mode {
    /// `None` for an unknown parse mode.
    pub fn parse(name: &str) -> Option<Mode> {
        match name.to_ascii_lowercase().as_str() {
            "html" => Some(Mode::Html),
            "markdownv2" => Some(Mode::MarkdownV2),
            "markdown" => Some(Mode::Markdown),
            _ => None,
        }
    }
}

/// Parse `text` in `mode` (plain when `None`) and trim it: the text the
/// message will have, its entities as JSON. `Err` is the parser's message.
pub(crate) fn render(text: &str, mode: Option<Mode>) -> Result<(String, Vec<Value>), String> {
    let (plain, mut entities) = match mode {
        None => (text.to_string(), Vec::new()),
        Some(Mode::Html) => parse_html(text)?,
        Some(Mode::MarkdownV2) => parse_markdown_v2(text)?,
        Some(Mode::Markdown) => parse_markdown(text)?,
    };
    entities.sort_by(|a, b| a.offset.cmp(&b.offset).then(b.length.cmp(&a.length)));
    let (plain, entities) = trim(&plain, entities);
    Ok((plain, entities.iter().map(Entity::to_json).collect()))
}

/// Length in UTF-16 code units, the unit of every Bot API limit.
pub(crate) fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0b' | b'\x0c')
}

/// Strip leading and trailing whitespace, clipping entities to what is
/// left and dropping the empty ones.
fn trim(text: &str, entities: Vec<Entity>) -> (String, Vec<Entity>) {
    let start = text.len()
        - text
            .trim_start_matches(|c: char| c.is_ascii_whitespace())
            .len();
    let trimmed = text.trim_matches(|c: char| c.is_ascii_whitespace());
    // Leading ASCII whitespace is one UTF-16 unit per byte.
    let len = utf16_len(trimmed);
    let entities = entities
        .into_iter()
        .filter_map(|mut e| {
            let begin = e.offset.saturating_sub(start).min(len);
            let end = (e.offset + e.length).saturating_sub(start).min(len);
            (end > begin).then(|| {
                e.offset = begin;
                e.length = end - begin;
                e
            })
        })
        .collect();
    (trimmed.to_string(), entities)
}

/// Append one character of `text` at byte `i` to `out`; returns its
/// length in bytes and in UTF-16 units.
fn copy_char(text: &str, i: usize, out: &mut String) -> (usize, usize) {
    let ch = text[i..].chars().next().unwrap_or('\u{fffd}');
    out.push(ch);
    (ch.len_utf8(), ch.len_utf16())
}

// ------------------------------------------------------------------ links

/// What an `<a href>` or `[](...)` URL becomes: a mention of a user
/// (`tg://user?id=N`), a checked and normalized link, or nothing (an
/// invalid URL makes no entity, as on the server).
enum Link {
    User(i64),
    Url(String),
    Invalid,
}

fn check_link(url: &str) -> Link {
    let url = url.trim();
    if let Some(query) = url
        .strip_prefix("tg://user?id=")
        .or_else(|| url.strip_prefix("tg:user?id="))
    {
        return match query.parse::<i64>() {
            Ok(id) if id > 0 => Link::User(id),
            _ => Link::Invalid,
        };
    }
    if url.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Link::Invalid;
    }
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None if url.contains('.') && !url.contains(':') => ("http".to_string(), url),
        None => return Link::Invalid,
    };
    match scheme.as_str() {
        "http" | "https" => {
            // The server answers the URL normalized: host lowercase, and a
            // path of at least "/".
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let host = &rest[..end];
            if host.is_empty() || !host.contains('.') && host != "localhost" {
                return Link::Invalid;
            }
            let tail = &rest[end..];
            let slash = if tail.starts_with('/') { "" } else { "/" };
            Link::Url(format!(
                "{scheme}://{}{slash}{tail}",
                host.to_ascii_lowercase()
            ))
        }
        "tg" | "ton" if !rest.is_empty() => Link::Url(format!("{scheme}://{rest}")),
        _ => Link::Invalid,
    }
}

/// The text link or text mention entity of a link, if it makes one.
fn link_entity(url: &str, offset: usize, length: usize) -> Option<Entity> {
    match check_link(url) {
        Link::User(id) => {
            let mut e = Entity::new("text_mention", offset, length);
            e.user_id = Some(id);
            Some(e)
        }
        Link::Url(url) => {
            let mut e = Entity::new("text_link", offset, length);
            e.url = Some(url);
            Some(e)
        }
        Link::Invalid => None,
    }
}

// ------------------------------------------------------------------- HTML

const HTML_TAGS: &[&str] = &[
    "a",
    "b",
    "strong",
    "i",
    "em",
    "s",
    "strike",
    "del",
    "u",
    "ins",
    "tg-spoiler",
    "tg-emoji",
    "span",
    "pre",
    "code",
    "blockquote",
];

struct OpenTag {
    name: String,
    argument: String,
    offset: usize,
    out_begin: usize,
}

/// `&lt;`, `&gt;`, `&amp;`, `&quot;` and numeric references (`&#60;`,
/// `&#x3C;`), each with its `;`: the character and the index after it.
fn decode_entity(text: &str, pos: usize) -> Option<(char, usize)> {
    let rest = &text[pos + 1..];
    let end = rest.find(';')?;
    let name = &rest[..end];
    let ch = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) if !hex.is_empty() && hex.len() <= 8 => {
                    u32::from_str_radix(hex, 16).ok()?
                }
                Some(_) => return None,
                None if !number.is_empty() && number.len() <= 10 => number.parse().ok()?,
                None => return None,
            };
            char::from_u32(code).filter(|c| *c != '\0')?
        }
    };
    Some((ch, pos + 1 + end + 1))
}

fn parse_html(text: &str) -> Result<(String, Vec<Entity>), String> {
    let b = text.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut out = String::new();
    let mut offset = 0usize;
    let mut open: Vec<OpenTag> = Vec::new();
    let mut entities: Vec<Entity> = Vec::new();
    let mut i = 0usize;
    while i < b.len() {
        let c = b[i];
        if c == b'&' {
            let Some((ch, next)) = decode_entity(text, i) else {
                return Err(format!(
                    "Unescaped \"&\" at byte offset {i}: write it as \"&amp;\""
                ));
            };
            out.push(ch);
            offset += ch.len_utf16();
            i = next;
            continue;
        }
        if c == b'>' {
            return Err(format!(
                "Unescaped \">\" at byte offset {i}: write it as \"&gt;\""
            ));
        }
        if c != b'<' {
            let (bytes, units) = copy_char(text, i, &mut out);
            i += bytes;
            offset += units;
            continue;
        }
        let begin = i;
        i += 1;
        if at(i) != b'/' {
            let mut end = i;
            while end < b.len() && !is_space(b[end]) && b[end] != b'>' {
                end += 1;
            }
            let name = text[i..end].to_ascii_lowercase();
            if !HTML_TAGS.contains(&name.as_str()) {
                return Err(format!(
                    "Unsupported start tag \"{name}\" at byte offset {begin}"
                ));
            }
            i = end;
            let mut argument = String::new();
            while at(i) != b'>' {
                while at(i) != 0 && is_space(at(i)) {
                    i += 1;
                }
                if at(i) == b'>' {
                    break;
                }
                if at(i) == 0 {
                    return Err(format!("Unclosed start tag at byte offset {begin}"));
                }
                let attribute_begin = i;
                while at(i) != 0 && !is_space(at(i)) && at(i) != b'=' && at(i) != b'>' {
                    i += 1;
                }
                let attribute = text[attribute_begin..i].to_ascii_lowercase();
                if attribute.is_empty() {
                    return Err(format!(
                        "Empty attribute name in the tag \"{name}\" at byte offset {begin}"
                    ));
                }
                while at(i) != 0 && is_space(at(i)) {
                    i += 1;
                }
                if at(i) != b'=' {
                    // `<blockquote expandable>`: the one attribute without a value.
                    if name == "blockquote" && attribute == "expandable" {
                        argument = "1".to_string();
                        continue;
                    }
                    if at(i) == 0 {
                        return Err(format!("Unclosed start tag at byte offset {begin}"));
                    }
                    return Err(format!(
                        "Expected equal sign in declaration of an attribute of the tag \"{name}\" at byte offset {begin}"
                    ));
                }
                i += 1;
                while at(i) != 0 && is_space(at(i)) {
                    i += 1;
                }
                if at(i) == 0 {
                    return Err(format!("Unclosed start tag at byte offset {begin}"));
                }
                let mut value = String::new();
                if at(i) != b'\'' && at(i) != b'"' {
                    let token_begin = i;
                    while at(i).is_ascii_alphanumeric() || at(i) == b'.' || at(i) == b'-' {
                        i += 1;
                    }
                    value = text[token_begin..i].to_ascii_lowercase();
                    if !is_space(at(i)) && at(i) != b'>' {
                        return Err(format!(
                            "Unexpected end of name token at byte offset {token_begin}"
                        ));
                    }
                } else {
                    let quote = at(i);
                    i += 1;
                    while at(i) != quote && at(i) != 0 {
                        if at(i) == b'&' {
                            let Some((ch, next)) = decode_entity(text, i) else {
                                return Err(format!(
                                    "Unescaped \"&\" at byte offset {i}: write it as \"&amp;\""
                                ));
                            };
                            value.push(ch);
                            i = next;
                            continue;
                        }
                        let (bytes, _) = copy_char(text, i, &mut value);
                        i += bytes;
                    }
                    if at(i) == quote {
                        i += 1;
                    }
                }
                if at(i) == 0 {
                    return Err(format!("Unclosed start tag at byte offset {begin}"));
                }
                match (name.as_str(), attribute.as_str()) {
                    ("a", "href") | ("tg-emoji", "emoji-id") => argument = value,
                    ("code", "class") => {
                        if let Some(language) = value.strip_prefix("language-") {
                            argument = language.to_string();
                        }
                    }
                    ("span", "class") => {
                        if let Some(class) = value.strip_prefix("tg-") {
                            argument = class.to_string();
                        }
                    }
                    ("blockquote", "expandable") => argument = "1".to_string(),
                    _ => {}
                }
            }
            if name == "span" && argument != "spoiler" {
                return Err(format!(
                    "Tag \"span\" must have class \"tg-spoiler\" at byte offset {begin}"
                ));
            }
            if name == "tg-emoji" && argument.is_empty() {
                return Err(format!(
                    "Tag \"tg-emoji\" must have attribute \"emoji-id\" at byte offset {begin}"
                ));
            }
            i += 1; // the '>'
            open.push(OpenTag {
                name,
                argument,
                offset,
                out_begin: out.len(),
            });
        } else {
            let Some(top) = open.pop() else {
                return Err(format!("Unexpected end tag at byte offset {begin}"));
            };
            let mut end = i + 1;
            while end < b.len() && !is_space(b[end]) && b[end] != b'>' {
                end += 1;
            }
            let end_name = text[i + 1..end].to_ascii_lowercase();
            while at(end) != 0 && is_space(at(end)) {
                end += 1;
            }
            if at(end) != b'>' {
                return Err(format!("Unclosed end tag at byte offset {begin}"));
            }
            if !end_name.is_empty() && end_name != top.name {
                return Err(format!(
                    "Unmatched end tag at byte offset {begin}, expected \"</{}>\", found \"</{end_name}>\"",
                    top.name
                ));
            }
            if offset > top.offset {
                let length = offset - top.offset;
                if let Some(entity) = html_entity(&top, length, &out, &mut entities) {
                    entities.push(entity);
                }
            }
            i = end + 1;
        }
    }
    if let Some(top) = open.last() {
        return Err(format!(
            "Can't find end tag corresponding to start tag \"{}\"",
            top.name
        ));
    }
    Ok((out, entities))
}

/// The entity a closed tag makes (`None`: an invalid link makes none).
fn html_entity(
    tag: &OpenTag,
    length: usize,
    out: &str,
    entities: &mut Vec<Entity>,
) -> Option<Entity> {
    let offset = tag.offset;
    let simple = |kind| Some(Entity::new(kind, offset, length));
    match tag.name.as_str() {
        "b" | "strong" => simple("bold"),
        "i" | "em" => simple("italic"),
        "u" | "ins" => simple("underline"),
        "s" | "strike" | "del" => simple("strikethrough"),
        "tg-spoiler" | "span" => simple("spoiler"),
        "a" => {
            let url = if tag.argument.is_empty() {
                out[tag.out_begin..].to_string()
            } else {
                tag.argument.clone()
            };
            link_entity(&url, offset, length)
        }
        "code" => {
            let mut e = Entity::new("code", offset, length);
            e.language = (!tag.argument.is_empty()).then(|| tag.argument.clone());
            Some(e)
        }
        "pre" => {
            // `<pre><code class="language-x">...</code></pre>`: one `pre`
            // entity with the language, the inner `code` absorbed.
            let mut e = Entity::new("pre", offset, length);
            if let Some(last) = entities.last()
                && last.kind == "code"
                && last.offset == offset
                && last.length == length
            {
                e.language = last.language.clone();
                entities.pop();
            }
            Some(e)
        }
        "tg-emoji" => {
            let mut e = Entity::new("custom_emoji", offset, length);
            e.custom_emoji_id = Some(tag.argument.clone());
            Some(e)
        }
        "blockquote" if tag.argument == "1" => simple("expandable_blockquote"),
        "blockquote" => simple("blockquote"),
        _ => None,
    }
}

// ------------------------------------------------------------- MarkdownV2

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Md {
    Bold,
    Italic,
    Underline,
    Strikethrough,
    Spoiler,
    Code,
    Pre,
    PreCode,
    TextUrl,
    CustomEmoji,
}

struct OpenMd {
    kind: Md,
    argument: String,
    offset: usize,
    byte: usize,
    out_begin: usize,
}

const MD_V2_RESERVED: &[u8] = b"_*[]()~`>#+-=|{}.!";

fn parse_markdown_v2(text: &str) -> Result<(String, Vec<Entity>), String> {
    let b = text.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut out = String::new();
    let mut offset = 0usize;
    let mut open: Vec<OpenMd> = Vec::new();
    let mut entities: Vec<Entity> = Vec::new();
    // A `>` quote: where it began (UTF-16), and whether it is expandable.
    let mut quote: Option<usize> = None;
    let mut i = 0usize;
    while i < b.len() {
        let c = b[i];
        let in_code = matches!(
            open.last().map(|o| o.kind),
            Some(Md::Code | Md::Pre | Md::PreCode)
        );
        let line_start = i == 0 || b[i - 1] == b'\n';
        if line_start && !in_code {
            if c == b'>' {
                quote.get_or_insert(offset);
                i += 1;
                continue;
            }
            if let Some(start) = quote.take() {
                // The quote ends before the line break that ended it.
                let end = offset.saturating_sub(1);
                if end > start {
                    entities.push(Entity::new("blockquote", start, end - start));
                }
            }
        }
        if c == b'\\' && (1..=126).contains(&at(i + 1)) {
            out.push(at(i + 1) as char);
            offset += 1;
            i += 2;
            continue;
        }
        let reserved: &[u8] = if in_code { b"`" } else { MD_V2_RESERVED };
        if !reserved.contains(&c) {
            let (bytes, units) = copy_char(text, i, &mut out);
            i += bytes;
            offset += units;
            continue;
        }
        let ends = open.last().is_some_and(|top| match top.kind {
            Md::Bold => c == b'*',
            Md::Italic => c == b'_' && at(i + 1) != b'_',
            Md::Code => c == b'`',
            Md::Pre | Md::PreCode => c == b'`' && at(i + 1) == b'`' && at(i + 2) == b'`',
            Md::TextUrl | Md::CustomEmoji => c == b']',
            Md::Underline => c == b'_' && at(i + 1) == b'_',
            Md::Strikethrough => c == b'~',
            Md::Spoiler => c == b'|' && at(i + 1) == b'|',
        });
        if !ends {
            let byte = i;
            let mut argument = String::new();
            let kind = match c {
                b'_' if at(i + 1) == b'_' => {
                    i += 1;
                    Md::Underline
                }
                b'_' => Md::Italic,
                b'*' => Md::Bold,
                b'~' => Md::Strikethrough,
                b'|' if at(i + 1) == b'|' => {
                    i += 1;
                    Md::Spoiler
                }
                b'[' => Md::TextUrl,
                b'!' if at(i + 1) == b'[' => {
                    i += 1;
                    Md::CustomEmoji
                }
                b'`' if at(i + 1) == b'`' && at(i + 2) == b'`' => {
                    i += 3;
                    let mut kind = Md::Pre;
                    let mut language_end = i;
                    while language_end < b.len()
                        && !is_space(b[language_end])
                        && b[language_end] != b'`'
                    {
                        language_end += 1;
                    }
                    if i != language_end && language_end < b.len() && b[language_end] != b'`' {
                        kind = Md::PreCode;
                        argument = text[i..language_end].to_string();
                        i = language_end;
                    }
                    // One line break after the opening fence is not text.
                    if at(i) == b'\n' || at(i) == b'\r' {
                        if (at(i + 1) == b'\n' || at(i + 1) == b'\r') && at(i) != at(i + 1) {
                            i += 2;
                        } else {
                            i += 1;
                        }
                    }
                    i -= 1;
                    kind
                }
                b'`' => Md::Code,
                _ => {
                    return Err(format!(
                        "Character '{}' is reserved and must be escaped with the preceding '\\'",
                        c as char
                    ));
                }
            };
            open.push(OpenMd {
                kind,
                argument,
                offset,
                byte,
                out_begin: out.len(),
            });
            i += 1;
            continue;
        }
        let Some(top) = open.pop() else {
            unreachable!("an entity ends only when one is open")
        };
        let length = offset - top.offset;
        let entity = match top.kind {
            Md::Bold => Some(Entity::new("bold", top.offset, length)),
            Md::Italic => Some(Entity::new("italic", top.offset, length)),
            Md::Strikethrough => Some(Entity::new("strikethrough", top.offset, length)),
            Md::Code => Some(Entity::new("code", top.offset, length)),
            Md::Underline => {
                i += 1;
                Some(Entity::new("underline", top.offset, length))
            }
            Md::Spoiler => {
                i += 1;
                Some(Entity::new("spoiler", top.offset, length))
            }
            Md::Pre | Md::PreCode => {
                i += 2;
                let mut e = Entity::new("pre", top.offset, length);
                e.language = (top.kind == Md::PreCode).then(|| top.argument.clone());
                Some(e)
            }
            Md::TextUrl | Md::CustomEmoji => {
                let url = if at(i + 1) == b'(' {
                    let url_begin = i + 1;
                    i += 2;
                    let mut url = String::new();
                    while i < b.len() && b[i] != b')' {
                        if b[i] == b'\\' && (1..=126).contains(&at(i + 1)) {
                            url.push(at(i + 1) as char);
                            i += 2;
                            continue;
                        }
                        let (bytes, _) = copy_char(text, i, &mut url);
                        i += bytes;
                    }
                    if at(i) != b')' {
                        return Err(format!(
                            "Can't find end of a URL at byte offset {url_begin}"
                        ));
                    }
                    url
                } else if top.kind == Md::CustomEmoji {
                    return Err(format!(
                        "Custom emoji entity must contain a tg://emoji URL at byte offset {}",
                        top.byte
                    ));
                } else {
                    out[top.out_begin..].to_string()
                };
                if top.kind == Md::CustomEmoji {
                    let Some(id) = url.strip_prefix("tg://emoji?id=") else {
                        return Err(format!(
                            "Custom emoji URL must have an emoji identifier at byte offset {}",
                            top.byte
                        ));
                    };
                    let mut e = Entity::new("custom_emoji", top.offset, length);
                    e.custom_emoji_id = Some(id.to_string());
                    Some(e)
                } else {
                    link_entity(&url, top.offset, length)
                }
            }
        };
        if length > 0
            && let Some(entity) = entity
        {
            entities.push(entity);
        }
        i += 1;
    }
    if let Some(top) = open.last() {
        return Err(format!(
            "Can't find end of {:?} entity at byte offset {}",
            top.kind, top.byte
        ));
    }
    if let Some(start) = quote
        && offset > start
    {
        entities.push(Entity::new("blockquote", start, offset - start));
    }
    Ok((out, entities))
}

// --------------------------------------------------------------- Markdown

/// The legacy mode: `*bold*`, `_italic_`, `` `code` ``, ```` ```pre``` ````,
/// `[text](url)`; no nesting, only `_*`[` escapable.
fn parse_markdown(text: &str) -> Result<(String, Vec<Entity>), String> {
    let b = text.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut out = String::new();
    let mut offset = 0usize;
    let mut entities = Vec::new();
    let mut i = 0usize;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' && matches!(at(i + 1), b'_' | b'*' | b'`' | b'[') {
            out.push(at(i + 1) as char);
            offset += 1;
            i += 2;
            continue;
        }
        if !matches!(c, b'_' | b'*' | b'`' | b'[') {
            let (bytes, units) = copy_char(text, i, &mut out);
            i += bytes;
            offset += units;
            continue;
        }
        let begin = i;
        let end_char = if c == b'[' { b']' } else { c };
        i += 1;
        let mut is_pre = false;
        let mut language = None;
        if c == b'`' && at(i) == b'`' && at(i + 1) == b'`' {
            i += 2;
            is_pre = true;
            let mut language_end = i;
            while language_end < b.len() && !is_space(b[language_end]) && b[language_end] != b'`' {
                language_end += 1;
            }
            if i != language_end && language_end < b.len() && b[language_end] != b'`' {
                language = Some(text[i..language_end].to_string());
                i = language_end;
            }
            if at(i) == b'\n' || at(i) == b'\r' {
                if (at(i + 1) == b'\n' || at(i + 1) == b'\r') && at(i) != at(i + 1) {
                    i += 2;
                } else {
                    i += 1;
                }
            }
        }
        let start = offset;
        let out_begin = out.len();
        while i < b.len()
            && (b[i] != end_char || (is_pre && !(at(i + 1) == b'`' && at(i + 2) == b'`')))
        {
            let (bytes, units) = copy_char(text, i, &mut out);
            i += bytes;
            offset += units;
        }
        if i >= b.len() {
            return Err(format!(
                "Can't find end of the entity starting at byte offset {begin}"
            ));
        }
        let length = offset - start;
        let entity = match c {
            b'_' => Some(Entity::new("italic", start, length)),
            b'*' => Some(Entity::new("bold", start, length)),
            b'`' if is_pre => {
                let mut e = Entity::new("pre", start, length);
                e.language = language;
                i += 2;
                Some(e)
            }
            b'`' => Some(Entity::new("code", start, length)),
            _ => {
                let url = if at(i + 1) == b'(' {
                    let url_begin = i + 1;
                    i += 2;
                    let mut url = String::new();
                    while i < b.len() && b[i] != b')' {
                        let (bytes, _) = copy_char(text, i, &mut url);
                        i += bytes;
                    }
                    if i >= b.len() {
                        return Err(format!(
                            "Can't find end of a URL at byte offset {url_begin}"
                        ));
                    }
                    url
                } else {
                    out[out_begin..].to_string()
                };
                link_entity(&url, start, length)
            }
        };
        if length > 0
            && let Some(entity) = entity
        {
            entities.push(entity);
        }
        i += 1;
    }
    Ok((out, entities))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(text: &str) -> Result<(String, Vec<Value>), String> {
        render(text, Some(Mode::Html))
    }

    #[test]
    fn html_nested_and_pre_code() {
        let (text, entities) =
            html("<b>bold <i>both</i></b> <pre><code class=\"language-rust\">fn</code></pre>")
                .unwrap();
        assert_eq!(text, "bold both fn");
        assert_eq!(
            entities,
            vec![
                json!({"type": "bold", "offset": 0, "length": 9}),
                json!({"type": "italic", "offset": 5, "length": 4}),
                json!({"type": "pre", "offset": 10, "length": 2, "language": "rust"}),
            ]
        );
    }

    #[test]
    fn html_errors() {
        assert_eq!(
            html("a <br> b").unwrap_err(),
            "Unsupported start tag \"br\" at byte offset 2"
        );
        assert_eq!(
            html("<b>x").unwrap_err(),
            "Can't find end tag corresponding to start tag \"b\""
        );
        assert!(html("a & b").unwrap_err().starts_with("Unescaped \"&\""));
        assert_eq!(
            html("<b>x</i>").unwrap_err(),
            "Unmatched end tag at byte offset 4, expected \"</b>\", found \"</i>\""
        );
    }

    #[test]
    fn markdown_v2() {
        let (text, entities) = render(
            "*b* _i_ __u__ [l](https://Example.com) a\\.b",
            Some(Mode::MarkdownV2),
        )
        .unwrap();
        assert_eq!(text, "b i u l a.b");
        assert_eq!(entities[3]["url"], "https://example.com/");
        assert_eq!(
            render("a.b", Some(Mode::MarkdownV2)).unwrap_err(),
            "Character '.' is reserved and must be escaped with the preceding '\\'"
        );
        assert_eq!(
            render("*a", Some(Mode::MarkdownV2)).unwrap_err(),
            "Can't find end of Bold entity at byte offset 0"
        );
        let (text, entities) = render(">quoted\nplain", Some(Mode::MarkdownV2)).unwrap();
        assert_eq!(text, "quoted\nplain");
        assert_eq!(
            entities,
            vec![json!({"type": "blockquote", "offset": 0, "length": 6})]
        );
    }

    #[test]
    fn markdown_legacy() {
        let (text, entities) = render("*b* _i_ a.b", Some(Mode::Markdown)).unwrap();
        assert_eq!(text, "b i a.b");
        assert_eq!(entities.len(), 2);
        assert_eq!(
            render("x *b", Some(Mode::Markdown)).unwrap_err(),
            "Can't find end of the entity starting at byte offset 2"
        );
    }
}
