//! Posting to the non-Skype targets: Teams Workflows and Slack incoming
//! webhooks.
//!
//! This is transport only: callers bring the rendered message (Adaptive Card
//! body elements for Teams, mrkdwn for Slack) and a [`WebhookUrl`]; they get
//! a [`Receipt`] or a [`WebhookError`] in a class they can act on, which
//! converts into the function's `AppError` (`src/error/upstream.rs`).
//!
//! - [`WebhookUrl`] (a domain value, `src/domain/webhook_url.rs`): the URL,
//!   parsed once and never shown (it is the credential).
//! - [`client`]: the shared HTTP client ([`Webhooks`]).
//! - [`teams`], [`slack`]: each service's payload and answers.
//! - [`error`]: the error classes.

pub mod client;
pub mod error;
pub mod slack;
pub mod teams;

pub use crate::domain::{InvalidWebhookUrl, WebhookUrl};
pub use client::{ClientBuildError, WebhookTimeouts, Webhooks};
pub use error::{Platform, WebhookError};

/// What a successful post proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// The service says the message is in the channel (Slack's `200 ok`).
    Delivered,
    /// The service queued the message and does not confirm delivery
    /// (Teams Workflows' `202`: the flow runs later, and may still fail).
    Accepted,
}

impl Receipt {
    /// One sentence for the API response, so callers know how far the
    /// message got.
    pub fn describe(&self) -> &'static str {
        match self {
            Receipt::Delivered => "Slack posted the message (200 ok)",
            Receipt::Accepted => {
                "Teams accepted the message (202); Teams does not confirm delivery"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_say_how_far_the_message_got() {
        assert!(
            Receipt::Accepted
                .describe()
                .contains("does not confirm delivery")
        );
        assert!(Receipt::Delivered.describe().contains("posted"));
    }
}
