//! End to end through the real binary: Slack, Discord and Telegram as the
//! README's capability table says, each proven against its strict fake:
//! post → reply in the thread → edit → delete, a mention, a picture and a
//! file, a 429 waited out, a revoked credential (502 `auth_revoked` and an
//! unhealthy `/health`); and one idempotency key fanned out to Skype,
//! Teams, Slack, Discord and Telegram, retried after one target failed:
//! only that one is posted again. No log line holds a token or a webhook
//! URL.

use std::path::Path;

use base64::Engine;
use fake_discord::FakeDiscord;
use fake_skype::{Account, FakeSkype};
use fake_slack::FakeSlack;
use fake_teams::{FakeTeams, Inbound, InboundKind, TokenSpec};
use fake_telegram::{ChatKind, FakeTelegram};
use lambda_harness::events::{http_v2, json_request, status_and_body};
use lambda_harness::process::{FunctionProcess, Keep};
use serde_json::{Value, json};

const KEY: &str = "e2e-bots-key";
const SLACK_TOKEN: &str = "xoxb-9999-8888-e2e-secret";
const SLACK_CHANNEL: &str = "C0E2E0001";
const TELEGRAM_TOKEN: &str = "987654321:AAE2E-secret-token";
const CHAT: i64 = -1005550001111;
const DISCORD_CHANNEL: &str = "1300000000000000001";
const DISCORD_THREAD: &str = "1300000000000000002";
const GROUP: &str = "19:0123456789abcdef0123456789abcdef@thread.skype";
const TEAMS_CHAT: &str = "19:e2e-bots-chat@thread.v2";
const APP: &str = "7b7b7b7b-1111-4222-8333-444455556666";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

struct Fakes {
    skype: FakeSkype,
    teams: FakeTeams,
    slack: FakeSlack,
    discord: FakeDiscord,
    telegram: FakeTelegram,
    discord_url: String,
}

async fn fakes() -> Fakes {
    let skype = FakeSkype::start().await;
    skype.add_account(Account::fred());
    let teams = FakeTeams::start().await;
    teams.add_app(APP, "teams-e2e-password", "contoso");
    let slack = FakeSlack::start().await;
    slack.add_bot(SLACK_TOKEN, "U0E2EBOT1", "T0E2E");
    slack.add_channel(SLACK_CHANNEL, "releases");
    slack.join(SLACK_TOKEN, SLACK_CHANNEL);
    let discord = FakeDiscord::start().await;
    let discord_url = discord.add_webhook(DISCORD_CHANNEL);
    discord.add_thread(DISCORD_CHANNEL, DISCORD_THREAD);
    let telegram = FakeTelegram::start().await;
    telegram.add_bot(TELEGRAM_TOKEN, "e2e_sender_bot");
    telegram.add_chat(CHAT, ChatKind::Supergroup { forum: false });
    telegram.add_member(TELEGRAM_TOKEN, CHAT);
    Fakes {
        skype,
        teams,
        slack,
        discord,
        telegram,
        discord_url,
    }
}

