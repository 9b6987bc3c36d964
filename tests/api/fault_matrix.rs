//! The fault matrix, end to end through the function's handler with the
//! fake Skype and moto: each fault gets its documented answer, and each
//! message is either delivered once or still owned by someone (the caller
//! was told, or the invocation failed so Lambda retries it). Every log
//! line is captured and searched for secrets.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fake_skype::{Fault, Op};
use lambda_harness::events::{sample, send_message, status_and_body};
use lambda_harness::moto::{self, RequestCounter};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use skype_sender::app::App;
use skype_sender::deadline::Deadline;
use skype_sender::domain::{ApiKeys, KeyEntry};
use skype_sender::idempotency;
use skype_sender::skype::{
    ClientOptions, ConversationId, Credentials, OutgoingMessage, Session, SkypeClient,
    parse_token_file, write_token_file,
};
use skype_sender::triggers;

use crate::aws_world::{GROUP, KEY, World, now, world};

const API_KEY: &str = "matrix-key-7f3a9c2e";
const PASSWORD: &str = "p&ss<w>rd";

/// Everything every test thread logs.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> Logs {
    let logs = Logs::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .init();
    logs
}

/// What the matrix must never show: collected as the sessions change.
#[derive(Default)]
struct Secrets(Vec<String>);

impl Secrets {
    fn session(&mut self, session: &Session) {
        self.0.push(session.auth.token.expose_secret().to_string());
        let registration = session.registration.token.expose_secret();
        self.0.push(
            registration
                .trim_start_matches("registrationToken=")
                .to_string(),
        );
    }
}

async fn stored_session(world: &World) -> Option<Session> {
    parse_token_file(&world.get_object(KEY).await?).ok()
}

/// A new container whose stored session needs a login.
async fn container_with_expired_session(world: &World, secrets: &mut Secrets) -> App {
    let mut session = world.login().await;
    secrets.session(&session);
    session.auth.expires_at = now() - 10;
    world.put_token(&write_token_file(&session)).await;
    world.app(&RequestCounter::default(), &[])
}

async fn http(app: &App, body: Value, deadline: Deadline) -> (u16, Value, Value) {
    let response = triggers::handle_within(app, send_message(API_KEY, body), deadline)
        .await
        .unwrap();
    let (status, json) = status_and_body(&response);
    (status, json, response["headers"].clone())
}

fn message(text: &str) -> Value {
    json!({"msg": text, "channel": "standup"})
}

