//! Tests of the strict fake Teams services themselves, over real HTTP.
//!
//! If the fake accepted something the real services refuse, every adapter
//! test built on it would prove nothing; so beyond the happy paths, most
//! tests here are about what the fake refuses, and how, and about the
//! hostile inbound tokens being exactly what they claim to be.

use std::time::Duration;

use base64::Engine;
use fake_teams::{
    BOT_FRAMEWORK_ISSUER, BOT_FRAMEWORK_SCOPE, FakeTeams, Fault, Inbound, InboundKind,
    MAX_INLINE_IMAGE_BYTES, Member, Op, Signing, TeamsUrls, TokenSpec,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::{Client, Method, Response};
use serde_json::{Value, json};

const APP: &str = "5e8e0c8c-0b54-4d1e-9a57-4c8d2d2a0a01";
/// Form-hostile, like real client secrets (`~`, `.`, `+`, `=`).
const PASSWORD: &str = "Zq8~Vx.abc+def=ghi_jkl";
const TENANT: &str = "3f2d6a0e-6d1b-4a5e-9a6b-1c2d3e4f5a6b";
const OTHER_APP: &str = "9a9a9a9a-1111-4222-8333-444455556666";
const OTHER_PASSWORD: &str = "other-secret";
const CHANNEL: &str = "19:d4a8b0c2e1f34a6b8c9d0e1f2a3b4c5d@thread.tacv2";
const GROUP_CHAT: &str = "19:meeting-free-group-chat@thread.v2";
const PERSONAL: &str = "a:1Hn3Xc_personal-chat-with-the-bot";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

// ---------------------------------------------------------------- harness

/// A running fake with the app registered and installed in the channel.
struct Harness {
    fake: FakeTeams,
    urls: TeamsUrls,
    http: Client,
}

impl Harness {
    async fn new() -> Harness {
        let fake = FakeTeams::start().await;
        fake.add_app(APP, PASSWORD, TENANT);
        fake.add_app(OTHER_APP, OTHER_PASSWORD, TENANT);
        fake.install(APP, CHANNEL);
        let http = Client::builder()
            .no_proxy()
            .build()
            .expect("reqwest client");
        Harness {
            urls: fake.urls(),
            fake,
            http,
        }
    }

    fn token_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.urls.login)
    }

    async fn token_form(&self, tenant: &str, form: &[(&str, &str)]) -> Response {
        self.http
            .post(self.token_url(tenant))
            .form(form)
            .send()
            .await
            .expect("token request")
    }

    /// A Connector token for `app`, as a bot gets it.
    async fn token_for(&self, app: &str, password: &str) -> String {
        let resp = self
            .token_form(
                TENANT,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", app),
                    ("client_secret", password),
                    ("scope", BOT_FRAMEWORK_SCOPE),
                ],
            )
            .await;
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_string()
    }

    async fn token(&self) -> String {
        self.token_for(APP, PASSWORD).await
    }

    /// `{serviceUrl}v3/conversations/{id}/...` with the id encoded as the
    /// SDKs encode it.
    fn url(&self, conversation: &str, rest: &str) -> String {
        format!(
            "{}v3/conversations/{}{rest}",
            self.urls.service,
            encode(conversation)
        )
    }

    async fn call(&self, method: Method, url: &str, token: &str, body: Option<Value>) -> Response {
        let mut request = self
            .http
            .request(method, url)
            .header("Authorization", format!("Bearer {token}"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("connector request")
    }

    async fn send(&self, token: &str, conversation: &str, activity: Value) -> Response {
        let url = self.url(conversation, "/activities");
        self.call(Method::POST, &url, token, Some(activity)).await
    }

    /// A send whose connection may be dropped: `true` when it was.
    async fn send_dropped(&self, token: &str, conversation: &str, activity: Value) -> bool {
        self.http
            .post(self.url(conversation, "/activities"))
            .header("Authorization", format!("Bearer {token}"))
            .json(&activity)
            .send()
            .await
            .is_err()
    }

    /// The JWKS URL (what the metadata's `jwks_uri` names), without
    /// fetching the metadata.
    fn jwks_url(&self) -> String {
        self.urls
            .openid
            .replace(".well-known/openidconfiguration", "keys")
    }

    /// Send and return the new activity id.
    async fn post(&self, token: &str, conversation: &str, text: &str) -> String {
        let resp = self.send(token, conversation, message(text)).await;
        assert_eq!(resp.status(), 201);
        let body: Value = resp.json().await.unwrap();
        body["id"].as_str().unwrap().to_string()
    }

    async fn reply(&self, token: &str, conversation: &str, to: &str, activity: Value) -> Response {
        let url = self.url(conversation, &format!("/activities/{to}"));
        self.call(Method::POST, &url, token, Some(activity)).await
    }

    async fn update(&self, token: &str, conversation: &str, id: &str, activity: Value) -> Response {
        let url = self.url(conversation, &format!("/activities/{id}"));
        self.call(Method::PUT, &url, token, Some(activity)).await
    }

    async fn delete(&self, token: &str, conversation: &str, id: &str) -> Response {
        let url = self.url(conversation, &format!("/activities/{id}"));
        self.call(Method::DELETE, &url, token, None).await
    }

    async fn get_json(&self, url: &str) -> Value {
        let resp = self.http.get(url).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        resp.json().await.unwrap()
    }
}

/// Percent-encode everything but RFC 3986 unreserved characters, as
/// `encodeURIComponent` and the SDKs do.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn message(text: &str) -> Value {
    json!({"type": "message", "text": text})
}

