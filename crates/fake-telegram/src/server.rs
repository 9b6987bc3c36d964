//! The HTTP side: one catch-all axum handler that reads the whole request,
//! records it, splits `/bot{token}/{method}`, applies any injected fault,
//! checks the token and hands the parameters to the method.
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

use super::params::{Params, canonical_method, token_bot_id};
use super::state::{self, State};
use super::wire::{Req, Resp, error, status_description, too_many_requests};
use super::{Fault, MAX_UPLOAD_BYTES, RecordedRequest, methods};

/// Bodies larger than this are refused before anything else, as the
/// service's front end does: the upload limit plus room for the rest of a
/// multipart body.
const MAX_BODY: usize = MAX_UPLOAD_BYTES + 1024 * 1024;

type Shared = std::sync::Arc<std::sync::Mutex<State>>;

/// Serve `listener` in the background until the runtime stops.
pub(crate) fn spawn(listener: TcpListener, state: Shared) {
    let router = Router::new().fallback(handle).with_state(state);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
}

/// `/bot{token}/{method}` split, both raw; `None` for any other path.
fn split_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/bot")?;
    let (token, method) = rest.split_once('/')?;
    (!method.is_empty() && !method.contains('/')).then_some((token, method))
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
    let path = parts.uri.path().to_string();
    let req = Req {
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
    let index = state::lock(&state).record(RecordedRequest {
        method: split_path(&path)
            .map(|(_, m)| m.to_string())
            .unwrap_or_default(),
        http_method: parts.method.as_str().to_string(),
        path: path.clone(),
        query: req.query.clone(),
        headers: req.headers.clone(),
        body: req.body.clone(),
        status: 0,
    });
    // Handled in a task of its own, so that a request whose client gave up
    // (a timeout during a `Slow` fault) is still carried out, as on a real
    // server: the uncertain outcome an adapter must live with.
    let task_state = state.clone();
    let task = tokio::spawn(async move {
        let (resp, delivery) = if body_ok {
            dispatch(&task_state, &path, &req).await
        } else {
            (error(413, "Request Entity Too Large"), Delivery::Now)
        };
        if let Delivery::Now = delivery
            && let Some(recorded) = state::lock(&task_state).requests.get_mut(index)
        {
            recorded.status = resp.status;
        }
        (resp, delivery)
    });
    let (resp, delivery) = match task.await {
        Ok(answer) => answer,
        Err(_) => (error(500, "Internal Server Error"), Delivery::Now),
    };
    if let Delivery::Never = delivery {
        // Unwinding ends this connection's task, so hyper closes the socket
        // without a response; `resume_unwind` skips the panic hook, so
        // nothing is printed. No lock is held here.
        std::panic::resume_unwind(Box::new("fake-telegram: connection dropped on purpose"));
    }
    into_response(resp)
}

async fn dispatch(state: &Shared, path: &str, req: &Req) -> (Resp, Delivery) {
    let Some((token, name)) = split_path(path) else {
        return (error(404, "Not Found"), Delivery::Now);
    };
    let method = canonical_method(name);
    let fault = method.and_then(|m| state::lock(state).take_fault(m));
    let mut delivery = Delivery::Now;
    match fault {
        None => {}
        Some(Fault::Slow(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::DropConnection) => return (Resp::empty(0), Delivery::Never),
        Some(Fault::DropAfterHandling) => delivery = Delivery::Never,
        Some(Fault::RateLimited { retry_after_secs }) => {
            return (too_many_requests(retry_after_secs), Delivery::Now);
        }
        Some(Fault::Status(status)) => {
            let status = if (100..=999).contains(&status) {
                status
            } else {
                500
            };
            if status == 429 {
                return (too_many_requests(1), Delivery::Now);
            }
            return (error(status, status_description(status)), Delivery::Now);
        }
    }
    // The token before the method: an unknown method with a bad token is
    // still 401, as on the service.
    if token.len() > 80 || token_bot_id(token).is_none() {
        return (
            error(401, "Unauthorized: invalid token specified"),
            delivery,
        );
    }
    let bot_id = match state::lock(state).bot_by_token(token) {
        Some(bot) => bot.id,
        None => return (error(401, "Unauthorized"), delivery),
    };
    let Some(method) = method else {
        return (error(404, "Not Found"), delivery);
    };
    let mut params = match Params::parse(req).await {
        Ok(params) => params,
        Err(resp) => return (resp, delivery),
    };
    let mut state = state::lock(state);
    (
        methods::call(&mut state, method, bot_id, &mut params),
        delivery,
    )
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
