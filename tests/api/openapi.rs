//! Keeps `openapi.yaml` true. Real API Gateway HTTP API (2.0) events go
//! through the in-process function (strict fake Skype, fake Teams and
//! Slack webhooks, faults injected where a status needs one); then:
//! every (path, method, status) the spec declares was produced and every
//! one produced is declared; every body (and every accepted request body)
//! validates against its schema; declared headers are sent and sent
//! headers are declared; and the spec's error codes are exactly the codes
//! in `src/`.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use fake_skype::{Account as FakeAccount, FakeSkype, Fault, Op};
use fake_webhooks::{FakeWebhooks, Hook};
use lambda_harness::events;
use serde_json::{Map, Value, json};
use sha2::Digest;
use skype_sender::app::App;
use skype_sender::deadline::Deadline;
use skype_sender::error::ErrorCode;
use skype_sender::triggers;

use crate::local_app;
use crate::openapi_spec::{Spec, path_matches};

const GROUP: &str = "19:0123456789abcdef0123456789abcdef@thread.skype";
const OTHER: &str = "19:fedcba9876543210fedcba9876543210@thread.skype";
const KEY: &str = "openapi-key";
/// May post to `standup` only.
const SCOPED_KEY: &str = "openapi-scoped-key";
const BOUNDARY: &str = "------------------------d74496d66958873e";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

/// A deadline whose budget (after the 1.5 s reserve) is 0.5 s.
fn short_deadline() -> Deadline {
    Deadline::after(Duration::from_millis(2000))
}

/// Longer than [`short_deadline`]'s budget.
const SLOW: Fault = Fault::Slow(Duration::from_millis(1500));

fn secret(webhooks: &FakeWebhooks) -> Value {
    let scoped = hex::encode(sha2::Sha256::digest(SCOPED_KEY.as_bytes()));
    json!({
        "username": "fred.adams@example.com",
        "password": "p&ss<w>rd",
        "api_keys": [KEY, {"name": "ci", "sha256": scoped, "channels": ["standup"]}],
        "channels": {
            "standup": GROUP,
            "other": OTHER,
            "ops": {"kind": "teams-workflow", "url": webhooks.teams_url("openapi-flow")},
            "alerts": {"kind": "slack-webhook", "url": webhooks.slack_url("T0/B0/openapi")},
            "everyone": ["standup", "ops", "alerts"],
            "rooms": ["standup", "other"],
        }
    })
}

// ---------------------------------------------------------------- events

fn headers(key: Option<&str>, content_type: Option<&str>) -> Value {
    let mut headers = json!({});
    if let Some(key) = key {
        headers["x-api-key"] = json!(key);
    }
    if let Some(content_type) = content_type {
        headers["content-type"] = json!(content_type);
    }
    headers
}

/// A JSON request with `x-api-key: key` (none when `key` is `None`).
fn json_req(method: &str, path: &str, key: Option<&str>, body: Value) -> Value {
    events::http_v2(
        method,
        path,
        headers(key, Some("application/json")),
        &body.to_string(),
    )
}

/// A request with a raw text body and a content type.
fn raw_req(method: &str, path: &str, key: Option<&str>, content_type: &str, body: &str) -> Value {
    events::http_v2(method, path, headers(key, Some(content_type)), body)
}

/// A request without a body.
fn bare_req(method: &str, path: &str, key: Option<&str>) -> Value {
    events::http_v2(method, path, headers(key, None), "")
}

/// A body API Gateway passes base64-encoded (forms, multipart).
fn binary_req(method: &str, path: &str, headers: Value, body: &[u8]) -> Value {
    let mut event = events::http_v2(method, path, headers, "");
    event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
    event["isBase64Encoded"] = json!(true);
    event
}

fn with_header(mut event: Value, name: &str, value: &str) -> Value {
    event["headers"][name] = json!(value);
    event
}

fn with_query(mut event: Value, name: &str, value: &str) -> Value {
    event["rawQueryString"] = json!(format!("{name}={value}"));
    event["queryStringParameters"] = json!({ name: value });
    event
}

/// One multipart part: a name, an optional (file name, type), the content.
fn part(name: &str, file: Option<(&str, &str)>, content: &[u8]) -> Vec<u8> {
    let mut head = format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"");
    if let Some((file_name, content_type)) = file {
        head.push_str(&format!(
            "; filename=\"{file_name}\"\r\nContent-Type: {content_type}"
        ));
    }
    head.push_str("\r\n\r\n");
    let mut part = head.into_bytes();
    part.extend_from_slice(content);
    part.extend_from_slice(b"\r\n");
    part
}

/// `POST /send-file` as curl -F sends it: `document` and a `data` part.
fn multipart_file(key: &str, data: Value) -> Value {
    let mut body = part("document", Some(("chart.png", "image/png")), PNG);
    body.extend(part("data", None, data.to_string().as_bytes()));
    body.extend(format!("--{BOUNDARY}--\r\n").into_bytes());
    binary_req(
        "POST",
        "/send-file",
        json!({
            "content-type": format!("multipart/form-data; boundary={BOUNDARY}"),
            "x-api-key": key,
        }),
        &body,
    )
}

/// `POST /send-file` with JSON.
fn json_file(key: Option<&str>, channel: Value, extra: Value) -> Value {
    let mut body = json!({
        "channel": channel,
        "file": {
            "name": "notes.txt",
            "content_base64": base64::engine::general_purpose::STANDARD.encode("some notes"),
            "content_type": "text/plain",
        }
    });
    for (name, value) in extra.as_object().unwrap() {
        body[name] = value.clone();
    }
    json_req("POST", "/send-file", key, body)
}

