//! Who a message's content would ping, under its `allowed_mentions`, the
//! way Discord resolves it:
//!
//! - no `allowed_mentions` (or `null`): every user, role and `@everyone` /
//!   `@here` written in the content pings;
//! - with it: a user pings only if `parse` has `"users"` or `users` lists
//!   them; a role likewise with `"roles"` / `roles`; `@everyone` and
//!   `@here` only with `"everyone"` in `parse`. So `{}` or `{"parse": []}`
//!   pings nobody.
//!
//! Only the content counts: mentions inside embeds never ping.

use serde_json::Value;

/// Who would be pinged.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Pings {
    pub users: Vec<String>,
    pub roles: Vec<String>,
    pub everyone: bool,
}

/// The mentions written in `content`: user ids, role ids, and whether
/// `@everyone` or `@here` appears.
fn written(content: &str) -> (Vec<String>, Vec<String>, bool) {
    let mut users = Vec::new();
    let mut roles = Vec::new();
    let mut rest = content;
    while let Some(at) = rest.find("<@") {
        rest = &rest[at + 2..];
        let (list, tail) = match rest.as_bytes().first() {
            Some(b'!') => (&mut users, &rest[1..]),
            Some(b'&') => (&mut roles, &rest[1..]),
            _ => (&mut users, rest),
        };
        let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && tail[digits.len()..].starts_with('>') && !list.contains(&digits) {
            list.push(digits);
        }
    }
    let everyone = content.contains("@everyone") || content.contains("@here");
    (users, roles, everyone)
}

fn ids(allowed: &Value, key: &str) -> Vec<String> {
    allowed
        .get(key)
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Resolve `content`'s mentions under `allowed` (already validated).
pub(crate) fn resolve(content: &str, allowed: Option<&Value>) -> Pings {
    let (users, roles, everyone) = written(content);
    let Some(allowed) = allowed.filter(|a| !a.is_null()) else {
        return Pings {
            users,
            roles,
            everyone,
        };
    };
    let parse: Vec<&str> = allowed
        .get("parse")
        .and_then(Value::as_array)
        .map(|p| p.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let allowed_users = ids(allowed, "users");
    let allowed_roles = ids(allowed, "roles");
    Pings {
        users: users
            .into_iter()
            .filter(|u| parse.contains(&"users") || allowed_users.contains(u))
            .collect(),
        roles: roles
            .into_iter()
            .filter(|r| parse.contains(&"roles") || allowed_roles.contains(r))
            .collect(),
        everyone: everyone && parse.contains(&"everyone"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn written_mentions() {
        let (users, roles, everyone) = written("<@1> <@!2> <@&3> <@1> <@x> <@4 <@!> @here <#5>");
        assert_eq!(users, ["1", "2"]);
        assert_eq!(roles, ["3"]);
        assert!(everyone);
    }

    #[test]
    fn default_pings_everything_and_empty_pings_nothing() {
        let all = resolve("<@1> <@&2> @everyone", None);
        assert_eq!(
            (all.users.len(), all.roles.len(), all.everyone),
            (1, 1, true)
        );
        let none = resolve("<@1> <@&2> @everyone", Some(&json!({})));
        assert_eq!(none, Pings::default());
        let some = resolve("<@1> <@2>", Some(&json!({"users": ["2"]})));
        assert_eq!(some.users, ["2"]);
    }
}
