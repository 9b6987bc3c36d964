//! The Teams bot end to end in process: the Lambda entry point with API
//! Gateway events, the strict fake Microsoft services (`crates/fake-teams`)
//! over loopback HTTP, local files as the store. Installing the bot,
//! posting, replying, editing, deleting, mentions, pictures, the typed
//! errors, and every hostile inbound request the Bot Framework's rules
//! exist to refuse.

use base64::Engine;
use fake_skype::{Account as FakeAccount, FakeSkype};
use fake_teams::{FakeTeams, Fault, Inbound, InboundKind, Member, Op, TokenSpec};
use lambda_harness::events::{http_v2, status_and_body};
use serde_json::{Value, json};
use skype_sender::app::App;

use crate::local_app;

const APP: &str = "5e8e0c8c-0b54-4d1e-9a57-4c8d2d2a0a01";
const PASSWORD: &str = "Zq8~Vx.abc+def=ghi_jkl";
const TENANT: &str = "3f2d6a0e-6d1b-4a5e-9a6b-1c2d3e4f5a6b";
const OTHER_APP: &str = "9a9a9a9a-1111-4222-8333-444455556666";
const CHANNEL: &str = "19:d4a8b0c2e1f34a6b8c9d0e1f2a3b4c5d@thread.tacv2";
const CHAT: &str = "19:meeting-free-group-chat@thread.v2";
const GROUP: &str = "19:0123456789abcdef0123456789abcdef@thread.skype";
const KEY: &str = "admin-key";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

struct World {
    teams: FakeTeams,
    skype: FakeSkype,
    app: App,
    dir: std::path::PathBuf,
}

async fn world(name: &str) -> World {
    world_with(name, PASSWORD).await
}

async fn world_with(name: &str, password: &str) -> World {
    let teams = FakeTeams::start().await;
    teams.add_app(APP, PASSWORD, TENANT);
    let skype = FakeSkype::start().await;
    skype.add_account(FakeAccount::fred());
    let secret = json!({
        "username": "fred.adams@example.com",
        "password": "p&ss<w>rd",
        "api_keys": [KEY],
        "teams": {"app_id": APP, "app_password": password, "tenant_id": TENANT},
        "channels": {
            "ops": {"kind": "teams", "conversation": CHANNEL},
            "chat": {"kind": "teams", "conversation": CHAT},
            "threads": {"kind": "teams", "channel": CHANNEL},
            "standup": GROUP,
            "both": ["standup", "chat"],
        }
    });
    let env = teams.client_env();
    let overrides: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let name = format!("teams-{name}");
    let dir = std::env::temp_dir().join(format!("skype-sender-{name}-{}", std::process::id()));
    let app = local_app::app(&skype, &secret, &name, &overrides);
    World {
        teams,
        skype,
        app,
        dir,
    }
}

impl World {
    /// `POST /api/messages` with `activity` and `token` (if any).
    async fn inbound(&self, token: Option<&str>, activity: &Value) -> (u16, Value) {
        let mut headers = json!({"content-type": "application/json"});
        if let Some(token) = token {
            headers["authorization"] = json!(format!("Bearer {token}"));
        }
        let event = http_v2("POST", "/api/messages", headers, &activity.to_string());
        status_and_body(&crate::handle(&self.app, event).await.unwrap())
    }

    /// The bot installed in `conversation`, as the Bot Framework says it.
    async fn install(&self, conversation: &str) {
        let activity = self.teams.inbound_activity(
            &Inbound::new(APP, conversation, TENANT),
            InboundKind::BotAdded,
        );
        let token = self.teams.inbound_token(&TokenSpec::new(APP));
        assert_eq!(self.inbound(Some(&token), &activity).await.0, 200);
    }

    fn api(&self) -> local_app::Api<'_> {
        local_app::Api {
            app: &self.app,
            key: KEY,
        }
    }

    /// The bot's own activities in `conversation`.
    fn bot_posts(&self, conversation: &str) -> Vec<fake_teams::StoredActivity> {
        let bot = format!("28:{APP}");
        self.teams
            .activities(conversation)
            .into_iter()
            .filter(|a| a.from == bot)
            .collect()
    }

    fn stored_references(&self) -> usize {
        std::fs::read_dir(self.dir.join("teams")).map_or(0, |dir| dir.count())
    }

    fn outbound_calls(&self) -> usize {
        [
            Op::Token,
            Op::SendActivity,
            Op::ReplyToActivity,
            Op::CreateConversation,
        ]
        .iter()
        .map(|op| self.teams.count(*op))
        .sum()
    }
}

