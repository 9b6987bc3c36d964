//! Where a token file lives: a local file, or the S3 object the deployed
//! function reads (through the function's own S3 store: server-side
//! encryption and conditional writes).

use std::fmt;
use std::path::PathBuf;

use clap::Args;
use skype_sender::skype::{Session, parse_token_file};
use skype_sender::state::{AwsClients, FileTokenStore, S3TokenStore, StoredToken, TokenStore};

use crate::error::CliError;

/// The default token file, as the function's local mode (`TOKEN_FILE`) and SkPy name it.
pub const DEFAULT_TOKEN_FILE: &str = ".tokens-app";

/// The `--bucket` / `--key` options, shared by the commands that reach S3.
#[derive(Args, Clone)]
pub struct S3Args {
    /// S3 bucket of the deployed function (its TOKEN_BUCKET, the stack's
    /// `TokenBucketName` output). AWS credentials, region and endpoint come
    /// from the usual AWS environment and profiles.
    #[arg(long, value_name = "BUCKET")]
    pub bucket: Option<String>,

    /// S3 key of the token file (the function's TOKEN_KEY).
    #[arg(
        long,
        value_name = "KEY",
        requires = "bucket",
        default_value = "skype/token"
    )]
    pub key: String,
}

impl S3Args {
    /// The S3 object, when a bucket was given.
    pub fn location(&self) -> Option<TokenLocation> {
        self.bucket.as_ref().map(|bucket| TokenLocation::S3 {
            bucket: bucket.clone(),
            key: self.key.clone(),
        })
    }
}

/// A token file's home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenLocation {
    /// A file on this machine.
    File(PathBuf),
    /// An S3 object.
    S3 {
        /// The bucket.
        bucket: String,
        /// The object key.
        key: String,
    },
}

impl fmt::Display for TokenLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

impl TokenLocation {
    /// The project's store for this location (the same code the function uses).
    /// S3 credentials come from the SDK's default chain (profiles, SSO,
    /// environment), as for the AWS CLI.
    pub async fn store(&self) -> Box<dyn TokenStore> {
        match self {
            Self::File(path) => Box::new(FileTokenStore::new(path)),
            Self::S3 { bucket, key } => Box::new(S3TokenStore::new(
                AwsClients::from_sdk_config(
                    aws_config::defaults(aws_config::BehaviorVersion::latest())
                        .load()
                        .await,
                ),
                bucket,
                key,
            )),
        }
    }

    /// The stored text and the session it holds.
    pub async fn load(&self) -> Result<(StoredToken, Session), CliError> {
        let stored = self
            .store()
            .await
            .load()
            .await?
            .ok_or_else(|| CliError::NoTokenFile(self.to_string()))?;
        let session = parse_token_file(&stored.text).map_err(|source| CliError::Malformed {
            location: self.to_string(),
            source,
        })?;
        Ok((stored, session))
    }
}
