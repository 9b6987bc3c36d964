//! A strict fake of the Telegram Bot API (`https://api.telegram.org`), on
//! one local port, for the Telegram adapter's tests.
//!
//! Requests go to `{api_url}/bot{token}/{method}`, as to the real service:
//! method names case-insensitive, parameters from the query string and an
//! `application/x-www-form-urlencoded`, `application/json` or
//! `multipart/form-data` body, every answer `{"ok": true, "result": ...}` or
//! `{"ok": false, "error_code": N, "description": "..."}` with HTTP status
//! `N`. It implements `getMe`, `sendMessage`, `editMessageText`,
//! `deleteMessage`, `sendDocument` and `sendPhoto`, with the checks the real
//! service makes: tokens, chats and membership, forum topics, replies, the
//! three parse modes (HTML strictly, with the server's own error texts),
//! lengths in UTF-16 code units after parsing, who may edit or delete what,
//! and the file limits. Faults can be injected per method, and every
//! request (rejected ones included) is recorded.
//!
//! If the fake accepted something the real service refuses, every test of
//! the adapter built on it would prove nothing: most of its code is about
//! what it refuses, and how.

mod files;
mod markup;
mod methods;
mod params;
mod server;
mod state;
mod wire;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use state::{Bot, Chat, State, StoredMessage};

/// The most UTF-16 code units a message text may have, after entity parsing.
pub const MAX_TEXT_UTF16: usize = 4096;
/// The most UTF-16 code units a caption may have, after entity parsing.
pub const MAX_CAPTION_UTF16: usize = 1024;
/// The largest file a bot may upload (`sendDocument`, `sendPhoto`); larger
/// is 413 `Request Entity Too Large`.
pub const MAX_UPLOAD_BYTES: usize = 50 * 1024 * 1024;
/// The largest photo `sendPhoto` takes.
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;
/// The methods this fake implements, as the documentation spells them.
/// Any other name (in any case) is 404 `Not Found`.
pub const METHODS: &[&str] = &[
    "getMe",
    "sendMessage",
    "editMessageText",
    "deleteMessage",
    "sendDocument",
    "sendPhoto",
];

/// A handle on one running fake; cheap to clone, all clones share the state.
#[derive(Clone)]
pub struct FakeTelegram {
    state: Arc<Mutex<State>>,
    port: u16,
}

/// What a chat is; decides the membership error texts, whether topics
/// exist, and the `type` of the `chat` object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ChatKind {
    /// A user's chat with the bot: the chat id is the user id (positive).
    /// The bot may only write once the user started it
    /// ([`FakeTelegram::add_member`]).
    Private,
    /// A basic group (negative id).
    Group,
    /// A supergroup (`-100...` id); with `forum`, it has topics.
    Supergroup {
        /// Whether topics are enabled ([`FakeTelegram::add_topic`]).
        forum: bool,
    },
    /// A channel (`-100...` id); posts have `sender_chat`, no `from`.
    Channel,
}

impl ChatKind {
    /// The `type` of the Bot API's `Chat` object.
    pub fn api_type(self) -> &'static str {
        match self {
            ChatKind::Private => "private",
            ChatKind::Group => "group",
            ChatKind::Supergroup { .. } => "supergroup",
            ChatKind::Channel => "channel",
        }
    }
}

/// A message as the fake stored it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TelegramMessage {
    /// Its id in the chat (ids count up per chat, from 1).
    pub message_id: i64,
    pub chat_id: i64,
    /// The forum topic it is in, if any.
    pub message_thread_id: Option<i64>,
    /// The message it replies to (same chat unless the reply said another).
    pub reply_to_message_id: Option<i64>,
    /// Whether a bot sent it (through the API); `false` for
    /// [`FakeTelegram::add_user_message`].
    pub from_bot: bool,
    /// The text after entity parsing and trimming (text messages).
    pub text: Option<String>,
    /// The text (or caption) exactly as sent, before parsing.
    pub raw_text: Option<String>,
    /// The `parse_mode` as sent, if any.
    pub parse_mode: Option<String>,
    /// The entities of the text or caption, as the API shows them:
    /// `{type, offset, length, url?, user?, language?, custom_emoji_id?}`,
    /// offsets and lengths in UTF-16 code units.
    pub entities: Vec<Value>,
    /// The file of a `sendDocument`.
    pub document: Option<TelegramFile>,
    /// The file of a `sendPhoto`.
    pub photo: Option<TelegramFile>,
    /// The caption after parsing and trimming (files), if any.
    pub caption: Option<String>,
    /// Whether it was edited since it was sent.
    pub edited: bool,
    /// Whether it was deleted since (it stays listed, flagged).
    pub deleted: bool,
}

