//! Getting a skype token: the SOAP flow for e-mail addresses, the web flow
//! for Skype names (SkPy's choice), then the profile for who we are.

mod soap;
mod web;

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::error::SkypeError;
use super::http::{Api, Auth, check, json_body};
use super::session::SkypeAuth;
use crate::clock::unix_seconds;

/// The bot account's user name and password.
#[derive(Clone)]
pub struct Credentials {
    /// An e-mail address (SOAP flow) or a Skype name (web flow).
    pub username: String,
    /// Never printed: `Debug` shows only the user name.
    pub password: SecretString,
}

impl Credentials {
    /// Pairs a user name with its password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: SecretString::from(password.into()),
        }
    }
}

impl Credentials {
    /// Whether both hold the same user name and password.
    pub fn same_as(&self, other: &Credentials) -> bool {
        self.username == other.username
            && self.password.expose_secret() == other.password.expose_secret()
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .finish()
    }
}

/// The bot's profile: its id and the name shown next to its messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The profile user name (`fred.2`, `live:.cid....`).
    pub user_id: String,
    /// Sent as `imdisplayname`.
    pub display_name: String,
}

/// A skype token and its lifetime, as the login flows hand it over.
pub(crate) struct IssuedToken {
    pub token: SecretString,
    pub expires_in: u64,
}

impl Api {
    /// Logs in with the flow SkPy would pick, then reads the profile.
    pub(crate) async fn login(&self, credentials: &Credentials) -> Result<SkypeAuth, SkypeError> {
        let issued = if credentials.username.contains('@') {
            self.soap_login(credentials).await?
        } else {
            self.web_login(credentials).await?
        };
        let started = unix_seconds();
        let profile = self.profile(&issued.token).await?;
        Ok(SkypeAuth {
            user_id: profile.user_id,
            display_name: Some(profile.display_name),
            token: issued.token,
            expires_at: started.saturating_add(issued.expires_in),
        })
    }

    /// `GET /users/self/profile`: the user id and display name.
    pub(crate) async fn profile(&self, token: &SecretString) -> Result<Profile, SkypeError> {
        let response = self
            .http
            .get(format!("{}/users/self/profile", self.urls.api))
            .header("X-SkypeToken", token.expose_secret())
            .send()
            .await?;
        let json = json_body(check(response, Auth::SkypeToken).await?, "profile").await?;
        let text = |key: &str| json.get(key).and_then(Value::as_str).unwrap_or("").trim();
        let user_id = text("username");
        if user_id.is_empty() {
            return Err(SkypeError::Protocol("profile without a username".into()));
        }
        let full_name = format!("{} {}", text("firstname"), text("lastname"));
        let display_name = [text("displayname"), text("name"), full_name.trim(), user_id]
            .into_iter()
            .find(|name| !name.is_empty())
            .unwrap_or(user_id)
            .to_string();
        Ok(Profile {
            user_id: user_id.to_string(),
            display_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let shown = format!("{:?}", Credentials::new("fred.2", "hunter2"));
        assert!(shown.contains("fred.2"));
        assert!(!shown.contains("hunter2"));
    }
}
