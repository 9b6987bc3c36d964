//! The operator CLI (`skype-sender-cli`), run as a built binary: login
//! against the strict fake Skype (local file and moto S3), token-info on
//! what it wrote, and send against a tiny local API.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use fake_skype::{Account, FakeSkype, Fault, Op};
use lambda_harness::moto::{self, Moto, RequestCounter};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use skype_sender::skype::{Session, parse_token_file, write_token_file};
use tokio::io::AsyncWriteExt;

const EMAIL: &str = "fred.adams@example.com";
const PASSWORD: &str = "p&ss<w>rd";
const API_KEY: &str = "the-good-api-key";

/// What one run of the binary did.
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Run {
    fn all_output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs the CLI with only `env` set (no stray SKYPE_* or AWS settings) and `stdin`.
async fn cli(args: &[&str], env: &[(&str, String)], stdin: &str) -> Run {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_skype-sender-cli"))
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let output = child.wait_with_output().await.unwrap();
    Run {
        status: output.status,
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("skype-sender-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn fake() -> FakeSkype {
    let fake = FakeSkype::start().await;
    fake.add_account(Account::fred());
    fake
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

async fn login(
    env: &[(&str, String)],
    user: &str,
    token_file: &Path,
    extra: &[&str],
    password: &str,
) -> Run {
    let mut args = vec![
        "login",
        "--username",
        user,
        "--password-stdin",
        "--token-file",
        path_str(token_file),
    ];
    args.extend_from_slice(extra);
    cli(&args, env, &format!("{password}\n")).await
}

fn read_session(path: &Path) -> Session {
    parse_token_file(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Neither the password nor a token of `session` appears in `run`'s output.
fn assert_no_secrets(run: &Run, session: Option<&Session>) {
    let output = run.all_output();
    assert!(!output.contains(PASSWORD), "password printed: {output}");
    if let Some(session) = session {
        assert!(!output.contains(session.auth.token.expose_secret()));
        assert!(!output.contains(session.registration.token.expose_secret()));
    }
}

#[tokio::test]
async fn help_documents_every_command() {
    let run = cli(&["--help"], &[], "").await;
    assert!(run.status.success());
    for command in ["login", "send", "token-info"] {
        assert!(
            run.stdout.contains(command),
            "{command} missing: {}",
            run.stdout
        );
    }
    let login = cli(&["login", "--help"], &[], "").await;
    assert!(login.stdout.contains("--password-stdin"));
    assert!(login.stdout.contains("SKYPE_MSGS_URL"));
    // The key's environment variable is named, its value never shown.
    let send = cli(
        &["send", "--help"],
        &[("SKYPE_SENDER_API_KEY", API_KEY.to_string())],
        "",
    )
    .await;
    assert!(send.stdout.contains("SKYPE_SENDER_API_KEY"));
    assert!(!send.stdout.contains(API_KEY));
    let none = cli(&[], &[], "").await;
    assert_eq!(none.status.code(), Some(2), "usage error without a command");
}

#[tokio::test]
async fn login_writes_a_private_token_file_that_skpy_and_token_info_read() {
    let fake = fake().await;
    let dir = temp_dir("login");
    let file = dir.join(".tokens-app");
    let run = login(&fake.client_env(), EMAIL, &file, &[], PASSWORD).await;
    assert!(run.status.success(), "{}", run.stderr);

    let session = read_session(&file);
    assert_eq!(session.auth.user_id, "fred.2");
    assert!(
        session
            .registration
            .msgs_host
            .starts_with("http://127.0.0.1:")
    );
    assert_eq!(fake.logins(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(
        run.stdout.contains(&format!("Wrote {}", file.display())),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Usable until:"));
    assert!(run.stdout.contains(" UTC (in "));
    assert_no_secrets(&run, Some(&session));

    let info = cli(&["token-info", "--token-file", path_str(&file)], &[], "").await;
    assert!(info.status.success(), "{}", info.stderr);
    assert!(info.stdout.contains("User:                 fred.2"));
    assert!(info.stdout.contains("Skype token expires:"));
    assert!(info.stdout.contains("Registration expires:"));
    assert!(info.stdout.contains(&session.registration.msgs_host));
    assert_no_secrets(&info, Some(&session));

    // A second login (Skype name: the web flow) replaces the file.
    let again = login(&fake.client_env(), "fred.2", &file, &[], PASSWORD).await;
    assert!(again.status.success(), "{}", again.stderr);
    assert!(!read_session(&file).same_tokens(&session));
    assert_eq!(fake.logins(), 2);
}

#[tokio::test]
async fn token_info_fails_on_an_expired_or_missing_file() {
    let dir = temp_dir("expired");
    let file = dir.join("tokens");
    let text = include_str!("../data/skpy-token-file.txt");
    let mut session = parse_token_file(text).unwrap();
    session.auth.expires_at = 1_000_000_000;
    std::fs::write(&file, write_token_file(&session)).unwrap();

    let run = cli(&["token-info", "--token-file", path_str(&file)], &[], "").await;
    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stdout.contains("2001-09-09 01:46:40 UTC (expired "),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("has expired"), "{}", run.stderr);
    assert_no_secrets(&run, Some(&session));

    let missing = dir.join("nothing-here");
    let run = cli(&["token-info", "--token-file", path_str(&missing)], &[], "").await;
    assert_eq!(run.status.code(), Some(1));
    assert!(run.stderr.contains("no token file at"), "{}", run.stderr);
}

#[tokio::test]
async fn login_failures_are_explained_and_write_nothing() {
    let fake = fake().await;
    let dir = temp_dir("refused");
    let file = dir.join("tokens");

    let wrong = login(&fake.client_env(), EMAIL, &file, &[], "not-the-password").await;
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        wrong.stderr.contains("Skype login refused"),
        "{}",
        wrong.stderr
    );
    assert!(!wrong.all_output().contains("not-the-password"));
    assert!(!file.exists());

    fake.inject(Op::Soap, Fault::LoginWall, 1);
    let wall = login(&fake.client_env(), EMAIL, &file, &[], PASSWORD).await;
    assert_eq!(wall.status.code(), Some(1));
    assert!(wall.stderr.contains("web browser"), "{}", wall.stderr);

    fake.inject(Op::Soap, Fault::LoginRateLimit, 1);
    let throttled = login(&fake.client_env(), EMAIL, &file, &[], PASSWORD).await;
    assert_eq!(throttled.status.code(), Some(1));
    assert!(
        throttled.stderr.contains("throttling"),
        "{}",
        throttled.stderr
    );
    assert!(throttled.stderr.contains("300 s"), "{}", throttled.stderr);
    assert_no_secrets(&throttled, None);
    assert!(!file.exists());

    let empty = login(&fake.client_env(), EMAIL, &file, &[], "").await;
    assert_eq!(empty.status.code(), Some(1));
    assert!(empty.stderr.contains("no password"), "{}", empty.stderr);
}

#[tokio::test]
async fn login_uploads_to_s3_and_keeps_a_newer_session_unless_forced() {
    let (moto, fake) = tokio::join!(Moto::start(), fake());
    let sdk = moto::sdk_config(&moto.endpoint).await;
    let s3 = moto::s3(&sdk, &RequestCounter::default());
    let bucket = "skype-sender-tokens";
    s3.create_bucket().bucket(bucket).send().await.unwrap();
    let get = |key: &'static str| {
        let s3 = s3.clone();
        async move {
            s3.get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .unwrap()
        }
    };
    let mut env = fake.client_env();
    env.extend([
        ("AWS_ENDPOINT_URL", moto.endpoint.clone()),
        ("AWS_ACCESS_KEY_ID", "testing".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
    ]);
    let dir = temp_dir("s3");
    let file = dir.join("tokens");

    let run = login(&env, EMAIL, &file, &["--bucket", bucket], PASSWORD).await;
    assert!(run.status.success(), "{}", run.stderr);
    assert!(
        run.stdout
            .contains("Uploaded to s3://skype-sender-tokens/skype/token"),
        "{}",
        run.stdout
    );
    let object = get("skype/token").await;
    assert_eq!(
        object.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256)
    );
    let stored = String::from_utf8(object.body.collect().await.unwrap().to_vec()).unwrap();
    assert_eq!(stored, std::fs::read_to_string(&file).unwrap());
    let session = parse_token_file(&stored).unwrap();
    assert_no_secrets(&run, Some(&session));

    let info = cli(&["token-info", "--bucket", bucket], &env, "").await;
    assert!(info.status.success(), "{}", info.stderr);
    assert!(info.stdout.contains("s3://skype-sender-tokens/skype/token"));
    assert!(info.stdout.contains("fred.2"));

    // Someone stored a session that lasts longer: kept without --force.
    let mut newer = session.clone();
    newer.auth.expires_at += 3600;
    newer.registration.expires_at += 3600;
    let newer_text = write_token_file(&newer);
    s3.put_object()
        .bucket(bucket)
        .key("skype/token")
        .body(ByteStream::from(newer_text.clone().into_bytes()))
        .send()
        .await
        .unwrap();
    let kept = login(&env, EMAIL, &file, &["--bucket", bucket], PASSWORD).await;
    assert_eq!(kept.status.code(), Some(1));
    assert!(kept.stderr.contains("newer session"), "{}", kept.stderr);
    assert!(kept.stderr.contains("--force"));
    assert!(
        kept.stderr.contains(path_str(&file)),
        "names the local copy"
    );
    let body = get("skype/token")
        .await
        .body
        .collect()
        .await
        .unwrap()
        .to_vec();
    assert_eq!(String::from_utf8(body).unwrap(), newer_text);

    let forced = login(
        &env,
        EMAIL,
        &file,
        &["--bucket", bucket, "--key", "skype/token", "--force"],
        PASSWORD,
    )
    .await;
    assert!(forced.status.success(), "{}", forced.stderr);
    let body = get("skype/token")
        .await
        .body
        .collect()
        .await
        .unwrap()
        .to_vec();
    assert_eq!(
        String::from_utf8(body).unwrap(),
        std::fs::read_to_string(&file).unwrap()
    );

    // Another key in the same bucket.
    let other = login(
        &env,
        EMAIL,
        &file,
        &["--bucket", bucket, "--key", "other/token"],
        PASSWORD,
    )
    .await;
    assert!(other.status.success(), "{}", other.stderr);
    let body = get("other/token")
        .await
        .body
        .collect()
        .await
        .unwrap()
        .to_vec();
    assert!(parse_token_file(&String::from_utf8(body).unwrap()).is_ok());
}

/// What the tiny API received: the `x-api-key` header and the JSON body.
type Seen = Arc<Mutex<Vec<(Option<String>, Value)>>>;

async fn api(
    State(seen): State<Seen>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let key = headers
        .get("x-api-key")
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    seen.lock().unwrap().push((key.clone(), body.clone()));
    if key.as_deref() != Some(API_KEY) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "unauthorized", "msg": "incorrect API key"})),
        );
    }
    (
        StatusCode::OK,
        Json(json!({"msg": "Posted message", "id": "1700000000001", "channel": body["channel"]})),
    )
}

async fn start_api() -> (String, Seen) {
    let seen = Seen::default();
    let app = axum::Router::new()
        .route("/prod/send-message", axum::routing::post(api))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/prod", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, seen)
}

#[tokio::test]
async fn send_posts_the_message_with_the_key_header() {
    let (base, seen) = start_api().await;
    let run = cli(
        &[
            "send",
            "--url",
            &base,
            "--channel",
            "standup",
            "--idempotency-key",
            "build-1",
            "Deploy",
            "<b>done</b>",
        ],
        &[("SKYPE_SENDER_API_KEY", API_KEY.to_string())],
        "",
    )
    .await;
    assert!(run.status.success(), "{}", run.stderr);
    let answer: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(answer["msg"], "Posted message");
    assert!(!run.all_output().contains(API_KEY));
    let (key, body) = seen.lock().unwrap()[0].clone();
    assert_eq!(key.as_deref(), Some(API_KEY));
    assert_eq!(
        body,
        json!({"msg": "Deploy <b>done</b>", "channel": "standup", "format": "rich", "idempotency_key": "build-1"})
    );
}

#[tokio::test]
async fn send_reads_stdin_and_reports_a_refusal() {
    let (base, seen) = start_api().await;
    let url = format!("{base}/send-message");
    let run = cli(
        &[
            "send",
            "--url",
            &url,
            "--key",
            "wrong-key",
            "--channel",
            "standup",
            "--format",
            "plain",
            "-",
        ],
        &[],
        "1 < 2 & co\nsecond line\n",
    )
    .await;
    assert_eq!(run.status.code(), Some(1));
    let answer: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(answer["error"], "unauthorized");
    assert!(run.stderr.contains("HTTP 401"), "{}", run.stderr);
    assert!(
        run.stderr.contains("unauthorized: incorrect API key"),
        "{}",
        run.stderr
    );
    assert!(!run.all_output().contains("wrong-key"));
    let (key, body) = seen.lock().unwrap()[0].clone();
    assert_eq!(key.as_deref(), Some("wrong-key"));
    assert_eq!(
        body,
        json!({"msg": "1 < 2 & co\nsecond line", "channel": "standup", "format": "plain"})
    );

    // Nothing listening: a clear failure, no panic.
    let closed = cli(
        &[
            "send",
            "--url",
            "http://127.0.0.1:9",
            "--key",
            "k",
            "--channel",
            "c",
            "hi",
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(closed.status.code(), Some(1));
    assert!(
        closed.stderr.contains("cannot reach the API"),
        "{}",
        closed.stderr
    );
}
