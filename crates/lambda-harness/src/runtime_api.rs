//! A Lambda Runtime API emulator (the documented 2018-06-01 interface) on
//! loopback: the real function binary polls it for events exactly as it
//! polls AWS, and each test invocation waits for the function's answer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// What the function answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `POST /runtime/invocation/{id}/response`.
    Response(Value),
    /// `POST /runtime/invocation/{id}/error`: `{"errorType", "errorMessage"}`.
    Error(Value),
}

impl Outcome {
    /// The response, or a test failure naming the error.
    pub fn response(self) -> Value {
        match self {
            Outcome::Response(value) => value,
            Outcome::Error(error) => panic!("the function failed: {error}"),
        }
    }

    /// The error, or a test failure naming the response.
    pub fn error(self) -> Value {
        match self {
            Outcome::Error(error) => error,
            Outcome::Response(value) => panic!("expected a function error, got {value}"),
        }
    }
}

/// When the emulator handed an invocation to the function and when the
/// function's answer arrived: the invocation's end-to-end time as the
/// Runtime API sees it (the function's HTTP round trips to it included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// The `/next` answer carrying the event was ready to be sent.
    pub handed_out: Instant,
    /// The `/response` (or `/error`) request had arrived, body and all.
    pub answered: Instant,
}

impl Timing {
    /// From handed out to answered.
    pub fn elapsed(&self) -> Duration {
        self.answered.saturating_duration_since(self.handed_out)
    }
}

/// An invocation waiting for its answer.
struct Waiter {
    done: oneshot::Sender<(Outcome, Timing)>,
    /// Set when `/next` hands the event out.
    handed_out: Option<Instant>,
}

struct Pending {
    id: String,
    event: Value,
    deadline_ms: u64,
}

#[derive(Clone)]
struct Shared {
    queue: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>>,
    waiting: Arc<Mutex<HashMap<String, Waiter>>>,
    polls: Arc<AtomicU64>,
    first_poll: Arc<OnceLock<Instant>>,
    in_flight: Arc<AtomicU64>,
    max_in_flight: Arc<AtomicU64>,
    init_error: Arc<Mutex<Option<Value>>>,
}

/// The emulator; cheap to clone.
#[derive(Clone)]
pub struct RuntimeApi {
    address: String,
    sender: mpsc::UnboundedSender<Pending>,
    shared: Shared,
    next_id: Arc<AtomicU64>,
}

