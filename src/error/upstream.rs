//! What the upstream services' failures mean to our callers: one place
//! that maps the Skype client's and the webhooks' errors to codes.

use std::time::Duration;

use super::{AppError, ErrorCode};
use crate::bots::BotError;
use crate::skype::SkypeError;
use crate::teams::TeamsError;
use crate::webhooks::WebhookError;

/// Skype's failures, with the codes and statuses of the README's error
/// table ("Answers and errors"): what each means for the caller, and how
/// long to wait.
impl From<SkypeError> for AppError {
    fn from(err: SkypeError) -> Self {
        let message = err.to_string();
        let retry_after = err.retry_after();
        match err {
            SkypeError::RateLimited { .. } => Self::new(ErrorCode::SkypeRateLimited, message)
                .retry(retry_after.or(Some(Duration::from_secs(1)))),
            SkypeError::LoginRateLimited { .. } => {
                Self::new(ErrorCode::SkypeLoginThrottled, message)
                    .retry(retry_after.or(Some(Duration::from_secs(300))))
            }
            SkypeError::LoginWall { .. }
            | SkypeError::LoginIncomplete
            | SkypeError::TwoFactorUnsupported => {
                Self::new(ErrorCode::SkypeLoginNeedsBrowser, message)
            }
            SkypeError::LoginRefused(_) => Self::new(ErrorCode::SkypeLoginRefused, message),
            SkypeError::LoginRequired => Self::new(ErrorCode::SkypeSessionExpired, message),
            // Refused even after one renewal: a later login (another
            // container's, or ours after a pause) may well fix it.
            SkypeError::SkypeTokenRejected | SkypeError::RegistrationRejected => {
                Self::new(ErrorCode::SkypeSessionRefused, message)
                    .retry(Some(Duration::from_secs(30)))
            }
            SkypeError::Rejected { .. } => Self::new(ErrorCode::SkypeRejected, message),
            SkypeError::Protocol(_) => Self::new(ErrorCode::SkypeBadAnswer, message),
            SkypeError::LoginInProgress => Self::new(ErrorCode::SkypeLoginInProgress, message)
                .retry(Some(Duration::from_secs(5))),
            SkypeError::Unavailable { .. } | SkypeError::Connection(_) => {
                Self::new(ErrorCode::SkypeUnavailable, message).retry(Some(Duration::from_secs(5)))
            }
            SkypeError::Timeout => Self::new(ErrorCode::SkypeTimeout, message),
            SkypeError::OutcomeUnknown => Self::new(
                ErrorCode::SkypeTimeout,
                "no answer came from Skype after the message was sent",
            )
            .as_uncertain(),
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

/// Teams' failures (the bot's outbound calls) as API errors.
impl From<TeamsError> for AppError {
    fn from(err: TeamsError) -> Self {
        let message = err.to_string();
        let (code, retry) = match &err {
            TeamsError::TokenRefused(_) | TeamsError::Unauthorized => {
                (ErrorCode::TeamsCredentialsRefused, None)
            }
            TeamsError::NotInConversation => (ErrorCode::TeamsNotInConversation, None),
            TeamsError::ConversationNotFound => (ErrorCode::TeamsConversationNotFound, None),
            TeamsError::ActivityNotFound => (ErrorCode::MessageNotFound, None),
            TeamsError::NotOwnActivity => (ErrorCode::NotOwnMessage, None),
            TeamsError::TooLarge { .. } => (ErrorCode::MessageTooLong, None),
            TeamsError::RateLimited { retry_after } => (
                ErrorCode::TeamsRateLimited,
                Some(retry_after.unwrap_or(RATE_LIMIT_RETRY)),
            ),
            TeamsError::Rejected { .. } => (ErrorCode::TeamsRejected, None),
            TeamsError::BadAnswer(_) => (ErrorCode::TeamsBadAnswer, None),
            TeamsError::Unavailable { .. } => {
                (ErrorCode::TeamsUnavailable, Some(UNAVAILABLE_RETRY))
            }
            TeamsError::Timeout => (ErrorCode::TeamsTimeout, None),
            // Sent, and no answer: see `App::earlier_post`.
            TeamsError::OutcomeUnknown => (ErrorCode::OutcomeUnknown, None),
        };
        let mut app = AppError::new(code, message);
        app.retry_after = retry.map(whole_seconds);
        app
    }
}

/// The bot platforms' failures (Slack, Discord, Telegram) as API errors:
/// the same codes for all three, the platform named in the message.
impl From<BotError> for AppError {
    fn from(err: BotError) -> Self {
        let message = err.to_string();
        let (code, retry) = match &err {
            BotError::AuthRevoked { .. } => (ErrorCode::AuthRevoked, None),
            BotError::NotInChannel { .. } => (ErrorCode::NotInChannel, None),
            BotError::DestinationNotFound { .. } => (ErrorCode::DestinationNotFound, None),
            BotError::MessageNotFound { .. } => (ErrorCode::MessageNotFound, None),
            BotError::NotOwnMessage { .. } => (ErrorCode::NotOwnMessage, None),
            BotError::TooLong { .. } => (ErrorCode::MessageTooLong, None),
            BotError::FileTooLarge { .. } => (ErrorCode::FileTooLarge, None),
            BotError::RateLimited { retry_after, .. } => (
                ErrorCode::RateLimited,
                Some(retry_after.unwrap_or(RATE_LIMIT_RETRY)),
            ),
            BotError::Refused { .. } => (ErrorCode::DestinationRefused, None),
            BotError::Unavailable { .. } => {
                (ErrorCode::DestinationUnavailable, Some(UNAVAILABLE_RETRY))
            }
            BotError::Timeout { .. } => (ErrorCode::DestinationTimeout, None),
            BotError::OutcomeUnknown { .. } => (ErrorCode::OutcomeUnknown, None),
            BotError::BadAnswer { .. } => (ErrorCode::DestinationBadAnswer, None),
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
    use crate::webhooks::Platform;

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
    fn retry_hints_are_whole_seconds_rounded_up() {
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::from_millis(4_200)), 5);
        assert_eq!(whole_seconds(Duration::from_secs(30)), 30);
    }

    #[test]
    fn errors_map_to_the_documented_codes() {
        let platform = Platform::SlackWebhook;
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
