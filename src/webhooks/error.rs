//! What can go wrong posting to a webhook, in classes a caller can act on
//! (get a new URL, fix the channel, retry later). Messages name the platform
//! and the service's own error code, never the URL.

use std::fmt;
use std::time::Duration;

pub use crate::domain::Platform;

/// A post that did not go through.
///
/// `code` fields hold the service's own short error code (`channel_is_archived`,
/// `WorkflowNotFound`) when it gave one that looks like a code; free text from
/// the service is never copied, since it could echo the URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The webhook no longer exists or was revoked: only a new URL helps.
    #[error(
        "the {platform} webhook no longer exists or was revoked (HTTP {status}{}): ask for a new webhook URL",
        code_text(.code)
    )]
    Revoked {
        /// Which service.
        platform: Platform,
        /// The HTTP status.
        status: u16,
        /// The service's error code, if any.
        code: Option<String>,
    },

    /// The webhook exists but its channel refuses posts (archived, deleted,
    /// restricted): the channel's owners must fix it.
    #[error(
        "the {platform} channel behind this webhook refuses messages (HTTP {status}{})",
        code_text(.code)
    )]
    DestinationRefused {
        /// Which service.
        platform: Platform,
        /// The HTTP status.
        status: u16,
        /// The service's error code, if any.
        code: Option<String>,
    },

    /// The service refused the message itself (malformed, too big, no text).
    #[error("{platform} refused the message payload (HTTP {status}{})", code_text(.code))]
    PayloadRefused {
        /// Which service.
        platform: Platform,
        /// The HTTP status.
        status: u16,
        /// The service's error code, if any.
        code: Option<String>,
    },

    /// HTTP 429: too many posts to this webhook.
    #[error("{platform} is rate limiting this webhook (HTTP 429); retry after {}", retry_text(.retry_after))]
    RateLimited {
        /// Which service.
        platform: Platform,
        /// The service's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },

    /// A server error, or no connection at all: trying later may work.
    #[error("{platform} is unavailable ({})", status_text(.status))]
    Unavailable {
        /// Which service.
        platform: Platform,
        /// The HTTP status; `None` when no answer came (connection failed).
        status: Option<u16>,
    },

    /// No answer within the timeout after the request was sent: the
    /// message may or may not be posted.
    #[error("{platform} did not answer in time; the message may or may not have been posted")]
    Timeout {
        /// Which service.
        platform: Platform,
    },

    /// An answer that fits none of the above: a redirect (never followed,
    /// since a webhook that moves is not one we were given), an unknown
    /// status, or a success with an unexpected body.
    #[error("unexpected answer from the {platform} webhook (HTTP {status}{})", code_text(.code))]
    Unexpected {
        /// Which service.
        platform: Platform,
        /// The HTTP status.
        status: u16,
        /// The service's error code, if any.
        code: Option<String>,
    },
}

impl WebhookError {
    /// The wait the service asked for with `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Which service failed.
    pub fn platform(&self) -> Platform {
        match self {
            Self::Revoked { platform, .. }
            | Self::DestinationRefused { platform, .. }
            | Self::PayloadRefused { platform, .. }
            | Self::RateLimited { platform, .. }
            | Self::Unavailable { platform, .. }
            | Self::Timeout { platform }
            | Self::Unexpected { platform, .. } => *platform,
        }
    }

    /// Whether the same post may succeed if simply tried again later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Unavailable { .. } | Self::Timeout { .. }
        )
    }

    /// A transport failure (no HTTP answer) from reqwest. Its text is not
    /// used: reqwest's `Display` includes the URL.
    pub(crate) fn from_transport(platform: Platform, err: &reqwest::Error) -> Self {
        tracing::debug!(%platform, error = %NoUrl(err), "webhook transport failure");
        // A connection that was never made posted nothing; a timeout
        // after it was made leaves the outcome open.
        if err.is_timeout() && !err.is_connect() {
            Self::Timeout { platform }
        } else {
            Self::Unavailable {
                platform,
                status: None,
            }
        }
    }
}

/// Shows a reqwest error's kind without its URL (for debug logs).
struct NoUrl<'a>(&'a reqwest::Error);

impl fmt::Display for NoUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.0.is_timeout() {
            "timeout"
        } else if self.0.is_connect() {
            "connect"
        } else if self.0.is_body() || self.0.is_decode() {
            "body"
        } else if self.0.is_request() {
            "request"
        } else {
            "other"
        };
        f.write_str(kind)
    }
}

/// Keeps a service error code only if it looks like one: short, ASCII
/// letters, digits, `_`, `-` or `.`. Anything else (free text, HTML) is
/// dropped, since it could quote the request's URL.
pub(crate) fn safe_code(text: &str) -> Option<String> {
    let text = text.trim();
    let looks_like_code = !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    looks_like_code.then(|| text.to_string())
}

fn code_text(code: &Option<String>) -> String {
    match code {
        Some(code) => format!(", {code}"),
        None => String::new(),
    }
}

fn retry_text(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(after) => format!("{} s", after.as_secs()),
        None => "a while".to_string(),
    }
}

fn status_text(status: &Option<u16>) -> String {
    match status {
        Some(status) => format!("HTTP {status}"),
        None => "no connection".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_platform_and_code() {
        let err = WebhookError::DestinationRefused {
            platform: Platform::SlackWebhook,
            status: 410,
            code: Some("channel_is_archived".into()),
        };
        assert_eq!(
            err.to_string(),
            "the Slack channel behind this webhook refuses messages (HTTP 410, channel_is_archived)"
        );
        let err = WebhookError::RateLimited {
            platform: Platform::TeamsWorkflow,
            retry_after: Some(Duration::from_secs(30)),
        };
        assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
        assert!(err.to_string().contains("Teams") && err.to_string().contains("30 s"));
        let down = WebhookError::Unavailable {
            platform: Platform::SlackWebhook,
            status: None,
        };
        assert_eq!(down.to_string(), "Slack is unavailable (no connection)");
        assert!(down.is_transient());
        assert_eq!(down.retry_after(), None);
    }

    #[test]
    fn only_code_shaped_text_is_kept() {
        assert_eq!(safe_code(" no_service\n"), Some("no_service".into()));
        assert_eq!(
            safe_code("DirectApiInvalidAuthorizationSignature"),
            Some("DirectApiInvalidAuthorizationSignature".into())
        );
        assert_eq!(safe_code("<html>oops</html>"), None);
        assert_eq!(safe_code("https://hooks.slack.com/services/T/B/S"), None);
        assert_eq!(safe_code("two words"), None);
        assert_eq!(safe_code(""), None);
        assert_eq!(safe_code(&"a".repeat(65)), None);
    }
}
