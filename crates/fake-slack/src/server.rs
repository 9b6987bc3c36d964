//! The HTTP side: routes each request (`/api/{method}` or an upload URL),
//! answers injected faults in Slack's shapes, reads the parameters,
//! authenticates the token and hands the call to the method's handler. The
//! shared loop (`fake_http::serve`) reads, records and answers it.

use std::sync::Mutex;

use fake_http::{Effect, Log, Service, injected_status, lock};

use super::state::{Bot, State};
use super::wire::{Outcome, Params, Refusal, Req, Resp, answer, error_status, read_params};
use super::{Fault, METHODS, UPLOAD, chat, files, wire};

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

/// The outcome of routing one request.
pub(crate) enum Route {
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

/// The Web API as the shared server loop drives it.
pub(crate) struct Slack;

impl Service for Slack {
    type State = State;
    type Route = Route;
    type Op = String;

    const MAX_BODY: usize = MAX_BODY;

    fn log(state: &mut State) -> &mut Log<String> {
        &mut state.requests
    }

    fn route(&self, req: &Req) -> Route {
        route(&req.path)
    }

    fn op(route: &Route) -> Option<String> {
        route.name()
    }

    fn too_large(&self) -> Resp {
        error_status(413, "request_too_large")
    }

    fn before(&self, state: &mut State, route: &Route, req: &Req) -> Option<Effect> {
        let upload = matches!(route, Route::Upload(_));
        let name = match route {
            Route::NotFound => {
                let resp = Resp::text(404, "text/plain; charset=utf-8", "Not Found");
                return Some(Effect::Answer(resp));
            }
            Route::UnknownMethod(_) => {
                return Some(Effect::Answer(error_status(404, "unknown_method")));
            }
            Route::Method(name) => name.as_str(),
            Route::Upload(_) => UPLOAD,
        };
        let allowed = if upload {
            req.method == "POST"
        } else {
            req.method == "POST" || req.method == "GET"
        };
        if !allowed {
            let resp = error_status(405, "method_not_allowed").header("Allow", "GET, POST");
            return Some(Effect::Answer(resp));
        }
        Some(match state.faults.take(name)? {
            Fault::Slow(delay) => Effect::Slow(delay),
            Fault::DropConnection => Effect::DropConnection,
            Fault::DropAfterHandling => Effect::DropAfterHandling,
            Fault::RateLimited { retry_after_secs } => Effect::Answer(
                error_status(429, "ratelimited")
                    .header("Retry-After", retry_after_secs.to_string()),
            ),
            Fault::Status(status) => {
                let status = injected_status(status);
                let page =
                    format!("<html><body><h1>{status}</h1><p>Injected failure.</p></body></html>");
                Effect::Answer(Resp::text(status, "text/html; charset=utf-8", &page))
            }
            Fault::Error(code) => Effect::Answer(if upload {
                Resp::text(400, "text/plain; charset=utf-8", code)
            } else {
                answer(Err(Refusal::new(code)), &[])
            }),
        })
    }

    async fn handle(&self, state: &Mutex<State>, route: Route, req: &Req) -> Resp {
        match route {
            Route::Upload(ticket) => upload_bytes(state, req, &ticket).await,
            Route::Method(name) => call(state, &name, req).await,
            // Refused in `before`.
            Route::UnknownMethod(_) | Route::NotFound => error_status(404, "unknown_method"),
        }
    }
}

/// An upload URL's POST: the raw body, or the `file` part of a multipart
/// body.
async fn upload_bytes(state: &Mutex<State>, req: &Req, ticket: &str) -> Resp {
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
    files::upload(&mut lock(state), ticket, bytes)
}

/// An API call: parameters, token, then the method.
async fn call(state: &Mutex<State>, name: &str, req: &Req) -> Resp {
    let params = match read_params(req, JSON_METHODS.contains(&name)).await {
        Ok(params) => params,
        Err(refusal) => return answer(Err(refusal), &[]),
    };
    let mut state = lock(state);
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
