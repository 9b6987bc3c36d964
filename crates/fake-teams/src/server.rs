//! The HTTP side: routes each request by prefix to one of the three
//! services, answers injected faults in the service's shape and hands the
//! request to the operation's handler. The shared loop (`fake_http::serve`)
//! reads, records and answers it.

use std::sync::Mutex;

use fake_http::{Effect, Log, Service, injected_status, lock};

use super::state::State;
use super::wire::{Req, Resp, connector_error, framework_message};
use super::{Fault, Op, connector, entra, openid};

/// Bodies larger than this are refused before anything else (far above the
/// Connector's own message limit, so that one is what a test meets).
const MAX_BODY: usize = 8 * 1024 * 1024;

/// The path parameters an operation needs (raw, still percent-encoded).
pub(crate) enum Target {
    None,
    Tenant(String),
    Conversation(String),
    Activity {
        conversation: String,
        activity: String,
    },
}

/// The outcome of routing one request.
pub(crate) enum Route {
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

/// The Teams services as the shared server loop drives them.
pub(crate) struct Teams;

impl Service for Teams {
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
        connector_error(413, "MessageSizeTooBig", "Message size too large.")
    }

    fn before(&self, state: &mut State, route: &Route, req: &Req) -> Option<Effect> {
        let op = match route {
            Route::NotFound => {
                let message = format!(
                    "No HTTP resource was found that matches the request URI '{}'.",
                    req.path
                );
                return Some(Effect::Answer(framework_message(404, &message)));
            }
            Route::MethodNotAllowed => {
                let message = format!(
                    "The requested resource does not support http method '{}'.",
                    req.method
                );
                return Some(Effect::Answer(framework_message(405, &message)));
            }
            Route::Op(op, _) => *op,
        };
        Some(match state.faults.take(&op)? {
            Fault::Slow(delay) => Effect::Slow(delay),
            Fault::DropConnection => Effect::DropConnection,
            Fault::DropAfterHandling => Effect::DropAfterHandling,
            Fault::TooManyRequests { retry_after_secs } => Effect::Answer(
                fault_answer(state, op, 429).header("Retry-After", retry_after_secs.to_string()),
            ),
            Fault::Status(status) => {
                Effect::Answer(fault_answer(state, op, injected_status(status)))
            }
        })
    }

    async fn handle(&self, state: &Mutex<State>, route: Route, req: &Req) -> Resp {
        match route {
            Route::Op(op, target) => handle_op(&mut lock(state), op, &target, req),
            // Refused in `before`.
            _ => framework_message(500, "fake-teams: refused route handled"),
        }
    }
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
