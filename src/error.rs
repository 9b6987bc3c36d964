//! The one failure type of the function: an HTTP status, a stable error
//! code, and a message a person can act on. Every trigger renders it in
//! its own shape; none of them ever carries a secret.

use std::time::Duration;

use crate::domain::{ChannelError, MessageError};
use crate::skype::SkypeError;
use crate::state::{AccountError, StoreError};

/// A request that could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    /// The HTTP status (also chosen for non-HTTP triggers, for logs).
    pub status: u16,
    /// A stable, precise code for programs (`missing_parameters`, ...).
    pub code: &'static str,
    /// For people; the original service's texts where it had them.
    pub message: String,
    /// Seconds to wait before trying again, when known.
    pub retry_after: Option<u64>,
}

impl AppError {
    /// A failure with no retry hint.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    fn retry(mut self, after: Option<Duration>) -> Self {
        self.retry_after = after.map(|d| d.as_secs().max(1));
        self
    }

    /// The original service's 400, word for word.
    pub fn missing_parameters() -> Self {
        Self::new(400, "missing_parameters", "missing request parameters")
    }

    /// The original service's 401, word for word.
    pub fn unauthorized() -> Self {
        Self::new(401, "unauthorized", "incorrect API key")
    }

    /// A malformed field or body.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    /// The invocation's deadline came before Skype's answer.
    pub fn deadline() -> Self {
        Self::new(
            504,
            "deadline_exceeded",
            "Skype did not answer before this invocation's deadline; the message may not have been posted: retry with the same idempotency key",
        )
    }

    /// The same failure, known to leave the outcome open: the request
    /// left, and no answer came back, so the message may have been posted.
    pub fn as_uncertain(self) -> Self {
        let mut err = Self::new(
            504,
            "outcome_unknown",
            format!(
                "{}; the message may have been posted. A retry with the same idempotency key checks before posting (Skype) or refuses to post again (webhooks); without a key, a retry may post it twice",
                self.message.trim_end_matches('.')
            ),
        );
        err.retry_after = self.retry_after;
        err
    }

    /// Whether the message this failure is about may have been posted.
    pub fn is_uncertain(&self) -> bool {
        self.code == "outcome_unknown"
    }

    /// A concurrent request holds the same idempotency key.
    pub fn in_progress() -> Self {
        Self::new(
            409,
            "idempotency_key_in_progress",
            "a request with this idempotency key is still being processed; retry shortly",
        )
        .retry(Some(Duration::from_secs(2)))
    }

    /// An unknown channel's error, completed with the aliases the caller
    /// may use (only those: an alias list is no one else's business).
    pub fn with_known_aliases(mut self, known: &[&str]) -> Self {
        if self.code == "unknown_channel" {
            if known.is_empty() {
                self.message
                    .push_str("; no aliases are configured for this key");
            } else {
                self.message
                    .push_str(&format!("; known aliases: {}", known.join(", ")));
            }
        }
        self
    }

    /// The same failure, explained by what had already happened.
    pub fn prefixed(mut self, context: &str) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// Whether trying again later may succeed (drives SQS/async retries).
    pub fn is_retryable(&self) -> bool {
        match self.status {
            // A 409 is retryable while the other request runs; an earlier
            // outcome that cannot be checked stays unknown.
            409 => self.code == "idempotency_key_in_progress",
            status => matches!(status, 429 | 500 | 503 | 504),
        }
    }
}

impl From<MessageError> for AppError {
    fn from(err: MessageError) -> Self {
        match err {
            MessageError::TooLong(_) => Self::new(413, "message_too_long", err.to_string()),
            MessageError::Empty => Self::missing_parameters(),
            MessageError::UnknownFormat => Self::bad_request("invalid_format", err.to_string()),
            MessageError::MentionsNotAList
            | MessageError::TooManyMentions(_)
            | MessageError::MentionShape(_)
            | MessageError::MentionIdEmpty(_)
            | MessageError::MentionIdInvalid(_)
            | MessageError::MentionIdTooLong(_)
            | MessageError::MentionNameTooLong(_) => {
                Self::bad_request("invalid_mentions", err.to_string())
            }
        }
    }
}

