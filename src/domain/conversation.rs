//! Conversation ids (docs/skype-protocol.md §8), checked once so that a valid
//! id can go into a URL path as is.

use std::fmt;
use std::sync::LazyLock;

use regex_lite::Regex;

static FORMATS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:",
        r"8:live:\.cid\.[0-9a-fA-F]{16}", // 1:1, Microsoft account
        r"|8:live:[A-Za-z0-9_\-][A-Za-z0-9._\-]{0,63}", // 1:1, live: name
        r"|8:[A-Za-z][A-Za-z0-9._,\-]{1,63}", // 1:1, Skype name
        r"|19:[0-9a-fA-F]{32}@thread\.skype", // group
        r"|19:[A-Za-z0-9+=_\-]{1,200}@p2p\.thread\.skype", // legacy group
        r"|28:[A-Za-z0-9._:\-]{1,100}",   // bots
        r"|2:[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9.\-]{1,190}", // Skype for Business
        r")$"
    ))
    .unwrap()
});

/// A conversation the bot can post to: a 1:1 chat, a group, a bot, or a
/// Skype for Business user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConversationId(String);

/// Why a string is not a conversation id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidConversationId {
    /// `48:` ids are Skype's own notes and call logs.
    #[error(
        "48: conversations (notes, call logs) are system conversations and cannot receive messages"
    )]
    System,
    /// Anything else that is not one of the known formats.
    #[error(
        "not a Skype conversation id: expected 19:<32 hex>@thread.skype, 19:<id>@p2p.thread.skype, 8:<skype name>, 8:live:<name>, 28:<bot> or 2:<user@domain>"
    )]
    Format,
}

impl ConversationId {
    /// Checks `id` against the formats Skype used.
    pub fn parse(id: &str) -> Result<Self, InvalidConversationId> {
        let id = id.trim();
        if id.starts_with("48:") {
            return Err(InvalidConversationId::System);
        }
        if FORMATS.is_match(id) {
            Ok(Self(id.to_string()))
        } else {
            Err(InvalidConversationId::Format)
        }
    }

    /// The id as Skype writes it (it goes into URL paths unencoded).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_formats_of_the_protocol_doc() {
        for id in [
            "8:fred.2",
            "8:live:fred",
            "8:live:.cid.92bd244e945d8335",
            "19:0123456789abcdef0123456789abcdef@thread.skype",
            "19:I3VzZXIxLyQ7Ny04ZTZj=@p2p.thread.skype",
            "28:concierge",
            "28:0d5d6cff-595d-49d7-9cf8-973173f5233b",
            "2:fred@example.com",
        ] {
            assert!(ConversationId::parse(id).is_ok(), "{id}");
        }
    }

    #[test]
    fn rejects_system_and_hostile_ids() {
        assert_eq!(
            ConversationId::parse("48:notes"),
            Err(InvalidConversationId::System)
        );
        for id in [
            "",
            "19:abc@thread.skype",
            "19:0123456789abcdef0123456789abcdef@thread.skype/../endpoints",
            "8:fred?x=1",
            "8:fred#x",
            "8:fred 2",
            "8:../../users",
            "19:aa/bb@p2p.thread.skype",
            "9:fred",
            "<script>",
            "8:fr\ned",
            "8:live:.cid.zzzzzzzzzzzzzzzz",
        ] {
            assert!(ConversationId::parse(id).is_err(), "{id:?}");
        }
    }
}
