//! A moto server (S3, Secrets Manager, EventBridge Scheduler) on a free
//! loopback port, from the venv `make test` installs, stopped when dropped;
//! SDK clients for it that count every request they send; a secret and a
//! schedule group created; and the text of an S3 object read and written
//! whole (a token file, a lease, a record).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Credentials, Intercept, Region, RuntimeComponents};
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::operation::put_object::PutObjectError;
use aws_sdk_s3::primitives::ByteStream;

/// A running moto server.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Starts `moto_server` and waits until it answers.
    pub async fn start() -> Moto {
        let bin = std::env::var("MOTO_SERVER")
            .unwrap_or_else(|_| format!("{}/.venv/bin/moto_server", crate::repo_root().display()));
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {bin} ({e}): run `make test`, which installs moto")
            });
        let endpoint = format!("http://127.0.0.1:{port}");
        let moto = Moto { child, endpoint };
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if http
                .get(format!("{}/moto-api/", moto.endpoint))
                .send()
                .await
                .is_ok()
            {
                return moto;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("moto_server did not start on port {port}");
    }
}

/// Counts the requests the SDK clients it is installed in send.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter(Arc<AtomicUsize>);

impl RequestCounter {
    /// Requests sent so far.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// SDK configuration for `endpoint`, with dummy credentials and short timeouts.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_timeout(Duration::from_secs(3))
                .build(),
        )
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2))
        .load()
        .await
}

/// An S3 client (path style) counting into `counter`.
pub fn s3(sdk: &aws_config::SdkConfig, counter: &RequestCounter) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .interceptor(counter.clone())
            .build(),
    )
}

/// A Secrets Manager client counting into `counter`.
pub fn secrets(
    sdk: &aws_config::SdkConfig,
    counter: &RequestCounter,
) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::config::Builder::from(sdk)
            .interceptor(counter.clone())
            .build(),
    )
}

/// An EventBridge Scheduler client counting into `counter`.
pub fn scheduler(
    sdk: &aws_config::SdkConfig,
    counter: &RequestCounter,
) -> aws_sdk_scheduler::Client {
    aws_sdk_scheduler::Client::from_conf(
        aws_sdk_scheduler::config::Builder::from(sdk)
            .interceptor(counter.clone())
            .build(),
    )
}

/// Creates the schedule group `name` (a store's schedules live in one);
/// its ARN.
pub async fn create_schedule_group(scheduler: &aws_sdk_scheduler::Client, name: &str) -> String {
    scheduler
        .create_schedule_group()
        .name(name)
        .send()
        .await
        .unwrap()
        .schedule_group_arn()
        .to_string()
}

/// The text of `bucket`/`key` (UTF-8, or a test failure); the SDK's error
/// when it cannot be fetched (no such object, no such bucket).
pub async fn get_text(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<String, SdkError<GetObjectError>> {
    let object = s3.get_object().bucket(bucket).key(key).send().await?;
    let bytes = object.body.collect().await.unwrap().into_bytes();
    Ok(String::from_utf8(bytes.to_vec()).unwrap())
}

/// Writes `text` as `bucket`/`key`, replacing what was there.
pub async fn put_text(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    text: &str,
) -> Result<(), SdkError<PutObjectError>> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(text.as_bytes().to_vec()))
        .send()
        .await?;
    Ok(())
}

/// Creates the secret `name` holding `text`; its ARN.
pub async fn create_secret(
    secrets: &aws_sdk_secretsmanager::Client,
    name: &str,
    text: &str,
) -> String {
    secrets
        .create_secret()
        .name(name)
        .secret_string(text)
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_string()
}