#[tokio::test]
async fn every_fault_is_answered_as_documented_and_nothing_is_lost_or_doubled() {
    let logs = capture_logs();
    let mut secrets = Secrets(vec![PASSWORD.to_string(), API_KEY.to_string()]);
    let world = world().await;
    let secret = json!({"username": "fred.adams@example.com", "password": PASSWORD, "api_keys": [API_KEY], "channels": {"standup": GROUP}}).to_string();
    secrets.0.push(secret.clone());
    world
        .admin_secrets
        .put_secret_value()
        .secret_id(&world.secret_id)
        .secret_string(&secret)
        .send()
        .await
        .unwrap();
    let delivered = || world.fake.messages(GROUP).len();
    let soon = || Deadline::after(Duration::from_secs(20));

    let app = world.app(&RequestCounter::default(), &[]);
    assert_eq!(http(&app, message("warm up"), soon()).await.0, 200);
    secrets.session(&stored_session(&world).await.unwrap());

    // Stale registration (401, 729, token mismatch) and one 429: recovered
    // inside the invocation, delivered once.
    for fault in [
        Fault::Unauthorized,
        Fault::EndpointMissing,
        Fault::TokenMismatch,
        Fault::RateLimited {
            retry_after: Some(1),
        },
    ] {
        let before = delivered();
        world.fake.inject(Op::Send, fault, 1);
        let (status, body, _) = http(&app, message(&format!("{fault:?}")), soon()).await;
        assert_eq!(status, 200, "{fault:?}: {body}");
        assert_eq!(delivered(), before + 1, "{fault:?}: delivered once");
        if let Some(session) = stored_session(&world).await {
            secrets.session(&session);
        }
    }

    // Throttled for longer than the invocation may wait: the HTTP caller
    // is told when to come back; async triggers fail, so Lambda retries.
    let before = delivered();
    world.fake.inject(
        Op::Send,
        Fault::RateLimited {
            retry_after: Some(120),
        },
        3,
    );
    let (status, body, headers) = http(&app, message("throttled"), soon()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("skype_rate_limited"))
    );
    assert_eq!(headers["retry-after"], "120");
    let failed = triggers::handle_within(&app, sample("eventbridge-event"), soon())
        .await
        .unwrap_err();
    assert_eq!(failed.0.code, "skype_rate_limited");
    let batch = triggers::handle_within(&app, sample("sqs-batch"), soon())
        .await
        .unwrap();
    assert_eq!(
        batch["batchItemFailures"].as_array().unwrap().len(),
        2,
        "{batch}"
    );
    assert_eq!(
        delivered(),
        before,
        "nothing delivered, all of it owned by a caller or a queue"
    );

    // Skype's server error: 503, not delivered, caller told.
    world.fake.inject(Op::Send, Fault::Status(500), 1);
    let (status, body, headers) = http(&app, message("5xx"), soon()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("skype_unavailable"))
    );
    assert!(headers["retry-after"].is_string());
    assert_eq!(delivered(), before);

    // Slower than the invocation's deadline: 504 before Lambda's own
    // timeout. The message may still arrive; the retry re-sends with the
    // key's client id, which Skype de-duplicates: one message either way.
    let before = delivered();
    world
        .fake
        .inject(Op::Send, Fault::Slow(Duration::from_secs(3)), 1);
    let keyed = json!({"msg": "slow", "channel": "standup", "idempotency_key": "slow-1"});
    let started = std::time::Instant::now();
    let (status, body, _) =
        http(&app, keyed.clone(), Deadline::after(Duration::from_secs(3))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (504, Some("outcome_unknown"))
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    let (status, retried, _) = http(&app, keyed, soon()).await;
    assert_eq!(status, 200, "{retried}");
    tokio::time::sleep(Duration::from_secs(4).saturating_sub(started.elapsed())).await;
    let stored = world.fake.messages(GROUP);
    assert_eq!(
        stored.len(),
        before + 1,
        "the slow message and its retry are one message"
    );
    assert_eq!(stored.last().unwrap().id, retried["id"].as_str().unwrap());

    // A crash between Skype's answer and the idempotency record: the retry
    // takes the stale claim over and Skype de-duplicates the re-send.
    // Records are per caller and per target.
    let caller = ApiKeys::new(vec![KeyEntry::from_key("any name", API_KEY, None)])
        .authenticate(API_KEY)
        .unwrap();
    let (record, client_id) = idempotency::PostKey {
        scope: &caller.scope(),
        target: GROUP,
        part: idempotency::Part::Post,
        key: "crash-1",
    }
    .names();
    world
        .put_object(
            &format!("idempotency/{record}"),
            r#"{"state":"in_progress","started_at":1000}"#,
        )
        .await;
    let dead = SkypeClient::new(
        world.urls(),
        ClientOptions::default(),
        Some(Credentials::new("fred.adams@example.com", PASSWORD)),
    )
    .unwrap();
    let conversation = ConversationId::parse(GROUP).unwrap();
    let posted = dead
        .send_as(&conversation, &OutgoingMessage::rich("crash"), &client_id)
        .await
        .unwrap();
    secrets.session(&dead.session().unwrap());
    let before = delivered();
    let (status, body, _) = http(
        &app,
        json!({"msg": "crash", "channel": "standup", "idempotency_key": "crash-1"}),
        soon(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], posted.id.as_str());
    assert_eq!(delivered(), before, "not posted twice");

    // A login wall: 502 that says what to do, once; no loop of logins.
    let walled = container_with_expired_session(&world, &mut secrets).await;
    world.fake.inject(Op::Soap, Fault::LoginWall, 1);
    let soap = world.fake.count(Op::Soap);
    let (status, body, _) = http(&walled, message("wall"), soon()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (502, Some("skype_login_needs_browser"))
    );
    assert!(body["msg"].as_str().unwrap().contains("browser"));
    let (status, _, _) = http(&walled, message("wall again"), soon()).await;
    assert_eq!(status, 502);
    assert_eq!(
        world.fake.count(Op::Soap),
        soap + 1,
        "one login attempt, not a loop"
    );

    // Skype's login throttle (803): 503 with Retry-After, no retry inside
    // the window.
    let throttled = container_with_expired_session(&world, &mut secrets).await;
    world.fake.inject(Op::Soap, Fault::LoginRateLimit, 1);
    let soap = world.fake.count(Op::Soap);
    let (status, body, headers) = http(&throttled, message("803"), soon()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("skype_login_throttled"))
    );
    assert_eq!(headers["retry-after"], "300");
    assert_eq!(http(&throttled, message("803 again"), soon()).await.0, 503);
    assert_eq!(world.fake.count(Op::Soap), soap + 1);

    // S3 or Secrets Manager down: a quick 503, nothing sent.
    let nowhere = moto::sdk_config("http://127.0.0.1:1").await;
    let before = delivered();
    for (app, code) in [
        (
            world.app_with(&world.sdk, &nowhere, &RequestCounter::default(), &[]),
            "token_store_unavailable",
        ),
        (
            world.app_with(&nowhere, &world.sdk, &RequestCounter::default(), &[]),
            "secret_unavailable",
        ),
    ] {
        let (status, body, headers) = http(&app, message("outage"), soon()).await;
        assert_eq!((status, body["error"].as_str()), (503, Some(code)));
        assert!(headers["retry-after"].is_string());
    }
    assert_eq!(delivered(), before);

    if let Some(session) = stored_session(&world).await {
        secrets.session(&session);
    }
    let logs = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        logs.contains("Skype login failed"),
        "the logs were captured"
    );
    for secret in &secrets.0 {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret appeared in the logs"
        );
    }
}
