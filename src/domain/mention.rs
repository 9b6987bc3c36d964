//! Who a message mentions: the payload's `mentions` list and the inline
//! `@{id}` / `@{id|Name}` form, both checked once here.

use serde_json::Value;

use super::message::MessageError;

/// The most mentions one message may list.
pub const MAX_MENTIONS: usize = 100;
/// The longest user id or display name we accept, in characters.
const MAX_MENTION_CHARS: usize = 256;
/// The longest inline `@{...}` we look at (id, `|` and name), in characters.
const MAX_INLINE_CHARS: usize = 2 * MAX_MENTION_CHARS + 1;

/// A person (or, with id `*`, everyone) a message calls out; Skype
/// notifies them, other platforms show `@Name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    /// The Skype user id (`8:live:joe`), or `*` for everyone.
    pub id: String,
    /// What the mention shows.
    pub name: String,
}

impl Mention {
    /// A mention of `id`, checked; a blank `name` falls back to the default.
    pub fn new(id: &str, name: Option<&str>) -> Result<Self, MentionProblem> {
        if id.is_empty() {
            return Err(MentionProblem::EmptyId);
        }
        if id.chars().count() > MAX_MENTION_CHARS {
            return Err(MentionProblem::IdTooLong);
        }
        if id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | '&'))
        {
            return Err(MentionProblem::BadId);
        }
        let name = match name.map(str::trim).filter(|name| !name.is_empty()) {
            Some(name) if name.chars().count() > MAX_MENTION_CHARS => {
                return Err(MentionProblem::NameTooLong);
            }
            Some(name) => name.to_string(),
            None => default_name(id),
        };
        Ok(Self {
            id: id.to_string(),
            name,
        })
    }

    /// Reads the payload's optional `mentions` field: `null` (none), a list
    /// of ids (`"8:live:joe"`, `"*"`) or `{"id": ..., "name": ...}` objects,
    /// or one string of comma-separated ids (what a form post can carry).
    pub fn parse_list(value: &Value) -> Result<Vec<Mention>, MessageError> {
        let entries: Vec<Value> = match value {
            Value::Null => return Ok(Vec::new()),
            Value::Array(entries) => entries.clone(),
            Value::String(ids) => ids
                .split(',')
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(|id| Value::String(id.to_string()))
                .collect(),
            _ => return Err(MessageError::MentionsNotAList),
        };
        if entries.len() > MAX_MENTIONS {
            return Err(MessageError::TooManyMentions(entries.len()));
        }
        entries
            .iter()
            .enumerate()
            .map(|(index, entry)| parse_entry(entry).map_err(|problem| problem.at(index)))
            .collect()
    }
}

/// What is wrong with one mention (the list error adds its position).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MentionProblem {
    /// Neither a string nor an object with a string `id` (and string `name`).
    Shape,
    /// The id is empty.
    EmptyId,
    /// The id has whitespace or one of `<>"&`.
    BadId,
    /// The id is over 256 characters.
    IdTooLong,
    /// The name is over 256 characters.
    NameTooLong,
}

impl MentionProblem {
    fn at(self, index: usize) -> MessageError {
        match self {
            Self::Shape => MessageError::MentionShape(index),
            Self::EmptyId => MessageError::MentionIdEmpty(index),
            Self::BadId => MessageError::MentionIdInvalid(index),
            Self::IdTooLong => MessageError::MentionIdTooLong(index),
            Self::NameTooLong => MessageError::MentionNameTooLong(index),
        }
    }
}

fn parse_entry(entry: &Value) -> Result<Mention, MentionProblem> {
    match entry {
        Value::String(id) => Mention::new(id.trim(), None),
        Value::Object(object) => {
            let id = object.get("id").and_then(Value::as_str);
            let name = match object.get("name") {
                None | Some(Value::Null) => None,
                Some(Value::String(name)) => Some(name.as_str()),
                Some(_) => return Err(MentionProblem::Shape),
            };
            Mention::new(id.ok_or(MentionProblem::Shape)?.trim(), name)
        }
        _ => Err(MentionProblem::Shape),
    }
}

/// "joe" for `8:live:joe`, "All" for `*`: what Skype clients show anyway.
fn default_name(id: &str) -> String {
    if id == "*" {
        return "All".to_string();
    }
    match id.rsplit(':').next() {
        Some(last) if !last.is_empty() => last.to_string(),
        _ => id.to_string(),
    }
}

/// A run of text, or an inline mention found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text as written.
    Text(&'a str),
    /// A valid `@{id}` or `@{id|Name}`.
    Mention(Mention),
}

/// Splits `text` at its inline mentions (`@{8:live:joe}`, `@{8:live:joe|Joe
/// Bloggs}`, `@{*}`); an invalid one stays text. Adjacent text is one piece.
pub fn split_inline(text: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut plain_from = 0;
    let mut search_from = 0;
    while let Some(found) = text[search_from..].find("@{") {
        let start = search_from + found;
        let inner_start = start + 2;
        search_from = inner_start;
        let Some(mention) = inline_at(&text[inner_start..]) else {
            continue;
        };
        let (mention, inner_len) = mention;
        if plain_from < start {
            pieces.push(Piece::Text(&text[plain_from..start]));
        }
        pieces.push(Piece::Mention(mention));
        // Skip the inner text and the closing brace.
        plain_from = inner_start + inner_len + 1;
        search_from = plain_from;
    }
    if plain_from < text.len() {
        pieces.push(Piece::Text(&text[plain_from..]));
    }
    pieces
}

