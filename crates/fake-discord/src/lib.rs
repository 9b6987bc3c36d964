//! A strict fake of Discord's webhook API, on one local port, for the
//! Discord adapter's tests:
//!
//! - execute a webhook (`POST /api/webhooks/{id}/{token}`, `?wait=true`
//!   for the message, `?thread_id=` for a thread of its channel), with a
//!   JSON body or `multipart/form-data` (`payload_json` and `files[n]`);
//! - get, edit and delete the webhook's own messages
//!   (`.../messages/{message_id}`), and get the webhook itself;
//! - the same under `/api/v9/` and `/api/v10/`.
//!
//! It checks what Discord checks, and refuses in Discord's shapes: the
//! token (401 `50027`), unknown or deleted webhooks (404 `10015`), messages
//! that are not this webhook's, are deleted, or sit in a thread the request
//! did not name (404 `10008`), unknown threads (400 `10003`), the body's
//! fields with the nested `_errors` tree of `50035 Invalid Form Body`
//! (lengths, types, embeds, `allowed_mentions`), empty messages (`50006`),
//! files over 10 MiB (413 `40005`), and rate limits (429 with the body and
//! every `X-RateLimit-*` header). Mentions are resolved as Discord resolves
//! them under `allowed_mentions`, so a test can prove who would have been
//! pinged. Faults can be injected per operation, and every request
//! (rejected ones included) is recorded.
//!
//! If the fake accepted something Discord refuses, every test of the
//! adapter built on it would prove nothing: most of its code is about what
//! it refuses, and how. Where Discord's exact behaviour is not documented,
//! the fake leans to the stricter reading (noted where it does).

mod form;
mod mentions;
mod server;
mod state;
mod validate;
mod webhook;
mod wire;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

use state::State;

/// Longest `content`, in characters (Unicode scalar values).
pub const MAX_CONTENT_CHARS: usize = 2000;
/// Most files on one message.
pub const MAX_FILES: usize = 10;
/// Largest file Discord takes from a webhook without a boosted server.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

/// A handle on one running fake; cheap to clone, all clones share the state.
#[derive(Clone)]
pub struct FakeDiscord {
    state: Arc<Mutex<State>>,
    port: u16,
}

/// The operations the fake understands; faults and counters are keyed by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `POST /api/webhooks/{id}/{token}`.
    Execute,
    /// `PATCH /api/webhooks/{id}/{token}/messages/{message_id}`.
    Edit,
    /// `DELETE /api/webhooks/{id}/{token}/messages/{message_id}`.
    Delete,
    /// `GET /api/webhooks/{id}/{token}`.
    GetWebhook,
    /// `GET /api/webhooks/{id}/{token}/messages/{message_id}`.
    GetMessage,
}

/// A failure injected with [`FakeDiscord::inject`], so tests can prove the
/// adapter copes with it. Answering faults answer before any validation
/// (and before the webhook is looked up), as Discord's edge does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// 429 with Discord's rate-limit body (`retry_after` in seconds, as a
    /// float) and headers (`Retry-After` rounded up, `X-RateLimit-*`;
    /// `X-RateLimit-Global: true` and scope `global` when `global`).
    RateLimited {
        /// Seconds, as the body's `retry_after` says them.
        retry_after: f64,
        /// A global (per bot or IP) limit rather than the route's.
        global: bool,
    },
    /// Any status (e.g. 500, 502, 503) with `{"message": "500: Internal
    /// Server Error", "code": 0}`.
    Status(u16),
    /// Wait this long, then handle the request normally (timeouts).
    Slow(Duration),
    /// Close the connection without an answer and without handling the
    /// request (recorded with status 0): nothing happened.
    DropConnection,
    /// Handle the request (a message is stored, edited or deleted), then
    /// close the connection without an answer (status 0): the uncertain
    /// outcome a retry must not double.
    DropAfterHandling,
}

/// One request as the fake received it, with the status it answered
/// (`op`: the operation it was routed to).
pub type RecordedRequest = fake_http::RecordedRequest<Op>;