async fn function(fakes: &Fakes, name: &str) -> FunctionProcess {
    let token_file = std::env::temp_dir().join(format!(
        "skype-sender-e2e-bots-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&token_file);
    let channels = json!({
        "standup": GROUP,
        "teams": {"kind": "teams", "conversation": TEAMS_CHAT},
        "slack": {"kind": "slack", "channel": SLACK_CHANNEL},
        "discord": {"kind": "discord-webhook", "url": fakes.discord_url},
        "telegram": {"kind": "telegram", "chat": CHAT},
        "everyone": ["standup", "teams", "slack", "discord", "telegram"],
    });
    let vars = [
        ("RUST_LOG", "debug".to_string()),
        ("SKYPE_USERNAME", "fred.adams@example.com".to_string()),
        ("SKYPE_PASSWORD", "p&ss<w>rd".to_string()),
        ("API_KEYS", KEY.to_string()),
        ("CHANNELS", channels.to_string()),
        ("TOKEN_FILE", token_file.to_string_lossy().into_owned()),
        ("SLACK_BOT_TOKEN", SLACK_TOKEN.to_string()),
        ("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN.to_string()),
        ("TEAMS_APP_ID", APP.to_string()),
        ("TEAMS_APP_PASSWORD", "teams-e2e-password".to_string()),
        ("TEAMS_TENANT_ID", "contoso".to_string()),
    ];
    let env: Vec<(&str, String)> = vars
        .into_iter()
        .chain(fakes.skype.client_env())
        .chain(fakes.teams.client_env())
        .chain(fakes.slack.client_env())
        .chain(fakes.telegram.client_env())
        .collect();
    FunctionProcess::start(
        Path::new(env!("CARGO_BIN_EXE_skype-sender")),
        env.iter().map(|(k, v)| (*k, v.as_str())),
        Keep::All,
    )
    .await
}

async fn call(function: &FunctionProcess, method: &str, path: &str, body: Value) -> (u16, Value) {
    status_and_body(
        &function
            .invoke(json_request(method, path, KEY, body))
            .await
            .response(),
    )
}

fn file(channel: &str, bytes: &[u8], name: &str) -> Value {
    let content = base64::engine::general_purpose::STANDARD.encode(bytes);
    json!({"channel": channel, "file": {"name": name, "content_base64": content}})
}

/// What each platform's fake holds, as text, for one alias.
fn texts(fakes: &Fakes, alias: &str) -> Vec<String> {
    match alias {
        "slack" => fakes
            .slack
            .messages(SLACK_CHANNEL)
            .into_iter()
            .filter(|m| !m.deleted)
            .map(|m| m.text)
            .collect(),
        "discord" => fakes
            .discord
            .messages(DISCORD_CHANNEL)
            .into_iter()
            .filter(|m| !m.deleted)
            .map(|m| m.content)
            .collect(),
        "telegram" => fakes
            .telegram
            .messages(CHAT)
            .into_iter()
            .filter(|m| !m.deleted)
            .filter_map(|m| m.text)
            .collect(),
        "teams" => fakes
            .teams
            .activities(TEAMS_CHAT)
            .into_iter()
            .filter_map(|a| a.text)
            .collect(),
        _ => fakes
            .skype
            .messages(GROUP)
            .into_iter()
            .filter_map(|m| m.content)
            .collect(),
    }
}

#[tokio::test]
async fn every_bot_platform_posts_threads_edits_deletes_mentions_and_files() {
    let fakes = fakes().await;
    let function = function(&fakes, "lifecycle").await;
    // (alias, a mention id it notifies, the thread to reply in: None = the post itself)
    let platforms = [
        ("slack", "U0E2EJOE1", None),
        ("discord", "123456789012345678", Some(DISCORD_THREAD)),
        ("telegram", "777000111", None),
    ];
    for (alias, mention, thread) in platforms {
        let (status, posted) = call(
            &function,
            "POST",
            "/send-message",
            json!({
                "msg": "**release** 7", "format": "markdown", "channel": alias,
                "mentions": [{"id": mention, "name": "Joe"}],
            }),
        )
        .await;
        assert_eq!(status, 200, "{alias}: {posted}");
        let id = posted["id"].as_str().unwrap().to_string();
        // The mention notifies the person named, in the platform's way.
        let notified = match alias {
            "slack" => fakes
                .slack
                .messages(SLACK_CHANNEL)
                .last()
                .unwrap()
                .text
                .starts_with(&format!("<@{mention}>")),
            "discord" => fakes.discord.message(&id).unwrap().pinged_users == [mention],
            _ => fakes
                .telegram
                .messages(CHAT)
                .last()
                .unwrap()
                .entities
                .iter()
                .any(|e| e["type"] == "text_mention"),
        };
        assert!(notified, "{alias}: the mention");
        let thread = thread.map_or_else(|| id.clone(), str::to_string);
        let (status, reply) = call(
            &function,
            "POST",
            "/send-message",
            json!({"msg": "details", "channel": alias, "thread": thread}),
        )
        .await;
        assert_eq!(status, 200, "{alias} reply: {reply}");
        let (status, edited) = call(
            &function,
            "PATCH",
            &format!("/messages/{id}"),
            json!({"msg": "release 7 (final)", "channel": alias}),
        )
        .await;
        assert_eq!(status, 200, "{alias} edit: {edited}");
        assert!(
            texts(&fakes, alias)
                .iter()
                .any(|t| t.contains("release 7 (final)")),
            "{alias}: {:?}",
            texts(&fakes, alias)
        );
        let (status, deleted) = call(
            &function,
            "DELETE",
            &format!("/messages/{id}"),
            json!({"channel": alias}),
        )
        .await;
        assert_eq!(status, 200, "{alias} delete: {deleted}");
        assert!(
            !texts(&fakes, alias).iter().any(|t| t.contains("release 7")),
            "{alias}: deleted"
        );
        for (bytes, name) in [(PNG, "chart.png"), (&b"%PDF-1.7 report"[..], "report.pdf")] {
            let (status, sent) =
                call(&function, "POST", "/send-file", file(alias, bytes, name)).await;
            assert_eq!(status, 200, "{alias} {name}: {sent}");
        }
    }
    // Files: one upload on Slack, a document and a photo on Telegram, two
    // attachments on Discord.
    assert_eq!(
        fakes.slack.files().iter().filter(|f| f.completed).count(),
        2
    );
    let telegram_files = fakes.telegram.messages(CHAT);
    assert!(
        telegram_files.iter().any(|m| m.photo.is_some())
            && telegram_files.iter().any(|m| m.document.is_some())
    );
    assert_eq!(
        fakes
            .discord
            .messages(DISCORD_CHANNEL)
            .iter()
            .filter(|m| !m.attachments.is_empty())
            .count(),
        2
    );
    assert_no_secrets(&fakes, &function.logs());
}

#[tokio::test]
async fn rate_limits_are_waited_out_and_revoked_credentials_are_named() {
    let fakes = fakes().await;
    let function = function(&fakes, "errors").await;
    fakes.slack.inject(
        "chat.postMessage",
        fake_slack::Fault::RateLimited {
            retry_after_secs: 1,
        },
        1,
    );
    fakes.discord.inject(
        fake_discord::Op::Execute,
        fake_discord::Fault::RateLimited {
            retry_after: 0.5,
            global: false,
        },
        1,
    );
    fakes.telegram.inject(
        "sendMessage",
        fake_telegram::Fault::RateLimited {
            retry_after_secs: 1,
        },
        1,
    );
    for alias in ["slack", "discord", "telegram"] {
        let (status, body) = call(
            &function,
            "POST",
            "/send-message",
            json!({"msg": "paced", "channel": alias}),
        )
        .await;
        assert_eq!(status, 200, "{alias}: {body}");
    }
    fakes.slack.revoke(SLACK_TOKEN);
    fakes.telegram.revoke(TELEGRAM_TOKEN);
    fakes.discord.delete_webhook(&fakes.discord_url);
    for alias in ["slack", "discord", "telegram"] {
        let (status, body) = call(
            &function,
            "POST",
            "/send-message",
            json!({"msg": "revoked", "channel": alias}),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (502, Some("auth_revoked")),
            "{alias}: {body}"
        );
    }
    let (status, health) = call(&function, "GET", "/health", json!({})).await;
    assert_eq!(status, 503, "{health}");
    let failing: Vec<&str> = health["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["platform"].as_str().unwrap())
        .collect();
    assert_eq!(failing, ["slack", "telegram"]);
    let logs = function.logs();
    assert!(
        logs.contains("\"Reason\":\"auth_revoked\""),
        "the failure metric names the reason"
    );
    assert_no_secrets(&fakes, &logs);
}

#[tokio::test]
async fn one_key_fans_out_to_five_platforms_and_a_retry_posts_only_where_it_failed() {
    let fakes = fakes().await;
    let function = function(&fakes, "fan-out").await;
    let added = fakes.teams.inbound_activity(
        &Inbound::new(APP, TEAMS_CHAT, "contoso"),
        InboundKind::BotAdded,
    );
    let token = fakes.teams.inbound_token(&TokenSpec::new(APP));
    let install = http_v2(
        "POST",
        "/api/messages",
        json!({"content-type": "application/json", "authorization": format!("Bearer {token}")}),
        &added.to_string(),
    );
    assert_eq!(
        status_and_body(&function.invoke(install).await.response()).0,
        200
    );
    fakes.discord.inject(
        fake_discord::Op::Execute,
        fake_discord::Fault::Status(503),
        1,
    );
    let keyed = json!({"msg": "ship it", "channel": "everyone", "idempotency_key": "ship-1"});
    let (status, first) = call(&function, "POST", "/send-message", keyed.clone()).await;
    assert_eq!(status, 207, "{first}");
    let failed: Vec<&str> = first["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ok"] == false)
        .map(|r| r["channel"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["discord"]);
    let (status, second) = call(&function, "POST", "/send-message", keyed).await;
    assert_eq!(status, 200, "{second}");
    for alias in ["standup", "teams", "slack", "discord", "telegram"] {
        let posted = texts(&fakes, alias)
            .iter()
            .filter(|t| t.contains("ship it"))
            .count();
        assert_eq!(posted, 1, "{alias}: exactly once");
    }
    assert_no_secrets(&fakes, &function.logs());
}

/// The secret scan: no log line holds a bot token, a webhook URL or its
/// token, in any escaping a JSON log line might give it.
fn assert_no_secrets(fakes: &Fakes, logs: &str) {
    let webhook_token = fakes.discord_url.rsplit('/').next().unwrap().to_string();
    for secret in [
        SLACK_TOKEN.to_string(),
        TELEGRAM_TOKEN.to_string(),
        fakes.discord_url.clone(),
        webhook_token,
    ] {
        for form in [
            secret.clone(),
            secret.replace('/', "\\/"),
            secret.replace(':', "%3A"),
        ] {
            assert!(!logs.contains(&form), "a secret reached the logs");
        }
    }
}
