//! Which operation a method + path is, per host.
//!
//! The real service spread these over separate hosts; the fake gives each
//! login role its own path prefix on the primary port, and the home host
//! serves messaging only, so a request sent to the wrong base is a 404.

use super::Op;
use super::server::Host;

/// Path prefix of the Microsoft account host (`{live}`).
pub(crate) const LIVE_PREFIX: &str = "/live";
/// Path prefix of the Skype login host (`{login}`).
pub(crate) const LOGIN_PREFIX: &str = "/skype-login";
/// Path prefix of the edge host (`{edge}`).
pub(crate) const EDGE_PREFIX: &str = "/edge";
/// Path prefix of the Skype API host (`{api}`).
pub(crate) const API_PREFIX: &str = "/api";
/// Path prefix of the ASM host (`{asm}` is this + `/v1/objects`).
pub(crate) const ASM_PREFIX: &str = "/asm";

/// The path parameters an operation needs (raw, still percent-encoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    None,
    /// `%7B<guid>%7D` of a presence doc path.
    Endpoint(String),
    /// A conversation id (send, list).
    Conversation(String),
    /// A conversation id and a message id (edit, delete).
    Message {
        conversation: String,
        id: String,
    },
    /// An ASM object id, and the content view for uploads.
    Object {
        id: String,
        view: String,
    },
}

/// The emulator's read-only inspection pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Inspect {
    Conversations,
    Messages(String),
}

/// The outcome of routing one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Op(Op, Target),
    Inspect(Inspect),
    MethodNotAllowed,
    NotFound,
}

/// Route a request by host, method and raw path.
pub(crate) fn route(host: Host, method: &str, path: &str) -> Route {
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    if let Some(inspect) = inspect_route(host, &segments) {
        return if method == "GET" {
            Route::Inspect(inspect)
        } else {
            Route::MethodNotAllowed
        };
    }
    let Some((methods, target)) = candidates(host, &segments) else {
        return Route::NotFound;
    };
    match methods.iter().find(|(m, _)| *m == method) {
        Some((_, op)) => Route::Op(*op, target),
        None => Route::MethodNotAllowed,
    }
}

type Candidates = (&'static [(&'static str, Op)], Target);

/// The operations a path can be, by method.
fn candidates(host: Host, segments: &[&str]) -> Option<Candidates> {
    if let ["v1", "users", "ME", rest @ ..] = segments {
        return messaging(rest);
    }
    if host != Host::Primary {
        return None;
    }
    let prefix = format!("/{}", segments.first()?);
    let rest = &segments[1..];
    let found: Candidates = match (prefix.as_str(), rest) {
        (LIVE_PREFIX, ["RST.srf"]) => (&[("POST", Op::Soap)], Target::None),
        (LIVE_PREFIX, ["ppsecure", "post.srf"]) => (&[("POST", Op::WebPost)], Target::None),
        (LOGIN_PREFIX, ["login", "oauth", "microsoft"]) => (&[("GET", Op::WebStart)], Target::None),
        (LOGIN_PREFIX, ["login", "microsoft"]) => (&[("POST", Op::WebToken)], Target::None),
        (EDGE_PREFIX, ["rps", "v1", "rps", "skypetoken"]) => {
            (&[("POST", Op::EdgeToken)], Target::None)
        }
        (API_PREFIX, ["users", "self", "profile"]) => (&[("GET", Op::Profile)], Target::None),
        (ASM_PREFIX, ["v1", "objects"]) => (&[("POST", Op::AsmCreate)], Target::None),
        (ASM_PREFIX, ["v1", "objects", id, "content", view]) => (
            &[("PUT", Op::AsmUpload)],
            Target::Object {
                id: id.to_string(),
                view: view.to_string(),
            },
        ),
        _ => return None,
    };
    Some(found)
}

/// Messaging paths under `/v1/users/ME/`, served by both hosts.
fn messaging(rest: &[&str]) -> Option<Candidates> {
    let found: Candidates = match rest {
        ["endpoints"] => (&[("POST", Op::Register)], Target::None),
        ["endpoints", endpoint, "presenceDocs", "messagingService"] => (
            &[("PUT", Op::PresenceDoc)],
            Target::Endpoint(endpoint.to_string()),
        ),
        ["presenceDocs", "messagingService"] => (&[("GET", Op::PresenceDoc)], Target::None),
        ["conversations", conversation @ .., "messages"] if !conversation.is_empty() => (
            &[("POST", Op::Send), ("GET", Op::ListMessages)],
            Target::Conversation(conversation.join("/")),
        ),
        ["conversations", conversation @ .., "messages", id] if !conversation.is_empty() => (
            &[("PUT", Op::Edit), ("DELETE", Op::Delete)],
            Target::Message {
                conversation: conversation.join("/"),
                id: id.to_string(),
            },
        ),
        _ => return None,
    };
    Some(found)
}

/// `/_emulator/...` pages (primary host only).
fn inspect_route(host: Host, segments: &[&str]) -> Option<Inspect> {
    if host != Host::Primary {
        return None;
    }
    match segments {
        ["_emulator", "conversations"] => Some(Inspect::Conversations),
        ["_emulator", "conversations", conversation @ .., "messages"]
            if !conversation.is_empty() =>
        {
            Some(Inspect::Messages(conversation.join("/")))
        }
        _ => None,
    }
}
