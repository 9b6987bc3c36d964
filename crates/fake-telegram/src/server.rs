//! The HTTP side: splits `/bot{token}/{method}`, answers injected faults in
//! the Bot API's shape, checks the token and hands the parameters to the
//! method. The shared loop (`fake_http::serve`) reads, records and answers
//! each request.

use std::sync::Mutex;

use fake_http::{Effect, Log, Service, injected_status, lock};

use super::params::{Params, canonical_method, token_bot_id};
use super::state::State;
use super::wire::{Req, Resp, error, status_description, too_many_requests};
use super::{Fault, MAX_UPLOAD_BYTES, methods};

/// Bodies larger than this are refused before anything else, as the
/// service's front end does: the upload limit plus room for the rest of a
/// multipart body.
const MAX_BODY: usize = MAX_UPLOAD_BYTES + 1024 * 1024;

/// `/bot{token}/{method}` split, both raw; `None` for any other path.
fn split_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/bot")?;
    let (token, method) = rest.split_once('/')?;
    (!method.is_empty() && !method.contains('/')).then_some((token, method))
}

/// The Bot API as the shared server loop drives it.
pub(crate) struct Telegram;

impl Service for Telegram {
    type State = State;
    /// `(token, method)` as the path spelled them; `None` for other paths.
    type Route = Option<(String, String)>;
    type Op = String;

    const MAX_BODY: usize = MAX_BODY;
    // A request whose client gave up (a timeout during a `Slow` fault) is
    // still carried out, as on a real server: the uncertain outcome an
    // adapter must live with.
    const DETACHED: bool = true;

    fn log(state: &mut State) -> &mut Log<String> {
        &mut state.requests
    }

    fn route(&self, req: &Req) -> Self::Route {
        split_path(&req.path).map(|(token, method)| (token.to_string(), method.to_string()))
    }

    fn op(route: &Self::Route) -> Option<String> {
        route.as_ref().map(|(_, method)| method.clone())
    }

    fn too_large(&self) -> Resp {
        error(413, "Request Entity Too Large")
    }

    fn crashed(&self) -> Resp {
        error(500, "Internal Server Error")
    }

    fn before(&self, state: &mut State, route: &Self::Route, _req: &Req) -> Option<Effect> {
        let Some((_, name)) = route else {
            return Some(Effect::Answer(error(404, "Not Found")));
        };
        // Unknown methods draw no fault: they meet the token check first.
        let method = canonical_method(name)?;
        Some(match state.faults.take(method)? {
            Fault::Slow(delay) => Effect::Slow(delay),
            Fault::DropConnection => Effect::DropConnection,
            Fault::DropAfterHandling => Effect::DropAfterHandling,
            Fault::RateLimited { retry_after_secs } => {
                Effect::Answer(too_many_requests(retry_after_secs))
            }
            Fault::Status(status) => Effect::Answer(match injected_status(status) {
                429 => too_many_requests(1),
                status => error(status, status_description(status)),
            }),
        })
    }

    async fn handle(&self, state: &Mutex<State>, route: Self::Route, req: &Req) -> Resp {
        let Some((token, name)) = route else {
            return error(404, "Not Found");
        };
        // The token before the method: an unknown method with a bad token is
        // still 401, as on the service.
        if token.len() > 80 || token_bot_id(&token).is_none() {
            return error(401, "Unauthorized: invalid token specified");
        }
        let bot_id = match lock(state).bot_by_token(&token) {
            Some(bot) => bot.id,
            None => return error(401, "Unauthorized"),
        };
        let Some(method) = canonical_method(&name) else {
            return error(404, "Not Found");
        };
        let mut params = match Params::parse(req).await {
            Ok(params) => params,
            Err(resp) => return resp,
        };
        methods::call(&mut lock(state), method, bot_id, &mut params)
    }
}