async fn json_of(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Status and Connector error code of a refusal.
async fn connector_error(resp: Response) -> (u16, String) {
    let (status, body) = json_of(resp).await;
    let code = body["error"]["code"].as_str().unwrap_or("").to_string();
    (status, code)
}

/// Status, `error` and the AADSTS code of a token endpoint refusal, with
/// the whole shape checked.
async fn entra_error(resp: Response) -> (u16, String, u64) {
    let (status, body) = json_of(resp).await;
    let code = body["error_codes"][0].as_u64().expect("error_codes");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    assert!(description.contains("\r\nTrace ID: "), "{description}");
    assert!(
        description.contains("\r\nCorrelation ID: "),
        "{description}"
    );
    assert!(description.contains("\r\nTimestamp: "), "{description}");
    for field in ["timestamp", "trace_id", "correlation_id", "error_uri"] {
        assert!(body[field].is_string(), "{field} in {body}");
    }
    assert!(
        body["error_uri"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/error?code={code}"))
    );
    let error = body["error"].as_str().unwrap().to_string();
    (status, error, code)
}

/// The header and claims of a compact JWT, without checking anything.
fn jwt_parts(token: &str) -> (Value, Value, String) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS has three parts: {token}");
    let decode = |part: &str| -> Value {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .expect("base64url");
        serde_json::from_slice(&bytes).expect("JSON")
    };
    (decode(parts[0]), decode(parts[1]), parts[2].to_string())
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Verify an RS256 token against a JWK as a bot would (issuer, audience,
/// expiry), returning the claims.
fn verify_rs256(
    token: &str,
    jwk: &Value,
    audience: &str,
) -> Result<Value, jsonwebtoken::errors::Error> {
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[BOT_FRAMEWORK_ISSUER]);
    jsonwebtoken::decode::<Value>(token, &key, &validation).map(|data| data.claims)
}

fn png_data_uri(bytes: &[u8]) -> String {
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

// ----------------------------------------------------------------- OpenID

#[tokio::test]
async fn the_metadata_names_the_issuer_and_a_jwks_of_endorsed_rsa_keys() {
    let h = Harness::new().await;
    let metadata = h.get_json(&h.urls.openid).await;
    assert_eq!(metadata["issuer"], BOT_FRAMEWORK_ISSUER);
    assert_eq!(
        metadata["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    let jwks = h.get_json(metadata["jwks_uri"].as_str().unwrap()).await;
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["kid"], h.fake.current_kid());
    assert_eq!(key["e"], "AQAB");
    assert!(
        key["n"].as_str().unwrap().len() >= 342,
        "a 2048-bit modulus"
    );
    assert!(
        key["endorsements"]
            .as_array()
            .unwrap()
            .contains(&json!("msteams"))
    );
    assert_eq!((h.fake.metadata_fetches(), h.fake.jwks_fetches()), (1, 1));
}

#[tokio::test]
async fn a_minted_inbound_token_verifies_with_the_published_key() {
    let h = Harness::new().await;
    let token = h.fake.inbound_token(&TokenSpec::new(APP));
    let (header, claims, _) = jwt_parts(&token);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], h.fake.current_kid());
    let jwks = h.get_json(&h.jwks_url()).await;
    let verified = verify_rs256(&token, &jwks["keys"][0], APP).expect("verifies");
    assert_eq!(verified["serviceurl"], h.urls.service, "lower-case claim");
    assert!(claims.get("serviceUrl").is_none());
    assert!(claims["nbf"].as_u64().unwrap() <= now());
    assert!(claims["exp"].as_u64().unwrap() > now());
    // Another audience is refused by the same check.
    assert!(verify_rs256(&token, &jwks["keys"][0], OTHER_APP).is_err());
}

#[tokio::test]
async fn keys_rotate_and_retire_and_the_fetches_are_counted() {
    let h = Harness::new().await;
    let first = h.fake.current_kid();
    let second = h.fake.rotate_key();
    assert_ne!(first, second);
    assert_eq!(h.fake.current_kid(), second);
    assert_eq!(h.fake.published_kids(), vec![first.clone(), second.clone()]);
    let (header, _, _) = jwt_parts(&h.fake.inbound_token(&TokenSpec::new(APP)));
    assert_eq!(header["kid"], second, "new tokens use the new key");

    h.fake.retire_key(&first);
    let jwks = h.get_json(&h.jwks_url()).await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, vec![second.as_str()]);

    // A token signed by the retired key names a kid the JWKS no longer has,
    // yet its signature is genuine.
    let stale = h
        .fake
        .inbound_token(&TokenSpec::new(APP).signing(Signing::Key(first.clone())));
    let (header, _, _) = jwt_parts(&stale);
    assert_eq!(header["kid"], first);
    verify_rs256(&stale, &h.fake.jwk(&first).unwrap(), APP).expect("signed by the retired key");

    let partial = h.fake.add_key(&["webchat"]);
    let jwks = h.get_json(&h.jwks_url()).await;
    let added = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == partial)
        .unwrap()
        .clone();
    assert_eq!(added["endorsements"], json!(["webchat"]));
    assert_eq!(h.fake.jwks_fetches(), 2);
    assert_eq!(h.fake.metadata_fetches(), 0);
}

