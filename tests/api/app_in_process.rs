//! The use cases in-process, with an account read from the secret JSON
//! (the README's Configuration): scoped keys, aliases, timeouts and unknown
//! events, which the local-mode environment of the end-to-end tests cannot
//! express.

use std::time::Duration;

use crate::SendFresh;
use fake_skype::{Account as FakeAccount, FakeSkype, Fault, Op};
use lambda_harness::events;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use skype_sender::app::App;

use crate::local_app;

const GROUP: &str = "19:0123456789abcdef0123456789abcdef@thread.skype";
const OTHER: &str = "19:fedcba9876543210fedcba9876543210@thread.skype";

async fn app(fake: &FakeSkype, request_timeout: Duration) -> App {
    let secret = json!({
        "username": "fred.adams@example.com",
        "password": "p&ss<w>rd",
        "api_keys": [
            "admin-key",
            {"name": "ci", "sha256": hex::encode(Sha256::digest(b"ci-key")), "channels": ["standup"]}
        ],
        "channels": {"standup": GROUP, "ops": OTHER}
    });
    let name = format!("app-{}", request_timeout.as_millis());
    let mut config = local_app::config(fake, &[]);
    config.skype_options.request_timeout = request_timeout;
    App::new(config, local_app::stores(&secret, &name))
}

fn post(key: &str, channel: &str) -> Value {
    events::send_message(key, json!({"msg": "hello", "channel": channel}))
}

async fn status(app: &App, event: Value) -> (u16, Value) {
    events::status_and_body(&crate::handle(app, event).await.unwrap())
}

#[tokio::test]
async fn scoped_keys_post_only_to_their_channels() {
    let fake = FakeSkype::start().await;
    fake.add_account(FakeAccount::fred());
    let app = app(&fake, Duration::from_secs(2)).await;

    assert_eq!(status(&app, post("ci-key", "standup")).await.0, 200);
    assert_eq!(
        status(&app, post("ci-key", GROUP)).await.0,
        200,
        "the id behind an allowed alias"
    );
    let (code, body) = status(&app, post("ci-key", "ops")).await;
    assert_eq!(
        (code, body["error"].as_str()),
        (403, Some("channel_not_allowed"))
    );
    let (code, _) = status(&app, post("ci-key", "8:fred.2")).await;
    assert_eq!(code, 403);
    assert_eq!(status(&app, post("admin-key", "ops")).await.0, 200);
    assert_eq!(status(&app, post("sha-of-nothing", "ops")).await.0, 401);
    assert_eq!(fake.messages(GROUP).len(), 2);
    assert_eq!(fake.messages(OTHER).len(), 1);
}

#[tokio::test]
async fn a_slow_skype_is_a_504_and_unknown_events_are_named() {
    let fake = FakeSkype::start().await;
    fake.add_account(FakeAccount::fred());
    let app = app(&fake, Duration::from_millis(300)).await;
    assert_eq!(status(&app, post("admin-key", "standup")).await.0, 200);

    fake.inject(Op::Send, Fault::Slow(Duration::from_secs(2)), 1);
    let (code, body) = status(&app, post("admin-key", "standup")).await;
    // The post left and no answer came: it may have been posted.
    assert_eq!(
        (code, body["error"].as_str()),
        (504, Some("outcome_unknown"))
    );

    for event in [
        json!({"hello": "world"}),
        json!([1, 2]),
        json!("text"),
        json!(null),
    ] {
        let err = crate::handle(&app, event.clone()).await.unwrap_err();
        assert_eq!(err.0.code, "unknown_event", "{event}");
        assert!(err.0.message.contains("expected"));
    }
    let err = crate::handle(&app, json!({"action": "reboot"}))
        .await
        .unwrap_err();
    assert_eq!(err.0.code, "unknown_action");
}

// ---- Issue 11: authorization, key identity, bounded sizes -------------

/// Keys of several kinds on the same channels: an unscoped admin, two
/// keys scoped to `standup`, and an unscoped key *named* "aws".
fn shared_secret(keys: Value) -> Value {
    json!({
        "username": "fred.adams@example.com",
        "password": "p&ss<w>rd",
        "api_keys": keys,
        "channels": {
            "standup": GROUP,
            "ops": OTHER,
            "alerts": {"kind": "slack-webhook", "url": "https://hooks.example.test/services/T/B/x"}
        }
    })
}

