//! Slack (Web API), Discord (webhooks with ids) and Telegram (Bot API) end
//! to end in process: the Lambda entry point with API Gateway events, the
//! strict fakes of each (`crates/fake-slack`, `fake-discord`,
//! `fake-telegram`) over loopback HTTP. Per platform: post, reply in a
//! thread, edit, delete, a mention, a file or picture, a 429 paced within
//! the deadline, a revoked credential, and what a lost answer does to a
//! keyed post. And one key fanning out to every platform at once.

use base64::Engine;
use fake_discord::FakeDiscord;
use fake_skype::{Account as FakeAccount, FakeSkype};
use fake_slack::FakeSlack;
use fake_telegram::{ChatKind, FakeTelegram};
use serde_json::{Value, json};
use skype_sender::app::App;

use crate::local_app;

const KEY: &str = "bots-key";
const SLACK_TOKEN: &str = "xoxb-1111-2222-bots-secret";
const BOT_USER: &str = "U0BOT0001";
const SLACK_CHANNEL: &str = "C0BOTS001";
const TELEGRAM_TOKEN: &str = "123456789:AAH-bots-secret-token";
const GROUP_CHAT: i64 = -1001234567890;
const FORUM: i64 = -1009876543210;
const TOPIC: i64 = 42;
const GROUP: &str = "19:0123456789abcdef0123456789abcdef@thread.skype";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

struct World {
    slack: FakeSlack,
    discord: FakeDiscord,
    telegram: FakeTelegram,
    skype: FakeSkype,
    app: App,
    discord_url: String,
}

async fn world(name: &str) -> World {
    let slack = FakeSlack::start().await;
    slack.add_bot(SLACK_TOKEN, BOT_USER, "T0BOTS");
    slack.add_channel(SLACK_CHANNEL, "deploys");
    slack.join(SLACK_TOKEN, SLACK_CHANNEL);
    let discord = FakeDiscord::start().await;
    let discord_url = discord.add_webhook("1100000000000000001");
    discord.add_thread("1100000000000000001", "1200000000000000002");
    let telegram = FakeTelegram::start().await;
    telegram.add_bot(TELEGRAM_TOKEN, "sender_bot");
    telegram.add_chat(GROUP_CHAT, ChatKind::Supergroup { forum: false });
    telegram.add_member(TELEGRAM_TOKEN, GROUP_CHAT);
    telegram.add_chat(FORUM, ChatKind::Supergroup { forum: true });
    telegram.add_member(TELEGRAM_TOKEN, FORUM);
    telegram.add_topic(FORUM, TOPIC);
    let skype = FakeSkype::start().await;
    skype.add_account(FakeAccount::fred());
    let secret = json!({
        "username": "fred.adams@example.com",
        "password": "p&ss<w>rd",
        "api_keys": [KEY],
        "slack": {"bot_token": SLACK_TOKEN},
        "telegram": {"bot_token": TELEGRAM_TOKEN},
        "channels": {
            "deploys": {"kind": "slack", "channel": SLACK_CHANNEL},
            "discord": {"kind": "discord-webhook", "url": discord_url},
            "tg": {"kind": "telegram", "chat": GROUP_CHAT.to_string()},
            "tg-topic": {"kind": "telegram", "chat": FORUM, "topic": TOPIC},
            "standup": GROUP,
            "everywhere": ["standup", "deploys", "discord", "tg"],
        }
    });
    let env: Vec<(&str, String)> = slack
        .client_env()
        .into_iter()
        .chain(telegram.client_env())
        .collect();
    let overrides: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = local_app::app(&skype, &secret, &format!("bots-{name}"), &overrides);
    World {
        slack,
        discord,
        telegram,
        skype,
        app,
        discord_url,
    }
}

impl World {
    fn api(&self) -> local_app::Api<'_> {
        local_app::Api {
            app: &self.app,
            key: KEY,
        }
    }

    async fn file(&self, channel: &str, bytes: &[u8], name: &str) -> (u16, Value) {
        let content = base64::engine::general_purpose::STANDARD.encode(bytes);
        let body = json!({"channel": channel, "file": {"name": name, "content_base64": content}});
        self.api().call("POST", "/send-file", body).await
    }
}

/// No answer ever holds a token or webhook URL.
fn assert_no_secret(w: &World, body: &Value) {
    let text = body.to_string();
    for secret in [SLACK_TOKEN, TELEGRAM_TOKEN, w.discord_url.as_str()] {
        assert!(!text.contains(secret), "a secret leaked: {text}");
    }
    let discord_token = w.discord_url.rsplit('/').next().unwrap();
    assert!(
        !text.contains(discord_token),
        "the webhook token leaked: {text}"
    );
}