/// An uploaded file, as the multipart part carried it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TelegramFile {
    /// The part's `filename`.
    pub filename: Option<String>,
    /// The part's `Content-Type`, as sent.
    pub mime_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// A failure injected with [`FakeTelegram::inject`], so tests can prove the
/// adapter copes with it. Answering faults answer before any validation
/// (token included), as the service's front end would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429 `Too Many Requests: retry after N` with
    /// `parameters.retry_after` and a `Retry-After` header.
    RateLimited {
        /// `N`, in seconds.
        retry_after_secs: u64,
    },
    /// Any status (e.g. 500, 502) with the Bot API's error body.
    Status(u16),
    /// Wait this long, then handle the request normally (timeouts). A
    /// client that gives up meanwhile does not stop it: the message is
    /// still stored, as a real server would.
    Slow(Duration),
    /// Close the connection without an answer and without handling the
    /// request (recorded with status 0): nothing happened.
    DropConnection,
    /// Handle the request (a message is stored), then close the connection
    /// without an answer (status 0): the uncertain outcome.
    DropAfterHandling,
}

/// One request as the fake received it, with the status it answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedRequest {
    /// The Bot API method as the path spelled it (`sendMessage`,
    /// `SENDMESSAGE`, `noSuchMethod`); empty when the path has none.
    pub method: String,
    /// The HTTP method.
    pub http_method: String,
    /// The raw path, token included.
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

    /// The body as text (lossy).
    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The Bot API's names for the shared log's fields: the Bot API method is
/// `method` (empty when the path has none), the HTTP one `http_method`.
impl From<fake_http::RecordedRequest<String>> for RecordedRequest {
    fn from(r: fake_http::RecordedRequest<String>) -> RecordedRequest {
        RecordedRequest {
            method: r.op.unwrap_or_default(),
            http_method: r.method,
            path: r.path,
            query: r.query,
            headers: r.headers,
            body: r.body,
            status: r.status,
        }
    }
}

impl FakeTelegram {
    /// Start on an ephemeral port of 127.0.0.1, with no bots and no chats.
    pub async fn start() -> FakeTelegram {
        let (listener, port) = fake_http::listen().await;
        let state = Arc::new(Mutex::new(State::default()));
        fake_http::serve(listener, state.clone(), server::Telegram);
        FakeTelegram { state, port }
    }

    /// The API root, what `https://api.telegram.org` is to a real bot.
    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The settings that point an adapter at this fake.
    pub fn client_env(&self) -> Vec<(&'static str, String)> {
        vec![("TELEGRAM_API_URL", self.api_url())]
    }

    /// Register a bot by its token (`<bot id>:<secret>`), returning its id.
    /// Panics on a token without a numeric id before `:`: the test's setup
    /// would be wrong.
    pub fn add_bot(&self, token: &str, username: &str) -> i64 {
        let id = params::token_bot_id(token)
            .unwrap_or_else(|| panic!("fake-telegram: {token:?} is not a bot token"));
        let mut state = self.lock();
        state.bots.retain(|b| b.token != token);
        state.bots.push(Bot {
            id,
            token: token.to_string(),
            username: username.trim_start_matches('@').to_string(),
            revoked: false,
        });
        id
    }

    /// Revoke a token (as `/revoke` in BotFather does): every request with
    /// it is then 401 `Unauthorized`.
    pub fn revoke(&self, token: &str) {
        for bot in self.lock().bots.iter_mut().filter(|b| b.token == token) {
            bot.revoked = true;
        }
    }

    /// Make a chat exist (the bot not in it yet). Panics when the id's sign
    /// or shape does not fit the kind (positive users, negative groups,
    /// `-100...` supergroups and channels), as no real chat would.
    pub fn add_chat(&self, chat_id: i64, kind: ChatKind) {
        let fits = match kind {
            ChatKind::Private => chat_id > 0,
            ChatKind::Group => chat_id < 0 && chat_id > -1_000_000_000_000,
            ChatKind::Supergroup { .. } | ChatKind::Channel => chat_id <= -1_000_000_000_000,
        };
        assert!(
            fits,
            "fake-telegram: chat id {chat_id} cannot be a {kind:?} chat"
        );
        self.lock().chats.insert(chat_id, Chat::new(kind));
    }

