//! The bot account and the keys of its callers: the secret's JSON (README,
//! "Configuration" and "Put in the credentials, keys and channels"), or
//! the same read from the environment in local mode.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::domain::{ApiKeys, ChannelError, ChannelSpec, Channels, KeyEntry};
use crate::skype::Credentials;
use crate::teams::AppCredentials;
use secrecy::SecretString;

/// Everything the secret holds, checked.
#[derive(Debug, Clone)]
pub struct Account {
    /// `None`: token-file-only operation (no login possible).
    pub credentials: Option<Credentials>,
    /// The Teams bot's app registration (`"teams"`), if it has one.
    pub teams: Option<AppCredentials>,
    /// The Slack bot's token (`"slack": {"bot_token"}`).
    pub slack_token: Option<SecretString>,
    /// The Telegram bot's token (`"telegram": {"bot_token"}`).
    pub telegram_token: Option<SecretString>,
    /// Who may call over HTTP.
    pub keys: ApiKeys,
    /// Channel aliases.
    pub channels: Channels,
    /// The secret still holds the template's placeholder credentials
    /// ([`PLACEHOLDER`]): nobody has configured the stack yet, so nothing
    /// may be sent and no login tried.
    pub placeholder: bool,
}

/// What `template.yaml` puts into a fresh stack's secret in place of the
/// bot's username and password.
pub const PLACEHOLDER: &str = "CHANGE-ME";

/// Why the account configuration is unusable. Never quotes the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// Not the secret's expected JSON (position only: the text is secret).
    #[error(
        "the secret is not the expected JSON (line {line}, column {column}): see the README, section Put in the credentials, keys and channels, for its shape"
    )]
    NotJson {
        /// Where the parser stopped.
        line: usize,
        /// Where the parser stopped.
        column: usize,
    },
    /// An `api_keys` entry is unusable.
    #[error("{0}")]
    BadKey(String),
    /// A `channels` alias is unusable.
    #[error(transparent)]
    BadChannel(#[from] ChannelError),
    /// A platform's block (`"teams"`, `"slack"`, `"telegram"`) is
    /// unusable (never quotes a password or token).
    #[error("the secret's {0}")]
    BadTeams(String),
    /// The source could not be read (Secrets Manager down, ...).
    #[error("{0}")]
    Unavailable(String),
}

/// Where the account comes from.
#[async_trait::async_trait]
pub trait AccountSource: Send + Sync {
    /// Reads the account (callers cache it).
    async fn load(&self) -> Result<Account, AccountError>;
}

#[derive(Deserialize)]
struct SecretDocument {
    username: Option<String>,
    password: Option<String>,
    #[serde(default)]
    api_keys: Vec<KeyDocument>,
    #[serde(default)]
    channels: BTreeMap<String, ChannelSpec>,
    teams: Option<TeamsDocument>,
    slack: Option<BotDocument>,
    telegram: Option<BotDocument>,
}

/// `"slack"` / `"telegram"`: `{"bot_token": "..."}`.
#[derive(Deserialize)]
struct BotDocument {
    bot_token: String,
}

/// A bot token, checked to be one (never quoted in the error).
fn bot_token(block: &str, token: String) -> Result<SecretString, AccountError> {
    let token = token.trim();
    let usable = !token.is_empty()
        && token.len() <= 512
        && token.bytes().all(|b| b.is_ascii_graphic() && b != b'/');
    match usable {
        true => Ok(SecretString::from(token.to_string())),
        false => Err(AccountError::BadTeams(format!(
            "\"{block}\" block: bot_token must be the bot's token (printable, no spaces or slashes)"
        ))),
    }
}

/// `"teams": {"app_id", "app_password", "tenant_id"}`.
#[derive(Deserialize)]
struct TeamsDocument {
    app_id: String,
    app_password: String,
    tenant_id: String,
}