impl From<ChannelError> for AppError {
    fn from(err: ChannelError) -> Self {
        match err {
            ChannelError::Unknown(_) => Self::bad_request("unknown_channel", err.to_string()),
            ChannelError::Invalid { .. }
            | ChannelError::NotAName
            | ChannelError::Empty
            | ChannelError::TooMany(_) => Self::bad_request("invalid_channel", err.to_string()),
            ChannelError::BadAlias { .. } => Self::new(500, "bad_configuration", err.to_string()),
        }
    }
}

impl From<AccountError> for AppError {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::Unavailable(_) => Self::new(503, "secret_unavailable", err.to_string())
                .retry(Some(Duration::from_secs(5))),
            _ => Self::new(500, "bad_configuration", err.to_string()),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        Self::new(503, "token_store_unavailable", err.to_string())
            .retry(Some(Duration::from_secs(5)))
    }
}

/// Skype's failures, with the codes and statuses of the README's error
/// table ("Answers and errors").
impl From<SkypeError> for AppError {
    fn from(err: SkypeError) -> Self {
        let message = err.to_string();
        let retry_after = err.retry_after();
        match err {
            SkypeError::RateLimited { .. } => Self::new(429, "skype_rate_limited", message)
                .retry(retry_after.or(Some(Duration::from_secs(1)))),
            SkypeError::LoginRateLimited { .. } => Self::new(503, "skype_login_throttled", message)
                .retry(retry_after.or(Some(Duration::from_secs(300)))),
            SkypeError::LoginWall { .. }
            | SkypeError::LoginIncomplete
            | SkypeError::TwoFactorUnsupported => {
                Self::new(502, "skype_login_needs_browser", message)
            }
            SkypeError::LoginRefused(_) => Self::new(502, "skype_login_refused", message),
            SkypeError::LoginRequired => Self::new(502, "skype_session_expired", message),
            // Refused even after one renewal: a later login (another
            // container's, or ours after a pause) may well fix it.
            SkypeError::SkypeTokenRejected | SkypeError::RegistrationRejected => {
                Self::new(503, "skype_session_refused", message)
                    .retry(Some(Duration::from_secs(30)))
            }
            SkypeError::Rejected { .. } => Self::new(502, "skype_rejected", message),
            SkypeError::Protocol(_) => Self::new(502, "skype_bad_answer", message),
            SkypeError::LoginInProgress => Self::new(503, "skype_login_in_progress", message)
                .retry(Some(Duration::from_secs(5))),
            SkypeError::Unavailable { .. } | SkypeError::Connection(_) => {
                Self::new(503, "skype_unavailable", message).retry(Some(Duration::from_secs(5)))
            }
            SkypeError::Timeout => Self::new(504, "skype_timeout", message),
            SkypeError::OutcomeUnknown => Self::new(
                504,
                "skype_timeout",
                "no answer came from Skype after the message was sent",
            )
            .as_uncertain(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skype_failures_map_as_the_design_says() {
        let limited = AppError::from(SkypeError::RateLimited {
            retry_after: Some(Duration::from_secs(7)),
        });
        assert_eq!((limited.status, limited.retry_after), (429, Some(7)));
        let wall = AppError::from(SkypeError::LoginWall { action: "x".into() });
        assert_eq!(wall.status, 502);
        assert_eq!(AppError::from(SkypeError::Timeout).status, 504);
        assert_eq!(
            AppError::from(SkypeError::Unavailable { status: 500 }).status,
            503
        );
        assert!(AppError::from(SkypeError::Timeout).is_retryable());
        assert!(!wall.is_retryable());
    }

    #[test]
    fn the_original_texts() {
        assert_eq!(AppError::unauthorized().message, "incorrect API key");
        assert_eq!(
            AppError::missing_parameters().message,
            "missing request parameters"
        );
    }
}
