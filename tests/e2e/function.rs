//! End to end: the real `skype-sender` binary, polling a Lambda Runtime API
//! emulator, talking to the strict fake Skype over loopback, fed with the
//! sample events of `events/` and with every HTTP error case.

use std::path::{Path, PathBuf};

use base64::Engine;
use fake_skype::{Account, FakeSkype, Fault, Op};
use lambda_harness::events::{http_v2, sample, status_and_body};
use lambda_harness::moto;
use lambda_harness::process::{FunctionProcess, Keep};
use serde_json::{Value, json};

const GROUP: &str = "19:0123456789abcdef0123456789abcdef@thread.skype";
const KEY: &str = "local-dev-key";
const PASSWORD: &str = "p&ss<w>rd";

/// One function process ("container") of the real binary against `fake`,
/// logged in with the secrets of a local run, its session in `token_file`.
async fn start(fake: &FakeSkype, token_file: &Path) -> FunctionProcess {
    let token_file = token_file.to_string_lossy().into_owned();
    start_with(
        fake,
        &[
            ("SKYPE_USERNAME", "fred.adams@example.com"),
            ("SKYPE_PASSWORD", PASSWORD),
            ("API_KEYS", &format!("{KEY}, second-key")),
            ("CHANNELS", &format!(r#"{{"standup": "{GROUP}"}}"#)),
            ("TOKEN_FILE", &token_file),
        ],
    )
    .await
}

/// One function process against `fake` with the variables `vars`, every
/// log line kept.
async fn start_with(fake: &FakeSkype, vars: &[(&str, &str)]) -> FunctionProcess {
    let skype = fake.client_env();
    let env = [("RUST_LOG", "debug")]
        .into_iter()
        .chain(vars.iter().copied())
        .chain(skype.iter().map(|(k, v)| (*k, v.as_str())));
    FunctionProcess::start(
        Path::new(env!("CARGO_BIN_EXE_skype-sender")),
        env,
        Keep::All,
    )
    .await
}

async fn fake() -> FakeSkype {
    let fake = FakeSkype::start().await;
    fake.add_account(Account::fred());
    fake
}

fn token_file(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("skype-sender-e2e-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

fn post_json(body: Value) -> Value {
    http_v2(
        "POST",
        "/send-message",
        json!({"content-type": "application/json"}),
        &body.to_string(),
    )
}

#[tokio::test]
async fn every_sample_event_is_handled_in_its_own_shape() {
    let fake = fake().await;
    let file = token_file("samples");
    let function = start(&fake, &file).await;
    let mut seen = Vec::new();
    let mut expected_messages = 0;

    for entry in std::fs::read_dir(format!("{}/events", env!("CARGO_MANIFEST_DIR"))).unwrap() {
        let name = entry
            .unwrap()
            .path()
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let outcome = function.invoke(sample(&name)).await;
        match name.as_str() {
            "apigw-rest-send-message" | "apigw-http-send-message" | "function-url-send-message" => {
                let response = outcome.response();
                let (status, body) = status_and_body(&response);
                assert_eq!(status, 200, "{name}: {body}");
                assert_eq!(body["msg"], "Posted message");
                assert_eq!(body["channel"], GROUP);
                assert!(body["arrival_time"].as_u64().unwrap() > 1_700_000_000_000);
                let stored = fake.messages(GROUP);
                assert!(
                    stored
                        .iter()
                        .any(|m| Some(m.id.as_str()) == body["id"].as_str()),
                    "{name}"
                );
                assert_eq!(response["headers"]["content-type"], "application/json");
                if name != "apigw-rest-send-message" {
                    assert_eq!(
                        response["cookies"],
                        json!([]),
                        "{name}: v2 answers carry cookies"
                    );
                }
                expected_messages += 1;
            }
            "apigw-http-send-file" => {
                let (status, body) = status_and_body(&outcome.response());
                assert_eq!(status, 200, "{name}: {body}");
                assert_eq!(body["msg"], "Posted file");
                let stored = fake.messages(GROUP);
                let picture = stored
                    .iter()
                    .find(|m| Some(m.id.as_str()) == body["id"].as_str())
                    .unwrap_or_else(|| panic!("{name}: {body}"));
                assert_eq!(picture.messagetype, "RichText/UriObject");
                assert!(
                    stored
                        .iter()
                        .any(|m| m.content.as_deref() == Some("Nightly build status")),
                    "{name}: the caption follows the picture"
                );
                expected_messages += 2;
            }
            "direct-invoke-send-file" => {
                let response = outcome.response();
                assert_eq!(response["ok"], true, "{name}: {response}");
                let stored = fake.messages(GROUP);
                let file = stored
                    .iter()
                    .find(|m| Some(m.id.as_str()) == response["id"].as_str())
                    .unwrap_or_else(|| panic!("{name}: {response}"));
                assert_eq!(file.messagetype, "RichText/Media_GenericFile");
                expected_messages += 2;
            }
            // The Teams bot's endpoint, as the Bot Framework calls it; this
            // token is signed by no key of the Bot Framework's (and this
            // function has no Teams bot configured): refused, nothing read.
            "apigw-http-teams-activity" => {
                let (status, body) = status_and_body(&outcome.response());
                assert_eq!(
                    (status, &body["error"]),
                    (401, &json!("unauthorized")),
                    "{name}: {body}"
                );
            }
            "apigw-http-health" => {
                let (status, body) = status_and_body(&outcome.response());
                assert_eq!((status, &body["ok"]), (200, &json!(true)), "{name}: {body}");
                assert!(body.get("now").is_some_and(Value::is_u64), "{name}: {body}");
            }
            // `scheduler-reminder`: a reminder's run, as Scheduler delivers it.
            "direct-invoke" | "eventbridge-event" | "scheduler-input" | "scheduler-reminder" => {
                let response = outcome.response();
                assert_eq!(response["ok"], true, "{name}");
                assert_eq!(response["channel"], GROUP);
                assert!(response["id"].as_str().is_some_and(|id| !id.is_empty()));
                expected_messages += 1;
            }
            // Reminders need EventBridge Scheduler, which local mode has not.
            "apigw-http-create-reminder" => {
                let (status, body) = status_and_body(&outcome.response());
                assert_eq!(
                    (status, &body["error"]),
                    (503, &json!("reminders_not_configured")),
                    "{name}: {body}"
                );
            }
            "direct-invoke-remind" => {
                let error = outcome.error();
                assert_eq!(error["errorType"], "reminders_not_configured", "{name}");
            }
            "eventbridge-scheduled-event" => {
                let error = outcome.error();
                assert_eq!(error["errorType"], "empty_event_detail");
                assert!(error["errorMessage"].as_str().unwrap().contains("input"));
            }
            "sqs-batch" => {
                let response = outcome.response();
                assert_eq!(
                    response,
                    json!({"batchItemFailures": [{"itemIdentifier": "2e1424d4-f796-459a-8184-9c92662be6da"}]})
                );
                expected_messages += 1;
            }
            "refresh" => {
                let response = outcome.response();
                assert_eq!(response["ok"], true);
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                assert!(response["skype_token_expires_at"].as_u64().unwrap() > now);
                assert!(response["registration_token_expires_at"].as_u64().unwrap() > now);
            }
            other => panic!("events/{other}.json has no expectation in this test"),
        }
        seen.push(name);
    }
    assert_eq!(seen.len(), 16, "every sample event is used: {seen:?}");

    // The log readers trail the answers by a moment: wait for them.
    let sent_count = |emf: &[Value]| {
        emf.iter()
            .filter(|doc| doc["MessagesSent"] == 1 && doc["Platform"] == "Skype")
            .count()
    };
    let mut emf = function.emf();
    for _ in 0..50 {
        if sent_count(&emf) >= expected_messages - 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        emf = function.emf();
    }
    let sent = sent_count(&emf);
    assert_eq!(
        sent,
        expected_messages - 2,
        "one MessagesSent per post (captions included, files once each): {emf:?}"
    );
    assert!(
        emf.iter().all(|doc| doc["Function"] == "skype-sender"
            && doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "SkypeSender"),
        "{emf:?}"
    );
    assert!(emf.iter().any(|doc| doc["Logins"] == 1), "{emf:?}");

    let stored = fake.messages(GROUP);
    assert_eq!(stored.len(), expected_messages);
    assert_eq!(
        stored
            .iter()
            .filter(|m| m.messagetype == "RichText")
            .count(),
        expected_messages - 2,
        "text messages, and the two files"
    );
    let contents: Vec<_> = stored.iter().filter_map(|m| m.content.clone()).collect();
    assert!(
        contents.contains(&"Backup done ✔".to_string()),
        "form body decoded: {contents:?}"
    );
    assert!(contents.contains(&"Queued message 1".to_string()));
    assert!(
        contents
            .iter()
            .any(|c| c.contains(r#"<b raw_pre="*" raw_post="*">web</b>"#))
    );
    assert_eq!(fake.logins(), 1, "one login for the whole container");
}

#[tokio::test]
async fn every_http_status_has_its_json_body() {
    let fake = fake().await;
    let file = token_file("statuses");
    let function = start(&fake, &file).await;
    let ok_body = json!({"API_KEY": KEY, "msg": "hello", "channel": GROUP});

    let cases: Vec<(&str, Value, u16, &str, Option<&str>)> = vec![
        (
            "original caller",
            post_json(ok_body.clone()),
            200,
            "",
            Some("Posted message"),
        ),
        (
            "wrong key",
            post_json(json!({"API_KEY": "nope", "msg": "x", "channel": GROUP})),
            401,
            "unauthorized",
            Some("incorrect API key"),
        ),
        (
            "no key",
            post_json(json!({"msg": "x", "channel": GROUP})),
            401,
            "unauthorized",
            Some("incorrect API key"),
        ),
        (
            "missing msg",
            post_json(json!({"API_KEY": KEY, "channel": GROUP})),
            400,
            "missing_parameters",
            Some("missing request parameters"),
        ),
        (
            "missing channel",
            post_json(json!({"API_KEY": KEY, "msg": "x"})),
            400,
            "missing_parameters",
            Some("missing request parameters"),
        ),
        (
            "empty msg",
            post_json(json!({"API_KEY": KEY, "msg": "", "channel": GROUP})),
            400,
            "missing_parameters",
            Some("missing request parameters"),
        ),
        (
            "msg not a string",
            post_json(json!({"API_KEY": KEY, "msg": 42, "channel": GROUP})),
            400,
            "invalid_field",
            None,
        ),
        (
            "unknown alias",
            post_json(json!({"API_KEY": KEY, "msg": "x", "channel": "general"})),
            400,
            "unknown_channel",
            None,
        ),
        (
            "system channel",
            post_json(json!({"API_KEY": KEY, "msg": "x", "channel": "48:notes"})),
            400,
            "invalid_channel",
            None,
        ),
        (
            "unknown format",
            post_json(json!({"API_KEY": KEY, "msg": "x", "channel": GROUP, "format": "bbcode"})),
            400,
            "invalid_format",
            None,
        ),
        (
            "long msg",
            post_json(json!({"API_KEY": KEY, "msg": "a".repeat(28_001), "channel": GROUP})),
            413,
            "message_too_long",
            None,
        ),
        (
            "huge body",
            post_json(
                json!({"API_KEY": KEY, "msg": "x", "channel": GROUP, "pad": "a".repeat(300_000)}),
            ),
            413,
            "body_too_large",
            None,
        ),
        (
            "broken json",
            http_v2(
                "POST",
                "/send-message",
                json!({"content-type": "application/json"}),
                "{\"msg\": ",
            ),
            400,
            "invalid_json",
            None,
        ),
        (
            "json array",
            http_v2(
                "POST",
                "/send-message",
                json!({"content-type": "application/json"}),
                "[1]",
            ),
            400,
            "invalid_json",
            None,
        ),
        (
            "xml",
            http_v2(
                "POST",
                "/send-message",
                json!({"content-type": "application/xml"}),
                "<msg/>",
            ),
            415,
            "unsupported_media_type",
            None,
        ),
        (
            "wrong method",
            http_v2("GET", "/send-message", json!({}), ""),
            405,
            "method_not_allowed",
            None,
        ),
        (
            "unknown path",
            http_v2("POST", "/send-mesage", json!({}), ""),
            404,
            "not_found",
            None,
        ),
        (
            "key in header",
            http_v2(
                "POST",
                "/send-message",
                json!({"content-type": "application/json", "x-api-key": KEY}),
                &json!({"msg": "h", "channel": GROUP}).to_string(),
            ),
            200,
            "",
            Some("Posted message"),
        ),
        (
            "key as bearer",
            http_v2(
                "POST",
                "/send-message",
                json!({"content-type": "application/json", "authorization": "Bearer second-key"}),
                &json!({"text": "b", "channel": "standup"}).to_string(),
            ),
            200,
            "",
            Some("Posted message"),
        ),
        (
            "form body",
            http_v2(
                "POST",
                "/send-message",
                json!({"content-type": "application/x-www-form-urlencoded"}),
                &format!("API_KEY={KEY}&msg=a+b&channel=standup"),
            ),
            200,
            "",
            Some("Posted message"),
        ),
        (
            "json sent as form (curl -d)",
            http_v2(
                "POST",
                "/send-message",
                json!({"content-type": "application/x-www-form-urlencoded"}),
                &ok_body.to_string(),
            ),
            200,
            "",
            Some("Posted message"),
        ),
    ];
    for (name, event, status, code, msg) in cases {
        let (got_status, body) = status_and_body(&function.invoke(event).await.response());
        assert_eq!(got_status, status, "{name}: {body}");
        if status != 200 {
            assert_eq!(body["error"], code, "{name}: {body}");
            assert!(
                body["msg"].as_str().is_some_and(|m| !m.is_empty()),
                "{name}"
            );
        }
        if let Some(msg) = msg {
            assert_eq!(body["msg"], msg, "{name}");
        }
    }

    // Base64 bodies, valid and not.
    let mut encoded = post_json(ok_body.clone());
    encoded["body"] = json!(base64::engine::general_purpose::STANDARD.encode(ok_body.to_string()));
    encoded["isBase64Encoded"] = json!(true);
    assert_eq!(
        status_and_body(&function.invoke(encoded.clone()).await.response()).0,
        200
    );
    encoded["body"] = json!("!!! not base64 !!!");
    let (status, body) = status_and_body(&function.invoke(encoded).await.response());
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_body"))
    );

    // 405 says what is allowed.
    let response = function
        .invoke(http_v2("GET", "/send-message", json!({}), ""))
        .await
        .response();
    assert_eq!(response["headers"]["allow"], "POST");
}

#[tokio::test]
async fn skype_failures_reach_the_caller_as_the_design_maps_them() {
    let fake = fake().await;
    let file = token_file("skype-failures");
    let function = start(&fake, &file).await;
    let send = || post_json(json!({"API_KEY": KEY, "msg": "x", "channel": GROUP}));
    assert_eq!(
        status_and_body(&function.invoke(send()).await.response()).0,
        200
    );

    // Paced once: delivered after Skype's Retry-After, within the deadline.
    fake.inject(
        Op::Send,
        Fault::RateLimited {
            retry_after: Some(1),
        },
        1,
    );
    let started = std::time::Instant::now();
    assert_eq!(
        status_and_body(&function.invoke(send()).await.response()).0,
        200
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "Retry-After honoured"
    );

    // Throttled beyond the deadline: 429 with Skype's Retry-After, at once.
    fake.inject(
        Op::Send,
        Fault::RateLimited {
            retry_after: Some(120),
        },
        1,
    );
    let response = function.invoke(send()).await.response();
    let (status, body) = status_and_body(&response);
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("skype_rate_limited"))
    );
    assert_eq!(response["headers"]["retry-after"], "120");

    fake.inject(Op::Send, Fault::Status(503), 1);
    let (status, body) = status_and_body(&function.invoke(send()).await.response());
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("skype_unavailable"))
    );

    fake.inject(Op::Send, Fault::EndpointMissing, 1);
    assert_eq!(
        status_and_body(&function.invoke(send()).await.response()).0,
        200,
        "recovered once"
    );

    // Asynchronous triggers fail the invocation, so Lambda retries them.
    fake.inject(Op::Send, Fault::Status(500), 1);
    let error = function.invoke(sample("eventbridge-event")).await.error();
    assert_eq!(error["errorType"], "skype_unavailable");
}

#[tokio::test]
async fn a_login_wall_is_a_502_that_says_what_to_do() {
    let fake = fake().await;
    fake.inject(Op::Soap, Fault::LoginWall, 1);
    let file = token_file("wall");
    let function = start(&fake, &file).await;
    let (status, body) = status_and_body(
        &function
            .invoke(post_json(
                json!({"API_KEY": KEY, "msg": "x", "channel": GROUP}),
            ))
            .await
            .response(),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (502, Some("skype_login_needs_browser"))
    );
    assert!(body["msg"].as_str().unwrap().contains("browser"));
}

#[tokio::test]
async fn webhook_channels_work_from_the_binary_and_their_urls_never_reach_a_log() {
    let fake = fake().await;
    let hooks = fake_webhooks::FakeWebhooks::start().await;
    let slack = hooks.slack_url("T0042/B0042/sl4ckS3cretPath");
    let teams = hooks.teams_url("flow-9");
    let sig = teams.split("sig=").nth(1).unwrap().to_string();
    let channels = json!({
        "standup": GROUP,
        "alerts": {"kind": "slack-webhook", "url": slack},
        "ops": {"kind": "teams-workflow", "url": teams},
        "everyone": ["standup", "alerts", "ops"],
    });
    let file = token_file("webhooks");
    let function = start_with(
        &fake,
        &[
            ("SKYPE_USERNAME", "fred.adams@example.com"),
            ("SKYPE_PASSWORD", PASSWORD),
            ("API_KEYS", KEY),
            ("CHANNELS", &channels.to_string()),
            ("TOKEN_FILE", &file.to_string_lossy()),
        ],
    )
    .await;
    hooks.inject(
        fake_webhooks::Hook::Slack("T0042/B0042/sl4ckS3cretPath".into()),
        fake_webhooks::Fault::slack(403, "invalid_token"),
        1,
    );
    let mut answers = Vec::new();
    for _ in 0..2 {
        let event = post_json(
            json!({"API_KEY": KEY, "msg": "**fan-out**", "channel": "everyone", "format": "markdown", "idempotency_key": "fan-1"}),
        );
        answers.push(status_and_body(&function.invoke(event).await.response()));
    }
    assert_eq!(answers[0].0, 207, "{answers:?}");
    assert_eq!(
        answers[1].0, 200,
        "the retry posts only to Slack: {answers:?}"
    );
    assert_eq!(fake.messages(GROUP).len(), 1);
    assert_eq!(hooks.received().len(), 2, "one card, one Slack message");

    let everything = format!("{}\n{answers:?}", function.logs());
    assert!(everything.contains("webhook_revoked"), "logs were captured");
    for secret in ["sl4ckS3cretPath", sig.as_str(), "/services/", "/workflows/"] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
}

#[tokio::test]
async fn a_new_container_reuses_the_saved_token_file_and_nothing_leaks() {
    let fake = fake().await;
    let file = token_file("reuse");
    let first = start(&fake, &file).await;
    let mut answers = Vec::new();
    answers.push(
        first
            .invoke(post_json(
                json!({"API_KEY": KEY, "msg": "one", "channel": GROUP}),
            ))
            .await
            .response(),
    );
    answers.push(first.invoke(sample("refresh")).await.response());
    answers.push(first.invoke(sample("sqs-batch")).await.response());
    let saved = std::fs::read_to_string(&file).expect("the session was saved");
    assert_eq!(saved.lines().count(), 6, "SkPy's six lines");

    let second = start(&fake, &file).await;
    answers.push(second.invoke(sample("direct-invoke")).await.response());
    assert_eq!(
        fake.logins(),
        1,
        "the second container used the saved session"
    );
    assert_eq!(fake.messages(GROUP).len(), 3);

    let skype_token = saved.lines().nth(1).unwrap();
    let registration_token = saved.lines().nth(3).unwrap();
    let everything = format!("{}\n{}\n{answers:?}", first.logs(), second.logs());
    assert!(everything.contains("message posted"), "logs were captured");
    for secret in [
        PASSWORD,
        KEY,
        "second-key",
        skype_token,
        registration_token.trim_start_matches("registrationToken="),
    ] {
        assert!(
            !everything.contains(secret),
            "a secret leaked into logs or answers"
        );
    }
}

#[tokio::test]
async fn in_aws_mode_the_binary_reads_the_secret_and_the_token_from_s3() {
    let fake = fake().await;
    let moto = moto::Moto::start().await;
    let sdk = moto::sdk_config(&moto.endpoint).await;
    let counter = moto::RequestCounter::default();
    let s3 = moto::s3(&sdk, &counter);
    s3.create_bucket().bucket("tokens").send().await.unwrap();
    let secret = json!({
        "username": "fred.adams@example.com",
        "password": PASSWORD,
        "api_keys": [KEY],
        "channels": {"standup": GROUP}
    });
    moto::create_secret(
        &moto::secrets(&sdk, &counter),
        "skype-sender",
        &secret.to_string(),
    )
    .await;
    let aws = [
        ("SECRET_ID", "skype-sender"),
        ("TOKEN_BUCKET", "tokens"),
        ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    let function = start_with(&fake, &aws).await;

    let answer = function
        .invoke(post_json(
            json!({"API_KEY": KEY, "msg": "from AWS mode", "channel": "standup"}),
        ))
        .await
        .response();
    assert_eq!(status_and_body(&answer).0, 200, "{answer}");
    let text = moto::get_text(&s3, "tokens", "skype/token").await.unwrap();
    assert_eq!(
        text.lines().count(),
        6,
        "the session was written to S3 as a SkPy token file"
    );

    // A second container finds it there: no second login. It names the
    // endpoints with the SDK's per-service variables instead.
    let per_service = [
        ("SECRET_ID", "skype-sender"),
        ("TOKEN_BUCKET", "tokens"),
        ("AWS_ENDPOINT_URL_S3", moto.endpoint.as_str()),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto.endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ];
    let second = start_with(&fake, &per_service).await;
    assert_eq!(
        second.invoke(sample("direct-invoke")).await.response()["ok"],
        true
    );
    assert_eq!(fake.logins(), 1);
    let skype_token = text.lines().nth(1).unwrap();
    let logs = format!("{}{}", function.logs(), second.logs());
    assert!(!logs.contains(skype_token) && !logs.contains(PASSWORD) && !logs.contains(KEY));
}

#[tokio::test]
async fn with_lambda_concurrency_one_container_serves_many_invocations_and_logs_in_once() {
    let fake = fake().await;
    let file = token_file("concurrent");
    let token_file = file.to_string_lossy().into_owned();
    let function = start_with(
        &fake,
        &[
            ("SKYPE_USERNAME", "fred.adams@example.com"),
            ("SKYPE_PASSWORD", PASSWORD),
            ("API_KEYS", KEY),
            ("TOKEN_FILE", &token_file),
            ("AWS_LAMBDA_MAX_CONCURRENCY", "8"),
        ],
    )
    .await;
    fake.inject(
        Op::Send,
        Fault::Slow(std::time::Duration::from_millis(200)),
        16,
    );
    let invocations: Vec<_> = (0..16)
        .map(|i| {
            let runtime = function.runtime.clone();
            tokio::spawn(async move {
                runtime
                    .invoke(post_json(
                        json!({"API_KEY": KEY, "msg": format!("c{i}"), "channel": GROUP}),
                    ))
                    .await
            })
        })
        .collect();
    for invocation in invocations {
        let (status, body) = status_and_body(&invocation.await.unwrap().response());
        assert_eq!(status, 200, "{body}");
    }
    assert!(
        function.runtime.max_in_flight() > 1,
        "invocations overlapped in one process"
    );
    assert_eq!(fake.logins(), 1, "one shared session, one login");
    assert_eq!(fake.messages(GROUP).len(), 16);
}

/// Lambda's JSON log format: a line whose `level` is below
/// `ApplicationLogLevel` is dropped, and a line without a valid `level` and
/// RFC 3339 `timestamp` counts as INFO (docs/architecture.md, "Logs and
/// metrics"). Applied to what the binary printed, the metric lines must
/// survive every setting, or the alarms would go silent.
#[tokio::test]
async fn metric_lines_survive_lambdas_log_level_filter() {
    const LEVELS: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
    let rank = |level: &str| {
        LEVELS
            .iter()
            .position(|known| known.eq_ignore_ascii_case(level))
    };
    let fake = fake().await;
    for setting in ["INFO", "WARN", "ERROR"] {
        let file = token_file(&format!("lambda-level-{setting}"));
        let file = file.to_string_lossy().into_owned();
        let before = skype_sender::telemetry::rfc3339(skype_sender::clock::unix_millis());
        let function = start_with(
            &fake,
            &[
                ("SKYPE_USERNAME", "fred.adams@example.com"),
                ("SKYPE_PASSWORD", PASSWORD),
                ("API_KEYS", KEY),
                ("CHANNELS", &format!(r#"{{"standup": "{GROUP}"}}"#)),
                ("TOKEN_FILE", &file),
                ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
                ("AWS_LAMBDA_LOG_LEVEL", setting),
            ],
        )
        .await;
        let answer = function
            .invoke(post_json(
                json!({"API_KEY": KEY, "msg": format!("at {setting}"), "channel": "standup"}),
            ))
            .await;
        let (status, body) = status_and_body(&answer.response());
        assert_eq!(status, 200, "{setting}: {body}");
        for _ in 0..100 {
            if function.emf().iter().any(|doc| doc["MessagesSent"] == 1) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // Every line read so far was stamped before this instant.
        let logs = function.logs();
        let after = skype_sender::telemetry::rfc3339(skype_sender::clock::unix_millis());

        // What Lambda would forward to CloudWatch Logs.
        let (mut kept, mut metric_lines) = (Vec::new(), 0);
        for line in logs.lines() {
            let doc: Value = serde_json::from_str(line)
                .unwrap_or_else(|_| panic!("{setting}: not a JSON line: {line}"));
            let stamp = doc["timestamp"].as_str().unwrap_or_default();
            assert!(
                (before.as_str()..=after.as_str()).contains(&stamp),
                "{setting}: no RFC 3339 timestamp of now: {line}"
            );
            let level = doc["level"]
                .as_str()
                .and_then(rank)
                .unwrap_or_else(|| panic!("{setting}: no level Lambda knows: {line}"));
            metric_lines += usize::from(doc.get("_aws").is_some());
            if level >= rank(setting).unwrap() {
                kept.push(doc);
            }
        }
        let kept_metrics: Vec<&Value> = kept
            .iter()
            .filter(|doc| doc.get("_aws").is_some())
            .collect();
        assert_eq!(
            kept_metrics.len(),
            metric_lines,
            "{setting}: every metric line is kept"
        );
        assert!(
            kept_metrics.iter().any(|doc| doc["MessagesSent"] == 1)
                && kept_metrics.iter().any(|doc| doc["Logins"] == 1),
            "{setting}: {kept_metrics:?}"
        );
        // Not above the setting: at INFO a metric line is not a warning.
        for doc in kept_metrics {
            assert_eq!(doc["level"], setting, "{doc}");
        }
    }
}

#[tokio::test]
async fn no_log_level_prints_a_key_and_a_repeat_counts_as_deduplicated() {
    let fake = fake().await;
    let keys = [KEY, "second-key-5d1e", "third-key-9b2c"];
    for (variable, level) in [
        ("AWS_LAMBDA_LOG_LEVEL", "TRACE"),
        ("RUST_LOG", "trace"),
        ("AWS_LAMBDA_LOG_LEVEL", "DEBUG"),
        ("AWS_LAMBDA_LOG_LEVEL", "INFO"),
        ("AWS_LAMBDA_LOG_LEVEL", "WARN"),
        ("AWS_LAMBDA_LOG_LEVEL", "ERROR"),
    ] {
        let file = token_file(&format!("levels-{variable}-{level}"));
        let file = file.to_string_lossy().into_owned();
        let function = start_with(
            &fake,
            &[
                ("SKYPE_USERNAME", "fred.adams@example.com"),
                ("SKYPE_PASSWORD", PASSWORD),
                ("API_KEYS", &keys.join(",")),
                ("CHANNELS", &format!(r#"{{"standup": "{GROUP}"}}"#)),
                ("TOKEN_FILE", &file),
                (variable, level),
            ],
        )
        .await;
        let body = |text: &str| json!({"msg": text, "channel": "standup"}).to_string();
        let events = [
            post_json(json!({"API_KEY": keys[0], "msg": "in the body", "channel": "standup"})),
            http_v2(
                "POST",
                "/send-message",
                json!({"content-type": "application/json", "x-api-key": keys[1], "idempotency-key": format!("once-{level}-{variable}")}),
                &body("in a header"),
            ),
            http_v2(
                "POST",
                "/send-message",
                json!({"content-type": "application/json", "x-api-key": keys[1], "idempotency-key": format!("once-{level}-{variable}")}),
                &body("in a header"),
            ),
            http_v2(
                "POST",
                "/send-message",
                json!({"content-type": "application/json", "authorization": format!("Bearer {}", keys[2])}),
                &body("as a bearer"),
            ),
        ];
        let mut answers = Vec::new();
        for event in events {
            let (status, answer) = status_and_body(&function.invoke(event).await.response());
            assert_eq!(status, 200, "{level}: {answer}");
            answers.push(answer);
        }
        assert_eq!(
            answers[1]["id"], answers[2]["id"],
            "the repeat answers the first"
        );

        // The log readers trail the answers: wait for the last metric line.
        let emf = || function.emf();
        for _ in 0..100 {
            if emf().iter().filter(|doc| doc["MessagesSent"] == 1).count() >= 3 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let emf = emf();
        let sent = emf.iter().filter(|doc| doc["MessagesSent"] == 1).count();
        let repeated = emf
            .iter()
            .filter(|doc| doc["MessagesDeduplicated"] == 1)
            .count();
        assert_eq!((sent, repeated), (3, 1), "{level}: {emf:?}");

        let logs = function.logs();
        if level.eq_ignore_ascii_case("trace") {
            assert!(
                logs.contains("message posted"),
                "{variable}={level}: logs were captured"
            );
            assert!(
                logs.contains("posted nothing"),
                "the repeat is logged as one"
            );
        }
        for key in keys {
            assert!(
                !logs.contains(key),
                "{variable}={level}: an API key reached the logs"
            );
        }
    }
}

/// A reminder's runs through the real binary: Scheduler's retries of one
/// occurrence (a new execution id each) post once; the next occurrence
/// posts again.
#[tokio::test]
async fn a_reminder_posts_once_per_occurrence_whatever_the_retries() {
    let fake = fake().await;
    let file = token_file("reminder-runs");
    let function = start(&fake, &file).await;
    let run = sample("scheduler-reminder");
    let first = function.invoke(run.clone()).await.response();
    assert_eq!(first["ok"], true, "{first}");

    let mut retry = run.clone();
    retry["reminder"]["execution"] = json!("0c9d1e2f-retry");
    let again = function.invoke(retry).await.response();
    assert_eq!(again["id"], first["id"], "the same post answered: {again}");
    assert_eq!(fake.messages(GROUP).len(), 1, "posted once");

    let mut next = run.clone();
    next["reminder"]["at"] = json!("2026-12-08T09:55:00Z");
    let later = function.invoke(next).await.response();
    assert_ne!(later["id"], first["id"]);
    assert_eq!(fake.messages(GROUP).len(), 2);

    // A run whose placeholders were never filled in is no occurrence.
    let mut raw = run;
    raw["reminder"]["at"] = json!("<aws.scheduler.scheduled-time>");
    let error = function.invoke(raw).await.error();
    assert_eq!(error["errorType"], "invalid_field");
    assert_eq!(fake.messages(GROUP).len(), 2);
}

/// Reminders through the real binary in AWS mode, against moto's
/// EventBridge Scheduler: `POST /reminders` creates the schedule (its
/// target the ARN the function is invoked by), and the schedule's own
/// input, filled in as Scheduler fills it, posts once per run.
#[tokio::test]
async fn a_reminder_made_over_http_runs_from_its_schedule_once_per_occurrence() {
    let fake = fake().await;
    let moto = moto::Moto::start().await;
    let sdk = moto::sdk_config(&moto.endpoint).await;
    let counter = moto::RequestCounter::default();
    moto::s3(&sdk, &counter)
        .create_bucket()
        .bucket("tokens")
        .send()
        .await
        .unwrap();
    let secret = json!({
        "username": "fred.adams@example.com",
        "password": PASSWORD,
        "api_keys": [KEY],
        "channels": {"standup": GROUP}
    });
    moto::create_secret(
        &moto::secrets(&sdk, &counter),
        "skype-sender",
        &secret.to_string(),
    )
    .await;
    let scheduler = moto::scheduler(&sdk, &counter);
    moto::create_schedule_group(&scheduler, "skype-sender-reminders").await;
    let role = "arn:aws:iam::123456789012:role/skype-sender-reminders";
    let function = start_with(
        &fake,
        &[
            ("SECRET_ID", "skype-sender"),
            ("TOKEN_BUCKET", "tokens"),
            ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
            ("SCHEDULE_GROUP", "skype-sender-reminders"),
            ("SCHEDULER_ROLE_ARN", role),
        ],
    )
    .await;

    let create = lambda_harness::events::json_request(
        "POST",
        "/reminders",
        KEY,
        json!({"msg": "stand-up in 5", "channel": "standup", "every": {"days": "weekdays", "time": "09:55"}, "timezone": "America/New_York"}),
    );
    let (status, created) = status_and_body(&function.invoke(create).await.response());
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let stored = scheduler
        .get_schedule()
        .group_name("skype-sender-reminders")
        .name(id)
        .send()
        .await
        .unwrap();
    let target = stored.target().unwrap();
    assert_eq!(
        target.arn(),
        "arn:aws:lambda:us-east-1:123456789012:function:skype-sender",
        "the target is the function, as it is invoked"
    );
    assert_eq!(target.role_arn(), role);
    let run = |at: &str, execution: &str| -> Value {
        let input = target
            .input()
            .unwrap()
            .replace("<aws.scheduler.schedule-arn>", stored.arn().unwrap())
            .replace("<aws.scheduler.scheduled-time>", at)
            .replace("<aws.scheduler.execution-id>", execution);
        serde_json::from_str(&input).unwrap()
    };
    let first = function
        .invoke(run("2026-12-07T14:55:00Z", "e-1"))
        .await
        .response();
    assert_eq!(first["ok"], true, "{first}");
    function
        .invoke(run("2026-12-07T14:55:00Z", "e-2"))
        .await
        .response();
    assert_eq!(fake.messages(GROUP).len(), 1, "one post per run");
    function
        .invoke(run("2026-12-08T14:55:00Z", "e-3"))
        .await
        .response();
    assert_eq!(fake.messages(GROUP).len(), 2);

    let (status, listed) = status_and_body(
        &function
            .invoke(lambda_harness::events::json_request(
                "GET",
                "/reminders",
                KEY,
                json!(null),
            ))
            .await
            .response(),
    );
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["reminders"][0]["id"], id);
    assert!(!function.logs().contains(KEY));
}
