//! Where a message goes, and the registry of names for it.
//!
//! A caller names a channel by a Skype conversation id or by an alias from
//! the secret's `channels` map. An alias may stand for a Skype conversation,
//! a Teams conversation or channel (through the bot), a Teams Workflows
//! webhook or a Slack incoming webhook (so callers keep
//! the same one-curl API when the platform changes), or for a list of other
//! channels (fan-out). Everything is checked once, when the secret is read.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::Value;

use super::{ConversationId, InvalidConversationId, Platform, WebhookUrl};

/// Most channels one request may name (after expanding aliases).
pub const MAX_TARGETS: usize = 20;

/// A place a message can be posted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A Skype conversation.
    Skype(ConversationId),
    /// A Microsoft Teams conversation or channel, through the bot.
    Teams(TeamsChat),
    /// A Microsoft Teams Workflows webhook (Adaptive Card messages).
    TeamsWorkflow(WebhookUrl),
    /// A Slack incoming webhook.
    SlackWebhook(WebhookUrl),
    /// A Slack channel (`C...`), through the bot.
    Slack(String),
    /// A Discord webhook, with message ids.
    DiscordWebhook(WebhookUrl),
    /// A Telegram chat, through the bot.
    Telegram(TelegramChat),
}

/// A Telegram chat, and the forum topic posts go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramChat {
    /// `chat_id`: `-100...` or `@channelusername`.
    pub chat: String,
    /// `message_thread_id` of a forum topic.
    pub topic: Option<i64>,
}

impl Destination {
    /// The Skype conversation, for Skype destinations.
    pub fn conversation(&self) -> Option<&ConversationId> {
        match self {
            Self::Skype(id) => Some(id),
            _ => None,
        }
    }

    /// Its platform.
    pub fn platform(&self) -> Platform {
        match self {
            Self::Skype(_) => Platform::Skype,
            Self::Teams(_) => Platform::Teams,
            Self::TeamsWorkflow(_) => Platform::TeamsWorkflow,
            Self::SlackWebhook(_) => Platform::SlackWebhook,
            Self::Slack(_) => Platform::Slack,
            Self::DiscordWebhook(_) => Platform::DiscordWebhook,
            Self::Telegram(_) => Platform::Telegram,
        }
    }

    /// The platform's name, as callers write it in the registry.
    pub fn kind(&self) -> &'static str {
        self.platform().kind()
    }
}

/// Where in Teams a post goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TeamsChat {
    /// A conversation: a group or 1:1 chat, or a channel (each post then
    /// starts a thread of its own).
    Conversation(String),
    /// A channel of a team, where each post starts a new thread
    /// (`POST /v3/conversations`).
    Channel {
        /// The channel's conversation id.
        channel: String,
        /// The team's id (its General channel's conversation id), whose
        /// installation the bot saw, when it is not the channel itself.
        team: Option<String>,
    },
}

impl TeamsChat {
    /// The conversations whose stored reference can serve a post here, in
    /// the order to try them.
    pub fn references(&self) -> Vec<&str> {
        match self {
            TeamsChat::Conversation(id) => vec![id],
            TeamsChat::Channel { channel, team } => std::iter::once(channel.as_str())
                .chain(team.as_deref())
                .collect(),
        }
    }
}

/// Whether `id` looks like a Teams conversation id (`19:...@thread.tacv2`,
/// `a:...`): printable, no spaces or slashes, a `:`, of a sane length.
pub fn is_teams_conversation_id(id: &str) -> bool {
    (3..=400).contains(&id.len())
        && id.contains(':')
        && id
            .chars()
            .all(|c| !c.is_control() && !c.is_whitespace() && c != '/' && c != '\\')
}

/// One destination, with the name the caller knows it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// What answers and logs show: the conversation id for Skype, the
    /// alias for webhooks (a webhook URL is a secret and never shown).
    pub name: String,
    /// Where it goes.
    pub destination: Destination,
}

impl Target {
    /// A stable name for records (idempotency): unique per destination.
    pub fn key(&self) -> String {
        match &self.destination {
            Destination::Skype(id) => id.to_string(),
            other => format!("{}:{}", other.kind(), self.name),
        }
    }
}

/// The channels a request names: one, or a list (fan-out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelNames(Vec<String>);

