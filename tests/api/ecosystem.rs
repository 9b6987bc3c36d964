//! The original service's callers, unchanged: `/send-image` multipart as
//! its image callers built it (the key inside `data`), pictures declared
//! `application/octet`, and SQS producers that queued `str(dict)`.

use base64::Engine;
use fake_skype::FakeSkype;
use lambda_harness::events::{http_v2, status_and_body};
use serde_json::{Value, json};
use skype_sender::app::App;

use crate::local_app;

const GROUP: &str = "19:0123456789abcdef0123456789abcdef@thread.skype";
const KEY: &str = "original-caller-key";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01";
/// As Python's requests writes it: 32 hex digits.
const BOUNDARY: &str = "9a3f8c2e1b7d4f60a5c3e8b21d9f0c47";

async fn world(name: &str) -> (FakeSkype, App) {
    local_app::fred_app(
        &format!("ecosystem-{name}"),
        json!([KEY]),
        json!({"standup": GROUP}),
    )
    .await
}

/// `requests.post(url, files={"document": (file_name, bytes, declared),
/// "data": (None, json.dumps(data))})`, through API Gateway (base64), with
/// no key header: the original callers put the key in `data`.
fn send_image(file_name: &str, declared: &str, bytes: &[u8], data: &Value) -> Value {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"document\"; filename=\"{file_name}\"\r\nContent-Type: {declared}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(
        format!(
            "\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{data}\r\n--{BOUNDARY}--\r\n"
        )
        .as_bytes(),
    );
    let mut event = http_v2(
        "POST",
        "/send-image",
        json!({"content-type": format!("multipart/form-data; boundary={BOUNDARY}")}),
        "",
    );
    event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
    event["isBase64Encoded"] = json!(true);
    event
}

async fn call(app: &App, event: Value) -> (u16, Value) {
    status_and_body(&crate::handle(app, event).await.unwrap())
}

#[tokio::test]
async fn send_image_as_the_original_callers_built_it() {
    let (skype, app) = world("send-image").await;
    let data = json!({"API_KEY": KEY, "img_name": "weekly chart.png", "channel": "standup"});
    let (status, answer) = call(&app, send_image("tmp4x2k.png", "image/png", PNG, &data)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["msg"], "Posted file");
    let messages = skype.messages(GROUP);
    assert_eq!(messages.len(), 1, "a picture and no caption");
    assert_eq!(
        messages[0].messagetype, "RichText/UriObject",
        "shown inline"
    );
    let content = messages[0].content.as_deref().unwrap_or_default();
    assert!(
        content.contains("weekly chart.png"),
        "img_name is the name shown: {content}"
    );
    // The key is checked like any other: a wrong one posts nothing.
    let wrong = json!({"API_KEY": "not-a-key", "img_name": "x.png", "channel": "standup"});
    let (status, _) = call(&app, send_image("x.png", "image/png", PNG, &wrong)).await;
    assert_eq!(status, 401);
    assert_eq!(skype.messages(GROUP).len(), 1);
}

#[tokio::test]
async fn a_png_declared_application_octet_is_a_picture() {
    let (skype, app) = world("octet").await;
    let data = json!({"API_KEY": KEY, "img_name": "chart.png", "channel": "standup"});
    for (file_name, declared) in [
        ("chart.png", "application/octet"),
        ("upload", "application/octet-stream"),
    ] {
        let (status, answer) = call(&app, send_image(file_name, declared, PNG, &data)).await;
        assert_eq!(status, 200, "{answer}");
    }
    let messages = skype.messages(GROUP);
    assert_eq!(messages.len(), 2);
    for message in messages {
        assert_eq!(message.messagetype, "RichText/UriObject", "shown inline");
    }
    // Text is still a file, whatever the caller declares it as.
    let text = json!({"API_KEY": KEY, "img_name": "notes", "channel": "standup"});
    let (status, _) = call(
        &app,
        send_image("notes", "application/octet", b"plain notes", &text),
    )
    .await;
    assert_eq!(status, 200);
    let last = skype.messages(GROUP).pop().unwrap();
    assert_eq!(last.messagetype, "RichText/Media_GenericFile");
}

#[tokio::test]
async fn sqs_bodies_written_by_python_str_dict_are_posted() {
    let (skype, app) = world("python-literal").await;
    let record =
        |id: &str, body: &str| json!({"messageId": id, "eventSource": "aws:sqs", "body": body});
    let batch = json!({"Records": [
        record("m-1", r#"{'msg': "it's done", 'channel': 'standup'}"#),
        record("m-2", r#"{'msg': 'say \'hi\'', 'channel': 'standup', 'format': None}"#),
        // Neither JSON nor a Python dict: reported, so only it is retried.
        record("m-3", "{'msg': 'x', 'channel': open('/etc/passwd')}"),
    ]});
    let answer = crate::handle(&app, batch).await.unwrap();
    assert_eq!(
        answer["batchItemFailures"],
        json!([{"itemIdentifier": "m-3"}]),
        "{answer}"
    );
    let contents: Vec<String> = skype
        .messages(GROUP)
        .into_iter()
        .filter_map(|m| m.content)
        .collect();
    assert_eq!(contents, ["it's done", "say 'hi'"]);
    // A direct invocation whose payload is that string works the same.
    let direct = crate::handle(&app, json!("{'msg': 'direct', 'channel': 'standup'}"))
        .await
        .unwrap();
    assert_eq!(direct["ok"], true, "{direct}");
}
