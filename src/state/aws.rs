//! The AWS adapters: the account from Secrets Manager, the token file in
//! S3 with conditional writes. Errors are described by kind only: an SDK
//! error can quote a request, and requests here carry secrets.

use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;

use super::account::{Account, AccountError, AccountSource};
use super::token_store::{ObjectStore, StoreError, StoredToken, TokenStore, Version};

/// The secret of design.md, read from Secrets Manager.
pub struct SecretsManagerSource {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
}

impl SecretsManagerSource {
    /// Reads `secret_id` (a name or an ARN) with `client`.
    pub fn new(client: aws_sdk_secretsmanager::Client, secret_id: impl Into<String>) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
        }
    }
}

#[async_trait::async_trait]
impl AccountSource for SecretsManagerSource {
    async fn load(&self) -> Result<Account, AccountError> {
        let output = self
            .client
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
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
}

impl S3TokenStore {
    /// The object `key` in `bucket`.
    pub fn new(
        client: aws_sdk_s3::Client,
        bucket: impl Into<String>,
        key: impl Into<String>,
    ) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            key: key.into(),
        }
    }
}

#[async_trait::async_trait]
impl TokenStore for S3TokenStore {
    async fn load(&self) -> Result<Option<StoredToken>, StoreError> {
        let output = match self
            .client
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
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|_| StoreError::Unavailable("S3: the object could not be read".into()))?
            .into_bytes();
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| StoreError::Unavailable("S3: the object is not text".into()))?;
        Ok(Some(StoredToken { text, version }))
    }

    async fn save(&self, text: &str, expected: Option<&Version>) -> Result<Version, StoreError> {
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .content_type("text/plain; charset=utf-8")
            .server_side_encryption(ServerSideEncryption::Aes256)
            .body(ByteStream::from(text.as_bytes().to_vec()));
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

/// Objects under a prefix of a bucket.
pub struct S3Objects {
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
}

impl S3Objects {
    /// Objects `<prefix><key>` in `bucket`.
    pub fn new(
        client: aws_sdk_s3::Client,
        bucket: impl Into<String>,
        prefix: impl Into<String>,
    ) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            prefix: prefix.into(),
        }
    }
}

impl ObjectStore for S3Objects {
    fn object(&self, key: &str) -> Box<dyn TokenStore> {
        Box::new(S3TokenStore::new(
            self.client.clone(),
            &self.bucket,
            format!("{}{key}", self.prefix),
        ))
    }
}

/// What kind of failure an SDK error is, in words that quote nothing.
fn kind<E: aws_sdk_s3::error::ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> String {
    match err {
        SdkError::TimeoutError(_) => "timed out".into(),
        SdkError::DispatchFailure(_) => "cannot connect".into(),
        SdkError::ResponseError(_) => "unreadable response".into(),
        SdkError::ServiceError(e) => e.err().code().unwrap_or("service error").to_string(),
        _ => "request failed".into(),
    }
}