fn team_keys() -> Value {
    json!([
        "admin-key",
        {"name": "ci", "sha256": hex::encode(Sha256::digest(b"ci-key")), "channels": ["standup"]},
        {"name": "deploy", "key": "deploy-key", "channels": ["standup"]},
        {"name": "aws", "key": "aws-named-key"}
    ])
}

/// An app whose records live in `dir`, kept across apps (containers)
/// so that a changed secret can be tried against earlier records.
fn app_in(fake: &FakeSkype, secret: &Value, dir: &std::path::Path) -> App {
    App::new(
        local_app::config(fake, &[]),
        local_app::stores_in(secret, dir),
    )
}

/// A fake Skype and an app with [`team_keys`], records in a fresh folder.
async fn team(name: &str) -> (FakeSkype, App) {
    let fake = FakeSkype::start().await;
    fake.add_account(FakeAccount::fred());
    let app = app_in(&fake, &shared_secret(team_keys()), &fresh_dir(name));
    (fake, app)
}

fn fresh_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("skype-sender-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn keyed(key: &str, body: Value, idempotency_key: &str) -> Value {
    events::http_v2(
        "POST",
        "/send-message",
        json!({"content-type": "application/json", "x-api-key": key, "idempotency-key": idempotency_key}),
        &body.to_string(),
    )
}

fn change(key: &str, method: &str, id: &str, body: Value) -> Value {
    events::http_v2(
        method,
        &format!("/messages/{id}"),
        json!({"content-type": "application/json", "x-api-key": key}),
        &body.to_string(),
    )
}

#[tokio::test]
async fn only_the_poster_may_change_a_message() {
    let (fake, app) = team("owner-only").await;
    let hello = json!({"msg": "v1", "channel": "standup"});
    let (code, posted) = status(&app, keyed("ci-key", hello.clone(), "ci-1")).await;
    assert_eq!(code, 200, "{posted}");
    let ci_id = posted["id"].as_str().unwrap().to_string();
    let edit = json!({"channel": "standup", "msg": "not yours"});

    // Another key scoped to the same channel: not by id, not by key.
    for method in ["PATCH", "DELETE"] {
        let (code, body) = status(&app, change("deploy-key", method, &ci_id, edit.clone())).await;
        assert_eq!(
            (code, body["error"].as_str()),
            (403, Some("not_own_message")),
            "{method} {body}"
        );
        assert!(!body["msg"].as_str().unwrap().contains(GROUP), "{body}");
    }
    let (code, _) = status(
        &app,
        change("deploy-key", "PATCH", "key:ci-1", edit.clone()),
    )
    .await;
    assert_eq!(code, 404, "deploy never posted with ci-1");
    let stored = fake.messages(GROUP).pop().unwrap();
    assert_eq!(
        (stored.content.as_deref(), stored.edited),
        (Some("v1"), false)
    );

    // The poster, by id and by its key.
    let mine = json!({"channel": "standup", "msg": "v2"});
    assert_eq!(
        status(&app, change("ci-key", "PATCH", &ci_id, mine.clone()))
            .await
            .0,
        200
    );
    assert_eq!(
        status(&app, change("ci-key", "PATCH", "key:ci-1", mine))
            .await
            .0,
        200
    );

    // A scoped key's post without an idempotency key has no owner record.
    let (_, unkeyed) = status(&app, post("ci-key", "standup")).await;
    let unkeyed_id = unkeyed["id"].as_str().unwrap();
    let (code, _) = status(
        &app,
        change(
            "ci-key",
            "DELETE",
            unkeyed_id,
            json!({"channel": "standup"}),
        ),
    )
    .await;
    assert_eq!(code, 403);

    // Unscoped keys may change any message the bot posted.
    for id in [unkeyed_id, ci_id.as_str()] {
        let (code, body) = status(
            &app,
            change("admin-key", "DELETE", id, json!({"channel": "standup"})),
        )
        .await;
        assert_eq!(code, 200, "{body}");
    }
    assert!(fake.messages(GROUP).iter().all(|m| m.deleted));
}