fn message(text: &str, channel: Value) -> Value {
    json!({"msg": text, "channel": channel})
}

// -------------------------------------------------------------- recording

/// One answer the function gave.
struct Observation {
    spec_path: &'static str,
    method: String,
    status: u16,
    headers: Map<String, Value>,
    body: Value,
    event: Value,
}

/// The spec, and what the function answered so far.
struct Run {
    spec: Spec,
    seen: Vec<Observation>,
    errors: Vec<String>,
}

impl Run {
    /// Sends `event` to `app`; expects `status`; returns the body.
    async fn expect(
        &mut self,
        app: &App,
        spec_path: &'static str,
        event: Value,
        status: u16,
    ) -> Value {
        self.expect_within(app, spec_path, event, status, Deadline::default())
            .await
    }

    async fn expect_within(
        &mut self,
        app: &App,
        spec_path: &'static str,
        event: Value,
        status: u16,
        deadline: Deadline,
    ) -> Value {
        let response = triggers::handle_within(app, event.clone(), deadline)
            .await
            .unwrap_or_else(|err| panic!("an HTTP event is never a function error: {err:?}"));
        self.record(spec_path, event, &response, status)
    }

    /// Records an answer already received.
    fn record(
        &mut self,
        spec_path: &'static str,
        event: Value,
        response: &Value,
        expected: u16,
    ) -> Value {
        let method = event["requestContext"]["http"]["method"]
            .as_str()
            .unwrap()
            .to_string();
        let path = event["rawPath"].as_str().unwrap();
        assert!(
            path_matches(spec_path, path),
            "{path} is not an instance of {spec_path}"
        );
        let status = response["statusCode"].as_u64().unwrap() as u16;
        let text = response["body"].as_str().unwrap_or_default();
        let body: Value = serde_json::from_str(text).unwrap_or_else(|_| {
            self.errors.push(format!(
                "{method} {path} {status}: the body is not JSON: {text:?}"
            ));
            Value::Null
        });
        assert_eq!(
            status, expected,
            "{method} {path} answered {status}, the case expects {expected}: {body}"
        );
        let headers = response["headers"].as_object().cloned().unwrap_or_default();
        self.seen.push(Observation {
            spec_path,
            method,
            status,
            headers,
            body: body.clone(),
            event,
        });
        body
    }

    /// Checks every observation against the spec.
    fn check(&mut self) {
        let mut errors = std::mem::take(&mut self.errors);
        for seen in &self.seen {
            errors.extend(check_observation(&self.spec, seen));
        }
        self.errors = errors;
    }
}

fn check_observation(spec: &Spec, seen: &Observation) -> Vec<String> {
    let mut errors = Vec::new();
    let label = format!(
        "{} {} ({}) {}",
        seen.method, seen.spec_path, seen.event["rawPath"], seen.status
    );
    let Some(response) = spec.response(seen.spec_path, &seen.method, seen.status) else {
        return vec![format!("{label}: not declared")];
    };
    match response.pointer("/content/application~1json/schema") {
        Some(schema) => {
            for problem in spec.check(schema, &seen.body) {
                errors.push(format!("{label}: {problem} in {}", seen.body));
            }
        }
        None => errors.push(format!("{label}: no application/json schema declared")),
    }
    if seen.headers.get("content-type") != Some(&json!("application/json")) {
        errors.push(format!("{label}: Content-Type is not application/json"));
    }
    let declared = response["headers"].as_object().cloned().unwrap_or_default();
    for (name, header) in &declared {
        let header = spec.resolve(header);
        let sent = seen.headers.get(&name.to_ascii_lowercase());
        match sent {
            None if header["required"] == json!(true) => {
                errors.push(format!("{label}: the required header {name} is missing"));
            }
            None => {}
            Some(value) => {
                let text = value.as_str().unwrap_or_default();
                let value = text.parse::<i64>().map_or(json!(text), |n| json!(n));
                for problem in spec.check(&header["schema"], &value) {
                    errors.push(format!("{label}: header {name}: {problem}"));
                }
            }
        }
    }
    for name in seen.headers.keys().filter(|name| *name != "content-type") {
        if !declared.keys().any(|d| d.eq_ignore_ascii_case(name)) {
            errors.push(format!(
                "{label}: sends header {name}, which is not declared"
            ));
        }
    }
    if (200..300).contains(&seen.status) {
        errors.extend(check_request(spec, seen, &label));
    }
    errors
}

