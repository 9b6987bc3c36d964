//! Skype rich text (its small HTML dialect), built safely from user text.

/// Escapes `&`, `<` and `>` so user text shows as typed and cannot inject markup.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes for a double-quoted attribute value.
pub fn escape_attribute(text: &str) -> String {
    escape(text).replace('"', "&quot;")
}

/// Whether rich content mentions someone (`<at id="...">`): Skype's
/// `Has-Mentions` field must say so.
pub fn has_mentions(content: &str) -> bool {
    content.contains("<at id=")
}

/// A mention of `user` (`8:live:someone`, or `*` for everyone).
pub fn mention(user: &str, name: &str) -> String {
    format!(
        r#"<at id="{}">{}</at>"#,
        escape_attribute(user),
        escape(name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("Hello <world> & co"), "Hello &lt;world&gt; &amp; co");
        assert_eq!(escape_attribute(r#"a"b"#), "a&quot;b");
    }

    #[test]
    fn mentions_are_detected() {
        let joe = mention("8:joe.4", "Joe Bloggs");
        assert_eq!(joe, r#"<at id="8:joe.4">Joe Bloggs</at>"#);
        assert!(has_mentions(&format!("<b>Bold</b> {joe}")));
        assert!(!has_mentions(&escape(&joe)));
    }
}
