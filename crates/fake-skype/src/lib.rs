//! A strict fake of the (switched-off) consumer Skype web service.
//!
//! Consumer Skype was turned off in 2025, so this fake is the only Skype the
//! project's tests and local runs ever talk to. It therefore enforces the wire
//! contract of `docs/skype-protocol.md` as strictly as the real
//! service did: every malformed request is rejected with the status and body
//! the real service gave, and every request (rejected ones included) is
//! recorded so tests can assert on exactly what the client sent.
//!
//! One [`FakeSkype`] listens on two local ports sharing one state: the
//! "primary" host (all login hosts, the API, ASM and the default messaging
//! host) and the "home" messaging host that registration redirects to.
//! Each login host lives under its own path prefix on the primary port (see
//! [`FakeUrls`]) so a client that sends a request to the wrong base URL is
//! caught, as it would have been against the real, separate hosts.
//!
//! The `skype-emulator` binary of this crate runs it on fixed ports for
//! `make run`; `tests/fake_skype.rs` tests the fake itself.

mod asm;
mod auth;
mod conversation;
mod faults;
mod inspect;
pub mod lock_and_key;
mod message_body;
mod messaging;
mod random;
mod registration;
mod routes;
mod server;
mod soap;
mod state;
mod web_login;
mod wire;
mod xml;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;

use state::State;

/// A handle on one running fake; cheap to clone, all clones share the state.
///
/// Tests configure it (accounts, faults, token lifetimes), point the client
/// at [`FakeSkype::urls`], then inspect what arrived with
/// [`FakeSkype::requests`] and [`FakeSkype::messages`].
#[derive(Clone)]
pub struct FakeSkype {
    state: Arc<Mutex<State>>,
    primary_port: u16,
    home_port: u16,
}

/// The base URLs a client must be configured with to talk to the fake.
///
/// Each login role has its own path prefix on the primary port, so mixing up
/// two bases (e.g. posting `RST.srf` to the Skype login host) is a 404 here,
/// just as it was against the real, separate hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUrls {
    /// Microsoft account host (`RST.srf`, `ppsecure/post.srf`).
    pub live: String,
    /// Skype login host (web flow start and the `t` → skypetoken exchange).
    pub login: String,
    /// Edge host (security token → skypetoken exchange).
    pub edge: String,
    /// Skype API host (`users/self/profile`).
    pub api: String,
    /// The primary messaging host, ending in `/v1` like the real `msgsHost`.
    pub msgs: String,
    /// The ASM object store, ending in `/v1/objects`.
    pub asm: String,
}

/// A Skype account the fake accepts logins for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Skype name accepted by both login flows, e.g. `fred.2`.
    pub skype_name: String,
    /// Microsoft account e-mail, accepted by both login flows when present.
    pub email: Option<String>,
    /// Password, compared exactly (after XML/form decoding).
    pub password: String,
    /// The profile `username`: the id the account sends messages as.
    pub user_id: String,
    /// Profile first name; the display name is `first last`.
    pub first_name: String,
    /// Profile last name.
    pub last_name: String,
}

impl Account {
    /// The account of the protocol capture. Its password holds `&`, `<` and
    /// `>` so that a client which forgets XML or form escaping fails to log in.
    pub fn fred() -> Account {
        Account {
            skype_name: "fred.2".into(),
            email: Some("fred.adams@example.com".into()),
            password: "p&ss<w>rd".into(),
            user_id: "fred.2".into(),
            first_name: "Fred".into(),
            last_name: "Adams".into(),
        }
    }

    /// `first last`, the display name SkPy derives from the profile.
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_string()
    }
}

