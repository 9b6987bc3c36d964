//! The bot's own token: client credentials against the tenant's Entra ID
//! token endpoint, for the Bot Framework's scope. One token serves every
//! Connector call of a container until shortly before it expires; callers
//! that need one at the same moment wait for the same request.

use std::fmt;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;

use super::config::TeamsUrls;
use super::error::{TeamsError, TokenRefusal};
use crate::http_answer::Answer;

/// The scope a Connector token is granted for.
pub const BOT_FRAMEWORK_SCOPE: &str = "https://api.botframework.com/.default";
/// Token answers and refusals are small JSON documents.
const MAX_ANSWER: usize = 16 * 1024;
/// Renew this long before the token expires, so none dies on the way.
const RENEW_MARGIN: Duration = Duration::from_secs(300);

/// The Azure Bot's app registration (the secret's `"teams"` block).
#[derive(Clone)]
pub struct AppCredentials {
    /// The Microsoft App ID (a GUID): the bot's identity and the audience
    /// of inbound tokens.
    pub app_id: String,
    /// The client secret's value.
    pub app_password: SecretString,
    /// The Entra tenant of a single-tenant bot (a GUID or a domain).
    pub tenant_id: String,
}

impl fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCredentials")
            .field("app_id", &self.app_id)
            .field("tenant_id", &self.tenant_id)
            .field("app_password", &"[redacted]")
            .finish()
    }
}

/// Why a `"teams"` block cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("teams.{0}")]
pub struct InvalidAppCredentials(&'static str);

impl AppCredentials {
    /// Checks the three values once, when the secret is read: the tenant
    /// goes into a URL path, so it may only be a GUID or a domain name.
    pub fn new(
        app_id: &str,
        app_password: &str,
        tenant_id: &str,
    ) -> Result<Self, InvalidAppCredentials> {
        let (app_id, tenant_id) = (app_id.trim(), tenant_id.trim());
        let word = |text: &str| {
            !text.is_empty()
                && text.len() <= 100
                && text
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        };
        if !word(app_id) {
            return Err(InvalidAppCredentials(
                "app_id must be the bot's Microsoft App ID (a GUID)",
            ));
        }
        if app_password.is_empty() {
            return Err(InvalidAppCredentials(
                "app_password must be the client secret's value",
            ));
        }
        if !word(tenant_id) || tenant_id.starts_with('.') {
            return Err(InvalidAppCredentials(
                "tenant_id must be the Entra tenant's id (a GUID) or domain",
            ));
        }
        Ok(Self {
            app_id: app_id.to_string(),
            app_password: SecretString::from(app_password.to_string()),
            tenant_id: tenant_id.to_string(),
        })
    }

    fn same_as(&self, other: &AppCredentials) -> bool {
        self.app_id == other.app_id
            && self.tenant_id == other.tenant_id
            && self.app_password.expose_secret() == other.app_password.expose_secret()
    }
}

/// The cached token of one app.
struct Cached {
    for_app: AppCredentials,
    token: SecretString,
    renew_at: Instant,
}

/// The app token cache of a container.
#[derive(Default)]
pub(crate) struct AppTokens {
    cached: Mutex<Option<Cached>>,
}

#[derive(Deserialize)]
struct Granted {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize)]
struct Refused {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_codes: Vec<u32>,
}

impl AppTokens {
    /// A token for `app`, fetched only when none is cached or it expires
    /// soon (or the credentials changed).
    pub async fn get(
        &self,
        http: &reqwest::Client,
        urls: &TeamsUrls,
        app: &AppCredentials,
    ) -> Result<SecretString, TeamsError> {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref()
            && token.for_app.same_as(app)
            && Instant::now() < token.renew_at
        {
            return Ok(token.token.clone());
        }
        let (token, lifetime) = fetch(http, urls, app).await?;
        // A short-lived token is renewed at half its life instead.
        let early = RENEW_MARGIN.min(lifetime / 2);
        *cached = Some(Cached {
            for_app: app.clone(),
            token: token.clone(),
            renew_at: Instant::now() + lifetime.saturating_sub(early),
        });
        Ok(token)
    }

    /// Whether a token is cached and not due for renewal.
    pub async fn is_fresh(&self) -> bool {
        self.cached
            .lock()
            .await
            .as_ref()
            .is_some_and(|token| Instant::now() < token.renew_at)
    }

    /// Drops the cached token (the Connector refused it).
    pub async fn forget(&self) {
        *self.cached.lock().await = None;
    }
}

async fn fetch(
    http: &reqwest::Client,
    urls: &TeamsUrls,
    app: &AppCredentials,
) -> Result<(SecretString, Duration), TeamsError> {
    let endpoint = format!("{}/{}/oauth2/v2.0/token", urls.login, app.tenant_id);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", app.app_id.as_str()),
        ("client_secret", app.app_password.expose_secret()),
        ("scope", BOT_FRAMEWORK_SCOPE),
    ];
    let response = http
        .post(endpoint)
        .form(&form)
        .send()
        .await
        .map_err(|err| TeamsError::from_transport(&err, false))?;
    let answer = Answer::read(response, MAX_ANSWER).await;
    tracing::debug!(status = answer.status, "Entra ID token endpoint answered");
    match answer.status {
        200 => {
            let granted: Granted = serde_json::from_str(&answer.body)
                .map_err(|_| TeamsError::BadAnswer("a token answer without a token".into()))?;
            if granted.access_token.is_empty() {
                return Err(TeamsError::BadAnswer("an empty app token".into()));
            }
            Ok((
                SecretString::from(granted.access_token),
                Duration::from_secs(granted.expires_in),
            ))
        }
        429 => Err(TeamsError::RateLimited {
            retry_after: answer.retry_after,
        }),
        400..=499 => {
            let refused: Refused = serde_json::from_str(&answer.body).unwrap_or(Refused {
                error: String::new(),
                error_codes: Vec::new(),
            });
            Err(TeamsError::TokenRefused(TokenRefusal::from_answer(
                &refused.error,
                &refused.error_codes,
            )))
        }
        300..=399 => Err(TeamsError::BadAnswer(format!(
            "the token endpoint redirected (HTTP {})",
            answer.status
        ))),
        status => Err(TeamsError::Unavailable {
            status: Some(status),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_checked_and_never_shown() {
        let app =
            AppCredentials::new(" 0000-app ", "s3cret-value", "contoso.onmicrosoft.com").unwrap();
        assert_eq!(app.app_id, "0000-app");
        assert!(!format!("{app:?}").contains("s3cret"));
        for (id, password, tenant) in [
            ("", "p", "t"),
            ("a/b", "p", "t"),
            ("a", "", "t"),
            ("a", "p", "../common"),
            ("a", "p", "t/oauth2"),
            ("a", "p", ""),
        ] {
            assert!(
                AppCredentials::new(id, password, tenant).is_err(),
                "{id} {tenant}"
            );
        }
    }

    #[test]
    fn entra_codes_name_the_fix() {
        assert_eq!(
            TokenRefusal::from_answer("invalid_client", &[7000215]),
            TokenRefusal::WrongSecret
        );
        assert_eq!(
            TokenRefusal::from_answer("unauthorized_client", &[700016]),
            TokenRefusal::AppNotFound
        );
        assert_eq!(
            TokenRefusal::from_answer("invalid_request", &[90002]),
            TokenRefusal::TenantMismatch(90002)
        );
    }
}
