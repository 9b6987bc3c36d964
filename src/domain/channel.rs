//! Where a message goes: a Skype conversation id, or an alias the operator
//! configured for one (`"standup": "19:...@thread.skype"`).

use std::collections::BTreeMap;

use crate::skype::{ConversationId, InvalidConversationId};

/// The configured aliases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Channels {
    aliases: BTreeMap<String, ConversationId>,
}

/// Why a channel cannot be posted to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// Neither an alias nor a valid conversation id.
    #[error("channel is neither a configured alias nor a valid conversation id: {0}")]
    Invalid(InvalidConversationId),
    /// An alias in the configuration points at something that is not a conversation id.
    #[error("alias {alias:?} is configured with an invalid conversation id: {reason}")]
    BadAlias {
        /// The alias.
        alias: String,
        /// What is wrong with its target.
        reason: InvalidConversationId,
    },
}

impl Channels {
    /// Checks every alias target once, when the configuration is read.
    pub fn new(aliases: BTreeMap<String, String>) -> Result<Self, ChannelError> {
        let aliases = aliases
            .into_iter()
            .map(|(alias, id)| match ConversationId::parse(&id) {
                Ok(id) => Ok((alias, id)),
                Err(reason) => Err(ChannelError::BadAlias { alias, reason }),
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { aliases })
    }

    /// An alias first, else a conversation id.
    pub fn resolve(&self, channel: &str) -> Result<ConversationId, ChannelError> {
        let channel = channel.trim();
        if let Some(id) = self.aliases.get(channel) {
            return Ok(id.clone());
        }
        ConversationId::parse(channel).map_err(ChannelError::Invalid)
    }

    /// The aliases that name `id` (for scoped keys that list aliases).
    pub fn aliases_of<'a>(&'a self, id: &'a ConversationId) -> impl Iterator<Item = &'a str> {
        self.aliases
            .iter()
            .filter(move |(_, target)| *target == id)
            .map(|(alias, _)| alias.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GROUP: &str = "19:0123456789abcdef0123456789abcdef@thread.skype";

    #[test]
    fn aliases_resolve_before_ids() {
        let channels =
            Channels::new(BTreeMap::from([("standup".to_string(), GROUP.to_string())])).unwrap();
        assert_eq!(channels.resolve("standup").unwrap().as_str(), GROUP);
        assert_eq!(channels.resolve(GROUP).unwrap().as_str(), GROUP);
        assert_eq!(channels.resolve("8:fred.2").unwrap().as_str(), "8:fred.2");
        assert!(matches!(
            channels.resolve("random"),
            Err(ChannelError::Invalid(_))
        ));
        let id = channels.resolve(GROUP).unwrap();
        assert_eq!(channels.aliases_of(&id).collect::<Vec<_>>(), ["standup"]);
    }

    #[test]
    fn a_bad_alias_is_caught_when_configured() {
        let err = Channels::new(BTreeMap::from([("x".to_string(), "48:notes".to_string())]));
        assert!(matches!(err, Err(ChannelError::BadAlias { .. })));
    }
}
