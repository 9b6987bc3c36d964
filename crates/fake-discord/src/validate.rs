//! The body's fields, checked as Discord checks them: every failure is
//! collected under its JSON path into one `50035 Invalid Form Body`
//! answer, with Discord's `_errors` codes and messages. Unknown fields are
//! ignored, as Discord ignores them.
//!
//! Types are checked strictly: Discord coerces a few scalars (a number as
//! `content`), the fake refuses them, so an adapter that sends the wrong
//! type learns it here rather than in production.

use serde_json::{Map, Value};

use super::MAX_CONTENT_CHARS;
use super::wire::{FormErrors, Resp, is_snowflake};

/// Which request is checked (edits take fewer fields).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Execute,
    Edit,
}

/// Embed limits (characters), and the total across a message's embeds.
const MAX_EMBEDS: usize = 10;
const MAX_EMBED_TOTAL: usize = 6000;
const MAX_ATTACHMENTS: usize = 10;
const MAX_MENTION_IDS: usize = 100;

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Check `body`: `Ok` or the 400 with every error found.
pub(crate) fn check(body: &Value, kind: Kind) -> Result<(), Resp> {
    let mut errors = FormErrors::default();
    let Some(fields) = body.as_object() else {
        errors.add(
            &[],
            "DICT_TYPE_CONVERT",
            "Only dictionaries may be used in a DictType",
        );
        return Err(errors.into_resp());
    };
    let mut ck = Checker {
        errors: &mut errors,
    };
    if let Some(content) = ck.string(fields, "content", &["content"]) {
        ck.max_len(&["content"], content, MAX_CONTENT_CHARS);
    }
    if kind == Kind::Execute {
        if let Some(name) = ck.string(fields, "username", &["username"]) {
            let len = chars(name);
            if !(1..=80).contains(&len) {
                ck.errors.add(
                    &["username"],
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 80 in length.",
                );
            }
            for word in ["discord", "clyde"] {
                if name.to_lowercase().contains(word) {
                    ck.errors.add(
                        &["username"],
                        "USERNAME_INVALID_CONTAINS",
                        &format!("Username cannot contain \"{word}\""),
                    );
                }
            }
        }
        ck.string(fields, "avatar_url", &["avatar_url"]);
        ck.boolean(fields, "tts", &["tts"]);
        ck.string(fields, "thread_name", &["thread_name"]);
    }
    ck.integer(fields, "flags", &["flags"]);
    if let Some(embeds) = ck.list(fields, "embeds", &["embeds"]) {
        ck.embeds(embeds);
    }
    if let Some(allowed) = ck.object(fields, "allowed_mentions", &["allowed_mentions"]) {
        ck.allowed_mentions(allowed);
    }
    if let Some(attachments) = ck.list(fields, "attachments", &["attachments"]) {
        ck.attachments(attachments);
    }
    if let Some(components) = ck.list(fields, "components", &["components"]) {
        for (i, component) in components.iter().enumerate() {
            if !component.is_object() {
                ck.model(&["components", &i.to_string()]);
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.into_resp())
    }
}

struct Checker<'a> {
    errors: &'a mut FormErrors,
}

