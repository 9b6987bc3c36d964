//! The world every figure runs in: the fake Skype, moto behind a counting
//! proxy (with the bucket and the secret of an AWS deployment), and
//! function processes ("containers") each polling their own Runtime API
//! emulator, as Lambda runs them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fake_skype::{Account, FakeSkype, Op, RecordedRequest};
use lambda_harness::events;
use lambda_harness::moto::{self, Moto, RequestCounter};
use lambda_harness::process::{FunctionProcess, Keep};
use lambda_harness::runtime_api::{Outcome, RuntimeApi, Timing};
use serde_json::{Value, json};

use super::Params;
use super::proxy::CountingProxy;

/// The conversation of the `standup` alias (seeding the session).
pub const GROUP: &str = "19:0123456789abcdef0123456789abcdef@thread.skype";
/// The API key HTTP callers present.
pub const API_KEY: &str = "bench-key-0123456789";
/// Where the session lives in the bucket.
pub const TOKEN_KEY: &str = "skype/token";
/// How long the bench waits for one invocation before giving up.
/// (Shorter than the emulator's own 35 s, so the process's logs are shown.)
const INVOKE_TIMEOUT: Duration = Duration::from_secs(32);

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// Everything a figure needs.
pub struct World {
    pub fake: FakeSkype,
    pub proxy: CountingProxy,
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
    pub secret_id: String,
    /// Secrets Manager at moto (for the secrets of other figures).
    pub secrets: aws_sdk_secretsmanager::Client,
    pub function: PathBuf,
    pub hello: PathBuf,
    /// A private scratch directory (the zip).
    pub scratch: PathBuf,
    _moto: Moto,
}

