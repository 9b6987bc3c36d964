//! API keys: who may post, and where.
//!
//! Keys are kept only as SHA-256 digests (a key object in the secret may
//! hold nothing else), and a presented key is compared with every digest in
//! constant time, so neither timing nor a memory dump gives a key away.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::channel::{Channels, Target};

/// One accepted key.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyEntry {
    /// A name for logs ("ci", or "key-2" for a bare string key).
    pub name: String,
    digest: [u8; 32],
    /// Derived once, when the secret is read: not on every request.
    identity: KeyIdentity,
    /// `None`: every channel. Otherwise aliases or conversation ids.
    pub channels: Option<Vec<String>>,
}

impl std::fmt::Debug for KeyEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyEntry")
            .field("name", &self.name)
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}

/// Why a key entry of the configuration is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("api key {0:?}: sha256 must be 64 hexadecimal characters")]
pub struct BadKeyDigest(pub String);

impl KeyEntry {
    fn new(name: String, digest: [u8; 32], channels: Option<Vec<String>>) -> Self {
        Self {
            name,
            identity: KeyIdentity::of(&digest),
            digest,
            channels,
        }
    }

    /// A key given in clear (full access unless `channels` says otherwise).
    pub fn from_key(name: impl Into<String>, key: &str, channels: Option<Vec<String>>) -> Self {
        Self::new(
            name.into(),
            Sha256::digest(key.trim().as_bytes()).into(),
            channels,
        )
    }

    /// A key given as the hex SHA-256 of the key.
    pub fn from_sha256(
        name: impl Into<String>,
        sha256_hex: &str,
        channels: Option<Vec<String>>,
    ) -> Result<Self, BadKeyDigest> {
        let name = name.into();
        let mut digest = [0u8; 32];
        hex::decode_to_slice(sha256_hex.trim().to_ascii_lowercase(), &mut digest)
            .map_err(|_| BadKeyDigest(name.clone()))?;
        Ok(Self::new(name, digest, channels))
    }
}

/// Every accepted key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiKeys {
    entries: Vec<KeyEntry>,
}

/// Who is asking to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Authenticated by AWS (direct invoke, EventBridge, SQS): IAM decided.
    Trusted,
    /// Authenticated by an API key.
    Key {
        /// The key's name, for logs.
        name: String,
        /// Who the key is, for records (idempotency, ownership).
        identity: KeyIdentity,
        /// `None`: every channel.
        channels: Option<Vec<String>>,
    },
}

/// A key's stable identity, derived from the key itself: reordering
/// `api_keys` or renaming an entry changes nothing, and two keys never
/// share one. It is a digest of the key's digest, so a record name or a
/// log line built from it gives nothing away about the key.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyIdentity(String);

impl KeyIdentity {
    fn of(digest: &[u8; 32]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"skype-sender key identity\n");
        hasher.update(digest);
        Self(hex::encode(&hasher.finalize()[..16]))
    }
}

impl std::fmt::Debug for KeyIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyIdentity({})", self.0)
    }
}

impl ApiKeys {
    /// The accepted keys.
    pub fn new(entries: Vec<KeyEntry>) -> Self {
        Self { entries }
    }

    /// Whether no key is configured (then every HTTP request is refused).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The caller holding `presented`, if it is one of ours.
    pub fn authenticate(&self, presented: &str) -> Option<Caller> {
        let digest: [u8; 32] = Sha256::digest(presented.trim().as_bytes()).into();
        // Look at every entry, whatever matches, so timing says nothing.
        let mut found = None;
        for entry in &self.entries {
            if bool::from(entry.digest.ct_eq(&digest)) && found.is_none() {
                found = Some(entry);
            }
        }
        found.map(|entry| Caller::Key {
            name: entry.name.clone(),
            identity: entry.identity.clone(),
            channels: entry.channels.clone(),
        })
    }
}

impl Caller {
    /// Whether this caller may post to `target`, asked for as `requested`
    /// (an alias, perhaps of a group). A scoped key lists aliases or
    /// conversation ids; any name of the target matches.
    pub fn may_post_to(&self, requested: &str, target: &Target, channels: &Channels) -> bool {
        let Self::Key {
            channels: Some(allowed),
            ..
        } = self
        else {
            return true;
        };
        let requested = requested.trim();
        allowed.iter().any(|allowed| {
            allowed == requested
                || *allowed == target.name
                || channels
                    .aliases_of(&target.destination)
                    .any(|alias| alias == allowed)
        })
    }

