//! The chat platforms reached with a bot token or a webhook that answers
//! ids: Slack's Web API (`slack`), Discord webhooks (`discord`) and
//! Telegram's Bot API (`telegram`). Each module is one adapter: how a
//! post, a reply in a thread, an edit, a delete and a file look on its
//! wire, and what its answers mean, as one [`BotError`]. They share one
//! HTTP client ([`Bots`]): no redirects (a token or webhook URL must not
//! follow a 3xx elsewhere), timeouts, bounded answers. No Lambda, no AWS.

pub mod discord;
mod error;
pub mod slack;
pub mod telegram;

use std::time::Duration;

pub use error::BotError;

use crate::base_url::{InvalidUrl, check_base_url};
use crate::domain::Platform;
use crate::http_answer::Answer;

/// Where the bot APIs are (`SLACK_API_URL`, `TELEGRAM_API_URL`; Discord's
/// host is in each webhook URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotUrls {
    /// Slack's Web API base; methods are `{slack}/{method}`.
    pub slack: String,
    /// Telegram's Bot API base; methods are `{telegram}/bot{token}/{method}`.
    pub telegram: String,
}

impl Default for BotUrls {
    fn default() -> Self {
        Self {
            slack: "https://slack.com/api".into(),
            telegram: "https://api.telegram.org".into(),
        }
    }
}

impl BotUrls {
    /// Reads the overrides through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, InvalidUrl> {
        let mut urls = Self::default();
        for (name, slot) in [
            ("SLACK_API_URL", &mut urls.slack),
            ("TELEGRAM_API_URL", &mut urls.telegram),
        ] {
            if let Some(value) = lookup(name).filter(|v| !v.trim().is_empty()) {
                *slot = check_base_url(name, value.trim())?;
            }
        }
        Ok(urls)
    }
}

/// Answers are small JSON documents; more is not read.
const MAX_ANSWER: usize = 256 * 1024;

/// The client of the three bot platforms; build once per container.
#[derive(Debug, Clone)]
pub struct Bots {
    http: reqwest::Client,
    urls: BotUrls,
}

/// The HTTP client could not be built (no TLS roots, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot build the bot HTTP client")]
pub struct ClientBuildError;

impl Bots {
    /// A client for the hosts `urls` names: 5 s to connect, 15 s in all
    /// (a file upload is three requests).
    pub fn new(urls: BotUrls) -> Result<Self, ClientBuildError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("skype-sender/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|_| ClientBuildError)?;
        Ok(Self { http, urls })
    }

    /// Sends `request`; its answer, read with a bound. A request that
    /// changes something (`posts`) and gets no answer has an open outcome.
    async fn exchange(
        &self,
        platform: Platform,
        request: reqwest::RequestBuilder,
        posts: bool,
    ) -> Result<Answer, BotError> {
        let response = request
            .send()
            .await
            .map_err(|err| BotError::from_transport(platform, &err, posts))?;
        let answer = Answer::read(response, MAX_ANSWER).await;
        tracing::debug!(%platform, status = answer.status, "bot API answered");
        if (300..400).contains(&answer.status) {
            return Err(BotError::BadAnswer {
                platform,
                what: format!("a redirect (HTTP {}), not followed", answer.status),
            });
        }
        Ok(answer)
    }
}

/// A short, printable excerpt of a platform's own error text.
fn excerpt(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(120).collect()
}