#[tokio::test]
async fn installing_stores_the_reference_and_says_hello_once() {
    let w = world("install").await;
    w.install(CHANNEL).await;
    assert_eq!(w.stored_references(), 1);
    let hello = w.bot_posts(CHANNEL);
    assert_eq!(hello.len(), 1, "one hello");
    let text = hello[0].text.clone().unwrap();
    assert!(text.contains(CHANNEL), "{text}");
    assert!(
        text.contains(r#"{"kind": "teams", "conversation": ""#),
        "{text}"
    );
    assert!(
        text.contains(r#""channel": ""#),
        "a channel also offers new threads: {text}"
    );
    // The installation event that follows changes nothing and says nothing.
    let again = w.teams.inbound_activity(
        &Inbound::new(APP, CHANNEL, TENANT),
        InboundKind::InstallationAdd,
    );
    let token = w.teams.inbound_token(&TokenSpec::new(APP));
    assert_eq!(w.inbound(Some(&token), &again).await, (200, json!({})));
    assert_eq!(w.bot_posts(CHANNEL).len(), 1);
}

#[tokio::test]
async fn mentioning_the_bot_with_id_answers_in_the_thread() {
    let w = world("mention-id").await;
    w.teams.install(APP, CHAT);
    let inbound = Inbound::new(APP, CHAT, TENANT);
    let asked = w.teams.inbound_activity(&inbound, InboundKind::MentionId);
    let token = w.teams.inbound_token(&TokenSpec::new(APP));
    assert_eq!(w.inbound(Some(&token), &asked).await.0, 200);
    let answers = w.bot_posts(CHAT);
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].reply_to_id.as_deref(), asked["id"].as_str());
    assert!(answers[0].text.as_deref().unwrap().contains(CHAT));
    assert_eq!(w.stored_references(), 1);
}

#[tokio::test]
async fn hostile_inbound_requests_get_401_and_cause_no_outbound_call() {
    let w = world("hostile").await;
    w.teams.install(APP, CHAT);
    let inbound = Inbound::new(APP, CHAT, TENANT);
    let activity = w.teams.inbound_activity(&inbound, InboundKind::BotAdded);
    let not_teams = w.teams.add_key(&["skype"]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let specs: Vec<(&str, TokenSpec)> = vec![
        ("unknown key", TokenSpec::new(APP).signed_by_unknown_key()),
        (
            "wrong audience",
            TokenSpec::new(APP).audience("someone-else"),
        ),
        ("replayed for another app", TokenSpec::new(OTHER_APP)),
        (
            "wrong issuer",
            TokenSpec::new(APP).issuer("https://evil.example"),
        ),
        ("expired", TokenSpec::new(APP).expired()),
        (
            "not yet valid",
            TokenSpec::new(APP).valid_between(now + 3600, now + 7200),
        ),
        ("alg none", TokenSpec::new(APP).alg_none()),
        (
            "HS256 keyed with the public key",
            TokenSpec::new(APP).hs256_with_public_key(),
        ),
        ("no kid", TokenSpec::new(APP).without_kid()),
        (
            "key not endorsed for msteams",
            TokenSpec::new(APP).signing(fake_teams::Signing::Key(not_teams)),
        ),
        (
            "serviceurl mismatch",
            TokenSpec::new(APP).service_url("https://smba.trafficmanager.net/amer/"),
        ),
        ("no serviceurl", TokenSpec::new(APP).without_service_url()),
    ];
    for (why, spec) in specs {
        let token = w.teams.inbound_token(&spec);
        let (status, body) = w.inbound(Some(&token), &activity).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("unauthorized")),
            "{why}"
        );
    }
    // A serviceUrl outside the allow-list, with a token that vouches for it.
    let evil = "http://127.0.0.1:9/evil/";
    let mut elsewhere = activity.clone();
    elsewhere["serviceUrl"] = json!(evil);
    let token = w
        .teams
        .inbound_token(&TokenSpec::new(APP).service_url(evil));
    assert_eq!(
        w.inbound(Some(&token), &elsewhere).await.0,
        401,
        "allow-list"
    );
    // No token, a garbage token, another scheme.
    let (status, body) = w.inbound(None, &activity).await;
    assert_eq!(status, 401);
    assert!(
        body["msg"]
            .as_str()
            .unwrap()
            .contains("Bot Framework token"),
        "{body}"
    );
    assert_eq!(w.inbound(Some("not.a.jwt"), &activity).await.0, 401);
    assert_eq!(w.outbound_calls(), 0);
    assert_eq!(w.stored_references(), 0);
    // The same activity with a good token is accepted.
    let token = w.teams.inbound_token(&TokenSpec::new(APP));
    assert_eq!(w.inbound(Some(&token), &activity).await.0, 200);
    assert_eq!(w.stored_references(), 1);
}

