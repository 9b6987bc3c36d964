//! Tests of the strict fake Telegram Bot API itself, over real HTTP.
//!
//! If the fake accepted something the real service refuses, every adapter
//! test built on it would prove nothing; so beyond the happy paths, most
//! tests here are about what the fake refuses, and how: the HTML parse
//! mode above all, lengths counted in UTF-16 after parsing, and who may
//! edit or delete what.

use std::time::Duration;

use fake_telegram::{ChatKind, FakeTelegram, Fault, MAX_UPLOAD_BYTES};
use reqwest::Client;
use serde_json::{Value, json};

const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const OTHER_TOKEN: &str = "987654321:AAFotherBotSecretxxxxxxxxxxxxxxxxxx";
const USER: i64 = 55_501_234;
const STRANGER: i64 = 55_509_999;
const GROUP: i64 = -4_012_345_678;
const SUPERGROUP: i64 = -1_001_234_567_890;
const FORUM: i64 = -1_009_876_543_210;
const CHANNEL: i64 = -1_001_111_111_111;
const TOPIC: i64 = 7;
/// A 2×1 PNG header: enough for the size check.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x02\0\0\0\x01\x08\x06\0\0\0";

// ---------------------------------------------------------------- harness

/// A running fake: the bot in every chat but `STRANGER`'s, a second bot in
/// the supergroup, a topic in the forum.
struct Harness {
    fake: FakeTelegram,
    http: Client,
}

enum Part<'a> {
    Text(&'a str, &'a str),
    File {
        name: &'a str,
        filename: &'a str,
        content_type: Option<&'a str>,
        bytes: &'a [u8],
    },
}

impl Harness {
    async fn new() -> Harness {
        let fake = FakeTelegram::start().await;
        fake.add_bot(TOKEN, "sender_bot");
        fake.add_bot(OTHER_TOKEN, "other_bot");
        fake.add_chat(USER, ChatKind::Private);
        fake.add_chat(STRANGER, ChatKind::Private);
        fake.add_chat(GROUP, ChatKind::Group);
        fake.add_chat(SUPERGROUP, ChatKind::Supergroup { forum: false });
        fake.add_chat(FORUM, ChatKind::Supergroup { forum: true });
        fake.add_chat(CHANNEL, ChatKind::Channel);
        fake.set_chat_username(CHANNEL, "news_channel");
        for chat in [USER, GROUP, SUPERGROUP, FORUM, CHANNEL] {
            fake.add_member(TOKEN, chat);
        }
        fake.add_member(OTHER_TOKEN, SUPERGROUP);
        fake.add_topic(FORUM, TOPIC);
        let http = Client::builder()
            .no_proxy()
            .build()
            .expect("reqwest client");
        Harness { fake, http }
    }

    fn url(&self, token: &str, method: &str) -> String {
        format!("{}/bot{token}/{method}", self.fake.api_url())
    }

    async fn answer(resp: reqwest::Response) -> (u16, Value) {
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.expect("a JSON answer");
        (status, body)
    }

    /// POST a JSON body as `token`.
    async fn call_as(&self, token: &str, method: &str, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(self.url(token, method))
            .json(&body)
            .send()
            .await
            .expect("request");
        Self::answer(resp).await
    }

    async fn call(&self, method: &str, body: Value) -> (u16, Value) {
        self.call_as(TOKEN, method, body).await
    }

    async fn form(&self, method: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let resp = self
            .http
            .post(self.url(TOKEN, method))
            .form(form)
            .send()
            .await
            .expect("request");
        Self::answer(resp).await
    }

    async fn multipart(&self, method: &str, parts: &[Part<'_>]) -> (u16, Value) {
        let boundary = "----fake-telegram-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for part in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match part {
                Part::Text(name, value) => {
                    body.extend_from_slice(
                        format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}")
                            .as_bytes(),
                    );
                }
                Part::File {
                    name,
                    filename,
                    content_type,
                    bytes,
                } => {
                    body.extend_from_slice(
                        format!(
                            "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n"
                        )
                        .as_bytes(),
                    );
                    if let Some(content_type) = content_type {
                        body.extend_from_slice(
                            format!("Content-Type: {content_type}\r\n").as_bytes(),
                        );
                    }
                    body.extend_from_slice(b"\r\n");
                    body.extend_from_slice(bytes);
                }
            }
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let resp = self
            .http
            .post(self.url(TOKEN, method))
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .expect("request");
        Self::answer(resp).await
    }

    /// sendMessage that must succeed; the answered Message.
    async fn send(&self, body: Value) -> Value {
        let (status, answer) = self.call("sendMessage", body).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["ok"], true);
        answer["result"].clone()
    }

    async fn send_html(&self, chat: i64, html: &str) -> Value {
        self.send(json!({"chat_id": chat, "text": html, "parse_mode": "HTML"}))
            .await
    }

    /// sendMessage that must fail; the description.
    async fn refused(&self, body: Value, status: u16) -> String {
        let (got, answer) = self.call("sendMessage", body).await;
        assert_eq!(got, status, "{answer}");
        assert_eq!(answer["ok"], false);
        assert_eq!(answer["error_code"], status);
        answer["description"].as_str().unwrap().to_string()
    }

    async fn html_refusal(&self, html: &str) -> String {
        self.refused(
            json!({"chat_id": USER, "text": html, "parse_mode": "HTML"}),
            400,
        )
        .await
    }
}