/// A message a webhook posted, as the fake stored it.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscordMessage {
    /// The message's snowflake.
    pub id: String,
    /// Where it is: the thread's id when it was posted in a thread.
    pub channel_id: String,
    /// The webhook that posted it.
    pub webhook_id: String,
    /// `content` as it stands (empty when none).
    pub content: String,
    /// `embeds` as they stand.
    pub embeds: Vec<Value>,
    /// The attached files, in order.
    pub attachments: Vec<DiscordFile>,
    /// `allowed_mentions` of the request that last set the content.
    pub allowed_mentions: Option<Value>,
    /// User ids `<@id>` / `<@!id>` in the content that Discord would ping
    /// under those `allowed_mentions` (in order, once each).
    pub pinged_users: Vec<String>,
    /// Role ids `<@&id>` it would ping.
    pub pinged_roles: Vec<String>,
    /// Whether an `@everyone` or `@here` in it would ping.
    pub pinged_everyone: bool,
    /// Whether it was edited since.
    pub edited: bool,
    /// Whether it was deleted since.
    pub deleted: bool,
    /// The JSON payload (`payload_json` for multipart) as last sent.
    pub body: Value,
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscordFile {
    /// The name Discord shows: `attachments[].filename` when the payload
    /// gave one, else the part's own filename.
    pub filename: String,
    /// The part's `Content-Type`, if it had one.
    pub content_type: Option<String>,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl FakeDiscord {
    /// Start on an ephemeral port of 127.0.0.1, with no webhooks.
    pub async fn start() -> FakeDiscord {
        let (listener, port) = fake_http::listen().await;
        let state = Arc::new(Mutex::new(State::new()));
        let base_url = format!("http://127.0.0.1:{port}");
        fake_http::serve(listener, state.clone(), server::Discord { base_url });
        FakeDiscord { state, port }
    }

    /// `http://127.0.0.1:{port}`, the host webhook URLs are on.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Make a webhook of `channel_id` and return its full URL,
    /// `http://127.0.0.1:{port}/api/webhooks/{id}/{token}`, as Discord's
    /// "Copy Webhook URL" gives it.
    pub fn add_webhook(&self, channel_id: &str) -> String {
        let (id, token) = self.lock().add_webhook(channel_id);
        format!("{}/api/webhooks/{id}/{token}", self.base_url())
    }

    /// Make `thread_id` a thread of `channel_id`, so `?thread_id=` can name
    /// it. Thread ids are snowflakes: anything but digits panics, since
    /// Discord would refuse it in the query anyway.
    pub fn add_thread(&self, channel_id: &str, thread_id: &str) {
        assert!(
            wire::is_snowflake(thread_id),
            "fake-discord: thread ids are snowflakes (digits only), not {thread_id:?}"
        );
        self.lock()
            .threads
            .push((channel_id.to_string(), thread_id.to_string()));
    }

    /// Delete the webhook of `url` (a URL [`FakeDiscord::add_webhook`]
    /// gave): from now on every request to it is 404 `Unknown Webhook`.
    /// Its messages stay.
    pub fn delete_webhook(&self, url: &str) {
        let id = url
            .split("/webhooks/")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or("");
        if let Some(webhook) = self.lock().webhooks.iter_mut().find(|w| w.id == id) {
            webhook.deleted = true;
        }
    }

    /// The messages posted in a channel or thread, in arrival order, deleted
    /// ones included (flagged). A channel's list leaves out its threads'.
    pub fn messages(&self, channel_or_thread_id: &str) -> Vec<DiscordMessage> {
        self.lock()
            .messages
            .iter()
            .filter(|m| m.public.channel_id == channel_or_thread_id)
            .map(|m| m.public.clone())
            .collect()
    }

    /// One message by id, wherever it is.
    pub fn message(&self, id: &str) -> Option<DiscordMessage> {
        self.lock()
            .messages
            .iter()
            .find(|m| m.public.id == id)
            .map(|m| m.public.clone())
    }

    /// Limit every webhook to `requests` per `per` (a fixed window from
    /// its first request, one bucket per webhook for all its routes);
    /// over it, 429 with `retry_after` = what is left of the window.
    /// Without it no request is refused, and the `X-RateLimit-*` headers
    /// describe a bucket too large to empty (10 000 per second).
    pub fn set_rate_limit(&self, requests: u32, per: Duration) {
        let mut state = self.lock();
        state.rate_limit = Some((requests, per));
        state.buckets.clear();
    }

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
