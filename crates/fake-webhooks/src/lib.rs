//! A strict fake of both webhook services on one local port: Teams Workflows
//! ("When a Teams webhook request is received", an Azure Logic Apps HTTP
//! trigger) and Slack incoming webhooks.
//!
//! It refuses what the real services refuse, with their statuses and error
//! shapes (Azure's JSON `{"error": {"code", "message"}}`, Slack's plain-text
//! codes), so a client that sends a wrong envelope, a wrong content type or
//! to a wrong URL fails here too. Faults can be injected per hook, and every
//! request (rejected ones included) is recorded.
//!
//! Teams: `POST /workflows/{id}/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={sig}`
//! answers 202 with an empty body. Slack: `POST /services/{T}/{B}/{secret}`
//! answers 200 `ok`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

/// The only `api-version` the trigger URLs carry.
pub const API_VERSION: &str = "2016-06-01";

/// Element types the fake accepts in a card body (what the renderer uses).
pub const CARD_ELEMENTS: &[&str] = &[
    "TextBlock",
    "Container",
    "ColumnSet",
    "FactSet",
    "RichTextBlock",
    "Image",
];

/// Bodies larger than this are refused (Slack's limit is far lower anyway).
const MAX_BODY: usize = 1024 * 1024;

/// One registered webhook.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Hook {
    /// A Teams workflow, by its id.
    Teams(String),
    /// A Slack webhook, by `T/B/secret`.
    Slack(String),
}

/// A message the fake accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// Which webhook it was posted to.
    pub hook: Hook,
    /// The JSON body as posted.
    pub json: Value,
}

/// One request as received, with the status the fake answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// HTTP method.
    pub method: String,
    /// The `Host` header (tells which name a client used).
    pub host: Option<String>,
    /// The path, still percent-encoded.
    pub path: String,
    /// The raw query.
    pub query: Option<String>,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The raw body.
    pub body: Vec<u8>,
    /// The status answered.
    pub status: u16,
}

/// An injected answer for the next request(s) to one hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer this instead of handling the request.
    Answer {
        /// HTTP status.
        status: u16,
        /// Body.
        body: String,
        /// `Content-Type`.
        content_type: &'static str,
        /// `Retry-After`, verbatim.
        retry_after: Option<String>,
    },
    /// A redirect (a client must not follow it, least of all to another host).
    Redirect {
        /// A 3xx status.
        status: u16,
        /// The `Location` header.
        location: String,
    },
    /// Wait this long, then handle the request normally (timeouts).
    Delay(Duration),
}

impl Fault {
    /// A Slack-style plain-text error: `Fault::slack(410, "channel_is_archived")`.
    pub fn slack(status: u16, code: &str) -> Fault {
        Fault::Answer {
            status,
            body: code.to_string(),
            content_type: "text/html",
            retry_after: None,
        }
    }

    /// An Azure-style JSON error: `Fault::azure(403, "AuthorizationFailed")`.
    pub fn azure(status: u16, code: &str) -> Fault {
        Fault::Answer {
            status,
            body: azure_error(code, "Injected failure.").to_string(),
            content_type: "application/json; charset=utf-8",
            retry_after: None,
        }
    }

    /// Adds `Retry-After: value` (seconds or an HTTP date) to an answer.
    pub fn with_retry_after(mut self, value: &str) -> Fault {
        if let Fault::Answer { retry_after, .. } = &mut self {
            *retry_after = Some(value.to_string());
        }
        self
    }
}

#[derive(Default)]
struct State {
    /// Workflow id → its `sig`.
    teams: HashMap<String, String>,
    /// `(T, B)` → the secret of that Slack webhook.
    slack: HashMap<(String, String), String>,
    faults: HashMap<Hook, VecDeque<Fault>>,
    received: Vec<Received>,
    exchanges: Vec<Exchange>,
}

/// A handle on one running fake; clones share the state.
#[derive(Clone)]
pub struct FakeWebhooks {
    state: Arc<Mutex<State>>,
    port: u16,
}