/// An accepted request must be one the spec describes: its body, its
/// headers, its path parameter.
fn check_request(spec: &Spec, seen: &Observation, label: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let event = &seen.event;
    let parameters = spec.parameters(seen.spec_path, &seen.method);
    for name in event["headers"].as_object().unwrap().keys() {
        if ["content-type", "x-api-key", "authorization"].contains(&name.as_str()) {
            continue;
        }
        if !parameters
            .iter()
            .any(|p| p["in"] == "header" && p["name"].as_str().unwrap().eq_ignore_ascii_case(name))
        {
            errors.push(format!(
                "{label}: request header {name} is not a declared parameter"
            ));
        }
    }
    if let Some(query) = event["queryStringParameters"].as_object() {
        for name in query.keys() {
            if !parameters
                .iter()
                .any(|p| p["in"] == "query" && p["name"] == *name)
            {
                errors.push(format!("{label}: query parameter {name} is not declared"));
            }
        }
    }
    if let Some(id) = seen.spec_path.strip_prefix("/messages/").and(
        event["rawPath"]
            .as_str()
            .and_then(|p| p.strip_prefix("/messages/")),
    ) {
        let decoded = percent_decode(id);
        let schema = &parameters.iter().find(|p| p["name"] == "id").unwrap()["schema"];
        for problem in spec.check(schema, &json!(decoded)) {
            errors.push(format!("{label}: path id {decoded:?}: {problem}"));
        }
    }
    let bytes = match event["body"].as_str().unwrap_or_default() {
        "" => return errors,
        body if event["isBase64Encoded"] == json!(true) => {
            base64::engine::general_purpose::STANDARD
                .decode(body)
                .unwrap()
        }
        body => body.as_bytes().to_vec(),
    };
    let content_type = event["headers"]["content-type"]
        .as_str()
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap().trim();
    let Some(schema) = spec.request_schema(seen.spec_path, &seen.method, essence) else {
        errors.push(format!(
            "{label}: request content type {essence} is not declared"
        ));
        return errors;
    };
    let body = match essence {
        "application/json" => serde_json::from_slice(&bytes).unwrap(),
        "application/x-www-form-urlencoded" => {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap();
            Value::Object(pairs.into_iter().map(|(k, v)| (k, json!(v))).collect())
        }
        "multipart/form-data" => multipart_fields(&bytes),
        other => panic!("no reader for {other}"),
    };
    for problem in spec.check(schema, &body) {
        errors.push(format!("{label}: request body: {problem}"));
    }
    errors
}

/// The parts of a multipart body as an object of strings (files too).
fn multipart_fields(bytes: &[u8]) -> Value {
    let text = String::from_utf8_lossy(bytes);
    let names =
        regex_lite::Regex::new(r#"Content-Disposition: form-data; name="([^"]+)""#).unwrap();
    Value::Object(
        names
            .captures_iter(&text)
            .map(|c| (c[1].to_string(), json!("...")))
            .collect(),
    )
}

fn percent_decode(text: &str) -> String {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

// ------------------------------------------------------------ the codes

/// The error codes the function can answer: the compiler's list.
fn source_codes() -> BTreeSet<String> {
    ErrorCode::ALL
        .iter()
        .map(|code| code.as_str().to_string())
        .collect()
}

#[test]
fn the_readme_table_names_every_code() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let missing: Vec<_> = source_codes()
        .into_iter()
        .filter(|code| !readme.contains(&format!("`{code}`")))
        .collect();
    assert!(missing.is_empty(), "README.md does not name {missing:?}");
}

// -------------------------------------------------------------- the test

/// Answers every declared (path, method, status), each by a request that
/// produces it for real.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spec_declares_exactly_what_the_function_answers() {
    let mut run = Run {
        spec: Spec::load(),
        seen: Vec::new(),
        errors: Vec::new(),
    };
    for reference in run.spec.references() {
        assert!(
            run.spec.target(&reference).is_some(),
            "{reference} names nothing"
        );
    }
    let hooks = FakeWebhooks::start().await;
    let secret = secret(&hooks);

    // The main app: logged in, posts for real.
    let fake = FakeSkype::start().await;
    fake.add_account(FakeAccount::fred());
    let app = Arc::new(local_app::app(&fake, &secret, "openapi-main", &[]));
    // The secret is not JSON: 500 bad_configuration everywhere.
    let bad = local_app::app(&fake, &json!("{not json"), "openapi-bad", &[]);
    // Skype shows the bot a login wall: 502, then an unhealthy health.
    let walled_fake = FakeSkype::start().await;
    walled_fake.add_account(FakeAccount::fred());
    walled_fake.inject(Op::Soap, Fault::LoginWall, 20);
    let walled = local_app::app(&walled_fake, &secret, "openapi-walled", &[]);

    send_message(&mut run, &app, &fake, &hooks).await;
    send_file(&mut run, &app, &fake).await;
    edit_message(&mut run, &app, &fake).await;
    delete_message(&mut run, &app, &fake).await;
    health(&mut run, &app).await;
    teams_messages(&mut run, &fake, &bad).await;
    reminders(&mut run, &app, &bad).await;
    for (path, method) in [
        ("/send-message", "POST"),
        ("/send-file", "POST"),
        ("/messages/{id}", "PATCH"),
        ("/messages/{id}", "DELETE"),
        ("/health", "GET"),
    ] {
        let event = misconfigured_request(path, method);
        run.expect(&bad, path, event.clone(), 500).await;
        if method != "GET" {
            run.expect(&walled, path, event, 502).await;
        }
    }
    let unhealthy = run
        .expect(
            &walled,
            "/health",
            bare_req("GET", "/health", Some(KEY)),
            503,
        )
        .await;
    assert_eq!(unhealthy["ok"], false);
    assert_eq!(unhealthy["last_login"]["outcome"], "login_wall");
    wrong_methods_and_paths(&mut run, &app).await;
    oversized_headers(&mut run, &app).await;

    run.check();
    // `/send-image` is `/send-file` under the original service's name: the
    // spec must say the same of both, so what /send-file produced counts
    // for both (one real /send-image request is checked above).
    let paths = &run.spec.doc["paths"];
    for (method, operation) in paths["/send-file"].as_object().unwrap() {
        let alias = &paths["/send-image"][method];
        for part in ["parameters", "requestBody", "responses"] {
            assert_eq!(alias[part], operation[part], "/send-image {method} {part}");
        }
    }
    let declared: BTreeSet<_> = run
        .spec
        .declared()
        .into_iter()
        .filter(|(path, ..)| path != "/send-image")
        .collect();
    let observed: BTreeSet<(String, String, u16)> = run
        .seen
        .iter()
        .map(|s| {
            let path = s.spec_path.replace("/send-image", "/send-file");
            (path, s.method.clone(), s.status)
        })
        .collect();
    let never_seen: Vec<_> = declared.difference(&observed).collect();
    let undeclared: Vec<_> = observed.difference(&declared).collect();
    assert!(
        never_seen.is_empty(),
        "declared but never produced: {never_seen:?}"
    );
    assert!(
        undeclared.is_empty(),
        "produced but not declared: {undeclared:?}"
    );
    assert!(run.errors.is_empty(), "{}", run.errors.join("\n"));

    let documented = run.spec.error_codes();
    let observed_codes: BTreeSet<String> = run
        .seen
        .iter()
        .flat_map(|s| {
            let results = s.body["results"].as_array().cloned().unwrap_or_default();
            std::iter::once(s.body["error"].clone())
                .chain(results.into_iter().map(|r| r["error"].clone()))
        })
        .filter_map(|code| code.as_str().map(str::to_string))
        .collect();
    let undocumented: Vec<_> = observed_codes.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "answered but not in ErrorCode: {undocumented:?}"
    );
    let in_source = source_codes();
    let missing: Vec<_> = in_source.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&in_source).collect();
    assert!(
        missing.is_empty(),
        "codes of ErrorCode missing from openapi.yaml: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "codes in openapi.yaml that ErrorCode does not have: {stale:?}"
    );
}

