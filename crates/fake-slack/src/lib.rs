//! A strict fake of the Slack Web API as a bot token (`xoxb-...`) sees it,
//! on one local port:
//!
//! - `auth.test`;
//! - `chat.postMessage`, `chat.update`, `chat.delete`, with Block Kit
//!   blocks, message metadata, threads and the size limits checked;
//! - `conversations.history` and `conversations.replies`;
//! - the external file upload flow: `files.getUploadURLExternal`, a POST
//!   of the bytes to the URL it answers, `files.completeUploadExternal`,
//!   and `files.info`.
//!
//! Every method answers the way Slack documents it
//! (<https://api.slack.com/methods>): HTTP 200 with `{"ok": true, ...}` or
//! `{"ok": false, "error": "<code>"}`, HTTP 429 with `Retry-After` when
//! rate limited. Parameters arrive as a query string, a form
//! (`application/x-www-form-urlencoded` or `multipart/form-data`) or, for
//! the methods that take it, a JSON body; the token as
//! `Authorization: Bearer` or a `token` parameter (never inside JSON).
//! Faults can be injected per method, and every request (rejected ones
//! included) is recorded.
//!
//! If the fake accepted something Slack refuses, every test of the adapter
//! built on it would prove nothing: most of its code is about what it
//! refuses, and how.

mod blocks;
mod chat;
mod files;
mod server;
mod state;
mod wire;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use state::State;

/// The pseudo method name of the upload URL (`POST /upload/v1/{ticket}`):
/// what [`FakeSlack::inject`] and [`FakeSlack::count`] take for it, and
/// what [`RecordedRequest::method`] says.
pub const UPLOAD: &str = "upload";
/// `chat.postMessage` and `chat.update` refuse longer `text` (in
/// characters) with `msg_too_long`.
pub const MAX_TEXT_CHARS: usize = 40_000;
/// Block Kit's limit of blocks in one message.
pub const MAX_BLOCKS: usize = 50;
/// The longest `text` of a section block's text object.
pub const MAX_SECTION_TEXT: usize = 3000;
/// `conversations.history` never answers more messages than this at once.
pub const MAX_HISTORY_LIMIT: usize = 999;

/// The methods this fake implements; any other name under `/api/` is a 404
/// `unknown_method`.
pub const METHODS: &[&str] = &[
    "auth.test",
    "chat.postMessage",
    "chat.update",
    "chat.delete",
    "conversations.history",
    "conversations.replies",
    "files.getUploadURLExternal",
    "files.completeUploadExternal",
    "files.info",
];

/// A handle on one running fake; cheap to clone, all clones share the state.
#[derive(Clone)]
pub struct FakeSlack {
    state: Arc<Mutex<State>>,
    port: u16,
}

/// A failure injected with [`FakeSlack::inject`], so tests can prove the
/// adapter copes with it. Answering faults answer before any validation
/// (nothing is stored), as Slack's front ends do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 429 with `Retry-After: retry_after_secs` and
    /// `{"ok":false,"error":"ratelimited"}`.
    RateLimited {
        /// Seconds for the `Retry-After` header.
        retry_after_secs: u64,
    },
    /// Any HTTP status (e.g. 500, 502, 503) with a small HTML body, as
    /// Slack's edge answers them: not JSON.
    Status(u16),
    /// Wait this long, then handle the request normally (timeouts).
    Slow(Duration),
    /// Close the connection without an answer and without handling the
    /// request (recorded with status 0): nothing happened.
    DropConnection,
    /// Handle the request (a message is stored), then close the connection
    /// without an answer (status 0): the uncertain outcome.
    DropAfterHandling,
    /// HTTP 200 `{"ok":false,"error":<code>}` (e.g. `internal_error`,
    /// `fatal_error`, `service_unavailable`, `team_added_to_org`); on the
    /// upload URL, HTTP 400 with the code as text.
    Error(&'static str),
}

