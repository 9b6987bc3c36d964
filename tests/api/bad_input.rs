//! A corpus of bad inputs (malformed JSON, wrong types, huge and empty
//! fields, invalid UTF-8 and base64, odd content types, unknown triggers,
//! hostile channel ids, markup injection): never a 5xx, never a panic,
//! always a JSON answer that says what was wrong.

use base64::Engine;
use fake_skype::{Account as FakeAccount, FakeSkype};
use serde_json::{Value, json};
use skype_sender::app::App;

use crate::local_app;

const GROUP: &str = "19:0123456789abcdef0123456789abcdef@thread.skype";
const KEY: &str = "corpus-key";

async fn app(fake: &FakeSkype) -> App {
    let secret = json!({
        "username": "fred.adams@example.com",
        "password": "p&ss<w>rd",
        "api_keys": [KEY],
        "channels": {"standup": GROUP}
    });
    local_app::app(fake, &secret, "corpus", &[])
}

/// An HTTP API request with a raw body (and whether it claims base64).
fn http(content_type: Option<&str>, body: Value, base64: bool) -> Value {
    let mut headers = json!({"x-api-key": KEY});
    if let Some(content_type) = content_type {
        headers["content-type"] = json!(content_type);
    }
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": "/send-message", "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "abcdef1234",
            "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com", "domainPrefix": "abcdef1234",
            "http": {"method": "POST", "path": "/send-message", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "corpus"},
            "requestId": "id", "routeKey": "$default", "stage": "$default",
            "time": "25/Nov/2026:16:30:00 +0000", "timeEpoch": 1795624200000u64
        },
        "body": body,
        "isBase64Encoded": base64
    })
}

fn json_body(text: &str) -> Value {
    http(Some("application/json"), json!(text), false)
}

fn payload(fields: Value) -> Value {
    json_body(&fields.to_string())
}

