//! Tests of the strict fake Discord webhook API itself, over real HTTP.
//!
//! If the fake accepted something Discord refuses, every adapter test built
//! on it would prove nothing; so beyond the happy paths, most tests here are
//! about what the fake refuses, and in which shape.

use std::time::{Duration, Instant};

use fake_discord::{FakeDiscord, Fault, MAX_FILE_BYTES, Op};
use reqwest::{Client, Method, Response};
use serde_json::{Value, json};

const CHANNEL: &str = "1100000000000000001";
const OTHER_CHANNEL: &str = "1100000000000000002";
const THREAD: &str = "1200000000000000001";
const BOUNDARY: &str = "fake-discord-boundary-7MA4YWxkTrZu0gW";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

// ---------------------------------------------------------------- harness

/// A running fake with one webhook on `CHANNEL`.
struct Harness {
    fake: FakeDiscord,
    url: String,
    http: Client,
}

impl Harness {
    async fn new() -> Harness {
        let fake = FakeDiscord::start().await;
        let url = fake.add_webhook(CHANNEL);
        let http = Client::builder()
            .no_proxy()
            .build()
            .expect("reqwest client");
        Harness { fake, url, http }
    }

    async fn call(&self, method: Method, url: &str, body: Option<Value>) -> Response {
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request")
    }

    async fn execute(&self, query: &str, body: Value) -> Response {
        let url = format!("{}{query}", self.url);
        self.call(Method::POST, &url, Some(body)).await
    }

    /// Post with `?wait=true` and return the message object.
    async fn post(&self, body: Value) -> Value {
        let resp = self.execute("?wait=true", body).await;
        assert_eq!(resp.status(), 200);
        resp.json().await.unwrap()
    }

    fn message_url(&self, id: &str, query: &str) -> String {
        format!("{}/messages/{id}{query}", self.url)
    }

    async fn multipart(&self, method: Method, url: &str, body: Vec<u8>) -> Response {
        self.http
            .request(method, url)
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body)
            .send()
            .await
            .expect("multipart request")
    }
}

/// One multipart part (a file when `file` names it and its type).
fn part(name: &str, file: Option<(&str, &str)>, bytes: &[u8]) -> Vec<u8> {
    let disposition = match file {
        Some((filename, _)) => {
            format!("form-data; name=\"{name}\"; filename=\"{filename}\"")
        }
        None => format!("form-data; name=\"{name}\""),
    };
    let mut out = format!("--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n").into_bytes();
    if let Some((_, content_type)) = file {
        out.extend(format!("Content-Type: {content_type}\r\n").into_bytes());
    }
    out.extend(b"\r\n");
    out.extend(bytes);
    out.extend(b"\r\n");
    out
}

/// A whole body: `payload_json` (when given) and the parts, closed.
fn form(payload: Option<Value>, parts: Vec<Vec<u8>>) -> Vec<u8> {
    let mut body = Vec::new();
    if let Some(payload) = payload {
        body.extend(part("payload_json", None, payload.to_string().as_bytes()));
    }
    for p in parts {
        body.extend(p);
    }
    body.extend(format!("--{BOUNDARY}--\r\n").into_bytes());
    body
}

async fn json_of(resp: Response) -> Value {
    resp.json().await.expect("a JSON body")
}

/// Assert a `50035 Invalid Form Body` with `code` at `pointer`'s `_errors`.
fn assert_form_error(body: &Value, pointer: &str, code: &str) {
    assert_eq!(body["code"], 50035, "{body}");
    assert_eq!(body["message"], "Invalid Form Body");
    let errors = body["errors"]
        .pointer(&format!("{pointer}/_errors"))
        .unwrap_or_else(|| panic!("no _errors at {pointer}: {body}"));
    assert!(
        errors.as_array().unwrap().iter().any(|e| e["code"] == code),
        "{code} not at {pointer}: {body}"
    );
}

// ---------------------------------------------------------- happy paths

#[tokio::test]
async fn execute_without_wait_is_204_with_rate_limit_headers() {
    let h = Harness::new().await;
    let resp = h.execute("", json!({"content": "hello"})).await;
    assert_eq!(resp.status(), 204);
    for name in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "x-ratelimit-reset-after",
        "x-ratelimit-bucket",
    ] {
        assert!(resp.headers().contains_key(name), "{name} missing");
    }
    assert!(resp.bytes().await.unwrap().is_empty());
    let messages = h.fake.messages(CHANNEL);
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.content, "hello");
    assert_eq!(m.channel_id, CHANNEL);
    assert!(!m.edited && !m.deleted);
    assert_eq!(m.body, json!({"content": "hello"}));
    assert!(h.url.contains(&format!("/api/webhooks/{}/", m.webhook_id)));
    let token = h.url.rsplit('/').next().unwrap();
    assert_eq!(token.len(), 68);
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
}