/// The operations the fake understands; faults and counters are keyed by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `POST {live}/RST.srf`: SOAP password login.
    Soap,
    /// `POST {edge}/rps/v1/rps/skypetoken`: security token → skypetoken.
    EdgeToken,
    /// `GET {login}/login/oauth/microsoft`: web flow start (PPFT, cookies).
    WebStart,
    /// `POST {live}/ppsecure/post.srf`: web flow password post (and opid follow-up).
    WebPost,
    /// `POST {login}/login/microsoft`: web flow `t` → skypetoken.
    WebToken,
    /// `GET {api}/users/self/profile`.
    Profile,
    /// `POST {msgs}/users/ME/endpoints`: registration token.
    Register,
    /// Endpoint presence doc `PUT`, and the user presence doc `GET`.
    PresenceDoc,
    /// `POST {msgs}/users/ME/conversations/<id>/messages`.
    Send,
    /// `GET {msgs}/users/ME/conversations/<id>/messages`: recent messages, newest first.
    ListMessages,
    /// `PUT .../messages/<id>`.
    Edit,
    /// `DELETE .../messages/<id>`.
    Delete,
    /// `POST {asm}`: create a file/image object.
    AsmCreate,
    /// `PUT {asm}/<id>/content/<view>`: upload an object's bytes.
    AsmUpload,
}

/// A failure the real service was seen to give, injected with
/// [`FakeSkype::inject`] so tests can prove the client copes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The captcha / consent / new-terms wall: a `fmHF` form page on
    /// `post.srf`, the "Profile accrual is required" fault on SOAP.
    LoginWall,
    /// A `post.srf` page with a second-factor list (`V: [ {...} ]`); a
    /// "two-step verification" SOAP fault.
    TwoFactor,
    /// `post.srf` answers an `opid=` page without `t`; the opid follow-up
    /// post then returns `t`.
    NeedsOpid,
    /// A page (or SOAP answer) with none of the markers the client looks for.
    NoTField,
    /// 429 `{"errorCode":803,...}` with `Retry-After: 300`.
    LoginRateLimit,
    /// 401 with the `40160` "Skypetoken has expired" body.
    SkypeTokenExpired,
    /// A bare 401 on messaging: the registration went stale.
    Unauthorized,
    /// 404 with the `729` "You must create an endpoint" body.
    EndpointMissing,
    /// 403: registration and skype token come from different logins.
    TokenMismatch,
    /// 429 `{"errorCode":800,...}`, with `Retry-After` when `Some`.
    RateLimited {
        /// Seconds for the `Retry-After` header.
        retry_after: Option<u64>,
    },
    /// Any status (e.g. 500, 503) with a JSON error body.
    Status(u16),
    /// Wait this long, then handle the request normally (timeouts).
    Slow(Duration),
    /// Answer `status` (a 3xx) with this `Location` and handle nothing: a
    /// host that sends the client elsewhere. Build it with [`Fault::redirect`].
    Redirect {
        /// The HTTP status, e.g. 302 or 307.
        status: u16,
        /// The `Location` header, as given.
        location: &'static str,
    },
    /// Answer `status` with a body of `bytes` filler bytes, streamed in
    /// chunks (never built in memory), and handle nothing.
    HugeBody {
        /// The HTTP status.
        status: u16,
        /// How long the body is.
        bytes: usize,
    },
    /// Handle the request normally (a message is stored), then wait this
    /// long before answering: Skype took it, the client may have given up.
    AnswerLate(Duration),
    /// Handle the request normally, then close the connection without
    /// any answer (recorded with status 0).
    DropAfterHandling,
}

impl Fault {
    /// A [`Fault::Redirect`] to `location`. Faults are `Copy`, so the
    /// location is leaked: a few bytes per test.
    pub fn redirect(status: u16, location: impl Into<String>) -> Fault {
        Fault::Redirect {
            status,
            location: location.into().leak(),
        }
    }
}

