//! TEMPORARY stand-in for the webhook clients (replaced by the real module on merge).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::error::AppError;

/// A webhook URL: a secret.
#[derive(Clone)]
pub struct WebhookUrl(SecretString);

impl std::fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookUrl([redacted])")
    }
}

impl PartialEq for WebhookUrl {
    fn eq(&self, other: &Self) -> bool {
        self.0.expose_secret() == other.0.expose_secret()
    }
}
impl Eq for WebhookUrl {}

/// Not a usable webhook URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a usable webhook URL")]
pub struct InvalidWebhookUrl;

impl WebhookUrl {
    /// Parses.
    pub fn parse(url: &str) -> Result<Self, InvalidWebhookUrl> {
        if url.starts_with("https://") || url.starts_with("http://127.0.0.1") {
            Ok(Self(SecretString::from(url.to_string())))
        } else {
            Err(InvalidWebhookUrl)
        }
    }
}

/// What the service said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// Delivered.
    Delivered,
    /// Accepted only.
    Accepted,
}

/// Failure.
#[derive(Debug, thiserror::Error)]
#[error("webhook failed")]
pub struct WebhookError;

impl From<WebhookError> for AppError {
    fn from(_: WebhookError) -> Self {
        AppError::new(503, "webhook_unavailable", "webhook failed")
    }
}

/// The clients.
pub struct Webhooks {
    client: reqwest::Client,
}

impl Webhooks {
    /// One client.
    pub fn new(timeout: Duration) -> Self {
        Self {
            client: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .unwrap_or_default(),
        }
    }

    /// Teams.
    pub async fn post_teams(
        &self,
        url: &WebhookUrl,
        card_body: Vec<serde_json::Value>,
    ) -> Result<Receipt, WebhookError> {
        let body = serde_json::json!({"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": {"type": "AdaptiveCard", "version": "1.4", "body": card_body}}]});
        let response = self
            .client
            .post(url.0.expose_secret())
            .json(&body)
            .send()
            .await
            .map_err(|_| WebhookError)?;
        if response.status().is_success() {
            Ok(Receipt::Accepted)
        } else {
            Err(WebhookError)
        }
    }

    /// Slack.
    pub async fn post_slack(&self, url: &WebhookUrl, text: &str) -> Result<Receipt, WebhookError> {
        let response = self
            .client
            .post(url.0.expose_secret())
            .json(&serde_json::json!({"text": text}))
            .send()
            .await
            .map_err(|_| WebhookError)?;
        if response.status().is_success() {
            Ok(Receipt::Delivered)
        } else {
            Err(WebhookError)
        }
    }
}
