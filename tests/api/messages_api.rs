//! The message routes beyond /send-message, in process over real HTTP to
//! the strict fake Skype: formats and mentions as Skype receives them,
//! files (multipart as curl sends it, JSON, direct invocation), edits and
//! deletes (by id and by idempotency key), and GET /health.

use base64::Engine;
use fake_skype::{FakeSkype, Fault, Op};
use lambda_harness::events::{http_v2, json_request, send_message, status_and_body};
use serde_json::{Value, json};
use skype_sender::app::App;

use crate::local_app;

const GROUP: &str = "19:0123456789abcdef0123456789abcdef@thread.skype";
const OTHER: &str = "19:fedcba9876543210fedcba9876543210@thread.skype";
const KEY: &str = "admin-key";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

async fn world(name: &str) -> (FakeSkype, App) {
    let channels = json!({"standup": GROUP, "alerts": {"kind": "slack-webhook", "url": "https://hooks.example.test/services/T/B/x"}});
    local_app::fred_app(&format!("messages-{name}"), json!([KEY]), channels).await
}

async fn call(app: &App, event: Value) -> (u16, Value) {
    status_and_body(&crate::handle(app, event).await.unwrap())
}

async fn post(app: &App, body: Value) -> (u16, Value) {
    call(app, send_message(KEY, body)).await
}

fn request(method: &str, path: &str, body: Value) -> Value {
    json_request(method, path, KEY, body)
}

fn last_content(skype: &FakeSkype) -> String {
    let messages = skype.messages(GROUP);
    messages.last().unwrap().content.clone().unwrap_or_default()
}

#[tokio::test]
async fn markdown_and_mentions_reach_skype_as_its_rich_text() {
    let (skype, app) = world("markdown").await;
    let (status, body) = post(
        &app,
        json!({
            "msg": "**Build** _green_ ~~red~~ `x<y` [notes](https://example.com/n) @{8:live:ann|Ann}",
            "channel": "standup",
            "format": "markdown",
            "mentions": ["8:live:joe"],
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let stored = skype.messages(GROUP).pop().unwrap();
    assert_eq!(stored.messagetype, "RichText");
    assert_eq!(stored.has_mentions.as_deref(), Some("true"));
    assert_eq!(
        stored.content.unwrap(),
        concat!(
            r#"<at id="8:live:joe">joe</at> "#,
            r#"<b raw_pre="*" raw_post="*">Build</b> <i raw_pre="_" raw_post="_">green</i> "#,
            r#"<s raw_pre="~" raw_post="~">red</s> <pre raw_pre="{code}" raw_post="{code}">x&lt;y</pre> "#,
            r#"<a href="https://example.com/n">notes</a> <at id="8:live:ann">Ann</at>"#
        )
    );
}

#[tokio::test]
async fn plain_text_is_shown_as_typed_and_rich_text_passes_through() {
    let (skype, app) = world("plain").await;
    post(
        &app,
        json!({"msg": "<b>not bold</b> & @{8:live:ann}", "channel": "standup", "format": "plain"}),
    )
    .await;
    assert_eq!(
        last_content(&skype),
        "&lt;b&gt;not bold&lt;/b&gt; &amp; @{8:live:ann}"
    );
    post(&app, json!({"msg": "<b>bold</b>", "channel": "standup"})).await;
    assert_eq!(
        last_content(&skype),
        "<b>bold</b>",
        "the original service's rich text"
    );
}

/// A multipart body as `curl -F document=@chart.png -F 'data={...}'` sends it.
fn multipart(boundary: &str, name: &str, bytes: &[u8], data: &Value) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"document\"; filename=\"{name}\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{data}\r\n--{boundary}--\r\n"
        )
        .as_bytes(),
    );
    body
}

/// API Gateway hands binary bodies over in base64.
fn binary_event(path: &str, content_type: &str, body: &[u8]) -> Value {
    let mut event = http_v2(
        "POST",
        path,
        json!({"content-type": content_type, "x-api-key": KEY}),
        "",
    );
    event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
    event["isBase64Encoded"] = json!(true);
    event
}

