//! Skype tokens: the edge exchange that issues them after a SOAP login, the
//! three header styles that carry them, and the profile they unlock.

use serde_json::json;

use super::faults::skype_token_expired;
use super::state::{State, now_secs};
use super::wire::{Req, Resp, exact_fields, status_error};

/// The header shapes a skype token travels in, one per host family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Carrier {
    /// `X-SkypeToken: <token>` (API host).
    XSkypeToken,
    /// `Authentication: skypetoken=<token>` (registration).
    Authentication,
    /// `Authorization: skype_token <token>` (ASM).
    Authorization,
}

impl Carrier {
    fn header(self) -> &'static str {
        match self {
            Carrier::XSkypeToken => "X-SkypeToken",
            Carrier::Authentication => "Authentication",
            Carrier::Authorization => "Authorization",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Carrier::XSkypeToken => "",
            Carrier::Authentication => "skypetoken=",
            Carrier::Authorization => "skype_token ",
        }
    }
}

/// The account whose valid skype token the request carries, or the 401 the
/// real service answered (40160 when it has expired).
pub(crate) fn account_for(state: &State, req: &Req, carrier: Carrier) -> Result<usize, Resp> {
    let expected = format!("{}: {}<skypetoken>", carrier.header(), carrier.prefix());
    let Some(value) = req.header(carrier.header()) else {
        return Err(unauthorized(&format!(
            "No skypetoken sent; expected {expected}"
        )));
    };
    let Some(token) = value.strip_prefix(carrier.prefix()) else {
        return Err(unauthorized(&format!(
            "Malformed header; expected {expected}"
        )));
    };
    let Some(record) = state.skype_tokens.get(token) else {
        return Err(unauthorized("Invalid skypetoken"));
    };
    if now_secs() >= record.expires_at {
        return Err(skype_token_expired(record.expires_at));
    }
    Ok(record.account)
}

fn unauthorized(why: &str) -> Resp {
    status_error(401, 40100, &format!("Authentication failed. {why}"))
}

/// `POST {edge}/rps/v1/rps/skypetoken`: a SOAP security token for a
/// skypetoken. Form-encoded only, as SkPy sent it.
pub(crate) fn edge_token(state: &mut State, req: &Req) -> Resp {
    if let Err(why) = req.require_media_type("application/x-www-form-urlencoded") {
        return status_error(415, 41500, &why);
    }
    let pairs = match req.form() {
        Ok(pairs) => pairs,
        Err(why) => return status_error(400, 40000, &why),
    };
    let fields = match exact_fields(&pairs, &["partner", "access_token", "scopes"]) {
        Ok(fields) => fields,
        Err(why) => return status_error(400, 40000, &why),
    };
    if fields["partner"] != "999" {
        return status_error(400, 40000, "partner must be 999");
    }
    if fields["scopes"] != "client" {
        return status_error(400, 40000, "scopes must be client");
    }
    // Single use: a replayed security token is as bad as a forged one.
    let Some(account) = state.security_tokens.remove(fields["access_token"]) else {
        // SkPy reads this body on a 200; the real service answered so.
        return status_error(
            200,
            40120,
            "Authentication failed. Bad username or password.",
        );
    };
    let token = state.issue_skype_token(account);
    let a = &state.accounts[account];
    Resp::json(
        200,
        &json!({
            "skypetoken": token,
            "expiresIn": state.skype_lifetime,
            "skypeid": a.user_id,
            "signinname": a.email.clone().unwrap_or_else(|| a.skype_name.clone()),
            "anid": format!("a-{}", hex::encode(a.user_id.as_bytes())),
        }),
    )
}

/// `GET {api}/users/self/profile` with `X-SkypeToken`.
pub(crate) fn profile(state: &mut State, req: &Req) -> Resp {
    let account = match account_for(state, req, Carrier::XSkypeToken) {
        Ok(account) => account,
        Err(resp) => return resp,
    };
    let a = &state.accounts[account];
    Resp::json(
        200,
        &json!({
            "about": null,
            "avatarUrl": null,
            "birthday": null,
            "city": null,
            "country": "us",
            "emails": a.email.iter().collect::<Vec<_>>(),
            "firstname": a.first_name,
            "gender": null,
            "homepage": null,
            "jobtitle": null,
            "language": "en",
            "lastname": a.last_name,
            "mood": null,
            "phoneHome": null,
            "phoneMobile": null,
            "phoneOffice": null,
            "province": null,
            "richMood": null,
            "username": a.user_id,
        }),
    )
}
