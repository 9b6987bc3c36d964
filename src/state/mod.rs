//! Where the function keeps what outlives an invocation: the bot's
//! credentials and API keys, and the session token file. Each behind a
//! trait, with a local implementation (files, environment) and an AWS one
//! (Secrets Manager, S3), plus the caching and coordination built on them.
//! Reminders are EventBridge Scheduler schedules (schedules.rs), with no
//! second store.

mod account;
mod account_cache;
mod aws;
mod lease;
mod schedules;
mod token_store;
mod vault;

pub use account::{
    Account, AccountError, AccountSource, EnvAccountSource, PLACEHOLDER, StaticAccount,
};
pub use account_cache::AccountCache;
pub use aws::{AwsClients, S3Objects, S3TokenStore, SecretsManagerSource};
pub use lease::{LeaseTiming, LoginRecord, StoreLoginGate, login_outcome};
pub use schedules::{
    ListedSchedule, MAX_EVENT_AGE_SECONDS, MAX_PAGE, MAX_RETRY_ATTEMPTS, ReadSchedule, ReadTarget,
    ScheduleStore, ScheduleStoreError, SchedulerStore, StoredSchedule, TargetArn,
};
pub use token_store::{
    FileObjects, FileTokenStore, ObjectStore, StoreError, StoredToken, TokenStore, Version,
};
pub use vault::{Saved, SessionVault};

use crate::config::{ReminderSettings, StateLocation};

/// The S3 prefix of the Teams conversation references (docs/architecture.md §3).
pub const TEAMS_PREFIX: &str = "teams/";

/// Where the account, the token file and the login lease live.
pub struct Stores {
    /// The account (Secrets Manager, or the environment).
    pub accounts: Box<dyn AccountSource>,
    /// The token file (S3 object, or a local file).
    pub tokens: Box<dyn TokenStore>,
    /// The login lease's lock object, next to the token file.
    pub lock: Box<dyn TokenStore>,
    /// Idempotency records (S3 prefix `idempotency/`, or a directory).
    pub records: Box<dyn ObjectStore>,
    /// Teams conversation references (S3 prefix `teams/`, or a directory).
    pub teams: Box<dyn ObjectStore>,
    /// Reminders (EventBridge Scheduler), when configured.
    pub schedules: Option<Box<dyn ScheduleStore>>,
}

impl Stores {
    /// The stores `location` names (their AWS clients are built once per
    /// container, on first use); reminders' schedules where `reminders`
    /// says, invoking `target`.
    pub fn open(
        location: &StateLocation,
        reminders: Option<&ReminderSettings>,
        target: TargetArn,
    ) -> Self {
        match location {
            StateLocation::Local { token_file } => {
                let beside = |suffix: &str| {
                    let mut path = token_file.clone().into_os_string();
                    path.push(suffix);
                    std::path::PathBuf::from(path)
                };
                Self {
                    accounts: Box::new(EnvAccountSource),
                    tokens: Box::new(FileTokenStore::new(token_file)),
                    lock: Box::new(FileTokenStore::new(beside(".lock"))),
                    records: Box::new(FileObjects::new(beside(".idempotency"))),
                    teams: Box::new(FileObjects::new(beside(".teams"))),
                    // Scheduler is an AWS service: no reminders without it.
                    schedules: None,
                }
            }
            StateLocation::Aws {
                secret_id,
                bucket,
                key,
            } => {
                let aws = AwsClients::from_environment();
                Self {
                    accounts: Box::new(SecretsManagerSource::new(aws.clone(), secret_id)),
                    tokens: Box::new(S3TokenStore::new(aws.clone(), bucket, key)),
                    lock: Box::new(S3TokenStore::new(
                        aws.clone(),
                        bucket,
                        format!("{key}.lock"),
                    )),
                    records: Box::new(S3Objects::new(aws.clone(), bucket, "idempotency/")),
                    teams: Box::new(S3Objects::new(aws.clone(), bucket, TEAMS_PREFIX)),
                    schedules: reminders.map(|settings| {
                        if let Some(arn) = &settings.function_arn {
                            target.note(arn);
                        }
                        Box::new(SchedulerStore::new(
                            aws,
                            &settings.group,
                            target,
                            &settings.role_arn,
                            settings.dead_letter_arn.clone(),
                        )) as Box<dyn ScheduleStore>
                    }),
                }
            }
        }
    }
}