    /// The aliases this caller may know of (named in errors).
    pub fn visible_aliases<'a>(&'a self, channels: &'a Channels) -> Vec<&'a str> {
        match self {
            Self::Key {
                channels: Some(allowed),
                ..
            } => channels
                .aliases()
                .filter(|alias| allowed.iter().any(|a| a == alias))
                .collect(),
            _ => channels.aliases().collect(),
        }
    }

    /// The name logs show for this caller.
    pub fn name(&self) -> &str {
        match self {
            Self::Trusted => "aws",
            Self::Key { name, .. } => name,
        }
    }

    /// Whose records (idempotency, ownership) this caller reads and
    /// writes. A key's scope is `key:` and its identity; the AWS
    /// triggers' scope has no such prefix, so no key can claim it,
    /// whatever its name.
    pub fn scope(&self) -> String {
        match self {
            Self::Trusted => "aws-trigger".to_string(),
            Self::Key { identity, .. } => format!("key:{}", identity.0),
        }
    }

    /// Whether this caller may change any message the bot posted (not
    /// only its own): AWS triggers and keys without a channel list.
    pub fn is_unscoped(&self) -> bool {
        !matches!(
            self,
            Self::Key {
                channels: Some(_),
                ..
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ChannelNames;

    const GROUP: &str = "19:0123456789abcdef0123456789abcdef@thread.skype";

    fn keys() -> ApiKeys {
        ApiKeys::new(vec![
            KeyEntry::from_key("key-1", "open-sesame", None),
            KeyEntry::from_sha256(
                "ci",
                &hex::encode(Sha256::digest(b"ci-key")),
                Some(vec!["standup".into()]),
            )
            .unwrap(),
        ])
    }

    #[test]
    fn clear_and_hashed_keys_authenticate() {
        assert_eq!(keys().authenticate("open-sesame").unwrap().name(), "key-1");
        assert_eq!(keys().authenticate("ci-key").unwrap().name(), "ci");
        assert!(keys().authenticate("open-sesame!").is_none());
        assert!(keys().authenticate("").is_none());
        assert!(ApiKeys::default().authenticate("anything").is_none());
    }

    #[test]
    fn bad_digests_are_refused_at_load() {
        assert!(KeyEntry::from_sha256("x", "abc", None).is_err());
        assert!(KeyEntry::from_sha256("x", &"g".repeat(64), None).is_err());
    }

    #[test]
    fn scoped_keys_reach_only_their_channels() {
        let channels = Channels::new(
            serde_json::from_value(serde_json::json!({"standup": GROUP, "team": ["standup"]}))
                .unwrap(),
        )
        .unwrap();
        let resolve = |name: &str| {
            channels
                .resolve(&ChannelNames::one(name))
                .unwrap()
                .remove(0)
        };
        let ci = keys().authenticate("ci-key").unwrap();
        let group = resolve(GROUP);
        assert!(ci.may_post_to("standup", &group, &channels));
        assert!(ci.may_post_to("team", &group, &channels), "through a group");
        assert!(
            ci.may_post_to(GROUP, &group, &channels),
            "the id of an allowed alias"
        );
        let other = resolve("8:fred.2");
        assert!(!ci.may_post_to("8:fred.2", &other, &channels));
        assert!(Caller::Trusted.may_post_to("8:fred.2", &other, &channels));
        assert_eq!(ci.visible_aliases(&channels), ["standup"]);
        assert_eq!(
            Caller::Trusted.visible_aliases(&channels),
            ["standup", "team"]
        );
    }

    #[test]
    fn a_keys_scope_is_its_own_whatever_its_name_or_place() {
        let before = keys().authenticate("ci-key").unwrap().scope();
        // Renamed ("aws", the name logs give AWS triggers) and moved.
        let moved = ApiKeys::new(vec![
            KeyEntry::from_key("new", "another", None),
            KeyEntry::from_key("aws", "ci-key", None),
            KeyEntry::from_key("key-1", "open-sesame", None),
        ]);
        let after = moved.authenticate("ci-key").unwrap();
        assert_eq!(after.scope(), before);
        assert_ne!(after.scope(), Caller::Trusted.scope());
        assert_ne!(
            moved.authenticate("another").unwrap().scope(),
            keys().authenticate("open-sesame").unwrap().scope(),
            "the key now first is not the key that was first"
        );
        assert!(!before.contains(&hex::encode(Sha256::digest(b"ci-key"))));
    }

    #[test]
    fn debug_shows_no_digest() {
        let shown = format!("{:?}", keys());
        assert!(!shown.contains(&hex::encode(Sha256::digest(b"ci-key"))));
    }
}
