//! The destinations' platforms, named once: the registry's `kind`, the
//! metrics' `Platform` dimension and the service's name in messages are
//! three spellings of one value.

use std::fmt;

/// A kind of destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    /// A Skype conversation.
    Skype,
    /// A Microsoft Teams Workflows webhook (Adaptive Card messages).
    TeamsWorkflow,
    /// A Slack incoming webhook.
    SlackWebhook,
}

impl Platform {
    /// Every platform.
    pub const ALL: [Platform; 3] = [
        Platform::Skype,
        Platform::TeamsWorkflow,
        Platform::SlackWebhook,
    ];

    /// The registry's `kind` (`{"kind": "slack-webhook", ...}`), as callers
    /// write it and read it in errors.
    pub fn kind(self) -> &'static str {
        match self {
            Platform::Skype => "skype",
            Platform::TeamsWorkflow => "teams-workflow",
            Platform::SlackWebhook => "slack-webhook",
        }
    }

    /// The CloudWatch `Platform` dimension: stable, because alarms and
    /// dashboards name it.
    pub fn metric_name(self) -> &'static str {
        match self {
            Platform::Skype => "Skype",
            Platform::TeamsWorkflow => "TeamsWorkflow",
            Platform::SlackWebhook => "SlackWebhook",
        }
    }

    /// The service, as people call it ("Slack refused ...").
    pub fn service(self) -> &'static str {
        match self {
            Platform::Skype => "Skype",
            Platform::TeamsWorkflow => "Teams",
            Platform::SlackWebhook => "Slack",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.service())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_spelling_is_unique() {
        for spelling in [Platform::kind, Platform::metric_name, Platform::service] {
            let names: std::collections::BTreeSet<_> =
                Platform::ALL.into_iter().map(spelling).collect();
            assert_eq!(names.len(), Platform::ALL.len());
        }
    }
}
