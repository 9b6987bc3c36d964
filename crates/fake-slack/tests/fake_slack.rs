//! Tests of the strict fake Slack Web API itself, over real HTTP.
//!
//! If the fake accepted something Slack refuses, every adapter test built
//! on it would prove nothing; so beyond the happy paths, most tests here
//! are about what the fake refuses, and how.

use std::time::{Duration, Instant};

use fake_slack::{FakeSlack, Fault, MAX_TEXT_CHARS, UPLOAD};
use reqwest::{Client, Response};
use serde_json::{Value, json};

const TOKEN: &str = "xoxb-1111-2222-aBcDeFgHiJkLmNoP";
const BOT: &str = "U0BOT00001";
const OTHER_TOKEN: &str = "xoxb-3333-4444-OtherBotToken";
const OTHER_BOT: &str = "U0OTHER001";
const TEAM: &str = "Acme Corp";
const CHANNEL: &str = "C0123ABCD";
/// Exists, but the bot is not in it.
const FOREIGN: &str = "C0999ZZZZ";
const HUMAN: &str = "U0HUMAN001";

// ---------------------------------------------------------------- harness

/// A running fake with two bots in `CHANNEL` and a foreign channel.
struct Harness {
    fake: FakeSlack,
    http: Client,
}

impl Harness {
    async fn new() -> Harness {
        let fake = FakeSlack::start().await;
        fake.add_bot(TOKEN, BOT, TEAM);
        fake.add_bot(OTHER_TOKEN, OTHER_BOT, TEAM);
        fake.add_channel(CHANNEL, "general");
        fake.add_channel(FOREIGN, "secret");
        fake.join(TOKEN, CHANNEL);
        fake.join(OTHER_TOKEN, CHANNEL);
        let http = Client::builder()
            .no_proxy()
            .build()
            .expect("reqwest client");
        Harness { fake, http }
    }

    fn url(&self, method: &str) -> String {
        format!("{}/{method}", self.fake.api_url())
    }

    /// POST a JSON body as the SDKs do (charset included).
    async fn json(&self, method: &str, token: &str, body: Value) -> Value {
        let resp = self
            .http
            .post(self.url(method))
            .bearer_auth(token)
            .header("Content-Type", "application/json; charset=utf-8")
            .body(body.to_string())
            .send()
            .await
            .expect("api request");
        body_of(resp).await
    }

    /// POST a form.
    async fn form(&self, method: &str, token: &str, form: &[(&str, &str)]) -> Value {
        let resp = self
            .http
            .post(self.url(method))
            .bearer_auth(token)
            .form(form)
            .send()
            .await
            .expect("api request");
        body_of(resp).await
    }

    /// POST raw bytes with any content type.
    async fn raw(&self, method: &str, content_type: Option<&str>, body: &str) -> Value {
        let mut request = self
            .http
            .post(self.url(method))
            .bearer_auth(TOKEN)
            .body(body.to_string());
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        body_of(request.send().await.expect("api request")).await
    }

    async fn post_message(&self, body: Value) -> Value {
        self.json("chat.postMessage", TOKEN, body).await
    }

    /// Post `text` in `CHANNEL` (optionally in a thread); its `ts`.
    async fn post(&self, text: &str, thread_ts: Option<&str>) -> String {
        let mut body = json!({"channel": CHANNEL, "text": text});
        if let Some(thread_ts) = thread_ts {
            body["thread_ts"] = json!(thread_ts);
        }
        let answer = self.post_message(body).await;
        assert_eq!(answer["ok"], true, "{answer}");
        answer["ts"].as_str().unwrap().to_string()
    }

    async fn history(&self, form: &[(&str, &str)]) -> Value {
        self.form("conversations.history", TOKEN, form).await
    }

    /// Reserve, upload and answer the file id and upload URL.
    async fn reserve(&self, filename: &str, bytes: &[u8]) -> (String, String) {
        let length = bytes.len().to_string();
        let answer = self
            .form(
                "files.getUploadURLExternal",
                TOKEN,
                &[("filename", filename), ("length", &length)],
            )
            .await;
        assert_eq!(answer["ok"], true, "{answer}");
        (
            answer["file_id"].as_str().unwrap().to_string(),
            answer["upload_url"].as_str().unwrap().to_string(),
        )
    }

    /// POST raw bytes to an upload URL: (status, text).
    async fn upload(&self, url: &str, bytes: &[u8]) -> (u16, String) {
        let resp = self
            .http
            .post(url)
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }
}

async fn body_of(resp: Response) -> Value {
    let status = resp.status().as_u16();
    let value: Value = resp.json().await.expect("a JSON answer");
    assert_eq!(status, 200, "{value}");
    value
}

/// The error code of a refusal (asserting it is one).
fn error(answer: &Value) -> &str {
    assert_eq!(answer["ok"], false, "expected a refusal: {answer}");
    answer["error"].as_str().expect("an error code")
}

fn ok(answer: &Value) {
    assert_eq!(answer["ok"], true, "expected success: {answer}");
}

/// The first `response_metadata.messages` entry.
fn first_message(answer: &Value) -> &str {
    answer["response_metadata"]["messages"][0]
        .as_str()
        .unwrap_or("")
}