impl ChannelNames {
    /// The `channel` field: a string, or a list of strings.
    pub fn parse(value: &Value) -> Result<Self, ChannelError> {
        let names = match value {
            Value::String(name) => vec![name.trim().to_string()],
            Value::Array(items) => items
                .iter()
                .map(|item| match item {
                    Value::String(name) => Ok(name.trim().to_string()),
                    _ => Err(ChannelError::NotAName),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(ChannelError::NotAName),
        };
        if names.is_empty() || names.iter().any(String::is_empty) {
            return Err(ChannelError::Empty);
        }
        if names.len() > MAX_TARGETS {
            return Err(ChannelError::TooMany(names.len()));
        }
        Ok(Self(names))
    }

    /// One channel by name.
    pub fn one(name: impl Into<String>) -> Self {
        Self(vec![name.into().trim().to_string()])
    }

    /// The names as given.
    pub fn names(&self) -> &[String] {
        &self.0
    }
}

/// A `channels` entry of the secret, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ChannelSpec {
    /// A conversation id.
    Id(String),
    /// Several channels (aliases or conversation ids).
    Group(Vec<String>),
    /// `{"kind": "skype" | "teams" | "teams-workflow" | "slack-webhook", ...}`.
    Entry(EntrySpec),
}

/// A `{"kind": ...}` entry of the registry, as written.
#[derive(Debug, Clone, Deserialize)]
pub struct EntrySpec {
    /// Which platform.
    pub kind: String,
    /// The conversation id (`kind: skype`).
    pub id: Option<String>,
    /// The webhook URL (webhook kinds).
    pub url: Option<String>,
    /// A Teams conversation id (`kind: teams`).
    pub conversation: Option<String>,
    /// A Teams channel id, to start new threads in (`kind: teams`).
    pub channel: Option<String>,
    /// The team of that channel (`kind: teams`).
    pub team: Option<String>,
    /// A Telegram chat id, a number or `@channelusername` (`kind: telegram`).
    pub chat: Option<Value>,
    /// A Telegram forum topic (`kind: telegram`).
    pub topic: Option<i64>,
}

/// A checked registry entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    One(Destination),
    /// Member names, each an alias of one destination or a conversation id.
    Group(Vec<String>),
}

/// The configured aliases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Channels {
    entries: BTreeMap<String, Entry>,
}

/// Why a channel cannot be posted to, or an alias not configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// Looks like a conversation id but is not a valid one.
    #[error("channel {name:?} is not a valid conversation id: {reason}")]
    Invalid {
        /// The name given.
        name: String,
        /// What is wrong.
        reason: InvalidConversationId,
    },
    /// Neither an alias nor a conversation id.
    #[error("unknown channel {0:?}: neither a configured alias nor a conversation id")]
    Unknown(String),
    /// `channel` is neither a string nor a list of strings.
    #[error("channel must be a string or a list of strings")]
    NotAName,
    /// An empty name or list.
    #[error("channel is empty")]
    Empty,
    /// Too many targets in one request.
    #[error("a message may go to at most 20 channels; this one names {0}")]
    TooMany(usize),
    /// An alias of the configuration is unusable (said when the secret is read).
    #[error("channel alias {alias:?} is misconfigured: {reason}")]
    BadAlias {
        /// The alias.
        alias: String,
        /// What is wrong with it (never the webhook URL).
        reason: String,
    },
}

impl Channels {
    /// Checks every alias once, when the configuration is read.
    pub fn new(specs: BTreeMap<String, ChannelSpec>) -> Result<Self, ChannelError> {
        let bad = |alias: &str, reason: String| ChannelError::BadAlias {
            alias: alias.to_string(),
            reason,
        };
        let mut entries = BTreeMap::new();
        for (alias, spec) in &specs {
            let alias_ok = !alias.trim().is_empty() && !alias.contains(':') && alias.len() <= 100;
            if !alias_ok {
                return Err(bad(
                    alias,
                    "an alias is 1 to 100 characters without ':' (':' marks conversation ids)"
                        .into(),
                ));
            }
            let entry = match spec {
                ChannelSpec::Id(id) => Entry::One(Destination::Skype(
                    ConversationId::parse(id).map_err(|e| bad(alias, e.to_string()))?,
                )),
                ChannelSpec::Entry(spec) => {
                    Entry::One(destination(spec).map_err(|reason| bad(alias, reason))?)
                }
                ChannelSpec::Group(members) => Entry::Group(members.clone()),
            };
            entries.insert(alias.clone(), entry);
        }
        let channels = Self { entries };
        // Flatten groups now, so a bad member is found at load, not at send.
        let mut flat = BTreeMap::new();
        for (alias, entry) in &channels.entries {
            if let Entry::Group(members) = entry {
                let mut seen = BTreeSet::from([alias.clone()]);
                let names = channels
                    .flatten(members, &mut seen)
                    .map_err(|reason| bad(alias, reason))?;
                if names.is_empty() || names.len() > MAX_TARGETS {
                    return Err(bad(alias, "a group names 1 to 20 channels".into()));
                }
                flat.insert(alias.clone(), Entry::Group(names));
            }
        }
        let mut channels = channels;
        channels.entries.extend(flat);
        Ok(channels)
    }

