//! A counting reverse proxy in front of moto: the function's
//! `AWS_ENDPOINT_URL` points here, so every AWS request the binary makes
//! is counted and timed (its SDK clients cannot be instrumented from
//! outside), and may be delayed as a region's round trip would.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// One AWS request: its operation, when it arrived and when its answer
/// left (`None` while in flight).
#[derive(Debug, Clone)]
pub struct Call {
    /// E.g. `secretsmanager.GetSecretValue` or `s3.GetObject`.
    pub op: String,
    /// The request reached the proxy.
    pub start: Instant,
    /// The answer was handed back.
    pub end: Option<Instant>,
}

/// The proxy; cheap to clone.
#[derive(Clone)]
pub struct CountingProxy {
    endpoint: String,
    log: Arc<Mutex<Vec<Call>>>,
    delay: Arc<Mutex<Duration>>,
}

#[derive(Clone)]
struct Forward {
    upstream: String,
    client: reqwest::Client,
    log: Arc<Mutex<Vec<Call>>>,
    delay: Arc<Mutex<Duration>>,
}

impl CountingProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: &str) -> CountingProxy {
        let log = Arc::new(Mutex::new(Vec::new()));
        let delay = Arc::new(Mutex::new(Duration::ZERO));
        let forward = Forward {
            upstream: upstream.trim_end_matches('/').to_string(),
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
            log: log.clone(),
            delay: delay.clone(),
        };
        let app = Router::new().fallback(handle).with_state(forward);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        CountingProxy {
            endpoint,
            log,
            delay,
        }
    }

    /// Holds every answer back `delay` (zero: none).
    pub fn set_delay(&self, delay: Duration) {
        *self.delay.lock().unwrap() = delay;
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Requests received so far.
    pub fn count(&self) -> usize {
        self.log.lock().unwrap().len()
    }

    /// The operations received from the `start`th request on, e.g.
    /// `secretsmanager.GetSecretValue` or `s3.GetObject`.
    pub fn since(&self, start: usize) -> Vec<String> {
        self.calls_since(start)
            .into_iter()
            .map(|call| call.op)
            .collect()
    }

    /// The requests received from the `start`th on, timed.
    pub fn calls_since(&self, start: usize) -> Vec<Call> {
        self.log
            .lock()
            .unwrap()
            .get(start..)
            .map(<[Call]>::to_vec)
            .unwrap_or_default()
    }
}

/// A short name for the AWS operation of a request.
fn operation(method: &str, path: &str, query: Option<&str>, headers: &HeaderMap) -> String {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        // `secretsmanager.GetSecretValue`
        return target.to_string();
    }
    let has_key = path.trim_start_matches('/').contains('/');
    let query = query.unwrap_or("");
    let name = match (method, has_key) {
        ("GET", true) => "GetObject",
        ("PUT", true) => "PutObject",
        ("HEAD", true) => "HeadObject",
        ("DELETE", true) => "DeleteObject",
        ("GET", false) if query.contains("list-type") => "ListObjectsV2",
        ("GET", false) => "ListObjects",
        ("PUT", false) => "CreateBucket",
        _ => return format!("s3.{method} {path}"),
    };
    format!("s3.{name}")
}

async fn handle(State(forward): State<Forward>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let index = {
        let mut log = forward.log.lock().unwrap();
        log.push(Call {
            op: operation(&method, &path, query.as_deref(), &parts.headers),
            start: Instant::now(),
            end: None,
        });
        log.len() - 1
    };
    let body: Bytes = match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
        Ok(bytes) => bytes,
        Err(_) => return status(StatusCode::PAYLOAD_TOO_LARGE),
    };
    let mut url = format!("{}{}", forward.upstream, path);
    if let Some(query) = &query {
        url.push('?');
        url.push_str(query);
    }
    let mut headers = parts.headers.clone();
    for hop in [
        "host",
        "connection",
        "content-length",
        "transfer-encoding",
        "expect",
    ] {
        headers.remove(hop);
    }
    let upstream = forward
        .client
        .request(parts.method.clone(), url)
        .headers(headers)
        .body(body)
        .send()
        .await;
    let upstream = match upstream {
        Ok(upstream) => upstream,
        Err(_) => return status(StatusCode::BAD_GATEWAY),
    };
    let code = upstream.status();
    let mut headers = upstream.headers().clone();
    headers.remove("connection");
    headers.remove("transfer-encoding");
    let bytes = upstream.bytes().await.unwrap_or_default();
    let delay = *forward.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    forward.log.lock().unwrap()[index].end = Some(Instant::now());
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = code;
    *response.headers_mut() = headers;
    response
}

fn status(code: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = code;
    response
}
