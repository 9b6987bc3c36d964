//! The binary under `cargo lambda watch` (the emulator `make run` uses), not
//! only under our own Runtime API emulator: its events and headers differ
//! (a Function URL event with a stray `httpMethod`, a deadline sent as a
//! duration), and users meet them first.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fake_skype::{Account, FakeSkype};
use serde_json::{Value, json};

const GROUP: &str = "19:0123456789abcdef0123456789abcdef@thread.skype";

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn direct_and_function_url_calls_work_under_cargo_lambda_watch() {
    let fake = FakeSkype::start().await;
    fake.add_account(Account::fred());
    let port = free_port();
    let cargo_lambda = format!("{}/.venv/bin/cargo-lambda", env!("CARGO_MANIFEST_DIR"));
    let _watch = Killed(
        Command::new(&cargo_lambda)
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                &port.to_string(),
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {cargo_lambda} ({e}): run `make test`, which installs it")
            }),
    );
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    // Listening is enough: any request to it would wait for a function.
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let token_file =
        std::env::temp_dir().join(format!("skype-sender-watch-{}", std::process::id()));
    let _ = std::fs::remove_file(&token_file);
    let _function = Killed(
        Command::new(env!("CARGO_BIN_EXE_skype-sender"))
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .envs(fake.client_env())
            .env("SKYPE_USERNAME", "fred.adams@example.com")
            .env("SKYPE_PASSWORD", "p&ss<w>rd")
            .env("API_KEYS", "watch-key")
            .env("TOKEN_FILE", &token_file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );

    let direct: Value = http
        .post(format!("{base}/2015-03-31/functions/_/invocations"))
        .json(&json!({"msg": "direct", "channel": GROUP}))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(direct["ok"], true, "{direct}");

    let response = http
        .post(format!("{base}/lambda-url/_/send-message"))
        .header("x-api-key", "watch-key")
        .json(&json!({"msg": "through a Function URL", "channel": GROUP}))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["msg"], "Posted message");

    let wrong = http
        .post(format!("{base}/lambda-url/_/send-message"))
        .header("x-api-key", "nope")
        .json(&json!({"msg": "x", "channel": GROUP}))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(fake.messages(GROUP).len(), 2);
}