impl FakeWebhooks {
    /// Starts on an ephemeral port of 127.0.0.1.
    pub async fn start() -> FakeWebhooks {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("binding 127.0.0.1:0 must succeed");
        let port = listener.local_addr().expect("bound address").port();
        let state = Arc::new(Mutex::new(State::default()));
        let router = Router::new().fallback(handle).with_state(state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        FakeWebhooks { state, port }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Registers workflow `id` (once; later calls give the same URL) and
    /// returns its trigger URL, `sig` included.
    pub fn teams_url(&self, id: &str) -> String {
        let sig = self
            .lock()
            .teams
            .entry(id.to_string())
            .or_insert_with(new_sig)
            .clone();
        format!(
            "http://127.0.0.1:{}/workflows/{id}/triggers/manual/paths/invoke?api-version={API_VERSION}&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={sig}",
            self.port
        )
    }

    /// Registers the Slack webhook `T/B/secret` and returns its URL.
    pub fn slack_url(&self, path: &str) -> String {
        if let [team, bot, secret] = path.split('/').collect::<Vec<_>>().as_slice() {
            self.lock()
                .slack
                .insert((team.to_string(), bot.to_string()), secret.to_string());
        }
        format!("http://127.0.0.1:{}/services/{path}", self.port)
    }

    /// Deletes a hook, as deleting the workflow or the Slack app would.
    pub fn delete(&self, hook: &Hook) {
        let mut state = self.lock();
        match hook {
            Hook::Teams(id) => {
                state.teams.remove(id);
            }
            Hook::Slack(path) => {
                if let [team, bot, _] = path.split('/').collect::<Vec<_>>().as_slice() {
                    state.slack.remove(&(team.to_string(), bot.to_string()));
                }
            }
        }
    }

    /// The next `times` requests to `hook` draw `fault` (FIFO per hook).
    pub fn inject(&self, hook: Hook, fault: Fault, times: usize) {
        let mut state = self.lock();
        let queue = state.faults.entry(hook).or_default();
        queue.extend(std::iter::repeat_n(fault, times));
    }

    /// Every accepted message, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// Every request, rejected ones included, in arrival order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.lock().exchanges.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A `sig` like Azure's: 43 URL-safe characters.
fn new_sig() -> String {
    (0..43).map(|_| fastrand::alphanumeric()).collect()
}

// ------------------------------------------------------------------ server

/// What the fake answers, before it becomes an HTTP response.
struct Answer {
    status: u16,
    body: String,
    content_type: &'static str,
    headers: Vec<(header::HeaderName, String)>,
}

impl Answer {
    fn text(status: u16, body: &str) -> Answer {
        Answer {
            status,
            body: body.to_string(),
            content_type: "text/html",
            headers: Vec::new(),
        }
    }

    fn azure(status: u16, code: &str, message: &str) -> Answer {
        Answer {
            status,
            body: azure_error(code, message).to_string(),
            content_type: "application/json; charset=utf-8",
            headers: Vec::new(),
        }
    }
}

fn azure_error(code: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message}})
}

/// The parts of a request the handlers look at.
struct Req {
    path: String,
    query: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

async fn handle(AxumState(state): AxumState<Arc<Mutex<State>>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY).await;
    let header_text = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let req = Req {
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        content_type: header_text(header::CONTENT_TYPE),
        body: body.as_ref().map(|b| b.to_vec()).unwrap_or_default(),
    };
    let answer = if body.is_err() {
        Answer::text(413, "request_too_large")
    } else if parts.method != axum::http::Method::POST {
        Answer::text(405, "method_not_allowed")
    } else {
        route(&state, &req).await
    };
    lock(&state).exchanges.push(Exchange {
        method: parts.method.to_string(),
        host: header_text(header::HOST),
        path: req.path,
        query: req.query,
        content_type: req.content_type,
        body: req.body,
        status: answer.status,
    });
    into_response(answer)
}

async fn route(state: &Arc<Mutex<State>>, req: &Req) -> Answer {
    let segments: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["workflows", id, "triggers", "manual", "paths", "invoke"] => {
            let hook = Hook::Teams(id.to_string());
            if let Some(answer) = apply_fault(state, &hook).await {
                return answer;
            }
            teams(state, id, req)
        }
        ["services", team, bot, secret] => {
            let hook = Hook::Slack(format!("{team}/{bot}/{secret}"));
            if let Some(answer) = apply_fault(state, &hook).await {
                return answer;
            }
            slack(state, (team, bot, secret), req)
        }
        _ => Answer::text(404, "not_found"),
    }
}

