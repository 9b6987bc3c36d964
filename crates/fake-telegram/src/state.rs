//! Everything the fake remembers: bots, chats, messages, queued faults and
//! the request log. One mutex guards it; handlers hold it briefly and never
//! across an `.await`.

use std::collections::{BTreeMap, BTreeSet};

use fake_http::{Faults, Log};

use serde_json::Value;

use super::{ChatKind, Fault, TelegramFile, TelegramMessage};

pub(crate) use fake_http::lock;

/// A registered bot.
pub(crate) struct Bot {
    pub id: i64,
    pub token: String,
    pub username: String,
    pub revoked: bool,
}

/// A chat: its kind, which bots are in it, its topics.
pub(crate) struct Chat {
    pub kind: ChatKind,
    pub username: Option<String>,
    /// Bot ids that may write here.
    pub members: BTreeSet<i64>,
    /// Bot ids kicked (or, in a private chat, blocked by the user).
    pub removed: BTreeSet<i64>,
    /// Forum topic ids (`message_thread_id`).
    pub topics: BTreeSet<i64>,
    pub last_message_id: i64,
}

impl Chat {
    pub fn new(kind: ChatKind) -> Chat {
        Chat {
            kind,
            username: None,
            members: BTreeSet::new(),
            removed: BTreeSet::new(),
            topics: BTreeSet::new(),
            last_message_id: 0,
        }
    }

    pub fn next_message_id(&mut self) -> i64 {
        self.last_message_id += 1;
        self.last_message_id
    }
}

/// A file kept with its message, plus the ids the API answered.
#[derive(Clone)]
pub(crate) struct StoredFile {
    pub file: TelegramFile,
    pub file_id: String,
    pub file_unique_id: String,
    /// Pixels, for photos.
    pub width: u32,
    pub height: u32,
}

/// A message in a chat.
#[derive(Clone)]
pub(crate) struct StoredMessage {
    pub message_id: i64,
    pub chat_id: i64,
    /// The bot that sent it; `None` for a human's message.
    pub sender_bot: Option<i64>,
    pub thread: Option<i64>,
    /// `(chat_id, message_id)` of the message it replies to.
    pub reply_to: Option<(i64, i64)>,
    pub text: Option<String>,
    pub raw_text: Option<String>,
    pub parse_mode: Option<String>,
    pub entities: Vec<Value>,
    pub document: Option<StoredFile>,
    pub photo: Option<StoredFile>,
    pub caption: Option<String>,
    pub date: u64,
    pub edit_date: Option<u64>,
    pub deleted: bool,
}

impl StoredMessage {
    pub fn public(&self) -> TelegramMessage {
        TelegramMessage {
            message_id: self.message_id,
            chat_id: self.chat_id,
            message_thread_id: self.thread,
            reply_to_message_id: self.reply_to.map(|(_, id)| id),
            from_bot: self.sender_bot.is_some(),
            text: self.text.clone(),
            raw_text: self.raw_text.clone(),
            parse_mode: self.parse_mode.clone(),
            entities: self.entities.clone(),
            document: self.document.as_ref().map(|f| f.file.clone()),
            photo: self.photo.as_ref().map(|f| f.file.clone()),
            caption: self.caption.clone(),
            edited: self.edit_date.is_some(),
            deleted: self.deleted,
        }
    }
}

/// The whole server state.
#[derive(Default)]
pub(crate) struct State {
    pub bots: Vec<Bot>,
    pub chats: BTreeMap<i64, Chat>,
    pub messages: Vec<StoredMessage>,
    /// Keyed by the method's documented spelling.
    pub faults: Faults<&'static str, Fault>,
    /// Recorded by the method as the path spelled it.
    pub requests: Log<String>,
}

impl State {
    /// The id of a registered token's bot; panics otherwise (test setup).
    pub fn bot_id(&self, token: &str) -> i64 {
        self.bots
            .iter()
            .find(|b| b.token == token)
            .map(|b| b.id)
            .unwrap_or_else(|| panic!("fake-telegram: no bot with token {token:?}"))
    }

    /// The live (not revoked) bot a token names.
    pub fn bot_by_token(&self, token: &str) -> Option<&Bot> {
        self.bots.iter().find(|b| b.token == token && !b.revoked)
    }

    pub fn message(&self, chat_id: i64, message_id: i64) -> Option<&StoredMessage> {
        self.messages
            .iter()
            .find(|m| m.chat_id == chat_id && m.message_id == message_id)
    }

    pub fn message_mut(&mut self, chat_id: i64, message_id: i64) -> Option<&mut StoredMessage> {
        self.messages
            .iter_mut()
            .find(|m| m.chat_id == chat_id && m.message_id == message_id)
    }
}