/// One request as the fake received it, with the status it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The operation it was routed to; `None` for unknown paths or methods.
    pub op: Option<Op>,
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// `"primary"` or `"home"`: which listener received it.
    pub host: String,
    /// The raw (still percent-encoded) path.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// All headers, names lowercase, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
    /// The status the fake answered.
    pub status: u16,
    /// When the whole request had arrived.
    pub received_at: std::time::Instant,
    /// The fake's own service time: from the whole request having been
    /// received to its answer being ready (an injected delay included);
    /// `None` while it is still being answered. Benchmarks subtract it from
    /// end-to-end times to get the client's own overhead.
    pub service_time: Option<Duration>,
}

impl RecordedRequest {
    /// The first value of a header, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (empty when it is not UTF-8).
    pub fn body_str(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or("")
    }
}

/// A message the fake accepted, as the service stored it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredMessage {
    /// The server message id (numeric string, also the arrival time in ms).
    pub id: String,
    /// The conversation it was posted to.
    pub conversation: String,
    /// `Text`, `RichText`, `RichText/Media_GenericFile`, ...
    pub messagetype: String,
    /// The content as last sent (edits replace it).
    pub content: Option<String>,
    /// The sender's display name as sent.
    pub imdisplayname: Option<String>,
    /// The `Has-Mentions` string as sent.
    pub has_mentions: Option<String>,
    /// The client's dedupe id (`None` only if it never had one).
    pub clientmessageid: Option<String>,
    /// The `/me` offset, when it was an action message.
    pub skypeemoteoffset: Option<u64>,
    /// `OriginalArrivalTime`, ms since the epoch.
    pub arrival_time: u64,
    /// Whether it was edited since.
    pub edited: bool,
    /// Whether it was deleted since.
    pub deleted: bool,
    /// The user id of the account that sent it.
    pub sender: String,
}

/// A file or image object in the fake ASM store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredObject {
    /// `0-weu-d3-<32 hex>`.
    pub id: String,
    /// `sharing/file` or `pish/image`.
    pub kind: String,
    /// The file name (files only).
    pub filename: Option<String>,
    /// The permissions object as sent.
    pub permissions: serde_json::Value,
    /// The uploaded bytes, once uploaded.
    pub content: Option<Vec<u8>>,
    /// The view the bytes were uploaded to: `original` or `imgpsh`.
    pub view: Option<String>,
}

/// Called with every message the fake accepts (the emulator prints them).
pub type MessageHook = Arc<dyn Fn(&StoredMessage) + Send + Sync>;

impl FakeSkype {
    /// Start on two ephemeral ports (primary and home host), for tests.
    pub async fn start() -> FakeSkype {
        FakeSkype::start_on(0, 0)
            .await
            .expect("binding 127.0.0.1:0 must succeed")
    }

    /// Start on fixed ports (the emulator); port 0 picks a free one.
    pub async fn start_on(primary_port: u16, home_port: u16) -> std::io::Result<FakeSkype> {
        let primary = tokio::net::TcpListener::bind(("127.0.0.1", primary_port)).await?;
        let home = tokio::net::TcpListener::bind(("127.0.0.1", home_port)).await?;
        let primary_port = primary.local_addr()?.port();
        let home_port = home.local_addr()?.port();
        let state = Arc::new(Mutex::new(State::new(primary_port, home_port)));
        server::spawn(primary, server::Host::Primary, state.clone());
        server::spawn(home, server::Host::Home, state.clone());
        Ok(FakeSkype {
            state,
            primary_port,
            home_port,
        })
    }

    /// The base URLs to configure the client with.
    pub fn urls(&self) -> FakeUrls {
        let base = format!("http://127.0.0.1:{}", self.primary_port);
        FakeUrls {
            live: format!("{base}{}", routes::LIVE_PREFIX),
            login: format!("{base}{}", routes::LOGIN_PREFIX),
            edge: format!("{base}{}", routes::EDGE_PREFIX),
            api: format!("{base}{}", routes::API_PREFIX),
            msgs: format!("{base}/v1"),
            asm: format!("{base}{}/v1/objects", routes::ASM_PREFIX),
        }
    }