#[tokio::test]
async fn keys_follow_rotation_and_unknown_kids_cannot_flood_the_jwks() {
    let w = world("rotation").await;
    w.install(CHAT).await;
    let fetches = w.teams.jwks_fetches();
    w.teams.rotate_key();
    w.install(CHAT).await; // signed by the new key: one more fetch
    assert_eq!(w.teams.jwks_fetches(), fetches + 1);
    let activity = w
        .teams
        .inbound_activity(&Inbound::new(APP, CHAT, TENANT), InboundKind::BotAdded);
    for _ in 0..20 {
        let token = w
            .teams
            .inbound_token(&TokenSpec::new(APP).signed_by_unknown_key());
        assert_eq!(w.inbound(Some(&token), &activity).await.0, 401);
    }
    assert!(
        w.teams.jwks_fetches() <= fetches + 2,
        "{} fetches",
        w.teams.jwks_fetches()
    );
}

#[tokio::test]
async fn post_reply_edit_delete_with_mentions_and_markdown() {
    let w = world("lifecycle").await;
    w.install(CHAT).await;
    let joe = Member::named("Joe");
    let (status, body) = w
        .api()
        .post(json!({
            "msg": "**Deploy** done @{29:1zed|Zed}", "format": "markdown", "channel": "chat",
            "mentions": [{"id": joe.id, "name": "Joe"}],
        }))
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let posted = w.teams.activity(&id).unwrap();
    assert_eq!(posted.text_format.as_deref(), Some("xml"));
    assert_eq!(
        posted.text.as_deref(),
        Some("<at>Joe</at> <b>Deploy</b> done <at>Zed</at>")
    );
    let mentioned: Vec<&str> = posted
        .entities
        .iter()
        .map(|e| e["mentioned"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(mentioned, [joe.id.as_str(), "29:1zed"]);
    // A reply in its thread.
    let (status, reply) = w
        .api()
        .post(json!({"msg": "and again", "channel": "chat", "thread": id}))
        .await;
    assert_eq!(status, 200, "{reply}");
    let reply_id = reply["id"].as_str().unwrap();
    assert_eq!(
        w.teams.activity(reply_id).unwrap().reply_to_id.as_deref(),
        Some(id.as_str())
    );
    // Edit, then delete.
    let (status, edited) = w.api().edit(&id, "chat", "fixed").await;
    assert_eq!(status, 200, "{edited}");
    let after = w.teams.activity(&id).unwrap();
    assert!(after.edited);
    assert_eq!(after.text.as_deref(), Some("fixed"));
    let (status, deleted) = w.api().delete(&id, "chat").await;
    assert_eq!(status, 200, "{deleted}");
    assert!(w.teams.activity(&id).unwrap().deleted);
    // Gone: a second delete is a clear 404, not a success.
    let (status, again) = w.api().delete(&id, "chat").await;
    assert_eq!(
        (status, again["error"].as_str()),
        (404, Some("message_not_found")),
        "{again}"
    );
    // One app token served every call.
    assert_eq!(w.teams.tokens_issued(), 1);
}

#[tokio::test]
async fn a_channel_alias_starts_a_new_thread_per_post() {
    let w = world("threads").await;
    w.install(CHANNEL).await;
    let (status, body) = w
        .api()
        .post(json!({"msg": "new topic", "channel": "threads"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_str().unwrap();
    let root = w.teams.activity(id).unwrap();
    assert_eq!(root.thread.as_deref(), Some(id), "a thread of its own");
    let (status, edited) = w.api().edit(id, "threads", "new topic (edited)").await;
    assert_eq!(status, 200, "{edited}");
    assert!(w.teams.activity(id).unwrap().edited);
}

#[tokio::test]
async fn pictures_go_inline_within_teams_limits() {
    let w = world("pictures").await;
    w.install(CHAT).await;
    let file = |bytes: &[u8], name: &str| json!({"channel": "chat", "file": {"name": name, "content_base64": base64::engine::general_purpose::STANDARD.encode(bytes)}});
    let (status, body) = w
        .api()
        .call("POST", "/send-file", file(PNG, "chart.png"))
        .await;
    assert_eq!(status, 200, "{body}");
    let picture = w.teams.activity(body["id"].as_str().unwrap()).unwrap();
    assert_eq!(picture.attachments[0]["contentType"], "image/png");
    assert!(
        picture.attachments[0]["contentUrl"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    let mut big = PNG.to_vec();
    big.resize(1024 * 1024 + 1, 0);
    let (status, body) = w
        .api()
        .call("POST", "/send-file", file(&big, "big.png"))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (413, Some("file_too_large")),
        "{body}"
    );
    let (status, body) = w
        .api()
        .call("POST", "/send-file", file(b"%PDF-1.7", "report.pdf"))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("files_not_supported")),
        "{body}"
    );
    assert_eq!(w.bot_posts(CHAT).len(), 2, "the hello and one picture");
}

#[tokio::test]
async fn failures_are_typed_and_plain() {
    let w = world("errors").await;
    // Never installed: nothing to post with.
    w.api()
        .refused(
            json!({"msg": "hi", "channel": "chat"}),
            502,
            "teams_not_in_conversation",
        )
        .await;
    w.install(CHAT).await;
    // Throttled once: paced, then posted.
    w.teams.inject(
        Op::SendActivity,
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
        1,
    );
    let (status, body) = w
        .api()
        .post(json!({"msg": "after the wait", "channel": "chat"}))
        .await;
    assert_eq!(status, 200, "{body}");
    // Removed from the chat since.
    w.teams.uninstall(APP, CHAT);
    w.api()
        .refused(
            json!({"msg": "hi", "channel": "chat"}),
            502,
            "teams_not_in_conversation",
        )
        .await;
    // Threads where there are none.
    w.api()
        .refused(
            json!({"msg": "hi", "channel": "standup", "thread": "1"}),
            400,
            "not_supported",
        )
        .await;
    // A reply to nothing.
    w.teams.install(APP, CHAT);
    let body = w
        .api()
        .refused(
            json!({"msg": "hi", "channel": "chat", "thread": "123"}),
            404,
            "message_not_found",
        )
        .await;
    let text = body.to_string();
    assert!(!text.contains(PASSWORD));
}

#[tokio::test]
async fn a_wrong_app_password_is_named_and_never_shown() {
    let w = world_with("wrong-password", "not-the-password").await;
    w.install(CHAT).await; // inbound works: it needs no app token
    let body = w
        .api()
        .refused(
            json!({"msg": "hi", "channel": "chat"}),
            502,
            "teams_credentials_refused",
        )
        .await;
    assert!(
        body["msg"].as_str().unwrap().contains("AADSTS7000215"),
        "{body}"
    );
    assert!(!body.to_string().contains("not-the-password"));
}

#[tokio::test]
async fn keyed_sends_post_once_and_an_unknown_outcome_is_not_resent() {
    let w = world("once").await;
    w.install(CHAT).await;
    let keyed = json!({"msg": "once", "channel": "chat", "idempotency_key": "k-1"});
    let (status, first) = w.api().post(keyed.clone()).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(w.api().post(keyed).await.1["id"], first["id"]);
    assert_eq!(w.bot_posts(CHAT).len(), 2, "the hello and one post");
    // Taken by Teams, answer lost: unknown, and never posted again under that key.
    w.teams
        .inject(Op::SendActivity, Fault::DropAfterHandling, 1);
    let lost = json!({"msg": "lost answer", "channel": "chat", "idempotency_key": "k-2"});
    w.api().refused(lost.clone(), 504, "outcome_unknown").await;
    w.api().refused(lost, 409, "earlier_outcome_unknown").await;
    assert_eq!(w.bot_posts(CHAT).len(), 3);
}

#[tokio::test]
async fn one_key_fans_out_to_skype_and_teams() {
    let w = world("fan-out").await;
    w.install(CHAT).await;
    let (status, body) = w
        .api()
        .post(json!({"msg": "to both", "channel": "both"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        w.bot_posts(CHAT).last().unwrap().text.as_deref(),
        Some("to both")
    );
    assert!(!w.skype.messages(GROUP).is_empty());
}

#[tokio::test]
async fn a_teams_only_deployment_needs_no_skype_account() {
    // Consumer Skype is gone: a secret with only the Teams bot in it.
    let teams = FakeTeams::start().await;
    teams.add_app(APP, PASSWORD, TENANT);
    let skype = FakeSkype::start().await;
    let secret = json!({
        "api_keys": [KEY],
        "teams": {"app_id": APP, "app_password": PASSWORD, "tenant_id": TENANT},
        "channels": {"chat": {"kind": "teams", "conversation": CHAT}},
    });
    let env = teams.client_env();
    let overrides: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = local_app::app(&skype, &secret, "teams-only", &overrides);
    // The keep-alive has nothing to renew, and says so without failing
    // (a failure would be retried, dead-lettered and alarmed on).
    let kept = crate::handle(&app, json!({"action": "refresh"}))
        .await
        .unwrap();
    assert_eq!(kept["ok"], true, "{kept}");
    teams.install(APP, CHAT);
    let w = World {
        teams,
        skype,
        app,
        dir: std::path::PathBuf::new(),
    };
    let added = w
        .teams
        .inbound_activity(&Inbound::new(APP, CHAT, TENANT), InboundKind::BotAdded);
    let token = w.teams.inbound_token(&TokenSpec::new(APP));
    assert_eq!(w.inbound(Some(&token), &added).await.0, 200);
    let (status, body) = w
        .api()
        .post(json!({"msg": "no Skype needed", "channel": "chat"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(w.skype.requests().is_empty(), "nothing went to Skype");
}
