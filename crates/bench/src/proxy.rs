//! A counting reverse proxy in front of moto: the function's
//! `AWS_ENDPOINT_URL` points here, so every AWS request the binary makes
//! is counted (its SDK clients cannot be instrumented from outside).

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// The proxy; cheap to clone.
#[derive(Clone)]
pub struct CountingProxy {
    endpoint: String,
    log: Arc<Mutex<Vec<String>>>,
}

#[derive(Clone)]
struct Forward {
    upstream: String,
    client: reqwest::Client,
    log: Arc<Mutex<Vec<String>>>,
}

impl CountingProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: &str) -> CountingProxy {
        let log = Arc::new(Mutex::new(Vec::new()));
        let forward = Forward {
            upstream: upstream.trim_end_matches('/').to_string(),
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
            log: log.clone(),
        };
        let app = Router::new().fallback(handle).with_state(forward);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        CountingProxy { endpoint, log }
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
        self.log
            .lock()
            .unwrap()
            .get(start..)
            .map(<[String]>::to_vec)
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
    forward
        .log
        .lock()
        .unwrap()
        .push(operation(&method, &path, query.as_deref(), &parts.headers));
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