#[tokio::test]
async fn a_multipart_file_is_uploaded_and_posted_with_its_caption() {
    let (skype, app) = world("multipart").await;
    let body = multipart(
        "X-BOUNDARY-42",
        "chart.png",
        PNG,
        &json!({"channel": "standup", "caption": "Today's chart"}),
    );
    let event = binary_event(
        "/send-file",
        "multipart/form-data; boundary=X-BOUNDARY-42",
        &body,
    );
    let (status, answer) = call(&app, event).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["msg"], "Posted file");
    let messages = skype.messages(GROUP);
    assert_eq!(messages.len(), 2, "the picture, then its caption");
    assert_eq!(messages[0].messagetype, "RichText/UriObject");
    assert_eq!(answer["id"], messages[0].id.as_str());
    assert_eq!(messages[1].content.as_deref(), Some("Today's chart"));
}

#[tokio::test]
async fn a_json_file_works_over_http_and_by_direct_invocation() {
    let (skype, app) = world("json-file").await;
    let file = json!({"name": "notes.txt", "content_base64": "aGVsbG8gd29ybGQ="});
    let (status, answer) = call(
        &app,
        request(
            "POST",
            "/send-file",
            json!({"channel": "standup", "file": file}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let direct = crate::handle(&app, json!({"channel": GROUP, "file": file}))
        .await
        .unwrap();
    assert_eq!(direct["ok"], true, "{direct}");
    let (status, answer) = call(
        &app,
        request(
            "POST",
            "/send-file",
            json!({"channel": ["standup", OTHER], "file": file}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["results"].as_array().map(Vec::len),
        Some(2),
        "{answer}"
    );
    assert_eq!(skype.messages(OTHER).len(), 1);
    let messages = skype.messages(GROUP);
    assert_eq!(messages.len(), 3);
    assert!(
        messages
            .iter()
            .all(|m| m.messagetype == "RichText/Media_GenericFile")
    );
}

#[tokio::test]
async fn a_file_over_the_limit_is_a_413_and_nothing_is_uploaded() {
    let (skype, app) = world("big-file").await;
    let big = vec![7u8; 4 * 1024 * 1024 + 1];
    let body = multipart("B", "big.png", &big, &json!({"channel": "standup"}));
    let event = binary_event("/send-file", "multipart/form-data; boundary=B", &body);
    let (status, answer) = call(&app, event).await;
    assert_eq!((status, &answer["error"]), (413, &json!("file_too_large")));
    assert_eq!(skype.count(Op::AsmCreate), 0);
}

#[tokio::test]
async fn a_message_is_edited_and_deleted_by_id_or_by_its_idempotency_key() {
    let (skype, app) = world("edit").await;
    let (_, posted) = post(
        &app,
        json!({"msg": "v1", "channel": "standup", "idempotency_key": "deploy-7"}),
    )
    .await;
    let id = posted["id"].as_str().unwrap().to_string();

    let (status, edited) = call(
        &app,
        request(
            "PATCH",
            &format!("/messages/{id}"),
            json!({"channel": "standup", "msg": "**v2**", "format": "markdown"}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["id"], id.as_str());
    let stored = skype.messages(GROUP).pop().unwrap();
    assert!(stored.edited);
    assert_eq!(
        stored.content.as_deref(),
        Some(r#"<b raw_pre="*" raw_post="*">v2</b>"#)
    );

    // "The message I posted with key deploy-7" (percent-encoded in the path).
    let (status, edited) = call(
        &app,
        request(
            "PATCH",
            "/messages/key%3Adeploy-7",
            json!({"channel": "standup", "msg": "v3"}),
        ),
    )
    .await;
    assert_eq!((status, &edited["id"]), (200, &json!(id)), "{edited}");
    assert_eq!(last_content(&skype), "v3");

    let (status, missing) = call(
        &app,
        request(
            "PATCH",
            "/messages/key:never-used",
            json!({"channel": "standup", "msg": "x"}),
        ),
    )
    .await;
    assert_eq!(
        (status, &missing["error"]),
        (404, &json!("message_not_found"))
    );

    // DELETE with the channel in the query string, as curl -X DELETE users write it.
    let mut delete = request("DELETE", &format!("/messages/{id}"), Value::Null);
    delete["body"] = json!("");
    delete["queryStringParameters"] = json!({"channel": "standup"});
    delete["rawQueryString"] = json!("channel=standup");
    let (status, deleted) = call(&app, delete).await;
    assert_eq!(status, 200, "{deleted}");
    assert!(skype.messages(GROUP).pop().unwrap().deleted);
}

#[tokio::test]
async fn edits_answer_clearly_when_they_cannot_be_made() {
    let (_skype, app) = world("edit-errors").await;
    for (method, path, body, status, code) in [
        (
            "PATCH",
            "/messages/123456",
            json!({"channel": "standup", "msg": "x"}),
            404,
            "message_not_found",
        ),
        (
            "PATCH",
            "/messages/abc",
            json!({"channel": "standup", "msg": "x"}),
            400,
            "invalid_message_id",
        ),
        (
            "PATCH",
            "/messages/1",
            json!({"msg": "x"}),
            400,
            "missing_parameters",
        ),
        (
            "DELETE",
            "/messages/1",
            json!({"channel": "alerts"}),
            400,
            "not_supported",
        ),
        (
            "POST",
            "/messages/1",
            json!({"channel": "standup"}),
            405,
            "method_not_allowed",
        ),
    ] {
        let response = crate::handle(&app, request(method, path, body))
            .await
            .unwrap();
        let (got, answer) = status_and_body(&response);
        assert_eq!(
            (got, &answer["error"]),
            (status, &json!(code)),
            "{method} {path}: {answer}"
        );
        if status == 405 {
            assert_eq!(response["headers"]["allow"], "PATCH, DELETE");
        }
    }
}

#[tokio::test]
async fn a_key_in_the_query_string_is_not_accepted() {
    let (skype, app) = world("query-key").await;
    let (_, posted) = post(&app, json!({"msg": "x", "channel": "standup"})).await;
    let mut delete = http_v2(
        "DELETE",
        &format!("/messages/{}", posted["id"].as_str().unwrap()),
        json!({}),
        "",
    );
    delete["queryStringParameters"] = json!({"channel": "standup", "API_KEY": KEY});
    let (status, body) = call(&app, delete).await;
    assert_eq!(
        (status, &body["error"]),
        (401, &json!("unauthorized")),
        "it would sit in access logs"
    );
    assert!(!skype.messages(GROUP).pop().unwrap().deleted);
}

#[tokio::test]
async fn health_reports_expiries_and_the_last_login_never_a_token() {
    let (skype, app) = world("health").await;
    let health = |key: Option<&str>| {
        let headers = match key {
            Some(key) => json!({"x-api-key": key}),
            None => json!({}),
        };
        http_v2("GET", "/health", headers, "")
    };
    let (status, body) = call(&app, health(None)).await;
    assert_eq!(status, 401, "{body}");

    let (status, body) = call(&app, health(Some(KEY))).await;
    assert_eq!(
        status, 200,
        "no session yet, but a login can make one: {body}"
    );
    assert_eq!(body["session"], Value::Null);

    post(&app, json!({"msg": "hi", "channel": "standup"})).await;
    let (status, body) = call(&app, health(Some(KEY))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ok"], true);
    assert!(body["session"]["expires_in_seconds"].as_i64().unwrap() > 3600);
    assert!(body["last_post_at"].as_u64().is_some());
    assert_eq!(body["last_login"]["outcome"], "succeeded");

    // Skype refuses the token and the new login meets a wall: a person
    // must act (503).
    skype.expire_skype_tokens();
    skype.expire_registrations();
    skype.inject(Op::Soap, Fault::LoginWall, 1);
    let logins = skype.count(Op::Soap);
    let (status, body) = post(&app, json!({"msg": "hi", "channel": "standup"})).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(
        skype.count(Op::Soap),
        logins + 1,
        "the refused session was not taken back from the store: a login was tried"
    );
    // Logins are blocked for a while after a wall: the next post tries
    // none, and records none (no metric, no rewrite of the lease).
    let lease = std::env::temp_dir().join(format!(
        "skype-sender-messages-health-{}/token.lock",
        std::process::id()
    ));
    let written = std::fs::metadata(&lease).unwrap().modified().unwrap();
    let (status, _) = post(&app, json!({"msg": "again", "channel": "standup"})).await;
    assert_eq!(status, 502);
    assert_eq!(skype.count(Op::Soap), logins + 1, "no second login");
    assert_eq!(
        std::fs::metadata(&lease).unwrap().modified().unwrap(),
        written,
        "a blocked login is not recorded as an attempt"
    );

    let (status, body) = call(&app, health(Some(KEY))).await;
    assert_eq!(body["last_login"]["outcome"], "login_wall", "{body}");
    assert_eq!((status, &body["ok"]), (503, &json!(false)), "{body}");
    let shown = body.to_string();
    assert!(!shown.to_lowercase().contains("token\":\""), "{shown}");
}