impl TeamsDocument {
    fn check(self) -> Result<AppCredentials, AccountError> {
        AppCredentials::new(&self.app_id, &self.app_password, &self.tenant_id)
            .map_err(|err| AccountError::BadTeams(format!("\"teams\" block: {err}")))
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum KeyDocument {
    Clear(String),
    Entry {
        name: Option<String>,
        sha256: Option<String>,
        key: Option<String>,
        channels: Option<Vec<String>>,
    },
}

impl Account {
    /// Parses the secret's JSON.
    pub fn from_secret_json(text: &str) -> Result<Self, AccountError> {
        let document: SecretDocument =
            serde_json::from_str(text).map_err(|e| AccountError::NotJson {
                line: e.line(),
                column: e.column(),
            })?;
        let keys = document
            .api_keys
            .into_iter()
            .enumerate()
            .map(|(i, key)| key_entry(i, key))
            .collect::<Result<Vec<_>, _>>()?;
        let mut account = Self::new(
            document.username,
            document.password,
            keys,
            document.channels,
        )?;
        account.teams = document.teams.map(TeamsDocument::check).transpose()?;
        account.slack_token = document
            .slack
            .map(|block| bot_token("slack", block.bot_token))
            .transpose()?;
        account.telegram_token = document
            .telegram
            .map(|block| bot_token("telegram", block.bot_token))
            .transpose()?;
        Ok(account)
    }

    fn new(
        username: Option<String>,
        password: Option<String>,
        keys: Vec<KeyEntry>,
        channels: BTreeMap<String, ChannelSpec>,
    ) -> Result<Self, AccountError> {
        let placeholder = [&username, &password]
            .iter()
            .any(|value| value.as_deref().is_some_and(|v| v.contains(PLACEHOLDER)));
        let credentials = match (username, password) {
            _ if placeholder => None,
            (Some(user), Some(password)) if !user.trim().is_empty() && !password.is_empty() => {
                Some(Credentials::new(user.trim(), password))
            }
            _ => None,
        };
        Ok(Self {
            credentials,
            teams: None,
            slack_token: None,
            telegram_token: None,
            keys: ApiKeys::new(keys),
            channels: Channels::new(channels)?,
            placeholder,
        })
    }
}

fn key_entry(index: usize, key: KeyDocument) -> Result<KeyEntry, AccountError> {
    let default_name = format!("key-{}", index + 1);
    match key {
        KeyDocument::Clear(key) if !key.trim().is_empty() => {
            Ok(KeyEntry::from_key(default_name, &key, None))
        }
        KeyDocument::Entry {
            name,
            sha256: Some(digest),
            channels,
            ..
        } => KeyEntry::from_sha256(name.unwrap_or(default_name), &digest, channels)
            .map_err(|e| AccountError::BadKey(e.to_string())),
        KeyDocument::Entry {
            name,
            key: Some(key),
            channels,
            ..
        } if !key.trim().is_empty() => Ok(KeyEntry::from_key(
            name.unwrap_or(default_name),
            &key,
            channels,
        )),
        _ => Err(AccountError::BadKey(format!(
            "api_keys entry {} needs a non-empty key string, or an object with sha256",
            index + 1
        ))),
    }
}

/// A fixed secret JSON (tests, tools): the same parsing as Secrets Manager's.
pub struct StaticAccount(String);

impl StaticAccount {
    /// Serves `text`, the secret's JSON.
    pub fn from_secret_json(text: impl Into<String>) -> Self {
        Self(text.into())
    }
}

#[async_trait::async_trait]
impl AccountSource for StaticAccount {
    async fn load(&self) -> Result<Account, AccountError> {
        Account::from_secret_json(&self.0)
    }
}

/// Local mode: `SKYPE_USERNAME`, `SKYPE_PASSWORD`, `API_KEYS`
/// (comma-separated), `CHANNELS` (a JSON object of aliases) and, for a
/// Teams bot, `TEAMS_APP_ID`, `TEAMS_APP_PASSWORD` and `TEAMS_TENANT_ID`;
/// `SLACK_BOT_TOKEN` and `TELEGRAM_BOT_TOKEN` for those bots.
pub struct EnvAccountSource;

#[async_trait::async_trait]
impl AccountSource for EnvAccountSource {
    async fn load(&self) -> Result<Account, AccountError> {
        let var = |name: &str| std::env::var(name).ok();
        let keys = var("API_KEYS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|key| !key.is_empty())
            .enumerate()
            .map(|(i, key)| KeyEntry::from_key(format!("key-{}", i + 1), key, None))
            .collect();
        let channels = match var("CHANNELS").filter(|v| !v.trim().is_empty()) {
            Some(json) => serde_json::from_str(&json).map_err(|_| {
                AccountError::BadKey(
                    "CHANNELS must be a JSON object of alias: conversation id, webhook entry or list"
                        .into(),
                )
            })?,
            None => BTreeMap::new(),
        };
        let mut account =
            Account::new(var("SKYPE_USERNAME"), var("SKYPE_PASSWORD"), keys, channels)?;
        if let Some(app_id) = var("TEAMS_APP_ID") {
            let teams = TeamsDocument {
                app_id,
                app_password: var("TEAMS_APP_PASSWORD").unwrap_or_default(),
                tenant_id: var("TEAMS_TENANT_ID").unwrap_or_default(),
            };
            account.teams = Some(teams.check()?);
        }
        if let Some(token) = var("SLACK_BOT_TOKEN") {
            account.slack_token = Some(bot_token("slack", token)?);
        }
        if let Some(token) = var("TELEGRAM_BOT_TOKEN") {
            account.telegram_token = Some(bot_token("telegram", token)?);
        }
        Ok(account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_secret_of_the_design() {
        let account = Account::from_secret_json(
            r#"{"username": "bot@example.com", "password": "pw",
                "api_keys": ["k1", {"name": "ci", "sha256": "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b", "channels": ["standup"]}],
                "channels": {"standup": "19:0123456789abcdef0123456789abcdef@thread.skype"}}"#,
        )
        .unwrap();
        assert_eq!(account.credentials.unwrap().username, "bot@example.com");
        assert_eq!(account.keys.authenticate("k1").unwrap().name(), "key-1");
        assert_eq!(account.keys.authenticate("secret").unwrap().name(), "ci");
        assert!(
            account
                .channels
                .resolve(&crate::domain::ChannelNames::one("standup"))
                .is_ok()
        );
    }

    #[test]
    fn errors_never_quote_the_secret() {
        let err =
            Account::from_secret_json(r#"{"username": "bot", "password": 12345678}"#).unwrap_err();
        assert!(matches!(err, AccountError::NotJson { .. }));
        assert!(!err.to_string().contains("12345678"));
        let err = Account::from_secret_json(r#"{"api_keys": [""]}"#).unwrap_err();
        assert!(matches!(err, AccountError::BadKey(_)));
    }

    #[test]
    fn reads_the_teams_block_and_never_quotes_its_password() {
        let account = Account::from_secret_json(
            r#"{"teams": {"app_id": "a1", "app_password": "pw-9", "tenant_id": "t1"}}"#,
        )
        .unwrap();
        assert_eq!(account.teams.unwrap().app_id, "a1");
        let err = Account::from_secret_json(
            r#"{"teams": {"app_id": "a1", "app_password": "pw-9", "tenant_id": "../x"}}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("tenant_id"), "{err}");
        assert!(!err.to_string().contains("pw-9"));
    }

    #[test]
    fn no_password_means_token_file_only() {
        let account = Account::from_secret_json(r#"{"api_keys": ["k"]}"#).unwrap();
        assert!(account.credentials.is_none());
    }
}
