//! The HTTP side: one catch-all axum handler per listener that reads the
//! whole request, records it, routes it, applies any injected fault and
//! hands it to the operation's handler.
//!
//! Routing is done by hand (see `routes`) rather than with axum's router so
//! that every request, including unknown paths and wrong methods, goes
//! through the same recording and rejection path.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use tokio::net::TcpListener;

use super::faults::{self, FaultAction};
use super::routes::{self, Route, Target};
use super::state::{self, Shared, State};
use super::wire::{Req, Resp, msg_error};
use super::{Op, RecordedRequest, asm, auth, inspect, messaging, registration, soap, web_login};

/// Bodies larger than this are refused (the fake never needs more).
const MAX_BODY: usize = 32 * 1024 * 1024;

/// Which of the two listeners a request arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Host {
    /// Login hosts, API, ASM and the default messaging host.
    Primary,
    /// The messaging host registration redirects to.
    Home,
}

impl Host {
    /// The name used in [`RecordedRequest::host`].
    pub fn name(self) -> &'static str {
        match self {
            Host::Primary => "primary",
            Host::Home => "home",
        }
    }
}

#[derive(Clone)]
struct Ctx {
    state: Shared,
    host: Host,
}

/// Serve `listener` as `host` in the background until the runtime stops.
pub(crate) fn spawn(listener: TcpListener, host: Host, state: Shared) {
    let router = Router::new()
        .fallback(handle)
        .with_state(Ctx { state, host });
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
}

async fn handle(AxumState(ctx): AxumState<Ctx>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let (body, body_ok) = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => (bytes.to_vec(), true),
        Err(_) => (Vec::new(), false),
    };
    // The fake's own service time starts once the whole request is here.
    let received = std::time::Instant::now();
    let req = Req {
        method: parts.method.as_str().to_string(),
        host: ctx.host,
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
    let route = routes::route(ctx.host, &req.method, &req.path);
    let op = match &route {
        Route::Op(op, _) => Some(*op),
        _ => None,
    };
    let index = state::lock(&ctx.state).record(RecordedRequest {
        op,
        method: req.method.clone(),
        host: ctx.host.name().to_string(),
        path: req.path.clone(),
        query: req.query.clone(),
        headers: req.headers.clone(),
        body: req.body.clone(),
        status: 0,
        received_at: received,
        service_time: None,
    });
    let latency = state::lock(&ctx.state).latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (resp, delivery) = if body_ok {
        dispatch(&ctx, route, &req).await
    } else {
        (
            msg_error(413, 413, "request body could not be read or is too large"),
            Delivery::Now,
        )
    };
    let (hook, events) = {
        let mut state = state::lock(&ctx.state);
        if let Some(recorded) = state.requests.get_mut(index) {
            recorded.status = match delivery {
                Delivery::Never => 0,
                _ => resp.status,
            };
        }
        state.take_events()
    };
    if let Some(hook) = hook {
        for event in &events {
            hook(event);
        }
    }
    match delivery {
        Delivery::Now => {}
        Delivery::Late(delay) => tokio::time::sleep(delay).await,
        Delivery::Never => {
            // Unwinding ends this connection's task, so hyper closes the
            // socket without a response; `resume_unwind` skips the panic
            // hook, so nothing is printed. No lock is held here.
            std::panic::resume_unwind(Box::new("fake: connection dropped on purpose"));
        }
    }
    let response = into_response(resp);
    if let Some(recorded) = state::lock(&ctx.state).requests.get_mut(index) {
        recorded.service_time = Some(received.elapsed());
    }
    response
}

/// When the answer leaves, once the request was handled.
enum Delivery {
    Now,
    Late(std::time::Duration),
    Never,
}

async fn dispatch(ctx: &Ctx, route: Route, req: &Req) -> (Resp, Delivery) {
    let (op, target) = match route {
        Route::NotFound => {
            let what = format!(
                "no such resource: {} {} on the {} host",
                req.method,
                req.path,
                req.host.name()
            );
            return (msg_error(404, 404, &what), Delivery::Now);
        }
        Route::MethodNotAllowed => {
            let what = format!("method {} not allowed on {}", req.method, req.path);
            return (msg_error(405, 405, &what), Delivery::Now);
        }
        Route::Inspect(page) => {
            return (
                inspect::answer(&state::lock(&ctx.state), &page),
                Delivery::Now,
            );
        }
        Route::Op(op, target) => (op, target),
    };
    if req
        .header("user-agent")
        .is_none_or(|ua| ua.trim().is_empty())
    {
        return (
            msg_error(400, 400, "a User-Agent header is required"),
            Delivery::Now,
        );
    }
    let fault = state::lock(&ctx.state).take_fault(op);
    let mut delivery = Delivery::Now;
    let page_fault = match fault.map(|f| faults::action(op, f)) {
        None => None,
        Some(FaultAction::Answer(resp)) => return (resp, Delivery::Now),
        Some(FaultAction::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            None
        }
        Some(FaultAction::Page(page)) => Some(page),
        Some(FaultAction::Late(delay)) => {
            delivery = Delivery::Late(delay);
            None
        }
        Some(FaultAction::Drop) => {
            delivery = Delivery::Never;
            None
        }
    };
    let mut state = state::lock(&ctx.state);
    (
        handle_op(&mut state, op, &target, req, page_fault),
        delivery,
    )
}

fn handle_op(
    state: &mut State,
    op: Op,
    target: &Target,
    req: &Req,
    page_fault: Option<faults::PageFault>,
) -> Resp {
    match op {
        Op::Soap => soap::request_security_token(state, req, page_fault),
        Op::EdgeToken => auth::edge_token(state, req),
        Op::WebStart => web_login::start(state, req),
        Op::WebPost => web_login::post(state, req, page_fault),
        Op::WebToken => web_login::skype_token(state, req),
        Op::Profile => auth::profile(state, req),
        Op::Register => registration::register(state, req),
        Op::PresenceDoc => registration::presence(state, req, target),
        Op::Send => messaging::send(state, req, target),
        Op::ListMessages => messaging::list(state, req, target),
        Op::Edit => messaging::edit(state, req, target),
        Op::Delete => messaging::delete(state, req, target),
        Op::AsmCreate => asm::create(state, req),
        Op::AsmUpload => asm::upload(state, req, target),
    }
}

fn into_response(resp: Resp) -> Response {
    let body = match resp.filler {
        Some(bytes) => filler_body(bytes),
        None => Body::from(resp.body),
    };
    let mut response = Response::new(body);
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

/// `bytes` spaces, streamed in 64 KiB chunks of one static buffer.
fn filler_body(bytes: usize) -> Body {
    static CHUNK: [u8; 64 * 1024] = [b' '; 64 * 1024];
    let chunks = futures_util::stream::unfold(bytes, |left| async move {
        if left == 0 {
            return None;
        }
        let size = left.min(CHUNK.len());
        let chunk = axum::body::Bytes::from_static(&CHUNK[..size]);
        Some((Ok::<_, std::io::Error>(chunk), left - size))
    });
    Body::from_stream(chunks)
}