#[tokio::test]
async fn hostile_inbound_tokens_are_what_they_claim() {
    let h = Harness::new().await;
    let published = h.fake.jwk(&h.fake.current_kid()).unwrap();

    // Signed by a key never published: its kid is unknown and no published
    // key verifies it.
    let unknown = h
        .fake
        .inbound_token(&TokenSpec::new(APP).signed_by_unknown_key());
    let (header, _, _) = jwt_parts(&unknown);
    assert!(
        !h.fake
            .published_kids()
            .contains(&header["kid"].as_str().unwrap().to_string())
    );
    assert!(verify_rs256(&unknown, &published, APP).is_err());

    let (_, claims, _) = jwt_parts(
        &h.fake
            .inbound_token(&TokenSpec::new(APP).audience(OTHER_APP)),
    );
    assert_eq!(claims["aud"], OTHER_APP);
    let (_, claims, _) = jwt_parts(
        &h.fake
            .inbound_token(&TokenSpec::new(APP).issuer("https://sts.windows.net/evil/")),
    );
    assert_eq!(claims["iss"], "https://sts.windows.net/evil/");

    let (_, claims, _) = jwt_parts(&h.fake.inbound_token(&TokenSpec::new(APP).expired()));
    assert!(claims["exp"].as_u64().unwrap() + 600 < now());
    let (_, claims, _) = jwt_parts(&h.fake.inbound_token(&TokenSpec::new(APP).not_yet_valid()));
    assert!(claims["nbf"].as_u64().unwrap() > now() + 600);

    // alg none: no signature part at all.
    let none = h.fake.inbound_token(&TokenSpec::new(APP).alg_none());
    assert!(none.ends_with('.'));
    let (header, claims, signature) = jwt_parts(&none);
    assert_eq!(header["alg"], "none");
    assert_eq!(signature, "");
    assert_eq!(claims["aud"], APP);

    // HS256 keyed with the public key's PEM: verifies as HMAC with those
    // bytes, and never as RS256.
    let forged = h
        .fake
        .inbound_token(&TokenSpec::new(APP).hs256_with_public_key());
    let (header, _, _) = jwt_parts(&forged);
    assert_eq!(header["alg"], "HS256");
    assert_eq!(header["kid"], h.fake.current_kid());
    let pem = h.fake.public_key_pem(&h.fake.current_kid()).unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[APP]);
    validation.set_issuer(&[BOT_FRAMEWORK_ISSUER]);
    jsonwebtoken::decode::<Value>(
        &forged,
        &DecodingKey::from_secret(pem.as_bytes()).unwrap(),
        &validation,
    )
    .expect("verifies with the public key as HMAC secret");
    assert!(verify_rs256(&forged, &published, APP).is_err());

    let (_, claims, _) = jwt_parts(
        &h.fake
            .inbound_token(&TokenSpec::new(APP).service_url("https://evil.example/")),
    );
    assert_eq!(claims["serviceurl"], "https://evil.example/");
    let (_, claims, _) = jwt_parts(
        &h.fake
            .inbound_token(&TokenSpec::new(APP).without_service_url()),
    );
    assert!(claims.get("serviceurl").is_none());
    let no_kid = h.fake.inbound_token(&TokenSpec::new(APP).without_kid());
    let (header, _, _) = jwt_parts(&no_kid);
    assert!(header.get("kid").is_none());
    verify_rs256(&no_kid, &published, APP).expect("still genuinely signed");
}

#[tokio::test]
async fn inbound_activities_carry_the_conversation_reference() {
    let h = Harness::new().await;
    let team = "19:team-general@thread.tacv2";
    let conversation = "19:new-channel@thread.tacv2";
    let inbound = Inbound::new(OTHER_APP, conversation, TENANT).team(team);

    let added = h.fake.inbound_activity(&inbound, InboundKind::BotAdded);
    assert_eq!(added["type"], "conversationUpdate");
    assert_eq!(added["membersAdded"][0]["id"], format!("28:{OTHER_APP}"));
    assert_eq!(added["recipient"]["id"], format!("28:{OTHER_APP}"));
    assert_eq!(added["serviceUrl"], h.urls.service);
    assert_eq!(added["conversation"]["id"], conversation);
    assert_eq!(added["conversation"]["conversationType"], "channel");
    assert_eq!(added["channelData"]["tenant"]["id"], TENANT);
    assert_eq!(added["channelData"]["team"]["id"], team);
    assert_eq!(added["channelId"], "msteams");

    // The bot was added: it may now post there.
    let token = h.token_for(OTHER_APP, OTHER_PASSWORD).await;
    h.post(&token, conversation, "hello").await;

    let installed = h.fake.inbound_activity(
        &Inbound::new(APP, PERSONAL, TENANT),
        InboundKind::InstallationAdd,
    );
    assert_eq!(installed["type"], "installationUpdate");
    assert_eq!(installed["action"], "add");
    assert_eq!(installed["conversation"]["conversationType"], "personal");
    assert!(installed["channelData"].get("team").is_none());

    let mention = h.fake.inbound_activity(&inbound, InboundKind::MentionId);
    assert_eq!(mention["type"], "message");
    assert_eq!(mention["text"], "<at>Skype Sender</at> id");
    assert_eq!(mention["entities"][0]["type"], "mention");
    assert_eq!(
        mention["entities"][0]["mentioned"]["id"],
        format!("28:{OTHER_APP}")
    );
    assert_eq!(mention["entities"][0]["text"], "<at>Skype Sender</at>");
    let id = mention["id"].as_str().unwrap();
    assert_eq!(
        mention["conversation"]["id"],
        format!("{conversation};messageid={id}"),
        "a channel message is its own thread"
    );
    // The user's message is stored, so the bot can answer in its thread.
    let resp = h
        .reply(&token, conversation, id, message("I am a bot"))
        .await;
    assert_eq!(resp.status(), 201);
    let thread = h.fake.activities(&format!("{conversation};messageid={id}"));
    assert_eq!(thread.len(), 2);
    assert_eq!(thread[0].from, inbound.user.id);
}

// ------------------------------------------------------------------ Entra

#[tokio::test]
async fn client_credentials_grant_a_bearer_token_and_are_counted() {
    let h = Harness::new().await;
    let resp = h
        .token_form(
            TENANT,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", APP),
                ("client_secret", PASSWORD),
                ("scope", BOT_FRAMEWORK_SCOPE),
            ],
        )
        .await;
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["ext_expires_in"], 3599);
    let (_, claims, _) = jwt_parts(body["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], "https://api.botframework.com");
    assert_eq!(claims["appid"], APP);
    assert_eq!(claims["tid"], TENANT);
    assert_eq!((h.fake.token_requests(), h.fake.tokens_issued()), (1, 1));
}

#[tokio::test]
async fn a_wrong_secret_a_foreign_app_or_tenant_is_refused_as_entra_does() {
    let h = Harness::new().await;
    let form = |app: &'static str, secret: &'static str| {
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", app),
            ("client_secret", secret),
            ("scope", BOT_FRAMEWORK_SCOPE),
        ]
    };
    let resp = h.token_form(TENANT, &form(APP, "wrong")).await;
    assert_eq!(
        entra_error(resp).await,
        (401, "invalid_client".into(), 7000215)
    );
    let resp = h.token_form(TENANT, &form(APP, OTHER_PASSWORD)).await;
    assert_eq!(entra_error(resp).await.2, 7000215, "another app's secret");

    let resp = h
        .token_form(
            TENANT,
            &form("11111111-2222-4333-8444-555555555555", PASSWORD),
        )
        .await;
    assert_eq!(
        entra_error(resp).await,
        (400, "unauthorized_client".into(), 700016)
    );
    let elsewhere = "0c0c0c0c-0000-4000-8000-000000000000";
    h.fake.add_app("app-of-elsewhere", "x", elsewhere);
    let resp = h.token_form(elsewhere, &form(APP, PASSWORD)).await;
    assert_eq!(
        entra_error(resp).await.2,
        700016,
        "the app is in another tenant"
    );

    let resp = h
        .token_form("ffffffff-0000-4000-8000-000000000000", &form(APP, PASSWORD))
        .await;
    assert_eq!(
        entra_error(resp).await,
        (400, "invalid_tenant".into(), 90002)
    );
    assert_eq!(h.fake.tokens_issued(), 0);
    assert_eq!(h.fake.token_requests(), 5);
}