/// The reminder routes (and `/send-message` with `send_at`) against
/// EventBridge Scheduler in moto; `local` has no Scheduler (503), `bad` a
/// broken secret (500).
async fn reminders(run: &mut Run, local: &App, bad: &App) {
    use crate::reminders::{ADMIN, ALICE, app as reminder_app, reminder_world};
    const P: &str = "/reminders";
    const ONE: &str = "/reminders/{id}";
    let world = reminder_world().await;
    let counter = lambda_harness::moto::RequestCounter::default();
    let app = reminder_app(&world, &counter, &[]);
    let tight = reminder_app(&world, &counter, &[("REMINDERS_PER_KEY", "1")]);
    let weekly = json!({"msg": "stand-up", "channel": "standup", "cron": "cron(55 9 ? * MON *)", "timezone": "Europe/London"});

    let created = run
        .expect(
            &app,
            P,
            json_req("POST", P, Some(ALICE), weekly.clone()),
            201,
        )
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let path = format!("/reminders/{id}");
    let mut bad_cron = weekly.clone();
    bad_cron["cron"] = json!("cron(* * * * * *)");
    run.expect(&app, P, json_req("POST", P, Some(ALICE), bad_cron), 400)
        .await;
    run.expect(
        &app,
        P,
        json_req("POST", P, Some("wrong"), weekly.clone()),
        401,
    )
    .await;
    let mut elsewhere = weekly.clone();
    elsewhere["channel"] = json!("other");
    run.expect(&app, P, json_req("POST", P, Some(ALICE), elsewhere), 403)
        .await;
    let mut huge = weekly.clone();
    huge["msg"] = json!("x".repeat(30_000));
    run.expect(&app, P, json_req("POST", P, Some(ALICE), huge), 413)
        .await;
    run.expect(
        &tight,
        P,
        json_req("POST", P, Some(ALICE), weekly.clone()),
        409,
    )
    .await;
    let text = raw_req("POST", P, Some(ALICE), "text/plain", "stand-up");
    run.expect(&app, P, text, 415).await;
    run.expect(bad, P, json_req("POST", P, Some(KEY), weekly.clone()), 500)
        .await;
    run.expect(
        local,
        P,
        json_req("POST", P, Some(KEY), weekly.clone()),
        503,
    )
    .await;
    let later = json!({"msg": "later", "channel": "standup", "send_at": "2031-01-05T08:00"});
    run.expect(
        &app,
        "/send-message",
        json_req("POST", "/send-message", Some(ALICE), later),
        201,
    )
    .await;

    let listed = run
        .expect(&app, P, bare_req("GET", P, Some(ALICE)), 200)
        .await;
    assert_eq!(listed["reminders"].as_array().unwrap().len(), 2, "{listed}");
    let everything = with_query(bare_req("GET", P, Some(ADMIN)), "all", "true");
    run.expect(&app, P, everything, 200).await;
    run.expect(
        &app,
        P,
        with_query(bare_req("GET", P, Some(ALICE)), "limit", "0"),
        400,
    )
    .await;
    run.expect(&app, P, bare_req("GET", P, Some("wrong")), 401)
        .await;
    run.expect(bad, P, bare_req("GET", P, Some(KEY)), 500).await;
    run.expect(local, P, bare_req("GET", P, Some(KEY)), 503)
        .await;

    let missing = "/reminders/r.000000000000.0000000000000000";
    run.expect(&app, ONE, bare_req("GET", &path, Some(ALICE)), 200)
        .await;
    run.expect(&app, ONE, bare_req("GET", &path, Some("wrong")), 401)
        .await;
    run.expect(&app, ONE, bare_req("GET", missing, Some(ALICE)), 404)
        .await;
    run.expect(bad, ONE, bare_req("GET", &path, Some(KEY)), 500)
        .await;
    run.expect(local, ONE, bare_req("GET", &path, Some(KEY)), 503)
        .await;

    let change = json!({"msg": "stand-up, moved", "cron": "cron(0 10 ? * MON *)"});
    let changed = run
        .expect(
            &app,
            ONE,
            json_req("PATCH", &path, Some(ALICE), change.clone()),
            200,
        )
        .await;
    assert_eq!(changed["msg"], "stand-up, moved");
    run.expect(
        &app,
        ONE,
        json_req(
            "PATCH",
            &path,
            Some(ALICE),
            json!({"timezone": "Nowhere/Else"}),
        ),
        400,
    )
    .await;
    run.expect(
        &app,
        ONE,
        json_req("PATCH", &path, Some("wrong"), change.clone()),
        401,
    )
    .await;
    run.expect(
        &app,
        ONE,
        json_req("PATCH", missing, Some(ALICE), change.clone()),
        404,
    )
    .await;
    let text = raw_req("PATCH", &path, Some(ALICE), "text/plain", "moved");
    run.expect(&app, ONE, text, 415).await;
    run.expect(
        bad,
        ONE,
        json_req("PATCH", &path, Some(KEY), change.clone()),
        500,
    )
    .await;
    run.expect(local, ONE, json_req("PATCH", &path, Some(KEY), change), 503)
        .await;

    run.expect(&app, ONE, bare_req("DELETE", &path, Some("wrong")), 401)
        .await;
    run.expect(bad, ONE, bare_req("DELETE", &path, Some(KEY)), 500)
        .await;
    run.expect(local, ONE, bare_req("DELETE", &path, Some(KEY)), 503)
        .await;
    run.expect(&app, ONE, bare_req("DELETE", &path, Some(ALICE)), 200)
        .await;
    run.expect(&app, ONE, bare_req("DELETE", &path, Some(ALICE)), 404)
        .await;
}