    /// Give a supergroup or channel its public `@username`, so `chat_id`
    /// may name it as `"@username"`.
    pub fn set_chat_username(&self, chat_id: i64, username: &str) {
        let mut state = self.lock();
        let chat = state
            .chats
            .get_mut(&chat_id)
            .unwrap_or_else(|| panic!("fake-telegram: no chat {chat_id}"));
        chat.username = Some(username.trim_start_matches('@').to_string());
    }

    /// Put the bot in the chat (for a private chat: the user started the
    /// bot; for a channel: an administrator that may post), so it may
    /// write there; otherwise 403. Panics on an unknown chat or token.
    pub fn add_member(&self, token: &str, chat_id: i64) {
        let mut state = self.lock();
        let bot_id = state.bot_id(token);
        let chat = state
            .chats
            .get_mut(&chat_id)
            .unwrap_or_else(|| panic!("fake-telegram: no chat {chat_id}"));
        chat.removed.remove(&bot_id);
        chat.members.insert(bot_id);
    }

    /// Take the bot out of the chat: 403 `bot was kicked from the ... chat`
    /// (in a private chat: `bot was blocked by the user`).
    pub fn remove_member(&self, token: &str, chat_id: i64) {
        let mut state = self.lock();
        let bot_id = state.bot_id(token);
        if let Some(chat) = state.chats.get_mut(&chat_id) {
            chat.members.remove(&bot_id);
            chat.removed.insert(bot_id);
        }
    }

    /// Make a forum topic exist in a forum supergroup. Its id is the id of
    /// the message that opened it, so later message ids in the chat are
    /// larger. Panics when the chat is not a forum.
    pub fn add_topic(&self, chat_id: i64, message_thread_id: i64) {
        let mut state = self.lock();
        let chat = state
            .chats
            .get_mut(&chat_id)
            .unwrap_or_else(|| panic!("fake-telegram: no chat {chat_id}"));
        assert_eq!(
            chat.kind,
            ChatKind::Supergroup { forum: true },
            "fake-telegram: topics exist only in forum supergroups"
        );
        chat.topics.insert(message_thread_id);
        chat.last_message_id = chat.last_message_id.max(message_thread_id);
    }

    /// A human's text message in the chat (the bot may reply to it, not
    /// edit or delete it); returns its id. Panics on an unknown chat.
    pub fn add_user_message(&self, chat_id: i64, text: &str) -> i64 {
        let mut state = self.lock();
        let chat = state
            .chats
            .get_mut(&chat_id)
            .unwrap_or_else(|| panic!("fake-telegram: no chat {chat_id}"));
        let message_id = chat.next_message_id();
        state.messages.push(StoredMessage {
            message_id,
            chat_id,
            sender_bot: None,
            thread: None,
            reply_to: None,
            text: Some(text.to_string()),
            raw_text: Some(text.to_string()),
            parse_mode: None,
            entities: Vec::new(),
            document: None,
            photo: None,
            caption: None,
            date: wire::now_secs(),
            edit_date: None,
            deleted: false,
        });
        message_id
    }

    /// The messages of a chat, in arrival order, deleted ones flagged.
    pub fn messages(&self, chat_id: i64) -> Vec<TelegramMessage> {
        self.lock()
            .messages
            .iter()
            .filter(|m| m.chat_id == chat_id)
            .map(StoredMessage::public)
            .collect()
    }

    /// One message by chat and id.
    pub fn message(&self, chat_id: i64, message_id: i64) -> Option<TelegramMessage> {
        self.lock()
            .messages
            .iter()
            .find(|m| m.chat_id == chat_id && m.message_id == message_id)
            .map(StoredMessage::public)
    }

    /// Make the next `times` requests of `method` (any case) draw `fault`,
    /// FIFO per method. Panics on a method the fake does not implement.
    pub fn inject(&self, method: &str, fault: Fault, times: usize) {
        let name = params::canonical_method(method)
            .unwrap_or_else(|| panic!("fake-telegram: unknown method {method:?}"));
        self.lock().faults.inject(name, fault, times);
    }

    /// Every request received, in arrival order, rejected ones included.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        let requests = self.lock().requests.requests();
        requests.into_iter().map(RecordedRequest::from).collect()
    }

    /// How many requests named `method` (compared case-insensitively)
    /// arrived, accepted or refused.
    pub fn count(&self, method: &str) -> usize {
        self.lock()
            .requests
            .count(|name| name.map_or("", String::as_str).eq_ignore_ascii_case(method))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        state::lock(&self.state)
    }
}