fn error(code: u16, description: &str) -> Value {
    json!({"ok": false, "error_code": code, "description": description})
}

// ------------------------------------------------------------ identity

#[tokio::test]
async fn get_me_answers_the_bot_and_method_names_ignore_case() {
    let h = Harness::new().await;
    assert_eq!(
        h.fake.client_env(),
        vec![("TELEGRAM_API_URL", h.fake.api_url())]
    );
    let (status, answer) = h.call("getMe", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(answer["ok"], true);
    assert_eq!(answer["result"]["id"], 123_456_789);
    assert_eq!(answer["result"]["is_bot"], true);
    assert_eq!(answer["result"]["username"], "sender_bot");
    assert!(answer["result"]["first_name"].is_string());

    let resp = h.http.get(h.url(TOKEN, "GETME")).send().await.unwrap();
    assert_eq!(Harness::answer(resp).await.0, 200);
    assert_eq!(h.fake.count("getMe"), 2);
}

#[tokio::test]
async fn tokens_and_unknown_methods_are_refused_and_recorded() {
    let h = Harness::new().await;
    let unknown = "111111111:AAunknownunknownunknownunknownunkno";
    assert_eq!(
        h.call_as(unknown, "getMe", json!({})).await,
        (401, error(401, "Unauthorized"))
    );
    assert_eq!(
        h.call_as("not-a-token", "getMe", json!({})).await,
        (401, error(401, "Unauthorized: invalid token specified"))
    );
    assert_eq!(
        h.call("sendMessages", json!({})).await,
        (404, error(404, "Not Found"))
    );
    // The token is checked before the method.
    assert_eq!(h.call_as(unknown, "noSuchMethod", json!({})).await.0, 401);
    let resp = h
        .http
        .get(format!("{}/getMe", h.fake.api_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(Harness::answer(resp).await, (404, error(404, "Not Found")));

    h.fake.revoke(TOKEN);
    assert_eq!(
        h.call("getMe", json!({})).await,
        (401, error(401, "Unauthorized"))
    );

    let requests = h.fake.requests();
    assert_eq!(requests.len(), 6);
    assert_eq!(requests[0].method, "getMe");
    assert_eq!(requests[0].status, 401);
    assert_eq!(requests[0].path, format!("/bot{unknown}/getMe"));
    assert_eq!(requests[0].http_method, "POST");
    assert_eq!(requests[0].header("Content-Type"), Some("application/json"));
    assert!(
        requests[0]
            .headers
            .iter()
            .all(|(n, _)| *n == n.to_lowercase())
    );
    assert_eq!(requests[2].method, "sendMessages");
    assert_eq!(requests[4].method, "");
    assert_eq!(h.fake.count("GETME"), 3);
}

// ------------------------------------------------------------- sending

#[tokio::test]
async fn send_message_answers_the_message_in_every_encoding() {
    let h = Harness::new().await;
    let first = h.send(json!({"chat_id": USER, "text": "json"})).await;
    assert_eq!(first["message_id"], 1);
    assert_eq!(first["from"]["id"], 123_456_789);
    assert_eq!(first["from"]["is_bot"], true);
    assert_eq!(first["chat"]["id"], USER);
    assert_eq!(first["chat"]["type"], "private");
    assert!(first["date"].as_u64().unwrap() > 1_600_000_000);
    assert_eq!(first["text"], "json");
    assert!(first.get("entities").is_none());

    let (status, _) = h
        .form(
            "sendMessage",
            &[
                ("chat_id", &USER.to_string()),
                ("text", "form & <co>"),
                ("link_preview_options", r#"{"is_disabled":true}"#),
                ("disable_notification", "true"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    let resp = h
        .http
        .get(h.url(TOKEN, "sendMessage"))
        .query(&[("chat_id", USER.to_string()), ("text", "query".to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (status, answer) = h
        .multipart(
            "sendMessage",
            &[
                Part::Text("chat_id", &USER.to_string()),
                Part::Text("text", "multipart"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{answer}");

    let texts: Vec<_> = h
        .fake
        .messages(USER)
        .into_iter()
        .map(|m| (m.message_id, m.text.unwrap(), m.from_bot))
        .collect();
    assert_eq!(
        texts,
        vec![
            (1, "json".to_string(), true),
            (2, "form & <co>".to_string(), true),
            (3, "query".to_string(), true),
            (4, "multipart".to_string(), true),
        ]
    );

    // An object parameter must be an object (or its JSON text in a form).
    let (status, answer) = h
        .form(
            "sendMessage",
            &[
                ("chat_id", &USER.to_string()),
                ("text", "x"),
                ("reply_parameters", "{not json"),
            ],
        )
        .await;
    assert_eq!(
        (status, answer),
        (
            400,
            error(400, "Bad Request: can't parse reply parameters JSON object")
        )
    );
}

#[tokio::test]
async fn chats_and_membership_are_checked() {
    let h = Harness::new().await;
    let cases = [
        (json!({"text": "x"}), 400, "Bad Request: chat_id is empty"),
        (
            json!({"chat_id": -4_000_000_001_i64, "text": "x"}),
            400,
            "Bad Request: chat not found",
        ),
        (
            json!({"chat_id": "@nobody_here", "text": "x"}),
            400,
            "Bad Request: chat not found",
        ),
        (
            json!({"chat_id": STRANGER, "text": "x"}),
            403,
            "Forbidden: bot can't initiate conversation with a user",
        ),
        (
            json!({"chat_id": USER, "text": ""}),
            400,
            "Bad Request: message text is empty",
        ),
        (
            json!({"chat_id": USER, "text": " \n "}),
            400,
            "Bad Request: message text is empty",
        ),
        (
            json!({"chat_id": USER, "text": "<b></b>", "parse_mode": "HTML"}),
            400,
            "Bad Request: message text is empty",
        ),
        (
            json!({"chat_id": USER, "text": "x", "parse_mode": "html5"}),
            400,
            "Bad Request: unsupported parse_mode",
        ),
    ];
    for (body, status, description) in cases {
        assert_eq!(h.refused(body.clone(), status).await, description, "{body}");
    }
    let (status, answer) = h
        .call_as(
            OTHER_TOKEN,
            "sendMessage",
            json!({"chat_id": GROUP, "text": "x"}),
        )
        .await;
    assert_eq!(
        (status, answer),
        (
            403,
            error(403, "Forbidden: bot is not a member of the group chat")
        )
    );
    let (_, answer) = h
        .call_as(
            OTHER_TOKEN,
            "sendMessage",
            json!({"chat_id": FORUM, "text": "x"}),
        )
        .await;
    assert_eq!(
        answer["description"],
        "Forbidden: bot is not a member of the supergroup chat"
    );
    let (_, answer) = h
        .call_as(
            OTHER_TOKEN,
            "sendMessage",
            json!({"chat_id": "@news_channel", "text": "x"}),
        )
        .await;
    assert_eq!(
        answer["description"],
        "Forbidden: bot is not a member of the channel chat"
    );

    h.fake.remove_member(TOKEN, SUPERGROUP);
    h.fake.remove_member(TOKEN, USER);
    assert_eq!(
        h.refused(json!({"chat_id": SUPERGROUP, "text": "x"}), 403)
            .await,
        "Forbidden: bot was kicked from the supergroup chat"
    );
    assert_eq!(
        h.refused(json!({"chat_id": USER, "text": "x"}), 403).await,
        "Forbidden: bot was blocked by the user"
    );
    assert!(h.fake.messages(USER).is_empty());
}

#[tokio::test]
async fn a_channel_is_reached_by_username_and_posts_as_the_channel() {
    let h = Harness::new().await;
    let post = h
        .send(json!({"chat_id": "@News_Channel", "text": "news"}))
        .await;
    assert_eq!(post["chat"]["id"], CHANNEL);
    assert_eq!(post["chat"]["type"], "channel");
    assert_eq!(post["chat"]["username"], "news_channel");
    assert_eq!(post["sender_chat"]["id"], CHANNEL);
    assert!(post.get("from").is_none());
    assert_eq!(h.fake.messages(CHANNEL).len(), 1);
}

// ----------------------------------------------------------------- HTML

#[tokio::test]
async fn html_makes_entities_in_utf16_units() {
    let h = Harness::new().await;
    let m = h
        .send_html(
            USER,
            "😀 <b>bold <i>both</i></b> &lt;x&gt; &amp; &quot;q&quot; &#128512;&#x41; \
             <a href=\"https://Example.com\">link</a> <a href='tg://user?id=42'>Ann</a> \
             <tg-spoiler>s</tg-spoiler><span class=\"tg-spoiler\">S</span> <u>u</u><s>s</s> \
             <code>c</code> <pre><code class=\"language-rust\">fn main()</code></pre> \
             <blockquote expandable>q</blockquote>",
        )
        .await;
    assert_eq!(
        m["text"],
        "😀 bold both <x> & \"q\" 😀A link Ann sS us c fn main() q"
    );
    let entities = m["entities"].as_array().unwrap();
    let expect = [
        json!({"type": "bold", "offset": 3, "length": 9}),
        json!({"type": "italic", "offset": 8, "length": 4}),
        json!({"type": "text_link", "offset": 27, "length": 4, "url": "https://example.com/"}),
        json!({"type": "text_mention", "offset": 32, "length": 3,
               "user": {"id": 42, "is_bot": false, "first_name": ""}}),
        json!({"type": "spoiler", "offset": 36, "length": 1}),
        json!({"type": "spoiler", "offset": 37, "length": 1}),
        json!({"type": "underline", "offset": 39, "length": 1}),
        json!({"type": "strikethrough", "offset": 40, "length": 1}),
        json!({"type": "code", "offset": 42, "length": 1}),
        json!({"type": "pre", "offset": 44, "length": 9, "language": "rust"}),
        json!({"type": "expandable_blockquote", "offset": 54, "length": 1}),
    ];
    assert_eq!(entities, &expect);

    let stored = h.fake.message(USER, 1).unwrap();
    assert_eq!(stored.parse_mode.as_deref(), Some("HTML"));
    assert!(stored.raw_text.unwrap().starts_with("😀 <b>bold"));
    assert_eq!(stored.entities, expect);

    // An invalid link makes no entity (and no error).
    let m = h
        .send_html(USER, "<a href=\"javascript:alert(1)\">x</a>")
        .await;
    assert!(m.get("entities").is_none());
    // Trimming moves entities with the text.
    let m = h.send_html(USER, "\n  <b>hi</b> there \n").await;
    assert_eq!(m["text"], "hi there");
    assert_eq!(
        m["entities"],
        json!([{"type": "bold", "offset": 0, "length": 2}])
    );
}

#[tokio::test]
async fn html_that_the_server_cannot_parse_is_refused() {
    let h = Harness::new().await;
    let prefix = "Bad Request: can't parse entities: ";
    let cases = [
        ("a <br> b", "Unsupported start tag \"br\" at byte offset 2"),
        ("<p>x</p>", "Unsupported start tag \"p\" at byte offset 0"),
        ("1 < 2", "Unsupported start tag \"\" at byte offset 2"),
        (
            "ok <b>bold",
            "Can't find end tag corresponding to start tag \"b\"",
        ),
        (
            "<b><i>x</b></i>",
            "Unmatched end tag at byte offset 7, expected \"</i>\", found \"</b>\"",
        ),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        (
            "<a href=\"https://x.org\"",
            "Unclosed start tag at byte offset 0",
        ),
        (
            "<span>x</span>",
            "Tag \"span\" must have class \"tg-spoiler\" at byte offset 0",
        ),
        (
            "<a href>x</a>",
            "Expected equal sign in declaration of an attribute of the tag \"a\" at byte offset 0",
        ),
        (
            "Tom & Jerry",
            "Unescaped \"&\" at byte offset 4: write it as \"&amp;\"",
        ),
        (
            "&nbsp;",
            "Unescaped \"&\" at byte offset 0: write it as \"&amp;\"",
        ),
        (
            "2 > 1",
            "Unescaped \">\" at byte offset 2: write it as \"&gt;\"",
        ),
    ];
    for (html, expected) in cases {
        assert_eq!(
            h.html_refusal(html).await,
            format!("{prefix}{expected}"),
            "{html}"
        );
    }
    // The byte offset counts bytes, not characters.
    assert_eq!(
        h.html_refusal("é <x>").await,
        format!("{prefix}Unsupported start tag \"x\" at byte offset 3")
    );
    // Tags are case-insensitive; a refused message is not stored.
    h.send_html(USER, "<B>x</B>").await;
    assert_eq!(h.fake.messages(USER).len(), 1);
}

#[tokio::test]
async fn text_length_is_counted_in_utf16_after_parsing() {
    let h = Harness::new().await;
    let too_long = "Bad Request: message is too long";
    h.send(json!({"chat_id": USER, "text": "a".repeat(4096)}))
        .await;
    assert_eq!(
        h.refused(json!({"chat_id": USER, "text": "a".repeat(4097)}), 400)
            .await,
        too_long
    );
    // An emoji outside the BMP is two units: 2048 fit, 2049 do not.
    h.send(json!({"chat_id": USER, "text": "😀".repeat(2048)}))
        .await;
    assert_eq!(
        h.refused(json!({"chat_id": USER, "text": "😀".repeat(2049)}), 400)
            .await,
        too_long
    );
    // Markup, references and trimmed whitespace do not count.
    let html = format!("<b>{}</b>", "&amp;".repeat(4096));
    h.send_html(USER, &html).await;
    h.send(json!({"chat_id": USER, "text": format!("  {}  \n", "é".repeat(4096))}))
        .await;
    assert_eq!(h.fake.messages(USER).len(), 4);
}

#[tokio::test]
async fn markdown_modes_parse_and_refuse_like_the_server() {
    let h = Harness::new().await;
    let m = h
        .send(json!({
            "chat_id": USER,
            "parse_mode": "MarkdownV2",
            "text": "*b* _i_ __u__ ~s~ ||sp|| `c` [l](https://example.org/a) 1\\.5\\!",
        }))
        .await;
    assert_eq!(m["text"], "b i u s sp c l 1.5!");
    let kinds: Vec<_> = m["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "bold",
            "italic",
            "underline",
            "strikethrough",
            "spoiler",
            "code",
            "text_link"
        ]
    );
    let prefix = "Bad Request: can't parse entities: ";
    let v2 = |text: &str| json!({"chat_id": USER, "parse_mode": "MarkdownV2", "text": text});
    assert_eq!(
        h.refused(v2("Done. 100%"), 400).await,
        format!("{prefix}Character '.' is reserved and must be escaped with the preceding '\\'")
    );
    assert_eq!(
        h.refused(v2("a *bold"), 400).await,
        format!("{prefix}Can't find end of Bold entity at byte offset 2")
    );

    let m = h
        .send(json!({"chat_id": USER, "parse_mode": "Markdown", "text": "*b* 1.5 [l](https://x.org)"}))
        .await;
    assert_eq!(m["text"], "b 1.5 l");
    assert_eq!(
        h.refused(
            json!({"chat_id": USER, "parse_mode": "Markdown", "text": "snake_case"}),
            400
        )
        .await,
        format!("{prefix}Can't find end of the entity starting at byte offset 5")
    );
}

// ------------------------------------------------------ replies, topics

#[tokio::test]
async fn replies_need_their_message_unless_allowed_without() {
    let h = Harness::new().await;
    let asked = h.fake.add_user_message(SUPERGROUP, "question?");
    let reply = h
        .send(json!({
            "chat_id": SUPERGROUP,
            "text": "answer",
            "reply_parameters": {"message_id": asked},
        }))
        .await;
    assert_eq!(reply["reply_to_message"]["message_id"], asked);
    assert_eq!(reply["reply_to_message"]["text"], "question?");
    assert_eq!(reply["reply_to_message"]["from"]["is_bot"], false);
    let stored = h
        .fake
        .message(SUPERGROUP, reply["message_id"].as_i64().unwrap())
        .unwrap();
    assert_eq!(stored.reply_to_message_id, Some(asked));

    // In a form, the object is its JSON text.
    let (status, answer) = h
        .form(
            "sendMessage",
            &[
                ("chat_id", &SUPERGROUP.to_string()),
                ("text", "form reply"),
                (
                    "reply_parameters",
                    &json!({"message_id": asked}).to_string(),
                ),
            ],
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"]["reply_to_message"]["message_id"], asked);

    // The older parameter still works.
    let legacy = h
        .send(json!({"chat_id": SUPERGROUP, "text": "again", "reply_to_message_id": asked}))
        .await;
    assert_eq!(legacy["reply_to_message"]["message_id"], asked);

    let missing = json!({
        "chat_id": SUPERGROUP,
        "text": "answer",
        "reply_parameters": {"message_id": 999},
    });
    assert_eq!(
        h.refused(missing, 400).await,
        "Bad Request: message to be replied not found"
    );
    let allowed = h
        .send(json!({
            "chat_id": SUPERGROUP,
            "text": "answer",
            "reply_parameters": {"message_id": 999, "allow_sending_without_reply": true},
        }))
        .await;
    assert!(allowed.get("reply_to_message").is_none());

    // A deleted message cannot be replied to.
    let own = h.send(json!({"chat_id": SUPERGROUP, "text": "mine"})).await;
    let (status, _) = h
        .call(
            "deleteMessage",
            json!({"chat_id": SUPERGROUP, "message_id": own["message_id"]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        h.refused(
            json!({"chat_id": SUPERGROUP, "text": "x", "reply_parameters": {"message_id": own["message_id"]}}),
            400
        )
        .await,
        "Bad Request: message to be replied not found"
    );
}

#[tokio::test]
async fn forum_topics_must_exist_and_replies_follow_their_topic() {
    let h = Harness::new().await;
    let in_topic = h
        .send(json!({"chat_id": FORUM, "text": "topic", "message_thread_id": TOPIC}))
        .await;
    assert_eq!(in_topic["message_thread_id"], TOPIC);
    assert_eq!(in_topic["is_topic_message"], true);
    assert_eq!(in_topic["chat"]["is_forum"], true);
    // Message ids come after the topic's own.
    assert!(in_topic["message_id"].as_i64().unwrap() > TOPIC);

    for (chat, thread) in [(FORUM, 8), (SUPERGROUP, TOPIC)] {
        assert_eq!(
            h.refused(
                json!({"chat_id": chat, "text": "x", "message_thread_id": thread}),
                400
            )
            .await,
            "Bad Request: message thread not found"
        );
    }
    // A reply without a topic lands in its target's topic.
    let reply = h
        .send(json!({
            "chat_id": FORUM,
            "text": "reply",
            "reply_parameters": {"message_id": in_topic["message_id"]},
        }))
        .await;
    assert_eq!(reply["message_thread_id"], TOPIC);
    let general = h.send(json!({"chat_id": FORUM, "text": "general"})).await;
    assert!(general.get("message_thread_id").is_none());
    let stored: Vec<_> = h
        .fake
        .messages(FORUM)
        .into_iter()
        .map(|m| m.message_thread_id)
        .collect();
    assert_eq!(stored, vec![Some(TOPIC), Some(TOPIC), None]);
}

// --------------------------------------------------------- edit, delete

#[tokio::test]
async fn edits_change_only_the_bots_own_text_messages() {
    let h = Harness::new().await;
    let sent = h.send_html(SUPERGROUP, "<b>draft</b>").await;
    let id = sent["message_id"].as_i64().unwrap();
    let (status, answer) = h
        .call(
            "editMessageText",
            json!({"chat_id": SUPERGROUP, "message_id": id, "text": "<i>final</i>", "parse_mode": "HTML"}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"]["text"], "final");
    assert_eq!(answer["result"]["message_id"], id);
    assert!(answer["result"]["edit_date"].is_u64());
    let stored = h.fake.message(SUPERGROUP, id).unwrap();
    assert!(stored.edited);
    assert_eq!(stored.text.as_deref(), Some("final"));
    assert_eq!(stored.raw_text.as_deref(), Some("<i>final</i>"));

    let edit = |message_id: Value, text: &str| json!({"chat_id": SUPERGROUP, "message_id": message_id, "text": text, "parse_mode": "HTML"});
    let user = h.fake.add_user_message(SUPERGROUP, "human");
    let other = h
        .call_as(
            OTHER_TOKEN,
            "sendMessage",
            json!({"chat_id": SUPERGROUP, "text": "other"}),
        )
        .await
        .1["result"]["message_id"]
        .clone();
    let not_modified = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";
    let cases = [
        (
            edit(json!(999), "x"),
            "Bad Request: message to edit not found",
        ),
        (
            edit(json!(user), "x"),
            "Bad Request: message can't be edited",
        ),
        (edit(other, "x"), "Bad Request: message can't be edited"),
        (edit(json!(id), "<i>final</i>"), not_modified),
        // Different markup, same text and entities: still not modified.
        (edit(json!(id), "<em>final</em>"), not_modified),
        (
            edit(json!(id), "<i>final"),
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"i\"",
        ),
        (
            edit(json!(id), &"x".repeat(4097)),
            "Bad Request: message is too long",
        ),
        (
            json!({"chat_id": SUPERGROUP, "text": "x"}),
            "Bad Request: message identifier is not specified",
        ),
    ];
    for (body, description) in cases {
        let (status, answer) = h.call("editMessageText", body.clone()).await;
        assert_eq!((status, answer), (400, error(400, description)), "{body}");
    }
    // The bold → italic change of entities alone is a modification.
    let (status, _) = h
        .call("editMessageText", edit(json!(id), "<b>final</b>"))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn deletion_flags_the_bots_own_messages_once() {
    let h = Harness::new().await;
    let sent = h.send(json!({"chat_id": GROUP, "text": "bye"})).await;
    let id = sent["message_id"].clone();
    let delete = |message_id: Value| json!({"chat_id": GROUP, "message_id": message_id});
    assert_eq!(
        h.call("deleteMessage", delete(id.clone())).await,
        (200, json!({"ok": true, "result": true}))
    );
    let stored = h.fake.message(GROUP, id.as_i64().unwrap()).unwrap();
    assert!(stored.deleted);
    assert_eq!(h.fake.messages(GROUP).len(), 1);

    let user = h.fake.add_user_message(GROUP, "human");
    let cases = [
        (
            delete(id.clone()),
            "Bad Request: message to delete not found",
        ),
        (
            delete(json!(999)),
            "Bad Request: message to delete not found",
        ),
        (delete(json!(user)), "Bad Request: message can't be deleted"),
        (
            json!({"chat_id": GROUP}),
            "Bad Request: message identifier is not specified",
        ),
    ];
    for (body, description) in cases {
        assert_eq!(
            h.call("deleteMessage", body.clone()).await,
            (400, error(400, description)),
            "{body}"
        );
    }
    // Editing a deleted message finds nothing.
    let (_, answer) = h
        .call(
            "editMessageText",
            json!({"chat_id": GROUP, "message_id": id, "text": "again"}),
        )
        .await;
    assert_eq!(
        answer["description"],
        "Bad Request: message to edit not found"
    );
}

// ------------------------------------------------------------------ files

#[tokio::test]
async fn documents_are_stored_with_their_part_and_caption() {
    let h = Harness::new().await;
    let chat = SUPERGROUP.to_string();
    let (status, answer) = h
        .multipart(
            "sendDocument",
            &[
                Part::Text("chat_id", &chat),
                Part::Text("caption", "<b>report</b> for Q1"),
                Part::Text("parse_mode", "HTML"),
                Part::File {
                    name: "document",
                    filename: "report.csv",
                    content_type: Some("text/csv"),
                    bytes: b"a,b\n1,2\n",
                },
            ],
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let result = &answer["result"];
    assert_eq!(result["document"]["file_name"], "report.csv");
    assert_eq!(result["document"]["mime_type"], "text/csv");
    assert_eq!(result["document"]["file_size"], 8);
    assert!(result["document"]["file_id"].is_string());
    assert_eq!(result["caption"], "report for Q1");
    assert_eq!(
        result["caption_entities"],
        json!([{"type": "bold", "offset": 0, "length": 6}])
    );
    assert!(result.get("text").is_none());
    let stored = h.fake.messages(SUPERGROUP).pop().unwrap();
    let document = stored.document.unwrap();
    assert_eq!(document.filename.as_deref(), Some("report.csv"));
    assert_eq!(document.bytes, b"a,b\n1,2\n");
    assert_eq!(stored.caption.as_deref(), Some("report for Q1"));

    // Text of a file message cannot be edited.
    let (_, answer) = h
        .call(
            "editMessageText",
            json!({"chat_id": SUPERGROUP, "message_id": result["message_id"], "text": "x"}),
        )
        .await;
    assert_eq!(
        answer["description"],
        "Bad Request: there is no text in the message to edit"
    );

    let file = |bytes: &'static [u8]| Part::File {
        name: "document",
        filename: "f.txt",
        content_type: None,
        bytes,
    };
    let long_caption = "c".repeat(1025);
    let cases = [
        (
            vec![Part::Text("chat_id", &chat)],
            "Bad Request: there is no document in the request",
        ),
        (
            vec![
                Part::Text("chat_id", &chat),
                Part::Text("document", "https://x.org/f.pdf"),
            ],
            "Bad Request: wrong file identifier/HTTP URL specified",
        ),
        (
            vec![Part::Text("chat_id", &chat), file(b"")],
            "Bad Request: file must be non-empty",
        ),
        (
            vec![
                Part::Text("chat_id", &chat),
                Part::Text("caption", &long_caption),
                file(b"x"),
            ],
            "Bad Request: message caption is too long",
        ),
        (
            vec![
                Part::Text("chat_id", &chat),
                Part::Text("caption", "<i>x"),
                Part::Text("parse_mode", "HTML"),
                file(b"x"),
            ],
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"i\"",
        ),
        (
            vec![
                Part::Text("chat_id", &chat),
                Part::Text("message_thread_id", "3"),
                file(b"x"),
            ],
            "Bad Request: message thread not found",
        ),
    ];
    for (parts, description) in cases {
        assert_eq!(
            h.multipart("sendDocument", &parts).await,
            (400, error(400, description))
        );
    }
    // 1024 units of caption are fine.
    let caption = "c".repeat(1024);
    let (status, _) = h
        .multipart(
            "sendDocument",
            &[
                Part::Text("chat_id", &chat),
                Part::Text("caption", &caption),
                file(b"x"),
            ],
        )
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn photos_must_be_real_images_within_limits() {
    let h = Harness::new().await;
    let chat = USER.to_string();
    let photo = |bytes: &'static [u8]| Part::File {
        name: "photo",
        filename: "p.png",
        content_type: Some("image/png"),
        bytes,
    };
    let (status, answer) = h
        .multipart(
            "sendPhoto",
            &[
                Part::Text("chat_id", &chat),
                Part::Text("caption", "pic"),
                photo(PNG),
            ],
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"]["photo"][0]["width"], 2);
    assert_eq!(answer["result"]["photo"][0]["height"], 1);
    assert_eq!(answer["result"]["caption"], "pic");
    let stored = h.fake.messages(USER).pop().unwrap();
    assert_eq!(stored.photo.unwrap().bytes, PNG);

    // JPEG, GIF and WebP headers are read too.
    let jpeg: &[u8] = b"\xff\xd8\xff\xe0\x00\x04JF\xff\xc0\x00\x11\x08\x00\x20\x00\x40\x03";
    let gif: &[u8] = b"GIF89a\x10\x00\x08\x00";
    for (image, (w, h_px)) in [(jpeg, (64, 32)), (gif, (16, 8))] {
        let (status, answer) = h
            .multipart("sendPhoto", &[Part::Text("chat_id", &chat), photo(image)])
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["result"]["photo"][0]["width"], w);
        assert_eq!(answer["result"]["photo"][0]["height"], h_px);
    }

    let big: &'static [u8] = Box::leak(vec![0u8; 10 * 1024 * 1024 + 1].into_boxed_slice());
    let thin: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x64\0\0\0\x01\x08\x06\0\0\0";
    let cases = [
        (
            vec![Part::Text("chat_id", &chat)],
            "Bad Request: there is no photo in the request",
        ),
        (
            vec![
                Part::Text("chat_id", &chat),
                photo(b"%PDF-1.7 not an image"),
            ],
            "Bad Request: IMAGE_PROCESS_FAILED",
        ),
        (
            vec![Part::Text("chat_id", &chat), photo(b"\x89PNG\r\n\x1a\n")],
            "Bad Request: IMAGE_PROCESS_FAILED",
        ),
        (
            vec![Part::Text("chat_id", &chat), photo(thin)],
            "Bad Request: PHOTO_INVALID_DIMENSIONS",
        ),
        (
            vec![Part::Text("chat_id", &chat), photo(big)],
            "Bad Request: PHOTO_SAVE_FILE_INVALID",
        ),
    ];
    for (parts, description) in cases {
        assert_eq!(
            h.multipart("sendPhoto", &parts).await,
            (400, error(400, description))
        );
    }
    assert_eq!(h.fake.messages(USER).len(), 3);
}

#[tokio::test]
async fn uploads_over_50_mb_are_too_large() {
    let h = Harness::new().await;
    let chat = USER.to_string();
    let huge = vec![b'x'; MAX_UPLOAD_BYTES + 1];
    let (status, answer) = h
        .multipart(
            "sendDocument",
            &[
                Part::Text("chat_id", &chat),
                Part::File {
                    name: "document",
                    filename: "huge.bin",
                    content_type: None,
                    bytes: &huge,
                },
            ],
        )
        .await;
    assert_eq!(
        (status, answer),
        (413, error(413, "Request Entity Too Large"))
    );
    assert!(h.fake.messages(USER).is_empty());
}

// ----------------------------------------------------------------- faults

#[tokio::test]
async fn rate_limits_have_the_bot_api_shape_and_come_before_validation() {
    let h = Harness::new().await;
    h.fake.inject(
        "sendmessage",
        Fault::RateLimited {
            retry_after_secs: 17,
        },
        1,
    );
    h.fake.inject("sendMessage", Fault::Status(502), 1);
    // Even a request that would be refused draws the fault first.
    let resp = h
        .http
        .post(h.url(TOKEN, "sendMessage"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(
        resp.headers().get("retry-after").unwrap().to_str().unwrap(),
        "17"
    );
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({
            "ok": false,
            "error_code": 429,
            "description": "Too Many Requests: retry after 17",
            "parameters": {"retry_after": 17},
        })
    );
    assert_eq!(
        h.call("sendMessage", json!({"chat_id": USER, "text": "x"}))
            .await,
        (502, error(502, "Bad Gateway"))
    );
    // The queue is empty again; other methods were never affected.
    h.send(json!({"chat_id": USER, "text": "x"})).await;
    assert_eq!(h.call("getMe", json!({})).await.0, 200);
    let statuses: Vec<_> = h.fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 502, 200, 200]);
    assert_eq!(h.fake.messages(USER).len(), 1);
}

#[tokio::test]
async fn slow_and_dropped_connections() {
    let h = Harness::new().await;
    h.fake
        .inject("sendMessage", Fault::Slow(Duration::from_millis(400)), 1);
    let impatient = h
        .http
        .post(h.url(TOKEN, "sendMessage"))
        .timeout(Duration::from_millis(100))
        .json(&json!({"chat_id": USER, "text": "slow"}))
        .send()
        .await;
    assert!(impatient.unwrap_err().is_timeout());
    // The client gave up, the server did not: the message is stored.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(h.fake.messages(USER).len(), 1);

    h.fake.inject("sendMessage", Fault::DropConnection, 1);
    let dropped = h
        .http
        .post(h.url(TOKEN, "sendMessage"))
        .json(&json!({"chat_id": USER, "text": "dropped"}))
        .send()
        .await;
    assert!(dropped.is_err());

    h.fake.inject("sendMessage", Fault::DropAfterHandling, 1);
    let handled = h
        .http
        .post(h.url(TOKEN, "sendMessage"))
        .json(&json!({"chat_id": USER, "text": "handled"}))
        .send()
        .await;
    assert!(handled.is_err());

    let texts: Vec<_> = h
        .fake
        .messages(USER)
        .into_iter()
        .map(|m| m.text.unwrap())
        .collect();
    assert_eq!(texts, vec!["slow", "handled"]);
    let statuses: Vec<_> = h.fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![200, 0, 0]);
    assert_eq!(h.fake.count("sendMessage"), 3);
}
