//! Everything the fake remembers: keys, apps, issued tokens, conversations,
//! activities and the request log. One mutex guards it; handlers hold it
//! briefly and never across an `.await`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use fake_http::{Faults, Log};

use super::keys::{SigningKey, new_kid};
use super::wire::now_ms;
use super::{
    ConversationKind, DEFAULT_TOKEN_LIFETIME, Fault, Member, Op, StoredActivity,
    default_endorsements,
};

pub(crate) use fake_http::lock;

/// A registered app (bot) of the token endpoint.
pub(crate) struct App {
    pub app_id: String,
    pub password: String,
    pub tenant_id: String,
}

/// An access token the token endpoint granted.
pub(crate) struct AccessToken {
    pub app_id: String,
    /// The resource it is for (its audience).
    pub resource: String,
    pub expires_at: u64,
}

/// A conversation: its kind, who may post, who is in it.
pub(crate) struct Conversation {
    pub kind: ConversationKind,
    /// App ids installed here.
    pub roster: BTreeSet<String>,
    pub members: Vec<Member>,
}

impl Conversation {
    pub fn add_member(&mut self, member: Member) {
        if !self.members.iter().any(|m| m.id == member.id) {
            self.members.push(member);
        }
    }
}

/// The whole server state.
pub(crate) struct State {
    pub port: u16,
    /// Every key ever made, published or not.
    pub keys: Vec<SigningKey>,
    /// Key ids in the JWKS, in order.
    pub published: Vec<String>,
    /// The key inbound tokens are signed with by default.
    pub current: String,
    /// A key never published (made on first use).
    pub outsider: Option<String>,
    pub apps: Vec<App>,
    pub token_lifetime: u64,
    pub access_tokens: HashMap<String, AccessToken>,
    pub conversations: BTreeMap<String, Conversation>,
    pub activities: Vec<StoredActivity>,
    pub last_activity_id: u64,
    pub faults: Faults<Op, Fault>,
    pub requests: Log<Op>,
}

impl State {
    /// One published signing key, no apps, no conversations.
    pub fn new(port: u16) -> State {
        let key = SigningKey::generate(new_kid(), default_endorsements());
        State {
            port,
            current: key.kid.clone(),
            published: vec![key.kid.clone()],
            keys: vec![key],
            outsider: None,
            apps: Vec::new(),
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            access_tokens: HashMap::new(),
            conversations: BTreeMap::new(),
            activities: Vec::new(),
            last_activity_id: 0,
            faults: Faults::default(),
            requests: Log::default(),
        }
    }

    /// A key by id, published or not.
    pub fn key(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// The never-published key, made on first use.
    pub fn outsider_kid(&mut self) -> String {
        if let Some(kid) = &self.outsider {
            return kid.clone();
        }
        let key = SigningKey::generate(new_kid(), default_endorsements());
        let kid = key.kid.clone();
        self.keys.push(key);
        self.outsider = Some(kid.clone());
        kid
    }

    /// A conversation by its base id, created (kind from its shape) if new.
    pub fn conversation_mut(&mut self, base: &str) -> &mut Conversation {
        self.conversations
            .entry(base.to_string())
            .or_insert_with(|| Conversation {
                kind: ConversationKind::of(base),
                roster: BTreeSet::new(),
                members: Vec::new(),
            })
    }

    /// A new activity id: the arrival time in ms, made unique (Teams' own
    /// channel activity ids look the same).
    pub fn next_activity_id(&mut self) -> String {
        let id = now_ms().max(self.last_activity_id + 1);
        self.last_activity_id = id;
        id.to_string()
    }
}
