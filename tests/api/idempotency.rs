//! Delivered at most once per idempotency key: repeats answer the first
//! result, a concurrent repeat gets 409, a failure frees the key, and a
//! sender that died between Skype and its record is not posted twice.

use std::sync::Arc;
use std::time::Duration;

use fake_skype::{Account as FakeAccount, FakeSkype, Fault, Op};
use serde_json::{Value, json};
use skype_sender::app::{App, SendRequest};
use skype_sender::deadline::Deadline;
use skype_sender::domain::{Caller, ChannelNames, Content, Delivered, Format, MessageText};
use skype_sender::error::AppError;
use skype_sender::idempotency;
use skype_sender::skype::{
    ClientOptions, ConversationId, Credentials, OutgoingMessage, SkypeClient, SkypeUrls,
};

use crate::local_app;

const GROUP: &str = "19:0123456789abcdef0123456789abcdef@thread.skype";

fn secret() -> Value {
    json!({"username": "fred.adams@example.com", "password": "p&ss<w>rd", "api_keys": ["k"], "channels": {"standup": GROUP}})
}

async fn setup(name: &str) -> (FakeSkype, Arc<App>) {
    let fake = FakeSkype::start().await;
    fake.add_account(FakeAccount::fred());
    let app = Arc::new(local_app::app(&fake, &secret(), name, &[]));
    (fake, app)
}

/// Sends to "standup" as a trusted caller: that one target's result.
async fn send(app: &App, text: &str, key: Option<&str>) -> Result<Delivered, AppError> {
    let mut outcomes = app
        .send_within(&Caller::Trusted, &request(text, key), Deadline::default())
        .await?;
    outcomes.remove(0).result
}

fn request(text: &str, key: Option<&str>) -> SendRequest {
    SendRequest {
        channels: ChannelNames::one("standup"),
        content: Content::new(MessageText::parse(text).unwrap(), Format::Rich, vec![]),
        thread: None,
        idempotency_key: key.map(str::to_string),
    }
}

#[tokio::test]
async fn a_repeated_key_answers_the_first_result_and_posts_once() {
    let (fake, app) = setup("idem-repeat").await;
    let first = send(&app, "once", Some("k-1")).await.unwrap();
    let again = send(&app, "once", Some("k-1")).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(fake.messages(GROUP).len(), 1);
    // Without a key, nothing changes: two sends, two posts.
    send(&app, "twice", None).await.unwrap();
    send(&app, "twice", None).await.unwrap();
    assert_eq!(fake.messages(GROUP).len(), 3);
}