#[tokio::test]
async fn missing_parameters_grant_types_and_methods_are_refused() {
    let h = Harness::new().await;
    let full = [
        ("grant_type", "client_credentials"),
        ("client_id", APP),
        ("client_secret", PASSWORD),
        ("scope", BOT_FRAMEWORK_SCOPE),
    ];
    for missing in ["grant_type", "client_id", "scope"] {
        let form: Vec<_> = full
            .iter()
            .filter(|(k, _)| *k != missing)
            .copied()
            .collect();
        let (status, error, code) = entra_error(h.token_form(TENANT, &form).await).await;
        assert_eq!(
            (status, error.as_str(), code),
            (400, "invalid_request", 900144),
            "{missing}"
        );
    }
    let form: Vec<_> = full
        .iter()
        .filter(|(k, _)| *k != "client_secret")
        .copied()
        .collect();
    assert_eq!(
        entra_error(h.token_form(TENANT, &form).await).await,
        (401, "invalid_client".into(), 7000218)
    );
    // The parameters as JSON are no parameters at all.
    let resp = h
        .http
        .post(h.token_url(TENANT))
        .json(&json!({"grant_type": "client_credentials", "client_id": APP, "client_secret": PASSWORD, "scope": BOT_FRAMEWORK_SCOPE}))
        .send()
        .await
        .unwrap();
    assert_eq!(entra_error(resp).await.2, 900144);
    let mut password = full.to_vec();
    password[0] = ("grant_type", "password");
    assert_eq!(
        entra_error(h.token_form(TENANT, &password).await).await,
        (400, "unsupported_grant_type".into(), 70003)
    );
    let resp = h.http.get(h.token_url(TENANT)).send().await.unwrap();
    assert_eq!(entra_error(resp).await.2, 900561);
}

#[tokio::test]
async fn only_a_default_scope_of_a_known_resource_is_granted() {
    let h = Harness::new().await;
    let with_scope = |scope: &'static str| {
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", APP),
            ("client_secret", PASSWORD),
            ("scope", scope),
        ]
    };
    let resp = h
        .token_form(TENANT, &with_scope("https://api.botframework.com"))
        .await;
    assert_eq!(
        entra_error(resp).await,
        (400, "invalid_scope".into(), 1002012)
    );
    let resp = h.token_form(TENANT, &with_scope("openid profile")).await;
    assert_eq!(
        entra_error(resp).await,
        (400, "invalid_scope".into(), 70011)
    );
    let resp = h
        .token_form(TENANT, &with_scope("https://example.com/.default"))
        .await;
    assert_eq!(
        entra_error(resp).await,
        (400, "invalid_resource".into(), 500011)
    );

    // Graph grants a token, which the Connector does not take.
    let resp = h
        .token_form(TENANT, &with_scope("https://graph.microsoft.com/.default"))
        .await;
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 200);
    let graph = body["access_token"].as_str().unwrap();
    let resp = h.send(graph, CHANNEL, message("hi")).await;
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn tokens_expire_after_their_settable_lifetime() {
    let h = Harness::new().await;
    h.fake.set_token_lifetime(1);
    let resp = h
        .token_form(
            TENANT,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", APP),
                ("client_secret", PASSWORD),
                ("scope", BOT_FRAMEWORK_SCOPE),
            ],
        )
        .await;
    let (_, body) = json_of(resp).await;
    assert_eq!(body["expires_in"], 1);
    let short = body["access_token"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, body) = json_of(h.send(&short, CHANNEL, message("late")).await).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"message": "Authorization has been denied for this request."})
    );

    h.fake.set_token_lifetime(3599);
    let token = h.token().await;
    h.post(&token, CHANNEL, "fresh").await;
    h.fake.expire_tokens();
    assert_eq!(
        h.send(&token, CHANNEL, message("stale")).await.status(),
        401
    );
    assert_eq!(h.fake.activities(CHANNEL).len(), 1);
}

// -------------------------------------------------------------- Connector

#[tokio::test]
async fn a_post_answers_its_activity_id_and_is_recorded() {
    let h = Harness::new().await;
    let token = h.token().await;
    let resp = h
        .send(
            &token,
            CHANNEL,
            json!({"type": "message", "text": "**Deploy** done", "textFormat": "markdown"}),
        )
        .await;
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 201);
    let id = body["id"].as_str().unwrap();
    let stored = h.fake.activities(CHANNEL);
    assert_eq!(stored.len(), 1);
    let activity = &stored[0];
    assert_eq!(activity.id, id);
    assert_eq!(activity.text.as_deref(), Some("**Deploy** done"));
    assert_eq!(activity.text_format.as_deref(), Some("markdown"));
    assert_eq!(activity.from, format!("28:{APP}"));
    assert_eq!(
        activity.thread.as_deref(),
        Some(id),
        "a channel post starts a thread"
    );
    assert!(!activity.edited && !activity.deleted);
    assert_eq!(h.fake.activity(id).unwrap(), *activity);
    let request = h.fake.requests().pop().unwrap();
    assert_eq!(request.op, Some(Op::SendActivity));
    assert_eq!(request.status, 201);
    assert!(
        request.path.contains("19%3Ad4a8"),
        "raw path kept: {}",
        request.path
    );
    assert!(
        request
            .header("authorization")
            .unwrap()
            .starts_with("Bearer ")
    );
}

