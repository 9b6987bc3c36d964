//! What an injected [`Fault`] does to the request it hits.
//!
//! Service-side conditions (rate limits, expired or stale tokens, 5xx) answer
//! at once, before any validation, as the real front ends did. Login-page
//! outcomes (walls, second factor, opid) only make sense after the password
//! was checked, so they are handed to the login handlers instead.

use std::time::Duration;

use super::state::now_secs;
use super::wire::{Resp, iso8601, msg_error, status_error};
use super::{Fault, Op};

/// A login-page outcome, applied by the SOAP and `post.srf` handlers once
/// the credentials were accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PageFault {
    LoginWall,
    TwoFactor,
    NeedsOpid,
    NoTField,
}

/// How the server must treat a request that drew a fault.
pub(crate) enum FaultAction {
    /// Answer this instead of handling the request.
    Answer(Resp),
    /// Wait, then handle the request normally.
    Delay(Duration),
    /// Handle the request, with this login-page outcome.
    Page(PageFault),
    /// Handle the request normally, then answer after this long.
    Late(Duration),
    /// Handle the request normally, then close the connection unanswered.
    Drop,
}

/// The 40160 body of an expired skype token.
pub(crate) fn skype_token_expired(expired_at: u64) -> Resp {
    status_error(
        401,
        40160,
        &format!("Skypetoken has expired at {}", iso8601(expired_at)),
    )
}

/// The 729 body of a stale or unknown endpoint.
pub(crate) fn endpoint_missing() -> Resp {
    msg_error(
        404,
        729,
        "You must create an endpoint before performing this operation.",
    )
}

/// Decide what `fault` does to a request of `op`.
pub(crate) fn action(op: Op, fault: Fault) -> FaultAction {
    let page = |page: PageFault, allowed: &[Op]| {
        if allowed.contains(&op) {
            FaultAction::Page(page)
        } else {
            FaultAction::Answer(msg_error(
                500,
                500,
                &format!("test setup error: fault {fault:?} cannot apply to {op:?}"),
            ))
        }
    };
    match fault {
        Fault::LoginWall => page(PageFault::LoginWall, &[Op::Soap, Op::WebPost]),
        Fault::TwoFactor => page(PageFault::TwoFactor, &[Op::Soap, Op::WebPost]),
        Fault::NeedsOpid => page(PageFault::NeedsOpid, &[Op::WebPost]),
        Fault::NoTField => page(PageFault::NoTField, &[Op::Soap, Op::WebPost]),
        Fault::Slow(delay) => FaultAction::Delay(delay),
        Fault::AnswerLate(delay) => FaultAction::Late(delay),
        Fault::DropAfterHandling => FaultAction::Drop,
        Fault::Redirect { status, location } => FaultAction::Answer(
            Resp::html(
                status,
                format!("<html><body>Moved to {location}</body></html>"),
            )
            .header("Location", location),
        ),
        Fault::HugeBody { status, bytes } => FaultAction::Answer(
            Resp::empty(status)
                .header("Content-Type", "application/json; charset=utf-8")
                .filler(bytes),
        ),
        Fault::LoginRateLimit => FaultAction::Answer(
            msg_error(429, 803, "Login Rate limit exceeded").header("Retry-After", "300"),
        ),
        Fault::SkypeTokenExpired => FaultAction::Answer(skype_token_expired(now_secs())),
        Fault::Unauthorized => FaultAction::Answer(msg_error(
            401,
            401,
            "Authentication failed. The registration token is no longer valid.",
        )),
        Fault::EndpointMissing => FaultAction::Answer(endpoint_missing()),
        Fault::TokenMismatch => FaultAction::Answer(msg_error(
            403,
            403,
            "The content in the registration token does not match the content in the authentication ticket",
        )),
        Fault::RateLimited { retry_after } => {
            let resp = msg_error(429, 800, "Command Rate limit exceeded Throttling command");
            FaultAction::Answer(match retry_after {
                Some(secs) => resp.header("Retry-After", secs.to_string()),
                None => resp,
            })
        }
        Fault::Status(code) => {
            let code = if (100..=999).contains(&code) {
                code
            } else {
                500
            };
            FaultAction::Answer(msg_error(
                code,
                u32::from(code),
                &format!("Injected failure: HTTP {code}"),
            ))
        }
    }
}
