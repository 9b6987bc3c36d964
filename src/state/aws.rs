//! The AWS adapters: the account from Secrets Manager, the token file in
//! S3 with conditional writes; and the SDK clients they (and the reminders'
//! EventBridge Scheduler store, schedules.rs) share. Errors are described by
//! kind only: an SDK error can quote a request, and requests here carry
//! secrets.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use tokio::sync::OnceCell;

use super::account::{Account, AccountError, AccountSource};
use super::token_store::{MAX_COUNTED, ObjectStore, StoreError, StoredToken, TokenStore, Version};

/// The SDK clients of a container, built when first needed: loading the
/// SDK's configuration takes milliseconds that a cold start should not
/// spend before Lambda hands over the first event.
pub struct AwsClients {
    config: OnceCell<aws_config::SdkConfig>,
    s3: OnceCell<aws_sdk_s3::Client>,
    secrets: OnceCell<aws_sdk_secretsmanager::Client>,
    scheduler: OnceCell<aws_sdk_scheduler::Client>,
}

impl AwsClients {
    /// Clients configured from the environment variables alone, on first
    /// use: in Lambda they hold the region and the role's credentials. The
    /// SDK's default chain (profile files, SSO, instance metadata) is not
    /// linked into the function: it would add half a megabyte for sources
    /// Lambda never uses.
    pub fn from_environment() -> Arc<Self> {
        Arc::new(Self {
            config: OnceCell::new(),
            s3: OnceCell::new(),
            secrets: OnceCell::new(),
            scheduler: OnceCell::new(),
        })
    }

    /// Clients of a configuration loaded elsewhere: tools on a workstation
    /// load the SDK's default chain (profiles, SSO) themselves.
    pub fn from_sdk_config(config: aws_config::SdkConfig) -> Arc<Self> {
        Arc::new(Self {
            config: OnceCell::new_with(Some(config)),
            s3: OnceCell::new(),
            secrets: OnceCell::new(),
            scheduler: OnceCell::new(),
        })
    }

    /// Clients built elsewhere (tests, tools).
    pub fn from_clients(
        s3: aws_sdk_s3::Client,
        secrets: aws_sdk_secretsmanager::Client,
    ) -> Arc<Self> {
        Arc::new(Self {
            config: OnceCell::new(),
            s3: OnceCell::new_with(Some(s3)),
            secrets: OnceCell::new_with(Some(secrets)),
            scheduler: OnceCell::new(),
        })
    }

    /// These clients with `scheduler` as the EventBridge Scheduler client
    /// (tests, tools), keeping [`AwsClients::from_clients`] as it is: the
    /// clients built already are shared (an SDK client is a handle), the
    /// others are built on first use.
    pub fn with_scheduler(self: Arc<Self>, scheduler: aws_sdk_scheduler::Client) -> Arc<Self> {
        Arc::new(Self {
            config: self.config.clone(),
            s3: self.s3.clone(),
            secrets: self.secrets.clone(),
            scheduler: OnceCell::new_with(Some(scheduler)),
        })
    }

    async fn config(&self) -> &aws_config::SdkConfig {
        self.config
            .get_or_init(|| async { environment_config() })
            .await
    }

    async fn s3(&self) -> &aws_sdk_s3::Client {
        self.s3
            .get_or_init(|| async { s3_client(self.config().await) })
            .await
    }

    async fn secrets(&self) -> &aws_sdk_secretsmanager::Client {
        self.secrets
            .get_or_init(|| async {
                let sdk = self.config().await;
                let mut config = aws_sdk_secretsmanager::config::Builder::from(sdk);
                if let Some(url) = env("AWS_ENDPOINT_URL_SECRETS_MANAGER") {
                    config.set_endpoint_url(Some(url));
                }
                aws_sdk_secretsmanager::Client::from_conf(config.build())
            })
            .await
    }

