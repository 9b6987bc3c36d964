//! A webhook URL, parsed once and kept secret.
//!
//! A Teams Workflows or Slack webhook URL *is* the credential: whoever holds
//! it can post to the channel. So it is checked once (https, no userinfo)
//! and then only ever shown as its host.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use secrecy::{ExposeSecret, SecretString};
use url::{Host, Url};

/// A webhook URL that can be posted to; never printed.
///
/// `Debug` and `Display` show only the host (`WebhookUrl(hooks.slack.com)`,
/// `[redacted webhook URL on hooks.slack.com]`),
/// which tell an operator which service it points at without leaking the
/// secret path or the `sig` query.
#[derive(Clone)]
pub struct WebhookUrl {
    secret: SecretString,
    host: String,
}

/// Why a string is not a usable webhook URL. The messages never repeat the
/// URL, which is a secret even when it is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidWebhookUrl {
    /// Not an absolute URL at all.
    #[error("the webhook URL is not a valid absolute URL")]
    Malformed,
    /// `http:` to a non-loopback host, or another scheme.
    #[error(
        "the webhook URL must use https (plain http is allowed to 127.0.0.1, localhost or [::1] only)"
    )]
    NotHttps,
    /// `https://user:password@...`: credentials belong in the path or query.
    #[error("the webhook URL must not contain a user name or password")]
    UserInfo,
    /// `https:///path` or similar.
    #[error("the webhook URL has no host")]
    NoHost,
}

impl WebhookUrl {
    /// Checks `text` and keeps it as a secret.
    ///
    /// https only, except plain http to a loopback address so that the local
    /// fakes (tests, `make run`) can be used without certificates.
    pub fn parse(text: &str) -> Result<Self, InvalidWebhookUrl> {
        let url = Url::parse(text.trim()).map_err(|_| InvalidWebhookUrl::Malformed)?;
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err(InvalidWebhookUrl::NotHttps),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(InvalidWebhookUrl::UserInfo);
        }
        let host = url.host().ok_or(InvalidWebhookUrl::NoHost)?;
        if !https && !is_loopback(&host) {
            return Err(InvalidWebhookUrl::NotHttps);
        }
        let host = host.to_string();
        Ok(Self {
            secret: SecretString::from(String::from(url)),
            host,
        })
    }

    /// The host alone (not secret): for logs and messages.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The full URL, secret path and query included: only to send a request.
    pub fn expose_secret(&self) -> &str {
        self.secret.expose_secret()
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => *ip == Ipv4Addr::LOCALHOST,
        Host::Ipv6(ip) => *ip == Ipv6Addr::LOCALHOST,
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookUrl({})", self.host)
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[redacted webhook URL on {}]", self.host)
    }
}

/// Two handles on the same webhook (compares the secret, for config tests).
impl PartialEq for WebhookUrl {
    fn eq(&self, other: &Self) -> bool {
        self.expose_secret() == other.expose_secret()
    }
}

impl Eq for WebhookUrl {}

impl FromStr for WebhookUrl {
    type Err = InvalidWebhookUrl;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// Lets a channel entry of the secret (`{"kind": ..., "url": ...}`) be
/// deserialized straight into a checked URL; the error names no URL.
impl<'de> serde::Deserialize<'de> for WebhookUrl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = SecretString::from(String::deserialize(deserializer)?);
        Self::parse(text.expose_secret()).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEAMS: &str = "https://prod-01.westeurope.logic.azure.com:443/workflows/0123abcd/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SeCrEtSiG";
    const SLACK: &str = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";

    #[test]
    fn accepts_real_shapes_and_keeps_them_whole() {
        let teams = WebhookUrl::parse(TEAMS).unwrap();
        assert_eq!(teams.host(), "prod-01.westeurope.logic.azure.com");
        // The default port is dropped by normalisation; the rest is kept.
        assert!(teams.expose_secret().ends_with("sv=1.0&sig=SeCrEtSiG"));
        let slack = WebhookUrl::parse(SLACK).unwrap();
        assert_eq!(slack.expose_secret(), SLACK);
        assert_eq!(slack.host(), "hooks.slack.com");
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "http://127.0.0.1:8080/services/T/B/S",
            "http://localhost/x",
            "http://LOCALHOST:1/x",
            "http://[::1]:9/x",
        ] {
            assert!(WebhookUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://hooks.slack.com/services/T/B/S",
            "http://127.0.0.2/x",
            "http://10.0.0.1/x",
            "http://localhost.example.com/x",
            "ftp://hooks.slack.com/x",
            "file:///etc/passwd",
        ] {
            assert_eq!(
                WebhookUrl::parse(bad).unwrap_err(),
                InvalidWebhookUrl::NotHttps,
                "{bad}"
            );
        }
    }

    #[test]
    fn refuses_userinfo_and_garbage() {
        assert_eq!(
            WebhookUrl::parse("https://user:pw@hooks.slack.com/x").unwrap_err(),
            InvalidWebhookUrl::UserInfo
        );
        assert_eq!(
            WebhookUrl::parse("https://user@hooks.slack.com/x").unwrap_err(),
            InvalidWebhookUrl::UserInfo
        );
        for bad in [
            "",
            "hooks.slack.com/services/T/B/S",
            "https://",
            "not a url",
        ] {
            assert!(WebhookUrl::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            WebhookUrl::parse("mailto:someone@example.com").unwrap_err(),
            InvalidWebhookUrl::NotHttps
        );
    }

    #[test]
    fn never_shows_the_secret() {
        let url = WebhookUrl::parse(TEAMS).unwrap();
        for shown in [
            format!("{url:?}"),
            format!("{url}"),
            format!("{:?}", Some(&url)),
        ] {
            assert!(!shown.contains("SeCrEtSiG"), "{shown}");
            assert!(!shown.contains("0123abcd"), "{shown}");
            assert!(
                shown.contains("prod-01.westeurope.logic.azure.com"),
                "{shown}"
            );
        }
        let secret_in_bad_url = "http://example.com/services/T/B/SeCrEtSiG";
        let err = WebhookUrl::parse(secret_in_bad_url).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("SeCrEtSiG"));
    }

    #[test]
    fn deserializes_from_a_channel_entry_without_leaking() {
        #[derive(serde::Deserialize)]
        struct Entry {
            url: WebhookUrl,
        }
        let entry: Entry = serde_json::from_str(&format!(r#"{{"url":"{SLACK}"}}"#)).unwrap();
        assert_eq!(entry.url, WebhookUrl::parse(SLACK).unwrap());
        let bad = r#"{"url":"http://hooks.slack.com/services/T/B/SeCrEtSiG"}"#;
        let err = serde_json::from_str::<Entry>(bad).err().unwrap();
        assert!(err.to_string().contains("https"), "{err}");
        assert!(!err.to_string().contains("SeCrEtSiG"), "{err}");
    }
}