    /// The `SKYPE_*_URL` settings that point a client at this fake.
    pub fn client_env(&self) -> Vec<(&'static str, String)> {
        let urls = self.urls();
        vec![
            ("SKYPE_LIVE_URL", urls.live),
            ("SKYPE_LOGIN_URL", urls.login),
            ("SKYPE_EDGE_URL", urls.edge),
            ("SKYPE_API_URL", urls.api),
            ("SKYPE_MSGS_URL", urls.msgs),
            ("SKYPE_ASM_URL", urls.asm),
        ]
    }

    /// The home messaging host registration redirects to (`.../v1`).
    pub fn home_msgs_host(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.home_port)
    }

    /// Accept logins for this account (both flows).
    pub fn add_account(&self, account: Account) {
        self.lock().accounts.push(account);
    }

    /// Make the next `times` requests of `op` fail with `fault` (FIFO per op).
    pub fn inject(&self, op: Op, fault: Fault, times: usize) {
        let mut state = self.lock();
        let queue = state.faults.entry(op).or_default();
        queue.extend(std::iter::repeat_n(fault, times));
    }

    /// Every request is answered `latency` later (the benchmark's round
    /// trip across the ocean); zero by default.
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// Whether registration on the primary host answers 404 + `Location`
    /// pointing at the home host, as the real service did (default: on).
    pub fn set_redirect(&self, on: bool) {
        self.lock().redirect = on;
    }

    /// Whether a repeated `clientmessageid` (same conversation and sender)
    /// answers the first message instead of storing another (default: on).
    /// Off, every post is a new message: tests of the uncertain send must
    /// not rely on Skype de-duplicating.
    pub fn set_dedupe(&self, on: bool) {
        self.lock().dedupe_on = on;
    }

    /// Lifetimes of tokens issued from now on, in seconds (default 86400).
    pub fn set_token_lifetime(&self, skype_secs: u64, registration_secs: u64) {
        let mut state = self.lock();
        state.skype_lifetime = skype_secs;
        state.registration_lifetime = registration_secs;
    }

    /// Expire every skype token issued so far (they now get 401 `40160`).
    pub fn expire_skype_tokens(&self) {
        self.lock().expire_skype_tokens();
    }

    /// Expire every registration token issued so far (sends now get `729`).
    pub fn expire_registrations(&self) {
        self.lock().expire_registrations();
    }

    /// Every request received, in arrival order, rejected ones included.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// How many requests arrived so far (cheaper than `requests().len()`).
    pub fn request_count(&self) -> usize {
        self.lock().requests.len()
    }

    /// The requests received from the `start`th on (see [`FakeSkype::request_count`]).
    pub fn requests_since(&self, start: usize) -> Vec<RecordedRequest> {
        self.lock()
            .requests
            .get(start..)
            .map(<[RecordedRequest]>::to_vec)
            .unwrap_or_default()
    }

    /// How many requests of `op` arrived (accepted and rejected).
    pub fn count(&self, op: Op) -> usize {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.op == Some(op))
            .count()
    }

    /// Skype tokens issued (successful logins through either flow).
    pub fn logins(&self) -> usize {
        self.lock().logins
    }

    /// Registration tokens issued.
    pub fn registrations(&self) -> usize {
        self.lock().registrations_issued
    }

    /// The messages stored in a conversation, in arrival order (typing
    /// notifications are not messages and are not stored).
    pub fn messages(&self, conversation: &str) -> Vec<StoredMessage> {
        self.lock()
            .messages
            .get(conversation)
            .cloned()
            .unwrap_or_default()
    }

    /// An ASM object by id.
    pub fn object(&self, id: &str) -> Option<StoredObject> {
        self.lock().objects.get(id).map(|o| o.object.clone())
    }

    /// Call `hook` with every message accepted from now on (outside the lock).
    pub fn on_message(&self, hook: impl Fn(&StoredMessage) + Send + Sync + 'static) {
        self.lock().on_message = Some(Arc::new(hook));
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        state::lock(&self.state)
    }
}