    /// The EventBridge Scheduler client (the reminders, schedules.rs).
    pub(super) async fn scheduler(&self) -> &aws_sdk_scheduler::Client {
        self.scheduler
            .get_or_init(|| async {
                let sdk = self.config().await;
                let mut config = aws_sdk_scheduler::config::Builder::from(sdk);
                if let Some(url) = env("AWS_ENDPOINT_URL_SCHEDULER") {
                    config.set_endpoint_url(Some(url));
                }
                aws_sdk_scheduler::Client::from_conf(config.build())
            })
            .await
    }
}

/// Bounded timeouts and one retry, so an outage answers 503 quickly.
fn timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(3))
        .operation_timeout(Duration::from_secs(7))
        .build()
}

fn retries() -> aws_config::retry::RetryConfig {
    aws_config::retry::RetryConfig::standard().with_max_attempts(2)
}

fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// The configuration of the environment variables Lambda sets (region,
/// the role's credentials) and `AWS_ENDPOINT_URL` for local servers.
fn environment_config() -> aws_config::SdkConfig {
    let credentials = aws_sdk_s3::config::SharedCredentialsProvider::new(
        aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
    );
    let mut config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .credentials_provider(credentials)
        .timeout_config(timeouts())
        .retry_config(retries());
    let region = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION"));
    config.set_region(region.map(aws_sdk_s3::config::Region::new));
    config.set_endpoint_url(env("AWS_ENDPOINT_URL"));
    config.build()
}

/// An S3 client; path-style addressing when the endpoint is overridden
/// (local servers have no per-bucket host names).
fn s3_client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let endpoint = env("AWS_ENDPOINT_URL_S3").or_else(|| sdk.endpoint_url().map(str::to_string));
    let mut config = aws_sdk_s3::config::Builder::from(sdk).force_path_style(endpoint.is_some());
    config.set_endpoint_url(endpoint);
    aws_sdk_s3::Client::from_conf(config.build())
}

/// The secret (`{"username", "password", "api_keys", "channels"}`, README
/// "Configuration"), read from Secrets Manager.
pub struct SecretsManagerSource {
    clients: Arc<AwsClients>,
    secret_id: String,
}

impl SecretsManagerSource {
    /// Reads `secret_id` (a name or an ARN).
    pub fn new(clients: Arc<AwsClients>, secret_id: impl Into<String>) -> Self {
        Self {
            clients,
            secret_id: secret_id.into(),
        }
    }
}

#[async_trait::async_trait]
impl AccountSource for SecretsManagerSource {
    async fn load(&self) -> Result<Account, AccountError> {
        let output = self
            .clients
            .secrets()
            .await
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map_err(|e| AccountError::Unavailable(format!("Secrets Manager: {}", kind(&e))))?;
        let text = output.secret_string().ok_or_else(|| {
            AccountError::Unavailable("the secret has no string value (SecretString)".into())
        })?;
        Account::from_secret_json(text)
    }
}

/// One S3 object, read and written with ETag conditions.
pub struct S3TokenStore {
    clients: Arc<AwsClients>,
    bucket: String,
    key: String,
}

impl S3TokenStore {
    /// The object `key` in `bucket`.
    pub fn new(
        clients: Arc<AwsClients>,
        bucket: impl Into<String>,
        key: impl Into<String>,
    ) -> Self {
        Self {
            clients,
            bucket: bucket.into(),
            key: key.into(),
        }
    }
}

