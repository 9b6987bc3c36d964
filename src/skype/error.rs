//! Everything that can go wrong when talking to Skype, as values a caller
//! can act on (retry later, tell the user to open a browser, ...).

use std::time::Duration;

/// A failed Skype operation.
///
/// Messages are written for the person reading the API response: they say
/// what happened and what to do, and never carry a token or a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkypeError {
    /// Microsoft refused the user name or password (SOAP fault text or the
    /// login page's error text, e.g. "wsse:FailedAuthentication - Authentication Failure").
    #[error("Skype login refused: {0}")]
    LoginRefused(String),

    /// The captcha / consent / new-terms wall: only a person can clear it.
    #[error(
        "account action required ({action}), login with a web browser first: log in once from a browser, then upload the token"
    )]
    LoginWall {
        /// The page the browser would have been sent to (without its query).
        action: String,
    },

    /// The account asks for a second factor, which a bot cannot give.
    #[error("Two-factor authentication unsupported: use an app password or upload a token file")]
    TwoFactorUnsupported,

    /// SkPy's "Couldn't retrieve t field from login response".
    #[error(
        "Couldn't retrieve t field from login response: Microsoft did not finish the login (captcha, blocked account, new terms or an unfamiliar IP); log in once from a web browser, then upload the token"
    )]
    LoginIncomplete,

    /// HTTP 429 / errorCode 803 on a login: Skype blocks logins for minutes.
    #[error("Skype is throttling logins (errorCode 803); do not retry before {}", retry_text(.retry_after))]
    LoginRateLimited {
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },

    /// HTTP 429 / errorCode 800: we are sending too fast.
    #[error("Skype rate limit exceeded (errorCode 800); retry after {}", retry_text(.retry_after))]
    RateLimited {
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },

    /// The session is over and there is no password to log in with.
    #[error(
        "the Skype session has expired and no password is configured: upload a fresh token file"
    )]
    LoginRequired,

    /// Another instance is logging in and its session did not arrive in time.
    #[error("another instance is logging in to Skype; retry in a few seconds")]
    LoginInProgress,

    /// The skype token was refused (expired or revoked): a login is needed.
    #[error("Skype refused the session token (expired or revoked)")]
    SkypeTokenRejected,

    /// The registration token was refused (401, 729, token mismatch): a new
    /// registration is needed.
    #[error("Skype refused the messaging registration (stale endpoint)")]
    RegistrationRejected,

    /// Skype refused this request for a reason of its own (blocked content,
    /// quarantine, unknown message, ...).
    #[error("Skype rejected the request (HTTP {status}): {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// Skype's own explanation.
        message: String,
    },

    /// Skype answered with a server error.
    #[error("Skype is unavailable (HTTP {status})")]
    Unavailable {
        /// The HTTP status.
        status: u16,
    },

    /// No answer within the request timeout.
    #[error("Skype did not answer in time")]
    Timeout,

    /// A message post left and no answer came back (a timeout after the
    /// request was sent, or a connection that broke): Skype may have
    /// posted it. Look with `SkypeClient::find_sent` before sending again.
    #[error("Skype may have posted the message: no answer came after it was sent")]
    OutcomeUnknown,

    /// The connection could not be made or broke.
    #[error("cannot reach Skype: {0}")]
    Connection(String),

    /// Skype answered something we cannot read.
    #[error("unexpected answer from Skype: {0}")]
    Protocol(String),
}

fn retry_text(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(after) => format!("{} s", after.as_secs()),
        None => "a while".to_string(),
    }
}

impl SkypeError {
    /// Whether the same request may succeed if simply tried again later
    /// (the caller decides when; `retry_after` says how long when known).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. }
                | Self::LoginRateLimited { .. }
                | Self::LoginInProgress
                | Self::Unavailable { .. }
                | Self::Timeout
                | Self::OutcomeUnknown
                | Self::Connection(_)
        )
    }

    /// The wait Skype asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } | Self::LoginRateLimited { retry_after } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// Whether a person has to act (browser login, second factor, password).
    pub fn needs_person(&self) -> bool {
        matches!(
            self,
            Self::LoginRefused(_)
                | Self::LoginWall { .. }
                | Self::TwoFactorUnsupported
                | Self::LoginIncomplete
                | Self::LoginRequired
        )
    }
}

impl SkypeError {
    /// A failed message post: unknown if the request may have reached
    /// Skype, that is unless it never connected (or was never built).
    pub(crate) fn of_post(err: reqwest::Error) -> Self {
        if err.is_connect() || err.is_builder() {
            Self::from(err)
        } else {
            Self::OutcomeUnknown
        }
    }
}

impl From<reqwest::Error> for SkypeError {
    fn from(err: reqwest::Error) -> Self {
        // reqwest's messages carry the URL; ours carry no secret in URLs,
        // but we still keep only the kind of failure.
        if err.is_timeout() {
            Self::Timeout
        } else if err.is_connect() {
            Self::Connection("connection failed".into())
        } else if err.is_decode() {
            Self::Protocol("unreadable response body".into())
        } else {
            Self::Connection("request failed".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_do() {
        let wall = SkypeError::LoginWall {
            action: "https://account.live.com/ar/cancel".into(),
        };
        assert!(wall.to_string().contains("log in once from a browser"));
        assert!(wall.needs_person());
        let limited = SkypeError::RateLimited {
            retry_after: Some(Duration::from_secs(7)),
        };
        assert!(limited.to_string().contains("7 s"));
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(7)));
        assert!(limited.is_transient());
        assert!(SkypeError::LoginIncomplete.to_string().contains("t field"));
        let unknown = SkypeError::OutcomeUnknown;
        assert!(unknown.is_transient() && !unknown.needs_person());
        assert!(unknown.to_string().contains("may have posted"));
    }
}