fn section(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})
}

fn multipart(boundary: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, filename, bytes) in parts {
        body.extend(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend(*bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    body
}

// ------------------------------------------------------------------ auth

#[tokio::test]
async fn auth_test_names_the_bot_and_its_team() {
    let h = Harness::new().await;
    let answer = h.form("auth.test", TOKEN, &[]).await;
    ok(&answer);
    assert_eq!(answer["user_id"], BOT);
    assert_eq!(answer["bot_id"], "B0BOT00001");
    assert_eq!(answer["team"], TEAM);
    assert_eq!(answer["url"], "https://acme-corp.slack.com/");
    let team_id = answer["team_id"].as_str().unwrap();
    assert!(team_id.starts_with('T'), "{team_id}");
    let other = h.form("auth.test", OTHER_TOKEN, &[]).await;
    assert_eq!(other["team_id"], team_id, "same team, same id");
    assert_eq!(
        h.fake.client_env(),
        vec![("SLACK_API_URL", h.fake.api_url())]
    );
}

#[tokio::test]
async fn missing_unknown_and_revoked_tokens_are_refused() {
    let h = Harness::new().await;
    let none = h
        .http
        .post(h.url("auth.test"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(error(&none), "not_authed");
    assert_eq!(
        error(&h.form("auth.test", "xoxb-0-0-unknown", &[]).await),
        "invalid_auth"
    );
    // A `token` form field works; inside a JSON body it is not read.
    let by_form = h
        .http
        .post(h.url("auth.test"))
        .form(&[("token", TOKEN)])
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    ok(&by_form);
    let in_json = h
        .http
        .post(h.url("auth.test"))
        .header("Content-Type", "application/json; charset=utf-8")
        .body(json!({"token": TOKEN}).to_string())
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(error(&in_json), "not_authed");
    h.fake.revoke(TOKEN);
    assert_eq!(
        error(&h.form("auth.test", TOKEN, &[]).await),
        "token_revoked"
    );
    let post = h
        .post_message(json!({"channel": CHANNEL, "text": "hi"}))
        .await;
    assert_eq!(error(&post), "token_revoked");
    assert!(h.fake.messages(CHANNEL).is_empty());
}

// ------------------------------------------------------------- messages

#[tokio::test]
async fn a_post_answers_an_increasing_ts_and_is_stored() {
    let h = Harness::new().await;
    let answer = h
        .post_message(json!({"channel": CHANNEL, "text": "Deploy *done*", "mrkdwn": true, "unfurl_links": false}))
        .await;
    ok(&answer);
    assert!(answer.get("warning").is_none(), "{answer}");
    let ts = answer["ts"].as_str().unwrap().to_string();
    let (secs, micros) = ts.split_once('.').unwrap();
    assert_eq!(secs.len(), 10, "{ts}");
    assert_eq!(micros.len(), 6, "{ts}");
    assert_eq!(answer["channel"], CHANNEL);
    let message = &answer["message"];
    assert_eq!(message["type"], "message");
    assert_eq!(message["text"], "Deploy *done*");
    assert_eq!(message["user"], BOT);
    assert_eq!(message["bot_id"], "B0BOT00001");
    assert_eq!(message["ts"], ts.as_str());
    assert!(message.get("thread_ts").is_none());

    let second = h.post("again", None).await;
    assert!(second > ts, "{second} after {ts}");
    let stored = h.fake.message(CHANNEL, &ts).unwrap();
    assert_eq!(stored.text, "Deploy *done*");
    assert_eq!(stored.user, BOT);
    assert!(stored.bot && !stored.edited && !stored.deleted);
    assert_eq!(stored.body["mrkdwn"], true);
    assert_eq!(h.fake.messages(CHANNEL).len(), 2);

    let recorded = &h.fake.requests()[0];
    assert_eq!(recorded.method.as_deref(), Some("chat.postMessage"));
    assert_eq!(recorded.http_method, "POST");
    assert_eq!(recorded.path, "/api/chat.postMessage");
    assert_eq!(
        recorded.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(recorded.headers.iter().all(|(n, _)| *n == n.to_lowercase()));
    assert_eq!(recorded.json().unwrap()["text"], "Deploy *done*");
    assert_eq!(recorded.status, 200);
    assert_eq!(h.fake.count("chat.postMessage"), 2);
}

#[tokio::test]
async fn a_form_post_takes_blocks_and_metadata_as_json_strings_and_a_channel_name() {
    let h = Harness::new().await;
    let blocks = json!([section("*hello*")]).to_string();
    let metadata = json!({"event_type": "skype_sent", "event_payload": {"id": "42"}}).to_string();
    let answer = h
        .form(
            "chat.postMessage",
            TOKEN,
            &[
                ("channel", "#general"),
                ("text", "hello"),
                ("blocks", &blocks),
                ("metadata", &metadata),
                ("unfurl_links", "false"),
            ],
        )
        .await;
    ok(&answer);
    assert_eq!(answer["channel"], CHANNEL, "a name resolves to the id");
    let stored = h
        .fake
        .message(CHANNEL, answer["ts"].as_str().unwrap())
        .unwrap();
    assert_eq!(stored.blocks, Some(json!([section("*hello*")])));
    assert_eq!(stored.metadata.unwrap()["event_payload"]["id"], "42");
    assert_eq!(
        stored.body["blocks"],
        blocks.as_str(),
        "form fields as sent"
    );
    // A form value that is not JSON, or a flag that is not a boolean.
    let bad = h
        .form(
            "chat.postMessage",
            TOKEN,
            &[("channel", CHANNEL), ("text", "x"), ("blocks", "[{")],
        )
        .await;
    assert_eq!(error(&bad), "invalid_blocks");
    let flag = h
        .form(
            "chat.postMessage",
            TOKEN,
            &[("channel", CHANNEL), ("text", "x"), ("mrkdwn", "yes")],
        )
        .await;
    assert_eq!(error(&flag), "invalid_arguments");
}

#[tokio::test]
async fn json_bodies_need_json_typed_fields() {
    let h = Harness::new().await;
    let cases = [
        (
            json!({"channel": CHANNEL, "text": "x", "blocks": json!([section("a")]).to_string()}),
            "invalid_blocks",
        ),
        (
            json!({"channel": CHANNEL, "text": "x",
                   "metadata": json!({"event_type": "e", "event_payload": {}}).to_string()}),
            "invalid_metadata_format",
        ),
        (json!({"channel": CHANNEL, "text": 42}), "invalid_arguments"),
        (
            json!({"channel": CHANNEL, "text": "x", "unfurl_links": "false"}),
            "invalid_arguments",
        ),
        (
            json!({"channel": CHANNEL, "text": "x", "thread_ts": 1700000000.0001}),
            "invalid_arguments",
        ),
    ];
    for (body, code) in cases {
        assert_eq!(error(&h.post_message(body.clone()).await), code, "{body}");
    }
    assert!(h.fake.messages(CHANNEL).is_empty());
}

#[tokio::test]
async fn content_types_are_checked_as_slack_does() {
    let h = Harness::new().await;
    let body = json!({"channel": CHANNEL, "text": "x"}).to_string();
    // JSON without a charset works, with Slack's warning.
    let warned = h
        .raw("chat.postMessage", Some("application/json"), &body)
        .await;
    ok(&warned);
    assert_eq!(warned["warning"], "missing_charset");
    assert_eq!(
        warned["response_metadata"]["warnings"],
        json!(["missing_charset"])
    );
    let cases = [
        (None, body.as_str(), "missing_post_type"),
        (Some("application/xml"), body.as_str(), "invalid_post_type"),
        (
            Some("application/json; charset=utf-16"),
            body.as_str(),
            "invalid_charset",
        ),
        (Some("application/json; charset=utf-8"), "{", "invalid_json"),
        (
            Some("application/json; charset=utf-8"),
            "[1]",
            "json_not_object",
        ),
    ];
    for (content_type, body, code) in cases {
        let answer = h.raw("chat.postMessage", content_type, body).await;
        assert_eq!(error(&answer), code, "{content_type:?} {body}");
    }
    assert_eq!(h.fake.messages(CHANNEL).len(), 1);
}

#[tokio::test]
async fn unknown_and_foreign_channels_are_refused() {
    let h = Harness::new().await;
    let cases = [
        (json!({"text": "x"}), "channel_not_found"),
        (
            json!({"channel": "C0NOSUCH1", "text": "x"}),
            "channel_not_found",
        ),
        (
            json!({"channel": "#nosuch", "text": "x"}),
            "channel_not_found",
        ),
        (json!({"channel": FOREIGN, "text": "x"}), "not_in_channel"),
    ];
    for (body, code) in cases {
        assert_eq!(error(&h.post_message(body.clone()).await), code, "{body}");
    }
    h.fake.join(TOKEN, FOREIGN);
    ok(&h
        .post_message(json!({"channel": FOREIGN, "text": "x"}))
        .await);
}

#[tokio::test]
async fn empty_and_oversized_text_is_refused() {
    let h = Harness::new().await;
    for body in [
        json!({"channel": CHANNEL}),
        json!({"channel": CHANNEL, "text": ""}),
        json!({"channel": CHANNEL, "blocks": []}),
    ] {
        assert_eq!(
            error(&h.post_message(body.clone()).await),
            "no_text",
            "{body}"
        );
    }
    // Blocks alone are content.
    ok(&h
        .post_message(json!({"channel": CHANNEL, "blocks": [section("b")]}))
        .await);
    // The limit counts characters, not bytes.
    let longest = "é".repeat(MAX_TEXT_CHARS);
    ok(&h
        .post_message(json!({"channel": CHANNEL, "text": longest}))
        .await);
    let too_long = "a".repeat(MAX_TEXT_CHARS + 1);
    assert_eq!(
        error(
            &h.post_message(json!({"channel": CHANNEL, "text": too_long}))
                .await
        ),
        "msg_too_long"
    );
}

#[tokio::test]
async fn blocks_are_checked() {
    let h = Harness::new().await;
    let valid = json!([
        {"type": "header", "text": {"type": "plain_text", "text": "Title"}},
        {"type": "section", "text": {"type": "plain_text", "text": "plain", "emoji": true}, "block_id": "b1"},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "*a*"}, {"type": "mrkdwn", "text": "b"}]},
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "ctx"},
            {"type": "image", "image_url": "https://example.com/i.png", "alt_text": "i"}]},
        {"type": "image", "image_url": "https://example.com/i.png", "alt_text": "a picture"},
        {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": "rt"}]}]},
        {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Go"}, "url": "https://example.com"}]},
    ]);
    ok(&h
        .post_message(json!({"channel": CHANNEL, "text": "fallback", "blocks": valid}))
        .await);
    let fifty_one: Vec<Value> = (0..51).map(|_| json!({"type": "divider"})).collect();
    let cases = [
        (json!({"type": "section"}), "/blocks"),
        (json!([{"type": "table"}]), "/blocks/0/type"),
        (
            json!([{"text": {"type": "mrkdwn", "text": "x"}}]),
            "/blocks/0/type",
        ),
        (
            json!([{"type": "section", "text": {"type": "html", "text": "x"}}]),
            "/blocks/0/text/type",
        ),
        (json!([section(&"x".repeat(3001))]), "/blocks/0/text/text"),
        (json!([section("")]), "/blocks/0/text/text"),
        (
            json!([{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}]),
            "/blocks/0/text/type",
        ),
        (json!([{"type": "section"}]), "/blocks/0"),
        (
            json!([{"type": "image", "image_url": "https://example.com/i.png"}]),
            "/blocks/0/alt_text",
        ),
        (
            json!([{"type": "context", "elements": []}]),
            "/blocks/0/elements",
        ),
        (json!(fifty_one), "/blocks"),
    ];
    for (blocks, pointer) in cases {
        let answer = h
            .post_message(json!({"channel": CHANNEL, "text": "t", "blocks": blocks}))
            .await;
        assert_eq!(error(&answer), "invalid_blocks", "{blocks}");
        assert!(
            first_message(&answer).ends_with(&format!("[json-pointer:{pointer}]")),
            "{answer}"
        );
    }
    // 3000 characters is the limit, not more.
    ok(&h
        .post_message(
            json!({"channel": CHANNEL, "text": "t", "blocks": [section(&"x".repeat(3000))]}),
        )
        .await);
}

#[tokio::test]
async fn metadata_is_checked_and_read_back_with_include_all_metadata() {
    let h = Harness::new().await;
    for metadata in [
        json!("not an object"),
        json!([]),
        json!({}),
        json!({"event_payload": {"a": 1}}),
        json!({"event_type": "", "event_payload": {}}),
        json!({"event_type": "x"}),
        json!({"event_type": "x", "event_payload": "a string"}),
    ] {
        let answer = h
            .post_message(json!({"channel": CHANNEL, "text": "t", "metadata": metadata}))
            .await;
        assert_eq!(error(&answer), "invalid_metadata_format", "{metadata}");
    }
    let metadata = json!({"event_type": "skype_sent", "event_payload": {"key": "abc", "n": 3}});
    let ts = {
        let answer = h
            .post_message(json!({"channel": CHANNEL, "text": "t", "metadata": metadata}))
            .await;
        ok(&answer);
        answer["ts"].as_str().unwrap().to_string()
    };
    let plain = h.history(&[("channel", CHANNEL)]).await;
    ok(&plain);
    assert_eq!(plain["messages"][0]["ts"], ts.as_str());
    assert!(plain["messages"][0].get("metadata").is_none(), "{plain}");
    let with = h
        .history(&[("channel", CHANNEL), ("include_all_metadata", "true")])
        .await;
    assert_eq!(with["messages"][0]["metadata"], metadata);
}

#[tokio::test]
async fn replies_need_a_live_parent_in_the_channel() {
    let h = Harness::new().await;
    let parent = h.post("parent", None).await;
    let human = h.fake.add_user_message(FOREIGN, HUMAN, "elsewhere");
    let reply = h.post("reply", Some(&parent)).await;
    let stored = h.fake.message(CHANNEL, &reply).unwrap();
    assert_eq!(stored.thread_ts.as_deref(), Some(parent.as_str()));
    // A reply's ts means its parent's thread.
    let nested = h.post("nested", Some(&reply)).await;
    assert_eq!(
        h.fake
            .message(CHANNEL, &nested)
            .unwrap()
            .thread_ts
            .as_deref(),
        Some(parent.as_str())
    );
    let gone = h.post("to delete", None).await;
    ok(&h
        .json(
            "chat.delete",
            TOKEN,
            json!({"channel": CHANNEL, "ts": gone}),
        )
        .await);
    for thread_ts in ["1600000000.000100", human.as_str(), gone.as_str()] {
        let answer = h
            .post_message(json!({"channel": CHANNEL, "text": "r", "thread_ts": thread_ts}))
            .await;
        assert_eq!(error(&answer), "thread_not_found", "{thread_ts}");
    }
    // History lists the parent with its thread, not the replies.
    let history = h.history(&[("channel", CHANNEL)]).await;
    let messages = history["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{history}");
    assert_eq!(messages[0]["ts"], parent.as_str());
    assert_eq!(messages[0]["thread_ts"], parent.as_str());
    assert_eq!(messages[0]["reply_count"], 2);
    let replies = h
        .form(
            "conversations.replies",
            TOKEN,
            &[("channel", CHANNEL), ("ts", &parent)],
        )
        .await;
    let texts: Vec<&str> = replies["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["parent", "reply", "nested"]);
}

#[tokio::test]
async fn a_bot_updates_only_its_own_live_messages() {
    let h = Harness::new().await;
    let ts = {
        let answer = h
            .post_message(
                json!({"channel": CHANNEL, "text": "v1", "blocks": [section("v1")],
                "metadata": {"event_type": "e", "event_payload": {"v": 1}}}),
            )
            .await;
        answer["ts"].as_str().unwrap().to_string()
    };
    let human = h
        .fake
        .add_user_message(CHANNEL, HUMAN, "a human wrote this");
    let other = {
        let answer = h
            .json(
                "chat.postMessage",
                OTHER_TOKEN,
                json!({"channel": CHANNEL, "text": "other bot"}),
            )
            .await;
        answer["ts"].as_str().unwrap().to_string()
    };
    let cases = [
        (json!({"ts": ts, "text": "x"}), "channel_not_found"),
        (
            json!({"channel": CHANNEL, "text": "x"}),
            "message_not_found",
        ),
        (
            json!({"channel": CHANNEL, "ts": "1600000000.000100", "text": "x"}),
            "message_not_found",
        ),
        (
            json!({"channel": CHANNEL, "ts": human, "text": "x"}),
            "cant_update_message",
        ),
        (
            json!({"channel": CHANNEL, "ts": other, "text": "x"}),
            "cant_update_message",
        ),
        (json!({"channel": CHANNEL, "ts": ts}), "no_text"),
        (
            json!({"channel": CHANNEL, "ts": ts, "text": "a".repeat(MAX_TEXT_CHARS + 1)}),
            "msg_too_long",
        ),
        (
            json!({"channel": CHANNEL, "ts": ts, "text": "x", "blocks": [{"type": "nope"}]}),
            "invalid_blocks",
        ),
        (
            json!({"channel": CHANNEL, "ts": ts, "text": "x", "metadata": {"event_type": 1}}),
            "invalid_metadata_format",
        ),
    ];
    for (body, code) in cases {
        assert_eq!(
            error(&h.json("chat.update", TOKEN, body.clone()).await),
            code,
            "{body}"
        );
    }
    assert!(!h.fake.message(CHANNEL, &ts).unwrap().edited);
    // New text without blocks drops the blocks; metadata is kept.
    let answer = h
        .json(
            "chat.update",
            TOKEN,
            json!({"channel": CHANNEL, "ts": ts, "text": "v2"}),
        )
        .await;
    ok(&answer);
    assert_eq!(answer["channel"], CHANNEL);
    assert_eq!(answer["ts"], ts.as_str());
    assert_eq!(answer["text"], "v2");
    let stored = h.fake.message(CHANNEL, &ts).unwrap();
    assert!(stored.edited);
    assert_eq!(stored.text, "v2");
    assert_eq!(stored.blocks, None);
    assert_eq!(stored.metadata.as_ref().unwrap()["event_payload"]["v"], 1);
    // `{}` removes the metadata.
    ok(&h
        .json(
            "chat.update",
            TOKEN,
            json!({"channel": CHANNEL, "ts": ts, "text": "v3", "metadata": {}}),
        )
        .await);
    assert_eq!(h.fake.message(CHANNEL, &ts).unwrap().metadata, None);
    let history = h.history(&[("channel", CHANNEL)]).await;
    let shown = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["ts"] == ts.as_str())
        .unwrap();
    assert_eq!(shown["text"], "v3");
    assert_eq!(shown["edited"]["user"], BOT);
}

#[tokio::test]
async fn a_bot_deletes_only_its_own_live_messages() {
    let h = Harness::new().await;
    let ts = h.post("bye", None).await;
    let keep = h.post("stays", None).await;
    let human = h.fake.add_user_message(CHANNEL, HUMAN, "mine");
    assert_eq!(
        error(
            &h.json(
                "chat.delete",
                TOKEN,
                json!({"channel": CHANNEL, "ts": human})
            )
            .await
        ),
        "cant_delete_message"
    );
    assert_eq!(
        error(
            &h.json(
                "chat.delete",
                TOKEN,
                json!({"channel": "C0NOSUCH1", "ts": ts})
            )
            .await
        ),
        "channel_not_found"
    );
    let answer = h
        .json("chat.delete", TOKEN, json!({"channel": CHANNEL, "ts": ts}))
        .await;
    ok(&answer);
    assert_eq!(answer, json!({"ok": true, "channel": CHANNEL, "ts": ts}));
    assert_eq!(
        error(
            &h.json("chat.delete", TOKEN, json!({"channel": CHANNEL, "ts": ts}))
                .await
        ),
        "message_not_found",
        "deleting twice"
    );
    assert_eq!(
        error(
            &h.json(
                "chat.update",
                TOKEN,
                json!({"channel": CHANNEL, "ts": ts, "text": "x"})
            )
            .await
        ),
        "message_not_found"
    );
    let stored = h.fake.messages(CHANNEL);
    assert_eq!(stored.len(), 3, "deleted ones stay, flagged");
    assert!(stored[0].deleted && !stored[1].deleted);
    let history = h.history(&[("channel", CHANNEL)]).await;
    let listed: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["ts"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [human.as_str(), keep.as_str()], "newest first");
}

// -------------------------------------------------------------- history

#[tokio::test]
async fn history_pages_newest_first_within_bounds() {
    let h = Harness::new().await;
    let mut ts = Vec::new();
    for i in 0..5 {
        ts.push(h.post(&format!("m{i}"), None).await);
    }
    let first = h.history(&[("channel", CHANNEL), ("limit", "2")]).await;
    ok(&first);
    let texts = |v: &Value| -> Vec<String> {
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(texts(&first), ["m4", "m3"]);
    assert_eq!(first["has_more"], true);
    let cursor = first["response_metadata"]["next_cursor"].as_str().unwrap();
    let second = h
        .history(&[("channel", CHANNEL), ("limit", "2"), ("cursor", cursor)])
        .await;
    assert_eq!(texts(&second), ["m2", "m1"]);
    let all = h.history(&[("channel", CHANNEL)]).await;
    assert_eq!(all["has_more"], false);
    assert_eq!(texts(&all).len(), 5);
    let exclusive = h
        .history(&[("channel", CHANNEL), ("oldest", &ts[1]), ("latest", &ts[3])])
        .await;
    assert_eq!(texts(&exclusive), ["m2"]);
    let inclusive = h
        .history(&[
            ("channel", CHANNEL),
            ("oldest", &ts[1]),
            ("latest", &ts[3]),
            ("inclusive", "true"),
        ])
        .await;
    assert_eq!(texts(&inclusive), ["m3", "m2", "m1"]);
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[("channel", CHANNEL), ("oldest", "yesterday")],
            "invalid_ts_oldest",
        ),
        (
            &[("channel", CHANNEL), ("latest", "1.2.3")],
            "invalid_ts_latest",
        ),
        (
            &[("channel", CHANNEL), ("cursor", "bm9wZQ==")],
            "invalid_cursor",
        ),
        (
            &[("channel", CHANNEL), ("limit", "ten")],
            "invalid_arguments",
        ),
        (&[("channel", "C0NOSUCH1")], "channel_not_found"),
    ];
    for (form, code) in cases {
        assert_eq!(error(&h.history(form).await), code, "{form:?}");
    }
}

