//! A conversation reference: what the bot must remember of a conversation
//! it was installed in to post there later. Stored only from a validated
//! inbound activity whose `serviceUrl` is on the allow-list.

use serde::{Deserialize, Serialize};

/// Where a conversation lives and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationRef {
    /// The conversation id, without any `;messageid=` thread part.
    pub conversation: String,
    /// The Connector base URL for it (allow-listed, normalized, ending in `/`).
    pub service_url: String,
    /// The Entra tenant.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The team, for a channel.
    #[serde(default)]
    pub team: Option<String>,
    /// `channel`, `groupChat` or `personal`.
    #[serde(default)]
    pub kind: Option<String>,
    /// A name for people (the team's or the chat's), when Teams gave one.
    #[serde(default)]
    pub name: Option<String>,
}

/// A conversation id without its `;messageid=...` thread part.
pub fn base_conversation(id: &str) -> &str {
    id.split_once(';').map_or(id, |(base, _)| base)
}

/// The object name of a conversation's reference in the store.
pub fn storage_key(conversation: &str) -> String {
    let encoded: String =
        url::form_urlencoded::byte_serialize(base_conversation(conversation).as_bytes()).collect();
    format!("{encoded}.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_safe_name_per_conversation() {
        assert_eq!(
            storage_key("19:abc@thread.tacv2;messageid=123"),
            "19%3Aabc%40thread.tacv2.json"
        );
        assert_eq!(storage_key("a:1/../x"), "a%3A1%2F..%2Fx.json");
    }
}
