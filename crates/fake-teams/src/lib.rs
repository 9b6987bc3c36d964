//! A strict fake of the three Microsoft services a Teams bot talks to, on
//! one local port:
//!
//! - the Bot Framework OpenID metadata document and its JWKS (`openid`),
//!   with RSA test keys made at start, rotation, and a fetch counter;
//! - the Entra ID token endpoint (`entra`): client credentials for the
//!   registered apps, refusals in its `AADSTS` error shape;
//! - the Bot Connector REST API (`connector`, the `serviceUrl`): send,
//!   reply, update, delete, new channel threads and members, each behind a
//!   bearer token this fake issued, for an app installed in the
//!   conversation, with the activity schema and size limits checked.
//!
//! It also mints what the Bot Framework sends *to* a bot ([`TokenSpec`],
//! [`FakeTeams::inbound_token`], [`FakeTeams::inbound_activity`]),
//! including the hostile tokens a bot must refuse, so the adapter's inbound
//! checks can be proven. Faults can be injected per operation, and every
//! request (rejected ones included) is recorded.
//!
//! If the fake accepted something the real services refuse, every test of
//! the adapter built on it would prove nothing: most of its code is about
//! what it refuses, and how.

mod connector;
mod entra;
mod inbound;
mod keys;
mod openid;
mod schema;
mod server;
mod state;
mod tokens;
mod wire;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

pub use inbound::{Inbound, InboundKind};
pub use tokens::{KidHeader, ServiceUrlClaim, Signing, TokenSpec};

use state::State;

/// The issuer of every token the Bot Framework sends to a bot.
pub const BOT_FRAMEWORK_ISSUER: &str = "https://api.botframework.com";
/// The only scope the token endpoint grants a Connector token for.
pub const BOT_FRAMEWORK_SCOPE: &str = "https://api.botframework.com/.default";
/// The Connector's message size limit: the activity as UTF-16, inline
/// (base64 `data:`) images left out. Larger is a 413 `MessageSizeTooBig`.
pub const MAX_MESSAGE_BYTES: usize = 100 * 1024;
/// Teams' limit for one picture (PNG, JPEG or GIF), in decoded bytes.
pub const MAX_INLINE_IMAGE_BYTES: usize = 1024 * 1024;
/// What the token endpoint answers in `expires_in` unless told otherwise.
pub const DEFAULT_TOKEN_LIFETIME: u64 = 3599;

/// A handle on one running fake; cheap to clone, all clones share the state.
#[derive(Clone)]
pub struct FakeTeams {
    state: Arc<Mutex<State>>,
    port: u16,
}

/// The three base URLs a Teams adapter is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamsUrls {
    /// The OpenID metadata document itself (`TEAMS_OPENID_URL`).
    pub openid: String,
    /// The Entra ID host: the token endpoint is
    /// `{login}/{tenant}/oauth2/v2.0/token` (`TEAMS_LOGIN_URL`).
    pub login: String,
    /// The Connector's `serviceUrl`, with the trailing `/` real service URLs
    /// have (an allowed prefix in `TEAMS_SERVICE_URLS`).
    pub service: String,
}

/// The operations the fake understands; faults and counters are keyed by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Op {
    /// `GET` the OpenID metadata document.
    OpenIdMetadata,
    /// `GET` the JWKS.
    Jwks,
    /// `POST {login}/{tenant}/oauth2/v2.0/token`.
    Token,
    /// `POST /v3/conversations/{id}/activities`.
    SendActivity,
    /// `POST /v3/conversations/{id}/activities/{activityId}`.
    ReplyToActivity,
    /// `PUT /v3/conversations/{id}/activities/{activityId}`.
    UpdateActivity,
    /// `DELETE /v3/conversations/{id}/activities/{activityId}`.
    DeleteActivity,
    /// `POST /v3/conversations`: a new thread in a channel.
    CreateConversation,
    /// `GET /v3/conversations/{id}/members`.
    GetMembers,
}