#[tokio::test]
async fn a_keys_records_follow_the_key_not_its_place_or_name() {
    let fake = FakeSkype::start().await;
    fake.add_account(FakeAccount::fred());
    let dir = fresh_dir("key-identity");
    let before = app_in(&fake, &shared_secret(json!(["k-one", "k-two"])), &dir);
    let hello = json!({"msg": "deploy 42", "channel": "standup"});
    let (code, first) = status(&before, keyed("k-one", hello.clone(), "deploy-42")).await;
    assert_eq!(code, 200, "{first}");

    // A key is inserted at the front: "k-one" is no longer the first key.
    let after = app_in(&fake, &shared_secret(json!(["k-new", "k-one"])), &dir);
    let (code, again) = status(&after, keyed("k-one", hello.clone(), "deploy-42")).await;
    assert_eq!((code, &again["id"]), (200, &first["id"]), "{again}");
    assert_eq!(
        fake.messages(GROUP).len(),
        1,
        "the retry did not post twice"
    );

    // The new first key has a scope of its own.
    let (code, _) = status(
        &after,
        change(
            "k-new",
            "PATCH",
            "key:deploy-42",
            json!({"channel": "standup", "msg": "x"}),
        ),
    )
    .await;
    assert_eq!(code, 404, "k-new never posted deploy-42");
    let (code, theirs) = status(&after, keyed("k-new", hello, "deploy-42")).await;
    assert_eq!(code, 200);
    assert_ne!(theirs["id"], first["id"]);
    assert_eq!(fake.messages(GROUP).len(), 2);
}

