//! The HTTP side: one catch-all axum handler that reads the whole request,
//! records it, routes it, applies any injected fault, reads the body (JSON
//! or multipart) and hands it to the operation's handler.
//!
//! Routing is done by hand rather than with axum's router so that every
//! request, unknown paths and wrong methods included, goes through the same
//! recording and refusal path.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use tokio::net::TcpListener;

use super::form::{self, Payload};
use super::state::{self, State};
use super::wire::{self, Req, Resp};
use super::{Fault, MAX_FILE_BYTES, MAX_FILES, Op, RecordedRequest, webhook};

/// Bodies larger than this are refused before anything else (413 `40005`):
/// ten files at the per-file limit, and room for the JSON.
const MAX_BODY: usize = MAX_FILES * MAX_FILE_BYTES + 1024 * 1024;

type Shared = std::sync::Arc<std::sync::Mutex<State>>;

/// Serve `listener` in the background until the runtime stops.
pub(crate) fn spawn(listener: TcpListener, state: Shared) {
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let router = Router::new()
        .fallback(handle)
        .with_state((state, format!("http://127.0.0.1:{port}")));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
}

/// The path parameters an operation needs.
struct Target {
    webhook_id: String,
    token: String,
    message_id: Option<String>,
}

/// The outcome of routing one request.
enum Route {
    Op(Op, Target),
    /// `/webhooks/{id}` without a token: a bot token's route.
    Unauthorized,
    MethodNotAllowed,
    NotFound,
}

fn route(method: &str, path: &str) -> Route {
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    let rest = match segments.as_slice() {
        ["api", "v9" | "v10", rest @ ..] => rest,
        ["api", rest @ ..] => rest,
        _ => return Route::NotFound,
    };
    let (methods, target): (&[(&str, Op)], Target) = match rest {
        ["webhooks", id] if !id.is_empty() => return Route::Unauthorized,
        ["webhooks", id, token] if !id.is_empty() && !token.is_empty() => (
            &[("POST", Op::Execute), ("GET", Op::GetWebhook)],
            Target {
                webhook_id: id.to_string(),
                token: token.to_string(),
                message_id: None,
            },
        ),
        ["webhooks", id, token, "messages", message]
            if !id.is_empty() && !token.is_empty() && !message.is_empty() =>
        {
            (
                &[
                    ("GET", Op::GetMessage),
                    ("PATCH", Op::Edit),
                    ("DELETE", Op::Delete),
                ],
                Target {
                    webhook_id: id.to_string(),
                    token: token.to_string(),
                    message_id: Some(message.to_string()),
                },
            )
        }
        _ => return Route::NotFound,
    };
    match methods.iter().find(|(m, _)| *m == method) {
        Some((_, op)) => Route::Op(*op, target),
        None => Route::MethodNotAllowed,
    }
}

/// When the answer leaves, once the request was handled.
enum Delivery {
    Now,
    Never,
}

async fn handle(
    AxumState((state, base_url)): AxumState<(Shared, String)>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let (body, body_ok) = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => (bytes.to_vec(), true),
        Err(_) => (Vec::new(), false),
    };
    let raw_query = parts.uri.query().map(str::to_string);
    let req = Req {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: raw_query
            .as_deref()
            .and_then(|q| serde_urlencoded::from_str(q).ok())
            .unwrap_or_default(),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    let route = route(&req.method, &req.path);
    let op = match &route {
        Route::Op(op, _) => Some(*op),
        _ => None,
    };
    let index = state::lock(&state).record(RecordedRequest {
        op,
        method: req.method.clone(),
        path: req.path.clone(),
        query: raw_query,
        headers: req.headers.clone(),
        body: req.body.clone(),
        status: 0,
    });
    let (resp, delivery) = if body_ok {
        dispatch(&state, &base_url, route, &req).await
    } else {
        (wire::too_large(), Delivery::Now)
    };
    if let Delivery::Never = delivery {
        // Unwinding ends this connection's task, so hyper closes the socket
        // without a response; `resume_unwind` skips the panic hook, so
        // nothing is printed. No lock is held here.
        std::panic::resume_unwind(Box::new("fake-discord: connection dropped on purpose"));
    }
    if let Some(recorded) = state::lock(&state).requests.get_mut(index) {
        recorded.status = resp.status;
    }
    into_response(resp)
}

async fn dispatch(state: &Shared, base_url: &str, route: Route, req: &Req) -> (Resp, Delivery) {
    let (op, target) = match route {
        Route::NotFound => return (wire::http_error(404), Delivery::Now),
        Route::MethodNotAllowed => return (wire::http_error(405), Delivery::Now),
        Route::Unauthorized => return (wire::http_error(401), Delivery::Now),
        Route::Op(op, target) => (op, target),
    };
    let fault = state::lock(state).take_fault(op);
    let mut delivery = Delivery::Now;
    match fault {
        None => {}
        Some(Fault::Slow(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::DropConnection) => return (Resp::empty(0), Delivery::Never),
        Some(Fault::DropAfterHandling) => delivery = Delivery::Never,
        Some(Fault::RateLimited {
            retry_after,
            global,
        }) => {
            let resp =
                state::lock(state).injected_rate_limit(&target.webhook_id, retry_after, global);
            return (resp, Delivery::Now);
        }
        Some(Fault::Status(status)) => {
            let status = if (100..=999).contains(&status) {
                status
            } else {
                500
            };
            return (wire::http_error(status), Delivery::Now);
        }
    }
    // The body is read before the lock is taken (multipart reading awaits);
    // its errors are answered only after the webhook and token checks.
    let payload: Option<Result<Payload, Resp>> = match op {
        Op::Execute | Op::Edit => Some(form::parse(req).await),
        _ => None,
    };
    let mut state = state::lock(state);
    let state = &mut *state;
    let (id, token) = (target.webhook_id.as_str(), target.token.as_str());
    let message_id = target.message_id.as_deref().unwrap_or("");
    let resp = match (op, payload) {
        (Op::Execute, Some(payload)) => webhook::execute(state, req, id, token, payload),
        (Op::Edit, Some(payload)) => webhook::edit(state, req, id, token, message_id, payload),
        (Op::Delete, _) => webhook::delete(state, req, id, token, message_id),
        (Op::GetMessage, _) => webhook::get_message(state, req, id, token, message_id),
        (Op::GetWebhook, _) => webhook::get_webhook(state, id, token, base_url),
        _ => wire::http_error(500),
    };
    (resp, delivery)
}

fn into_response(resp: Resp) -> Response {
    let mut response = Response::new(Body::from(resp.body));
    *response.status_mut() =
        StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in resp.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}