#[tokio::test]
async fn history_needs_membership_and_reads_no_json_body() {
    let h = Harness::new().await;
    h.post("x", None).await;
    let foreign = h.history(&[("channel", FOREIGN)]).await;
    assert_eq!(error(&foreign), "not_in_channel");
    // A read method ignores a JSON body, as Slack does: no channel.
    let json_body = h
        .json("conversations.history", TOKEN, json!({"channel": CHANNEL}))
        .await;
    assert_eq!(error(&json_body), "channel_not_found");
    // A GET with a query string works.
    let resp = h
        .http
        .get(h.url("conversations.history"))
        .bearer_auth(TOKEN)
        .query(&[("channel", CHANNEL)])
        .send()
        .await
        .unwrap();
    let answer = body_of(resp).await;
    ok(&answer);
    assert_eq!(answer["messages"][0]["text"], "x");
    assert_eq!(
        h.fake.requests().last().unwrap().query.as_deref(),
        Some(format!("channel={CHANNEL}").as_str())
    );
}

// ---------------------------------------------------------------- files

#[tokio::test]
async fn a_file_upload_shares_one_message_in_the_thread() {
    let h = Harness::new().await;
    let parent = h.post("parent", None).await;
    let bytes = b"\x89PNG\r\n\x1a\n not really".to_vec();
    let (file_id, url) = h.reserve("shot.png", &bytes).await;
    assert!(file_id.starts_with('F'), "{file_id}");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    // No token on the upload URL.
    let (status, text) = h.upload(&url, &bytes).await;
    assert_eq!(
        (status, text.as_str()),
        (200, format!("OK - {}", bytes.len()).as_str())
    );
    let answer = h
        .json(
            "files.completeUploadExternal",
            TOKEN,
            json!({"files": [{"id": file_id, "title": "Screenshot"}], "channel_id": CHANNEL,
                   "initial_comment": "here it is", "thread_ts": parent}),
        )
        .await;
    ok(&answer);
    assert_eq!(
        answer["files"],
        json!([{"id": file_id, "title": "Screenshot", "name": "shot.png"}])
    );
    let messages = h.fake.messages(CHANNEL);
    let shared = messages.last().unwrap();
    assert_eq!(shared.text, "here it is");
    assert_eq!(shared.files, vec![file_id.clone()]);
    assert_eq!(shared.thread_ts.as_deref(), Some(parent.as_str()));
    assert!(shared.bot);
    let file = &h.fake.files()[0];
    assert_eq!(file.bytes, bytes);
    assert_eq!(file.filename, "shot.png");
    assert_eq!(file.title.as_deref(), Some("Screenshot"));
    assert_eq!(file.channel.as_deref(), Some(CHANNEL));
    assert_eq!(file.thread_ts.as_deref(), Some(parent.as_str()));
    assert_eq!(file.initial_comment.as_deref(), Some("here it is"));
    assert_eq!(file.message_ts.as_deref(), Some(shared.ts.as_str()));
    assert!(file.completed);
    let info = h.form("files.info", TOKEN, &[("file", &file_id)]).await;
    ok(&info);
    assert_eq!(info["file"]["name"], "shot.png");
    assert_eq!(
        info["file"]["shares"]["public"][CHANNEL],
        json!([{"ts": shared.ts, "thread_ts": parent}])
    );
    // Completing twice: the ticket is spent.
    let again = h
        .json(
            "files.completeUploadExternal",
            TOKEN,
            json!({"files": [{"id": file_id}], "channel_id": CHANNEL}),
        )
        .await;
    assert_eq!(error(&again), "file_not_found");
    assert_eq!(h.upload(&url, &bytes).await.0, 404);
}

