//! The use cases in-process, with an account read from the secret JSON of
//! design.md: scoped keys, aliases, timeouts and unknown events, which the
//! local-mode environment of the end-to-end tests cannot express.

#[allow(dead_code)]
#[path = "support/events.rs"]
mod events;
#[allow(dead_code)]
#[path = "support/fake_skype/mod.rs"]
mod fake_skype;
#[allow(dead_code)]
#[path = "support/local_app.rs"]
mod local_app;

use std::time::Duration;

use fake_skype::{Account as FakeAccount, FakeSkype, Fault, Op};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use skype_sender::app::App;
use skype_sender::triggers;

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
    events::status_and_body(&triggers::handle(app, event).await.unwrap())
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
    assert_eq!((code, body["error"].as_str()), (504, Some("skype_timeout")));

    for event in [
        json!({"hello": "world"}),
        json!([1, 2]),
        json!("text"),
        json!(null),
    ] {
        let err = triggers::handle(&app, event.clone()).await.unwrap_err();
        assert_eq!(err.0.code, "unknown_event", "{event}");
        assert!(err.0.message.contains("expected"));
    }
    let err = triggers::handle(&app, json!({"action": "reboot"}))
        .await
        .unwrap_err();
    assert_eq!(err.0.code, "unknown_action");
}