/// A request each route would accept, for the apps that fail before
/// posting (bad configuration, login wall).
fn misconfigured_request(path: &str, method: &str) -> Value {
    match (path, method) {
        ("/send-message", _) => json_req("POST", path, Some(KEY), message("hi", json!("standup"))),
        ("/send-file", _) => json_file(Some(KEY), json!("standup"), json!({})),
        (_, "PATCH") => json_req(
            "PATCH",
            "/messages/1234",
            Some(KEY),
            message("new", json!("standup")),
        ),
        (_, "DELETE") => with_query(
            bare_req("DELETE", "/messages/1234", Some(KEY)),
            "channel",
            "standup",
        ),
        _ => bare_req("GET", "/health", Some(KEY)),
    }
}

async fn send_message(run: &mut Run, app: &Arc<App>, fake: &FakeSkype, hooks: &FakeWebhooks) {
    const P: &str = "/send-message";
    // 200: JSON, header key, idempotency key, markdown, mentions.
    let mut body = message("**Deploy** done @{8:live:joe|Joe}", json!("standup"));
    body["format"] = json!("markdown");
    body["mentions"] = json!([{"id": "8:live:joe", "name": "Joe"}]);
    let posted = run
        .expect(
            app,
            P,
            with_header(
                json_req("POST", P, Some(KEY), body),
                "idempotency-key",
                "openapi-1",
            ),
            200,
        )
        .await;
    assert_eq!(posted["status"], "posted");
    // 200: a form, the key in the body, as the original service's callers.
    let form = format!(
        "API_KEY={KEY}&msg=Backup+done&channel={}",
        GROUP.replace(':', "%3A").replace('@', "%40")
    );
    let form_event = binary_req(
        "POST",
        P,
        json!({"content-type": "application/x-www-form-urlencoded"}),
        form.as_bytes(),
    );
    run.expect(app, P, form_event, 200).await;
    // 200: several targets, Bearer.
    let bearer = events::http_v2(
        "POST",
        P,
        json!({"content-type": "application/json", "authorization": format!("Bearer {KEY}")}),
        &message("to two", json!(["standup", "alerts"])).to_string(),
    );
    let both = run.expect(app, P, bearer, 200).await;
    assert_eq!(both["results"].as_array().unwrap().len(), 2);
    // 202: Teams only accepts.
    let accepted = run
        .expect(
            app,
            P,
            json_req("POST", P, Some(KEY), message("to teams", json!("ops"))),
            202,
        )
        .await;
    assert_eq!(accepted["status"], "accepted");
    // 207: the Slack channel is archived.
    hooks.inject(
        Hook::Slack("T0/B0/openapi".into()),
        fake_webhooks::Fault::slack(410, "channel_is_archived"),
        1,
    );
    run.expect(
        app,
        P,
        json_req("POST", P, Some(KEY), message("all", json!("everyone"))),
        207,
    )
    .await;
    // 400s.
    run.expect(
        app,
        P,
        json_req("POST", P, Some(KEY), json!({"channel": "standup"})),
        400,
    )
    .await;
    run.expect(
        app,
        P,
        json_req("POST", P, Some(KEY), message("x", json!("nowhere"))),
        400,
    )
    .await;
    run.expect(
        app,
        P,
        raw_req("POST", P, Some(KEY), "application/json", "{\"msg\":"),
        400,
    )
    .await;
    // 401, 403.
    run.expect(
        app,
        P,
        json_req("POST", P, Some("wrong"), message("x", json!("standup"))),
        401,
    )
    .await;
    run.expect(
        app,
        P,
        json_req("POST", P, None, message("x", json!("standup"))),
        401,
    )
    .await;
    run.expect(
        app,
        P,
        json_req("POST", P, Some(SCOPED_KEY), message("x", json!("other"))),
        403,
    )
    .await;
    // 413, 415.
    let long = "a".repeat(28_001);
    run.expect(
        app,
        P,
        json_req("POST", P, Some(KEY), message(&long, json!("standup"))),
        413,
    )
    .await;
    run.expect(
        app,
        P,
        raw_req("POST", P, Some(KEY), "text/plain", "hello"),
        415,
    )
    .await;
    // 409: the same key while the first is still being posted.
    let keyed = with_header(
        json_req("POST", P, Some(KEY), message("slow", json!("standup"))),
        "idempotency-key",
        "openapi-409",
    );
    concurrent_duplicate(run, app, P, keyed, || {
        fake.inject(Op::Send, Fault::Slow(Duration::from_millis(800)), 1)
    })
    .await;
    // 429, 503, 504 from Skype.
    fake.inject(
        Op::Send,
        Fault::RateLimited {
            retry_after: Some(60),
        },
        1,
    );
    let limited = run
        .expect(
            app,
            P,
            json_req("POST", P, Some(KEY), message("x", json!("standup"))),
            429,
        )
        .await;
    assert_eq!(limited["retry_after"], 60);
    fake.inject(Op::Send, Fault::Status(503), 1);
    run.expect(
        app,
        P,
        json_req("POST", P, Some(KEY), message("x", json!("standup"))),
        503,
    )
    .await;
    fake.inject(Op::Send, SLOW, 1);
    run.expect_within(
        app,
        P,
        json_req("POST", P, Some(KEY), message("x", json!("standup"))),
        504,
        short_deadline(),
    )
    .await;
    // 502: both targets failed, differently (Skype 503, Slack revoked).
    fake.inject(Op::Send, Fault::Status(503), 1);
    hooks.inject(
        Hook::Slack("T0/B0/openapi".into()),
        fake_webhooks::Fault::slack(404, "no_service"),
        1,
    );
    let failed = run
        .expect(
            app,
            P,
            json_req(
                "POST",
                P,
                Some(KEY),
                message("x", json!(["standup", "alerts"])),
            ),
            502,
        )
        .await;
    assert_eq!(failed["error"], "all_failed");
}