#[tokio::test]
async fn conversation_ids_are_decoded_once() {
    let h = Harness::new().await;
    let token = h.token().await;
    // `:` `@` `;` `=` may also arrive as they are.
    let raw = format!("{}v3/conversations/{CHANNEL}/activities", h.urls.service);
    let resp = h
        .call(Method::POST, &raw, &token, Some(message("raw")))
        .await;
    assert_eq!(resp.status(), 201);
    let root = h.fake.activities(CHANNEL)[0].id.clone();
    let raw_thread = format!(
        "{}v3/conversations/{CHANNEL};messageid={root}/activities",
        h.urls.service
    );
    let resp = h
        .call(
            Method::POST,
            &raw_thread,
            &token,
            Some(message("raw reply")),
        )
        .await;
    assert_eq!(resp.status(), 201);
    // Encoded twice is another id, which does not exist.
    let twice = format!(
        "{}v3/conversations/{}/activities",
        h.urls.service,
        encode(&encode(CHANNEL))
    );
    let resp = h
        .call(Method::POST, &twice, &token, Some(message("lost")))
        .await;
    assert_eq!(
        connector_error(resp).await,
        (404, "ConversationNotFound".into())
    );
    let bad = format!("{}v3/conversations/19%FF%FE/activities", h.urls.service);
    let resp = h
        .call(Method::POST, &bad, &token, Some(message("bad")))
        .await;
    assert_eq!(connector_error(resp).await, (400, "BadArgument".into()));
    // The service URL ends in `/`; joining it with another `/` is a miss.
    let doubled = format!(
        "{}/v3/conversations/{}/activities",
        h.urls.service,
        encode(CHANNEL)
    );
    let resp = h
        .call(Method::POST, &doubled, &token, Some(message("x")))
        .await;
    assert_eq!(resp.status(), 404);
    assert_eq!(h.fake.activities(CHANNEL).len(), 2);
}

#[tokio::test]
async fn no_token_or_one_the_fake_did_not_grant_is_denied() {
    let h = Harness::new().await;
    let url = h.url(CHANNEL, "/activities");
    let denied = json!({"message": "Authorization has been denied for this request."});
    let resp = h.http.post(&url).json(&message("hi")).send().await.unwrap();
    assert_eq!(json_of(resp).await, (401, denied.clone()));
    let token = h.token().await;
    let resp = h
        .http
        .post(&url)
        .header("Authorization", format!("Basic {token}"))
        .json(&message("hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(resp).await, (401, denied.clone()));
    // An inbound token is not a Connector token, however well signed.
    let inbound = h.fake.inbound_token(&TokenSpec::new(APP));
    assert_eq!(
        json_of(h.send(&inbound, CHANNEL, message("hi")).await).await,
        (401, denied)
    );
    assert_eq!(
        h.send("not-a-token", CHANNEL, message("hi")).await.status(),
        401
    );
    assert!(h.fake.activities(CHANNEL).is_empty());
    assert!(
        h.fake
            .requests()
            .iter()
            .all(|r| r.status == 401 || r.op == Some(Op::Token))
    );
}

#[tokio::test]
async fn a_token_from_another_app_cannot_post_and_unknown_conversations_are_404() {
    let h = Harness::new().await;
    let other = h.token_for(OTHER_APP, OTHER_PASSWORD).await;
    let resp = h.send(&other, CHANNEL, message("intruder")).await;
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"error": {"code": "BotNotInConversationRoster", "message": "The bot is not part of the conversation roster."}})
    );
    let token = h.token().await;
    let resp = h
        .send(&token, "19:never-created@thread.tacv2", message("x"))
        .await;
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"error": {"code": "ConversationNotFound", "message": "Conversation not found."}})
    );
    h.fake.add_conversation(GROUP_CHAT);
    let resp = h.send(&token, GROUP_CHAT, message("x")).await;
    assert_eq!(
        connector_error(resp).await,
        (403, "BotNotInConversationRoster".into())
    );
    h.fake.uninstall(APP, CHANNEL);
    let resp = h.send(&token, CHANNEL, message("x")).await;
    assert_eq!(
        connector_error(resp).await,
        (403, "BotNotInConversationRoster".into())
    );
    assert!(h.fake.activities(CHANNEL).is_empty());
}

#[tokio::test]
async fn replies_in_a_channel_go_into_the_activitys_thread() {
    let h = Harness::new().await;
    let token = h.token().await;
    let root = h.post(&token, CHANNEL, "root").await;
    let resp = h
        .reply(&token, CHANNEL, &root, message("first reply"))
        .await;
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 201);
    let first = body["id"].as_str().unwrap().to_string();
    // A reply to a reply lands in the same thread.
    let resp = h
        .reply(&token, CHANNEL, &first, message("second reply"))
        .await;
    assert_eq!(resp.status(), 201);
    // Posting to the thread's conversation id is a reply too.
    let thread_id = format!("{CHANNEL};messageid={root}");
    h.post(&token, &thread_id, "third reply").await;
    let other_root = h.post(&token, CHANNEL, "another post").await;

    let thread = h.fake.activities(&thread_id);
    let texts: Vec<_> = thread.iter().map(|a| a.text.clone().unwrap()).collect();
    assert_eq!(
        texts,
        ["root", "first reply", "second reply", "third reply"]
    );
    assert!(
        thread
            .iter()
            .all(|a| a.thread.as_deref() == Some(root.as_str()))
    );
    assert_eq!(thread[1].reply_to_id.as_deref(), Some(root.as_str()));
    assert_eq!(thread[2].reply_to_id.as_deref(), Some(first.as_str()));
    assert_eq!(h.fake.activities(CHANNEL).len(), 5);
    assert_eq!(
        h.fake.activity(&other_root).unwrap().thread.as_deref(),
        Some(other_root.as_str())
    );

    let resp = h
        .reply(&token, CHANNEL, "1700000000000", message("to nothing"))
        .await;
    assert_eq!(
        connector_error(resp).await,
        (404, "ActivityNotFoundInConversation".into())
    );
    let resp = h
        .send(
            &token,
            &format!("{CHANNEL};messageid=1700000000000"),
            message("x"),
        )
        .await;
    assert_eq!(
        connector_error(resp).await,
        (404, "ConversationNotFound".into())
    );
    // A reply in a chat is a plain message that names what it answers.
    h.fake.install(APP, GROUP_CHAT);
    let first_in_chat = h.post(&token, GROUP_CHAT, "chat message").await;
    let resp = h
        .reply(&token, GROUP_CHAT, &first_in_chat, message("chat reply"))
        .await;
    assert_eq!(resp.status(), 201);
    let chat = h.fake.activities(GROUP_CHAT);
    assert!(chat.iter().all(|a| a.thread.is_none()));
    assert_eq!(chat[1].reply_to_id.as_deref(), Some(first_in_chat.as_str()));
    // A thread id means nothing outside a channel.
    let resp = h
        .send(
            &token,
            &format!("{GROUP_CHAT};messageid={first_in_chat}"),
            message("x"),
        )
        .await;
    assert_eq!(connector_error(resp).await.0, 404);
}

