//! The channel registry end to end (in process, real HTTP to the fakes):
//! aliases of Skype conversations, Teams Workflows and Slack webhooks, and
//! fan-out to several with one result per target, retried per target.

use fake_skype::{Account as FakeAccount, FakeSkype};
use fake_webhooks::{FakeWebhooks, Fault, Hook};
use lambda_harness::events::{http_v2, send_message, status_and_body};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use skype_sender::app::App;
use skype_sender::triggers;

use crate::local_app;

const GROUP: &str = "19:0123456789abcdef0123456789abcdef@thread.skype";
const OTHER: &str = "19:fedcba9876543210fedcba9876543210@thread.skype";
const SLACK: &str = "T0001/B0001/s3cr3tSlackPath";
const ADMIN: &str = "admin-key";
const CI: &str = "ci-key";

struct World {
    skype: FakeSkype,
    hooks: FakeWebhooks,
    app: App,
}

async fn world(name: &str) -> World {
    let skype = FakeSkype::start().await;
    skype.add_account(FakeAccount::fred());
    let hooks = FakeWebhooks::start().await;
    let secret = json!({
        "username": "fred.adams@example.com",
        "password": "p&ss<w>rd",
        "api_keys": [
            ADMIN,
            {"name": "ci", "sha256": hex::encode(Sha256::digest(CI.as_bytes())), "channels": ["standup", "alerts"]}
        ],
        "channels": {
            "standup": GROUP,
            "ops": {"kind": "teams-workflow", "url": hooks.teams_url("flow-1")},
            "alerts": {"kind": "slack-webhook", "url": hooks.slack_url(SLACK)},
            "everyone": ["standup", "ops", "alerts"],
        }
    });
    let app = local_app::app(&skype, &secret, &format!("channels-{name}"), &[]);
    World { skype, hooks, app }
}

impl World {
    async fn post(&self, key: &str, body: Value) -> (u16, Value) {
        let response = crate::handle(&self.app, send_message(key, body))
            .await
            .unwrap();
        status_and_body(&response)
    }