/// A failure injected with [`FakeTeams::inject`], so tests can prove the
/// adapter copes with it. Answering faults answer before any validation, as
/// the real front ends do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429 with `Retry-After: retry_after_secs` and the service's throttling
    /// body (`Throttled` on the Connector, `AADSTS50196`-style on Entra).
    TooManyRequests {
        /// Seconds for the `Retry-After` header.
        retry_after_secs: u64,
    },
    /// Any status (e.g. 500, 502, 503) with the service's error body.
    Status(u16),
    /// Wait this long, then handle the request normally (timeouts).
    Slow(Duration),
    /// Close the connection without an answer and without handling the
    /// request (recorded with status 0): nothing happened.
    DropConnection,
    /// Handle the request (an activity is stored), then close the
    /// connection without an answer (status 0): the uncertain outcome.
    DropAfterHandling,
}

/// One request as the fake received it, with the status it answered
/// (`op`: the operation it was routed to).
pub type RecordedRequest = fake_http::RecordedRequest<Op>;

/// What a conversation is; decides whether replies make threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ConversationKind {
    /// A team's channel (`19:...@thread.tacv2`): posts are threads, a reply
    /// goes into its activity's thread (`...;messageid=<root>`).
    Channel,
    /// A group chat (`19:...@thread.v2`): no threads.
    GroupChat,
    /// A 1:1 chat with the bot (`a:...`, `8:orgid:...`): no threads.
    Personal,
}

impl ConversationKind {
    /// The kind a conversation id names, by its shape.
    pub fn of(conversation_id: &str) -> ConversationKind {
        let base = base_conversation(conversation_id);
        if base.ends_with("@thread.tacv2") || base.ends_with("@thread.skype") {
            ConversationKind::Channel
        } else if base.starts_with("19:") && base.contains("@thread") {
            ConversationKind::GroupChat
        } else {
            ConversationKind::Personal
        }
    }
}

/// A conversation id without its `;messageid=...` thread part.
pub fn base_conversation(conversation_id: &str) -> &str {
    conversation_id
        .split_once(';')
        .map_or(conversation_id, |(base, _)| base)
}

/// A user of a conversation, as the members list shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    /// `29:...`, the id mentions use.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The Entra object id (a GUID).
    pub aad_object_id: String,
}

impl Member {
    /// A user with a made-up `29:` id and object id.
    pub fn named(name: &str) -> Member {
        Member {
            id: format!("29:1{}", keys::new_kid()),
            name: name.to_string(),
            aad_object_id: wire::guid(),
        }
    }
}

/// An activity in a conversation, as the fake stored it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredActivity {
    /// The activity id the Connector answered.
    pub id: String,
    /// The conversation, without any `;messageid=` part.
    pub conversation: String,
    /// In a channel: the id of the thread's first post (its own id for a
    /// post that starts a thread). `None` outside channels.
    pub thread: Option<String>,
    /// The activity it answers (`POST .../activities/{activityId}`).
    pub reply_to_id: Option<String>,
    /// Who posted it: `28:<app id>` for a bot, a `29:` id for a user.
    pub from: String,
    /// `text` as last sent.
    pub text: Option<String>,
    /// `textFormat` as last sent.
    pub text_format: Option<String>,
    /// `attachments` as last sent.
    pub attachments: Vec<Value>,
    /// `entities` as last sent.
    pub entities: Vec<Value>,
    /// Whether it was updated since.
    pub edited: bool,
    /// Whether it was deleted since.
    pub deleted: bool,
    /// The whole activity body as last sent.
    pub body: Value,
}

impl FakeTeams {
    /// Start on an ephemeral port of 127.0.0.1, with one signing key.
    pub async fn start() -> FakeTeams {
        let (listener, port) = fake_http::listen().await;
        let state = Arc::new(Mutex::new(State::new(port)));
        fake_http::serve(listener, state.clone(), server::Teams);
        FakeTeams { state, port }
    }