/// Answers with the hook's next fault, or waits for a delay fault.
async fn apply_fault(state: &Arc<Mutex<State>>, hook: &Hook) -> Option<Answer> {
    let fault = lock(state).faults.get_mut(hook)?.pop_front()?;
    match fault {
        Fault::Delay(delay) => {
            tokio::time::sleep(delay).await;
            None
        }
        Fault::Answer {
            status,
            body,
            content_type,
            retry_after,
        } => {
            let mut headers = Vec::new();
            if let Some(value) = retry_after {
                headers.push((header::RETRY_AFTER, value));
            }
            Some(Answer {
                status,
                body,
                content_type,
                headers,
            })
        }
        Fault::Redirect { status, location } => Some(Answer {
            status,
            body: String::new(),
            content_type: "text/plain",
            headers: vec![(header::LOCATION, location)],
        }),
    }
}

// ------------------------------------------------------------------- Teams

fn teams(state: &Arc<Mutex<State>>, id: &str, req: &Req) -> Answer {
    let Some(sig) = lock(state).teams.get(id).cloned() else {
        return Answer::azure(404, "WorkflowNotFound", "The workflow could not be found.");
    };
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(req.query.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    match query.get("api-version").map(String::as_str) {
        Some(API_VERSION) => {}
        Some(_) => {
            return Answer::azure(
                400,
                "InvalidApiVersionParameter",
                "The api-version is invalid.",
            );
        }
        None => {
            return Answer::azure(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter is required.",
            );
        }
    }
    let Some(given) = query.get("sig") else {
        return Answer::azure(
            401,
            "DirectApiAuthorizationRequired",
            "The request must be authenticated only by Shared Access scheme.",
        );
    };
    let signed = query.get("sp").map(String::as_str) == Some("/triggers/manual/run")
        && query.get("sv").map(String::as_str) == Some("1.0");
    if *given != sig || !signed {
        return Answer::azure(
            401,
            "DirectApiInvalidAuthorizationSignature",
            "The provided authorization token is not valid.",
        );
    }
    if !is_json(req) {
        return Answer::azure(
            400,
            "InvalidRequestContent",
            "The request content type must be application/json.",
        );
    }
    let Ok(json) = serde_json::from_slice::<Value>(&req.body) else {
        return Answer::azure(
            400,
            "InvalidRequestContent",
            "The request content is not valid JSON.",
        );
    };
    if let Err(why) = check_envelope(&json) {
        return Answer::azure(400, "TriggerInputSchemaMismatch", &why);
    }
    lock(state).received.push(Received {
        hook: Hook::Teams(id.to_string()),
        json,
    });
    Answer {
        status: 202,
        body: String::new(),
        content_type: "text/plain",
        headers: Vec::new(),
    }
}

/// The message envelope with Adaptive Card attachments.
fn check_envelope(json: &Value) -> Result<(), String> {
    if json.get("type").and_then(Value::as_str) != Some("message") {
        return Err("'type' must be \"message\"".into());
    }
    let attachments = json
        .get("attachments")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or("'attachments' must be a non-empty array")?;
    for (i, attachment) in attachments.iter().enumerate() {
        if attachment.get("contentType").and_then(Value::as_str)
            != Some("application/vnd.microsoft.card.adaptive")
        {
            return Err(format!(
                "attachments[{i}].contentType must be application/vnd.microsoft.card.adaptive"
            ));
        }
        let card = attachment
            .get("content")
            .ok_or(format!("attachments[{i}].content is missing"))?;
        if card.get("type").and_then(Value::as_str) != Some("AdaptiveCard") {
            return Err(format!(
                "attachments[{i}].content.type must be AdaptiveCard"
            ));
        }
        let version = card.get("version").and_then(Value::as_str).unwrap_or("");
        if !version.starts_with("1.") || version[2..].parse::<u8>().is_err() {
            return Err(format!(
                "attachments[{i}].content.version must be a string like \"1.4\""
            ));
        }
        let body = card
            .get("body")
            .and_then(Value::as_array)
            .filter(|b| !b.is_empty())
            .ok_or(format!(
                "attachments[{i}].content.body must be a non-empty array"
            ))?;
        check_elements(&format!("attachments[{i}].content.body"), body)?;
    }
    Ok(())
}

fn check_elements(path: &str, elements: &[Value]) -> Result<(), String> {
    elements
        .iter()
        .enumerate()
        .try_for_each(|(i, element)| check_element(&format!("{path}[{i}]"), element))
}

/// One card element, recursively (containers and columns hold elements).
fn check_element(path: &str, element: &Value) -> Result<(), String> {
    let kind = element.get("type").and_then(Value::as_str).unwrap_or("");
    if !CARD_ELEMENTS.contains(&kind) {
        return Err(format!("{path}.type {kind:?} is not a known element type"));
    }
    let array = |field: &str| -> Result<&Vec<Value>, String> {
        element
            .get(field)
            .and_then(Value::as_array)
            .ok_or(format!("{path}.{field} must be an array"))
    };
    let string = |value: &Value, field: &str| -> Result<(), String> {
        match value.get(field) {
            Some(Value::String(_)) => Ok(()),
            _ => Err(format!("{path}.{field} must be a string")),
        }
    };
    match kind {
        "TextBlock" => string(element, "text"),
        "Image" => string(element, "url"),
        "Container" => check_elements(&format!("{path}.items"), array("items")?),
        "ColumnSet" => {
            for (i, column) in array("columns")?.iter().enumerate() {
                let column_path = format!("{path}.columns[{i}]");
                match column.get("type") {
                    None => {}
                    Some(Value::String(t)) if t == "Column" => {}
                    Some(_) => return Err(format!("{column_path}.type must be Column")),
                }
                if let Some(items) = column.get("items") {
                    let items = items
                        .as_array()
                        .ok_or(format!("{column_path}.items must be an array"))?;
                    check_elements(&format!("{column_path}.items"), items)?;
                }
            }
            Ok(())
        }
        "FactSet" => array("facts")?.iter().try_for_each(|fact| {
            string(fact, "title")?;
            string(fact, "value")
        }),
        "RichTextBlock" => array("inlines")?
            .iter()
            .try_for_each(|inline| match inline {
                Value::String(_) => Ok(()),
                Value::Object(_)
                    if inline.get("type").and_then(Value::as_str) == Some("TextRun") =>
                {
                    string(inline, "text")
                }
                _ => Err(format!(
                    "{path}.inlines: each must be a string or a TextRun"
                )),
            }),
        _ => Ok(()),
    }
}

// ------------------------------------------------------------------- Slack

fn slack(state: &Arc<Mutex<State>>, (team, bot, secret): (&str, &str, &str), req: &Req) -> Answer {
    let known = lock(state)
        .slack
        .get(&(team.to_string(), bot.to_string()))
        .cloned();
    match known {
        None => return Answer::text(404, "no_service"),
        Some(expected) if expected != secret => return Answer::text(403, "invalid_token"),
        Some(_) => {}
    }
    if !is_json(req) {
        return Answer::text(400, "invalid_payload");
    }
    let Ok(json) = serde_json::from_slice::<Value>(&req.body) else {
        return Answer::text(400, "invalid_payload");
    };
    if !json.is_object() {
        return Answer::text(400, "invalid_payload");
    }
    match json.get("text") {
        Some(Value::String(text)) if !text.trim().is_empty() => {}
        _ => return Answer::text(400, "no_text"),
    }
    lock(state).received.push(Received {
        hook: Hook::Slack(format!("{team}/{bot}/{secret}")),
        json,
    });
    Answer::text(200, "ok")
}

fn is_json(req: &Req) -> bool {
    req.content_type
        .as_deref()
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|ct| ct.trim().eq_ignore_ascii_case("application/json"))
}

fn into_response(answer: Answer) -> Response {
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(answer.content_type),
    );
    for (name, value) in answer.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.append(name, value);
        }
    }
    response
}