/// The mention whose inner text starts `rest` (after `@{`), and that inner
/// text's length in bytes (without the `}`).
fn inline_at(rest: &str) -> Option<(Mention, usize)> {
    let inner_len = rest
        .char_indices()
        .take(MAX_INLINE_CHARS + 1)
        .find(|(_, c)| matches!(c, '}' | '{' | '\n'))
        .filter(|(_, c)| *c == '}')
        .map(|(at, _)| at)?;
    let inner = &rest[..inner_len];
    let (id, name) = match inner.split_once('|') {
        Some((id, name)) => (id, Some(name)),
        None => (inner, None),
    };
    Mention::new(id, name)
        .ok()
        .map(|mention| (mention, inner_len))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn mention(id: &str, name: &str) -> Mention {
        Mention {
            id: id.into(),
            name: name.into(),
        }
    }

    #[test]
    fn lists_of_ids_and_objects() {
        let list =
            json!(["8:live:joe", "*", {"id": "8:live:ann", "name": " Ann Lee "}, {"id": "8:bob"}]);
        assert_eq!(
            Mention::parse_list(&list).unwrap(),
            vec![
                mention("8:live:joe", "joe"),
                mention("*", "All"),
                mention("8:live:ann", "Ann Lee"),
                mention("8:bob", "bob"),
            ]
        );
        assert_eq!(Mention::parse_list(&Value::Null).unwrap(), vec![]);
        assert_eq!(
            Mention::parse_list(&json!("8:a, 8:b")).unwrap(),
            vec![mention("8:a", "a"), mention("8:b", "b")]
        );
        assert_eq!(
            Mention::parse_list(&json!(["8:x:"])).unwrap(),
            vec![mention("8:x:", "8:x:")]
        );
    }

    #[test]
    fn every_problem_has_its_error() {
        let parse = |value: Value| Mention::parse_list(&value).unwrap_err();
        assert_eq!(parse(json!(42)), MessageError::MentionsNotAList);
        assert_eq!(parse(json!({"id": "8:a"})), MessageError::MentionsNotAList);
        assert_eq!(parse(json!(["8:a", 7])), MessageError::MentionShape(1));
        assert_eq!(parse(json!([{"name": "x"}])), MessageError::MentionShape(0));
        assert_eq!(
            parse(json!([{"id": "8:a", "name": 3}])),
            MessageError::MentionShape(0)
        );
        assert_eq!(parse(json!([" "])), MessageError::MentionIdEmpty(0));
        for bad in ["8:a b", "8:<a>", "8:a\"", "8:a&b", "8:\u{7}"] {
            assert_eq!(parse(json!([bad])), MessageError::MentionIdInvalid(0));
        }
        assert_eq!(
            parse(json!(["x".repeat(257)])),
            MessageError::MentionIdTooLong(0)
        );
        assert_eq!(
            parse(json!([{"id": "8:a", "name": "n".repeat(257)}])),
            MessageError::MentionNameTooLong(0)
        );
        let many: Vec<Value> = (0..101).map(|i| json!(format!("8:u{i}"))).collect();
        assert_eq!(
            parse(Value::Array(many)),
            MessageError::TooManyMentions(101)
        );
        let hundred: Vec<Value> = (0..100).map(|i| json!(format!("8:u{i}"))).collect();
        assert_eq!(
            Mention::parse_list(&Value::Array(hundred)).unwrap().len(),
            100
        );
    }

    #[test]
    fn inline_mentions_are_found() {
        assert_eq!(
            split_inline("hi @{8:live:joe} and @{8:ann|Ann Lee}, @{*}!"),
            vec![
                Piece::Text("hi "),
                Piece::Mention(mention("8:live:joe", "joe")),
                Piece::Text(" and "),
                Piece::Mention(mention("8:ann", "Ann Lee")),
                Piece::Text(", "),
                Piece::Mention(mention("*", "All")),
                Piece::Text("!"),
            ]
        );
    }

    #[test]
    fn invalid_inline_mentions_stay_text() {
        for text in [
            "@{}",
            "@{a b}",
            "@{8:joe",
            "@{@{8:joe}",
            "@{8:<x>}",
            "mail@{x",
            "@{8:a\n}",
        ] {
            let joined: String = split_inline(text)
                .into_iter()
                .map(|piece| match piece {
                    Piece::Text(text) => text.to_string(),
                    Piece::Mention(m) => format!("<{}>", m.id),
                })
                .collect();
            let expected = if text == "@{@{8:joe}" {
                "@{<8:joe>".to_string()
            } else {
                text.to_string()
            };
            assert_eq!(joined, expected, "{text}");
        }
        assert_eq!(split_inline("é@{8:é|Zoë}ü").len(), 3);
        assert_eq!(split_inline(""), vec![]);
    }
}