#[tokio::test]
async fn execute_with_wait_answers_the_message_object() {
    let h = Harness::new().await;
    let body = h
        .post(json!({"content": "hi", "username": "Deploy bot", "embeds": [{"title": "t"}]}))
        .await;
    let stored = h.fake.message(body["id"].as_str().unwrap()).unwrap();
    assert_eq!(body["type"], 0);
    assert_eq!(body["channel_id"], CHANNEL);
    assert_eq!(body["content"], "hi");
    assert_eq!(body["webhook_id"], stored.webhook_id);
    assert_eq!(body["author"]["id"], stored.webhook_id);
    assert_eq!(body["author"]["username"], "Deploy bot");
    assert_eq!(body["author"]["bot"], true);
    assert_eq!(body["edited_timestamp"], Value::Null);
    assert_eq!(body["attachments"], json!([]));
    assert_eq!(body["mentions"], json!([]));
    assert_eq!(body["embeds"][0]["title"], "t");
    assert_eq!(body["embeds"][0]["type"], "rich");
    assert!(body["timestamp"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(stored.embeds, vec![json!({"title": "t"})]);
    // Versioned paths reach the same webhook.
    let v10 = h.url.replace("/api/webhooks/", "/api/v10/webhooks/");
    let resp = h
        .call(Method::POST, &v10, Some(json!({"content": "v10"})))
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(h.fake.messages(CHANNEL).len(), 2);
    // Snowflakes grow.
    let first: u64 = body["id"].as_str().unwrap().parse().unwrap();
    let second: u64 = h.fake.messages(CHANNEL)[1].id.parse().unwrap();
    assert!(second > first);
}

#[tokio::test]
async fn get_webhook_answers_the_webhook_object() {
    let h = Harness::new().await;
    let body = json_of(h.call(Method::GET, &h.url, None).await).await;
    assert_eq!(body["type"], 1);
    assert_eq!(body["channel_id"], CHANNEL);
    assert_eq!(body["token"], h.url.rsplit('/').next().unwrap());
    assert!(body["guild_id"].as_str().unwrap().parse::<u64>().is_ok());
    assert!(h.url.contains(body["id"].as_str().unwrap()));
    assert_eq!(h.fake.count(Op::GetWebhook), 1);
}

// ------------------------------------------------------------- refusals

#[tokio::test]
async fn webhook_identity_is_checked() {
    let h = Harness::new().await;
    let (base, token) = h.url.rsplit_once('/').unwrap();
    let wrong_token = format!("{base}/{}", "x".repeat(68));
    let resp = h
        .call(Method::POST, &wrong_token, Some(json!({"content": "x"})))
        .await;
    assert_eq!(resp.status(), 401);
    assert_eq!(
        json_of(resp).await,
        json!({"message": "Invalid Webhook Token", "code": 50027})
    );
    let unknown = format!(
        "{}/api/webhooks/123456789012345678/{token}",
        h.fake.base_url()
    );
    let resp = h
        .call(Method::POST, &unknown, Some(json!({"content": "x"})))
        .await;
    assert_eq!(resp.status(), 404);
    assert_eq!(
        json_of(resp).await,
        json!({"message": "Unknown Webhook", "code": 10015})
    );
    let not_id = format!("{}/api/webhooks/abc/{token}", h.fake.base_url());
    let resp = h
        .call(Method::POST, &not_id, Some(json!({"content": "x"})))
        .await;
    assert_eq!(resp.status(), 400);
    assert_form_error(&json_of(resp).await, "/webhook_id", "NUMBER_TYPE_COERCE");
    // A deleted webhook is unknown, token or not, for every operation.
    let posted = h.post(json!({"content": "before"})).await;
    h.fake.delete_webhook(&h.url);
    for (method, url) in [
        (Method::POST, h.url.clone()),
        (Method::GET, h.url.clone()),
        (
            Method::GET,
            h.message_url(posted["id"].as_str().unwrap(), ""),
        ),
        (
            Method::DELETE,
            h.message_url(posted["id"].as_str().unwrap(), ""),
        ),
    ] {
        let resp = h.call(method, &url, Some(json!({"content": "x"}))).await;
        assert_eq!(resp.status(), 404);
        assert_eq!(json_of(resp).await["code"], 10015);
    }
    assert_eq!(h.fake.messages(CHANNEL).len(), 1);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_refused_and_recorded() {
    let h = Harness::new().await;
    let resp = h.call(Method::PUT, &h.url, Some(json!({}))).await;
    assert_eq!(resp.status(), 405);
    assert_eq!(
        json_of(resp).await,
        json!({"message": "405: Method Not Allowed", "code": 0})
    );
    let resp = h
        .call(Method::POST, &format!("{}/messages", h.url), None)
        .await;
    assert_eq!(resp.status(), 404);
    assert_eq!(
        json_of(resp).await,
        json!({"message": "404: Not Found", "code": 0})
    );
    let resp = h
        .call(
            Method::POST,
            &format!("{}/api/v3/webhooks/1/2", h.fake.base_url()),
            None,
        )
        .await;
    assert_eq!(resp.status(), 404);
    // Without the token it is a bot's route.
    let (no_token, _) = h.url.rsplit_once('/').unwrap();
    assert_eq!(h.call(Method::GET, no_token, None).await.status(), 401);
    let requests = h.fake.requests();
    assert_eq!(requests.len(), 4);
    assert!(requests.iter().all(|r| r.op.is_none()));
    assert_eq!(
        requests.iter().map(|r| r.status).collect::<Vec<_>>(),
        [405, 404, 404, 401]
    );
}

#[tokio::test]
async fn content_over_2000_characters_is_invalid_form_body() {
    let h = Harness::new().await;
    // 2000 characters of several bytes each fit.
    let resp = h.execute("", json!({"content": "é".repeat(2000)})).await;
    assert_eq!(resp.status(), 204);
    let resp = h.execute("", json!({"content": "a".repeat(2001)})).await;
    assert_eq!(resp.status(), 400);
    let body = json_of(resp).await;
    assert_eq!(
        body,
        json!({
            "code": 50035,
            "errors": {"content": {"_errors": [{
                "code": "BASE_TYPE_MAX_LENGTH",
                "message": "Must be 2000 or fewer in length."
            }]}},
            "message": "Invalid Form Body"
        })
    );
    assert_eq!(h.fake.messages(CHANNEL).len(), 1);
}

#[tokio::test]
async fn wrong_types_are_all_reported_at_their_paths() {
    let h = Harness::new().await;
    let resp = h
        .execute(
            "",
            json!({
                "content": 42,
                "tts": "yes",
                "embeds": [{"title": "ok"}, "not an embed", {"fields": [{"name": "n"}]}],
                "allowed_mentions": ["users"],
                "flags": "four",
            }),
        )
        .await;
    assert_eq!(resp.status(), 400);
    let body = json_of(resp).await;
    assert_form_error(&body, "/content", "BASE_TYPE_STRING");
    assert_form_error(&body, "/tts", "BASE_TYPE_BOOLEAN");
    assert_form_error(&body, "/embeds/1", "MODEL_TYPE_CONVERT");
    assert_form_error(&body, "/embeds/2/fields/0/value", "BASE_TYPE_REQUIRED");
    assert_form_error(&body, "/allowed_mentions", "MODEL_TYPE_CONVERT");
    assert_form_error(&body, "/flags", "NUMBER_TYPE_COERCE");
    let resp = h.execute("", json!({"embeds": {"title": "x"}})).await;
    assert_form_error(&json_of(resp).await, "/embeds", "LIST_TYPE_CONVERT");
    let resp = h.execute("", json!(["content"])).await;
    assert_form_error(&json_of(resp).await, "", "DICT_TYPE_CONVERT");
    assert!(h.fake.messages(CHANNEL).is_empty());
}

#[tokio::test]
async fn empty_messages_and_unreadable_bodies_are_refused() {
    let h = Harness::new().await;
    let empty = json!({"message": "Cannot send an empty message", "code": 50006});
    for body in [
        json!({}),
        json!({"content": ""}),
        json!({"content": "  \n "}),
        json!({"content": null, "embeds": []}),
        json!({"username": "only a name"}),
    ] {
        let resp = h.execute("", body).await;
        assert_eq!(resp.status(), 400);
        assert_eq!(json_of(resp).await, empty);
    }
    // A body Discord cannot read is no fields at all.
    let resp = h
        .http
        .post(&h.url)
        .header("Content-Type", "text/plain")
        .body("content=hello")
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(resp).await, empty);
    let resp = h
        .http
        .post(&h.url)
        .header("Content-Type", "application/json")
        .body("{\"content\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(json_of(resp).await["code"], 50109);
    assert!(h.fake.messages(CHANNEL).is_empty());
}

#[tokio::test]
async fn embed_and_username_limits() {
    let h = Harness::new().await;
    let resp = h
        .execute("", json!({"embeds": [{"title": "t".repeat(257)}]}))
        .await;
    assert_form_error(
        &json_of(resp).await,
        "/embeds/0/title",
        "BASE_TYPE_MAX_LENGTH",
    );
    let big = "d".repeat(4000);
    let resp = h
        .execute(
            "",
            json!({"embeds": [{"description": big}, {"description": big}]}),
        )
        .await;
    assert_form_error(&json_of(resp).await, "/embeds", "MAX_EMBED_SIZE_EXCEEDED");
    let eleven: Vec<Value> = (0..11).map(|i| json!({"title": i.to_string()})).collect();
    let resp = h.execute("", json!({"embeds": eleven})).await;
    assert_form_error(&json_of(resp).await, "/embeds", "BASE_TYPE_MAX_LENGTH");
    let resp = h
        .execute("", json!({"embeds": [{"color": 16_777_216}]}))
        .await;
    assert_form_error(&json_of(resp).await, "/embeds/0/color", "NUMBER_TYPE_MAX");
    let resp = h
        .execute("", json!({"content": "x", "username": "u".repeat(81)}))
        .await;
    assert_form_error(&json_of(resp).await, "/username", "BASE_TYPE_BAD_LENGTH");
    let resp = h
        .execute("", json!({"content": "x", "username": "My Discord Bot"}))
        .await;
    assert_form_error(
        &json_of(resp).await,
        "/username",
        "USERNAME_INVALID_CONTAINS",
    );
    assert!(h.fake.messages(CHANNEL).is_empty());
    // An embed alone is a message.
    let resp = h
        .execute("", json!({"embeds": [{"description": "d".repeat(4096)}]}))
        .await;
    assert_eq!(resp.status(), 204);
}

#[tokio::test]
async fn wait_must_be_a_boolean() {
    let h = Harness::new().await;
    let resp = h.execute("?wait=maybe", json!({"content": "x"})).await;
    assert_eq!(resp.status(), 400);
    assert_form_error(&json_of(resp).await, "/wait", "BASE_TYPE_BOOLEAN");
    assert_eq!(
        h.execute("?wait=false", json!({"content": "x"}))
            .await
            .status(),
        204
    );
    assert_eq!(
        h.execute("?wait=True", json!({"content": "x"}))
            .await
            .status(),
        200
    );
}

// --------------------------------------------------------------- threads

#[tokio::test]
async fn threads_of_the_webhooks_channel_only() {
    let h = Harness::new().await;
    h.fake.add_thread(CHANNEL, THREAD);
    h.fake.add_thread(OTHER_CHANNEL, "1200000000000000002");
    let body = h
        .execute(
            &format!("?wait=true&thread_id={THREAD}"),
            json!({"content": "in thread"}),
        )
        .await;
    assert_eq!(body.status(), 200);
    assert_eq!(json_of(body).await["channel_id"], THREAD);
    assert_eq!(h.fake.messages(THREAD).len(), 1);
    assert!(h.fake.messages(CHANNEL).is_empty());
    let unknown = json!({"code": 10003, "message": "Unknown Channel"});
    for thread in ["1200000000000000099", "1200000000000000002"] {
        let resp = h
            .execute(&format!("?thread_id={thread}"), json!({"content": "x"}))
            .await;
        assert_eq!(resp.status(), 400);
        assert_eq!(json_of(resp).await, unknown);
    }
    let resp = h
        .execute("?thread_id=general", json!({"content": "x"}))
        .await;
    assert_form_error(&json_of(resp).await, "/thread_id", "NUMBER_TYPE_COERCE");
    assert_eq!(h.fake.messages(THREAD).len(), 1);
}

#[tokio::test]
async fn thread_messages_need_their_thread_id() {
    let h = Harness::new().await;
    h.fake.add_thread(CHANNEL, THREAD);
    let in_thread = h
        .execute(
            &format!("?wait=true&thread_id={THREAD}"),
            json!({"content": "t"}),
        )
        .await;
    let id = json_of(in_thread).await["id"].as_str().unwrap().to_string();
    let in_channel = h.post(json!({"content": "c"})).await;
    let channel_id = in_channel["id"].as_str().unwrap();
    // Without ?thread_id= a thread's message is unknown, and the other way round.
    for url in [
        h.message_url(&id, ""),
        h.message_url(channel_id, &format!("?thread_id={THREAD}")),
    ] {
        let resp = h
            .call(Method::PATCH, &url, Some(json!({"content": "x"})))
            .await;
        assert_eq!(resp.status(), 404);
        assert_eq!(json_of(resp).await["code"], 10008);
        assert_eq!(h.call(Method::GET, &url, None).await.status(), 404);
        assert_eq!(h.call(Method::DELETE, &url, None).await.status(), 404);
    }
    let url = h.message_url(&id, &format!("?thread_id={THREAD}"));
    let resp = h
        .call(Method::PATCH, &url, Some(json!({"content": "edited"})))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(json_of(resp).await["channel_id"], THREAD);
    assert_eq!(h.call(Method::DELETE, &url, None).await.status(), 204);
    assert!(h.fake.message(&id).unwrap().deleted);
}

// ---------------------------------------------------------- edit, delete

#[tokio::test]
async fn edit_replaces_what_it_sends_and_keeps_the_rest() {
    let h = Harness::new().await;
    let posted = h
        .post(json!({"content": "v1", "embeds": [{"title": "kept"}]}))
        .await;
    let id = posted["id"].as_str().unwrap();
    let resp = h
        .call(
            Method::PATCH,
            &h.message_url(id, ""),
            Some(json!({"content": "v2"})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-ratelimit-remaining"));
    let body = json_of(resp).await;
    assert_eq!(body["id"], id);
    assert_eq!(body["content"], "v2");
    assert_eq!(body["embeds"][0]["title"], "kept");
    assert!(
        body["edited_timestamp"]
            .as_str()
            .unwrap()
            .ends_with("+00:00")
    );
    let stored = h.fake.message(id).unwrap();
    assert!(stored.edited);
    assert_eq!(stored.content, "v2");
    assert_eq!(stored.body, json!({"content": "v2"}));
    let got = json_of(h.call(Method::GET, &h.message_url(id, ""), None).await).await;
    assert_eq!(got["content"], "v2");
    // Clearing everything leaves an empty message.
    let resp = h
        .call(
            Method::PATCH,
            &h.message_url(id, ""),
            Some(json!({"content": null, "embeds": []})),
        )
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(json_of(resp).await["code"], 50006);
    assert_eq!(h.fake.message(id).unwrap().content, "v2");
}

#[tokio::test]
async fn only_own_live_messages_can_be_touched() {
    let h = Harness::new().await;
    let other_url = h.fake.add_webhook(CHANNEL);
    let resp = h
        .call(
            Method::POST,
            &format!("{other_url}?wait=true"),
            Some(json!({"content": "theirs"})),
        )
        .await;
    let theirs = json_of(resp).await["id"].as_str().unwrap().to_string();
    let unknown = json!({"message": "Unknown Message", "code": 10008});
    for id in [theirs.as_str(), "123456789012345678"] {
        for method in [Method::GET, Method::PATCH, Method::DELETE] {
            let resp = h
                .call(
                    method,
                    &h.message_url(id, ""),
                    Some(json!({"content": "x"})),
                )
                .await;
            assert_eq!(resp.status(), 404);
            assert_eq!(json_of(resp).await, unknown);
        }
    }
    let resp = h
        .call(Method::DELETE, &h.message_url("@original", ""), None)
        .await;
    assert_form_error(&json_of(resp).await, "/message_id", "NUMBER_TYPE_COERCE");
    assert!(!h.fake.message(&theirs).unwrap().edited);
    // Delete once; then it is gone for every operation.
    let mine = h.post(json!({"content": "mine"})).await;
    let url = h.message_url(mine["id"].as_str().unwrap(), "");
    let resp = h.call(Method::DELETE, &url, None).await;
    assert_eq!(resp.status(), 204);
    assert!(resp.bytes().await.unwrap().is_empty());
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let resp = h.call(method, &url, Some(json!({"content": "x"}))).await;
        assert_eq!(json_of(resp).await, unknown);
    }
    let stored = h.fake.messages(CHANNEL);
    assert_eq!(stored.len(), 2);
    assert!(stored[1].deleted);
    assert_eq!(stored[1].content, "mine");
}

// ------------------------------------------------------------- multipart

#[tokio::test]
async fn multipart_with_files_and_attachment_metadata() {
    let h = Harness::new().await;
    let body = form(
        Some(json!({
            "content": "two files",
            "attachments": [{"id": 1, "filename": "renamed.txt", "description": "notes"}],
        })),
        vec![
            part("files[0]", Some(("chart.png", "image/png")), PNG),
            part("files[1]", Some(("notes.txt", "text/plain")), b"some notes"),
        ],
    );
    let resp = h
        .multipart(Method::POST, &format!("{}?wait=true", h.url), body)
        .await;
    assert_eq!(resp.status(), 200);
    let answer = json_of(resp).await;
    let attachments = answer["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 2);
    assert_eq!(attachments[0]["filename"], "chart.png");
    assert_eq!(attachments[0]["size"], PNG.len());
    assert_eq!(attachments[0]["content_type"], "image/png");
    assert_eq!(attachments[1]["filename"], "renamed.txt");
    assert_eq!(attachments[1]["description"], "notes");
    assert!(
        attachments[1]["url"]
            .as_str()
            .unwrap()
            .ends_with("/renamed.txt")
    );
    let stored = h.fake.message(answer["id"].as_str().unwrap()).unwrap();
    assert_eq!(stored.content, "two files");
    assert_eq!(stored.attachments[0].bytes, PNG);
    assert_eq!(
        stored.attachments[0].content_type.as_deref(),
        Some("image/png")
    );
    assert_eq!(stored.attachments[1].filename, "renamed.txt");
    assert_eq!(stored.attachments[1].bytes, b"some notes");
    assert_eq!(stored.body["content"], "two files");
    // A file alone is a message.
    let body = form(
        None,
        vec![part(
            "files[0]",
            Some(("a.bin", "application/octet-stream")),
            b"x",
        )],
    );
    assert_eq!(h.multipart(Method::POST, &h.url, body).await.status(), 204);
}

#[tokio::test]
async fn multipart_refusals() {
    let h = Harness::new().await;
    let too_big = vec![0u8; MAX_FILE_BYTES + 1];
    let body = form(
        Some(json!({"content": "big"})),
        vec![part(
            "files[0]",
            Some(("big.bin", "application/octet-stream")),
            &too_big,
        )],
    );
    let resp = h.multipart(Method::POST, &h.url, body).await;
    assert_eq!(resp.status(), 413);
    assert_eq!(
        json_of(resp).await,
        json!({"message": "Request entity too large", "code": 40005})
    );
    let eleven: Vec<Vec<u8>> = (0..11)
        .map(|i| part(&format!("files[{i}]"), Some(("f.txt", "text/plain")), b"f"))
        .collect();
    let resp = h.multipart(Method::POST, &h.url, form(None, eleven)).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(json_of(resp).await["code"], 50035);
    // An attachment entry naming no uploaded file.
    let body = form(
        Some(json!({"content": "x", "attachments": [{"id": 3, "filename": "x.txt"}]})),
        vec![part("files[0]", Some(("a.txt", "text/plain")), b"a")],
    );
    let resp = h.multipart(Method::POST, &h.url, body).await;
    assert_form_error(
        &json_of(resp).await,
        "/attachments/0",
        "ATTACHMENT_NOT_FOUND",
    );
    // Parts other than payload_json and files[n], and bad payload_json.
    let body = form(None, vec![part("content", None, b"hello")]);
    assert_eq!(h.multipart(Method::POST, &h.url, body).await.status(), 400);
    let body = form(
        None,
        vec![part("file", Some(("a.txt", "text/plain")), b"a")],
    );
    assert_eq!(h.multipart(Method::POST, &h.url, body).await.status(), 400);
    let body = form(None, vec![part("payload_json", None, b"{not json")]);
    let resp = h.multipart(Method::POST, &h.url, body).await;
    assert_eq!(json_of(resp).await["code"], 50109);
    // Field checks apply to payload_json as to a JSON body.
    let body = form(Some(json!({"content": "a".repeat(2001)})), vec![]);
    let resp = h.multipart(Method::POST, &h.url, body).await;
    assert_form_error(&json_of(resp).await, "/content", "BASE_TYPE_MAX_LENGTH");
    assert!(h.fake.messages(CHANNEL).is_empty());
}

#[tokio::test]
async fn edit_keeps_listed_attachments_and_adds_new_files() {
    let h = Harness::new().await;
    let body = form(
        Some(json!({"content": "v1"})),
        vec![
            part("files[0]", Some(("keep.txt", "text/plain")), b"keep"),
            part("files[1]", Some(("drop.txt", "text/plain")), b"drop"),
        ],
    );
    let resp = h
        .multipart(Method::POST, &format!("{}?wait=true", h.url), body)
        .await;
    let posted = json_of(resp).await;
    let id = posted["id"].as_str().unwrap();
    let keep_id = posted["attachments"][0]["id"].as_str().unwrap();
    let body = form(
        Some(json!({"attachments": [{"id": keep_id}, {"id": 0, "filename": "new.txt"}]})),
        vec![part("files[0]", Some(("upload.txt", "text/plain")), b"new")],
    );
    let resp = h
        .multipart(Method::PATCH, &h.message_url(id, ""), body)
        .await;
    assert_eq!(resp.status(), 200);
    let answer = json_of(resp).await;
    let names: Vec<&str> = answer["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["filename"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["keep.txt", "new.txt"]);
    assert_eq!(answer["attachments"][0]["id"], keep_id);
    let stored = h.fake.message(id).unwrap();
    assert_eq!(stored.content, "v1");
    assert_eq!(stored.attachments[1].bytes, b"new");
    // An edit without `attachments` keeps them all.
    let resp = h
        .call(
            Method::PATCH,
            &h.message_url(id, ""),
            Some(json!({"content": "v2"})),
        )
        .await;
    assert_eq!(
        json_of(resp).await["attachments"].as_array().unwrap().len(),
        2
    );
}

// -------------------------------------------------------------- mentions

#[tokio::test]
async fn mentions_follow_allowed_mentions() {
    let h = Harness::new().await;
    let content = "<@111111111111111111> <@!222222222222222222> <@&333333333333333333> @everyone";
    // Default: everyone written pings.
    let body = h.post(json!({"content": content})).await;
    let m = h.fake.message(body["id"].as_str().unwrap()).unwrap();
    assert_eq!(m.pinged_users, ["111111111111111111", "222222222222222222"]);
    assert_eq!(m.pinged_roles, ["333333333333333333"]);
    assert!(m.pinged_everyone);
    assert_eq!(m.allowed_mentions, None);
    assert_eq!(body["mentions"][1]["id"], "222222222222222222");
    assert_eq!(body["mention_everyone"], true);
    // Nothing allowed: nobody.
    let body = h
        .post(json!({"content": content, "allowed_mentions": {"parse": []}}))
        .await;
    let m = h.fake.message(body["id"].as_str().unwrap()).unwrap();
    assert!(m.pinged_users.is_empty() && m.pinged_roles.is_empty() && !m.pinged_everyone);
    assert_eq!(m.allowed_mentions, Some(json!({"parse": []})));
    assert_eq!(body["mentions"], json!([]));
    // Listed users only.
    let body = h
        .post(json!({"content": content, "allowed_mentions": {"users": ["222222222222222222"]}}))
        .await;
    let m = h.fake.message(body["id"].as_str().unwrap()).unwrap();
    assert_eq!(m.pinged_users, ["222222222222222222"]);
    assert!(m.pinged_roles.is_empty() && !m.pinged_everyone);
    // Mentions in embeds never ping.
    let body = h
        .post(json!({"embeds": [{"description": "<@111111111111111111>"}]}))
        .await;
    assert!(
        h.fake
            .message(body["id"].as_str().unwrap())
            .unwrap()
            .pinged_users
            .is_empty()
    );
}

#[tokio::test]
async fn allowed_mentions_is_validated() {
    let h = Harness::new().await;
    let resp = h
        .execute(
            "",
            json!({"content": "x", "allowed_mentions": {"parse": ["users"], "users": ["111111111111111111"]}}),
        )
        .await;
    assert_eq!(resp.status(), 400);
    let body = json_of(resp).await;
    assert_form_error(
        &body,
        "/allowed_mentions",
        "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
    );
    assert_eq!(
        body["errors"]["allowed_mentions"]["_errors"][0]["message"],
        "parse:[\"users\"] and users: [ids...] are mutually exclusive."
    );
    let resp = h
        .execute(
            "",
            json!({"content": "x", "allowed_mentions": {"parse": ["here"]}}),
        )
        .await;
    assert_form_error(
        &json_of(resp).await,
        "/allowed_mentions/parse/0",
        "BASE_TYPE_CHOICES",
    );
    let resp = h
        .execute(
            "",
            json!({"content": "x", "allowed_mentions": {"users": ["bob"]}}),
        )
        .await;
    assert_form_error(
        &json_of(resp).await,
        "/allowed_mentions/users/0",
        "NUMBER_TYPE_COERCE",
    );
    let many: Vec<String> = (0..101).map(|i| format!("1{i:017}")).collect();
    let resp = h
        .execute(
            "",
            json!({"content": "x", "allowed_mentions": {"users": many}}),
        )
        .await;
    assert_form_error(
        &json_of(resp).await,
        "/allowed_mentions/users",
        "BASE_TYPE_MAX_LENGTH",
    );
    assert!(h.fake.messages(CHANNEL).is_empty());
}

#[tokio::test]
async fn an_edit_resolves_mentions_again_under_its_own_rules() {
    let h = Harness::new().await;
    let posted = h
        .post(json!({"content": "<@111111111111111111>", "allowed_mentions": {"parse": []}}))
        .await;
    let id = posted["id"].as_str().unwrap();
    assert!(h.fake.message(id).unwrap().pinged_users.is_empty());
    // An edit of embeds only leaves the content's mentions as they were.
    h.call(
        Method::PATCH,
        &h.message_url(id, ""),
        Some(json!({"embeds": [{"title": "t"}]})),
    )
    .await;
    assert!(h.fake.message(id).unwrap().pinged_users.is_empty());
    // New content without allowed_mentions falls back to the default.
    h.call(
        Method::PATCH,
        &h.message_url(id, ""),
        Some(json!({"content": "<@111111111111111111> again"})),
    )
    .await;
    let m = h.fake.message(id).unwrap();
    assert_eq!(m.pinged_users, ["111111111111111111"]);
    assert_eq!(m.allowed_mentions, None);
}

// ------------------------------------------------------------ rate limits

#[tokio::test]
async fn rate_limit_per_webhook_with_discords_headers() {
    let h = Harness::new().await;
    h.fake.set_rate_limit(2, Duration::from_millis(1500));
    for remaining in ["1", "0"] {
        let resp = h.execute("", json!({"content": "x"})).await;
        assert_eq!(resp.status(), 204);
        assert_eq!(resp.headers()["x-ratelimit-limit"], "2");
        assert_eq!(resp.headers()["x-ratelimit-remaining"], remaining);
    }
    let resp = h.execute("", json!({"content": "refused"})).await;
    assert_eq!(resp.status(), 429);
    let headers = resp.headers().clone();
    assert_eq!(headers["retry-after"], "2");
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    assert_eq!(headers["x-ratelimit-scope"], "user");
    assert!(headers.contains_key("x-ratelimit-bucket"));
    assert!(!headers.contains_key("x-ratelimit-global"));
    let reset_after: f64 = headers["x-ratelimit-reset-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset_after > 0.0 && reset_after <= 1.5);
    let body = json_of(resp).await;
    assert_eq!(body["message"], "You are being rate limited.");
    assert_eq!(body["global"], false);
    let retry_after = body["retry_after"].as_f64().unwrap();
    assert!(retry_after > 0.0 && retry_after <= 1.5);
    assert_eq!(h.fake.messages(CHANNEL).len(), 2);
    // Another webhook has its own bucket.
    let other = h.fake.add_webhook(CHANNEL);
    let resp = h
        .call(Method::POST, &other, Some(json!({"content": "y"})))
        .await;
    assert_eq!(resp.status(), 204);
    // After the window, the first webhook may post again.
    tokio::time::sleep(Duration::from_secs_f64(retry_after + 0.05)).await;
    let resp = h.execute("", json!({"content": "later"})).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(resp.headers()["x-ratelimit-remaining"], "1");
}

#[tokio::test]
async fn injected_rate_limit_comes_before_any_check() {
    let h = Harness::new().await;
    h.fake.inject(
        Op::Execute,
        Fault::RateLimited {
            retry_after: 2.5,
            global: true,
        },
        1,
    );
    h.fake.inject(
        Op::Execute,
        Fault::RateLimited {
            retry_after: 0.2,
            global: false,
        },
        1,
    );
    // Even an empty body meets the 429 first.
    let resp = h.execute("", json!({})).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "3");
    assert_eq!(resp.headers()["x-ratelimit-global"], "true");
    assert_eq!(resp.headers()["x-ratelimit-scope"], "global");
    assert_eq!(
        json_of(resp).await,
        json!({"message": "You are being rate limited.", "retry_after": 2.5, "global": true})
    );
    let resp = h.execute("", json!({})).await;
    assert_eq!(resp.headers()["retry-after"], "1");
    assert_eq!(json_of(resp).await["global"], false);
    // The queue is empty: the empty body is refused for what it is.
    assert_eq!(json_of(h.execute("", json!({})).await).await["code"], 50006);
    let statuses: Vec<u16> = h.fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 429, 400]);
}

// ---------------------------------------------------------------- faults

#[tokio::test]
async fn injected_status_and_slowness() {
    let h = Harness::new().await;
    h.fake.inject(Op::Execute, Fault::Status(503), 1);
    h.fake
        .inject(Op::Edit, Fault::Slow(Duration::from_millis(300)), 1);
    let resp = h.execute("", json!({"content": "x"})).await;
    assert_eq!(resp.status(), 503);
    assert_eq!(
        json_of(resp).await,
        json!({"message": "503: Service Unavailable", "code": 0})
    );
    assert!(h.fake.messages(CHANNEL).is_empty());
    let posted = h.post(json!({"content": "v1"})).await;
    let started = Instant::now();
    let resp = h
        .call(
            Method::PATCH,
            &h.message_url(posted["id"].as_str().unwrap(), ""),
            Some(json!({"content": "v2"})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(h.fake.count(Op::Execute), 2);
    assert_eq!(h.fake.count(Op::Edit), 1);
}

#[tokio::test]
async fn dropped_connections_before_and_after_handling() {
    let h = Harness::new().await;
    h.fake.inject(Op::Execute, Fault::DropConnection, 1);
    h.fake.inject(Op::Execute, Fault::DropAfterHandling, 1);
    let first = h
        .http
        .post(&h.url)
        .json(&json!({"content": "lost"}))
        .send()
        .await;
    assert!(first.is_err());
    assert!(h.fake.messages(CHANNEL).is_empty());
    let second = h
        .http
        .post(&h.url)
        .json(&json!({"content": "kept"}))
        .send()
        .await;
    assert!(second.is_err());
    let messages = h.fake.messages(CHANNEL);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].content, "kept");
    let statuses: Vec<u16> = h.fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [0, 0]);
}

#[tokio::test]
async fn requests_are_recorded_as_received() {
    let h = Harness::new().await;
    h.http
        .post(format!("{}?wait=true", h.url))
        .header("X-Custom-Header", "Value")
        .json(&json!({"content": "recorded"}))
        .send()
        .await
        .unwrap();
    let (base, _) = h.url.rsplit_once('/').unwrap();
    h.call(
        Method::POST,
        &format!("{base}/wrong"),
        Some(json!({"content": "x"})),
    )
    .await;
    let requests = h.fake.requests();
    assert_eq!(requests.len(), 2);
    let r = &requests[0];
    assert_eq!(r.op, Some(Op::Execute));
    assert_eq!(r.method, "POST");
    assert!(r.path.starts_with("/api/webhooks/"));
    assert_eq!(r.query.as_deref(), Some("wait=true"));
    assert_eq!(r.header("x-custom-header"), Some("Value"));
    assert!(r.headers.iter().all(|(n, _)| *n == n.to_lowercase()));
    assert_eq!(r.body_str(), "{\"content\":\"recorded\"}");
    assert_eq!(r.status, 200);
    assert_eq!(requests[1].status, 401);
    assert_eq!(h.fake.count(Op::Execute), 2);
    assert_eq!(h.fake.count(Op::Delete), 0);
}
