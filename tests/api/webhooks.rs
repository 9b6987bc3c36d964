//! The webhook clients (Teams Workflows, Slack) against the strict local
//! fake of both services, over real HTTP on loopback: happy paths, every
//! error class and its API error, Retry-After, timeouts, redirects, and that
//! no URL ever leaks into an error.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fake_webhooks::{FakeWebhooks, Fault, Hook};
use serde_json::{Value, json};
use skype_sender::error::AppError;
use skype_sender::webhooks::{
    Platform, Receipt, WebhookError, WebhookTimeouts, WebhookUrl, Webhooks, teams,
};

const FLOW: &str = "flow-1";
const SLACK_HOOK: &str = "T000/B000/XXXXSECRETXXXX";

fn client() -> Webhooks {
    Webhooks::new(WebhookTimeouts::default()).unwrap()
}

fn url(text: &str) -> WebhookUrl {
    WebhookUrl::parse(text).unwrap()
}

fn card() -> Vec<Value> {
    vec![
        json!({"type": "TextBlock", "text": "**Deploy** finished", "wrap": true}),
        json!({"type": "FactSet", "facts": [{"title": "env", "value": "prod"}]}),
    ]
}

/// The `sig` of a Teams URL the fake issued.
fn sig_of(teams_url: &str) -> String {
    teams_url.split("sig=").nth(1).unwrap().to_string()
}

fn teams_hook() -> Hook {
    Hook::Teams(FLOW.into())
}

fn slack_hook() -> Hook {
    Hook::Slack(SLACK_HOOK.into())
}

// ------------------------------------------------------------ happy paths

#[tokio::test]
async fn teams_posts_the_card_envelope_and_is_accepted() {
    let fake = FakeWebhooks::start().await;
    let target = url(&fake.teams_url(FLOW));
    let receipt = client().post_teams(&target, card()).await.unwrap();
    assert_eq!(receipt, Receipt::Accepted);
    assert!(receipt.describe().contains("202"));
    let received = fake.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].hook, teams_hook());
    assert_eq!(received[0].json, teams::envelope(card()));
    let exchange = &fake.exchanges()[0];
    assert_eq!(exchange.status, 202);
    assert_eq!(exchange.content_type.as_deref(), Some("application/json"));
}

#[tokio::test]
async fn slack_posts_text_and_is_delivered() {
    let fake = FakeWebhooks::start().await;
    let target = url(&fake.slack_url(SLACK_HOOK));
    let text = "*Deploy* finished: <https://example.com|logs> — ✅ \"quoted\"\nline 2";
    let receipt = client().post_slack(&target, text).await.unwrap();
    assert_eq!(receipt, Receipt::Delivered);
    let received = fake.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].hook, slack_hook());
    assert_eq!(received[0].json, json!({ "text": text }));
}

#[tokio::test]
async fn one_client_serves_both_platforms_concurrently() {
    let fake = FakeWebhooks::start().await;
    let client = client();
    let teams_url = url(&fake.teams_url(FLOW));
    let slack_url = url(&fake.slack_url(SLACK_HOOK));
    let (a, b) = tokio::join!(
        client.post_teams(&teams_url, card()),
        client.post_slack(&slack_url, "hi")
    );
    assert_eq!(
        (a.unwrap(), b.unwrap()),
        (Receipt::Accepted, Receipt::Delivered)
    );
    assert_eq!(fake.received().len(), 2);
}

// ------------------------------------------------------- Teams error classes

#[tokio::test]
async fn teams_wrong_sig_is_revoked() {
    let fake = FakeWebhooks::start().await;
    let issued = fake.teams_url(FLOW);
    let wrong = issued.replace(&sig_of(&issued), "notTheRightSignature");
    let err = client().post_teams(&url(&wrong), card()).await.unwrap_err();
    assert_eq!(
        err,
        WebhookError::Revoked {
            platform: Platform::TeamsWorkflow,
            status: 401,
            code: Some("DirectApiInvalidAuthorizationSignature".into())
        }
    );
    let app = AppError::from(err);
    assert_eq!((app.status, app.code.as_str()), (502, "webhook_revoked"));
    assert!(fake.received().is_empty());
}

#[tokio::test]
async fn teams_deleted_workflow_is_revoked() {
    let fake = FakeWebhooks::start().await;
    let target = url(&fake.teams_url(FLOW));
    fake.delete(&teams_hook());
    let err = client().post_teams(&target, card()).await.unwrap_err();
    assert!(matches!(
        &err,
        WebhookError::Revoked { platform: Platform::TeamsWorkflow, status: 404, code: Some(code) }
            if code == "WorkflowNotFound"
    ));
    assert_eq!(AppError::from(err).code, "webhook_revoked");
}

