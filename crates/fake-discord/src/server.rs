//! The HTTP side: routes each request, answers injected faults in Discord's
//! shapes, reads the body (JSON or multipart) and hands it to the
//! operation's handler. The shared loop (`fake_http::serve`) reads, records
//! and answers it.

use std::sync::Mutex;

use fake_http::{Effect, Log, Service, injected_status, lock};

use super::form::{self, Payload};
use super::state::State;
use super::wire::{self, Req, Resp};
use super::{Fault, MAX_FILE_BYTES, MAX_FILES, Op, webhook};

/// Bodies larger than this are refused before anything else (413 `40005`):
/// ten files at the per-file limit, and room for the JSON.
const MAX_BODY: usize = MAX_FILES * MAX_FILE_BYTES + 1024 * 1024;

/// The path parameters an operation needs.
pub(crate) struct Target {
    webhook_id: String,
    token: String,
    message_id: Option<String>,
}

/// The outcome of routing one request.
pub(crate) enum Route {
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

/// The webhook API as the shared server loop drives it.
pub(crate) struct Discord {
    /// `http://127.0.0.1:{port}`, for the webhook URLs it answers.
    pub base_url: String,
}

impl Service for Discord {
    type State = State;
    type Route = Route;
    type Op = Op;

    const MAX_BODY: usize = MAX_BODY;

    fn log(state: &mut State) -> &mut Log<Op> {
        &mut state.requests
    }

    fn route(&self, req: &Req) -> Route {
        route(&req.method, &req.path)
    }

    fn op(route: &Route) -> Option<Op> {
        match route {
            Route::Op(op, _) => Some(*op),
            _ => None,
        }
    }

    fn too_large(&self) -> Resp {
        wire::too_large()
    }

    fn before(&self, state: &mut State, route: &Route, _req: &Req) -> Option<Effect> {
        let (op, target) = match route {
            Route::NotFound => return Some(Effect::Answer(wire::http_error(404))),
            Route::MethodNotAllowed => return Some(Effect::Answer(wire::http_error(405))),
            Route::Unauthorized => return Some(Effect::Answer(wire::http_error(401))),
            Route::Op(op, target) => (*op, target),
        };
        Some(match state.faults.take(&op)? {
            Fault::Slow(delay) => Effect::Slow(delay),
            Fault::DropConnection => Effect::DropConnection,
            Fault::DropAfterHandling => Effect::DropAfterHandling,
            Fault::RateLimited {
                retry_after,
                global,
            } => Effect::Answer(state.injected_rate_limit(&target.webhook_id, retry_after, global)),
            Fault::Status(status) => Effect::Answer(wire::http_error(injected_status(status))),
        })
    }

    async fn handle(&self, state: &Mutex<State>, route: Route, req: &Req) -> Resp {
        match route {
            Route::Op(op, target) => handle_op(state, &self.base_url, op, target, req).await,
            // Refused in `before`.
            _ => wire::http_error(500),
        }
    }
}

async fn handle_op(
    state: &Mutex<State>,
    base_url: &str,
    op: Op,
    target: Target,
    req: &Req,
) -> Resp {
    // The body is read before the lock is taken (multipart reading awaits);
    // its errors are answered only after the webhook and token checks.
    let payload: Option<Result<Payload, Resp>> = match op {
        Op::Execute | Op::Edit => Some(form::parse(req).await),
        _ => None,
    };
    let mut state = lock(state);
    let state = &mut *state;
    let (id, token) = (target.webhook_id.as_str(), target.token.as_str());
    let message_id = target.message_id.as_deref().unwrap_or("");
    match (op, payload) {
        (Op::Execute, Some(payload)) => webhook::execute(state, req, id, token, payload),
        (Op::Edit, Some(payload)) => webhook::edit(state, req, id, token, message_id, payload),
        (Op::Delete, _) => webhook::delete(state, req, id, token, message_id),
        (Op::GetMessage, _) => webhook::get_message(state, req, id, token, message_id),
        (Op::GetWebhook, _) => webhook::get_webhook(state, id, token, base_url),
        _ => wire::http_error(500),
    }
}
