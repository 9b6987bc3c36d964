//! Registering a messaging endpoint (docs/skype-protocol.md §4): the
//! registration token every message is sent with.

use std::sync::LazyLock;

use regex_lite::Regex;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::error::SkypeError;
use super::http::{Api, Auth, MAX_ANSWER_BYTES, check, classify, read_body, read_text};
use super::lock_and_key;
use super::session::{Registration, SkypeAuth};
use crate::base_url::check_base_url;
use crate::clock::unix_seconds;

static LOCATION_PARTS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(https?://[^/]+/v1)/users/ME/endpoints(?:/(%7B[a-zA-Z0-9\-]+%7D))?").unwrap()
});
static TOKEN: LazyLock<Regex> =
    // ASCII-only case folding (regex-lite knows no other): `ſ` is no `s`.
    LazyLock::new(|| Regex::new(r"(?i)(registrationToken=[a-z0-9+/=]+)").unwrap());
static EXPIRES: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"expires=(\d+)").unwrap());
static ENDPOINT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"endpointId=(\{[a-zA-Z0-9\-]+\})").unwrap());

impl Api {
    /// Registers an endpoint, following the host switch, then publishes the
    /// endpoint's presence document as SkPy does.
    pub(crate) async fn register(&self, auth: &SkypeAuth) -> Result<Registration, SkypeError> {
        let registration = self.register_endpoint(auth).await?;
        if let Some(endpoint) = &registration.endpoint_id {
            self.publish_presence(&registration, endpoint).await?;
        }
        Ok(registration)
    }

    async fn register_endpoint(&self, auth: &SkypeAuth) -> Result<Registration, SkypeError> {
        let mut host = self.urls.msgs.clone();
        for _ in 0..=self.options.max_registration_hops {
            let response = self
                .http
                .post(format!("{host}/users/ME/endpoints"))
                .header("LockAndKey", lock_and_key::header_value(unix_seconds()))
                .header(
                    "Authentication",
                    format!("skypetoken={}", auth.token.expose_secret()),
                )
                .header("BehaviorOverride", "redirectAs404")
                .json(&json!({"endpointFeatures": "Agent"}))
                .send()
                .await?;
            let status = response.status();
            if !matches!(status.as_u16(), 200 | 201 | 404) {
                return Err(check(response, Auth::SkypeToken).await.err().unwrap_or(
                    SkypeError::Protocol(format!("registration answered {status}")),
                ));
            }

            let mut endpoint_id = None;
            let location = header(&response, LOCATION.as_str());
            if let Some(location) = location.as_deref().and_then(parse_endpoint_location) {
                endpoint_id = location.endpoint_id;
                if location.msgs_host != host {
                    // Skype wants another host: register there instead,
                    // ignoring any token in this answer.
                    host = check_base_url("Location", &location.msgs_host).map_err(|_| {
                        SkypeError::Protocol("redirect to an untrusted host".into())
                    })?;
                    continue;
                }
            }

            let Some(set_token) = header(&response, "Set-RegistrationToken") else {
                if status == StatusCode::NOT_FOUND {
                    let body = read_text(response, MAX_ANSWER_BYTES)
                        .await
                        .unwrap_or_default();
                    return Err(classify(status, None, &body, Auth::SkypeToken));
                }
                return Err(SkypeError::Protocol(
                    "registration answer without Set-RegistrationToken".into(),
                ));
            };
            let (token, expires_at, listed_endpoint) = parse_registration_token(&set_token)?;
            endpoint_id = listed_endpoint.or(endpoint_id);
            if endpoint_id.is_none() && status == StatusCode::OK {
                let body: Value = read_body(response, MAX_ANSWER_BYTES)
                    .await
                    .ok()
                    .and_then(|body| serde_json::from_slice(&body).ok())
                    .unwrap_or(Value::Null);
                endpoint_id = body
                    .pointer("/0/id")
                    .and_then(Value::as_str)
                    .map(str::to_string);
            }
            return Ok(Registration {
                token,
                expires_at,
                msgs_host: host,
                endpoint_id,
            });
        }
        Err(SkypeError::Protocol(format!(
            "registration moved host more than {} times",
            self.options.max_registration_hops
        )))
    }

