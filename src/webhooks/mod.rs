//! Posting to the non-Skype targets: Teams Workflows and Slack incoming
//! webhooks.
//!
//! This is transport only: callers bring the rendered message (Adaptive Card
//! body elements for Teams, mrkdwn for Slack) and a [`WebhookUrl`]; they get
//! a [`Receipt`] or a [`WebhookError`] in a class they can act on, which
//! converts into the function's [`AppError`].
//!
//! - [`url`]: the URL, parsed once and never shown (it is the credential).
//! - [`client`]: the shared HTTP client ([`Webhooks`]).
//! - [`teams`], [`slack`]: each service's payload and answers.
//! - [`error`]: the error classes.

mod answer;
pub mod client;
pub mod error;
pub mod slack;
pub mod teams;
pub mod url;

use std::time::Duration;

pub use client::{ClientBuildError, WebhookTimeouts, Webhooks};
pub use error::{Platform, WebhookError};
pub use url::{InvalidWebhookUrl, WebhookUrl};

use crate::error::{AppError, ErrorCode};

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

/// Wait suggested when the service is down, as for Skype.
const UNAVAILABLE_RETRY: Duration = Duration::from_secs(5);

/// Wait suggested on a 429 without `Retry-After` (Slack allows about one
/// post per second per webhook).
const RATE_LIMIT_RETRY: Duration = Duration::from_secs(1);

/// Webhook failures as API errors; the codes are documented for callers.
impl From<WebhookError> for AppError {
    fn from(err: WebhookError) -> Self {
        let message = err.to_string();
        let (code, retry) = match &err {
            WebhookError::Revoked { .. } => (ErrorCode::WebhookRevoked, None),
            WebhookError::DestinationRefused { .. } => (ErrorCode::WebhookDestinationRefused, None),
            WebhookError::PayloadRefused { .. } => (ErrorCode::WebhookPayloadRefused, None),
            WebhookError::RateLimited { retry_after, .. } => (
                ErrorCode::WebhookRateLimited,
                Some(retry_after.unwrap_or(RATE_LIMIT_RETRY)),
            ),
            WebhookError::Unavailable { .. } => {
                (ErrorCode::WebhookUnavailable, Some(UNAVAILABLE_RETRY))
            }
            // Sent, and no answer: the outcome is unknown (see
            // `App::earlier_post` in src/app/send.rs for what a retry does).
            WebhookError::Timeout { .. } => (ErrorCode::OutcomeUnknown, None),
            WebhookError::Unexpected { .. } => (ErrorCode::WebhookBadAnswer, None),
        };
        let mut app = AppError::new(code, message);
        app.retry_after = retry.map(whole_seconds);
        app
    }
}

/// Seconds, rounded up, at least 1 (`Retry-After: 0` would invite a storm).
fn whole_seconds(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
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

    #[test]
    fn retry_hints_are_whole_seconds_rounded_up() {
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::from_millis(4_200)), 5);
        assert_eq!(whole_seconds(Duration::from_secs(30)), 30);
    }

    #[test]
    fn errors_map_to_the_documented_codes() {
        let platform = Platform::Slack;
        let cases = [
            (
                WebhookError::Revoked {
                    platform,
                    status: 404,
                    code: None,
                },
                502,
                "webhook_revoked",
                None,
            ),
            (
                WebhookError::DestinationRefused {
                    platform,
                    status: 410,
                    code: None,
                },
                502,
                "webhook_destination_refused",
                None,
            ),
            (
                WebhookError::PayloadRefused {
                    platform,
                    status: 400,
                    code: None,
                },
                502,
                "webhook_payload_refused",
                None,
            ),
            (
                WebhookError::RateLimited {
                    platform,
                    retry_after: Some(Duration::from_secs(7)),
                },
                429,
                "webhook_rate_limited",
                Some(7),
            ),
            (
                WebhookError::RateLimited {
                    platform,
                    retry_after: None,
                },
                429,
                "webhook_rate_limited",
                Some(1),
            ),
            (
                WebhookError::Unavailable {
                    platform,
                    status: Some(500),
                },
                503,
                "webhook_unavailable",
                Some(5),
            ),
            (
                WebhookError::Timeout { platform },
                504,
                "outcome_unknown",
                None,
            ),
            (
                WebhookError::Unexpected {
                    platform,
                    status: 302,
                    code: None,
                },
                502,
                "webhook_bad_answer",
                None,
            ),
        ];
        for (err, status, code, retry) in cases {
            let message = err.to_string();
            let app = AppError::from(err);
            assert_eq!(
                (app.status, app.code.as_str(), app.retry_after),
                (status, code, retry)
            );
            assert_eq!(app.message, message);
        }
    }
}