    /// The member names of a group, with nested groups expanded.
    fn flatten(
        &self,
        members: &[String],
        seen: &mut BTreeSet<String>,
    ) -> Result<Vec<String>, String> {
        let mut names = Vec::new();
        for member in members.iter().map(|m| m.trim()) {
            match self.entries.get(member) {
                Some(Entry::Group(inner)) => {
                    if !seen.insert(member.to_string()) {
                        return Err(format!("groups name each other in a loop ({member:?})"));
                    }
                    names.extend(self.flatten(inner, seen)?);
                }
                Some(Entry::One(_)) => names.push(member.to_string()),
                None => match ConversationId::parse(member) {
                    Ok(_) => names.push(member.to_string()),
                    Err(_) => {
                        return Err(format!(
                            "member {member:?} is neither an alias nor a conversation id"
                        ));
                    }
                },
            }
        }
        names.dedup();
        Ok(names)
    }

    /// Every target `names` stands for, in order, each once.
    pub fn resolve(&self, names: &ChannelNames) -> Result<Vec<Target>, ChannelError> {
        Self::distinct(&self.expand(names)?)
    }

    /// Every target of each name, with the name it was asked for under,
    /// duplicates kept (a scoped key is checked per name asked for).
    pub fn expand<'n>(
        &self,
        names: &'n ChannelNames,
    ) -> Result<Vec<(&'n str, Target)>, ChannelError> {
        let mut expanded = Vec::new();
        for name in names.names() {
            for target in self.resolve_one(name)? {
                expanded.push((name.as_str(), target));
            }
        }
        Ok(expanded)
    }

    /// The targets of an expansion, in order, each destination once.
    pub fn distinct(expanded: &[(&str, Target)]) -> Result<Vec<Target>, ChannelError> {
        let mut targets: Vec<Target> = Vec::new();
        for (_, target) in expanded {
            if !targets.iter().any(|t| t.destination == target.destination) {
                targets.push(target.clone());
            }
        }
        if targets.len() > MAX_TARGETS {
            return Err(ChannelError::TooMany(targets.len()));
        }
        Ok(targets)
    }

    fn resolve_one(&self, name: &str) -> Result<Vec<Target>, ChannelError> {
        match self.entries.get(name) {
            Some(Entry::One(destination)) => Ok(vec![target(name, destination)]),
            Some(Entry::Group(members)) => members
                .iter()
                .map(|member| match self.entries.get(member) {
                    Some(Entry::One(destination)) => Ok(target(member, destination)),
                    _ => skype_target(member),
                })
                .collect(),
            None => skype_target(name).map(|t| vec![t]),
        }
    }

    /// The aliases that name exactly `destination` (scoped keys may list them).
    pub fn aliases_of<'a>(&'a self, destination: &'a Destination) -> impl Iterator<Item = &'a str> {
        self.entries
            .iter()
            .filter(move |(_, entry)| matches!(entry, Entry::One(d) if d == destination))
            .map(|(alias, _)| alias.as_str())
    }

    /// Every alias, sorted.
    pub fn aliases(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }
}

fn target(alias: &str, destination: &Destination) -> Target {
    let name = match destination {
        Destination::Skype(id) => id.to_string(),
        _ => alias.to_string(),
    };
    Target {
        name,
        destination: destination.clone(),
    }
}

fn skype_target(name: &str) -> Result<Target, ChannelError> {
    if !name.contains(':') {
        return Err(ChannelError::Unknown(name.to_string()));
    }
    let id = ConversationId::parse(name).map_err(|reason| ChannelError::Invalid {
        name: name.to_string(),
        reason,
    })?;
    Ok(Target {
        name: id.to_string(),
        destination: Destination::Skype(id),
    })
}