#[tokio::test]
async fn teams_403_is_revoked() {
    let fake = FakeWebhooks::start().await;
    let target = url(&fake.teams_url(FLOW));
    fake.inject(teams_hook(), Fault::azure(403, "AuthorizationFailed"), 1);
    let err = client().post_teams(&target, card()).await.unwrap_err();
    assert!(matches!(err, WebhookError::Revoked { status: 403, .. }));
}

#[tokio::test]
async fn teams_refused_cards_are_payload_errors() {
    let fake = FakeWebhooks::start().await;
    let target = url(&fake.teams_url(FLOW));
    let client = client();
    let bad_bodies = [
        vec![],
        vec![json!({"type": "Marquee", "text": "x"})],
        vec![json!({"type": "TextBlock"})],
        vec![json!({"type": "Container", "items": [{"type": "TextBlock", "text": 5}]})],
    ];
    for body in bad_bodies {
        let err = client.post_teams(&target, body.clone()).await.unwrap_err();
        assert_eq!(
            err,
            WebhookError::PayloadRefused {
                platform: Platform::TeamsWorkflow,
                status: 400,
                code: Some("TriggerInputSchemaMismatch".into())
            },
            "{body:?}"
        );
        let app = AppError::from(err);
        assert_eq!(
            (app.status, app.code.as_str()),
            (502, "webhook_payload_refused")
        );
    }
    assert!(fake.received().is_empty());
}

#[tokio::test]
async fn teams_rate_limit_carries_retry_after_seconds() {
    let fake = FakeWebhooks::start().await;
    let target = url(&fake.teams_url(FLOW));
    fake.inject(
        teams_hook(),
        Fault::azure(429, "WorkflowRequestsThrottled").with_retry_after("7"),
        1,
    );
    let err = client().post_teams(&target, card()).await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(err.is_transient());
    let app = AppError::from(err);
    assert_eq!(
        (app.status, app.code.as_str(), app.retry_after),
        (429, "webhook_rate_limited", Some(7))
    );
    assert!(app.is_retryable());
    // The fault was for one request only.
    assert_eq!(
        client().post_teams(&target, card()).await,
        Ok(Receipt::Accepted)
    );
}

#[tokio::test]
async fn teams_server_errors_are_unavailable() {
    let fake = FakeWebhooks::start().await;
    let target = url(&fake.teams_url(FLOW));
    for status in [500, 502, 503] {
        fake.inject(teams_hook(), Fault::azure(status, "ServiceUnavailable"), 1);
        let err = client().post_teams(&target, card()).await.unwrap_err();
        assert_eq!(
            err,
            WebhookError::Unavailable {
                platform: Platform::TeamsWorkflow,
                status: Some(status)
            }
        );
        let app = AppError::from(err);
        assert_eq!(
            (app.status, app.code.as_str(), app.retry_after),
            (503, "webhook_unavailable", Some(5))
        );
    }
}

// ------------------------------------------------------- Slack error classes

#[tokio::test]
async fn slack_codes_map_to_classes_and_api_errors() {
    let fake = FakeWebhooks::start().await;
    let target = url(&fake.slack_url(SLACK_HOOK));
    let client = client();
    let cases: &[(u16, &str, u16, &str)] = &[
        (400, "invalid_payload", 502, "webhook_payload_refused"),
        (400, "too_many_attachments", 502, "webhook_payload_refused"),
        (400, "no_text", 502, "webhook_payload_refused"),
        (403, "action_prohibited", 502, "webhook_destination_refused"),
        (
            403,
            "posting_to_general_channel_denied",
            502,
            "webhook_destination_refused",
        ),
        (404, "channel_not_found", 502, "webhook_destination_refused"),
        (404, "user_not_found", 502, "webhook_destination_refused"),
        (
            410,
            "channel_is_archived",
            502,
            "webhook_destination_refused",
        ),
        (403, "invalid_token", 502, "webhook_revoked"),
        (404, "no_service", 502, "webhook_revoked"),
        (404, "no_service_id", 502, "webhook_revoked"),
        (404, "no_team", 502, "webhook_revoked"),
        (403, "team_disabled", 502, "webhook_revoked"),
        (500, "rollup_error", 503, "webhook_unavailable"),
    ];
    for &(status, code, app_status, app_code) in cases {
        fake.inject(slack_hook(), Fault::slack(status, code), 1);
        let err = client.post_slack(&target, "hello").await.unwrap_err();
        assert_eq!(err.platform(), Platform::SlackWebhook);
        let message = err.to_string();
        assert!(message.contains("Slack"), "{message}");
        if app_status == 502 {
            assert!(message.contains(code), "{message}");
            assert!(message.contains(&format!("HTTP {status}")), "{message}");
        }
        let app = AppError::from(err);
        assert_eq!(
            (app.status, app.code.as_str()),
            (app_status, app_code),
            "{code}"
        );
    }
    assert!(fake.received().is_empty());
}

