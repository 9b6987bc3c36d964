//! The HTTP side: one catch-all axum handler that reads the whole request,
//! records it, routes it by prefix to one of the three services, applies
//! any injected fault and hands it to the operation's handler.
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

use super::state::{self, State};
use super::wire::{Req, Resp, connector_error, framework_message};
use super::{Fault, Op, RecordedRequest, connector, entra, openid};

/// Bodies larger than this are refused before anything else (far above the
/// Connector's own message limit, so that one is what a test meets).
const MAX_BODY: usize = 8 * 1024 * 1024;

type Shared = std::sync::Arc<std::sync::Mutex<State>>;

/// Serve `listener` in the background until the runtime stops.
pub(crate) fn spawn(listener: TcpListener, state: Shared) {
    let router = Router::new().fallback(handle).with_state(state);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
}

/// The path parameters an operation needs (raw, still percent-encoded).
enum Target {
    None,
    Tenant(String),
    Conversation(String),
    Activity {
        conversation: String,
        activity: String,
    },
}

/// The outcome of routing one request.
enum Route {
    Op(Op, Target),
    MethodNotAllowed,
    NotFound,
}

fn route(method: &str, path: &str) -> Route {
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    let (methods, target): (&[(&str, Op)], Target) = match segments.as_slice() {
        ["openid", "v1", ".well-known", "openidconfiguration"] => {
            (&[("GET", Op::OpenIdMetadata)], Target::None)
        }
        ["openid", "v1", "keys"] => (&[("GET", Op::Jwks)], Target::None),
        // Every method reaches the token endpoint: it answers a GET itself.
        ["login", tenant, "oauth2", "v2.0", "token"] => {
            return Route::Op(Op::Token, Target::Tenant(tenant.to_string()));
        }
        ["connector", "v3", "conversations"] => (&[("POST", Op::CreateConversation)], Target::None),
        [
            "connector",
            "v3",
            "conversations",
            conversation,
            "activities",
        ] => (
            &[("POST", Op::SendActivity)],
            Target::Conversation(conversation.to_string()),
        ),
        [
            "connector",
            "v3",
            "conversations",
            conversation,
            "activities",
            activity,
        ] => (
            &[
                ("POST", Op::ReplyToActivity),
                ("PUT", Op::UpdateActivity),
                ("DELETE", Op::DeleteActivity),
            ],
            Target::Activity {
                conversation: conversation.to_string(),
                activity: activity.to_string(),
            },
        ),
        ["connector", "v3", "conversations", conversation, "members"] => (
            &[("GET", Op::GetMembers)],
            Target::Conversation(conversation.to_string()),
        ),
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

async fn handle(AxumState(state): AxumState<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let (body, body_ok) = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => (bytes.to_vec(), true),
        Err(_) => (Vec::new(), false),
    };
    let req = Req {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
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
        query: parts.uri.query().map(str::to_string),
        headers: req.headers.clone(),
        body: req.body.clone(),
        status: 0,
    });
    let (resp, delivery) = if body_ok {
        dispatch(&state, route, &req).await
    } else {
        (
            connector_error(413, "MessageSizeTooBig", "Message size too large."),
            Delivery::Now,
        )
    };
    if let Delivery::Never = delivery {
        // Unwinding ends this connection's task, so hyper closes the socket
        // without a response; `resume_unwind` skips the panic hook, so
        // nothing is printed. No lock is held here.
        std::panic::resume_unwind(Box::new("fake-teams: connection dropped on purpose"));
    }
    if let Some(recorded) = state::lock(&state).requests.get_mut(index) {
        recorded.status = resp.status;
    }
    into_response(resp)
}

async fn dispatch(state: &Shared, route: Route, req: &Req) -> (Resp, Delivery) {
    let (op, target) = match route {
        Route::NotFound => {
            let message = format!(
                "No HTTP resource was found that matches the request URI '{}'.",
                req.path
            );
            return (framework_message(404, &message), Delivery::Now);
        }
        Route::MethodNotAllowed => {
            let message = format!(
                "The requested resource does not support http method '{}'.",
                req.method
            );
            return (framework_message(405, &message), Delivery::Now);
        }
        Route::Op(op, target) => (op, target),
    };
    let fault = state::lock(state).take_fault(op);
    let mut delivery = Delivery::Now;
    match fault {
        None => {}
        Some(Fault::Slow(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::DropConnection) => return (Resp::empty(0), Delivery::Never),
        Some(Fault::DropAfterHandling) => delivery = Delivery::Never,
        Some(Fault::TooManyRequests { retry_after_secs }) => {
            let resp = fault_answer(&state::lock(state), op, 429);
            return (
                resp.header("Retry-After", retry_after_secs.to_string()),
                Delivery::Now,
            );
        }
        Some(Fault::Status(status)) => {
            let status = if (100..=999).contains(&status) {
                status
            } else {
                500
            };
            return (fault_answer(&state::lock(state), op, status), Delivery::Now);
        }
    }
    let mut state = state::lock(state);
    (handle_op(&mut state, op, &target, req), delivery)
}

/// The body each service gives with a throttling or failure status.
fn fault_answer(state: &State, op: Op, status: u16) -> Resp {
    match op {
        Op::Token => entra::fault_answer(state, status),
        Op::OpenIdMetadata | Op::Jwks => {
            framework_message(status, &format!("Injected failure: HTTP {status}"))
        }
        _ if status == 429 => connector_error(429, "Throttled", "Too many requests."),
        _ => connector_error(
            status,
            "ServiceError",
            &format!("Injected failure: HTTP {status}"),
        ),
    }
}

fn handle_op(state: &mut State, op: Op, target: &Target, req: &Req) -> Resp {
    match (op, target) {
        (Op::OpenIdMetadata, _) => openid::metadata(state),
        (Op::Jwks, _) => openid::jwks(state),
        (Op::Token, Target::Tenant(tenant)) => entra::token(state, req, tenant),
        (Op::CreateConversation, _) => connector::create_conversation(state, req),
        (Op::SendActivity, Target::Conversation(c)) => connector::send(state, req, c),
        (Op::GetMembers, Target::Conversation(c)) => connector::members(state, req, c),
        (
            Op::ReplyToActivity,
            Target::Activity {
                conversation,
                activity,
            },
        ) => connector::reply(state, req, conversation, activity),
        (
            Op::UpdateActivity,
            Target::Activity {
                conversation,
                activity,
            },
        ) => connector::update(state, req, conversation, activity),
        (
            Op::DeleteActivity,
            Target::Activity {
                conversation,
                activity,
            },
        ) => connector::delete(state, req, conversation, activity),
        _ => framework_message(500, "fake-teams: operation routed without its target"),
    }
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