// ------------------------------------------------------------------ Slack

#[tokio::test]
async fn slack_post_thread_edit_delete_mention_and_file() {
    let w = world("slack").await;
    let (status, body) = w.api().post(json!({"msg": "**Deployed** v2", "format": "markdown", "channel": "deploys", "mentions": ["U0JOE0001"]}))
        .await;
    assert_eq!(status, 200, "{body}");
    let ts = body["id"].as_str().unwrap().to_string();
    let posted = w.slack.message(SLACK_CHANNEL, &ts).unwrap();
    assert_eq!(posted.text, "<@U0JOE0001> *Deployed* v2");
    assert!(posted.bot);
    let (status, reply) = w
        .api()
        .post(json!({"msg": "details", "channel": "deploys", "thread": ts}))
        .await;
    assert_eq!(status, 200, "{reply}");
    let reply = w
        .slack
        .message(SLACK_CHANNEL, reply["id"].as_str().unwrap())
        .unwrap();
    assert_eq!(reply.thread_ts.as_deref(), Some(ts.as_str()));
    assert_eq!(w.api().edit(&ts, "deploys", "Deployed v3").await.0, 200);
    let edited = w.slack.message(SLACK_CHANNEL, &ts).unwrap();
    assert!(edited.edited);
    assert_eq!(edited.text, "Deployed v3");
    assert_eq!(w.api().delete(&ts, "deploys").await.0, 200);
    assert!(w.slack.message(SLACK_CHANNEL, &ts).unwrap().deleted);
    let (status, again) = w.api().delete(&ts, "deploys").await;
    assert_eq!(
        (status, again["error"].as_str()),
        (404, Some("message_not_found")),
        "{again}"
    );
    let (status, file) = w.file("deploys", PNG, "chart.png").await;
    assert_eq!(status, 200, "{file}");
    let uploaded = w.slack.files();
    assert_eq!(uploaded.len(), 1);
    assert_eq!(uploaded[0].bytes, PNG);
    assert_eq!(uploaded[0].message_ts.as_deref(), file["id"].as_str());
    assert_no_secret(&w, &file);
}

#[tokio::test]
async fn slack_limits_rate_limits_and_revoked_tokens() {
    let w = world("slack-errors").await;
    let long = "x".repeat(40_001);
    w.api()
        .refused(
            json!({"msg": long, "channel": "deploys", "format": "plain"}),
            413,
            "message_too_long",
        )
        .await;
    assert_eq!(
        w.slack.count("chat.postMessage"),
        0,
        "refused before any call"
    );
    w.slack.inject(
        "chat.postMessage",
        fake_slack::Fault::RateLimited {
            retry_after_secs: 1,
        },
        1,
    );
    let (status, body) = w
        .api()
        .post(json!({"msg": "after the wait", "channel": "deploys"}))
        .await;
    assert_eq!(status, 200, "{body}");
    w.slack.revoke(SLACK_TOKEN);
    let body = w
        .api()
        .refused(
            json!({"msg": "revoked", "channel": "deploys"}),
            502,
            "auth_revoked",
        )
        .await;
    assert_no_secret(&w, &body);
}

#[tokio::test]
async fn slack_finds_a_lost_keyed_post_instead_of_posting_twice() {
    let w = world("slack-once").await;
    w.slack
        .inject("chat.postMessage", fake_slack::Fault::DropAfterHandling, 1);
    let keyed =
        json!({"msg": "exactly once", "channel": "deploys", "idempotency_key": "deploy-42"});
    w.api().refused(keyed.clone(), 504, "outcome_unknown").await;
    let (status, body) = w.api().post(keyed).await;
    assert_eq!(status, 200, "{body}");
    let live: Vec<_> = w
        .slack
        .messages(SLACK_CHANNEL)
        .into_iter()
        .filter(|m| !m.deleted)
        .collect();
    assert_eq!(live.len(), 1, "posted once");
    assert_eq!(body["id"].as_str(), Some(live[0].ts.as_str()));
}

// ---------------------------------------------------------------- Discord