fn destination(spec: &EntrySpec) -> Result<Destination, String> {
    let kind = spec.kind.as_str();
    let (id, url) = (spec.id.as_deref(), spec.url.as_deref());
    let webhook = |url: Option<&str>| {
        let url = url.ok_or_else(|| format!("kind {kind:?} needs a \"url\""))?;
        WebhookUrl::parse(url)
            .map_err(|_| "the webhook url must be https (or http to localhost)".to_string())
    };
    match kind {
        "skype" => {
            let id = id.ok_or("kind \"skype\" needs an \"id\"")?;
            ConversationId::parse(id)
                .map(Destination::Skype)
                .map_err(|e| e.to_string())
        }
        "teams" => teams_chat(spec).map(Destination::Teams),
        "teams-workflow" => webhook(url).map(Destination::TeamsWorkflow),
        "slack-webhook" => webhook(url).map(Destination::SlackWebhook),
        "slack" => slack_channel(spec).map(Destination::Slack),
        "discord-webhook" => discord_webhook(url).map(Destination::DiscordWebhook),
        "telegram" => telegram_chat(spec).map(Destination::Telegram),
        other => Err(format!(
            "unknown kind {:?}: use \"skype\", \"teams\", \"teams-workflow\", \"slack\", \"slack-webhook\", \"discord-webhook\" or \"telegram\"",
            other.chars().take(40).collect::<String>()
        )),
    }
}

/// A `kind: slack` entry: a channel id (`C...`, `G...`, or a DM's `D...`).
fn slack_channel(spec: &EntrySpec) -> Result<String, String> {
    let channel = spec.channel.as_deref().map(str::trim).unwrap_or_default();
    let id_like = (2..=40).contains(&channel.len())
        && channel
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    match id_like {
        true => Ok(channel.to_string()),
        false => Err(
            "kind \"slack\" needs a \"channel\" id like \"C0123ABCD\" (the channel's details show it; names change, ids do not)"
                .into(),
        ),
    }
}

/// A `kind: discord-webhook` entry: `https://discord.com/api/webhooks/{id}/{token}`.
fn discord_webhook(url: Option<&str>) -> Result<WebhookUrl, String> {
    let text = url.ok_or("kind \"discord-webhook\" needs a \"url\"")?;
    let webhook = WebhookUrl::parse(text)
        .map_err(|_| "the webhook url must be https (or http to localhost)".to_string())?;
    let shaped = url::Url::parse(text.trim()).ok().is_some_and(|u| {
        let parts: Vec<&str> = u.path().trim_end_matches('/').rsplitn(3, '/').collect();
        parts.len() == 3
            && parts[2].ends_with("/webhooks")
            && parts[1].bytes().all(|b| b.is_ascii_digit())
            && !parts[0].is_empty()
            && u.query().is_none()
    });
    match shaped {
        true => Ok(webhook),
        false => Err(
            "a Discord webhook url is https://discord.com/api/webhooks/{id}/{token}, as Discord shows it"
                .into(),
        ),
    }
}

/// A `kind: telegram` entry: a `chat` (a number or `@channelusername`) and
/// an optional forum `topic`.
fn telegram_chat(spec: &EntrySpec) -> Result<TelegramChat, String> {
    let chat = match &spec.chat {
        Some(Value::Number(number)) if number.is_i64() => number.to_string(),
        Some(Value::String(text)) => text.trim().to_string(),
        _ => String::new(),
    };
    let numeric = chat.strip_prefix('-').unwrap_or(&chat);
    let valid =
        (!numeric.is_empty() && numeric.len() <= 20 && numeric.bytes().all(|b| b.is_ascii_digit()))
            || chat.strip_prefix('@').is_some_and(|name| {
                (5..=32).contains(&name.len())
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            });
    if !valid {
        return Err(
            "kind \"telegram\" needs a \"chat\": its id (like -1001234567890) or @channelusername"
                .into(),
        );
    }
    if spec.topic.is_some_and(|topic| topic <= 0) {
        return Err(
            "a Telegram \"topic\" is a forum topic's message_thread_id (a positive number)".into(),
        );
    }
    Ok(TelegramChat {
        chat,
        topic: spec.topic,
    })
}

