//! The Entra ID token endpoint, client credentials grant only:
//! `POST {login}/{tenant}/oauth2/v2.0/token` with a form body
//! `grant_type=client_credentials&client_id&client_secret&scope`.
//!
//! Refusals carry the endpoint's own shape: `error`, an `error_description`
//! that starts with the `AADSTS` code and ends with trace and correlation
//! ids and a timestamp, `error_codes`, `timestamp`, `trace_id`,
//! `correlation_id` and `error_uri`. The checks run in the order the real
//! endpoint reports them: tenant, required parameters, grant type, app,
//! secret, scope.

use std::collections::HashMap;
use std::sync::OnceLock;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use super::keys::{SigningKey, new_kid};
use super::state::{AccessToken, State};
use super::wire::{Req, Resp, entra_timestamp, guid, now_secs};

/// Where the token endpoint lives on the fake's port (`{login}`).
pub(crate) const PREFIX: &str = "/login";

/// The resource a Connector token is for.
const BOT_FRAMEWORK_RESOURCE: &str = "https://api.botframework.com";
/// Other resources the fake knows: it grants tokens for them, which the
/// Connector then refuses (a token for the wrong audience).
const OTHER_RESOURCES: &[&str] = &["https://graph.microsoft.com"];

/// The key access tokens are signed with: one per process, like the real
/// endpoint's key is shared by every tenant. Nobody but the fake checks
/// these tokens (a client must treat them as opaque).
fn entra_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate(new_kid(), Vec::new()))
}

/// An error answer of the token endpoint.
fn refusal(state: &State, status: u16, error: &str, code: u32, text: &str) -> Resp {
    let now = now_secs();
    let timestamp = entra_timestamp(now);
    let trace_id = guid();
    let correlation_id = guid();
    Resp::json_utf8(
        status,
        &json!({
            "error": error,
            "error_description": format!(
                "AADSTS{code}: {text}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}"
            ),
            "error_codes": [code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("http://127.0.0.1:{}{PREFIX}/error?code={code}", state.port),
        }),
    )
}

/// A 429 or 5xx of the token endpoint, for injected faults.
pub(crate) fn fault_answer(state: &State, status: u16) -> Resp {
    if status == 429 {
        refusal(
            state,
            429,
            "temporarily_unavailable",
            50196,
            "The server terminated an operation because it encountered a client request loop.",
        )
    } else {
        refusal(
            state,
            status,
            "temporarily_unavailable",
            90033,
            "A transient error has occurred. Please try again.",
        )
    }
}

/// `POST {login}/{tenant}/oauth2/v2.0/token`.
pub(crate) fn token(state: &mut State, req: &Req, tenant: &str) -> Resp {
    if req.method != "POST" {
        return refusal(
            state,
            400,
            "invalid_request",
            900561,
            &format!(
                "The endpoint only accepts POST, OPTIONS requests. Received a {} request.",
                req.method
            ),
        );
    }
    if !state
        .apps
        .iter()
        .any(|app| app.tenant_id.eq_ignore_ascii_case(tenant))
    {
        return refusal(
            state,
            400,
            "invalid_tenant",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        );
    }
    // Anything but a form body carries no parameters at all.
    let form: HashMap<String, String> =
        if req.media_type().as_deref() == Some("application/x-www-form-urlencoded") {
            serde_urlencoded::from_bytes::<Vec<(String, String)>>(&req.body)
                .unwrap_or_default()
                .into_iter()
                .collect()
        } else {
            HashMap::new()
        };
    let param = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    for required in ["grant_type", "client_id", "scope"] {
        if param(required).is_none() {
            return refusal(
                state,
                400,
                "invalid_request",
                900144,
                &format!("The request body must contain the following parameter: '{required}'."),
            );
        }
    }
    let grant_type = param("grant_type").unwrap_or_default();
    if grant_type != "client_credentials" {
        return refusal(
            state,
            400,
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{grant_type}'."),
        );
    }
    let client_id = param("client_id").unwrap_or_default();
    let Some(app) = state
        .apps
        .iter()
        .find(|app| app.app_id == client_id && app.tenant_id.eq_ignore_ascii_case(tenant))
    else {
        return refusal(
            state,
            400,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        );
    };
    let Some(secret) = param("client_secret") else {
        return refusal(
            state,
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
    };
    if secret != app.password {
        return refusal(
            state,
            401,
            "invalid_client",
            7000215,
            &format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
            ),
        );
    }
    let scope = param("scope").unwrap_or_default();
    let resource = match check_scope(scope) {
        Ok(resource) => resource,
        Err((error, code, text)) => return refusal(state, 400, error, code, &text),
    };
    if resource != BOT_FRAMEWORK_RESOURCE && !OTHER_RESOURCES.contains(&resource.as_str()) {
        return refusal(
            state,
            400,
            "invalid_resource",
            500011,
            &format!(
                "The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."
            ),
        );
    }
    let app_id = app.app_id.clone();
    let lifetime = state.token_lifetime;
    let access_token = access_token(&app_id, tenant, &resource, lifetime);
    state.access_tokens.insert(
        access_token.clone(),
        AccessToken {
            app_id,
            resource,
            expires_at: now_secs() + lifetime,
        },
    );
    Resp::json_utf8(
        200,
        &json!({
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access_token,
        }),
    )
}

/// The resource of a client-credentials scope (`<resource>/.default`), or
/// the refusal: one scope only, in URI or GUID form, ending in `/.default`.
fn check_scope(scope: &str) -> Result<String, (&'static str, u32, String)> {
    let well_formed = !scope.contains(char::is_whitespace)
        && (scope.starts_with("https://") || scope.starts_with("api://") || scope.contains('/'))
        && !scope.starts_with('/');
    if !well_formed {
        return Err((
            "invalid_scope",
            70011,
            format!(
                "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
            ),
        ));
    }
    match scope.strip_suffix("/.default") {
        Some(resource) if !resource.is_empty() => Ok(resource.to_string()),
        _ => Err((
            "invalid_scope",
            1002012,
            format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        )),
    }
}

/// A signed access token shaped like the real ones (a v1 token for the
/// resource, naming the app and tenant). Unique: it carries a random `uti`.
fn access_token(app_id: &str, tenant: &str, resource: &str, lifetime: u64) -> String {
    let key = entra_key();
    let now = now_secs();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    header.x5t = Some(key.kid.clone());
    let claims = json!({
        "aud": resource,
        "iss": format!("https://sts.windows.net/{tenant}/"),
        "iat": now.saturating_sub(300),
        "nbf": now.saturating_sub(300),
        "exp": now + lifetime,
        "appid": app_id,
        "appidacr": "1",
        "idp": format!("https://sts.windows.net/{tenant}/"),
        "tid": tenant,
        "uti": new_kid(),
        "ver": "1.0",
    });
    let encoding = EncodingKey::from_rsa_der(&key.private_pkcs1);
    jsonwebtoken::encode(&header, &claims, &encoding).expect("RS256 signing")
}