    /// The base URLs to configure the adapter with.
    pub fn urls(&self) -> TeamsUrls {
        let base = format!("http://127.0.0.1:{}", self.port);
        TeamsUrls {
            openid: format!("{base}{}", openid::METADATA_PATH),
            login: format!("{base}{}", entra::PREFIX),
            service: format!("{base}{}/", connector::PREFIX),
        }
    }

    /// The `TEAMS_*` settings that point an adapter at this fake.
    pub fn client_env(&self) -> Vec<(&'static str, String)> {
        let urls = self.urls();
        vec![
            ("TEAMS_OPENID_URL", urls.openid),
            ("TEAMS_LOGIN_URL", urls.login),
            ("TEAMS_SERVICE_URLS", urls.service),
        ]
    }

    // ------------------------------------------------------------ OpenID

    /// The key id new inbound tokens are signed with.
    pub fn current_kid(&self) -> String {
        self.lock().current.clone()
    }

    /// The key ids the JWKS lists, in order.
    pub fn published_kids(&self) -> Vec<String> {
        self.lock().published.clone()
    }

    /// Publish a new key and sign with it from now on (the old one stays
    /// published until retired): the rotation a bot must follow by
    /// refetching the JWKS when it meets an unknown `kid`.
    pub fn rotate_key(&self) -> String {
        let key = keys::SigningKey::generate(keys::new_kid(), default_endorsements());
        let mut state = self.lock();
        let kid = key.kid.clone();
        state.published.push(kid.clone());
        state.current = kid.clone();
        state.keys.push(key);
        kid
    }

    /// Publish a key that endorses only `endorsements` (e.g. not
    /// `msteams`), without signing with it by default.
    pub fn add_key(&self, endorsements: &[&str]) -> String {
        let endorsements = endorsements.iter().map(|e| e.to_string()).collect();
        let key = keys::SigningKey::generate(keys::new_kid(), endorsements);
        let mut state = self.lock();
        let kid = key.kid.clone();
        state.published.push(kid.clone());
        state.keys.push(key);
        kid
    }

    /// Take a key out of the JWKS. The fake can still sign with it
    /// ([`Signing::Key`]), as a stolen or stale key would.
    pub fn retire_key(&self, kid: &str) {
        self.lock().published.retain(|k| k != kid);
    }

    /// The public key of `kid` as PEM, the bytes the forged HS256 token
    /// uses as its HMAC secret.
    pub fn public_key_pem(&self, kid: &str) -> Option<String> {
        self.lock().key(kid).map(keys::SigningKey::public_pem)
    }

    /// The JWK of `kid` as the JWKS shows it (also for retired keys).
    pub fn jwk(&self, kid: &str) -> Option<Value> {
        self.lock().key(kid).map(keys::SigningKey::jwk)
    }

    /// How many times the JWKS was fetched (successfully or not).
    pub fn jwks_fetches(&self) -> usize {
        self.count(Op::Jwks)
    }

    /// How many times the metadata document was fetched.
    pub fn metadata_fetches(&self) -> usize {
        self.count(Op::OpenIdMetadata)
    }

    /// A compact JWT as the Bot Framework would send it to the bot's
    /// messaging endpoint, or as an attacker would forge it: see
    /// [`TokenSpec`].
    pub fn inbound_token(&self, spec: &TokenSpec) -> String {
        let service_url = self.urls().service;
        tokens::mint(&mut self.lock(), spec, &service_url)
    }

    /// An activity as the Bot Framework would post it to the bot, with
    /// `serviceUrl` = this fake's Connector. A `BotAdded` or
    /// `InstallationAdd` also installs the app in the conversation (the
    /// event follows the installation); a `MentionId` message is stored as
    /// the user's activity, so the bot can reply to it.
    pub fn inbound_activity(&self, inbound: &Inbound, kind: InboundKind) -> Value {
        let service_url = self.urls().service;
        inbound::build(&mut self.lock(), inbound, kind, &service_url)
    }

