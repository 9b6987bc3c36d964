//! Configuration, read once per container from the environment (README,
//! "Configuration").

use std::path::PathBuf;
use std::time::Duration;

use crate::bots::BotUrls;
use crate::skype::{ClientOptions, InvalidUrl, SkypeUrls};
use crate::teams::TeamsUrls;

/// Where the session and the credentials live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateLocation {
    /// No AWS: credentials and keys from the environment, token in a file.
    Local {
        /// `TOKEN_FILE`, default `.tokens-app`.
        token_file: PathBuf,
    },
    /// Secrets Manager and S3 (and EventBridge Scheduler for reminders).
    Aws {
        /// `SECRET_ID`.
        secret_id: String,
        /// `TOKEN_BUCKET`.
        bucket: String,
        /// `TOKEN_KEY`, default `skype/token`.
        key: String,
    },
}

/// EventBridge Scheduler, where reminders are schedules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderSettings {
    /// `SCHEDULE_GROUP`: the stack's schedule group.
    pub group: String,
    /// `SCHEDULER_ROLE_ARN`: the role Scheduler assumes to invoke us.
    pub role_arn: String,
    /// `FUNCTION_ARN`: the schedules' target; unset, the ARN this function
    /// is invoked by (the invocation context's).
    pub function_arn: Option<String>,
    /// `REMINDER_DEAD_LETTER_ARN`: the queue of runs that failed for good.
    pub dead_letter_arn: Option<String>,
}

/// Everything the function reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Local or AWS state.
    pub state: StateLocation,
    /// The Skype hosts (`SKYPE_*_URL`).
    pub skype_urls: SkypeUrls,
    /// Timeouts and renewal margin of the Skype client.
    pub skype_options: ClientOptions,
    /// The Teams bot's hosts and `serviceUrl` allow-list (`TEAMS_*`).
    pub teams_urls: TeamsUrls,
    /// The Slack and Telegram API hosts (`SLACK_API_URL`, `TELEGRAM_API_URL`).
    pub bot_urls: BotUrls,
    /// `{"action": "refresh"}` renews what expires within this window
    /// (`REFRESH_WINDOW_MINUTES`, default 120).
    pub refresh_window: Duration,
    /// The account is re-read after this long (`SECRET_TTL_SECONDS`, default 300).
    pub secret_ttl: Duration,
    /// An unknown API key triggers a re-read at most this often
    /// (`SECRET_MISS_REFRESH_SECONDS`, default 5): a rotated key works
    /// within seconds, and wrong keys cannot flood Secrets Manager.
    pub secret_miss_interval: Duration,
    /// How long a container waits for another one's login
    /// (`LOGIN_WAIT_SECONDS`, default 10) before answering 503.
    pub login_wait: Duration,
    /// Where reminders live (`SCHEDULE_GROUP`, `SCHEDULER_ROLE_ARN`):
    /// `None` without both, and reminders answer `reminders_not_configured`.
    pub reminders: Option<ReminderSettings>,
    /// The most reminders one API key may have (`REMINDERS_PER_KEY`).
    pub reminders_per_key: usize,
}

/// A setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A Skype base URL.
    #[error(transparent)]
    Url(#[from] InvalidUrl),
    /// A number that is not one.
    #[error("{0} must be a whole number")]
    NotANumber(&'static str),
    /// Half of the AWS settings.
    #[error("set both SECRET_ID and TOKEN_BUCKET (AWS mode) or neither (local mode)")]
    HalfAws,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (the environment, or a test's map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let state = match (get("SECRET_ID"), get("TOKEN_BUCKET")) {
            (Some(secret_id), Some(bucket)) => StateLocation::Aws {
                secret_id,
                bucket,
                key: get("TOKEN_KEY").unwrap_or_else(|| "skype/token".into()),
            },
            (None, None) => StateLocation::Local {
                token_file: get("TOKEN_FILE")
                    .unwrap_or_else(|| ".tokens-app".into())
                    .into(),
            },
            _ => return Err(ConfigError::HalfAws),
        };
        // A whole number of `unit`s, or the default.
        let duration =
            |name: &'static str, default: u64, unit: u64| -> Result<Duration, ConfigError> {
                get(name)
                    .map(|v| v.parse::<u64>().map_err(|_| ConfigError::NotANumber(name)))
                    .transpose()
                    .map(|v| Duration::from_secs(unit * v.unwrap_or(default)))
            };
        let skype_options = ClientOptions {
            renew_margin: duration("RENEW_MARGIN_MINUTES", 5, 60)?,
            ..ClientOptions::default()
        };
        Ok(Self {
            state,
            skype_urls: SkypeUrls::from_lookup(&lookup)?,
            skype_options,
            teams_urls: TeamsUrls::from_lookup(&lookup)?,
            bot_urls: BotUrls::from_lookup(&lookup)?,
            refresh_window: duration("REFRESH_WINDOW_MINUTES", 120, 60)?,
            secret_ttl: duration("SECRET_TTL_SECONDS", 300, 1)?,
            secret_miss_interval: duration("SECRET_MISS_REFRESH_SECONDS", 5, 1)?,
            login_wait: duration("LOGIN_WAIT_SECONDS", 10, 1)?,
            reminders: match (get("SCHEDULE_GROUP"), get("SCHEDULER_ROLE_ARN")) {
                (Some(group), Some(role_arn)) => Some(ReminderSettings {
                    group,
                    role_arn,
                    function_arn: get("FUNCTION_ARN"),
                    dead_letter_arn: get("REMINDER_DEAD_LETTER_ARN"),
                }),
                _ => None,
            },
            reminders_per_key: get("REMINDERS_PER_KEY")
                .map(|v| {
                    v.parse::<usize>()
                        .map_err(|_| ConfigError::NotANumber("REMINDERS_PER_KEY"))
                })
                .transpose()?
                .unwrap_or(100),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn local_mode_by_default() {
        let config = config(&[]).unwrap();
        assert_eq!(
            config.state,
            StateLocation::Local {
                token_file: ".tokens-app".into()
            }
        );
        assert_eq!(config.refresh_window, Duration::from_secs(7200));
    }

    #[test]
    fn aws_mode_needs_both_names() {
        let aws = config(&[("SECRET_ID", "s"), ("TOKEN_BUCKET", "b")]).unwrap();
        assert_eq!(
            aws.state,
            StateLocation::Aws {
                secret_id: "s".into(),
                bucket: "b".into(),
                key: "skype/token".into()
            }
        );
        assert_eq!(
            config(&[("SECRET_ID", "s")]).unwrap_err(),
            ConfigError::HalfAws
        );
    }

    #[test]
    fn bad_values_are_named() {
        assert_eq!(
            config(&[("REFRESH_WINDOW_MINUTES", "soon")]).unwrap_err(),
            ConfigError::NotANumber("REFRESH_WINDOW_MINUTES")
        );
        assert!(config(&[("SKYPE_MSGS_URL", "http://example.com")]).is_err());
    }
}
