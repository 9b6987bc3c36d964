//! Is an activity posted to `/api/messages` really from the Bot Framework,
//! for this bot? Checked as the Bot Framework documents it, before the
//! activity is read: an RS256 JWT signed by a key of the OpenID metadata's
//! JWKS that endorses Teams, issued by `https://api.botframework.com`, for
//! our app id, within its lifetime (five minutes of clock skew allowed).
//! The token's `serviceurl` claim must then equal the activity's
//! `serviceUrl` ([`VerifiedToken::vouches_for`]).
//!
//! The keys are cached; a token naming a key we do not know makes us fetch
//! them again, at most once per [`MISS_REFETCH_INTERVAL`], so a flood of
//! made-up key ids cannot turn into a flood of fetches.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::Url;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::TeamsClient;
use crate::base_url::is_trusted;
use crate::http_answer::Answer;

/// Who issues every token the Bot Framework sends to a bot.
pub const BOT_FRAMEWORK_ISSUER: &str = "https://api.botframework.com";
/// Allowed clock skew, as the Bot Framework's own SDKs allow.
const CLOCK_SKEW_SECS: u64 = 300;
/// Keys are fetched again after this long (the Bot Framework asks bots
/// to refresh them daily).
const KEYS_TTL: Duration = Duration::from_secs(24 * 3600);
/// At most one fetch per this interval for tokens naming unknown keys.
pub const MISS_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// The metadata document and the JWKS are a few kilobytes.
const MAX_ANSWER: usize = 256 * 1024;
/// The channel whose endorsement a key must carry.
const TEAMS_CHANNEL: &str = "msteams";

/// Why an inbound request is refused (all answered 401; the reason is
/// logged, never the token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundRefusal {
    /// No `Authorization: Bearer` header.
    #[error("no bearer token")]
    NoToken,
    /// Not a JWT, or not RS256.
    #[error("not an RS256 JWT")]
    Malformed,
    /// Signed by a key that is not (or no longer) published.
    #[error("signed by an unknown key")]
    UnknownKey,
    /// The key does not endorse Teams.
    #[error("the signing key does not endorse msteams")]
    NotEndorsed,
    /// Signature, issuer, audience or lifetime wrong.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// No `serviceurl` claim, or not the activity's.
    #[error("the token's serviceurl is not the activity's serviceUrl")]
    ServiceUrlMismatch,
    /// The activity's `serviceUrl` is not on the allow-list.
    #[error("serviceUrl outside the allowed Bot Framework hosts")]
    ServiceUrlNotAllowed,
    /// The keys could not be fetched (refused too: we cannot check).
    #[error("the Bot Framework keys could not be fetched: {0}")]
    KeysUnavailable(String),
}

/// A checked token: what it vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The `serviceurl` claim.
    service_url: String,
}

impl VerifiedToken {
    /// Whether the token was issued for an activity from `service_url`.
    pub fn vouches_for(&self, service_url: &str) -> bool {
        let trim = |url: &str| url.trim().trim_end_matches('/').to_ascii_lowercase();
        trim(&self.service_url) == trim(service_url)
    }
}

#[derive(Deserialize)]
struct Claims {
    /// Real tokens spell it in lower case; older documentation in camel case.
    #[serde(default)]
    serviceurl: Option<String>,
    #[serde(default, rename = "serviceUrl")]
    service_url: Option<String>,
}

/// One published key.
struct Key {
    decoding: DecodingKey,
    endorsements: Option<Vec<String>>,
}

/// The cached JWKS.
#[derive(Default)]
pub(crate) struct KeyCache {
    state: Mutex<KeyState>,
}

#[derive(Default)]
struct KeyState {
    keys: HashMap<String, Key>,
    fetched_at: Option<Instant>,
    last_miss_fetch: Option<Instant>,
}

#[derive(Deserialize)]
struct Metadata {
    jwks_uri: String,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    kty: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    endorsements: Option<Vec<String>>,
}