impl World {
    /// Starts the fake, moto and the proxy; creates the bucket and the secret.
    pub async fn start(params: &Params) -> World {
        let fake = FakeSkype::start().await;
        fake.add_account(Account::fred());
        let moto = Moto::start().await;
        let proxy = CountingProxy::start(&moto.endpoint).await;
        let sdk = moto::sdk_config(&moto.endpoint).await;
        let admin = RequestCounter::default();
        let s3 = moto::s3(&sdk, &admin);
        let bucket = "skype-sender-bench".to_string();
        s3.create_bucket().bucket(&bucket).send().await.unwrap();
        let secret = json!({
            "username": "fred.adams@example.com",
            "password": Account::fred().password,
            "api_keys": [API_KEY],
            "channels": {"standup": GROUP},
        });
        let secrets = moto::secrets(&sdk, &admin);
        let secret_id =
            moto::create_secret(&secrets, "skype-sender-bench", &secret.to_string()).await;
        let scratch =
            std::env::temp_dir().join(format!("skype-sender-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&scratch);
        std::fs::create_dir_all(&scratch).unwrap();
        World {
            fake,
            proxy,
            s3,
            bucket,
            secret_id,
            secrets,
            function: params.function.clone(),
            hello: params.hello.clone(),
            scratch,
            _moto: moto,
        }
    }

    /// The function's environment in AWS mode (moto through the proxy),
    /// plus `extra`.
    pub fn function_env(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = [
            ("SECRET_ID", self.secret_id.as_str()),
            ("TOKEN_BUCKET", self.bucket.as_str()),
            ("TOKEN_KEY", TOKEN_KEY),
            ("AWS_ENDPOINT_URL", self.proxy.endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        env.extend(
            self.fake
                .client_env()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v)),
        );
        env.extend(ca_bundle());
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        env
    }

    /// A function container in AWS mode.
    pub async fn function(&self, extra: &[(&str, &str)]) -> Container {
        Container::start(&self.function, &self.function_env(extra)).await
    }

    /// Makes sure the bucket holds a valid session (one login if it does not).
    pub async fn seed_session(&self) -> Result<(), String> {
        let container = self.function(&[]).await;
        let (answer, _) = container
            .invoke(json!({"msg": "seeding the session", "channel": "standup"}))
            .await?;
        posted(&answer).map_err(|e| container.explain(&e))
    }

    /// Removes the stored session (the next container logs in).
    pub async fn delete_session(&self) {
        let _ = self
            .s3
            .delete_object()
            .bucket(&self.bucket)
            .key(TOKEN_KEY)
            .send()
            .await;
    }

    /// Makes the stored session expired, in the token file (both expiries
    /// in the past) and at the fake (its tokens are refused).
    pub async fn expire_session(&self) -> Result<(), String> {
        let text = moto::get_text(&self.s3, &self.bucket, TOKEN_KEY)
            .await
            .map_err(|e| format!("no stored session to expire: {e}"))?;
        let past = (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            - 60)
            .to_string();
        // SkPy's six lines: user, skype token, its expiry, registration
        // token, its expiry, messaging host.
        let lines: Vec<String> = text
            .lines()
            .enumerate()
            .map(|(i, line)| {
                if i == 2 || i == 4 {
                    past.clone()
                } else {
                    line.to_string()
                }
            })
            .collect();
        if lines.len() < 6 {
            return Err(format!(
                "the stored session has {} lines, not SkPy's 6",
                lines.len()
            ));
        }
        moto::put_text(
            &self.s3,
            &self.bucket,
            TOKEN_KEY,
            &format!("{}\n", lines.join("\n")),
        )
        .await
        .map_err(|e| format!("cannot write the expired session: {e}"))?;
        self.fake.expire_skype_tokens();
        self.fake.expire_registrations();
        Ok(())
    }
}

/// A conversation of its own for each figure, so that the messages a
/// figure finds stored at the fake are its own.
pub fn conversation(figure: u32) -> String {
    format!("19:{figure:032x}@thread.skype")
}

/// A direct invocation (`aws lambda invoke`) posting `msg` to `channel`.
pub fn direct(channel: &str, msg: &str) -> Value {
    json!({"msg": msg, "channel": channel})
}

/// An HTTP API request posting `msg` to `channel`, the API key in a header.
pub fn http(channel: &str, msg: &str) -> Value {
    events::send_message(API_KEY, json!({"msg": msg, "channel": channel}))
}

/// The Send requests among `requests`, and how many of them reused a
/// `clientmessageid` another one had already used (Skype keeps only the
/// first message of a `clientmessageid`: the later ones are answered with
/// its id and dropped).
pub fn sends_and_reused_ids(requests: &[RecordedRequest]) -> (usize, usize) {
    let ids: Vec<String> = requests
        .iter()
        .filter(|r| r.op == Some(Op::Send))
        .map(|r| {
            serde_json::from_slice::<Value>(&r.body)
                .ok()
                .and_then(|body| body["clientmessageid"].as_str().map(str::to_string))
                .unwrap_or_default()
        })
        .collect();
    let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
    (ids.len(), ids.len() - distinct.len())
}

/// An SQS event of one record per `(message id, msg)`, all to `channel`.
pub fn sqs(channel: &str, records: &[(String, String)]) -> Value {
    let records: Vec<Value> = records
        .iter()
        .map(|(id, msg)| {
            json!({
                "messageId": id,
                "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
                "body": direct(channel, msg).to_string(),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795624200000",
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": "1795624200001"
                },
                "messageAttributes": {},
                "md5OfBody": "16d9eeda0de6e5ba49ee6be0a7ae5c5d",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:skype-sender-queue",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    json!({ "Records": records })
}

/// The CA certificates as Lambda's image keeps them: one bundle file. A
/// development machine's `/etc/ssl/certs` also holds hundreds of hashed
/// links that the TLS stacks would otherwise read one by one on the first
/// request (4 to 6 ms here), a cost of this machine, not of the function.
fn ca_bundle() -> Option<(String, String)> {
    [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
    ]
    .into_iter()
    .find(|path| std::path::Path::new(path).is_file())
    .map(|path| ("SSL_CERT_FILE".to_string(), path.to_string()))
}

/// The same from a FIFO queue, every record in message group `group`.
pub fn sqs_fifo(channel: &str, group: &str, records: &[(String, String)]) -> Value {
    let mut event = sqs(channel, records);
    for record in event["Records"].as_array_mut().into_iter().flatten() {
        let id = record["messageId"].clone();
        record["attributes"]["MessageGroupId"] = json!(group);
        record["attributes"]["MessageDeduplicationId"] = id;
        record["attributes"]["SequenceNumber"] = json!("18849496460467696128");
        record["eventSourceARN"] =
            json!("arn:aws:sqs:us-east-1:123456789012:skype-sender-queue.fifo");
    }
    event
}

/// Whether an answer says the message was posted (HTTP 200, `ok`, or an
/// SQS batch without failures).
pub fn posted(answer: &Value) -> Result<(), String> {
    if answer.get("statusCode").is_some() {
        let (status, body) = events::status_and_body(answer);
        return if status == 200 {
            Ok(())
        } else {
            Err(format!("HTTP {status}: {body}"))
        };
    }
    if let Some(failures) = answer.get("batchItemFailures") {
        return if failures.as_array().is_some_and(Vec::is_empty) {
            Ok(())
        } else {
            Err(format!("SQS records failed: {failures}"))
        };
    }
    if answer["ok"] == true {
        Ok(())
    } else {
        Err(format!("not posted: {answer}"))
    }
}

/// How many of a container's last log lines are kept (for [`Container::explain`]).
const LOG_LINES_KEPT: usize = 40;

/// One function process and its Runtime API; killed when dropped.
pub struct Container {
    process: FunctionProcess,
}

impl Container {
    /// A Runtime API emulator, then the process.
    pub async fn start(binary: &Path, env: &[(String, String)]) -> Container {
        let runtime = RuntimeApi::start().await;
        Container::spawn(runtime, binary, env)
    }

    /// `binary` polling `runtime`, with Lambda's variables and `env`.
    pub fn spawn(runtime: RuntimeApi, binary: &Path, env: &[(String, String)]) -> Container {
        let env = std::iter::once(("RUST_LOG", "info"))
            .chain(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        Container {
            process: FunctionProcess::spawn(runtime, binary, env, Keep::Last(LOG_LINES_KEPT)),
        }
    }

    /// The Runtime API the process polls.
    pub fn runtime(&self) -> &RuntimeApi {
        &self.process.runtime
    }

    /// Just before the process was spawned.
    pub fn spawned_at(&self) -> Instant {
        self.process.spawned_at
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// `why`, with whether the process still runs and its last log lines.
    pub fn explain(&self, why: &str) -> String {
        let lines = self.process.lines();
        let tail = &lines[lines.len().saturating_sub(8)..];
        let alive = match std::fs::metadata(format!("/proc/{}", self.pid())) {
            Ok(_) => "running",
            Err(_) => "gone",
        };
        format!(
            "{why} (process {alive}; last log lines: {})",
            tail.join(" | ")
        )
    }

    /// Spawn → the first `GET /runtime/invocation/next`.
    pub async fn init_time(&self) -> Result<Duration, String> {
        let give_up = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(at) = self.runtime().first_poll_at() {
                return Ok(at.saturating_duration_since(self.spawned_at()));
            }
            if Instant::now() > give_up {
                return Err(self.explain("the process never polled for an event"));
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Invokes with `event`; the answer (a function error is an `Err`).
    pub async fn invoke(&self, event: Value) -> Result<(Value, Timing), String> {
        invoke_on(self.runtime(), event)
            .await
            .map_err(|e| self.explain(&e))
    }

    /// A field of `/proc/<pid>/status` in kB (`VmHWM`, `VmRSS`).
    pub fn status_kb(&self, field: &str) -> Result<u64, String> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .map_err(|e| format!("cannot read /proc/{}/status: {e}", self.pid()))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| format!("no {field} in /proc/{}/status", self.pid()))
    }
}

/// Invokes through `runtime` (usable from a spawned task).
pub async fn invoke_on(runtime: &RuntimeApi, event: Value) -> Result<(Value, Timing), String> {
    match tokio::time::timeout(INVOKE_TIMEOUT, runtime.invoke_timed(event)).await {
        Ok((Outcome::Response(answer), timing)) => Ok((answer, timing)),
        Ok((Outcome::Error(error), _)) => Err(format!("the function failed: {error}")),
        Err(_) => Err(format!("no answer within {} s", INVOKE_TIMEOUT.as_secs())),
    }
}

/// Milliseconds, for reports.
pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// The median of `values` (not empty).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    } else {
        sorted[middle]
    }
}

/// The `p`th percentile of `values` (nearest rank; not empty).
pub fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