#[tokio::test]
async fn a_bot_updates_and_deletes_only_its_own_activities() {
    let h = Harness::new().await;
    let token = h.token().await;
    let id = h.post(&token, CHANNEL, "Deploy started").await;
    let resp = h
        .update(
            &token,
            CHANNEL,
            &id,
            json!({"type": "message", "text": "Deploy *finished*", "textFormat": "markdown"}),
        )
        .await;
    assert_eq!(json_of(resp).await, (200, json!({"id": id})));
    let updated = h.fake.activity(&id).unwrap();
    assert_eq!(updated.text.as_deref(), Some("Deploy *finished*"));
    assert!(updated.edited);

    // A user's message (the inbound mention) is not the bot's.
    let mention = h
        .fake
        .inbound_activity(&Inbound::new(APP, CHANNEL, TENANT), InboundKind::MentionId);
    let users = mention["id"].as_str().unwrap();
    let resp = h.update(&token, CHANNEL, users, message("rewritten")).await;
    assert_eq!(connector_error(resp).await.0, 403);
    assert_eq!(
        connector_error(h.delete(&token, CHANNEL, users).await)
            .await
            .0,
        403
    );
    assert_eq!(
        h.fake.activity(users).unwrap().text.as_deref(),
        Some("<at>Skype Sender</at> id")
    );
    // Nor is another bot's.
    h.fake.install(OTHER_APP, CHANNEL);
    let other = h.token_for(OTHER_APP, OTHER_PASSWORD).await;
    let resp = h.update(&other, CHANNEL, &id, message("mine now")).await;
    assert_eq!(connector_error(resp).await.0, 403);
    assert_eq!(
        connector_error(h.delete(&other, CHANNEL, &id).await)
            .await
            .0,
        403
    );

    let resp = h.delete(&token, CHANNEL, &id).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "");
    assert!(h.fake.activity(&id).unwrap().deleted);
    // What was deleted cannot be changed or deleted again.
    let resp = h.update(&token, CHANNEL, &id, message("back")).await;
    assert_eq!(connector_error(resp).await, (403, "ServiceError".into()));
    assert_eq!(
        connector_error(h.delete(&token, CHANNEL, &id).await)
            .await
            .0,
        403
    );
    let resp = h.delete(&token, CHANNEL, "1700000000000").await;
    assert_eq!(
        connector_error(resp).await,
        (404, "ActivityNotFoundInConversation".into())
    );
    // An update is checked like a post.
    let fresh = h.post(&token, CHANNEL, "again").await;
    let resp = h
        .update(
            &token,
            CHANNEL,
            &fresh,
            json!({"type": "message", "text": 42}),
        )
        .await;
    assert_eq!(connector_error(resp).await, (400, "BadArgument".into()));
}

#[tokio::test]
async fn a_new_thread_in_a_channel_answers_its_conversation_and_activity_ids() {
    let h = Harness::new().await;
    let token = h.token().await;
    let url = format!("{}v3/conversations", h.urls.service);
    let params = |channel: &str, is_group: Value| {
        json!({
            "isGroup": is_group,
            "channelData": {"channel": {"id": channel}},
            "activity": {"type": "message", "text": "A new thread"},
            "tenantId": TENANT,
        })
    };
    let resp = h
        .call(
            Method::POST,
            &url,
            &token,
            Some(params(CHANNEL, json!(true))),
        )
        .await;
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 201);
    let activity_id = body["activityId"].as_str().unwrap();
    assert_eq!(body["id"], format!("{CHANNEL};messageid={activity_id}"));
    let stored = h.fake.activity(activity_id).unwrap();
    assert_eq!(stored.thread.as_deref(), Some(activity_id));
    // The answered id is a conversation the bot can post into.
    h.post(&token, body["id"].as_str().unwrap(), "in the new thread")
        .await;
    assert_eq!(h.fake.activities(body["id"].as_str().unwrap()).len(), 2);

    let resp = h
        .call(
            Method::POST,
            &url,
            &token,
            Some(params(CHANNEL, json!(false))),
        )
        .await;
    assert_eq!(connector_error(resp).await, (400, "BadArgument".into()));
    let resp = h
        .call(
            Method::POST,
            &url,
            &token,
            Some(json!({"isGroup": true, "activity": message("x")})),
        )
        .await;
    assert_eq!(connector_error(resp).await, (400, "BadArgument".into()));
    h.fake.install(APP, GROUP_CHAT);
    let resp = h
        .call(
            Method::POST,
            &url,
            &token,
            Some(params(GROUP_CHAT, json!(true))),
        )
        .await;
    assert_eq!(connector_error(resp).await, (400, "BadArgument".into()));
    let other = h.token_for(OTHER_APP, OTHER_PASSWORD).await;
    let resp = h
        .call(
            Method::POST,
            &url,
            &other,
            Some(params(CHANNEL, json!(true))),
        )
        .await;
    assert_eq!(
        connector_error(resp).await,
        (403, "BotNotInConversationRoster".into())
    );
    let resp = h
        .call(
            Method::POST,
            &url,
            &token,
            Some(params("19:gone@thread.tacv2", json!(true))),
        )
        .await;
    assert_eq!(
        connector_error(resp).await,
        (404, "ConversationNotFound".into())
    );
    let mut bad = params(CHANNEL, json!(true));
    bad["activity"]["textFormat"] = json!("html");
    let resp = h.call(Method::POST, &url, &token, Some(bad)).await;
    assert_eq!(connector_error(resp).await, (400, "BadArgument".into()));
}

