//! Which conversation ids a message may be posted to (protocol doc §5).

use std::sync::LazyLock;

use regex_lite::Regex;

/// Every shape of id the service delivered messages to.
static VALID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:",
        // 1:1 with a Skype name, a live: name or a live:.cid.
        r"8:(?:live:(?:\.cid\.[0-9a-f]{16}|[A-Za-z0-9][A-Za-z0-9._-]*)|[A-Za-z][A-Za-z0-9.,_-]{1,31})",
        // group threads
        r"|19:[0-9a-f]{32}@thread\.skype",
        // legacy p2p groups
        r"|19:[A-Za-z0-9+/_-]+={0,2}@p2p\.thread\.skype",
        // bots
        r"|28:[A-Za-z0-9][A-Za-z0-9._:-]*",
        // Skype for Business
        r"|2:[^@ \t\r\n]+@[^@ \t\r\n]+\.[^@ \t\r\n]+",
        r")$"
    ))
    .expect("static regex")
});

/// Why an id is not a message target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NotATarget {
    /// `48:` system pseudo-conversations (notes, call logs).
    System,
    /// Not an id shape the service knows.
    Malformed,
}

/// Check a (percent-decoded) conversation id.
pub(crate) fn check(id: &str) -> Result<(), NotATarget> {
    if id.starts_with("48:") {
        Err(NotATarget::System)
    } else if VALID.is_match(id) {
        Ok(())
    } else {
        Err(NotATarget::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_documented_shape() {
        for id in [
            "8:fred.2",
            "8:live:bot",
            "8:live:.cid.92bd244e945d8335",
            "19:cccccccccccccccccccccccccccccccc@thread.skype",
            "19:I3JvYmVydC5rb3NpY2tpLyRqb2huLnNtaXRoOzU0YjExYmM1YTg1MjVkZDA=@p2p.thread.skype",
            "28:concierge",
            "28:a2d8c1e4-0000-4000-8000-0123456789ab",
            "2:fred@example.com",
        ] {
            assert_eq!(check(id), Ok(()), "{id}");
        }
    }

    #[test]
    fn rejects_system_and_malformed_ids() {
        assert_eq!(check("48:notes"), Err(NotATarget::System));
        assert_eq!(check("48:calllogs"), Err(NotATarget::System));
        for id in [
            "",
            "fred.2",
            "8:",
            "19:abc@thread.skype",
            "19:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC@thread.skype",
            "19:cccccccccccccccccccccccccccccccc@thread.skype ",
            "3:fred",
            "8:fred 2",
        ] {
            assert_eq!(check(id), Err(NotATarget::Malformed), "{id:?}");
        }
    }
}