    fn slack_texts(&self) -> Vec<String> {
        self.received(|hook| matches!(hook, Hook::Slack(_)))
            .iter()
            .map(|json| json["text"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    fn teams_cards(&self) -> Vec<Value> {
        self.received(|hook| matches!(hook, Hook::Teams(_)))
    }

    fn received(&self, which: impl Fn(&Hook) -> bool) -> Vec<Value> {
        self.hooks
            .received()
            .into_iter()
            .filter(|r| which(&r.hook))
            .map(|r| r.json)
            .collect()
    }
}

#[tokio::test]
async fn a_webhook_alias_keeps_the_one_curl_api() {
    let w = world("one-curl").await;
    let (status, body) = w
        .post(
            ADMIN,
            json!({"msg": "**deploy** done", "channel": "alerts", "format": "markdown"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "posted");
    assert_eq!(body["channel"], "alerts", "the alias, never the URL");
    assert_eq!(w.slack_texts(), ["*deploy* done"], "mrkdwn for Slack");

    let (status, body) = w
        .post(
            ADMIN,
            json!({"msg": "**deploy** done", "channel": "ops", "format": "markdown"}),
        )
        .await;
    assert_eq!(status, 202, "Teams only accepts: {body}");
    assert_eq!(body["status"], "accepted");
    assert!(body["msg"].as_str().unwrap().contains("Teams"), "{body}");
    let cards = w.teams_cards();
    assert_eq!(cards.len(), 1);
    let card = &cards[0]["attachments"][0]["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["body"][0]["text"], "**deploy** done");
    assert!(w.skype.messages(GROUP).is_empty(), "nothing went to Skype");
}

#[tokio::test]
async fn a_fan_out_answers_per_target_and_a_retry_posts_only_where_it_failed() {
    let w = world("fan-out").await;
    w.hooks.inject(
        Hook::Slack(SLACK.into()),
        Fault::slack(500, "rollup_error"),
        1,
    );
    let request =
        json!({"msg": "release 1.2", "channel": "everyone", "idempotency_key": "rel-1.2"});
    let (status, body) = w.post(ADMIN, request.clone()).await;
    assert_eq!(status, 207, "{body}");
    assert_eq!(body["error"], "partial_failure");
    let results = body["results"].as_array().unwrap();
    let by_channel = |name: &str| {
        results
            .iter()
            .find(|r| r["channel"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no result for {name}: {body}"))
    };
    assert_eq!(by_channel(GROUP)["ok"], true);
    assert!(by_channel(GROUP)["id"].is_string());
    assert_eq!(by_channel("ops")["status"], "accepted");
    let slack = by_channel("alerts");
    assert_eq!(
        (&slack["ok"], &slack["status_code"], &slack["error"]),
        (&json!(false), &json!(503), &json!("webhook_unavailable"))
    );

    // The retry with the same key: Skype and Teams answer from the record,
    // only Slack is posted to.
    let (status, body) = w.post(ADMIN, request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(w.skype.messages(GROUP).len(), 1, "Skype not posted twice");
    assert_eq!(w.teams_cards().len(), 1, "Teams not posted twice");
    assert_eq!(w.slack_texts(), ["release 1.2"]);
}

#[tokio::test]
async fn a_list_of_channels_fans_out_and_names_each_once() {
    let w = world("list").await;
    let (status, body) = w
        .post(
            ADMIN,
            json!({"msg": "hi all", "channel": ["standup", OTHER, GROUP]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"].as_array().unwrap().len(), 2, "{body}");
    assert_eq!(w.skype.messages(GROUP).len(), 1);
    assert_eq!(w.skype.messages(OTHER).len(), 1);
}

#[tokio::test]
async fn when_every_target_fails_the_answer_is_their_common_failure() {
    let w = world("all-fail").await;
    w.hooks.delete(&Hook::Slack(SLACK.into()));
    w.hooks.delete(&Hook::Teams("flow-1".into()));
    let (status, body) = w
        .post(ADMIN, json!({"msg": "x", "channel": ["ops", "alerts"]}))
        .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"], "all_failed");
    for result in body["results"].as_array().unwrap() {
        assert_eq!(result["error"], "webhook_revoked", "{body}");
    }
}

#[tokio::test]
async fn an_unknown_alias_names_only_the_aliases_the_key_may_use() {
    let w = world("unknown").await;
    let (status, body) = w.post(CI, json!({"msg": "x", "channel": "standupp"})).await;
    assert_eq!((status, &body["error"]), (400, &json!("unknown_channel")));
    let msg = body["msg"].as_str().unwrap();
    assert!(msg.contains("standup") && msg.contains("alerts"), "{msg}");
    assert!(
        !msg.contains("ops") && !msg.contains("everyone"),
        "not another key's: {msg}"
    );
    let (_, body) = w
        .post(ADMIN, json!({"msg": "x", "channel": "standupp"}))
        .await;
    assert!(body["msg"].as_str().unwrap().contains("everyone"), "{body}");
}

#[tokio::test]
async fn a_scoped_key_cannot_fan_out_past_its_channels() {
    let w = world("scoped").await;
    let (status, body) = w.post(CI, json!({"msg": "x", "channel": "everyone"})).await;
    assert_eq!(
        (status, &body["error"]),
        (403, &json!("channel_not_allowed"))
    );
    assert!(w.skype.messages(GROUP).is_empty(), "nothing posted");
    assert!(w.hooks.received().is_empty(), "nothing posted");
    let (status, body) = w
        .post(CI, json!({"msg": "x", "channel": ["standup", "alerts"]}))
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn webhook_urls_never_appear_in_answers() {
    let w = world("secret-urls").await;
    w.hooks.inject(
        Hook::Slack(SLACK.into()),
        Fault::slack(403, "invalid_token"),
        1,
    );
    w.hooks.inject(
        Hook::Teams("flow-1".into()),
        Fault::azure(404, "WorkflowNotFound"),
        1,
    );
    let mut answers = Vec::new();
    for channel in [json!("alerts"), json!("ops"), json!("everyone")] {
        answers.push(w.post(ADMIN, json!({"msg": "x", "channel": channel})).await);
    }
    answers.push(w.post(ADMIN, json!({"msg": "x", "channel": "nope"})).await);
    let shown = format!("{answers:?}");
    assert!(shown.contains("webhook_revoked"), "{shown}");
    for secret in [
        "s3cr3tSlackPath",
        "sig=",
        "/services/",
        "/workflows/",
        "127.0.0.1",
    ] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
}

#[tokio::test]
async fn files_go_to_skype_conversations_only() {
    let w = world("files").await;
    let body = json!({
        "channel": "alerts",
        "file": {"name": "a.txt", "content_base64": "aGVsbG8="},
    });
    let event = http_v2(
        "POST",
        "/send-file",
        json!({"content-type": "application/json", "x-api-key": ADMIN}),
        &body.to_string(),
    );
    let (status, body) = status_and_body(&crate::handle(&w.app, event).await.unwrap());
    assert_eq!(
        (status, &body["error"]),
        (400, &json!("files_not_supported"))
    );
    assert!(w.hooks.received().is_empty());
}

#[tokio::test]
async fn an_sqs_fan_out_retries_only_the_failed_target() {
    let w = world("sqs").await;
    w.hooks.inject(
        Hook::Teams("flow-1".into()),
        Fault::azure(503, "ServiceUnavailable"),
        1,
    );
    let batch = json!({"Records": [{
        "messageId": "m-1",
        "eventSource": "aws:sqs",
        "body": json!({"msg": "queued", "channel": "everyone"}).to_string(),
    }]});
    let answer = crate::handle(&w.app, batch.clone()).await.unwrap();
    assert_eq!(
        answer["batchItemFailures"],
        json!([{"itemIdentifier": "m-1"}])
    );
    // SQS redelivers the record: the message id is the idempotency key.
    let answer = crate::handle(&w.app, batch).await.unwrap();
    assert_eq!(answer["batchItemFailures"], json!([]));
    assert_eq!(w.skype.messages(GROUP).len(), 1);
    assert_eq!(w.slack_texts().len(), 1);
    assert_eq!(w.teams_cards().len(), 1);
}

/// A webhook post that got no answer may have been posted, and Slack
/// cannot be asked: the retry with the same key posts nothing and says
/// so; a new key posts.
#[tokio::test]
async fn an_unanswered_webhook_post_is_never_posted_twice_without_being_asked() {
    let world = world("webhook-unknown").await;
    let slack = Hook::Slack(SLACK.to_string());
    world.hooks.inject(
        slack,
        Fault::Delay(std::time::Duration::from_millis(1500)),
        1,
    );
    let request = |key: &str| {
        let mut event = send_message(ADMIN, json!({"msg": "deploy done", "channel": "alerts"}));
        event["headers"]["idempotency-key"] = json!(key);
        event
    };
    // 1.9 s, of which 1.5 s are kept to answer: 400 ms for the post.
    let deadline = skype_sender::deadline::Deadline::after(std::time::Duration::from_millis(1900));
    let first = triggers::handle_within(&world.app, request("hook-1"), deadline)
        .await
        .unwrap();
    let (status, body) = status_and_body(&first);
    assert_eq!(
        (status, body["error"].as_str()),
        (504, Some("outcome_unknown")),
        "{body}"
    );
    // Whether the slow post lands or not, the retry must not post.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let landed = world.slack_texts().len();

    let (status, body) = world
        .post(
            ADMIN,
            json!({"msg": "deploy done", "channel": "alerts", "idempotency_key": "hook-1"}),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("earlier_outcome_unknown")),
        "{body}"
    );
    assert!(
        body["msg"]
            .as_str()
            .unwrap()
            .contains("new idempotency key"),
        "{body}"
    );
    assert!(
        body.get("retry_after").is_none(),
        "waiting does not help: {body}"
    );
    assert_eq!(world.slack_texts().len(), landed, "not posted again");

    let (status, _) = status_and_body(&crate::handle(&world.app, request("hook-2")).await.unwrap());
    assert_eq!(status, 200, "a new key posts");
    assert_eq!(world.slack_texts().len(), landed + 1);
}
