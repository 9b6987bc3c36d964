//! What a post came to: the values the use cases answer, the idempotency
//! records keep, and the metrics count.

use serde::{Deserialize, Serialize};

/// How far a platform confirms a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Posted: Skype gave it an id, Slack said `ok`.
    #[default]
    Posted,
    /// Taken for later processing (Teams Workflows' 202): not a delivery.
    Accepted,
}

/// A post one target took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The platform's message id (webhooks give none).
    pub id: Option<String>,
    /// The target's name: the conversation id, or the webhook's alias.
    pub channel: String,
    /// Skype's arrival time, Unix milliseconds (others give none).
    pub arrival_time: Option<u64>,
    /// Posted, or only accepted.
    pub status: DeliveryStatus,
}

impl Delivered {
    /// A post the platform confirmed, with its id.
    pub fn posted(channel: &str, id: String, arrival_time: Option<u64>) -> Self {
        Self {
            id: Some(id),
            channel: channel.to_string(),
            arrival_time,
            status: DeliveryStatus::Posted,
        }
    }
}

/// How a login attempt ended: kept with the login lease (health), counted
/// in the login metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOutcome {
    /// A new session.
    Succeeded,
    /// Skype wants a browser check, captcha or second factor.
    LoginWall,
    /// Skype refused the credentials.
    Refused,
    /// Skype throttled the login.
    Throttled,
    /// Anything else (network, unexpected page).
    Failed,
}

impl LoginOutcome {
    /// Every outcome (to read one back from its name).
    pub const ALL: [LoginOutcome; 5] = [
        LoginOutcome::Succeeded,
        LoginOutcome::LoginWall,
        LoginOutcome::Refused,
        LoginOutcome::Throttled,
        LoginOutcome::Failed,
    ];

    /// Its name in the lease object, health and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            LoginOutcome::Succeeded => "succeeded",
            LoginOutcome::LoginWall => "login_wall",
            LoginOutcome::Refused => "refused",
            LoginOutcome::Throttled => "throttled",
            LoginOutcome::Failed => "failed",
        }
    }
}
