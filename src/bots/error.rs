//! What can go wrong talking to a bot platform, in classes a caller can
//! act on. Each names the platform and its own error code; none holds a
//! token or a webhook URL.

use std::time::Duration;

use crate::domain::Platform;

/// A failure of a Slack, Discord or Telegram call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BotError {
    /// The token or webhook is invalid, revoked or deleted.
    #[error(
        "{platform} refused the bot's credentials ({code}): check the token or webhook URL in the secret"
    )]
    AuthRevoked {
        /// Which platform.
        platform: Platform,
        /// Its error code.
        code: String,
    },
    /// The bot is not a member of the channel or chat.
    #[error("the bot is not in this {platform} channel ({code}): add it, then post again")]
    NotInChannel {
        /// Which platform.
        platform: Platform,
        /// Its error code.
        code: String,
    },
    /// No such channel, chat or thread.
    #[error("{platform} has no such channel, chat or thread ({code})")]
    DestinationNotFound {
        /// Which platform.
        platform: Platform,
        /// Its error code.
        code: String,
    },
    /// No such message (or deleted already).
    #[error("{platform} has no such message ({code})")]
    MessageNotFound {
        /// Which platform.
        platform: Platform,
        /// Its error code.
        code: String,
    },
    /// A message the bot did not post.
    #[error("{platform}: the bot can change only the messages it posted ({code})")]
    NotOwnMessage {
        /// Which platform.
        platform: Platform,
        /// Its error code.
        code: String,
    },
    /// The message is over the platform's limit.
    #[error("{platform} refused the message as too long ({code})")]
    TooLong {
        /// Which platform.
        platform: Platform,
        /// Its error code.
        code: String,
    },
    /// The file is over the platform's limit.
    #[error("{platform} refused the file as too large")]
    FileTooLarge {
        /// Which platform.
        platform: Platform,
    },
    /// Throttled.
    #[error("{platform} is throttling the bot")]
    RateLimited {
        /// Which platform.
        platform: Platform,
        /// How long it asked us to wait.
        retry_after: Option<Duration>,
    },
    /// Refused for a reason of its own.
    #[error("{platform} refused the request ({code})")]
    Refused {
        /// Which platform.
        platform: Platform,
        /// Its error code or text.
        code: String,
    },
    /// A server error or an unreachable host.
    #[error("{platform} is unavailable{}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Unavailable {
        /// Which platform.
        platform: Platform,
        /// The HTTP status, when one came.
        status: Option<u16>,
    },
    /// No answer in time, and nothing was posted.
    #[error("{platform} did not answer in time")]
    Timeout {
        /// Which platform.
        platform: Platform,
    },
    /// A post left and no answer came: it may have been posted.
    #[error("no answer came from {platform} after the message was sent")]
    OutcomeUnknown {
        /// Which platform.
        platform: Platform,
    },
    /// An answer we cannot use.
    #[error("{platform} answered something unexpected: {what}")]
    BadAnswer {
        /// Which platform.
        platform: Platform,
        /// What was wrong with it.
        what: String,
    },
}

impl BotError {
    /// How long the platform asked us to wait, for a rate limit.
    pub fn rate_limit(&self) -> Option<Option<Duration>> {
        match self {
            BotError::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// A transport failure: a connection never made sent nothing; once it
    /// was made, a request that posts may have been taken.
    pub(crate) fn from_transport(platform: Platform, err: &reqwest::Error, posts: bool) -> Self {
        match (err.is_connect(), posts, err.is_timeout()) {
            (true, _, true) | (false, false, true) => BotError::Timeout { platform },
            (true, _, false) | (false, false, false) => BotError::Unavailable {
                platform,
                status: None,
            },
            (false, true, _) => BotError::OutcomeUnknown { platform },
        }
    }

    /// A server error, by status.
    pub(crate) fn server(platform: Platform, status: u16) -> Self {
        BotError::Unavailable {
            platform,
            status: Some(status),
        }
    }
}