#[tokio::test]
async fn discord_post_thread_edit_delete_mention_and_file() {
    let w = world("discord").await;
    let joe = "123456789012345678";
    let (status, body) = w.api().post(json!({"msg": "*deployed* @everyone", "format": "markdown", "channel": "discord", "mentions": [joe]}))
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let posted = w.discord.message(&id).unwrap();
    assert_eq!(posted.content, format!("<@{joe}> *deployed* \\@everyone"));
    assert_eq!(posted.pinged_users, [joe]);
    let thread = "1200000000000000002";
    let (status, in_thread) = w
        .api()
        .post(json!({"msg": "in the thread", "channel": "discord", "thread": thread}))
        .await;
    assert_eq!(status, 200, "{in_thread}");
    let thread_id = in_thread["id"].as_str().unwrap();
    assert!(thread_id.starts_with(&format!("{thread}:")), "{thread_id}");
    assert_eq!(
        w.api()
            .edit(thread_id, "discord", "edited in the thread")
            .await
            .0,
        200
    );
    assert_eq!(w.api().delete(thread_id, "discord").await.0, 200);
    assert_eq!(w.api().edit(&id, "discord", "edited").await.0, 200);
    assert_eq!(w.discord.message(&id).unwrap().content, "edited");
    assert_eq!(w.api().delete(&id, "discord").await.0, 200);
    let (status, again) = w.api().delete(&id, "discord").await;
    assert_eq!(
        (status, again["error"].as_str()),
        (404, Some("message_not_found")),
        "{again}"
    );
    let (status, file) = w.file("discord", b"%PDF-1.7 report", "report.pdf").await;
    assert_eq!(status, 200, "{file}");
    let sent = w.discord.message(file["id"].as_str().unwrap()).unwrap();
    assert_eq!(sent.attachments[0].filename, "report.pdf");
    assert_no_secret(&w, &file);
}

#[tokio::test]
async fn discord_limits_rate_limits_deleted_webhooks_and_lost_answers() {
    let w = world("discord-errors").await;
    w.api()
        .refused(
            json!({"msg": "x".repeat(2_001), "channel": "discord", "format": "plain"}),
            413,
            "message_too_long",
        )
        .await;
    w.discord.inject(
        fake_discord::Op::Execute,
        fake_discord::Fault::RateLimited {
            retry_after: 0.3,
            global: false,
        },
        1,
    );
    let (status, body) = w
        .api()
        .post(json!({"msg": "after the wait", "channel": "discord"}))
        .await;
    assert_eq!(status, 200, "{body}");
    w.discord.inject(
        fake_discord::Op::Execute,
        fake_discord::Fault::DropAfterHandling,
        1,
    );
    let keyed = json!({"msg": "lost", "channel": "discord", "idempotency_key": "k-1"});
    assert_eq!(
        w.api().post(keyed.clone()).await.1["error"],
        "outcome_unknown"
    );
    w.api().refused(keyed, 409, "earlier_outcome_unknown").await;
    w.discord.delete_webhook(&w.discord_url);
    let body = w
        .api()
        .refused(
            json!({"msg": "gone", "channel": "discord"}),
            502,
            "auth_revoked",
        )
        .await;
    assert_no_secret(&w, &body);
}

// --------------------------------------------------------------- Telegram

#[tokio::test]
async fn telegram_post_reply_topic_edit_delete_mention_and_files() {
    let w = world("telegram").await;
    let (status, body) = w.api().post(json!({"msg": "**Deployed** <v2> & done", "format": "markdown", "channel": "tg", "mentions": [{"id": "777000", "name": "Joe"}]}))
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let posted = w.telegram.message(GROUP_CHAT, id.parse().unwrap()).unwrap();
    assert_eq!(posted.text.as_deref(), Some("Joe Deployed <v2> & done"));
    assert!(
        posted.entities.iter().any(|e| e["type"] == "text_mention"),
        "{:?}",
        posted.entities
    );
    assert!(posted.entities.iter().any(|e| e["type"] == "bold"));
    let (status, reply) = w
        .api()
        .post(json!({"msg": "details", "channel": "tg", "thread": id}))
        .await;
    assert_eq!(status, 200, "{reply}");
    let reply_id: i64 = reply["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        w.telegram
            .message(GROUP_CHAT, reply_id)
            .unwrap()
            .reply_to_message_id,
        Some(id.parse().unwrap())
    );
    let (status, topic) = w
        .api()
        .post(json!({"msg": "in the topic", "channel": "tg-topic"}))
        .await;
    assert_eq!(status, 200, "{topic}");
    let topic_id: i64 = topic["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        w.telegram
            .message(FORUM, topic_id)
            .unwrap()
            .message_thread_id,
        Some(TOPIC)
    );
    assert_eq!(w.api().edit(&id, "tg", "Deployed v3").await.0, 200);
    assert_eq!(
        w.telegram
            .message(GROUP_CHAT, id.parse().unwrap())
            .unwrap()
            .text
            .as_deref(),
        Some("Deployed v3")
    );
    assert_eq!(w.api().delete(&id, "tg").await.0, 200);
    let (status, again) = w.api().delete(&id, "tg").await;
    assert_eq!(
        (status, again["error"].as_str()),
        (404, Some("message_not_found")),
        "{again}"
    );
    let (status, photo) = w.file("tg", PNG, "chart.png").await;
    assert_eq!(status, 200, "{photo}");
    let photo = w
        .telegram
        .message(GROUP_CHAT, photo["id"].as_str().unwrap().parse().unwrap())
        .unwrap();
    assert!(photo.photo.is_some());
    let (status, doc) = w.file("tg", b"%PDF-1.7 report", "report.pdf").await;
    assert_eq!(status, 200, "{doc}");
    let doc = w
        .telegram
        .message(GROUP_CHAT, doc["id"].as_str().unwrap().parse().unwrap())
        .unwrap();
    assert_eq!(
        doc.document.unwrap().filename.as_deref(),
        Some("report.pdf")
    );
    assert_no_secret(&w, &body);
}