#[tokio::test]
async fn slack_unknown_or_wrong_hooks_are_revoked() {
    let fake = FakeWebhooks::start().await;
    fake.slack_url(SLACK_HOOK);
    let client = client();
    let base = format!("http://127.0.0.1:{}/services", fake.port());
    let wrong_secret = url(&format!("{base}/T000/B000/notTheSecret"));
    assert_eq!(
        client.post_slack(&wrong_secret, "x").await.unwrap_err(),
        WebhookError::Revoked {
            platform: Platform::SlackWebhook,
            status: 403,
            code: Some("invalid_token".into())
        }
    );
    let unknown = url(&format!("{base}/T999/B999/whatever"));
    assert_eq!(
        client.post_slack(&unknown, "x").await.unwrap_err(),
        WebhookError::Revoked {
            platform: Platform::SlackWebhook,
            status: 404,
            code: Some("no_service".into())
        }
    );
    let target = url(&fake.slack_url(SLACK_HOOK));
    fake.delete(&slack_hook());
    let err = client.post_slack(&target, "x").await.unwrap_err();
    assert_eq!(AppError::from(err).code, "webhook_revoked");
}

#[tokio::test]
async fn slack_refuses_empty_text() {
    let fake = FakeWebhooks::start().await;
    let target = url(&fake.slack_url(SLACK_HOOK));
    let err = client().post_slack(&target, "  ").await.unwrap_err();
    assert_eq!(
        err,
        WebhookError::PayloadRefused {
            platform: Platform::SlackWebhook,
            status: 400,
            code: Some("no_text".into())
        }
    );
}

#[tokio::test]
async fn slack_rate_limit_reads_an_http_date() {
    let fake = FakeWebhooks::start().await;
    let target = url(&fake.slack_url(SLACK_HOOK));
    // 2100-12-31 23:59:59 UTC.
    let at = 4_133_980_799u64;
    fake.inject(
        slack_hook(),
        Fault::slack(429, "rate_limited").with_retry_after("Fri, 31 Dec 2100 23:59:59 GMT"),
        1,
    );
    let err = client().post_slack(&target, "x").await.unwrap_err();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let wait = err.retry_after().unwrap().as_secs();
    assert!(wait.abs_diff(at - now) <= 2, "{wait} vs {}", at - now);
    assert_eq!(AppError::from(err).code, "webhook_rate_limited");

    // A date already past means "now": the API still asks for 1 s.
    fake.inject(
        slack_hook(),
        Fault::slack(429, "rate_limited").with_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
        1,
    );
    let err = client().post_slack(&target, "x").await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::ZERO));
    assert_eq!(AppError::from(err).retry_after, Some(1));

    // No Retry-After at all.
    fake.inject(slack_hook(), Fault::slack(429, "rate_limited"), 1);
    let err = client().post_slack(&target, "x").await.unwrap_err();
    assert_eq!(err.retry_after(), None);
    assert_eq!(AppError::from(err).retry_after, Some(1));
}

// ------------------------------------------------- transport-level failures

#[tokio::test]
async fn a_slow_webhook_times_out() {
    let fake = FakeWebhooks::start().await;
    let target = url(&fake.slack_url(SLACK_HOOK));
    fake.inject(slack_hook(), Fault::Delay(Duration::from_secs(3)), 1);
    let quick = Webhooks::new(WebhookTimeouts {
        connect: Duration::from_secs(1),
        total: Duration::from_millis(300),
    })
    .unwrap();
    let started = std::time::Instant::now();
    let err = quick.post_slack(&target, "x").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        err,
        WebhookError::Timeout {
            platform: Platform::SlackWebhook
        }
    );
    let app = AppError::from(err);
    assert_eq!((app.status, app.code.as_str()), (504, "outcome_unknown"));
}

#[tokio::test]
async fn a_closed_port_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let target = url(&format!("http://127.0.0.1:{port}/services/T/B/S"));
    let err = client().post_slack(&target, "x").await.unwrap_err();
    assert_eq!(
        err,
        WebhookError::Unavailable {
            platform: Platform::SlackWebhook,
            status: None
        }
    );
    let app = AppError::from(err);
    assert_eq!(
        (app.status, app.code.as_str(), app.retry_after),
        (503, "webhook_unavailable", Some(5))
    );
}