#[tokio::test]
async fn malformed_activities_are_refused_and_unknown_fields_tolerated() {
    let h = Harness::new().await;
    let token = h.token().await;
    let url = h.url(CHANNEL, "/activities");
    let resp = h
        .http
        .post(&url)
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", "text/plain")
        .body(r#"{"type": "message", "text": "hi"}"#)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 415);
    assert!(body["message"].as_str().unwrap().contains("'text/plain'"));
    let resp = h
        .http
        .post(&url)
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(connector_error(resp).await, (400, "BadArgument".into()));

    let refused = [
        json!([{"type": "message", "text": "an array"}]),
        json!({"text": "no type"}),
        json!({"type": "event", "name": "x"}),
        json!({"type": "message", "text": 42}),
        json!({"type": "message", "text": "x", "textFormat": "html"}),
        json!({"type": "message", "text": "x", "attachments": {"contentType": "image/png"}}),
        json!({"type": "message", "text": "x", "entities": "mention"}),
        json!({"type": "message", "text": "x", "channelData": "tenant"}),
        json!({"type": "message", "text": "x", "replyToId": 12}),
        json!({"type": "message", "text": "   "}),
        json!({"type": "message"}),
    ];
    for activity in refused {
        let resp = h.send(&token, CHANNEL, activity.clone()).await;
        assert_eq!(
            connector_error(resp).await,
            (400, "BadArgument".into()),
            "{activity}"
        );
    }
    assert!(h.fake.activities(CHANNEL).is_empty());

    let tolerated = json!({
        "type": "message",
        "text": "plain",
        "textFormat": "plain",
        "someFutureField": {"x": 1},
        "summary": null,
        "from": {"id": "28:whatever"},
        "channelData": {"notification": {"alert": true}},
    });
    assert_eq!(h.send(&token, CHANNEL, tolerated).await.status(), 201);
    let xml = json!({"type": "message", "text": "<b>bold</b>", "textFormat": "xml"});
    assert_eq!(h.send(&token, CHANNEL, xml).await.status(), 201);
}

#[tokio::test]
async fn cards_and_inline_pictures_are_checked() {
    let h = Harness::new().await;
    let token = h.token().await;
    let card = |content: Value| json!({"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": content}]});
    let good_card = card(
        json!({"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "hi"}]}),
    );
    assert_eq!(h.send(&token, CHANNEL, good_card).await.status(), 201);
    for content in [
        json!({"type": "HeroCard", "version": "1.5"}),
        json!({"type": "AdaptiveCard", "version": 1.5}),
        json!({"type": "AdaptiveCard", "version": "1.5", "body": [{"text": "no type"}]}),
        json!("a string"),
    ] {
        let resp = h.send(&token, CHANNEL, card(content.clone())).await;
        assert_eq!(
            connector_error(resp).await,
            (400, "BadArgument".into()),
            "{content}"
        );
    }

    let picture = |content_type: &str, url: String| json!({"type": "message", "text": "chart", "attachments": [{"contentType": content_type, "contentUrl": url, "name": "chart.png"}]});
    let resp = h
        .send(&token, CHANNEL, picture("image/png", png_data_uri(PNG)))
        .await;
    assert_eq!(resp.status(), 201);
    let stored = h.fake.activities(CHANNEL).pop().unwrap();
    assert_eq!(stored.attachments[0]["contentType"], "image/png");
    let https = picture("image/png", "https://example.com/chart.png".into());
    assert_eq!(h.send(&token, CHANNEL, https).await.status(), 201);

    let refused = [
        picture("image/jpeg", png_data_uri(PNG)),
        picture(
            "image/png",
            format!(
                "data:image/png;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(b"GIF89a not a png")
            ),
        ),
        picture("image/png", "data:image/png;base64,@@@not-base64@@@".into()),
        picture("image/png", "http://example.com/chart.png".into()),
        picture("image/bmp", png_data_uri(PNG)),
        picture("text/html", "https://example.com/".into()),
        json!({"type": "message", "attachments": [{"contentUrl": "https://example.com/x.png"}]}),
    ];
    for activity in refused {
        let resp = h.send(&token, CHANNEL, activity.clone()).await;
        assert_eq!(
            connector_error(resp).await,
            (400, "BadArgument".into()),
            "{activity}"
        );
    }

    // Over Teams' picture limit: the Connector's 413.
    let mut huge = PNG.to_vec();
    huge.resize(MAX_INLINE_IMAGE_BYTES + 1, 0);
    let resp = h
        .send(&token, CHANNEL, picture("image/png", png_data_uri(&huge)))
        .await;
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 413);
    assert_eq!(
        body,
        json!({"error": {"code": "MessageSizeTooBig", "message": "Message size too large."}})
    );
    // Just within it, and not counted in the message size.
    huge.truncate(MAX_INLINE_IMAGE_BYTES);
    let resp = h
        .send(&token, CHANNEL, picture("image/png", png_data_uri(&huge)))
        .await;
    assert_eq!(resp.status(), 201);
}

#[tokio::test]
async fn the_message_size_limit_counts_utf16_text() {
    let h = Harness::new().await;
    let token = h.token().await;
    // 45,000 ASCII characters are 90,000 bytes as UTF-16: within 100 KB.
    assert_eq!(
        h.send(&token, CHANNEL, message(&"a".repeat(45_000)))
            .await
            .status(),
        201
    );
    // 55,000 are 110,000 bytes: over, though 55 KB as UTF-8.
    let resp = h.send(&token, CHANNEL, message(&"a".repeat(55_000))).await;
    assert_eq!(
        connector_error(resp).await,
        (413, "MessageSizeTooBig".into())
    );
    assert_eq!(h.fake.activities(CHANNEL).len(), 1);
}

