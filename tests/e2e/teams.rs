//! End to end through the real binary: the Teams bot installed in a chat
//! (the Bot Framework's signed activity to `POST /api/messages`), then the
//! same one-curl API as for Skype: post, reply in the thread, edit,
//! delete; a fan-out to Skype, Teams and Slack with one key; and a forged
//! activity refused with no call out. Against the strict fake Microsoft
//! services, the fake Skype and the fake Slack webhook.

use std::path::Path;

use fake_skype::{Account, FakeSkype};
use fake_teams::{FakeTeams, Inbound, InboundKind, Op, TokenSpec};
use fake_webhooks::FakeWebhooks;
use lambda_harness::events::{http_v2, json_request, status_and_body};
use lambda_harness::process::{FunctionProcess, Keep};
use serde_json::{Value, json};

const APP: &str = "5e8e0c8c-0b54-4d1e-9a57-4c8d2d2a0a01";
const PASSWORD: &str = "Zq8~Vx.e2e+secret";
const TENANT: &str = "3f2d6a0e-6d1b-4a5e-9a6b-1c2d3e4f5a6b";
const CHAT: &str = "19:e2e-group-chat@thread.v2";
const GROUP: &str = "19:0123456789abcdef0123456789abcdef@thread.skype";
const KEY: &str = "e2e-teams-key";

fn request(method: &str, path: &str, body: Value) -> Value {
    json_request(method, path, KEY, body)
}

#[tokio::test]
async fn install_alias_post_reply_edit_delete_and_fan_out() {
    let teams = FakeTeams::start().await;
    teams.add_app(APP, PASSWORD, TENANT);
    let skype = FakeSkype::start().await;
    skype.add_account(Account::fred());
    let hooks = FakeWebhooks::start().await;
    let token_file =
        std::env::temp_dir().join(format!("skype-sender-e2e-teams-{}", std::process::id()));
    let _ = std::fs::remove_file(&token_file);
    let channels = json!({
        "standup": GROUP,
        "ops": {"kind": "teams", "conversation": CHAT},
        "alerts": {"kind": "slack-webhook", "url": hooks.slack_url("T0/B0/e2e")},
        "everyone": ["standup", "ops", "alerts"],
    });
    let vars = [
        ("RUST_LOG", "debug".to_string()),
        ("SKYPE_USERNAME", "fred.adams@example.com".to_string()),
        ("SKYPE_PASSWORD", "p&ss<w>rd".to_string()),
        ("API_KEYS", KEY.to_string()),
        ("CHANNELS", channels.to_string()),
        ("TOKEN_FILE", token_file.to_string_lossy().into_owned()),
        ("TEAMS_APP_ID", APP.to_string()),
        ("TEAMS_APP_PASSWORD", PASSWORD.to_string()),
        ("TEAMS_TENANT_ID", TENANT.to_string()),
    ];
    let env: Vec<(&str, String)> = vars
        .into_iter()
        .chain(skype.client_env())
        .chain(teams.client_env())
        .collect();
    let function = FunctionProcess::start(
        Path::new(env!("CARGO_BIN_EXE_skype-sender")),
        env.iter().map(|(k, v)| (*k, v.as_str())),
        Keep::All,
    )
    .await;
    let invoke = async |event: Value| status_and_body(&function.invoke(event).await.response());

    // A forged activity (a token for another bot): 401, nothing called.
    let added = teams.inbound_activity(&Inbound::new(APP, CHAT, TENANT), InboundKind::BotAdded);
    let inbound = |token: String| {
        http_v2(
            "POST",
            "/api/messages",
            json!({"content-type": "application/json", "authorization": format!("Bearer {token}")}),
            &added.to_string(),
        )
    };
    let forged = teams.inbound_token(&TokenSpec::new("another-app"));
    assert_eq!(invoke(inbound(forged)).await.0, 401);
    assert_eq!(teams.count(Op::Token) + teams.count(Op::SendActivity), 0);

    // Installed: the reference is stored and the bot says hello.
    let (status, _) = invoke(inbound(teams.inbound_token(&TokenSpec::new(APP)))).await;
    assert_eq!(status, 200);
    let references = Path::new(&format!("{}.teams", token_file.display())).to_path_buf();
    assert_eq!(std::fs::read_dir(&references).unwrap().count(), 1);
    assert_eq!(teams.activities(CHAT).len(), 1, "the hello");

    // The alias works like a Skype one.
    let (status, posted) = invoke(request(
        "POST",
        "/send-message",
        json!({"msg": "**deployed**", "format": "markdown", "channel": "ops"}),
    ))
    .await;
    assert_eq!(status, 200, "{posted}");
    let id = posted["id"].as_str().unwrap().to_string();
    assert_eq!(
        teams.activity(&id).unwrap().text.as_deref(),
        Some("<b>deployed</b>")
    );
    let (status, reply) = invoke(request(
        "POST",
        "/send-message",
        json!({"msg": "details", "channel": "ops", "thread": id}),
    ))
    .await;
    assert_eq!(status, 200, "{reply}");
    let reply_id = reply["id"].as_str().unwrap();
    assert_eq!(
        teams.activity(reply_id).unwrap().reply_to_id.as_deref(),
        Some(id.as_str())
    );
    let (status, edited) = invoke(request(
        "PATCH",
        &format!("/messages/{id}"),
        json!({"msg": "deployed (v2)", "channel": "ops"}),
    ))
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(
        teams.activity(&id).unwrap().text.as_deref(),
        Some("deployed (v2)")
    );
    let (status, deleted) = invoke(request(
        "DELETE",
        &format!("/messages/{id}"),
        json!({"channel": "ops"}),
    ))
    .await;
    assert_eq!(status, 200, "{deleted}");
    assert!(teams.activity(&id).unwrap().deleted);

    // One key, three platforms.
    let (status, fanned) = invoke(request(
        "POST",
        "/send-message",
        json!({"msg": "to everyone", "channel": "everyone"}),
    ))
    .await;
    assert_eq!(status, 200, "{fanned}");
    assert_eq!(
        fanned["results"].as_array().map(Vec::len),
        Some(3),
        "{fanned}"
    );
    assert!(
        skype
            .messages(GROUP)
            .iter()
            .any(|m| m.content.as_deref() == Some("to everyone"))
    );
    assert_eq!(
        teams.activities(CHAT).last().unwrap().text.as_deref(),
        Some("to everyone")
    );
    assert_eq!(hooks.received().len(), 1);

    // One app token for the container's life; the logs hold no secret.
    assert_eq!(teams.tokens_issued(), 1);
    let logs = function.logs();
    assert!(
        !logs.contains(PASSWORD),
        "the app password leaked into the logs"
    );
    assert!(
        !logs.to_lowercase().contains("bearer "),
        "a token leaked into the logs"
    );
    assert!(
        logs.contains("\"Platform\":\"Teams\""),
        "EMF metrics name the Teams platform"
    );
}
