//! Everything the fake remembers: bots, channels, messages, files, upload
//! tickets, queued faults and the request log. One mutex guards it;
//! handlers hold it briefly and never across an `.await`.

use std::collections::{BTreeSet, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use fake_http::{Faults, Log};

use super::{Fault, SlackFile, SlackMessage};

pub(crate) use fake_http::lock;

/// A registered bot token.
#[derive(Debug, Clone)]
pub(crate) struct Bot {
    pub token: String,
    pub user_id: String,
    pub bot_id: String,
    pub team: String,
    pub team_id: String,
    pub revoked: bool,
}

/// A channel and the bot users in it.
pub(crate) struct Channel {
    pub id: String,
    pub name: String,
    pub members: BTreeSet<String>,
}

/// A file from its reservation on.
pub(crate) struct File {
    pub id: String,
    pub ticket: String,
    /// The bot user that reserved it.
    pub owner: String,
    pub filename: String,
    /// `length` as reserved; the upload must match it.
    pub length: usize,
    pub bytes: Option<Vec<u8>>,
    pub title: Option<String>,
    pub channel: Option<String>,
    pub thread_ts: Option<String>,
    pub initial_comment: Option<String>,
    pub message_ts: Option<String>,
    pub completed: bool,
    pub created: u64,
}

impl File {
    pub fn public(&self) -> SlackFile {
        SlackFile {
            id: self.id.clone(),
            filename: self.filename.clone(),
            title: self.title.clone(),
            bytes: self.bytes.clone().unwrap_or_default(),
            channel: self.channel.clone(),
            thread_ts: self.thread_ts.clone(),
            initial_comment: self.initial_comment.clone(),
            message_ts: self.message_ts.clone(),
            completed: self.completed,
        }
    }
}

/// The whole server state.
pub(crate) struct State {
    pub port: u16,
    pub bots: Vec<Bot>,
    /// Team name → made-up team id.
    pub teams: HashMap<String, String>,
    pub channels: Vec<Channel>,
    pub messages: Vec<SlackMessage>,
    pub files: Vec<File>,
    /// (channel, ts) of edited messages → the `ts` of their last edit.
    pub edits: HashMap<(String, String), String>,
    /// The last `ts` handed out, in microseconds.
    pub last_ts: u128,
    pub faults: Faults<String, Fault>,
    /// Recorded by Slack method name (see [`crate::RecordedRequest`]).
    pub requests: Log<String>,
}

impl State {
    pub fn new(port: u16) -> State {
        State {
            port,
            bots: Vec::new(),
            teams: HashMap::new(),
            channels: Vec::new(),
            messages: Vec::new(),
            files: Vec::new(),
            edits: HashMap::new(),
            last_ts: 0,
            faults: Faults::default(),
            requests: Log::default(),
        }
    }

    pub fn add_bot(&mut self, token: &str, user_id: &str, team: &str) {
        let team_id = self
            .teams
            .entry(team.to_string())
            .or_insert_with(|| format!("T0{}", random_id(9)))
            .clone();
        let bot_id = format!("B{}", user_id.get(1..).unwrap_or(""));
        self.bots.retain(|b| b.token != token);
        self.bots.push(Bot {
            token: token.to_string(),
            user_id: user_id.to_string(),
            bot_id,
            team: team.to_string(),
            team_id,
            revoked: false,
        });
    }

    /// The bot id of a user, when the user is a registered bot.
    pub fn bot_id_of(&self, user: &str) -> Option<String> {
        self.bots
            .iter()
            .find(|b| b.user_id == user)
            .map(|b| b.bot_id.clone())
    }

    pub fn channel(&self, id: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| c.id == id)
    }

    /// A new message `ts`: the time in microseconds, made unique and
    /// increasing, as `seconds.micros` (`1700000000.000100`).
    pub fn next_ts(&mut self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros())
            .unwrap_or(0);
        let ts = now.max(self.last_ts + 1);
        self.last_ts = ts;
        format!("{}.{:06}", ts / 1_000_000, ts % 1_000_000)
    }
}

/// `n` random characters of Slack ids (upper-case letters and digits).
pub(crate) fn random_id(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..n)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect()
}