impl Checker<'_> {
    fn model(&mut self, path: &[&str]) {
        self.errors
            .add(path, "MODEL_TYPE_CONVERT", "Expected an object/dictionary.");
    }

    fn max_len(&mut self, path: &[&str], s: &str, max: usize) {
        if chars(s) > max {
            self.errors.add(
                path,
                "BASE_TYPE_MAX_LENGTH",
                &format!("Must be {max} or fewer in length."),
            );
        }
    }

    fn required(&mut self, path: &[&str]) {
        self.errors
            .add(path, "BASE_TYPE_REQUIRED", "This field is required");
    }

    /// A string field (absent or null: `None`, no error).
    fn string<'v>(
        &mut self,
        fields: &'v Map<String, Value>,
        key: &str,
        path: &[&str],
    ) -> Option<&'v str> {
        match fields.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(other) => {
                self.errors.add(
                    path,
                    "BASE_TYPE_STRING",
                    &format!("Could not interpret \"{other}\" as string."),
                );
                None
            }
        }
    }

    fn boolean(&mut self, fields: &Map<String, Value>, key: &str, path: &[&str]) {
        if let Some(value) = fields.get(key)
            && !value.is_null()
            && !value.is_boolean()
        {
            self.errors
                .add(path, "BASE_TYPE_BOOLEAN", "Must be either true or false.");
        }
    }

    fn integer(&mut self, fields: &Map<String, Value>, key: &str, path: &[&str]) -> Option<u64> {
        match fields.get(key) {
            None | Some(Value::Null) => None,
            Some(value) => match value.as_u64() {
                Some(n) => Some(n),
                None => {
                    let shown = value.as_str().map_or(value.to_string(), str::to_string);
                    self.errors.add(
                        path,
                        "NUMBER_TYPE_COERCE",
                        &format!("Value \"{shown}\" is not int."),
                    );
                    None
                }
            },
        }
    }

    fn list<'v>(
        &mut self,
        fields: &'v Map<String, Value>,
        key: &str,
        path: &[&str],
    ) -> Option<&'v Vec<Value>> {
        match fields.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Array(list)) => Some(list),
            Some(_) => {
                self.errors.add(
                    path,
                    "LIST_TYPE_CONVERT",
                    "Only iterables may be used in a ListType",
                );
                None
            }
        }
    }

    fn object<'v>(
        &mut self,
        fields: &'v Map<String, Value>,
        key: &str,
        path: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        match fields.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Object(map)) => Some(map),
            Some(_) => {
                self.model(path);
                None
            }
        }
    }

    /// A string field with a length limit; its length for the embed total.
    fn text(&mut self, fields: &Map<String, Value>, key: &str, path: &[&str], max: usize) -> usize {
        match self.string(fields, key, path) {
            Some(s) => {
                self.max_len(path, s, max);
                chars(s)
            }
            None => 0,
        }
    }

    fn embeds(&mut self, embeds: &[Value]) {
        if embeds.len() > MAX_EMBEDS {
            self.errors.add(
                &["embeds"],
                "BASE_TYPE_MAX_LENGTH",
                &format!("Must be {MAX_EMBEDS} or fewer in length."),
            );
        }
        let mut total = 0;
        for (i, embed) in embeds.iter().enumerate() {
            let i = i.to_string();
            let Some(embed) = embed.as_object() else {
                self.model(&["embeds", &i]);
                continue;
            };
            total += self.text(embed, "title", &["embeds", &i, "title"], 256);
            total += self.text(embed, "description", &["embeds", &i, "description"], 4096);
            self.string(embed, "url", &["embeds", &i, "url"]);
            self.string(embed, "timestamp", &["embeds", &i, "timestamp"]);
            if let Some(color) = self.integer(embed, "color", &["embeds", &i, "color"])
                && color > 0xFF_FFFF
            {
                self.errors.add(
                    &["embeds", &i, "color"],
                    "NUMBER_TYPE_MAX",
                    "int value should be less than or equal to 16777215.",
                );
            }
            if let Some(footer) = self.object(embed, "footer", &["embeds", &i, "footer"]) {
                if footer.get("text").is_none_or(Value::is_null) {
                    self.required(&["embeds", &i, "footer", "text"]);
                }
                total += self.text(footer, "text", &["embeds", &i, "footer", "text"], 2048);
            }
            if let Some(author) = self.object(embed, "author", &["embeds", &i, "author"]) {
                if author.get("name").is_none_or(Value::is_null) {
                    self.required(&["embeds", &i, "author", "name"]);
                }
                total += self.text(author, "name", &["embeds", &i, "author", "name"], 256);
            }
            for key in ["image", "thumbnail"] {
                if let Some(media) = self.object(embed, key, &["embeds", &i, key])
                    && media.get("url").is_none_or(Value::is_null)
                {
                    self.required(&["embeds", &i, key, "url"]);
                }
            }
            if let Some(list) = self.list(embed, "fields", &["embeds", &i, "fields"]) {
                if list.len() > 25 {
                    self.errors.add(
                        &["embeds", &i, "fields"],
                        "BASE_TYPE_MAX_LENGTH",
                        "Must be 25 or fewer in length.",
                    );
                }
                for (j, field) in list.iter().enumerate() {
                    let j = j.to_string();
                    let Some(field) = field.as_object() else {
                        self.model(&["embeds", &i, "fields", &j]);
                        continue;
                    };
                    for (key, max) in [("name", 256), ("value", 1024)] {
                        let path = ["embeds", &i, "fields", &j, key];
                        if field.get(key).is_none_or(Value::is_null) {
                            self.required(&path);
                        }
                        total += self.text(field, key, &path, max);
                    }
                    self.boolean(field, "inline", &["embeds", &i, "fields", &j, "inline"]);
                }
            }
        }
        if total > MAX_EMBED_TOTAL {
            self.errors.add(
                &["embeds"],
                "MAX_EMBED_SIZE_EXCEEDED",
                "Embed size exceeds maximum size of 6000",
            );
        }
    }

    fn allowed_mentions(&mut self, allowed: &Map<String, Value>) {
        let mut parse = Vec::new();
        if let Some(list) = self.list(allowed, "parse", &["allowed_mentions", "parse"]) {
            for (i, value) in list.iter().enumerate() {
                match value.as_str() {
                    Some(p @ ("users" | "roles" | "everyone")) => parse.push(p),
                    _ => self.errors.add(
                        &["allowed_mentions", "parse", &i.to_string()],
                        "BASE_TYPE_CHOICES",
                        "Value must be one of ('roles', 'users', 'everyone').",
                    ),
                }
            }
        }
        for key in ["users", "roles"] {
            let Some(list) = self.list(allowed, key, &["allowed_mentions", key]) else {
                continue;
            };
            if list.len() > MAX_MENTION_IDS {
                self.errors.add(
                    &["allowed_mentions", key],
                    "BASE_TYPE_MAX_LENGTH",
                    &format!("Must be {MAX_MENTION_IDS} or fewer in length."),
                );
            }
            for (i, id) in list.iter().enumerate() {
                let text = match id {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let ok = match id {
                    Value::String(s) => is_snowflake(s),
                    Value::Number(n) => n.is_u64(),
                    _ => false,
                };
                if !ok {
                    self.errors.add(
                        &["allowed_mentions", key, &i.to_string()],
                        "NUMBER_TYPE_COERCE",
                        &format!("Value \"{text}\" is not snowflake."),
                    );
                }
            }
            if parse.contains(&key) && !list.is_empty() {
                self.errors.add(
                    &["allowed_mentions"],
                    "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                    &format!("parse:[\"{key}\"] and {key}: [ids...] are mutually exclusive."),
                );
            }
        }
        self.boolean(
            allowed,
            "replied_user",
            &["allowed_mentions", "replied_user"],
        );
    }

    fn attachments(&mut self, attachments: &[Value]) {
        if attachments.len() > MAX_ATTACHMENTS {
            self.errors.add(
                &["attachments"],
                "BASE_TYPE_MAX_LENGTH",
                &format!("Must be {MAX_ATTACHMENTS} or fewer in length."),
            );
        }
        for (i, attachment) in attachments.iter().enumerate() {
            let i = i.to_string();
            let Some(attachment) = attachment.as_object() else {
                self.model(&["attachments", &i]);
                continue;
            };
            match attachment.get("id") {
                None | Some(Value::Null) => self.required(&["attachments", &i, "id"]),
                Some(id) if attachment_id(id).is_none() => self.errors.add(
                    &["attachments", &i, "id"],
                    "NUMBER_TYPE_COERCE",
                    &format!("Value \"{}\" is not snowflake.", id.as_str().unwrap_or("?")),
                ),
                Some(_) => {}
            }
            self.text(
                attachment,
                "filename",
                &["attachments", &i, "filename"],
                1024,
            );
            self.text(
                attachment,
                "description",
                &["attachments", &i, "description"],
                1024,
            );
        }
    }
}

/// An `attachments[].id` as text: an upload index or an attachment's
/// snowflake, given as a number or a string of digits.
pub(crate) fn attachment_id(id: &Value) -> Option<String> {
    match id {
        Value::Number(n) if n.is_u64() => Some(n.to_string()),
        Value::String(s) if is_snowflake(s) => Some(s.clone()),
        _ => None,
    }
}
