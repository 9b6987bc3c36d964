//! Everything the fake remembers: webhooks, threads, messages, rate-limit
//! buckets, queued faults and the request log. One mutex guards it;
//! handlers hold it briefly and never across an `.await`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use fake_http::{Faults, Log};

use serde_json::Value;

use super::wire::{self, Resp};
use super::{DiscordMessage, Fault, Op};

pub(crate) use fake_http::lock;

/// The rate-limit headers' bucket when no limit is set: too large to empty.
const UNLIMITED: (u32, Duration) = (10_000, Duration::from_secs(1));

pub(crate) struct Webhook {
    pub id: String,
    pub token: String,
    pub channel_id: String,
    pub name: String,
    pub deleted: bool,
}

/// What the public [`DiscordMessage`] leaves out but the answers need.
pub(crate) struct StoredMessage {
    pub public: DiscordMessage,
    /// Each attachment's snowflake and description, beside `public.attachments`.
    pub attachment_meta: Vec<(String, Option<String>)>,
    pub username: Option<String>,
    pub tts: bool,
    pub flags: u64,
    pub components: Vec<Value>,
    pub timestamp: String,
    pub edited_timestamp: Option<String>,
}

/// A fixed window of one webhook's requests.
pub(crate) struct Bucket {
    start: Instant,
    used: u32,
}

/// The whole server state.
pub(crate) struct State {
    pub guild_id: String,
    pub webhooks: Vec<Webhook>,
    /// `(channel, thread)` pairs.
    pub threads: Vec<(String, String)>,
    pub messages: Vec<StoredMessage>,
    last_snowflake: u64,
    pub rate_limit: Option<(u32, Duration)>,
    pub buckets: HashMap<String, Bucket>,
    pub faults: Faults<Op, Fault>,
    pub requests: Log<Op>,
}

impl State {
    pub fn new() -> State {
        let mut state = State {
            guild_id: String::new(),
            webhooks: Vec::new(),
            threads: Vec::new(),
            messages: Vec::new(),
            last_snowflake: 0,
            rate_limit: None,
            buckets: HashMap::new(),
            faults: Faults::default(),
            requests: Log::default(),
        };
        state.guild_id = state.snowflake();
        state
    }

    /// A new, strictly increasing snowflake.
    pub fn snowflake(&mut self) -> String {
        self.last_snowflake = wire::next_snowflake(self.last_snowflake);
        self.last_snowflake.to_string()
    }

    /// A new webhook of `channel_id`: its id and token.
    pub fn add_webhook(&mut self, channel_id: &str) -> (String, String) {
        let id = self.snowflake();
        let token = wire::new_token();
        self.webhooks.push(Webhook {
            id: id.clone(),
            token: token.clone(),
            channel_id: channel_id.to_string(),
            name: "Captain Hook".to_string(),
            deleted: false,
        });
        (id, token)
    }

    pub fn is_thread_of(&self, channel_id: &str, thread_id: &str) -> bool {
        self.threads
            .iter()
            .any(|(c, t)| c == channel_id && t == thread_id)
    }

    /// Count one request against `webhook_id`'s bucket: the `X-RateLimit-*`
    /// headers to answer with, or the 429 when the bucket is empty (a
    /// refused request does not count).
    pub fn take_rate_limit(&mut self, webhook_id: &str) -> Result<Vec<(String, String)>, Resp> {
        let (limit, per) = self.rate_limit.unwrap_or(UNLIMITED);
        let now = Instant::now();
        let bucket = self
            .buckets
            .entry(webhook_id.to_string())
            .or_insert(Bucket {
                start: now,
                used: 0,
            });
        if now.duration_since(bucket.start) >= per {
            *bucket = Bucket {
                start: now,
                used: 0,
            };
        }
        let reset_after = per.saturating_sub(now.duration_since(bucket.start));
        let enforced = self.rate_limit.is_some();
        if enforced && bucket.used >= limit {
            let retry_after = (reset_after.as_secs_f64() * 1000.0).ceil() / 1000.0;
            let headers = rate_headers(webhook_id, limit, 0, reset_after);
            return Err(too_many(retry_after, false, headers));
        }
        bucket.used += 1;
        let remaining = limit.saturating_sub(bucket.used);
        Ok(rate_headers(webhook_id, limit, remaining, reset_after))
    }

    /// The 429 of an injected [`Fault::RateLimited`] on a request to
    /// `webhook_id` (looked up or not).
    pub fn injected_rate_limit(&self, webhook_id: &str, retry_after: f64, global: bool) -> Resp {
        let (limit, _) = self.rate_limit.unwrap_or((5, Duration::from_secs(2)));
        let reset_after = Duration::from_secs_f64(retry_after.max(0.0));
        let headers = rate_headers(webhook_id, limit, 0, reset_after);
        too_many(retry_after, global, headers)
    }
}

/// The `X-RateLimit-*` headers of a bucket.
fn rate_headers(
    webhook_id: &str,
    limit: u32,
    remaining: u32,
    reset_after: Duration,
) -> Vec<(String, String)> {
    let reset_at = Duration::from_millis(wire::now_ms()) + reset_after;
    vec![
        ("X-RateLimit-Limit".into(), limit.to_string()),
        ("X-RateLimit-Remaining".into(), remaining.to_string()),
        ("X-RateLimit-Reset".into(), wire::secs3(reset_at)),
        ("X-RateLimit-Reset-After".into(), wire::secs3(reset_after)),
        ("X-RateLimit-Bucket".into(), bucket_hash(webhook_id)),
    ]
}

/// Discord's 429: the body, `Retry-After` in whole seconds rounded up, the
/// scope, and the global flag when global.
fn too_many(retry_after: f64, global: bool, headers: Vec<(String, String)>) -> Resp {
    let body = serde_json::json!({
        "message": "You are being rate limited.",
        "retry_after": retry_after,
        "global": global,
    });
    let mut resp = Resp::json(429, &body)
        .headers(headers)
        .header(
            "Retry-After",
            (retry_after.max(0.0).ceil() as u64).to_string(),
        )
        .header("X-RateLimit-Scope", if global { "global" } else { "user" });
    if global {
        resp = resp.header("X-RateLimit-Global", "true");
    }
    resp
}

/// An opaque, stable bucket id per webhook (FNV-1a of its id, as hex).
fn bucket_hash(webhook_id: &str) -> String {
    let hash = webhook_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}