#[tokio::test]
async fn a_multipart_upload_completed_without_a_channel_stays_private() {
    let h = Harness::new().await;
    let bytes = b"col1,col2\n1,2\n";
    let (file_id, url) = h.reserve("data.csv", bytes).await;
    let boundary = "XyZzY-boundary";
    let resp = h
        .http
        .post(&url)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(multipart(boundary, &[("file", Some("data.csv"), bytes)]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), format!("OK - {}", bytes.len()));
    let files = json!([{"id": file_id}]).to_string();
    let answer = h
        .form("files.completeUploadExternal", TOKEN, &[("files", &files)])
        .await;
    ok(&answer);
    assert_eq!(answer["files"][0]["title"], "data.csv");
    assert!(h.fake.messages(CHANNEL).is_empty());
    let file = &h.fake.files()[0];
    assert_eq!(file.bytes, bytes);
    assert_eq!(file.channel, None);
    let info = h.form("files.info", TOKEN, &[("file", &file_id)]).await;
    assert_eq!(info["file"]["shares"], json!({}));
    assert_eq!(
        error(&h.form("files.info", TOKEN, &[("file", "F0NOSUCH00")]).await),
        "file_not_found"
    );
}

#[tokio::test]
async fn upload_reservations_and_completions_are_refused_as_slack_does() {
    let h = Harness::new().await;
    let reserve_cases: [(&[(&str, &str)], &str); 4] = [
        (&[("length", "3")], "invalid_arguments"),
        (&[("filename", "a.txt")], "invalid_arguments"),
        (
            &[("filename", "a.txt"), ("length", "three")],
            "invalid_arguments",
        ),
        (
            &[("filename", "a.txt"), ("length", "0")],
            "missing_argument",
        ),
    ];
    for (form, code) in reserve_cases {
        let answer = h.form("files.getUploadURLExternal", TOKEN, form).await;
        assert_eq!(error(&answer), code, "{form:?}");
    }
    // getUploadURLExternal takes no JSON: its fields are not seen.
    let json_body = h
        .json(
            "files.getUploadURLExternal",
            TOKEN,
            json!({"filename": "a.txt", "length": 3}),
        )
        .await;
    assert_eq!(error(&json_body), "invalid_arguments");
    assert!(
        first_message(&json_body).contains("filename"),
        "{json_body}"
    );

    let complete = |body: Value| h.json("files.completeUploadExternal", TOKEN, body);
    let (reserved, _) = h.reserve("never-sent.txt", b"abc").await;
    let (short, short_url) = h.reserve("short.txt", b"abcdef").await;
    assert_eq!(
        h.upload(&short_url, b"abc").await,
        (200, "OK - 3".to_string())
    );
    let (good, good_url) = h.reserve("good.txt", b"abc").await;
    h.upload(&good_url, b"abc").await;
    let other = {
        let answer = h
            .form(
                "files.getUploadURLExternal",
                OTHER_TOKEN,
                &[("filename", "o.txt"), ("length", "1")],
            )
            .await;
        h.upload(answer["upload_url"].as_str().unwrap(), b"o").await;
        answer["file_id"].as_str().unwrap().to_string()
    };
    let cases = [
        (json!({"channel_id": CHANNEL}), "invalid_arguments"),
        (
            json!({"files": [], "channel_id": CHANNEL}),
            "invalid_arguments",
        ),
        (
            json!({"files": json!([{"id": good}]).to_string(), "channel_id": CHANNEL}),
            "invalid_arguments",
        ),
        (
            json!({"files": [{"title": "t"}], "channel_id": CHANNEL}),
            "invalid_arguments",
        ),
        (
            json!({"files": [{"id": "F0NOSUCH00"}], "channel_id": CHANNEL}),
            "file_not_found",
        ),
        (
            json!({"files": [{"id": reserved}], "channel_id": CHANNEL}),
            "file_not_found",
        ),
        (
            json!({"files": [{"id": short}], "channel_id": CHANNEL}),
            "file_not_found",
        ),
        (
            json!({"files": [{"id": other}], "channel_id": CHANNEL}),
            "file_not_found",
        ),
        (
            json!({"files": [{"id": good}], "channel_id": "C0NOSUCH1"}),
            "channel_not_found",
        ),
        (
            json!({"files": [{"id": good}], "channel_id": FOREIGN}),
            "not_in_channel",
        ),
        (
            json!({"files": [{"id": good}], "channel_id": CHANNEL, "thread_ts": "1600000000.000100"}),
            "thread_not_found",
        ),
        (
            json!({"files": [{"id": good}], "thread_ts": "1600000000.000100"}),
            "invalid_arguments",
        ),
    ];
    for (body, code) in cases {
        assert_eq!(error(&complete(body.clone()).await), code, "{body}");
    }
    assert!(h.fake.messages(CHANNEL).is_empty(), "nothing was shared");
    ok(&complete(json!({"files": [{"id": good}], "channel_id": CHANNEL})).await);
    let (status, _) = h
        .upload(
            &format!("{}/../upload/v1/NOSUCHTICKET", h.fake.api_url()),
            b"x",
        )
        .await;
    assert_eq!(status, 404);
}