#[async_trait::async_trait]
impl TokenStore for S3TokenStore {
    async fn load(&self) -> Result<Option<StoredToken>, StoreError> {
        let output = match self
            .clients
            .s3()
            .await
            .get_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .send()
            .await
        {
            Ok(output) => output,
            Err(SdkError::ServiceError(e)) if e.err().is_no_such_key() => return Ok(None),
            Err(e) => return Err(StoreError::Unavailable(format!("S3: {}", kind(&e)))),
        };
        let version = Version(output.e_tag().unwrap_or_default().to_string());
        let label = output
            .metadata()
            .and_then(|meta| meta.get(LABEL))
            .and_then(|label| decode_label(label));
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|_| StoreError::Unavailable("S3: the object could not be read".into()))?
            .into_bytes();
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| StoreError::Unavailable("S3: the object is not text".into()))?;
        Ok(Some(StoredToken {
            text,
            version,
            label,
        }))
    }

    async fn save_labelled(
        &self,
        text: &str,
        label: Option<&str>,
        expected: Option<&Version>,
    ) -> Result<Version, StoreError> {
        let request = self
            .clients
            .s3()
            .await
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .content_type("text/plain; charset=utf-8")
            .server_side_encryption(ServerSideEncryption::Aes256)
            .body(ByteStream::from(text.as_bytes().to_vec()))
            .set_metadata(label.map(|label| [(LABEL.to_string(), encode_label(label))].into()));
        let request = match expected {
            Some(version) => request.if_match(&version.0),
            None => request.if_none_match("*"),
        };
        match request.send().await {
            Ok(output) => Ok(Version(output.e_tag().unwrap_or_default().to_string())),
            // 412: the ETag moved; 409: a concurrent conditional write;
            // 404: If-Match on an object that is gone.
            Err(SdkError::ServiceError(e))
                if matches!(e.raw().status().as_u16(), 404 | 409 | 412) =>
            {
                Err(StoreError::Conflict)
            }
            Err(e) => Err(StoreError::Unavailable(format!("S3: {}", kind(&e)))),
        }
    }
}

/// The user metadata key of [`StoredToken::label`] (`x-amz-meta-label`).
const LABEL: &str = "label";

/// S3 metadata travels in HTTP headers, which carry ASCII only: the label
/// (a display name may be "José") is percent-encoded as UTF-8.
fn encode_label(label: &str) -> String {
    percent_encoding::utf8_percent_encode(label, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The label back; one that does not decode is no label.
fn decode_label(encoded: &str) -> Option<String> {
    let label = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .ok()?;
    Some(label.into_owned()).filter(|label| !label.trim().is_empty())
}

/// Objects under a prefix of a bucket.
pub struct S3Objects {
    clients: Arc<AwsClients>,
    bucket: String,
    prefix: String,
}

impl S3Objects {
    /// Objects `<prefix><key>` in `bucket`.
    pub fn new(
        clients: Arc<AwsClients>,
        bucket: impl Into<String>,
        prefix: impl Into<String>,
    ) -> Self {
        Self {
            clients,
            bucket: bucket.into(),
            prefix: prefix.into(),
        }
    }
}

#[async_trait::async_trait]
impl ObjectStore for S3Objects {
    fn object(&self, key: &str) -> Box<dyn TokenStore> {
        Box::new(S3TokenStore::new(
            self.clients.clone(),
            &self.bucket,
            format!("{}{key}", self.prefix),
        ))
    }

    async fn count(&self) -> Result<usize, StoreError> {
        let mut pages = self
            .clients
            .s3()
            .await
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&self.prefix)
            .into_paginator()
            .send();
        let mut counted = 0usize;
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| StoreError::Unavailable(format!("S3: {}", kind(&e))))?;
            counted += page.key_count().unwrap_or(0).max(0) as usize;
            if counted >= MAX_COUNTED {
                break;
            }
        }
        Ok(counted.min(MAX_COUNTED))
    }
}

/// What kind of failure an SDK error is, in words that quote nothing.
pub(super) fn kind<E: aws_sdk_s3::error::ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> String {
    match err {
        SdkError::TimeoutError(_) => "timed out".into(),
        SdkError::DispatchFailure(_) => "cannot connect".into(),
        SdkError::ResponseError(_) => "unreadable response".into(),
        SdkError::ServiceError(e) => e.err().code().unwrap_or("service error").to_string(),
        _ => "request failed".into(),
    }
}
