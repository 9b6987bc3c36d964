//! Inbound tokens: what the Bot Framework puts in `Authorization: Bearer`
//! when it posts an activity to a bot, and the forgeries a bot must refuse.
//!
//! Well-formed tokens are signed with the signing library; the two
//! malformed ones (`alg: none`, HS256 keyed with the public key) are put
//! together by hand, byte for byte what an attacker would send.

use aws_lc_rs::hmac;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};

use super::BOT_FRAMEWORK_ISSUER;
use super::keys::b64url;
use super::state::State;
use super::wire::now_secs;

/// How the token is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signing {
    /// RS256 with the fake's current key (the real case).
    Current,
    /// RS256 with this key of the fake's (e.g. a retired one).
    Key(String),
    /// RS256 with a key that was never in the JWKS.
    UnknownKey,
    /// `{"alg": "none"}` and an empty signature: `header.payload.`
    AlgNone,
    /// HS256 whose HMAC secret is the current key's public key as PEM: the
    /// algorithm-confusion forgery, which a verifier that takes the
    /// algorithm from the token would accept.
    Hs256WithPublicKey,
}

/// What the header's `kid` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KidHeader {
    /// The id of the key named by [`Signing`] (the current key for the
    /// forgeries, as an attacker would copy it).
    OfSigningKey,
    /// No `kid` at all.
    Missing,
    /// This value.
    Other(String),
}

/// The `serviceurl` claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceUrlClaim {
    /// The fake Connector's URL (what the activity's `serviceUrl` says).
    Fake,
    /// Another URL.
    Other(String),
    /// No such claim.
    Missing,
}

/// Everything about an inbound token a hostile test may change. Start from
/// [`TokenSpec::new`] (a token the bot must accept) and break one thing.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenSpec {
    /// `aud`: the bot's app id.
    pub audience: String,
    /// `iss`.
    pub issuer: String,
    /// `serviceurl` (lower case, as real tokens spell it).
    pub service_url: ServiceUrlClaim,
    /// `nbf`, Unix seconds.
    pub not_before: u64,
    /// `exp`, Unix seconds.
    pub expires_at: u64,
    /// `iat`, Unix seconds.
    pub issued_at: u64,
    /// The signature.
    pub signing: Signing,
    /// The header's `kid`.
    pub kid: KidHeader,
    /// More claims, added last (they may replace the ones above).
    pub extra_claims: Map<String, Value>,
}

impl TokenSpec {
    /// A valid token for `app_id`: signed by the current key, issued by the
    /// Bot Framework, valid from a minute ago for an hour.
    pub fn new(app_id: &str) -> TokenSpec {
        let now = now_secs();
        TokenSpec {
            audience: app_id.to_string(),
            issuer: BOT_FRAMEWORK_ISSUER.to_string(),
            service_url: ServiceUrlClaim::Fake,
            not_before: now.saturating_sub(60),
            expires_at: now + 3600,
            issued_at: now.saturating_sub(60),
            signing: Signing::Current,
            kid: KidHeader::OfSigningKey,
            extra_claims: Map::new(),
        }
    }

    /// For another app id (`aud`).
    pub fn audience(mut self, audience: &str) -> TokenSpec {
        self.audience = audience.to_string();
        self
    }

    /// From another issuer (`iss`).
    pub fn issuer(mut self, issuer: &str) -> TokenSpec {
        self.issuer = issuer.to_string();
        self
    }

    /// With another `serviceurl`.
    pub fn service_url(mut self, url: &str) -> TokenSpec {
        self.service_url = ServiceUrlClaim::Other(url.to_string());
        self
    }

    /// Without `serviceurl`.
    pub fn without_service_url(mut self) -> TokenSpec {
        self.service_url = ServiceUrlClaim::Missing;
        self
    }

    /// Valid from `not_before` to `expires_at` (Unix seconds), to test the
    /// clock skew a bot allows.
    pub fn valid_between(mut self, not_before: u64, expires_at: u64) -> TokenSpec {
        self.not_before = not_before;
        self.issued_at = not_before;
        self.expires_at = expires_at;
        self
    }

    /// Expired an hour ago (beyond any clock skew).
    pub fn expired(self) -> TokenSpec {
        let now = now_secs();
        self.valid_between(now.saturating_sub(7200), now.saturating_sub(3600))
    }

