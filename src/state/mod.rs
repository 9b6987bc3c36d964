//! Where the function keeps what outlives an invocation: the bot's
//! credentials and API keys, and the session token file. Each behind a
//! trait, with a local implementation (files, environment) and an AWS one
//! (Secrets Manager, S3), plus the caching and coordination built on them.

mod account;
mod account_cache;
mod aws;
mod lease;
mod token_store;
mod vault;

pub use account::{Account, AccountError, AccountSource, EnvAccountSource, StaticAccount};
pub use account_cache::AccountCache;
pub use aws::{S3Objects, S3TokenStore, SecretsManagerSource};
pub use lease::{LeaseTiming, StoreLoginGate};
pub use token_store::{
    FileObjects, FileTokenStore, ObjectStore, StoreError, StoredToken, TokenStore, Version,
};
pub use vault::{Saved, SessionVault};

use std::time::Duration;

use crate::config::StateLocation;

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
}

impl Stores {
    /// The stores `location` names. AWS clients are built once here (per
    /// container), with short timeouts so an outage answers 503 quickly.
    pub async fn open(location: &StateLocation) -> Self {
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
                }
            }
            StateLocation::Aws {
                secret_id,
                bucket,
                key,
            } => {
                let sdk = aws_sdk_config().await;
                let s3 = s3_client(&sdk);
                Self {
                    accounts: Box::new(SecretsManagerSource::new(
                        aws_sdk_secretsmanager::Client::new(&sdk),
                        secret_id,
                    )),
                    tokens: Box::new(S3TokenStore::new(s3.clone(), bucket, key)),
                    lock: Box::new(S3TokenStore::new(s3.clone(), bucket, format!("{key}.lock"))),
                    records: Box::new(S3Objects::new(s3, bucket, "idempotency/")),
                }
            }
        }
    }
}

/// The AWS SDK configuration: the environment's region, credentials and
/// endpoint (`AWS_ENDPOINT_URL` for local servers), with bounded timeouts.
pub async fn aws_sdk_config() -> aws_config::SdkConfig {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(3))
        .operation_timeout(Duration::from_secs(7))
        .build();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(timeouts)
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2))
        .load()
        .await
}

/// An S3 client; path-style addressing when the endpoint is overridden
/// (local servers have no per-bucket host names).
pub fn s3_client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(sdk.endpoint_url().is_some())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}