    // ------------------------------------------------------------- Entra

    /// Register an app (bot) with its client secret in `tenant_id`.
    pub fn add_app(&self, app_id: &str, password: &str, tenant_id: &str) {
        self.lock().apps.push(state::App {
            app_id: app_id.to_string(),
            password: password.to_string(),
            tenant_id: tenant_id.to_string(),
        });
    }

    /// `expires_in` of tokens issued from now on (default 3599 s).
    pub fn set_token_lifetime(&self, secs: u64) {
        self.lock().token_lifetime = secs;
    }

    /// Expire every access token issued so far (the Connector now refuses
    /// them with 401).
    pub fn expire_tokens(&self) {
        let past = wire::now_secs().saturating_sub(1);
        for token in self.lock().access_tokens.values_mut() {
            token.expires_at = past;
        }
    }

    /// Requests to the token endpoint (granted or refused).
    pub fn token_requests(&self) -> usize {
        self.count(Op::Token)
    }

    /// Access tokens granted.
    pub fn tokens_issued(&self) -> usize {
        self.lock().access_tokens.len()
    }

    // --------------------------------------------------------- Connector

    /// Make `conversation_id` exist (kind from its shape) without the bot
    /// in it: posting there is 403 `BotNotInConversationRoster`.
    pub fn add_conversation(&self, conversation_id: &str) {
        self.lock()
            .conversation_mut(base_conversation(conversation_id));
    }

    /// Install `app_id` in the conversation (created if new): its tokens
    /// may now post there.
    pub fn install(&self, app_id: &str, conversation_id: &str) {
        self.lock()
            .conversation_mut(base_conversation(conversation_id))
            .roster
            .insert(app_id.to_string());
    }

    /// Remove the app from the conversation, as uninstalling it would.
    pub fn uninstall(&self, app_id: &str, conversation_id: &str) {
        if let Some(conversation) = self
            .lock()
            .conversations
            .get_mut(base_conversation(conversation_id))
        {
            conversation.roster.remove(app_id);
        }
    }

    /// Add a user to a conversation's members (created if new).
    pub fn add_member(&self, conversation_id: &str, member: Member) {
        self.lock()
            .conversation_mut(base_conversation(conversation_id))
            .add_member(member);
    }

    /// The activities of a conversation, in arrival order. With a
    /// `;messageid=<root>` part: only that channel thread's.
    pub fn activities(&self, conversation_id: &str) -> Vec<StoredActivity> {
        let base = base_conversation(conversation_id);
        let thread = conversation_id
            .split_once(";messageid=")
            .map(|(_, root)| root.to_string());
        self.lock()
            .activities
            .iter()
            .filter(|a| a.conversation == base)
            .filter(|a| thread.is_none() || a.thread == thread)
            .cloned()
            .collect()
    }

    /// One activity by id, wherever it is.
    pub fn activity(&self, activity_id: &str) -> Option<StoredActivity> {
        self.lock()
            .activities
            .iter()
            .find(|a| a.id == activity_id)
            .cloned()
    }

    // ------------------------------------------------- faults, inspection

    /// Make the next `times` requests of `op` draw `fault` (FIFO per op).
    pub fn inject(&self, op: Op, fault: Fault, times: usize) {
        self.lock().faults.inject(op, fault, times);
    }

    /// Every request received, in arrival order, rejected ones included.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.requests()
    }

    /// How many requests of `op` arrived (accepted and rejected).
    pub fn count(&self, op: Op) -> usize {
        self.lock().requests.count(|o| o == Some(&op))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        state::lock(&self.state)
    }
}

/// The endorsements of keys made by [`FakeTeams::start`] and
/// [`FakeTeams::rotate_key`].
fn default_endorsements() -> Vec<String> {
    keys::DEFAULT_ENDORSEMENTS
        .iter()
        .map(|e| e.to_string())
        .collect()
}