/// One request as the fake received it, with the status it answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedRequest {
    /// The Slack method (`chat.postMessage`, the name after `/api/`, also
    /// when unknown), [`UPLOAD`] for the upload URL, `None` elsewhere.
    pub method: Option<String>,
    /// HTTP method.
    pub http_method: String,
    /// The raw path.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// All headers, names lowercase, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
    /// The status answered (0: the connection was dropped on purpose).
    pub status: u16,
}

impl RecordedRequest {
    /// The first value of a header, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        fake_http::header(&self.headers, name)
    }

    /// The body as text (empty when it is not UTF-8).
    pub fn body_str(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or("")
    }

    /// The body as JSON, when it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body decoded as a form (empty when it is not one).
    pub fn form(&self) -> Vec<(String, String)> {
        serde_urlencoded::from_bytes(&self.body).unwrap_or_default()
    }
}

/// Slack's names for the shared log's fields: the Slack method is
/// `method`, the HTTP one `http_method`.
impl From<fake_http::RecordedRequest<String>> for RecordedRequest {
    fn from(r: fake_http::RecordedRequest<String>) -> RecordedRequest {
        RecordedRequest {
            method: r.op,
            http_method: r.method,
            path: r.path,
            query: r.query,
            headers: r.headers,
            body: r.body,
            status: r.status,
        }
    }
}

/// A message in a channel, as the fake stored it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlackMessage {
    /// Its timestamp, the message's id in its channel (`1700000000.000100`).
    pub ts: String,
    /// The channel id.
    pub channel: String,
    /// The thread's parent `ts` for a reply; `None` for a top-level message
    /// (also for a parent: Slack only shows it `thread_ts` once it has
    /// replies, which `conversations.history` does).
    pub thread_ts: Option<String>,
    /// `text` as last sent.
    pub text: String,
    /// `blocks` as last sent (parsed JSON).
    pub blocks: Option<Value>,
    /// `metadata` as last sent (parsed JSON), `{event_type, event_payload}`.
    pub metadata: Option<Value>,
    /// The bot's user id, or the human's.
    pub user: String,
    /// Whether a bot posted it.
    pub bot: bool,
    /// Whether `chat.update` changed it since.
    pub edited: bool,
    /// Whether `chat.delete` deleted it since.
    pub deleted: bool,
    /// Ids of the files shared with it (`files.completeUploadExternal`).
    pub files: Vec<String>,
    /// The parameters of the last request that wrote it, as JSON (a form
    /// becomes an object of strings).
    pub body: Value,
}

/// A file reserved with `files.getUploadURLExternal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlackFile {
    /// `F...`.
    pub id: String,
    /// `filename` as reserved.
    pub filename: String,
    /// `title` given at completion.
    pub title: Option<String>,
    /// The bytes posted to the upload URL (empty until then).
    pub bytes: Vec<u8>,
    /// The channel it was shared in at completion.
    pub channel: Option<String>,
    /// The thread it was shared into.
    pub thread_ts: Option<String>,
    /// `initial_comment` given at completion.
    pub initial_comment: Option<String>,
    /// The `ts` of the message that shares it.
    pub message_ts: Option<String>,
    /// Whether `files.completeUploadExternal` completed it.
    pub completed: bool,
}

impl FakeSlack {
    /// Start on an ephemeral port of 127.0.0.1, with no bots and no
    /// channels.
    pub async fn start() -> FakeSlack {
        let (listener, port) = fake_http::listen().await;
        let state = Arc::new(Mutex::new(State::new(port)));
        fake_http::serve(listener, state.clone(), server::Slack);
        FakeSlack { state, port }
    }