#[tokio::test]
async fn redirects_are_never_followed() {
    let fake = FakeWebhooks::start().await;
    let target = url(&fake.teams_url(FLOW));
    // Another, valid workflow behind another host name: following the
    // redirect would post there (and hand it the message).
    let elsewhere = fake.teams_url("flow-2").replace("127.0.0.1", "localhost");
    for status in [301, 302, 307, 308] {
        fake.inject(
            teams_hook(),
            Fault::Redirect {
                status,
                location: elsewhere.clone(),
            },
            1,
        );
        let err = client().post_teams(&target, card()).await.unwrap_err();
        assert_eq!(
            err,
            WebhookError::Unexpected {
                platform: Platform::TeamsWorkflow,
                status,
                code: None
            }
        );
        let app = AppError::from(err);
        assert_eq!((app.status, app.code.as_str()), (502, "webhook_bad_answer"));
    }
    assert!(fake.received().is_empty());
    let exchanges = fake.exchanges();
    assert_eq!(exchanges.len(), 4);
    assert!(
        exchanges
            .iter()
            .all(|e| e.path.contains("/workflows/flow-1/"))
    );
}

// ------------------------------------------------------------ no URL leaks

/// Every error the client can produce, from URLs whose secrets are known.
#[tokio::test]
async fn no_error_or_api_message_shows_the_url() {
    let fake = FakeWebhooks::start().await;
    let teams_url = fake.teams_url("flow-secret-id");
    let teams_sig = sig_of(&teams_url);
    let teams_hook = Hook::Teams("flow-secret-id".into());
    let slack_path = "T0LEAK/B0LEAK/SlackSecretValue42";
    let slack_url = fake.slack_url(slack_path);
    let slack_hook = Hook::Slack(slack_path.into());
    let secrets = [
        teams_url.as_str(),
        teams_sig.as_str(),
        "flow-secret-id",
        slack_url.as_str(),
        "SlackSecretValue42",
        "/services/",
        "/workflows/",
    ];

    let quick = Webhooks::new(WebhookTimeouts {
        connect: Duration::from_secs(1),
        total: Duration::from_millis(300),
    })
    .unwrap();
    let (teams, slack) = (url(&teams_url), url(&slack_url));
    let mut errors = Vec::new();
    // The Azure body of a bad sig may echo the request; so may Slack's text.
    let wrong_sig = url(&teams_url.replace(&teams_sig, "x"));
    errors.push(quick.post_teams(&wrong_sig, card()).await.unwrap_err());
    errors.push(quick.post_teams(&teams, vec![]).await.unwrap_err());
    for fault in [
        Fault::azure(429, "Throttled").with_retry_after("3"),
        Fault::azure(500, "InternalServerError"),
        Fault::Answer {
            status: 404,
            body: format!("no workflow at {teams_url}"),
            content_type: "text/plain",
            retry_after: None,
        },
        Fault::Redirect {
            status: 302,
            location: teams_url.clone(),
        },
        Fault::Delay(Duration::from_secs(2)),
    ] {
        fake.inject(teams_hook.clone(), fault, 1);
        errors.push(quick.post_teams(&teams, card()).await.unwrap_err());
    }
    for fault in [
        Fault::slack(410, "channel_is_archived"),
        Fault::slack(403, "invalid_token"),
        Fault::slack(400, &format!("invalid_payload for {slack_url}")),
        Fault::slack(200, &slack_url),
        Fault::Delay(Duration::from_secs(2)),
    ] {
        fake.inject(slack_hook.clone(), fault, 1);
        errors.push(quick.post_slack(&slack, "x").await.unwrap_err());
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let dead = url(&format!("http://127.0.0.1:{port}/services/{slack_path}"));
    errors.push(quick.post_slack(&dead, "x").await.unwrap_err());

    assert_eq!(errors.len(), 13);
    let kinds: std::collections::HashSet<_> = errors.iter().map(std::mem::discriminant).collect();
    assert_eq!(kinds.len(), 7, "every class is covered: {errors:?}");
    for err in errors {
        let app = AppError::from(err.clone());
        let shown = format!("{err} | {err:?} | {app} | {app:?} | {teams:?} {slack}");
        for secret in secrets {
            assert!(!shown.contains(secret), "{secret} leaked in: {shown}");
        }
    }
}

// ------------------------------------------------ the fake itself is strict

/// Raw requests the client would never send: the fake must refuse them as
/// the services do, or the client tests above would prove nothing.
#[tokio::test]
async fn the_fake_refuses_what_the_services_refuse() {
    let fake = FakeWebhooks::start().await;
    let http = reqwest::Client::new();
    let teams_url = fake.teams_url(FLOW);
    let slack_url = fake.slack_url(SLACK_HOOK);
    let good = teams::envelope(card());

    let post_json = |target: &str, body: &Value| http.post(target).json(body).send();
    let code = |body: &str| -> String {
        serde_json::from_str::<Value>(body).unwrap()["error"]["code"]
            .as_str()
            .unwrap()
            .to_string()
    };

    // Teams: URL checks.
    let no_sig = teams_url.split("&sig=").next().unwrap().to_string();
    let resp = post_json(&no_sig, &good).await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        code(&resp.text().await.unwrap()),
        "DirectApiAuthorizationRequired"
    );
    let old_api = teams_url.replace("2016-06-01", "2015-08-01-preview");
    assert_eq!(post_json(&old_api, &good).await.unwrap().status(), 400);
    let resp = post_json(&teams_url.replace("sv=1.0", "sv=2.0"), &good)
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let get = http.get(&teams_url).send().await.unwrap();
    assert_eq!(get.status(), 405);

    // Teams: the envelope.
    let mut mutations: Vec<Value> = Vec::new();
    let mut wrong_type = good.clone();
    wrong_type["type"] = json!("card");
    mutations.push(wrong_type);
    let mut wrong_content_type = good.clone();
    wrong_content_type["attachments"][0]["contentType"] =
        json!("application/vnd.microsoft.card.hero");
    mutations.push(wrong_content_type);
    let mut not_adaptive = good.clone();
    not_adaptive["attachments"][0]["content"]["type"] = json!("HeroCard");
    mutations.push(not_adaptive);
    let mut numeric_version = good.clone();
    numeric_version["attachments"][0]["content"]["version"] = json!(1.4);
    mutations.push(numeric_version);
    mutations.push(json!({"type": "message", "attachments": []}));
    mutations.push(json!({"text": "hello"}));
    mutations.push(teams::envelope(vec![
        json!({"type": "FactSet", "facts": [{"title": "a"}]}),
    ]));
    mutations.push(teams::envelope(vec![
        json!({"type": "ColumnSet", "columns": [{"type": "Column", "items": [{"type": "Bogus"}]}]}),
    ]));
    mutations.push(teams::envelope(vec![
        json!({"type": "RichTextBlock", "inlines": [{"type": "TextRun"}]}),
    ]));
    mutations.push(teams::envelope(vec![json!({"type": "Image"})]));
    for body in &mutations {
        let resp = post_json(&teams_url, body).await.unwrap();
        assert_eq!(resp.status(), 400, "{body}");
        assert_eq!(
            code(&resp.text().await.unwrap()),
            "TriggerInputSchemaMismatch"
        );
    }
    let as_text = http
        .post(&teams_url)
        .header("content-type", "text/plain")
        .body(good.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(as_text.status(), 400);

    // Teams: every known element type, nested, is accepted.
    let rich = teams::envelope(vec![
        json!({"type": "TextBlock", "text": "t"}),
        json!({"type": "Container", "items": [{"type": "TextBlock", "text": "in"}]}),
        json!({"type": "ColumnSet", "columns": [{"type": "Column", "items": [{"type": "Image", "url": "https://example.com/a.png"}]}, {"items": []}]}),
        json!({"type": "FactSet", "facts": [{"title": "a", "value": "b"}]}),
        json!({"type": "RichTextBlock", "inlines": ["plain", {"type": "TextRun", "text": "run", "weight": "Bolder"}]}),
    ]);
    let resp = post_json(&teams_url, &rich).await.unwrap();
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.text().await.unwrap(), "");

    // Slack.
    let slack_bad: [(Value, &str); 4] = [
        (json!({"text": ""}), "no_text"),
        (json!({"text": 5}), "no_text"),
        (json!({"blocks": []}), "no_text"),
        (json!(["text"]), "invalid_payload"),
    ];
    for (body, expected) in slack_bad {
        let resp = post_json(&slack_url, &body).await.unwrap();
        assert_eq!(resp.status(), 400, "{body}");
        assert_eq!(resp.text().await.unwrap(), expected);
    }
    let form = http
        .post(&slack_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("payload=%7B%22text%22%3A%22hi%22%7D")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 400);
    assert_eq!(form.text().await.unwrap(), "invalid_payload");
    let resp = post_json(&slack_url, &json!({"text": "hi"})).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "ok");

    // Only the two good posts were recorded as messages; every request was.
    assert_eq!(fake.received().len(), 2);
    assert_eq!(
        fake.exchanges().len(),
        4 + mutations.len() + 1 + 1 + 4 + 1 + 1
    );
}