    /// Valid only from an hour from now (beyond any clock skew).
    pub fn not_yet_valid(self) -> TokenSpec {
        let now = now_secs();
        self.valid_between(now + 3600, now + 7200)
    }

    /// Signed this way.
    pub fn signing(mut self, signing: Signing) -> TokenSpec {
        self.signing = signing;
        self
    }

    /// Signed by a key that was never in the JWKS.
    pub fn signed_by_unknown_key(self) -> TokenSpec {
        self.signing(Signing::UnknownKey)
    }

    /// Unsigned: `alg: none`.
    pub fn alg_none(self) -> TokenSpec {
        self.signing(Signing::AlgNone)
    }

    /// HS256 with the public key as the HMAC secret.
    pub fn hs256_with_public_key(self) -> TokenSpec {
        self.signing(Signing::Hs256WithPublicKey)
    }

    /// With no `kid` in the header.
    pub fn without_kid(mut self) -> TokenSpec {
        self.kid = KidHeader::Missing;
        self
    }

    /// With one more claim (or another value for a standard one).
    pub fn claim(mut self, name: &str, value: Value) -> TokenSpec {
        self.extra_claims.insert(name.to_string(), value);
        self
    }
}

/// The compact JWT `spec` describes.
pub(crate) fn mint(state: &mut State, spec: &TokenSpec, fake_service_url: &str) -> String {
    let claims = claims(spec, fake_service_url);
    let signing_kid = match &spec.signing {
        Signing::Key(kid) => kid.clone(),
        Signing::UnknownKey => state.outsider_kid(),
        Signing::Current | Signing::AlgNone | Signing::Hs256WithPublicKey => state.current.clone(),
    };
    let kid = match &spec.kid {
        KidHeader::OfSigningKey => Some(signing_kid.clone()),
        KidHeader::Missing => None,
        KidHeader::Other(kid) => Some(kid.clone()),
    };
    let Some(key) = state.key(&signing_kid) else {
        panic!("fake-teams: no key {signing_kid:?} to sign with");
    };
    match spec.signing {
        Signing::Current | Signing::Key(_) | Signing::UnknownKey => {
            let mut header = Header::new(Algorithm::RS256);
            header.typ = Some("JWT".into());
            header.x5t.clone_from(&kid);
            header.kid = kid;
            let encoding = EncodingKey::from_rsa_der(&key.private_pkcs1);
            jsonwebtoken::encode(&header, &claims, &encoding).expect("RS256 signing")
        }
        Signing::AlgNone => {
            let signing_input = signing_input(&hand_header("none", kid.as_deref()), &claims);
            format!("{signing_input}.")
        }
        Signing::Hs256WithPublicKey => {
            let signing_input = signing_input(&hand_header("HS256", kid.as_deref()), &claims);
            let secret = hmac::Key::new(hmac::HMAC_SHA256, key.public_pem().as_bytes());
            let tag = hmac::sign(&secret, signing_input.as_bytes());
            format!("{signing_input}.{}", b64url(tag.as_ref()))
        }
    }
}

fn claims(spec: &TokenSpec, fake_service_url: &str) -> Value {
    let mut claims = Map::new();
    match &spec.service_url {
        ServiceUrlClaim::Fake => {
            claims.insert("serviceurl".into(), json!(fake_service_url));
        }
        ServiceUrlClaim::Other(url) => {
            claims.insert("serviceurl".into(), json!(url));
        }
        ServiceUrlClaim::Missing => {}
    }
    claims.insert("nbf".into(), json!(spec.not_before));
    claims.insert("exp".into(), json!(spec.expires_at));
    claims.insert("iat".into(), json!(spec.issued_at));
    claims.insert("iss".into(), json!(spec.issuer));
    claims.insert("aud".into(), json!(spec.audience));
    for (name, value) in &spec.extra_claims {
        claims.insert(name.clone(), value.clone());
    }
    Value::Object(claims)
}

fn hand_header(alg: &str, kid: Option<&str>) -> Value {
    let mut header = json!({"alg": alg, "typ": "JWT"});
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    header
}

/// `base64url(header).base64url(claims)`.
fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    )
}
