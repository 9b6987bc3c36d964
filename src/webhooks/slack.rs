//! Slack incoming webhooks: the payload, and what Slack's plain-text
//! answers mean.
//!
//! Slack answers 200 `ok` once the message is posted; failures are a status
//! with a plain-text code such as `channel_is_archived`. The code decides
//! the class; the status only when the code is unknown.

use serde_json::{Value, json};

use super::Receipt;
use super::error::{Platform, WebhookError, safe_code};
use crate::http_answer::Answer;

/// The JSON body of a post: mrkdwn text, nothing else.
pub fn payload(text: &str) -> Value {
    json!({ "text": text })
}

/// Codes meaning the webhook itself is gone: only a new URL helps.
const REVOKED: &[&str] = &[
    "no_service",
    "no_service_id",
    "invalid_token",
    "no_team",
    "team_disabled",
    "token_revoked",
];

/// Codes meaning the channel (or user) behind the webhook refuses posts.
const DESTINATION: &[&str] = &[
    "channel_not_found",
    "channel_is_archived",
    "action_prohibited",
    "posting_to_general_channel_denied",
    "user_not_found",
];

/// Codes meaning the message itself was refused.
const PAYLOAD: &[&str] = &[
    "invalid_payload",
    "too_many_attachments",
    "no_text",
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_too_long",
];

/// What an answer of Slack means.
pub(crate) fn classify(answer: &Answer) -> Result<Receipt, WebhookError> {
    let platform = Platform::SlackWebhook;
    let status = answer.status;
    let code = safe_code(&answer.body);
    let known = |list: &[&str]| code.as_deref().is_some_and(|c| list.contains(&c));
    Err(match status {
        200 if answer.body.trim() == "ok" => return Ok(Receipt::Delivered),
        429 => WebhookError::RateLimited {
            platform,
            retry_after: answer.retry_after,
        },
        _ if known(REVOKED) => WebhookError::Revoked {
            platform,
            status,
            code,
        },
        _ if known(DESTINATION) => WebhookError::DestinationRefused {
            platform,
            status,
            code,
        },
        _ if known(PAYLOAD) => WebhookError::PayloadRefused {
            platform,
            status,
            code,
        },
        500..=599 => WebhookError::Unavailable {
            platform,
            status: Some(status),
        },
        400 | 413 => WebhookError::PayloadRefused {
            platform,
            status,
            code,
        },
        401 | 403 | 404 => WebhookError::Revoked {
            platform,
            status,
            code,
        },
        410 => WebhookError::DestinationRefused {
            platform,
            status,
            code,
        },
        _ => WebhookError::Unexpected {
            platform,
            status,
            code,
        },
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn class(status: u16, body: &str) -> WebhookError {
        classify(&Answer {
            status,
            retry_after: None,
            body: body.into(),
        })
        .unwrap_err()
    }

    fn slack(status: u16, code: &str) -> (Platform, u16, Option<String>) {
        (Platform::SlackWebhook, status, Some(code.to_string()))
    }

    #[test]
    fn ok_is_delivered_and_nothing_else_is() {
        let ok = Answer {
            status: 200,
            retry_after: None,
            body: "ok".into(),
        };
        assert_eq!(classify(&ok), Ok(Receipt::Delivered));
        assert!(matches!(
            class(200, "not ok"),
            WebhookError::Unexpected { status: 200, .. }
        ));
        assert!(matches!(
            class(204, ""),
            WebhookError::Unexpected { status: 204, .. }
        ));
    }

    #[test]
    fn every_documented_code_has_its_class() {
        type Class = fn(Platform, u16, Option<String>) -> WebhookError;
        let payload: Class = |platform, status, code| WebhookError::PayloadRefused {
            platform,
            status,
            code,
        };
        let destination: Class = |platform, status, code| WebhookError::DestinationRefused {
            platform,
            status,
            code,
        };
        let revoked: Class = |platform, status, code| WebhookError::Revoked {
            platform,
            status,
            code,
        };
        for (status, code, expected) in [
            (400, "invalid_payload", payload),
            (400, "too_many_attachments", payload),
            (400, "no_text", payload),
            (403, "action_prohibited", destination),
            (403, "posting_to_general_channel_denied", destination),
            (404, "channel_not_found", destination),
            (404, "user_not_found", destination),
            (410, "channel_is_archived", destination),
            (403, "invalid_token", revoked),
            (404, "no_service", revoked),
            (404, "no_service_id", revoked),
            (404, "no_team", revoked),
            (403, "team_disabled", revoked),
        ] {
            let (platform, status, code_kept) = slack(status, code);
            assert_eq!(
                class(status, code),
                expected(platform, status, code_kept),
                "{code}"
            );
        }
        assert_eq!(
            class(500, "rollup_error"),
            WebhookError::Unavailable {
                platform: Platform::SlackWebhook,
                status: Some(500)
            }
        );
    }

    #[test]
    fn unknown_codes_fall_back_on_the_status() {
        assert!(matches!(
            class(400, "something_new"),
            WebhookError::PayloadRefused { .. }
        ));
        assert!(matches!(
            class(403, ""),
            WebhookError::Revoked { code: None, .. }
        ));
        assert!(matches!(
            class(410, "gone"),
            WebhookError::DestinationRefused { .. }
        ));
        assert!(matches!(
            class(503, "<html>"),
            WebhookError::Unavailable { .. }
        ));
        assert!(matches!(
            class(418, "teapot"),
            WebhookError::Unexpected { .. }
        ));
        let limited = classify(&Answer {
            status: 429,
            retry_after: Some(Duration::from_secs(3)),
            body: "rate_limited".into(),
        })
        .unwrap_err();
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(3)));
    }
}