#[tokio::test]
async fn telegram_limits_rate_limits_and_revoked_tokens() {
    let w = world("telegram-errors").await;
    // 4096 visible characters fit, whatever the markup around them.
    let fits = format!("**{}**", "y".repeat(4_096));
    assert_eq!(
        w.api()
            .post(json!({"msg": fits, "channel": "tg", "format": "markdown"}))
            .await
            .0,
        200
    );
    w.api()
        .refused(
            json!({"msg": "y".repeat(4_097), "channel": "tg", "format": "plain"}),
            413,
            "message_too_long",
        )
        .await;
    w.telegram.inject(
        "sendMessage",
        fake_telegram::Fault::RateLimited {
            retry_after_secs: 1,
        },
        1,
    );
    assert_eq!(
        w.api()
            .post(json!({"msg": "after the wait", "channel": "tg"}))
            .await
            .0,
        200
    );
    w.telegram.revoke(TELEGRAM_TOKEN);
    let body = w
        .api()
        .refused(
            json!({"msg": "revoked", "channel": "tg"}),
            502,
            "auth_revoked",
        )
        .await;
    assert_no_secret(&w, &body);
}

// ------------------------------------------------------------------- all

#[tokio::test]
async fn one_key_reaches_every_platform_and_a_retry_posts_only_where_it_failed() {
    let w = world("everywhere").await;
    w.telegram
        .inject("sendMessage", fake_telegram::Fault::Status(500), 1);
    let keyed =
        json!({"msg": "release 7", "channel": "everywhere", "idempotency_key": "release-7"});
    let (status, first) = w.api().post(keyed.clone()).await;
    assert_eq!(status, 207, "{first}");
    let (status, second) = w.api().post(keyed).await;
    assert_eq!(status, 200, "{second}");
    let texts = |messages: Vec<String>| messages.iter().filter(|t| t.contains("release 7")).count();
    assert_eq!(
        texts(
            w.skype
                .messages(GROUP)
                .into_iter()
                .filter_map(|m| m.content)
                .collect()
        ),
        1
    );
    assert_eq!(
        texts(
            w.slack
                .messages(SLACK_CHANNEL)
                .into_iter()
                .map(|m| m.text)
                .collect()
        ),
        1
    );
    assert_eq!(
        texts(
            w.discord
                .messages("1100000000000000001")
                .into_iter()
                .map(|m| m.content)
                .collect()
        ),
        1
    );
    assert_eq!(
        texts(
            w.telegram
                .messages(GROUP_CHAT)
                .into_iter()
                .filter_map(|m| m.text)
                .collect()
        ),
        1
    );
}

#[tokio::test]
async fn a_warm_message_is_one_request_on_every_bot_platform() {
    let w = world("warm").await;
    for alias in ["deploys", "discord", "tg"] {
        // The first post of a container may set things up; the next ones
        // are one request each, and nothing else.
        assert_eq!(
            w.api()
                .post(json!({"msg": "warming up", "channel": alias}))
                .await
                .0,
            200
        );
        let before = (
            w.slack.requests().len(),
            w.discord.requests().len(),
            w.telegram.requests().len(),
        );
        for i in 0..3 {
            let (status, body) = w
                .api()
                .post(json!({"msg": format!("warm {i}"), "channel": alias}))
                .await;
            assert_eq!(status, 200, "{alias}: {body}");
        }
        let after = (
            w.slack.requests().len(),
            w.discord.requests().len(),
            w.telegram.requests().len(),
        );
        let made = (after.0 - before.0) + (after.1 - before.1) + (after.2 - before.2);
        assert_eq!(made, 3, "{alias}: one request per warm message");
    }
}
