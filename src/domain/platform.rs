//! The destinations' platforms, named once: the registry's `kind`, the
//! metrics' `Platform` dimension and the service's name in messages are
//! three spellings of one value; and what each can do, in one table the
//! use cases ask ([`Platform::can`]), so a new platform is a new row, not
//! new branches.

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

/// Something a caller may ask of a platform beyond posting a message
/// (which every platform does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// Replace a posted message's text.
    Edit,
    /// Delete a posted message.
    Delete,
    /// Post a file or a picture.
    Files,
    /// Find out whether a post arrived, after no answer came.
    ReadBack,
}

impl Platform {
    /// Whether this platform can do `capability`: the one table.
    pub fn can(self, capability: Capability) -> bool {
        use Capability::*;
        // Exhaustive on purpose: a new platform or capability must be
        // decided here.
        match (self, capability) {
            (Platform::Skype, Edit | Delete | Files | ReadBack) => true,
            // Webhooks post, and that is all: no id to edit, delete or
            // look for, no file upload.
            (
                Platform::TeamsWorkflow | Platform::SlackWebhook,
                Edit | Delete | Files | ReadBack,
            ) => false,
        }
    }
}

/// How long one message may be, as the platform counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeLimit {
    /// The most it takes.
    pub max: usize,
    /// What it counts.
    pub unit: SizeUnit,
}

/// What a platform counts when it limits a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeUnit {
    /// Unicode scalar values.
    Characters,
    /// UTF-8 bytes.
    Bytes,
}

impl SizeUnit {
    /// Its name in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            SizeUnit::Characters => "characters",
            SizeUnit::Bytes => "bytes",
        }
    }
}

impl SizeLimit {
    /// The size of `rendered` in this limit's unit.
    pub fn measure(self, rendered: &str) -> usize {
        match self.unit {
            SizeUnit::Bytes => rendered.len(),
            SizeUnit::Characters => rendered.chars().count(),
        }
    }
}

impl Platform {
    /// The most one message may be once rendered for this platform
    /// (markup included): Skype's content, Slack's text, a Teams card's
    /// JSON (about 28 KB).
    pub fn size_limit(self) -> SizeLimit {
        match self {
            Platform::Skype => SizeLimit {
                max: 28_000,
                unit: SizeUnit::Characters,
            },
            Platform::SlackWebhook => SizeLimit {
                max: 40_000,
                unit: SizeUnit::Characters,
            },
            Platform::TeamsWorkflow => SizeLimit {
                max: 28 * 1024,
                unit: SizeUnit::Bytes,
            },
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
    fn only_skype_changes_messages_takes_files_and_reads_back() {
        for platform in Platform::ALL {
            for change in [
                Capability::Edit,
                Capability::Delete,
                Capability::Files,
                Capability::ReadBack,
            ] {
                assert_eq!(platform.can(change), platform == Platform::Skype);
            }
        }
    }

    #[test]
    fn each_spelling_is_unique() {
        for spelling in [Platform::kind, Platform::metric_name, Platform::service] {
            let names: std::collections::BTreeSet<_> =
                Platform::ALL.into_iter().map(spelling).collect();
            assert_eq!(names.len(), Platform::ALL.len());
        }
    }
}
