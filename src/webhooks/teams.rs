//! Teams Workflows: the envelope its "When a Teams webhook request is
//! received" trigger expects, and what its answers mean.
//!
//! The trigger is an Azure Logic Apps HTTP endpoint: it answers 202 with an
//! empty body once the run is queued (not once the card is in the channel),
//! and its errors are JSON `{"error": {"code": "...", "message": "..."}}`.

use serde_json::{Value, json};

use super::Receipt;
use super::error::{Platform, WebhookError, safe_code};
use crate::http_answer::Answer;

/// The Adaptive Card version the cards are written for (Teams renders 1.5;
/// 1.4 keeps older clients working).
pub const CARD_VERSION: &str = "1.4";

/// The attachment content type of an Adaptive Card.
pub const CARD_CONTENT_TYPE: &str = "application/vnd.microsoft.card.adaptive";

/// Wraps Adaptive Card body elements in the message envelope the trigger
/// reads (`attachments[0].content` is the card).
pub fn envelope(card_body: Vec<Value>) -> Value {
    json!({
        "type": "message",
        "attachments": [{
            "contentType": CARD_CONTENT_TYPE,
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": CARD_VERSION,
                "body": card_body,
            }
        }]
    })
}

/// What an answer of the trigger means.
pub(crate) fn classify(answer: &Answer) -> Result<Receipt, WebhookError> {
    let platform = Platform::TeamsWorkflow;
    let status = answer.status;
    let code = error_code(&answer.body);
    Err(match status {
        200..=299 => return Ok(Receipt::Accepted),
        400 | 413 | 415 | 422 => WebhookError::PayloadRefused {
            platform,
            status,
            code,
        },
        // A bad `sig` (401), a deleted or foreign workflow (403/404/410).
        401 | 403 | 404 | 410 => WebhookError::Revoked {
            platform,
            status,
            code,
        },
        // The workflow exists but will not run (e.g. turned off).
        409 => WebhookError::DestinationRefused {
            platform,
            status,
            code,
        },
        429 => WebhookError::RateLimited {
            platform,
            retry_after: answer.retry_after,
        },
        408 | 500..=599 => WebhookError::Unavailable {
            platform,
            status: Some(status),
        },
        _ => WebhookError::Unexpected {
            platform,
            status,
            code,
        },
    })
}

/// `error.code` of an Azure error body, if it is code-shaped.
fn error_code(body: &str) -> Option<String> {
    let json: Value = serde_json::from_str(body).ok()?;
    safe_code(json.pointer("/error/code")?.as_str()?)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            retry_after: None,
            body: body.into(),
        }
    }

    #[test]
    fn the_envelope_is_the_one_the_trigger_reads() {
        let body = vec![json!({"type": "TextBlock", "text": "hi", "wrap": true})];
        let env = envelope(body.clone());
        assert_eq!(env["type"], "message");
        let attachments = env["attachments"].as_array().unwrap();
        assert_eq!(attachments.len(), 1);
        assert_eq!(attachments[0]["contentType"], CARD_CONTENT_TYPE);
        assert!(attachments[0]["contentUrl"].is_null());
        let card = &attachments[0]["content"];
        assert_eq!(card["type"], "AdaptiveCard");
        assert_eq!(card["version"], "1.4");
        assert_eq!(
            card["$schema"],
            "http://adaptivecards.io/schemas/adaptive-card.json"
        );
        assert_eq!(card["body"], Value::Array(body));
    }

    #[test]
    fn answers_map_to_classes() {
        assert_eq!(classify(&answer(202, "")), Ok(Receipt::Accepted));
        assert_eq!(classify(&answer(200, "")), Ok(Receipt::Accepted));
        let sig = r#"{"error":{"code":"DirectApiInvalidAuthorizationSignature","message":"The provided authorization token is not valid."}}"#;
        assert_eq!(
            classify(&answer(401, sig)),
            Err(WebhookError::Revoked {
                platform: Platform::TeamsWorkflow,
                status: 401,
                code: Some("DirectApiInvalidAuthorizationSignature".into())
            })
        );
        assert!(matches!(
            classify(&answer(404, "<html>not found</html>")),
            Err(WebhookError::Revoked { code: None, .. })
        ));
        assert!(matches!(
            classify(&answer(
                400,
                r#"{"error":{"code":"TriggerInputSchemaMismatch"}}"#
            )),
            Err(WebhookError::PayloadRefused { status: 400, .. })
        ));
        let limited = Answer {
            status: 429,
            retry_after: Some(Duration::from_secs(9)),
            body: String::new(),
        };
        assert_eq!(
            classify(&limited).unwrap_err().retry_after(),
            Some(Duration::from_secs(9))
        );
        assert!(matches!(
            classify(&answer(502, "")),
            Err(WebhookError::Unavailable {
                status: Some(502),
                ..
            })
        ));
        assert!(matches!(
            classify(&answer(302, "")),
            Err(WebhookError::Unexpected { status: 302, .. })
        ));
    }
}