    /// `PUT .../endpoints/%7B<guid>%7D/presenceDocs/messagingService`.
    async fn publish_presence(
        &self,
        registration: &Registration,
        endpoint: &str,
    ) -> Result<(), SkypeError> {
        let endpoint = endpoint.replace('{', "%7B").replace('}', "%7D");
        let response = self
            .http
            .put(format!(
                "{}/users/ME/endpoints/{endpoint}/presenceDocs/messagingService",
                registration.msgs_host
            ))
            .header("RegistrationToken", registration.token.expose_secret())
            .json(&json!({
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
            }))
            .send()
            .await?;
        check(response, Auth::Registration).await?;
        Ok(())
    }
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    Some(response.headers().get(name)?.to_str().ok()?.to_string())
}

/// What a registration's `Location` header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointLocation {
    /// The messaging host (`https://.../v1`) to use from now on.
    pub msgs_host: String,
    /// `{guid}` of the endpoint, when named.
    pub endpoint_id: Option<String>,
}

/// Reads `<host>/v1/users/ME/endpoints[/%7B<guid>%7D]`.
pub fn parse_endpoint_location(location: &str) -> Option<EndpointLocation> {
    let parts = LOCATION_PARTS.captures(location)?;
    Some(EndpointLocation {
        msgs_host: parts[1].to_string(),
        endpoint_id: parts
            .get(2)
            .map(|id| id.as_str().replace("%7B", "{").replace("%7D", "}")),
    })
}

/// Reads `registrationToken=<b64>; expires=<unix secs>; endpointId={guid}`,
/// keeping the `registrationToken=` prefix (it is sent back as is).
pub fn parse_registration_token(
    header: &str,
) -> Result<(SecretString, u64, Option<String>), SkypeError> {
    let token = TOKEN
        .captures(header)
        .ok_or_else(|| SkypeError::Protocol("Set-RegistrationToken without a token".into()))?;
    let expires = EXPIRES
        .captures(header)
        .and_then(|found| found[1].parse().ok())
        .ok_or_else(|| SkypeError::Protocol("Set-RegistrationToken without expires".into()))?;
    let endpoint = ENDPOINT.captures(header).map(|found| found[1].to_string());
    Ok((SecretString::from(token[1].to_string()), expires, endpoint))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_token_header_keeps_the_prefix() {
        let (token, expires, endpoint) = parse_registration_token(
            "registrationToken=U2t5cGU+/w==; expires=1795705755; endpointId={eeeeeeee-eeee-eeee-eeee-eeeeeeeeeeee}",
        )
        .unwrap();
        assert_eq!(token.expose_secret(), "registrationToken=U2t5cGU+/w==");
        assert_eq!(expires, 1795705755);
        assert_eq!(
            endpoint.as_deref(),
            Some("{eeeeeeee-eeee-eeee-eeee-eeeeeeeeeeee}")
        );
        assert!(parse_registration_token("registrationToken=abc").is_err());
        assert!(parse_registration_token("expires=1").is_err());
    }

    #[test]
    fn location_gives_host_and_endpoint() {
        let parts = LOCATION_PARTS
            .captures("https://db1-client-s.gateway.messenger.live.com/v1/users/ME/endpoints/%7Beeee-01%7D")
            .unwrap();
        assert_eq!(
            &parts[1],
            "https://db1-client-s.gateway.messenger.live.com/v1"
        );
        assert_eq!(&parts[2], "%7Beeee-01%7D");
        let parts = LOCATION_PARTS
            .captures("http://127.0.0.1:9/v1/users/ME/endpoints")
            .unwrap();
        assert!(parts.get(2).is_none());
    }
}
