//! The HTTP side: one catch-all axum handler that reads the whole request,
//! records it, routes it (`/api/{method}` or an upload URL), applies any
//! injected fault, reads the parameters, authenticates the token and hands
//! the call to the method's handler.
//!
//! Routing is done by hand rather than with axum's router so that every
//! request, unknown paths and methods included, goes through the same
//! recording and refusal path.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use tokio::net::TcpListener;

use super::state::{self, Bot, State};
use super::wire::{Outcome, Params, Refusal, Req, Resp, answer, error_status, read_params};
use super::{Fault, METHODS, RecordedRequest, UPLOAD, chat, files, wire};

/// Bodies larger than this are refused before anything else.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// The methods that read a JSON body; the others ignore one, as Slack's
/// read methods and `files.getUploadURLExternal` do.
const JSON_METHODS: &[&str] = &[
    "auth.test",
    "chat.postMessage",
    "chat.update",
    "chat.delete",
    "files.completeUploadExternal",
];

type Shared = std::sync::Arc<std::sync::Mutex<State>>;

/// Serve `listener` in the background until the runtime stops.
pub(crate) fn spawn(listener: TcpListener, state: Shared) {
    let router = Router::new().fallback(handle).with_state(state);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
}

/// The outcome of routing one request.
enum Route {
    /// `/api/{method}` of a method this fake implements.
    Method(String),
    /// `/api/{name}` of any other name.
    UnknownMethod(String),
    /// `/upload/v1/{ticket}`.
    Upload(String),
    NotFound,
}

impl Route {
    /// The method name recorded, counted and faulted by.
    fn name(&self) -> Option<String> {
        match self {
            Route::Method(name) | Route::UnknownMethod(name) => Some(name.clone()),
            Route::Upload(_) => Some(UPLOAD.to_string()),
            Route::NotFound => None,
        }
    }
}

