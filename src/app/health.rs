//! `GET /health`: is the bot's session good, when did it last post, how
//! did the last login go. Expiry times only: never a token.

use std::sync::atomic::Ordering;

use super::App;
use crate::clock;
use crate::deadline::Deadline;
use crate::domain::LoginOutcome;
use crate::domain::Platform;
use crate::error::{AppError, ErrorCode};
use crate::state::{Account, LoginRecord};

/// The session's lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionHealth {
    /// Skype token expiry, Unix seconds.
    pub skype_token_expires_at: u64,
    /// Registration token expiry, Unix seconds.
    pub registration_token_expires_at: u64,
}

/// The Teams bot's part of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamsHealth {
    /// Whether this container holds a fresh app token.
    pub app_token_cached: bool,
    /// Conversation references stored (where the bot was installed).
    pub conversations: usize,
}

/// Whether a bot platform's credential works, by the cheap check it offers
/// (Slack `auth.test`, Telegram `getMe`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialHealth {
    /// Which platform.
    pub platform: Platform,
    /// The error code when the check failed (`auth_revoked`, ...).
    pub error: Option<ErrorCode>,
}

/// What `GET /health` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// The current session (this container's, else the stored one).
    pub session: Option<SessionHealth>,
    /// This container's last accepted post, Unix milliseconds.
    pub last_post_ms: Option<u64>,
    /// The last login attempt by any instance.
    pub last_login: Option<LoginRecord>,
    /// The Teams bot, when the secret configures one.
    pub teams: Option<TeamsHealth>,
    /// The Slack and Telegram bots' credentials, when configured.
    pub credentials: Vec<CredentialHealth>,
    /// Now, Unix seconds (what the expiries are compared with).
    pub now: u64,
}

impl Health {
    /// Whether messages can go out without a person: a login is only
    /// tried when the session is missing, expiring or refused, so a last
    /// login that failed (wall, refusal, throttle) means posts are failing
    /// or about to.
    pub fn healthy(&self) -> bool {
        let logged_in = self
            .last_login
            .as_ref()
            .is_none_or(|login| login.outcome == LoginOutcome::Succeeded);
        // A revoked bot token fails every post to that platform.
        let credentials = self.credentials.iter().all(|c| c.error.is_none());
        logged_in && credentials
    }
}

impl App {
    /// The health report (reads the stored session and the login record;
    /// never logs in).
    pub async fn health(&self) -> Result<Health, AppError> {
        let live = self
            .ready
            .get()
            .and_then(|ready| ready.skype.session())
            .map(|session| (*session).clone());
        let session = match live {
            Some(session) => Some(session),
            None => self.vault.load().await?,
        };
        let last_login = self.gate.last_login().await?;
        let last_post_ms = Some(self.last_post_ms.load(Ordering::Relaxed)).filter(|ms| *ms > 0);
        let account = self.account().await?;
        let teams = match account.teams.is_some() {
            true => Some(TeamsHealth {
                app_token_cached: match self.teams.get() {
                    Some(client) => client.has_token().await,
                    None => false,
                },
                conversations: self.teams_conversations().await?,
            }),
            false => None,
        };
        Ok(Health {
            session: session.map(|session| SessionHealth {
                skype_token_expires_at: session.auth.expires_at,
                registration_token_expires_at: session.registration.expires_at,
            }),
            last_post_ms,
            last_login,
            teams,
            credentials: self.credential_health(&account).await,
            now: clock::unix_seconds(),
        })
    }
}

impl App {
    /// The configured bot tokens, each checked once (concurrently, within
    /// a few seconds: a health check must answer fast).
    async fn credential_health(&self, account: &Account) -> Vec<CredentialHealth> {
        let check = async |platform: Platform| {
            let error = self
                .check_bot(platform, Deadline::after(std::time::Duration::from_secs(4)))
                .await
                .err()
                .map(|err| err.code);
            CredentialHealth { platform, error }
        };
        let slack = async {
            match account.slack_token.is_some() {
                true => Some(check(Platform::Slack).await),
                false => None,
            }
        };
        let telegram = async {
            match account.telegram_token.is_some() {
                true => Some(check(Platform::Telegram).await),
                false => None,
            }
        };
        let (slack, telegram) = tokio::join!(slack, telegram);
        slack.into_iter().chain(telegram).collect()
    }
}