/// A `kind: teams` entry: a `conversation`, or a `channel` (and its `team`).
fn teams_chat(spec: &EntrySpec) -> Result<TeamsChat, String> {
    let id = |name: &str, value: &str| {
        let value = value.trim();
        match is_teams_conversation_id(value) {
            true => Ok(value.to_string()),
            false => Err(format!(
                "{name} must be a Teams conversation id (19:...@thread.tacv2, as the bot's install message says)"
            )),
        }
    };
    match (&spec.conversation, &spec.channel) {
        (Some(conversation), None) => Ok(TeamsChat::Conversation(id("conversation", conversation)?)),
        (None, Some(channel)) => Ok(TeamsChat::Channel {
            channel: id("channel", channel)?,
            team: spec.team.as_deref().map(|team| id("team", team)).transpose()?,
        }),
        _ => Err(
            "kind \"teams\" needs either a \"conversation\" (post into it) or a \"channel\" (start new threads in it)"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const GROUP: &str = "19:0123456789abcdef0123456789abcdef@thread.skype";

    fn channels(config: Value) -> Result<Channels, ChannelError> {
        Channels::new(serde_json::from_value(config).unwrap())
    }

    fn names(value: Value) -> ChannelNames {
        ChannelNames::parse(&value).unwrap()
    }

    fn shown(targets: &[Target]) -> Vec<&str> {
        targets.iter().map(|t| t.name.as_str()).collect()
    }

    #[test]
    fn aliases_resolve_before_ids() {
        let channels = channels(json!({"standup": GROUP})).unwrap();
        let targets = channels.resolve(&names(json!("standup"))).unwrap();
        assert_eq!(shown(&targets), [GROUP]);
        assert_eq!(
            shown(&channels.resolve(&names(json!("8:fred.2"))).unwrap()),
            ["8:fred.2"]
        );
        assert_eq!(
            channels.resolve(&names(json!("random"))),
            Err(ChannelError::Unknown("random".into()))
        );
        assert!(matches!(
            channels.resolve(&names(json!("19:nope"))),
            Err(ChannelError::Invalid { .. })
        ));
        let aliases: Vec<_> = channels.aliases_of(&targets[0].destination).collect();
        assert_eq!(aliases, ["standup"]);
    }

    #[test]
    fn webhooks_are_named_by_alias_never_url() {
        let channels = channels(json!({
            "ops": {"kind": "teams-workflow", "url": "https://example.test/workflows/1?sig=s3cret"},
            "alerts": {"kind": "slack-webhook", "url": "https://hooks.example.test/services/T/B/s3cret"},
        }))
        .unwrap();
        let targets = channels.resolve(&names(json!(["ops", "alerts"]))).unwrap();
        assert_eq!(shown(&targets), ["ops", "alerts"]);
        assert_eq!(targets[0].key(), "teams-workflow:ops");
        assert!(!format!("{targets:?}").contains("s3cret"));
    }

    #[test]
    fn groups_fan_out_once_per_destination() {
        let channels = channels(json!({
            "standup": GROUP,
            "alerts": {"kind": "slack-webhook", "url": "https://hooks.example.test/x"},
            "everyone": ["standup", "alerts", "8:fred.2"],
            "all": ["everyone", "standup"],
        }))
        .unwrap();
        let targets = channels
            .resolve(&names(json!(["all", GROUP, "standup"])))
            .unwrap();
        assert_eq!(shown(&targets), [GROUP, "alerts", "8:fred.2"]);
    }

    #[test]
    fn bad_configuration_is_caught_when_read() {
        for config in [
            json!({"x": "48:notes"}),
            json!({"x": {"kind": "teams-workflow"}}),
            json!({"x": {"kind": "slack-webhook", "url": "ftp://example.test"}}),
            json!({"x": {"kind": "discord", "url": "https://example.test"}}),
            json!({"x": ["nobody"]}),
            json!({"x": []}),
            json!({"a": ["b"], "b": ["a"]}),
            json!({"8:fred.2": GROUP}),
        ] {
            let err = channels(config.clone()).unwrap_err();
            assert!(
                matches!(err, ChannelError::BadAlias { .. }),
                "{config}: {err:?}"
            );
        }
    }

    #[test]
    fn channel_field_shapes() {
        assert_eq!(names(json!(" general ")).names(), ["general"]);
        assert_eq!(names(json!(["a", "b"])).names(), ["a", "b"]);
        for bad in [json!(5), json!([1]), json!([]), json!(""), json!([" "])] {
            assert!(ChannelNames::parse(&bad).is_err(), "{bad}");
        }
        let many: Vec<String> = (0..21).map(|i| format!("8:user{i:02}")).collect();
        assert_eq!(
            ChannelNames::parse(&json!(many)),
            Err(ChannelError::TooMany(21))
        );
    }

    #[test]
    fn teams_conversation_ids_are_printable_with_a_colon() {
        assert!(is_teams_conversation_id("19:abc@thread.tacv2"));
        assert!(!is_teams_conversation_id("19:a b"));
        assert!(!is_teams_conversation_id("nocolon"));
    }
}