// --------------------------------------------------------------- faults

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_before_anything_is_stored() {
    let h = Harness::new().await;
    h.fake.inject(
        "chat.postMessage",
        Fault::RateLimited {
            retry_after_secs: 7,
        },
        1,
    );
    let resp = h
        .http
        .post(h.url("chat.postMessage"))
        .bearer_auth(TOKEN)
        .json(&json!({"channel": CHANNEL, "text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "7");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"ok": false, "error": "ratelimited"}));
    assert!(h.fake.messages(CHANNEL).is_empty());
    assert_eq!(h.fake.requests()[0].status, 429);
    // The fault was drawn once: the next post goes through.
    h.post("x", None).await;
    assert_eq!(h.fake.count("chat.postMessage"), 2);
}

#[tokio::test]
async fn faults_are_per_method_fifo_and_answer_before_validation() {
    let h = Harness::new().await;
    h.fake.inject("chat.update", Fault::Status(503), 1);
    h.fake
        .inject("chat.update", Fault::Error("internal_error"), 1);
    // Before validation: even an invalid update draws the fault.
    let first = h.http.post(h.url("chat.update")).send().await.unwrap();
    assert_eq!(first.status(), 503);
    assert!(
        first.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let second = h
        .json("chat.update", TOKEN, json!({"channel": CHANNEL}))
        .await;
    assert_eq!(second, json!({"ok": false, "error": "internal_error"}));
    let third = h
        .json("chat.update", TOKEN, json!({"channel": CHANNEL}))
        .await;
    assert_eq!(error(&third), "message_not_found");
    // Other methods never drew them.
    h.post("unaffected", None).await;
    h.fake.inject(UPLOAD, Fault::Status(500), 1);
    let (_, url) = h.reserve("a.txt", b"abc").await;
    assert_eq!(h.upload(&url, b"abc").await.0, 500);
    assert_eq!(h.upload(&url, b"abc").await, (200, "OK - 3".to_string()));
    assert_eq!(h.fake.count(UPLOAD), 2);
}

#[tokio::test]
async fn a_slow_answer_takes_its_time() {
    let h = Harness::new().await;
    h.fake
        .inject("auth.test", Fault::Slow(Duration::from_millis(300)), 1);
    let start = Instant::now();
    ok(&h.form("auth.test", TOKEN, &[]).await);
    assert!(start.elapsed() >= Duration::from_millis(300));
    let timeout = h
        .http
        .post(h.url("chat.postMessage"))
        .timeout(Duration::from_millis(100))
        .send();
    h.fake.inject(
        "chat.postMessage",
        Fault::Slow(Duration::from_millis(400)),
        1,
    );
    assert!(timeout.await.unwrap_err().is_timeout());
}

#[tokio::test]
async fn dropped_connections_before_and_after_handling() {
    let h = Harness::new().await;
    let send = || {
        h.http
            .post(h.url("chat.postMessage"))
            .bearer_auth(TOKEN)
            .json(&json!({"channel": CHANNEL, "text": "uncertain"}))
            .send()
    };
    h.fake.inject("chat.postMessage", Fault::DropConnection, 1);
    assert!(send().await.is_err());
    assert!(h.fake.messages(CHANNEL).is_empty(), "nothing happened");
    h.fake
        .inject("chat.postMessage", Fault::DropAfterHandling, 1);
    assert!(send().await.is_err());
    let stored = h.fake.messages(CHANNEL);
    assert_eq!(stored.len(), 1, "stored, though unanswered");
    assert_eq!(stored[0].text, "uncertain");
    let statuses: Vec<u16> = h.fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [0, 0]);
    // The server still answers afterwards.
    h.post("after", None).await;
}

#[tokio::test]
async fn unknown_methods_and_paths_are_refused_and_recorded() {
    let h = Harness::new().await;
    let resp = h
        .http
        .post(h.url("chat.postEphemeralish"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"ok": false, "error": "unknown_method"}));
    let put = h
        .http
        .put(h.url("chat.postMessage"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 405);
    let elsewhere = h
        .http
        .get(h.fake.api_url().replace("/api", "/other"))
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 404);
    let recorded = h.fake.requests();
    assert_eq!(recorded.len(), 3);
    assert_eq!(recorded[0].method.as_deref(), Some("chat.postEphemeralish"));
    assert_eq!(recorded[0].status, 404);
    assert_eq!(recorded[1].http_method, "PUT");
    assert_eq!(recorded[1].status, 405);
    assert_eq!(recorded[2].method, None);
    assert_eq!(h.fake.count("chat.postEphemeralish"), 1);
}
