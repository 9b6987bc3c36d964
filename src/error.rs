//! The one failure type of the function: an HTTP status, a stable error
//! code, and a message a person can act on. Every trigger renders it in
//! its own shape; none of them ever carries a secret.

mod code;
mod upstream;

use std::time::Duration;

pub use code::ErrorCode;

use crate::domain::{AttachmentError, ChannelError, MessageError};
use crate::state::{AccountError, StoreError};

/// A request that could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    /// The HTTP status (also chosen for non-HTTP triggers, for logs):
    /// the code's, unless several targets' failures were summed up.
    pub status: u16,
    /// A stable, precise code for programs.
    pub code: ErrorCode,
    /// For people; the original service's texts where it had them.
    pub message: String,
    /// Seconds to wait before trying again, when known.
    pub retry_after: Option<u64>,
}

impl AppError {
    /// A failure with its code's status and no retry hint.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status: code.status(),
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
        Self::new(ErrorCode::MissingParameters, "missing request parameters")
    }

    /// The original service's 401, word for word.
    pub fn unauthorized() -> Self {
        Self::new(ErrorCode::Unauthorized, "incorrect API key")
    }

    /// The stack's secret was never filled in.
    /// Its `Retry-After` is a minute: the time to paste the secret.
    pub fn not_configured() -> Self {
        let mut err = Self::new(
            ErrorCode::NotConfigured,
            "skype-sender is not configured yet: its secret still holds the placeholder credentials of a new stack. Put the bot's Skype username and password, the API keys and the channels into the secret (README: Put in the credentials, keys and channels)",
        );
        err.retry_after = Some(60);
        err
    }

    /// The invocation's deadline came before Skype's answer.
    pub fn deadline() -> Self {
        Self::new(
            ErrorCode::DeadlineExceeded,
            "Skype did not answer before this invocation's deadline; the message may not have been posted: retry with the same idempotency key",
        )
    }

    /// The same failure, known to leave the outcome open: the request
    /// left, and no answer came back, so the message may have been posted.
    pub fn as_uncertain(self) -> Self {
        let mut err = Self::new(
            ErrorCode::OutcomeUnknown,
            format!(
                "{}; the message may have been posted. A retry with the same idempotency key checks before posting (Skype) or refuses to post again (Teams, webhooks); without a key, a retry may post it twice",
                self.message.trim_end_matches('.')
            ),
        );
        err.retry_after = self.retry_after;
        err
    }

    /// Whether the message this failure is about may have been posted.
    pub fn is_uncertain(&self) -> bool {
        matches!(
            self.code,
            ErrorCode::OutcomeUnknown | ErrorCode::EarlierOutcomeUnknown
        )
    }

    /// A concurrent request holds the same idempotency key.
    pub fn in_progress() -> Self {
        Self::new(
            ErrorCode::IdempotencyKeyInProgress,
            "a request with this idempotency key is still being processed; retry shortly",
        )
        .retry(Some(Duration::from_secs(2)))
    }

    /// An unknown channel's error, completed with the aliases the caller
    /// may use (only those: an alias list is no one else's business).
    pub fn with_known_aliases(mut self, known: &[&str]) -> Self {
        if self.code == ErrorCode::UnknownChannel {
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
            409 => self.code == ErrorCode::IdempotencyKeyInProgress,
            status => matches!(status, 429 | 500 | 503 | 504),
        }
    }
}

impl From<MessageError> for AppError {
    fn from(err: MessageError) -> Self {
        match err {
            MessageError::TooLong(_) => Self::new(ErrorCode::MessageTooLong, err.to_string()),
            MessageError::Empty => Self::missing_parameters(),
            MessageError::UnknownFormat => Self::new(ErrorCode::InvalidFormat, err.to_string()),
            MessageError::MentionsNotAList
            | MessageError::TooManyMentions(_)
            | MessageError::MentionShape(_)
            | MessageError::MentionIdEmpty(_)
            | MessageError::MentionIdInvalid(_)
            | MessageError::MentionIdTooLong(_)
            | MessageError::MentionNameTooLong(_) => {
                Self::new(ErrorCode::InvalidMentions, err.to_string())
            }
        }
    }
}

impl From<AttachmentError> for AppError {
    fn from(err: AttachmentError) -> Self {
        let code = match err {
            AttachmentError::Empty => ErrorCode::EmptyFile,
            AttachmentError::TooLarge => ErrorCode::FileTooLarge,
        };
        Self::new(code, err.to_string())
    }
}

impl From<ChannelError> for AppError {
    fn from(err: ChannelError) -> Self {
        match err {
            ChannelError::Unknown(_) => Self::new(ErrorCode::UnknownChannel, err.to_string()),
            ChannelError::Invalid { .. }
            | ChannelError::NotAName
            | ChannelError::Empty
            | ChannelError::TooMany(_) => Self::new(ErrorCode::InvalidChannel, err.to_string()),
            ChannelError::BadAlias { .. } => {
                Self::new(ErrorCode::BadConfiguration, err.to_string())
            }
        }
    }
}

impl From<AccountError> for AppError {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::Unavailable(_) => {
                Self::new(ErrorCode::SecretUnavailable, err.to_string())
                    .retry(Some(Duration::from_secs(5)))
            }
            _ => Self::new(ErrorCode::BadConfiguration, err.to_string()),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        Self::new(ErrorCode::TokenStoreUnavailable, err.to_string())
            .retry(Some(Duration::from_secs(5)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_original_texts() {
        assert_eq!(AppError::unauthorized().message, "incorrect API key");
        assert_eq!(
            AppError::missing_parameters().message,
            "missing request parameters"
        );
    }
}