/// Sends `event` twice, the second while the first is in flight (made
/// slow by `slow_down`): 409, then the first's 200.
/// 431: more headers than API Gateway passes on, refused before the
/// request is built (the `http` crate panics past 32 768).
async fn oversized_headers(run: &mut Run, app: &Arc<App>) {
    for (spec_path, method, path) in [
        ("/send-message", "POST", "/send-message"),
        ("/send-file", "POST", "/send-file"),
        ("/messages/{id}", "PATCH", "/messages/1"),
        ("/messages/{id}", "DELETE", "/messages/1"),
        ("/health", "GET", "/health"),
    ] {
        let mut event = bare_req(method, path, Some(KEY));
        for i in 0..300 {
            event["headers"][format!("x-padding-{i}")] = json!("x");
        }
        run.expect(app, spec_path, event, 431).await;
    }
}

async fn concurrent_duplicate(
    run: &mut Run,
    app: &Arc<App>,
    spec_path: &'static str,
    event: Value,
    slow_down: impl FnOnce(),
) {
    slow_down();
    let first = {
        let app = app.clone();
        let event = event.clone();
        tokio::spawn(async move { crate::handle(&app, event).await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(250)).await;
    run.expect(app, spec_path, event.clone(), 409).await;
    let response = first.await.unwrap();
    run.record(spec_path, event, &response, 200);
}

async fn send_file(run: &mut Run, app: &Arc<App>, fake: &FakeSkype) {
    const P: &str = "/send-file";
    // 200: multipart, as API Gateway passes it (base64).
    let posted = run
        .expect(
            app,
            P,
            multipart_file(KEY, json!({"channel": "standup", "caption": "the chart"})),
            200,
        )
        .await;
    assert_eq!(posted["msg"], "Posted file");
    // 200: the same under the original service's name, the key in `data`.
    let mut image = multipart_file(KEY, json!({"channel": "standup", "API_KEY": KEY}));
    image["rawPath"] = json!("/send-image");
    image["requestContext"]["http"]["path"] = json!("/send-image");
    image["headers"]
        .as_object_mut()
        .unwrap()
        .remove("x-api-key");
    run.expect(app, "/send-image", image, 200).await;
    // 200: JSON with the key in the body; and to the two conversations of
    // an alias (`channel` is one name here: a list is refused).
    run.expect(
        app,
        P,
        json_file(None, json!("standup"), json!({"API_KEY": KEY})),
        200,
    )
    .await;
    run.expect(app, P, json_file(Some(KEY), json!("rooms"), json!({})), 200)
        .await;
    // 207: Skype refuses one of the two uploads.
    fake.inject(Op::AsmCreate, Fault::Status(400), 1);
    run.expect(app, P, json_file(Some(KEY), json!("rooms"), json!({})), 207)
        .await;
    // 400s: no file, bad base64, a webhook channel.
    run.expect(
        app,
        P,
        json_req("POST", P, Some(KEY), json!({"channel": "standup"})),
        400,
    )
    .await;
    let mut bad_base64 = json_file(Some(KEY), json!("standup"), json!({}));
    bad_base64["body"] = json!(
        json!({"channel": "standup", "file": {"name": "a", "content_base64": "!!!"}}).to_string()
    );
    run.expect(app, P, bad_base64, 400).await;
    run.expect(app, P, json_file(Some(KEY), json!("ops"), json!({})), 400)
        .await;
    // 401, 403.
    run.expect(
        app,
        P,
        json_file(Some("wrong"), json!("standup"), json!({})),
        401,
    )
    .await;
    run.expect(
        app,
        P,
        json_file(Some(SCOPED_KEY), json!("other"), json!({})),
        403,
    )
    .await;
    // 413, 415.
    let caption = "c".repeat(28_001);
    run.expect(
        app,
        P,
        json_file(Some(KEY), json!("standup"), json!({"caption": caption})),
        413,
    )
    .await;
    run.expect(
        app,
        P,
        raw_req("POST", P, Some(KEY), "text/plain", "hello"),
        415,
    )
    .await;
    // 409.
    let keyed = with_header(
        json_file(Some(KEY), json!("standup"), json!({})),
        "idempotency-key",
        "openapi-file-409",
    );
    concurrent_duplicate(run, app, P, keyed, || {
        fake.inject(Op::AsmCreate, Fault::Slow(Duration::from_millis(800)), 1)
    })
    .await;
    // 429, 503, 504.
    fake.inject(
        Op::AsmCreate,
        Fault::RateLimited {
            retry_after: Some(60),
        },
        1,
    );
    run.expect(
        app,
        P,
        json_file(Some(KEY), json!("standup"), json!({})),
        429,
    )
    .await;
    fake.inject(Op::AsmCreate, Fault::Status(503), 1);
    run.expect(
        app,
        P,
        json_file(Some(KEY), json!("standup"), json!({})),
        503,
    )
    .await;
    fake.inject(Op::AsmCreate, SLOW, 1);
    run.expect_within(
        app,
        P,
        json_file(Some(KEY), json!("standup"), json!({})),
        504,
        short_deadline(),
    )
    .await;
}

/// Posts a message to `standup` and returns its id.
async fn post(app: &App, text: &str, key: Option<&str>) -> String {
    let mut event = json_req(
        "POST",
        "/send-message",
        Some(KEY),
        message(text, json!("standup")),
    );
    if let Some(key) = key {
        event = with_header(event, "idempotency-key", key);
    }
    let response = crate::handle(app, event).await.unwrap();
    let (status, body) = events::status_and_body(&response);
    assert_eq!(status, 200, "{body}");
    body["id"].as_str().unwrap().to_string()
}

async fn edit_message(run: &mut Run, app: &Arc<App>, fake: &FakeSkype) {
    const P: &str = "/messages/{id}";
    let id = post(app, "to edit", Some("openapi-edit")).await;
    let path = format!("/messages/{id}");
    let edit = |key: Option<&str>, body: Value| json_req("PATCH", &path, key, body);
    let edited = run
        .expect(
            app,
            P,
            edit(Some(KEY), message("edited", json!("standup"))),
            200,
        )
        .await;
    assert_eq!(edited["id"], id.as_str());
    // By the idempotency key that posted it (percent-encoded `key:`).
    run.expect(
        app,
        P,
        json_req(
            "PATCH",
            "/messages/key%3Aopenapi-edit",
            Some(KEY),
            message("again", json!("standup")),
        ),
        200,
    )
    .await;
    // 400s.
    run.expect(
        app,
        P,
        json_req(
            "PATCH",
            "/messages/abc",
            Some(KEY),
            message("x", json!("standup")),
        ),
        400,
    )
    .await;
    run.expect(app, P, edit(Some(KEY), json!({"msg": "x"})), 400)
        .await;
    run.expect(app, P, edit(Some(KEY), message("x", json!("ops"))), 400)
        .await;
    // 401, 403 (scope; not the bot's message), 404.
    run.expect(
        app,
        P,
        edit(Some("wrong"), message("x", json!("standup"))),
        401,
    )
    .await;
    run.expect(
        app,
        P,
        edit(Some(SCOPED_KEY), message("x", json!("other"))),
        403,
    )
    .await;
    fake.inject(Op::Edit, Fault::Status(403), 1);
    let not_own = run
        .expect(app, P, edit(Some(KEY), message("x", json!("standup"))), 403)
        .await;
    assert_eq!(not_own["error"], "not_own_message");
    run.expect(
        app,
        P,
        json_req(
            "PATCH",
            "/messages/key:nope",
            Some(KEY),
            message("x", json!("standup")),
        ),
        404,
    )
    .await;
    run.expect(
        app,
        P,
        json_req(
            "PATCH",
            "/messages/1",
            Some(KEY),
            message("x", json!("standup")),
        ),
        404,
    )
    .await;
    // 413, 415.
    let long = "a".repeat(28_001);
    run.expect(
        app,
        P,
        edit(Some(KEY), message(&long, json!("standup"))),
        413,
    )
    .await;
    run.expect(
        app,
        P,
        raw_req("PATCH", &path, Some(KEY), "text/plain", "hello"),
        415,
    )
    .await;
    // 429, 502 (a refusal), 503, 504.
    fake.inject(
        Op::Edit,
        Fault::RateLimited {
            retry_after: Some(60),
        },
        1,
    );
    run.expect(app, P, edit(Some(KEY), message("x", json!("standup"))), 429)
        .await;
    fake.inject(Op::Edit, Fault::Status(400), 1);
    run.expect(app, P, edit(Some(KEY), message("x", json!("standup"))), 502)
        .await;
    fake.inject(Op::Edit, Fault::Status(503), 1);
    run.expect(app, P, edit(Some(KEY), message("x", json!("standup"))), 503)
        .await;
    fake.inject(Op::Edit, SLOW, 1);
    run.expect_within(
        app,
        P,
        edit(Some(KEY), message("x", json!("standup"))),
        504,
        short_deadline(),
    )
    .await;
}

async fn delete_message(run: &mut Run, app: &Arc<App>, fake: &FakeSkype) {
    const P: &str = "/messages/{id}";
    let by_query = post(app, "delete me", None).await;
    let by_body = post(app, "delete me too", Some("openapi-delete")).await;
    let path = format!("/messages/{by_query}");
    let delete =
        |key: Option<&str>| with_query(bare_req("DELETE", &path, key), "channel", "standup");
    // 200: channel in the query; in the body (by idempotency key).
    let deleted = run.expect(app, P, delete(Some(KEY)), 200).await;
    assert_eq!(deleted["id"], by_query.as_str());
    let deleted = run
        .expect(
            app,
            P,
            json_req(
                "DELETE",
                "/messages/key%3Aopenapi-delete",
                Some(KEY),
                json!({"channel": "standup"}),
            ),
            200,
        )
        .await;
    assert_eq!(deleted["id"], by_body.as_str());
    // 400, 401, 403, 404.
    run.expect(app, P, bare_req("DELETE", &path, Some(KEY)), 400)
        .await;
    run.expect(app, P, delete(Some("wrong")), 401).await;
    run.expect(
        app,
        P,
        with_query(
            bare_req("DELETE", &path, Some(SCOPED_KEY)),
            "channel",
            "other",
        ),
        403,
    )
    .await;
    run.expect(app, P, delete(Some(KEY)), 404).await;
    run.expect(
        app,
        P,
        with_query(
            bare_req("DELETE", "/messages/key:nope", Some(KEY)),
            "channel",
            "standup",
        ),
        404,
    )
    .await;
    // 413, 415.
    let padded = json!({"channel": "standup", "pad": "x".repeat(300_000)});
    run.expect(app, P, json_req("DELETE", &path, Some(KEY), padded), 413)
        .await;
    run.expect(
        app,
        P,
        raw_req("DELETE", &path, Some(KEY), "text/plain", "hello"),
        415,
    )
    .await;
    // 429, 503, 504 from Skype.
    let live = post(app, "still here", None).await;
    let live_path = format!("/messages/{live}");
    let delete_live = || {
        with_query(
            bare_req("DELETE", &live_path, Some(KEY)),
            "channel",
            "standup",
        )
    };
    fake.inject(
        Op::Delete,
        Fault::RateLimited {
            retry_after: Some(60),
        },
        1,
    );
    run.expect(app, P, delete_live(), 429).await;
    fake.inject(Op::Delete, Fault::Status(503), 1);
    run.expect(app, P, delete_live(), 503).await;
    fake.inject(Op::Delete, SLOW, 1);
    run.expect_within(app, P, delete_live(), 504, short_deadline())
        .await;
}

async fn health(run: &mut Run, app: &Arc<App>) {
    const P: &str = "/health";
    let healthy = run.expect(app, P, bare_req("GET", P, Some(KEY)), 200).await;
    assert_eq!(healthy["ok"], true);
    assert!(healthy["session"]["expires_in_seconds"].as_i64().unwrap() > 0);
    run.expect(app, P, bare_req("GET", P, None), 401).await;
}

/// `POST /api/messages`, with a Teams-configured app over the fake Teams
/// services.
async fn teams_messages(run: &mut Run, skype: &FakeSkype, misconfigured: &App) {
    const P: &str = "/api/messages";
    const APP: &str = "0a0b0c0d-1111-4222-8333-444455556666";
    let teams = fake_teams::FakeTeams::start().await;
    teams.add_app(APP, "openapi-password", "contoso");
    let secret = json!({
        "api_keys": [KEY],
        "teams": {"app_id": APP, "app_password": "openapi-password", "tenant_id": "contoso"},
    });
    let env = teams.client_env();
    let overrides: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = local_app::app(skype, &secret, "openapi-teams", &overrides);
    let inbound = fake_teams::Inbound::new(APP, "19:openapi-chat@thread.v2", "contoso");
    let activity = teams.inbound_activity(&inbound, fake_teams::InboundKind::BotAdded);
    let token = teams.inbound_token(&fake_teams::TokenSpec::new(APP));
    let request = |token: Option<&str>, body: &str| {
        let mut headers = headers(None, Some("application/json"));
        if let Some(token) = token {
            headers["authorization"] = json!(format!("Bearer {token}"));
        }
        events::http_v2("POST", P, headers, body)
    };
    let taken = run
        .expect(&app, P, request(Some(&token), &activity.to_string()), 200)
        .await;
    assert_eq!(taken, json!({}));
    run.expect(&app, P, request(None, &activity.to_string()), 401)
        .await;
    run.expect(&app, P, request(Some(&token), "[1, 2"), 400)
        .await;
    run.expect(misconfigured, P, request(Some(&token), "{}"), 500)
        .await;
    for method in ["GET", "PUT", "PATCH", "DELETE"] {
        run.expect(&app, P, bare_req(method, P, None), 405).await;
    }
}

async fn wrong_methods_and_paths(run: &mut Run, app: &Arc<App>) {
    for (spec_path, path, methods) in [
        (
            "/send-message",
            "/send-message",
            &["GET", "PUT", "PATCH", "DELETE"][..],
        ),
        (
            "/send-file",
            "/send-file",
            &["GET", "PUT", "PATCH", "DELETE"][..],
        ),
        (
            "/messages/{id}",
            "/messages/1234",
            &["GET", "POST", "PUT"][..],
        ),
        (
            "/health",
            "/health",
            &["POST", "PUT", "PATCH", "DELETE"][..],
        ),
    ] {
        for method in methods {
            run.expect(app, spec_path, bare_req(method, path, None), 405)
                .await;
        }
    }
    for (method, path) in [
        ("GET", "/nope"),
        ("POST", "/send-messages"),
        ("PUT", "/messages"),
        ("PATCH", "/status"),
        ("DELETE", "/send_message"),
    ] {
        run.expect(app, "/{proxy}", bare_req(method, path, Some(KEY)), 404)
            .await;
    }
}
