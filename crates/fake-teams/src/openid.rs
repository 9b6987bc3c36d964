//! The Bot Framework's OpenID metadata document and its key set, as a bot
//! fetches them to check inbound tokens.
//!
//! The document names the issuer and where the keys are; the key set lists
//! the published RSA keys with the channels each endorses. Fetches are
//! recorded like every request, so a test can prove the bot caches the keys
//! and refetches on an unknown `kid` at a bounded rate.

use serde_json::{Value, json};

use super::BOT_FRAMEWORK_ISSUER;
use super::state::State;
use super::wire::Resp;

/// The metadata document's path on the fake's port.
pub(crate) const METADATA_PATH: &str = "/openid/v1/.well-known/openidconfiguration";
/// The key set's path (what `jwks_uri` names).
pub(crate) const JWKS_PATH: &str = "/openid/v1/keys";

/// `GET` the metadata document.
pub(crate) fn metadata(state: &State) -> Resp {
    let base = format!("http://127.0.0.1:{}", state.port);
    Resp::json_utf8(
        200,
        &json!({
            "issuer": BOT_FRAMEWORK_ISSUER,
            "authorization_endpoint": "https://invalid.botframework.com",
            "jwks_uri": format!("{base}{JWKS_PATH}"),
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        }),
    )
}

/// `GET` the key set: the published keys, in order.
pub(crate) fn jwks(state: &State) -> Resp {
    let keys: Vec<Value> = state
        .published
        .iter()
        .filter_map(|kid| state.key(kid))
        .map(|key| key.jwk())
        .collect();
    Resp::json_utf8(200, &json!({"keys": keys}))
}