#[tokio::test]
async fn mentions_must_match_the_text() {
    let h = Harness::new().await;
    let token = h.token().await;
    let joe = Member::named("Joe");
    h.fake.add_member(CHANNEL, joe.clone());
    let mention =
        |text: &str, entity: Value| json!({"type": "message", "text": text, "entities": [entity]});
    let ok = mention(
        "Ping <at>Joe</at>",
        json!({"type": "mention", "mentioned": {"id": joe.id, "name": "Joe"}, "text": "<at>Joe</at>"}),
    );
    assert_eq!(h.send(&token, CHANNEL, ok).await.status(), 201);
    let stored = h.fake.activities(CHANNEL).pop().unwrap();
    assert_eq!(stored.entities[0]["mentioned"]["id"], joe.id.as_str());

    let refused = [
        mention(
            "Ping Joe",
            json!({"type": "mention", "mentioned": {"id": joe.id, "name": "Joe"}, "text": "<at>Joe</at>"}),
        ),
        mention(
            "Ping <at>Joe</at>",
            json!({"type": "mention", "mentioned": {"name": "Joe"}, "text": "<at>Joe</at>"}),
        ),
        mention(
            "Ping Joe",
            json!({"type": "mention", "mentioned": {"id": joe.id}, "text": "Joe"}),
        ),
        mention(
            "Ping <at>Joe</at>",
            json!({"type": "mention", "mentioned": {"id": joe.id}}),
        ),
        mention("Ping", json!({"mentioned": {"id": joe.id}})),
    ];
    for activity in refused {
        let resp = h.send(&token, CHANNEL, activity.clone()).await;
        assert_eq!(
            connector_error(resp).await,
            (400, "BadArgument".into()),
            "{activity}"
        );
    }
    // Other entity types pass through.
    let info = mention("hi", json!({"type": "clientInfo", "locale": "en-US"}));
    assert_eq!(h.send(&token, CHANNEL, info).await.status(), 201);
}

#[tokio::test]
async fn members_are_listed_for_an_installed_bot() {
    let h = Harness::new().await;
    let token = h.token().await;
    let joe = Member::named("Joe");
    h.fake.add_member(CHANNEL, joe.clone());
    let url = h.url(CHANNEL, "/members");
    let (status, body) = json_of(h.call(Method::GET, &url, &token, None).await).await;
    assert_eq!(status, 200);
    assert_eq!(body[0]["id"], joe.id.as_str());
    assert_eq!(body[0]["name"], "Joe");
    assert_eq!(body[0]["aadObjectId"], joe.aad_object_id.as_str());
    let other = h.token_for(OTHER_APP, OTHER_PASSWORD).await;
    let resp = h.call(Method::GET, &url, &other, None).await;
    assert_eq!(connector_error(resp).await.0, 403);
}

// ----------------------------------------------------------------- faults

#[tokio::test]
async fn throttling_and_failures_answer_before_anything_is_stored() {
    let h = Harness::new().await;
    let token = h.token().await;
    h.fake.inject(
        Op::SendActivity,
        Fault::TooManyRequests {
            retry_after_secs: 7,
        },
        1,
    );
    let resp = h.send(&token, CHANNEL, message("first")).await;
    assert_eq!(resp.headers()["retry-after"], "7");
    assert_eq!(connector_error(resp).await, (429, "Throttled".into()));
    assert!(h.fake.activities(CHANNEL).is_empty());
    h.post(&token, CHANNEL, "second").await;

    h.fake.inject(Op::ReplyToActivity, Fault::Status(503), 1);
    let root = h.fake.activities(CHANNEL)[0].id.clone();
    let resp = h.reply(&token, CHANNEL, &root, message("x")).await;
    assert_eq!(connector_error(resp).await, (503, "ServiceError".into()));

    h.fake.inject(
        Op::Token,
        Fault::TooManyRequests {
            retry_after_secs: 2,
        },
        1,
    );
    let resp = h
        .token_form(TENANT, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(resp.headers()["retry-after"], "2");
    assert_eq!(entra_error(resp).await.0, 429);

    h.fake.inject(Op::Jwks, Fault::Status(500), 1);
    assert_eq!(h.http.get(h.jwks_url()).send().await.unwrap().status(), 500);
    assert_eq!(h.fake.jwks_fetches(), 1);
}

#[tokio::test]
async fn dropped_connections_before_and_after_handling() {
    let h = Harness::new().await;
    let token = h.token().await;
    h.fake.inject(Op::SendActivity, Fault::DropConnection, 1);
    assert!(h.send_dropped(&token, CHANNEL, message("never")).await);
    assert!(h.fake.activities(CHANNEL).is_empty());

    h.fake.inject(Op::SendActivity, Fault::DropAfterHandling, 1);
    assert!(h.send_dropped(&token, CHANNEL, message("stored")).await);
    let stored = h.fake.activities(CHANNEL);
    assert_eq!(stored.len(), 1, "the uncertain outcome: it was posted");
    assert_eq!(stored[0].text.as_deref(), Some("stored"));
    let sends: Vec<u16> = h
        .fake
        .requests()
        .iter()
        .filter(|r| r.op == Some(Op::SendActivity))
        .map(|r| r.status)
        .collect();
    assert_eq!(sends, [0, 0]);

    h.fake.inject(
        Op::DeleteActivity,
        Fault::Slow(Duration::from_millis(300)),
        1,
    );
    let started = std::time::Instant::now();
    assert_eq!(h.delete(&token, CHANNEL, &stored[0].id).await.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn unknown_paths_and_methods_are_refused_and_recorded() {
    let h = Harness::new().await;
    let token = h.token().await;
    let resp = h
        .call(
            Method::GET,
            &format!("{}v3/conversations/x/nothing", h.urls.service),
            &token,
            None,
        )
        .await;
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 404);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("No HTTP resource")
    );
    let resp = h
        .call(
            Method::PATCH,
            &h.url(CHANNEL, "/activities/1"),
            &token,
            None,
        )
        .await;
    assert_eq!(resp.status(), 405);
    let resp = h.http.post(&h.urls.openid).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    let statuses: Vec<(Option<Op>, u16)> =
        h.fake.requests().iter().map(|r| (r.op, r.status)).collect();
    assert_eq!(
        statuses,
        [
            (Some(Op::Token), 200),
            (None, 404),
            (None, 405),
            (None, 405)
        ]
    );
    assert_eq!(
        h.fake.client_env()[0],
        ("TEAMS_OPENID_URL", h.urls.openid.clone())
    );
}