#[tokio::test]
async fn no_key_shares_the_scope_of_the_aws_triggers() {
    let (fake, app) = team("aws-scope").await;
    let record = json!({"Records": [{
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "eventSource": "aws:sqs",
        "body": json!({"msg": "from the queue", "channel": "standup"}).to_string(),
    }]});
    let answer = crate::handle(&app, record).await.unwrap();
    assert_eq!(answer["batchItemFailures"], json!([]), "{answer}");
    // A key named "aws" reuses the SQS message id as its idempotency key.
    let (code, body) = status(
        &app,
        keyed(
            "aws-named-key",
            json!({"msg": "from the key", "channel": "standup"}),
            "059f36b4-87a3-44ab-83d2-661975830a7d",
        ),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let contents: Vec<_> = fake
        .messages(GROUP)
        .into_iter()
        .filter_map(|m| m.content)
        .collect();
    assert_eq!(contents, ["from the queue", "from the key"]);
}

#[tokio::test]
async fn scoped_keys_learn_nothing_about_hidden_conversations_or_traffic() {
    let (_fake, app) = team("scoped-health").await;
    let (code, body) = status(&app, post("ci-key", "ops")).await;
    assert_eq!(code, 403);
    let msg = body["msg"].as_str().unwrap();
    assert!(msg.contains("ops") && !msg.contains(OTHER), "{msg}");

    assert_eq!(status(&app, post("admin-key", "standup")).await.0, 200);
    let health = |key: &str| events::http_v2("GET", "/health", json!({"x-api-key": key}), "");
    let (code, scoped) = status(&app, health("ci-key")).await;
    assert_eq!(code, 200);
    let mut fields: Vec<_> = scoped.as_object().unwrap().keys().cloned().collect();
    fields.sort();
    assert_eq!(fields, ["msg", "ok"], "{scoped}");
    let (_, admin) = status(&app, health("admin-key")).await;
    assert!(
        admin["session"].is_object() && admin["last_post_at"].is_u64(),
        "{admin}"
    );
}

#[tokio::test]
async fn a_message_too_long_once_rendered_is_refused_before_posting() {
    let (fake, app) = team("rendered-size").await;
    // 20 000 characters as written: within the input limit; five times
    // that once `&` is escaped.
    let text = "&".repeat(20_000);
    for channel in ["standup", "alerts"] {
        let (code, body) = status(
            &app,
            events::send_message(
                "admin-key",
                json!({"msg": text, "channel": channel, "format": "plain"}),
            ),
        )
        .await;
        assert_eq!(
            (code, body["error"].as_str()),
            (413, Some("message_too_long")),
            "{channel}: {body}"
        );
        let msg = body["msg"].as_str().unwrap();
        assert!(msg.contains("100000") && msg.contains("rendered"), "{msg}");
    }
    // Mentions add to the size too.
    let mentions: Vec<String> = (0..50)
        .map(|i| format!("8:live:{}", "m".repeat(40) + &i.to_string()))
        .collect();
    let (code, body) = status(
        &app,
        events::send_message(
            "admin-key",
            json!({"msg": "x".repeat(27_000), "channel": "standup", "mentions": mentions}),
        ),
    )
    .await;
    assert_eq!(code, 413, "{body}");
    assert!(fake.messages(GROUP).is_empty(), "nothing was posted");
}

#[tokio::test]
async fn a_caption_record_cannot_be_named_by_a_caller_key() {
    let (fake, app) = team("caption-key").await;
    let file = json!({"name": "notes.txt", "content_base64": "aGVsbG8gd29ybGQ="});
    let (code, body) = status(
        &app,
        events::http_v2(
            "POST",
            "/send-file",
            json!({"content-type": "application/json", "x-api-key": "admin-key", "idempotency-key": "k"}),
            &json!({"channel": "standup", "file": file, "caption": "the notes"}).to_string(),
        ),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    // A newline cannot be in a header: the key goes in the body.
    let (code, body) = status(
        &app,
        events::send_message(
            "admin-key",
            json!({"msg": "a message of its own", "channel": "standup", "idempotency_key": "k\ncaption"}),
        ),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let contents: Vec<_> = fake
        .messages(GROUP)
        .into_iter()
        .filter_map(|m| m.content)
        .collect();
    assert_eq!(contents.len(), 3, "{contents:?}");
    assert_eq!(contents[2], "a message of its own");
}

#[tokio::test]
async fn a_session_refused_twice_is_retryable() {
    let fake = FakeSkype::start().await;
    fake.add_account(FakeAccount::fred());
    let app = app(&fake, Duration::from_secs(2)).await;
    assert_eq!(status(&app, post("admin-key", "standup")).await.0, 200);
    fake.inject(Op::Send, Fault::Unauthorized, 2);
    let (code, body) = status(&app, post("admin-key", "standup")).await;
    assert_eq!(
        (code, body["error"].as_str()),
        (503, Some("skype_session_refused")),
        "{body}"
    );
    assert!(body["retry_after"].is_u64(), "{body}");
    // Async triggers retry it (a function error), and the retry posts.
    let err = crate::handle(&app, json!({"msg": "direct", "channel": "standup"})).await;
    assert!(err.is_ok(), "the fault is spent: {err:?}");
}

#[tokio::test]
async fn an_oversized_header_map_is_refused_before_it_is_built() {
    let fake = FakeSkype::start().await;
    fake.add_account(FakeAccount::fred());
    let app = app(&fake, Duration::from_secs(2)).await;
    let mut event = post("admin-key", "standup");
    let headers = event["headers"].as_object_mut().unwrap();
    for i in 0..100_000 {
        headers.insert(format!("x-h{i}"), json!("v"));
    }
    let (code, body) = status(&app, event).await;
    assert_eq!(
        (code, body["error"].as_str()),
        (431, Some("headers_too_large")),
        "{body}"
    );
    assert!(fake.messages(GROUP).is_empty());
}

/// After a login wall, a warm container picks up the session an operator
/// uploads (the README's fix) within seconds, and the keep-alive reports
/// the block until then.
#[tokio::test]
async fn a_session_uploaded_after_a_login_wall_is_used_at_once() {
    use skype_sender::skype::{
        ClientOptions, ConversationId, Credentials, OutgoingMessage, SkypeClient, write_token_file,
    };
    let fake = FakeSkype::start().await;
    fake.add_account(FakeAccount::fred());
    let dir = fresh_dir("wall-upload");
    let secret = shared_secret(team_keys());
    let mut config = local_app::config(&fake, &[]);
    config.skype_options.stored_session_interval = Duration::from_millis(200);
    let app = App::new(config, local_app::stores_in(&secret, &dir));
    assert_eq!(status(&app, post("admin-key", "standup")).await.0, 200);

    // Skype revokes the session and shows the next login a wall.
    fake.expire_skype_tokens();
    fake.expire_registrations();
    fake.inject(Op::Soap, Fault::LoginWall, 1);
    let (code, body) = status(&app, post("admin-key", "standup")).await;
    assert_eq!(
        (code, body["error"].as_str()),
        (502, Some("skype_login_needs_browser")),
        "{body}"
    );
    let refresh = crate::handle(&app, json!({"action": "refresh"})).await;
    assert_eq!(
        refresh.map_err(|err| err.0.code.as_str()),
        Err("skype_login_needs_browser"),
        "the keep-alive reports the block"
    );

    // An operator logs in from a browser's machine and uploads the session.
    let operator = SkypeClient::new(
        local_app::skype_urls(&fake),
        ClientOptions::default(),
        Some(Credentials::new("fred.adams@example.com", "p&ss<w>rd")),
    )
    .unwrap();
    operator
        .send(
            &ConversationId::parse(OTHER).unwrap(),
            &OutgoingMessage::plain("operator here"),
        )
        .await
        .unwrap();
    std::fs::write(
        dir.join("token"),
        write_token_file(&operator.session().unwrap()),
    )
    .unwrap();
    let logins = fake.logins();

    tokio::time::sleep(Duration::from_millis(300)).await;
    let (code, body) = status(&app, post("admin-key", "standup")).await;
    assert_eq!(code, 200, "the uploaded session is used: {body}");
    assert_eq!(fake.logins(), logins, "without a login of its own");
    let refresh = crate::handle(&app, json!({"action": "refresh"}))
        .await
        .unwrap();
    assert_eq!(refresh["ok"], true, "{refresh}");
}

/// A Skype host that redirects the send elsewhere: 502 `skype_bad_answer`,
/// and the other host never hears of it; a 150 MB answer is a bad answer,
/// not a 150 MB read.
#[tokio::test]
async fn hostile_skype_answers_are_bad_answers_and_go_nowhere() {
    let fake = FakeSkype::start().await;
    fake.add_account(FakeAccount::fred());
    let app = app(&fake, Duration::from_secs(5)).await;
    assert_eq!(status(&app, post("admin-key", "standup")).await.0, 200);

    let elsewhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let target = format!(
        "http://{}/v1/users/ME/conversations/x/messages",
        elsewhere.local_addr().unwrap()
    );
    for code in [301, 302, 307, 308] {
        fake.inject(Op::Send, Fault::redirect(code, target.clone()), 1);
        let (status, body) = status(&app, post("admin-key", "standup")).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (502, Some("skype_bad_answer")),
            "{code}: {body}"
        );
    }
    assert!(
        elsewhere.accept().is_err(),
        "nothing reached the other host"
    );

    fake.inject(
        Op::Send,
        Fault::HugeBody {
            status: 500,
            bytes: 150 * 1024 * 1024,
        },
        1,
    );
    let started = std::time::Instant::now();
    let (status, body) = status(&app, post("admin-key", "standup")).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the body was not read whole"
    );
}

/// A new stack's secret, as `template.yaml` writes it, before anyone
/// fills it in: every route and trigger says `not_configured` (503), and
/// nothing ever tries to log in (which would fire the login alarms on each
/// keep-alive).
#[tokio::test]
async fn a_new_stacks_placeholder_secret_is_not_configured_and_never_logs_in() {
    let fake = FakeSkype::start().await;
    fake.add_account(FakeAccount::fred());
    let template =
        std::fs::read_to_string(lambda_harness::repo_root().join("template.yaml")).unwrap();
    let placeholder = template
        .lines()
        .find_map(|line| line.trim().strip_prefix("SecretString: "))
        .expect("the template's secret has a SecretString");
    let secret: Value = serde_json::from_str(placeholder.trim_matches('\'')).unwrap();
    assert!(placeholder.contains(skype_sender::state::PLACEHOLDER));
    let app = local_app::app(&fake, &secret, "placeholder", &[]);

    let health = events::http_v2("GET", "/health", json!({"x-api-key": "any"}), "");
    for event in [post("any", "standup"), health] {
        let (code, body) = status(&app, event).await;
        assert_eq!(
            (code, body["error"].as_str()),
            (503, Some("not_configured")),
            "{body}"
        );
        assert!(body["msg"].as_str().unwrap().contains("secret"), "{body}");
    }
    let direct = crate::handle(&app, json!({"msg": "hi", "channel": GROUP}))
        .await
        .unwrap_err();
    assert_eq!(direct.0.code.as_str(), "not_configured");
    // The keep-alive answers, so the schedule neither retries nor
    // dead-letters it.
    let refresh = crate::handle(&app, json!({"action": "refresh"}))
        .await
        .unwrap();
    assert_eq!(
        (&refresh["ok"], &refresh["error"]),
        (&json!(false), &json!("not_configured"))
    );
    assert_eq!(fake.logins(), 0, "no login is tried");
    assert_eq!(fake.request_count(), 0, "Skype is not even asked");
}
