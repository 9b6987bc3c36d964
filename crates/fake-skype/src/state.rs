//! Everything the fake remembers: accounts, issued tokens, messages, objects
//! and the request log. One mutex guards it; handlers hold it briefly and
//! never across an `.await`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use super::random::Rng;
use super::server::Host;
use super::{Account, Fault, MessageHook, Op, RecordedRequest, StoredMessage, StoredObject};

/// The default lifetime of skype and registration tokens: about a day, as
/// the real service gave.
const DAY: u64 = 86_400;

/// Lock the state, surviving a poisoned mutex (a panicking test thread must
/// not take every later request down with it).
pub(crate) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// An issued skype token: whose it is and until when it is good.
pub(crate) struct SkypeToken {
    pub account: usize,
    pub expires_at: u64,
}

/// A web-flow login in progress, keyed by its PPFT.
pub(crate) struct WebSession {
    pub msprequ: String,
    pub mspok: String,
    /// Set once the password was accepted but an opid round is required.
    pub pending_opid: Option<(String, usize)>,
}

/// An issued registration token, bound to its account, host and endpoint.
#[derive(Clone)]
pub(crate) struct Registration {
    pub account: usize,
    pub host: Host,
    pub endpoint: String,
    pub expires_at: u64,
}

/// An ASM object and the account that created it.
pub(crate) struct ObjectRecord {
    pub object: StoredObject,
    pub owner: usize,
}

/// The whole server state.
pub(crate) struct State {
    pub primary_port: u16,
    pub home_port: u16,
    pub accounts: Vec<Account>,
    pub faults: HashMap<Op, VecDeque<Fault>>,
    pub redirect: bool,
    pub skype_lifetime: u64,
    pub registration_lifetime: u64,
    /// SOAP security tokens (`t=...&p=`), single use.
    pub security_tokens: HashMap<String, usize>,
    pub skype_tokens: HashMap<String, SkypeToken>,
    pub web_sessions: HashMap<String, WebSession>,
    /// Web-flow `t` values, single use.
    pub t_values: HashMap<String, usize>,
    pub registration_tokens: HashMap<String, Registration>,
    pub logins: usize,
    pub registrations_issued: usize,
    pub messages: BTreeMap<String, Vec<StoredMessage>>,
    /// (conversation, sender, clientmessageid) → server id.
    pub dedupe: HashMap<(String, String, String), String>,
    /// Whether `dedupe` is consulted (see `FakeSkype::set_dedupe`).
    pub dedupe_on: bool,
    pub last_message_id: u64,
    pub objects: HashMap<String, ObjectRecord>,
    pub requests: Vec<RecordedRequest>,
    /// Added to every answer (see `FakeSkype::set_latency`).
    pub latency: std::time::Duration,
    pub rng: Rng,
    pub on_message: Option<MessageHook>,
    /// Messages accepted but not yet passed to `on_message` (called unlocked).
    pub pending_events: Vec<StoredMessage>,
}

impl State {
    /// Empty state with the real service's defaults (redirect on, 24 h tokens).
    pub fn new(primary_port: u16, home_port: u16) -> State {
        State {
            primary_port,
            home_port,
            accounts: Vec::new(),
            faults: HashMap::new(),
            redirect: true,
            skype_lifetime: DAY,
            registration_lifetime: DAY,
            security_tokens: HashMap::new(),
            skype_tokens: HashMap::new(),
            web_sessions: HashMap::new(),
            t_values: HashMap::new(),
            registration_tokens: HashMap::new(),
            logins: 0,
            registrations_issued: 0,
            messages: BTreeMap::new(),
            dedupe: HashMap::new(),
            dedupe_on: true,
            last_message_id: 0,
            objects: HashMap::new(),
            requests: Vec::new(),
            latency: std::time::Duration::ZERO,
            rng: Rng::new(),
            on_message: None,
            pending_events: Vec::new(),
        }
    }

    /// `http://127.0.0.1:PORT` of a host.
    pub fn origin(&self, host: Host) -> String {
        let port = match host {
            Host::Primary => self.primary_port,
            Host::Home => self.home_port,
        };
        format!("http://127.0.0.1:{port}")
    }

    /// The account a login name (e-mail or Skype name, any case) belongs to.
    pub fn find_account(&self, login: &str) -> Option<usize> {
        self.accounts.iter().position(|a| {
            a.skype_name.eq_ignore_ascii_case(login)
                || a.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(login))
        })
    }

    /// Take the next queued fault for `op`, if any.
    pub fn take_fault(&mut self, op: Op) -> Option<Fault> {
        self.faults.get_mut(&op).and_then(VecDeque::pop_front)
    }

    /// Issue a fresh skype token for an account: a successful login.
    pub fn issue_skype_token(&mut self, account: usize) -> String {
        let token = self.rng.skype_token();
        let expires_at = now_secs().saturating_add(self.skype_lifetime);
        self.skype_tokens.insert(
            token.clone(),
            SkypeToken {
                account,
                expires_at,
            },
        );
        self.logins += 1;
        token
    }

    /// Issue a registration token bound to account, host and a new endpoint.
    pub fn issue_registration(&mut self, account: usize, host: Host) -> (String, Registration) {
        let token = self.rng.base64(678);
        let endpoint = format!("{{{}}}", self.rng.guid());
        let registration = Registration {
            account,
            host,
            endpoint,
            expires_at: now_secs().saturating_add(self.registration_lifetime),
        };
        self.registration_tokens
            .insert(token.clone(), registration.clone());
        self.registrations_issued += 1;
        (token, registration)
    }

    /// Backdate every skype token so the next use gets 40160.
    pub fn expire_skype_tokens(&mut self) {
        let past = now_secs().saturating_sub(1);
        for token in self.skype_tokens.values_mut() {
            token.expires_at = past;
        }
    }

    /// Backdate every registration token so the next use gets 729.
    pub fn expire_registrations(&mut self) {
        let past = now_secs().saturating_sub(1);
        for registration in self.registration_tokens.values_mut() {
            registration.expires_at = past;
        }
    }

    /// A server message id: the arrival time in ms, made unique.
    pub fn next_message_id(&mut self) -> u64 {
        let id = now_ms().max(self.last_message_id + 1);
        self.last_message_id = id;
        id
    }

    /// Log a request as it arrives; its status is filled in when answered.
    pub fn record(&mut self, request: RecordedRequest) -> usize {
        self.requests.push(request);
        self.requests.len() - 1
    }

    /// The messages to hand to the hook, and the hook (called unlocked).
    pub fn take_events(&mut self) -> (Option<MessageHook>, Vec<StoredMessage>) {
        let events = std::mem::take(&mut self.pending_events);
        (
            self.on_message.clone().filter(|_| !events.is_empty()),
            events,
        )
    }
}

/// Shared handle type used by the server tasks.
pub(crate) type Shared = Arc<Mutex<State>>;
