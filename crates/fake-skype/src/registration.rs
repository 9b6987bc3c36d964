//! Registration tokens: `POST {msgs}/users/ME/endpoints` (LockAndKey, the
//! redirect-as-404 host switch), the presence docs SkPy sets up afterwards,
//! and the `RegistrationToken` check every messaging operation shares.

use serde_json::{Value, json};

use super::auth::{self, Carrier};
use super::faults::endpoint_missing;
use super::lock_and_key::{self, LockAndKeyError};
use super::routes::Target;
use super::server::Host;
use super::state::{Registration, State, now_secs};
use super::wire::{Req, Resp, bad_request, exact_fields, msg_error, percent_decode};

/// The endpoint presence doc SkPy PUTs, compared as a JSON value.
fn expected_presence_doc() -> Value {
    json!({
        "id": "messagingService",
        "type": "EndpointPresenceDoc",
        "selfLink": "uri",
        "privateInfo": {"epname": "skype"},
        "publicInfo": {
            "capabilities": "",
            "type": 1,
            "skypeNameVersion": "skype.com",
            "nodeInfo": "xx",
            "version": "908/1.30.0.128"
        }
    })
}

/// `POST {msgs}/users/ME/endpoints`.
pub(crate) fn register(state: &mut State, req: &Req) -> Resp {
    let account = match auth::account_for(state, req, Carrier::Authentication) {
        Ok(account) => account,
        Err(resp) => return resp,
    };
    match req.header("LockAndKey").map(lock_and_key::verify_header) {
        None => return bad_request("a LockAndKey header is required"),
        Some(Err(LockAndKeyError::Malformed(why))) => {
            return bad_request(&format!("malformed LockAndKey header: {why}"));
        }
        Some(Err(LockAndKeyError::WrongMac { time })) => {
            return msg_error(
                401,
                401,
                &format!(
                    "LockAndKey verification failed: lockAndKeyResponse is not the MAC of time={time}"
                ),
            );
        }
        Some(Ok(_)) => {}
    }
    if req.header("BehaviorOverride") != Some("redirectAs404") {
        return bad_request("BehaviorOverride: redirectAs404 is required");
    }
    if let Err(why) = req.require_media_type("application/json") {
        return bad_request(&why);
    }
    match req.json() {
        Ok(body) if body == json!({"endpointFeatures": "Agent"}) => {}
        Ok(body) => {
            return bad_request(&format!(
                "body must be {{\"endpointFeatures\": \"Agent\"}}, got {body}"
            ));
        }
        Err(why) => return bad_request(&why),
    }
    if req.host == Host::Primary && state.redirect {
        let home = state.origin(Host::Home);
        return Resp::empty(404).header("Location", format!("{home}/v1/users/ME/endpoints"));
    }
    let (token, registration) = state.issue_registration(account, req.host);
    let origin = state.origin(req.host);
    let guid = registration
        .endpoint
        .trim_start_matches('{')
        .trim_end_matches('}');
    let location = format!("{origin}/v1/users/ME/endpoints/%7B{guid}%7D");
    let body = json!([{
        "id": registration.endpoint,
        "type": "EndpointPresenceDoc",
        "selfLink": location,
        "isActive": true,
        "productContext": "",
        "subscriptions": [],
    }]);
    Resp::json(200, &body).header("Location", location).header(
        "Set-RegistrationToken",
        format!(
            "registrationToken={token}; expires={}; endpointId={}",
            registration.expires_at, registration.endpoint
        ),
    )
}

/// The endpoint presence doc `PUT`, or the user presence doc `GET`.
pub(crate) fn presence(state: &mut State, req: &Req, target: &Target) -> Resp {
    let registration = match registration_for(state, req) {
        Ok(registration) => registration,
        Err(resp) => return resp,
    };
    let origin = state.origin(req.host);
    let Target::Endpoint(raw) = target else {
        return user_presence(req, &origin);
    };
    if percent_decode(raw).as_deref() != Some(registration.endpoint.as_str()) {
        return endpoint_missing();
    }
    if let Err(why) = req.require_media_type("application/json") {
        return bad_request(&why);
    }
    match req.json() {
        Ok(doc) if doc == expected_presence_doc() => {}
        Ok(doc) => {
            return bad_request(&format!(
                "presence doc must be {}, got {doc}",
                expected_presence_doc()
            ));
        }
        Err(why) => return bad_request(&why),
    }
    let mut doc = expected_presence_doc();
    doc["selfLink"] = json!(format!(
        "{origin}/v1/users/ME/endpoints/{raw}/presenceDocs/messagingService"
    ));
    Resp::json(200, &doc)
}

fn user_presence(req: &Req, origin: &str) -> Resp {
    let view = req
        .query_pairs()
        .and_then(|pairs| exact_fields(&pairs, &["view"]).map(|f| f["view"] == "expanded"));
    if view != Ok(true) {
        return bad_request("query must be view=expanded");
    }
    Resp::json(
        200,
        &json!({
            "id": "messagingService",
            "type": "UserPresenceDoc",
            "selfLink": format!("{origin}/v1/users/ME/presenceDocs/messagingService"),
            "availability": "Online",
            "status": "Online",
            "capabilities": "",
            "lastSeenAt": super::wire::iso8601(now_secs()),
            "endpointPresenceDocLinks": [],
        }),
    )
}

/// The registration a messaging request's `RegistrationToken` header names.
///
/// Missing, unprefixed or unknown → 401; expired, or issued by the other
/// host → 404 + 729, as the real service answered a stale endpoint.
pub(crate) fn registration_for(state: &State, req: &Req) -> Result<Registration, Resp> {
    let unauthorized = |why: &str| msg_error(401, 401, &format!("Authentication failed. {why}"));
    let Some(value) = req.header("RegistrationToken") else {
        return Err(unauthorized("A RegistrationToken header is required."));
    };
    let Some(rest) = value.strip_prefix("registrationToken=") else {
        return Err(unauthorized(
            "RegistrationToken must be registrationToken=<token>, with its prefix.",
        ));
    };
    let token = rest.split(';').next().unwrap_or("").trim();
    let Some(registration) = state.registration_tokens.get(token) else {
        return Err(unauthorized("Unknown registration token."));
    };
    if registration.host != req.host || now_secs() >= registration.expires_at {
        return Err(endpoint_missing());
    }
    Ok(registration.clone())
}