fn route(path: &str) -> Route {
    if let Some(name) = path.strip_prefix("/api/") {
        if name.is_empty() || name.contains('/') {
            return Route::NotFound;
        }
        return if METHODS.contains(&name) {
            Route::Method(name.to_string())
        } else {
            Route::UnknownMethod(name.to_string())
        };
    }
    match path.strip_prefix(files::UPLOAD_PREFIX) {
        Some(ticket) if !ticket.is_empty() && !ticket.contains('/') => {
            Route::Upload(ticket.to_string())
        }
        _ => Route::NotFound,
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
        query: parts.uri.query().map(str::to_string),
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
    let route = route(&req.path);
    let index = state::lock(&state).record(RecordedRequest {
        method: route.name(),
        http_method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        headers: req.headers.clone(),
        body: req.body.clone(),
        status: 0,
    });
    let (resp, delivery) = if body_ok {
        dispatch(&state, route, &req).await
    } else {
        (error_status(413, "request_too_large"), Delivery::Now)
    };
    if let Delivery::Never = delivery {
        // Unwinding ends this connection's task, so hyper closes the socket
        // without a response; `resume_unwind` skips the panic hook, so
        // nothing is printed. No lock is held here.
        std::panic::resume_unwind(Box::new("fake-slack: connection dropped on purpose"));
    }
    if let Some(recorded) = state::lock(&state).requests.get_mut(index) {
        recorded.status = resp.status;
    }
    into_response(resp)
}

async fn dispatch(state: &Shared, route: Route, req: &Req) -> (Resp, Delivery) {
    let upload = matches!(route, Route::Upload(_));
    let name = match &route {
        Route::NotFound => {
            return (
                Resp::text(404, "text/plain; charset=utf-8", "Not Found"),
                Delivery::Now,
            );
        }
        Route::UnknownMethod(_) => return (error_status(404, "unknown_method"), Delivery::Now),
        Route::Method(name) => name.clone(),
        Route::Upload(_) => UPLOAD.to_string(),
    };
    let allowed = if upload {
        req.method == "POST"
    } else {
        req.method == "POST" || req.method == "GET"
    };
    if !allowed {
        return (
            error_status(405, "method_not_allowed").header("Allow", "GET, POST"),
            Delivery::Now,
        );
    }
    let fault = state::lock(state).take_fault(&name);
    let mut delivery = Delivery::Now;
    match fault {
        None => {}
        Some(Fault::Slow(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::DropConnection) => return (Resp::empty(0), Delivery::Never),
        Some(Fault::DropAfterHandling) => delivery = Delivery::Never,
        Some(Fault::RateLimited { retry_after_secs }) => {
            return (
                error_status(429, "ratelimited")
                    .header("Retry-After", retry_after_secs.to_string()),
                Delivery::Now,
            );
        }
        Some(Fault::Status(status)) => {
            let status = if (100..=999).contains(&status) {
                status
            } else {
                500
            };
            let page =
                format!("<html><body><h1>{status}</h1><p>Injected failure.</p></body></html>");
            return (
                Resp::text(status, "text/html; charset=utf-8", &page),
                Delivery::Now,
            );
        }
        Some(Fault::Error(code)) => {
            let resp = if upload {
                Resp::text(400, "text/plain; charset=utf-8", code)
            } else {
                answer(Err(Refusal::new(code)), &[])
            };
            return (resp, Delivery::Now);
        }
    }
    let resp = match route {
        Route::Upload(ticket) => upload_bytes(state, req, &ticket).await,
        _ => call(state, &name, req).await,
    };
    (resp, delivery)
}

/// An upload URL's POST: the raw body, or the `file` part of a multipart
/// body.
async fn upload_bytes(state: &Shared, req: &Req, ticket: &str) -> Resp {
    let multipart = req
        .header("content-type")
        .is_some_and(|t| wire::ContentType::parse(t).media == "multipart/form-data");
    let bytes = if multipart {
        wire::multipart(req)
            .await
            .and_then(|parts| parts.into_iter().find(|p| p.name == "file"))
            .map(|part| part.bytes)
    } else {
        Some(req.body.clone())
    };
    files::upload(&mut state::lock(state), ticket, bytes)
}

/// An API call: parameters, token, then the method.
async fn call(state: &Shared, name: &str, req: &Req) -> Resp {
    let params = match read_params(req, JSON_METHODS.contains(&name)).await {
        Ok(params) => params,
        Err(refusal) => return answer(Err(refusal), &[]),
    };
    let mut state = state::lock(state);
    let outcome = match authenticate(&state, req, &params) {
        Ok(bot) => run(&mut state, name, &bot, &params),
        Err(refusal) => Err(refusal),
    };
    answer(outcome, &params.warnings)
}

/// The bot of the request's token: `Authorization: Bearer <token>`, else a
/// `token` form or query field (never a JSON field, as in Slack).
fn authenticate(state: &State, req: &Req, params: &Params) -> Result<Bot, Refusal> {
    let token = match req.header("authorization") {
        Some(value) => match value.trim().split_once(' ') {
            Some((scheme, token))
                if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
            {
                Some(token.trim())
            }
            _ => None,
        },
        None => params.field("token").filter(|t| !t.is_empty()),
    };
    let token = token.ok_or_else(|| Refusal::new("not_authed"))?;
    let bot = state
        .bots
        .iter()
        .find(|b| b.token == token)
        .ok_or_else(|| Refusal::new("invalid_auth"))?;
    if bot.revoked {
        return Err(Refusal::new("token_revoked"));
    }
    Ok(bot.clone())
}

fn run(state: &mut State, name: &str, bot: &Bot, params: &Params) -> Outcome {
    match name {
        "auth.test" => chat::auth_test(state, bot),
        "chat.postMessage" => chat::post_message(state, bot, params),
        "chat.update" => chat::update(state, bot, params),
        "chat.delete" => chat::delete(state, bot, params),
        "conversations.history" => chat::history(state, bot, params),
        "conversations.replies" => chat::replies(state, bot, params),
        "files.getUploadURLExternal" => files::get_upload_url(state, bot, params),
        "files.completeUploadExternal" => files::complete(state, bot, params),
        "files.info" => files::info(state, params),
        _ => Err(Refusal::new("unknown_method")),
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
