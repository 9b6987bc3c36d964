//! What can go wrong talking to Teams, in classes a caller can act on.
//! Messages name the conversation or the Entra error code, never a token
//! or the app password.

use std::time::Duration;

/// A failure of the Teams bot's outbound calls.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TeamsError {
    /// Entra ID refused the app's client credentials.
    #[error("Microsoft Entra ID refused the bot's credentials: {0}")]
    TokenRefused(TokenRefusal),
    /// The bot is not installed in the conversation (403
    /// `BotNotInConversationRoster`), or we never saw it installed there.
    #[error(
        "the bot is not installed in this conversation: add the app to the team or chat, then post again"
    )]
    NotInConversation,
    /// No such conversation (404 `ConversationNotFound`).
    #[error("Teams has no such conversation")]
    ConversationNotFound,
    /// No such activity in the conversation (404), or one deleted already.
    #[error("Teams has no such message in this conversation (deleted, or never posted there)")]
    ActivityNotFound,
    /// An update or delete of an activity the bot did not send (403).
    #[error("the bot can change only messages it posted")]
    NotOwnActivity,
    /// The message or a picture is over Teams' size limit (413).
    #[error("Teams refused the message as too large ({code})")]
    TooLarge {
        /// Teams' error code (`MessageSizeTooBig`).
        code: String,
    },
    /// Teams throttles this bot or conversation (429).
    #[error("Teams is throttling the bot")]
    RateLimited {
        /// `Retry-After`, when Teams sent one.
        retry_after: Option<Duration>,
    },
    /// The Connector refused the request for a reason of its own.
    #[error("Teams refused the request ({status} {code}: {message})")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// Teams' error code (`BadArgument`, ...).
        code: String,
        /// Teams' message, shortened.
        message: String,
    },
    /// The Connector refused a fresh app token (401): the app registration
    /// or the bot's channel registration is wrong.
    #[error(
        "Teams refused the bot's app token (is the Azure Bot's messaging app the one in the secret?)"
    )]
    Unauthorized,
    /// A server error or an unreachable host.
    #[error("Teams is unavailable{}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Unavailable {
        /// The HTTP status, when one came.
        status: Option<u16>,
    },
    /// No answer in time, before anything was sent (nothing was posted).
    #[error("Teams did not answer in time")]
    Timeout,
    /// A post left and no answer came: it may have been posted.
    #[error("no answer came from Teams after the message was sent")]
    OutcomeUnknown,
    /// An answer we cannot use (a redirect, no activity id, ...).
    #[error("Teams answered something unexpected: {0}")]
    BadAnswer(String),
}

/// Why Entra ID refused the client credentials, by its `AADSTS` code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    /// `AADSTS7000215`: the app password is wrong (or is the secret's id).
    #[error(
        "the app password is wrong (AADSTS7000215): put the client secret's value, not its id, in teams.app_password"
    )]
    WrongSecret,
    /// `AADSTS700016`: no such app in the tenant.
    #[error(
        "no app with this app_id in the tenant (AADSTS700016): check teams.app_id and teams.tenant_id"
    )]
    AppNotFound,
    /// `AADSTS90002` / `AADSTS900023`: the tenant does not exist or is
    /// not the app's.
    #[error("the tenant is unknown or not the app's (AADSTS{0}): check teams.tenant_id")]
    TenantMismatch(u32),
    /// Another refusal.
    #[error("AADSTS{code} ({error})")]
    Other {
        /// The `AADSTS` number.
        code: u32,
        /// The OAuth `error` (`invalid_client`, ...).
        error: String,
    },
}

impl TeamsError {
    /// How long Teams asked us to wait, for [`TeamsError::RateLimited`].
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            TeamsError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// A transport failure. A connection never made sent nothing; once
    /// it was made, a request that posts (`posts`) may have been taken
    /// whatever broke (a timeout, a connection closed before the answer),
    /// so its outcome is open.
    pub(crate) fn from_transport(err: &reqwest::Error, posts: bool) -> Self {
        match (err.is_connect(), posts, err.is_timeout()) {
            (true, _, true) | (false, false, true) => TeamsError::Timeout,
            (true, _, false) | (false, false, false) => TeamsError::Unavailable { status: None },
            (false, true, _) => TeamsError::OutcomeUnknown,
        }
    }
}

impl TokenRefusal {
    /// The refusal an Entra ID error answer names.
    pub(crate) fn from_answer(error: &str, codes: &[u32]) -> Self {
        match codes.first().copied() {
            Some(7000215) => TokenRefusal::WrongSecret,
            Some(700016) => TokenRefusal::AppNotFound,
            Some(code @ (90002 | 900023 | 90072 | 700005)) => TokenRefusal::TenantMismatch(code),
            code => TokenRefusal::Other {
                code: code.unwrap_or(0),
                error: error.chars().take(60).collect(),
            },
        }
    }
}