    /// The Web API base, `http://127.0.0.1:{port}/api`: method `m` is
    /// `{api_url}/m`, as `https://slack.com/api/m` is.
    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}/api", self.port)
    }

    /// The settings that point an adapter at this fake.
    pub fn client_env(&self) -> Vec<(&'static str, String)> {
        vec![("SLACK_API_URL", self.api_url())]
    }

    /// Register a bot token of workspace `team` (a name; its id is made up,
    /// `T...`) for the bot user `bot_user_id` (`U...`). Its bot id, which
    /// messages and `auth.test` show, is `bot_user_id` with `B` for its
    /// first letter.
    ///
    /// # Panics
    /// When `token` is not a bot token (`xoxb-...`): this fake is for bots.
    pub fn add_bot(&self, token: &str, bot_user_id: &str, team: &str) {
        assert!(
            token.starts_with("xoxb-"),
            "fake-slack: {token:?} is not a bot token (xoxb-...)"
        );
        self.lock().add_bot(token, bot_user_id, team);
    }

    /// Revoke a token: from now on every method answers `token_revoked`.
    pub fn revoke(&self, token: &str) {
        if let Some(bot) = self.lock().bots.iter_mut().find(|b| b.token == token) {
            bot.revoked = true;
        }
    }

    /// Make a channel exist (`C...` public, `G...` private) with no member;
    /// posting there is `not_in_channel` until [`FakeSlack::join`].
    pub fn add_channel(&self, id: &str, name: &str) {
        let mut state = self.lock();
        if !state.channels.iter().any(|c| c.id == id) {
            state.channels.push(state::Channel {
                id: id.to_string(),
                name: name.trim_start_matches('#').to_string(),
                members: Default::default(),
            });
        }
    }

    /// Make the bot of `token` a member of `channel`.
    ///
    /// # Panics
    /// When the token or the channel is unknown (a mistake of the test).
    pub fn join(&self, token: &str, channel: &str) {
        let mut state = self.lock();
        let user = state
            .bots
            .iter()
            .find(|b| b.token == token)
            .unwrap_or_else(|| panic!("fake-slack: join: unknown token {token:?}"))
            .user_id
            .clone();
        state
            .channels
            .iter_mut()
            .find(|c| c.id == channel)
            .unwrap_or_else(|| panic!("fake-slack: join: unknown channel {channel:?}"))
            .members
            .insert(user);
    }

    /// A human's message in `channel` (created if new); answers its `ts`.
    /// A bot may reply to it in a thread but not update or delete it.
    pub fn add_user_message(&self, channel: &str, user: &str, text: &str) -> String {
        let mut state = self.lock();
        if !state.channels.iter().any(|c| c.id == channel) {
            state.channels.push(state::Channel {
                id: channel.to_string(),
                name: channel.to_ascii_lowercase(),
                members: Default::default(),
            });
        }
        let ts = state.next_ts();
        state.messages.push(SlackMessage {
            ts: ts.clone(),
            channel: channel.to_string(),
            thread_ts: None,
            text: text.to_string(),
            blocks: None,
            metadata: None,
            user: user.to_string(),
            bot: false,
            edited: false,
            deleted: false,
            files: Vec::new(),
            body: serde_json::json!({"text": text, "user": user}),
        });
        ts
    }

    /// The messages of a channel in arrival order, thread replies and
    /// deleted ones included.
    pub fn messages(&self, channel: &str) -> Vec<SlackMessage> {
        self.lock()
            .messages
            .iter()
            .filter(|m| m.channel == channel)
            .cloned()
            .collect()
    }

    /// One message by channel and `ts`, deleted or not.
    pub fn message(&self, channel: &str, ts: &str) -> Option<SlackMessage> {
        self.lock()
            .messages
            .iter()
            .find(|m| m.channel == channel && m.ts == ts)
            .cloned()
    }

    /// Every file reserved, in order, completed or not.
    pub fn files(&self) -> Vec<SlackFile> {
        self.lock().files.iter().map(state::File::public).collect()
    }

    /// Make the next `times` requests of `method` (`"chat.postMessage"`,
    /// or [`UPLOAD`]) draw `fault` (FIFO per method).
    pub fn inject(&self, method: &str, fault: Fault, times: usize) {
        self.lock().faults.inject(method.to_string(), fault, times);
    }

    /// Every request received, in arrival order, rejected ones included.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        let requests = self.lock().requests.requests();
        requests.into_iter().map(RecordedRequest::from).collect()
    }

    /// How many requests of `method` arrived (accepted and rejected).
    pub fn count(&self, method: &str) -> usize {
        self.lock()
            .requests
            .count(|name| name.map(String::as_str) == Some(method))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        state::lock(&self.state)
    }
}