#[tokio::test]
async fn a_concurrent_duplicate_gets_409_while_the_first_is_in_flight() {
    let (fake, app) = setup("idem-concurrent").await;
    send(&app, "warm up", None).await.unwrap();
    fake.inject(Op::Send, Fault::Slow(Duration::from_millis(600)), 1);
    let first = {
        let app = app.clone();
        tokio::spawn(async move { send(&app, "slow", Some("k-2")).await })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    let err = send(&app, "slow", Some("k-2")).await.unwrap_err();
    assert_eq!(
        (err.status, err.code.as_str()),
        (409, "idempotency_key_in_progress")
    );
    assert!(err.retry_after.is_some() && err.is_retryable());
    let delivered = first.await.unwrap().unwrap();
    let later = send(&app, "slow", Some("k-2")).await.unwrap();
    assert_eq!(delivered.id, later.id);
    assert_eq!(fake.messages(GROUP).len(), 2);
}

#[tokio::test]
async fn a_failure_frees_the_key_for_the_retry() {
    let (fake, app) = setup("idem-failure").await;
    send(&app, "warm up", None).await.unwrap();
    fake.inject(Op::Send, Fault::Status(503), 1);
    let err = send(&app, "retry me", Some("k-3")).await.unwrap_err();
    assert_eq!(err.status, 503);
    send(&app, "retry me", Some("k-3")).await.unwrap();
    assert_eq!(fake.messages(GROUP).len(), 2);
}

#[tokio::test]
async fn a_sender_that_died_after_posting_is_not_posted_twice() {
    let (fake, app) = setup("idem-crash").await;
    // Skype's de-duplication of `clientmessageid` is not relied on.
    fake.set_dedupe(false);
    // The dead sender: it claimed the key long ago, posted with the key's
    // client id, and died before recording the result.
    // Records are per caller and per target.
    let (record, client_id) = idempotency::PostKey {
        scope: &Caller::Trusted.scope(),
        target: GROUP,
        part: idempotency::Part::Post,
        key: "k-4",
    }
    .names();
    let dir = std::env::temp_dir().join(format!("skype-sender-idem-crash-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("idempotency")).unwrap();
    std::fs::write(
        dir.join("idempotency").join(&record),
        r#"{"state":"in_progress","started_at":1000}"#,
    )
    .unwrap();
    let u = fake.urls();
    let urls = SkypeUrls {
        live: u.live,
        login: u.login,
        edge: u.edge,
        api: u.api,
        msgs: u.msgs,
        asm: u.asm,
    };
    let dead = SkypeClient::new(
        urls,
        ClientOptions::default(),
        Some(Credentials::new("fred.adams@example.com", "p&ss<w>rd")),
    )
    .unwrap();
    let conversation = ConversationId::parse(GROUP).unwrap();
    let posted = dead
        .send_as(
            &conversation,
            &OutgoingMessage::rich("reminder"),
            &client_id,
        )
        .await
        .unwrap();

    // Lambda retries the event: the stale claim is taken over, and the
    // conversation is read before anything is re-sent.
    let retried = send(&app, "reminder", Some("k-4")).await.unwrap();

    assert_eq!(retried.id, Some(posted.id));
    assert_eq!(fake.messages(GROUP).len(), 1, "posted once");
    let record = std::fs::read_to_string(dir.join("idempotency").join(&record)).unwrap();
    assert!(record.contains("\"done\""), "{record}");
}

#[tokio::test]
async fn redelivered_eventbridge_and_sqs_events_post_once() {
    let (fake, app) = setup("idem-triggers").await;
    let sample = |name: &str| -> Value {
        let path = format!("{}/events/{name}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    for _ in 0..3 {
        crate::handle(&app, sample("eventbridge-event"))
            .await
            .unwrap();
        crate::handle(&app, sample("sqs-batch")).await.unwrap();
    }
    let contents: Vec<String> = fake
        .messages(GROUP)
        .into_iter()
        .filter_map(|m| m.content)
        .collect();
    assert_eq!(contents.len(), 2, "{contents:?}");
}

/// An app whose Skype requests time out after `timeout`.
fn impatient_app(fake: &FakeSkype, name: &str, timeout: Duration) -> Arc<App> {
    let mut config = local_app::config(fake, &[]);
    config.skype_options.request_timeout = timeout;
    Arc::new(App::new(config, local_app::stores(&secret(), name)))
}

/// Skype took the message but its answer never came: the outcome is
/// unknown, and the retry finds the message instead of posting it again
/// (against a fake that, unlike Skype, does not de-duplicate).
#[tokio::test]
async fn an_unanswered_send_is_looked_up_not_posted_again() {
    for (name, fault) in [
        ("idem-late", Fault::AnswerLate(Duration::from_secs(2))),
        ("idem-dropped", Fault::DropAfterHandling),
    ] {
        let fake = FakeSkype::start().await;
        fake.add_account(FakeAccount::fred());
        fake.set_dedupe(false);
        let app = impatient_app(&fake, name, Duration::from_millis(500));
        send(&app, "warm up", None).await.unwrap();

        fake.inject(Op::Send, fault, 1);
        let err = send(&app, "deploy 42 done", Some("u-1")).await.unwrap_err();
        assert_eq!(
            (err.status, err.code.as_str()),
            (504, "outcome_unknown"),
            "{name}: {err:?}"
        );
        assert!(err.is_retryable(), "asynchronous triggers retry it");
        let stored = fake.messages(GROUP);
        assert_eq!(stored.len(), 2, "{name}: Skype took it");

        let retried = send(&app, "deploy 42 done", Some("u-1")).await.unwrap();
        assert_eq!(retried.id.as_deref(), Some(stored[1].id.as_str()), "{name}");
        let again = send(&app, "deploy 42 done", Some("u-1")).await.unwrap();
        assert_eq!(again, retried);
        assert_eq!(fake.messages(GROUP).len(), 2, "{name}: posted once");
    }
}

/// An unknown outcome that did not reach Skype is posted by the retry,
/// once.
#[tokio::test]
async fn an_unknown_outcome_that_never_arrived_is_posted_by_the_retry() {
    let fake = FakeSkype::start().await;
    fake.add_account(FakeAccount::fred());
    fake.set_dedupe(false);
    let app = impatient_app(&fake, "idem-lost", Duration::from_millis(300));
    send(&app, "warm up", None).await.unwrap();
    // Slow: the fake waits before handling, and the client hangs up first.
    fake.inject(Op::Send, Fault::Slow(Duration::from_secs(1)), 1);
    let err = send(&app, "lost", Some("u-2")).await.unwrap_err();
    assert_eq!(err.code, "outcome_unknown");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let before = fake.messages(GROUP).len();
    send(&app, "lost", Some("u-2")).await.unwrap();
    let after = fake.messages(GROUP);
    assert!(after.len() <= 3, "{after:?}");
    let with_text = after
        .iter()
        .filter(|m| m.content.as_deref() == Some("lost"))
        .count();
    assert_eq!(with_text, 1, "posted exactly once (before: {before})");
}