impl TeamsClient {
    /// Checks the `Authorization` header of an inbound activity for the
    /// bot `app_id`.
    pub async fn verify_inbound(
        &self,
        app_id: &str,
        authorization: Option<&str>,
    ) -> Result<VerifiedToken, InboundRefusal> {
        let token = authorization
            .and_then(|header| {
                let (scheme, token) = header.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|token| !token.is_empty())
            .ok_or(InboundRefusal::NoToken)?;
        let header = jsonwebtoken::decode_header(token).map_err(|_| InboundRefusal::Malformed)?;
        // The algorithm is ours to choose, never the token's: an HS256
        // token keyed with our public key would otherwise pass.
        if header.alg != Algorithm::RS256 {
            return Err(InboundRefusal::Malformed);
        }
        let kid = header.kid.ok_or(InboundRefusal::UnknownKey)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[BOT_FRAMEWORK_ISSUER]);
        validation.set_audience(&[app_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = CLOCK_SKEW_SECS;
        let claims = self
            .keys
            .with_key(self, &kid, |key| {
                let endorsed = key
                    .endorsements
                    .as_ref()
                    .is_none_or(|list| list.iter().any(|e| e == TEAMS_CHANNEL));
                if !endorsed {
                    return Err(InboundRefusal::NotEndorsed);
                }
                jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation)
                    .map(|data| data.claims)
                    .map_err(|err| InboundRefusal::Invalid(format!("{:?}", err.kind())))
            })
            .await??;
        let service_url = claims
            .serviceurl
            .or(claims.service_url)
            .ok_or(InboundRefusal::ServiceUrlMismatch)?;
        Ok(VerifiedToken { service_url })
    }
}

impl KeyCache {
    /// Runs `check` with key `kid`, fetching the keys when none are
    /// cached, when they are a day old, or (rate-bounded) when `kid` is
    /// not among them.
    async fn with_key<T>(
        &self,
        client: &TeamsClient,
        kid: &str,
        check: impl FnOnce(&Key) -> T,
    ) -> Result<T, InboundRefusal> {
        let mut state = self.state.lock().await;
        let now = Instant::now();
        let stale = state
            .fetched_at
            .is_none_or(|at| now.duration_since(at) > KEYS_TTL);
        let miss_allowed = state
            .last_miss_fetch
            .is_none_or(|at| now.duration_since(at) >= MISS_REFETCH_INTERVAL);
        let unknown = !state.keys.contains_key(kid);
        if stale || (unknown && miss_allowed) {
            if !stale {
                state.last_miss_fetch = Some(now);
            }
            match fetch_keys(client).await {
                Ok(keys) => {
                    state.keys = keys;
                    state.fetched_at = Some(now);
                }
                // Keep what we had: a key we knew stays good for a day.
                Err(err) if state.keys.is_empty() => return Err(err),
                Err(err) => {
                    tracing::warn!(error = %err, "could not refresh the Bot Framework keys")
                }
            }
        }
        state
            .keys
            .get(kid)
            .map(check)
            .ok_or(InboundRefusal::UnknownKey)
    }
}

/// The metadata document, then the JWKS it names.
async fn fetch_keys(client: &TeamsClient) -> Result<HashMap<String, Key>, InboundRefusal> {
    let unavailable = |what: &str| InboundRefusal::KeysUnavailable(what.to_string());
    let metadata: Metadata = get_json(client, &client.urls.openid)
        .await
        .ok_or_else(|| unavailable("the OpenID metadata document"))?;
    let jwks_uri = Url::parse(&metadata.jwks_uri)
        .ok()
        .filter(is_trusted)
        .ok_or_else(|| unavailable("the jwks_uri is not https"))?;
    let jwks: Jwks = get_json(client, jwks_uri.as_str())
        .await
        .ok_or_else(|| unavailable("the JWKS"))?;
    tracing::info!(keys = jwks.keys.len(), "fetched the Bot Framework keys");
    Ok(jwks
        .keys
        .into_iter()
        .filter(|jwk| jwk.kty.as_deref().is_none_or(|kty| kty == "RSA"))
        .filter_map(|jwk| {
            let decoding =
                DecodingKey::from_rsa_components(jwk.n.as_deref()?, jwk.e.as_deref()?).ok()?;
            let key = Key {
                decoding,
                endorsements: jwk.endorsements,
            };
            Some((jwk.kid?, key))
        })
        .collect())
}

async fn get_json<T: serde::de::DeserializeOwned>(client: &TeamsClient, url: &str) -> Option<T> {
    let response = client.http.get(url).send().await.ok()?;
    let answer = Answer::read(response, MAX_ANSWER).await;
    if answer.status != 200 {
        tracing::warn!(status = answer.status, "Bot Framework key fetch answered");
        return None;
    }
    serde_json::from_str(&answer.body).ok()
}