impl RuntimeApi {
    /// Listens on a free loopback port.
    pub async fn start() -> RuntimeApi {
        let (sender, receiver) = mpsc::unbounded_channel();
        let shared = Shared {
            queue: Arc::new(tokio::sync::Mutex::new(receiver)),
            waiting: Arc::default(),
            polls: Arc::default(),
            first_poll: Arc::default(),
            in_flight: Arc::default(),
            max_in_flight: Arc::default(),
            init_error: Arc::default(),
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move { axum::serve(listener, app).await });
        RuntimeApi {
            address,
            sender,
            shared,
            next_id: Arc::default(),
        }
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API` (host:port, as Lambda sets it).
    pub fn endpoint(&self) -> &str {
        &self.address
    }

    /// `binary` as Lambda starts it against this API: a clean environment
    /// with only `PATH` and Lambda's own variables (add the function's).
    pub fn command(&self, binary: &std::path::Path) -> std::process::Command {
        let mut command = std::process::Command::new(binary);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", self.endpoint())
            .env("AWS_LAMBDA_FUNCTION_NAME", "skype-sender")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_REGION", "us-east-1");
        command
    }

    /// How many times the function has asked for an event.
    pub fn polls(&self) -> u64 {
        self.shared.polls.load(Ordering::SeqCst)
    }

    /// When the function first asked for an event (the end of its init).
    pub fn first_poll_at(&self) -> Option<Instant> {
        self.shared.first_poll.get().copied()
    }

    /// The most invocations the function held at once.
    pub fn max_in_flight(&self) -> u64 {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// What the function reported through `/runtime/init/error`, if anything.
    pub fn init_error(&self) -> Option<Value> {
        self.shared.init_error.lock().unwrap().clone()
    }

    /// Queues `event` and waits for the function's answer.
    pub async fn invoke(&self, event: Value) -> Outcome {
        self.invoke_with_timeout(event, Duration::from_secs(30))
            .await
    }

    /// Same, with a deadline of `timeout` given to the function.
    pub async fn invoke_with_timeout(&self, event: Value, timeout: Duration) -> Outcome {
        self.invoke_timed_with_timeout(event, timeout).await.0
    }

    /// Queues `event`, waits for the answer, and says when the event was
    /// handed out and when the answer came (see [`Timing`]).
    pub async fn invoke_timed(&self, event: Value) -> (Outcome, Timing) {
        self.invoke_timed_with_timeout(event, Duration::from_secs(30))
            .await
    }

    /// Same, with a deadline of `timeout` given to the function.
    pub async fn invoke_timed_with_timeout(
        &self,
        event: Value,
        timeout: Duration,
    ) -> (Outcome, Timing) {
        let id = format!(
            "8476a536-e9f4-11e8-9739-{:012x}",
            self.next_id.fetch_add(1, Ordering::SeqCst)
        );
        let (done, answer) = oneshot::channel();
        self.shared.waiting.lock().unwrap().insert(
            id.clone(),
            Waiter {
                done,
                handed_out: None,
            },
        );
        let deadline_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
            + timeout.as_millis() as u64;
        self.sender
            .send(Pending {
                id,
                event,
                deadline_ms,
            })
            .unwrap();
        tokio::time::timeout(timeout + Duration::from_secs(5), answer)
            .await
            .expect("the function did not answer in time")
            .expect("the runtime emulator stopped")
    }
}

async fn next(State(shared): State<Shared>) -> impl IntoResponse {
    let _ = shared.first_poll.set(Instant::now());
    shared.polls.fetch_add(1, Ordering::SeqCst);
    let pending = shared.queue.lock().await.recv().await;
    let Some(pending) = pending else {
        return (StatusCode::GONE, HeaderMap::new(), String::new());
    };
    let now_in_flight = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared
        .max_in_flight
        .fetch_max(now_in_flight, Ordering::SeqCst);
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", pending.id.parse().unwrap());
    headers.insert(
        "lambda-runtime-deadline-ms",
        pending.deadline_ms.to_string().parse().unwrap(),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:skype-sender"
            .parse()
            .unwrap(),
    );
    headers.insert(
        "lambda-runtime-trace-id",
        "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"
            .parse()
            .unwrap(),
    );
    headers.insert("content-type", "application/json".parse().unwrap());
    let body = pending.event.to_string();
    if let Some(waiter) = shared.waiting.lock().unwrap().get_mut(&pending.id) {
        waiter.handed_out = Some(Instant::now());
    }
    (StatusCode::OK, headers, body)
}

fn finish(shared: &Shared, id: &str, outcome: Outcome, answered: Instant) -> StatusCode {
    match shared.waiting.lock().unwrap().remove(id) {
        Some(waiter) => {
            shared.in_flight.fetch_sub(1, Ordering::SeqCst);
            let timing = Timing {
                handed_out: waiter.handed_out.unwrap_or(answered),
                answered,
            };
            let _ = waiter.done.send((outcome, timing));
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

fn parse(body: &Bytes) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

async fn response(State(shared): State<Shared>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let answered = Instant::now();
    finish(&shared, &id, Outcome::Response(parse(&body)), answered)
}

async fn error(State(shared): State<Shared>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let answered = Instant::now();
    finish(&shared, &id, Outcome::Error(parse(&body)), answered)
}

async fn init_error(State(shared): State<Shared>, body: Bytes) -> StatusCode {
    *shared.init_error.lock().unwrap() = Some(parse(&body));
    StatusCode::ACCEPTED
}