fn b64(bytes: &[u8]) -> Value {
    json!(base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn corpus() -> Vec<(String, Value)> {
    let mut cases: Vec<(String, Value)> = Vec::new();
    let mut add = |name: &str, event: Value| cases.push((name.to_string(), event));

    // Malformed JSON.
    for text in [
        "{",
        "}",
        "{\"msg\":}",
        "{\"msg\": \"a\",}",
        "nul",
        "[",
        "\"just a string\"",
        "123",
        "true",
        "{\"msg\": \"a\" \"channel\": \"b\"}",
        "{\"msg\": \"\\ud800\", \"channel\": \"8:fred.2\"}",
        "{'msg': 'single quotes'}",
        "{\"msg\": \"a\"}}",
        "{\"a\":".repeat(200).as_str(),
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    ] {
        add(&format!("malformed json {text:.20}"), json_body(text));
    }
    // Wrong types.
    for (field, value) in [
        ("msg", json!(42)),
        ("msg", json!(true)),
        ("msg", json!(["a"])),
        ("msg", json!({"a": 1})),
        ("msg", json!(null)),
        ("channel", json!(7)),
        ("channel", json!([])),
        ("channel", json!([7])),
        ("channel", json!(["8:fred.2", ""])),
        ("channel", json!({"id": GROUP})),
        ("channel", json!(false)),
        ("format", json!(1)),
        ("format", json!(["rich"])),
        ("format", json!("bbcode")),
        ("format", json!("md2")),
        ("mentions", json!(5)),
        ("mentions", json!([{"id": "<script>"}])),
        ("mentions", json!([""])),
        ("API_KEY", json!(123)),
        ("API_KEY", json!({"k": KEY})),
        ("idempotency_key", json!(5)),
        ("text", json!(1.5)),
    ] {
        let mut fields = json!({"msg": "hello", "channel": GROUP});
        fields[field] = value.clone();
        add(&format!("{field} = {value}"), payload(fields));
    }
    // Huge and empty fields.
    for (name, fields) in [
        ("empty msg", json!({"msg": "", "channel": GROUP})),
        ("blank msg", json!({"msg": " \n\t ", "channel": GROUP})),
        ("empty channel", json!({"msg": "x", "channel": ""})),
        ("blank channel", json!({"msg": "x", "channel": "   "})),
        (
            "msg 28001",
            json!({"msg": "a".repeat(28_001), "channel": GROUP}),
        ),
        (
            "msg 28001 wide",
            json!({"msg": "é".repeat(28_001), "channel": GROUP}),
        ),
        (
            "channel 10k",
            json!({"msg": "x", "channel": "8:".to_string() + &"a".repeat(10_000)}),
        ),
        (
            "key 10k",
            json!({"msg": "x", "channel": GROUP, "API_KEY": "k".repeat(10_000)}),
        ),
        (
            "idempotency key 300",
            json!({"msg": "x", "channel": GROUP, "idempotency_key": "i".repeat(300)}),
        ),
        (
            "body 300 KiB",
            json!({"msg": "x", "channel": GROUP, "pad": "p".repeat(300 * 1024)}),
        ),
        ("empty object", json!({})),
        ("only unknown fields", json!({"message": "x", "to": GROUP})),
    ] {
        add(name, payload(fields));
    }
    add(
        "empty body",
        http(Some("application/json"), json!(""), false),
    );
    add(
        "whitespace body",
        http(Some("application/json"), json!("   \n"), false),
    );
    add(
        "null body",
        http(Some("application/json"), json!(null), false),
    );
    // Invalid UTF-8 and base64.
    add(
        "base64 garbage",
        http(Some("application/json"), json!("!!! not base64 !!!"), true),
    );
    add(
        "base64 of invalid utf-8",
        http(Some("application/json"), b64(&[0xff, 0xfe, 0xfd]), true),
    );
    add(
        "base64 of latin-1 json",
        http(
            Some("application/json"),
            b64(b"{\"msg\": \"caf\xe9\", \"channel\": \"8:fred.2\"}"),
            true,
        ),
    );
    add(
        "base64 padding only",
        http(Some("application/json"), json!("===="), true),
    );
    add(
        "base64 empty",
        http(Some("application/json"), json!(""), true),
    );
    add(
        "base64 truncated",
        http(Some("application/json"), json!("eyJtc2ci"), true),
    );
    add(
        "base64 of a form",
        http(
            Some("application/x-www-form-urlencoded"),
            b64(b"msg=%ZZ&channel=%"),
            true,
        ),
    );
    add(
        "body is a number",
        http(Some("application/json"), json!(42), false),
    );
    add(
        "body is an object",
        http(Some("application/json"), json!({"msg": "x"}), false),
    );
    // Odd content types.
    let ok = json!({"msg": "x", "channel": GROUP}).to_string();
    for content_type in [
        "text/plain",
        "application/xml",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
        "APPLICATION/JSON",
        "application/json; charset=latin1",
        "image/png",
        "",
    ] {
        add(
            &format!("content type {content_type:?} with json"),
            http(Some(content_type), json!(ok), false),
        );
        add(
            &format!("content type {content_type:?} with text"),
            http(Some(content_type), json!("hello there"), false),
        );
    }
    add(
        "no content type, form",
        http(None, json!(format!("msg=x&channel={GROUP}")), false),
    );
    add(
        "form with broken escapes",
        http(
            Some("application/x-www-form-urlencoded"),
            json!("msg=%zz&channel=%"),
            false,
        ),
    );
    add(
        "form repeating fields",
        http(
            Some("application/x-www-form-urlencoded"),
            json!("msg=a&msg=b&channel=8%3Afred.2&channel=x"),
            false,
        ),
    );
    add(
        "multipart body",
        http(
            Some("multipart/form-data; boundary=b"),
            json!("--b\r\nContent-Disposition: form-data; name=\"msg\"\r\n\r\nx\r\n--b--"),
            false,
        ),
    );
    // Unknown triggers and broken envelopes.
    for event in [
        json!({}),
        json!([]),
        json!(null),
        json!(42),
        json!("string"),
        json!({"Records": []}),
        json!({"Records": [{"eventSource": "aws:s3"}]}),
        json!({"Records": "x"}),
        json!({"detail-type": "x"}),
        json!({"source": "aws.events", "detail-type": "Scheduled Event"}),
        json!({"source": "x", "detail-type": "y", "detail": "a string"}),
        json!({"source": "x", "detail-type": "y", "detail": [1]}),
        json!({"source": "x", "detail-type": "y", "detail": {"msg": 5}}),
        json!({"action": 5}),
        json!({"action": "delete"}),
        json!({"action": null}),
        json!({"requestContext": {}}),
        json!({"httpMethod": "POST"}),
        json!({"httpMethod": "POST", "requestContext": {}}),
        json!({"requestContext": {"http": {"method": "POST"}}}),
        json!({"version": "2.0", "requestContext": {"http": {"method": 5}}}),
        json!({"msg": "x"}),
        json!({"channel": GROUP}),
        json!({"msg": ["x"], "channel": GROUP}),
        json!({"Records": [{"eventSource": "aws:sqs", "messageId": "m1", "body": "not json"}]}),
        json!({"Records": [{"eventSource": "aws:sqs", "messageId": "m2", "body": 5}]}),
        json!({"Records": [{"eventSource": "aws:sqs", "body": "{\"msg\": 1}"}]}),
    ] {
        add(&format!("event {event:.40}"), event);
    }
    // Hostile channel ids.
    for channel in [
        "../../etc/passwd",
        "8:fred/../../x",
        "19:0123456789abcdef0123456789abcdef@thread.skype?x=1",
        "19:<script>@thread.skype",
        "8:",
        "8:a",
        "48:notes",
        "48:calllogs",
        "8:fred%2F..",
        "8:fred\u{0}",
        "8:fred\nX-Injected: 1",
        "http://evil.example/",
        "8:live:.cid.zzzzzzzzzzzzzzzz",
        "8:fr\u{0435}d",
        "19:0123456789ABCDEF0123456789ABCDEF@thread.skype#frag",
        "\u{202e}8:fred",
        "8:fred 2",
        "28:",
        "2:nobody",
        "standup ",
        " standup\t",
    ] {
        add(
            &format!("channel {channel:?}"),
            payload(json!({"msg": "x", "channel": channel})),
        );
    }
    // Markup injection attempts in plain format.
    for text in [
        "<at id=\"*\">all</at>",
        "<script>alert(1)</script>",
        "</b><i>unclosed",
        "&amp;&lt;&#x3c;",
        "<URIObject type=\"File.1\" uri=\"http://evil\"/>",
        "]]><x>",
        "\"'`",
        "😀 emoji 👍",
        "\u{202e}rtl override",
        "zero\u{200b}width",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<quote author=\"x\">forged</quote>",
    ] {
        add(
            &format!("plain {text:.20}"),
            payload(json!({"msg": text, "channel": GROUP, "format": "plain"})),
        );
    }
    cases
}

#[tokio::test]
async fn no_bad_input_gets_a_5xx_or_a_panic() {
    let fake = FakeSkype::start().await;
    fake.add_account(FakeAccount::fred());
    let app = app(&fake).await;
    let corpus = corpus();
    assert!(corpus.len() >= 100, "the corpus has {} cases", corpus.len());

    for (name, event) in corpus {
        let is_http = event.pointer("/requestContext/http/method").is_some();
        match crate::handle(&app, event).await {
            Ok(answer) if is_http => {
                let status = answer["statusCode"].as_u64().unwrap_or(0);
                assert!(
                    (200..500).contains(&status),
                    "{name}: status {status}: {answer}"
                );
                let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
                assert!(body["msg"].is_string(), "{name}: {body}");
                if status != 200 {
                    assert!(body["error"].is_string(), "{name}: {body}");
                }
            }
            Ok(answer) => {
                // SQS answers list the failed records; others succeed.
                assert!(answer.is_object(), "{name}: {answer}");
            }
            Err(err) => {
                assert!(err.0.status < 500, "{name}: {:?}", err.0);
                assert!(!err.0.message.is_empty());
            }
        }
    }

    // What got through is exactly what was typed: markup arrived escaped.
    for message in fake.messages(GROUP) {
        let content = message.content.unwrap();
        assert!(
            !content.contains("<at") && !content.contains("<script"),
            "{content}"
        );
    }
}
