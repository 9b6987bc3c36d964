//! The one HTTP client that posts to webhooks.

use std::time::Duration;

use serde_json::Value;

use super::error::{Platform, WebhookError};
use super::{Receipt, slack, teams};
use crate::domain::WebhookUrl;
use crate::http_answer::Answer;

/// Webhook answers are a word or a small JSON error; more is not read.
const MAX_ANSWER: usize = 4096;

/// How long a post may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookTimeouts {
    /// Establishing the connection (TCP and TLS).
    pub connect: Duration,
    /// The whole exchange, connection included.
    pub total: Duration,
}

impl Default for WebhookTimeouts {
    /// 5 s to connect, 10 s in all: both services answer in well under a
    /// second, and the Lambda must still have time to answer its caller.
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            total: Duration::from_secs(10),
        }
    }
}

/// The HTTP client could not be built (no TLS roots, ...): a deployment fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot build the webhook HTTP client")]
pub struct ClientBuildError;

/// Posts messages to Teams Workflows and Slack webhooks.
///
/// Cheap to clone; all clones share one connection pool, so build it once
/// per container. Redirects are never followed: a webhook URL is a
/// credential, and re-sending the message to wherever a 3xx points could
/// hand it to another host.
#[derive(Debug, Clone)]
pub struct Webhooks {
    http: reqwest::Client,
}

impl Webhooks {
    /// A client with these timeouts (see [`WebhookTimeouts::default`]).
    pub fn new(timeouts: WebhookTimeouts) -> Result<Self, ClientBuildError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("skype-sender/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.total)
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|_| ClientBuildError)?;
        Ok(Self { http })
    }

    /// Posts an Adaptive Card with these body elements to a Teams workflow.
    ///
    /// Success is [`Receipt::Accepted`]: the workflow queued a run, which
    /// posts the card later (or fails, unseen by us).
    pub async fn post_teams(
        &self,
        url: &WebhookUrl,
        card_body: Vec<Value>,
    ) -> Result<Receipt, WebhookError> {
        let answer = self
            .post(Platform::TeamsWorkflow, url, &teams::envelope(card_body))
            .await?;
        teams::classify(&answer)
    }

    /// Posts mrkdwn text to a Slack incoming webhook.
    ///
    /// Success is [`Receipt::Delivered`]: Slack answers `ok` once posted.
    pub async fn post_slack(&self, url: &WebhookUrl, text: &str) -> Result<Receipt, WebhookError> {
        let answer = self
            .post(Platform::SlackWebhook, url, &slack::payload(text))
            .await?;
        slack::classify(&answer)
    }

    async fn post(
        &self,
        platform: Platform,
        url: &WebhookUrl,
        body: &Value,
    ) -> Result<Answer, WebhookError> {
        let response = self
            .http
            .post(url.expose_secret())
            .json(body)
            .send()
            .await
            .map_err(|err| WebhookError::from_transport(platform, &err))?;
        let answer = Answer::read(response, MAX_ANSWER).await;
        tracing::debug!(%platform, host = url.host(), status = answer.status, "webhook answered");
        Ok(answer)
    }
}
