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
    /// A Microsoft Teams conversation, through the bot.
    Teams,
    /// A Microsoft Teams Workflows webhook (Adaptive Card messages).
    TeamsWorkflow,
    /// A Slack incoming webhook.
    SlackWebhook,
    /// A Slack channel, through the bot (Web API).
    Slack,
    /// A Discord webhook, with message ids.
    DiscordWebhook,
    /// A Telegram chat, through the bot (Bot API).
    Telegram,
}

impl Platform {
    /// Every platform.
    pub const ALL: [Platform; 7] = [
        Platform::Skype,
        Platform::Teams,
        Platform::TeamsWorkflow,
        Platform::SlackWebhook,
        Platform::Slack,
        Platform::DiscordWebhook,
        Platform::Telegram,
    ];

    /// The registry's `kind` (`{"kind": "slack-webhook", ...}`), as callers
    /// write it and read it in errors.
    pub fn kind(self) -> &'static str {
        match self {
            Platform::Skype => "skype",
            Platform::Teams => "teams",
            Platform::TeamsWorkflow => "teams-workflow",
            Platform::SlackWebhook => "slack-webhook",
            Platform::Slack => "slack",
            Platform::DiscordWebhook => "discord-webhook",
            Platform::Telegram => "telegram",
        }
    }

    /// The CloudWatch `Platform` dimension: stable, because alarms and
    /// dashboards name it.
    pub fn metric_name(self) -> &'static str {
        match self {
            Platform::Skype => "Skype",
            Platform::Teams => "Teams",
            Platform::TeamsWorkflow => "TeamsWorkflow",
            Platform::SlackWebhook => "SlackWebhook",
            Platform::Slack => "Slack",
            Platform::DiscordWebhook => "Discord",
            Platform::Telegram => "Telegram",
        }
    }

    /// The service, as people call it ("Slack refused ...").
    pub fn service(self) -> &'static str {
        match self {
            Platform::Skype => "Skype",
            Platform::Teams | Platform::TeamsWorkflow => "Teams",
            Platform::SlackWebhook | Platform::Slack => "Slack",
            Platform::DiscordWebhook => "Discord",
            Platform::Telegram => "Telegram",
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
    /// Post any file.
    Files,
    /// Post a picture, shown inline.
    Pictures,
    /// Reply in a message's thread (the `thread` field).
    Threads,
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
            (Platform::Skype, Edit | Delete | Files | Pictures | ReadBack) => true,
            // Skype's group chats have no threads.
            (Platform::Skype, Threads) => false,
            (Platform::Teams, Edit | Delete | Pictures | Threads) => true,
            // A bot sends other files only through a consent card in a
            // 1:1 chat; and the Connector cannot list what a bot posted.
            (Platform::Teams, Files | ReadBack) => false,
            // Slack finds a lost post again by the metadata we tag it with.
            (Platform::Slack, Edit | Delete | Files | Pictures | Threads | ReadBack) => true,
            // Neither can be asked for a post by our key.
            (
                Platform::DiscordWebhook | Platform::Telegram,
                Edit | Delete | Files | Pictures | Threads,
            ) => true,
            (Platform::DiscordWebhook | Platform::Telegram, ReadBack) => false,
            // Webhooks post, and that is all: no id to edit, delete or
            // look for, no file upload, no threads.
            (
                Platform::TeamsWorkflow | Platform::SlackWebhook,
                Edit | Delete | Files | Pictures | Threads | ReadBack,
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
    /// UTF-16 code units (what Telegram counts).
    Utf16,
}

impl SizeUnit {
    /// Its name in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            SizeUnit::Characters => "characters",
            SizeUnit::Bytes => "bytes",
            SizeUnit::Utf16 => "UTF-16 code units",
        }
    }
}

impl SizeLimit {
    /// The size of `rendered` in this limit's unit.
    pub fn measure(self, rendered: &str) -> usize {
        match self.unit {
            SizeUnit::Bytes => rendered.len(),
            SizeUnit::Characters => rendered.chars().count(),
            SizeUnit::Utf16 => rendered.encode_utf16().count(),
        }
    }
}

impl Platform {
    /// The most one message may be once rendered for this platform
    /// (markup included): Skype's content, Slack's text, a Teams card's
    /// JSON or a Teams message's text (about 28 KB, Teams says).
    pub fn size_limit(self) -> SizeLimit {
        match self {
            Platform::Skype => SizeLimit {
                max: 28_000,
                unit: SizeUnit::Characters,
            },
            Platform::SlackWebhook | Platform::Slack => SizeLimit {
                max: 40_000,
                unit: SizeUnit::Characters,
            },
            Platform::DiscordWebhook => SizeLimit {
                max: 2_000,
                unit: SizeUnit::Characters,
            },
            // Counted after its HTML is parsed: the text people see.
            Platform::Telegram => SizeLimit {
                max: 4_096,
                unit: SizeUnit::Utf16,
            },
            Platform::Teams | Platform::TeamsWorkflow => SizeLimit {
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
    fn the_table_says_what_each_platform_can_do() {
        use Capability::*;
        for platform in Platform::ALL {
            let webhook = matches!(platform, Platform::TeamsWorkflow | Platform::SlackWebhook);
            for change in [Edit, Delete, Pictures] {
                assert_eq!(platform.can(change), !webhook, "{platform:?} {change:?}");
            }
            let files = !webhook && platform != Platform::Teams;
            assert_eq!(platform.can(Files), files, "{platform:?}");
            let read_back = matches!(platform, Platform::Skype | Platform::Slack);
            assert_eq!(platform.can(ReadBack), read_back, "{platform:?}");
            let threads = !webhook && platform != Platform::Skype;
            assert_eq!(platform.can(Threads), threads, "{platform:?}");
        }
    }

    #[test]
    fn each_spelling_is_unique() {
        // (The service's name is not: both Teams kinds are "Teams".)
        for spelling in [Platform::kind, Platform::metric_name] {
            let names: std::collections::BTreeSet<_> =
                Platform::ALL.into_iter().map(spelling).collect();
            assert_eq!(names.len(), Platform::ALL.len());
        }
    }
}
