//! Where the Skype hosts are and how patiently we talk to them.

use std::time::Duration;

pub use crate::base_url::InvalidUrl;
use crate::base_url::check_base_url;

/// The base URLs of the Skype hosts (docs/skype-protocol.md §1).
///
/// Every one is configurable because consumer Skype is gone: tests and local
/// runs point them at the fake server over `http://127.0.0.1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkypeUrls {
    /// Microsoft account: SOAP `RST.srf` and the web `post.srf`.
    pub live: String,
    /// Skype login: the web flow's start page and `t` exchange.
    pub login: String,
    /// Edge: the SOAP flow's token exchange.
    pub edge: String,
    /// Skype API: the profile.
    pub api: String,
    /// The first messaging host tried; registration may move us to another.
    pub msgs: String,
    /// The file objects API (ASM), ending in `/v1/objects`.
    pub asm: String,
}

impl Default for SkypeUrls {
    fn default() -> Self {
        Self {
            live: "https://login.live.com".into(),
            login: "https://login.skype.com".into(),
            edge: "https://edge.skype.com".into(),
            api: "https://api.skype.com".into(),
            msgs: "https://client-s.gateway.messenger.live.com/v1".into(),
            asm: "https://api.asm.skype.com/v1/objects".into(),
        }
    }
}

impl SkypeUrls {
    /// Reads the `SKYPE_*_URL` overrides (README, "Configuration") through
    /// `lookup`, so the caller decides where configuration comes from
    /// (environment, tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, InvalidUrl> {
        let mut urls = Self::default();
        for (name, slot) in [
            ("SKYPE_LIVE_URL", &mut urls.live),
            ("SKYPE_LOGIN_URL", &mut urls.login),
            ("SKYPE_EDGE_URL", &mut urls.edge),
            ("SKYPE_API_URL", &mut urls.api),
            ("SKYPE_MSGS_URL", &mut urls.msgs),
            ("SKYPE_ASM_URL", &mut urls.asm),
        ] {
            if let Some(value) = lookup(name).filter(|v| !v.trim().is_empty()) {
                *slot = check_base_url(name, value.trim())?;
            }
        }
        Ok(urls)
    }
}

/// Timeouts and renewal policy of a [`crate::skype::SkypeClient`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// TCP + TLS connect timeout for every request.
    pub connect_timeout: Duration,
    /// Whole-request timeout (send, read the answer).
    pub request_timeout: Duration,
    /// Renew a token this long before it expires, so no request is sent
    /// with a token that dies on the way.
    pub renew_margin: Duration,
    /// How many host switches registration follows (SkPy loops forever).
    pub max_registration_hops: usize,
    /// Sent as `User-Agent` on every request.
    pub user_agent: String,
    /// While logins are blocked (a wall, a throttle) or impossible (no
    /// password), how often a client asks its login gate for a session
    /// stored meanwhile, such as one a person uploaded to fix the block.
    pub stored_session_interval: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(10),
            renew_margin: Duration::from_secs(5 * 60),
            max_registration_hops: 3,
            user_agent: "SkPy".into(),
            stored_session_interval: Duration::from_secs(5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_only_on_loopback() {
        assert!(check_base_url("X", "https://login.live.com/").is_ok());
        assert!(check_base_url("X", "http://127.0.0.1:8790/v1").is_ok());
        assert!(check_base_url("X", "http://localhost:1").is_ok());
        assert!(check_base_url("X", "http://[::1]:1").is_ok());
        assert!(check_base_url("X", "http://example.com").is_err());
        assert!(check_base_url("X", "http://10.0.0.1").is_err());
        assert!(check_base_url("X", "ftp://127.0.0.1").is_err());
        assert!(check_base_url("X", "not a url").is_err());
        assert!(check_base_url("X", "https://a.example/?q=1").is_err());
    }

    #[test]
    fn trailing_slash_is_dropped() {
        assert_eq!(
            check_base_url("X", "http://127.0.0.1:9/v1/").unwrap(),
            "http://127.0.0.1:9/v1"
        );
    }

    #[test]
    fn overrides_are_read_by_name_and_checked() {
        let urls = SkypeUrls::from_lookup(|name| {
            (name == "SKYPE_MSGS_URL").then(|| "http://127.0.0.1:5/v1".to_string())
        })
        .unwrap();
        assert_eq!(urls.msgs, "http://127.0.0.1:5/v1");
        assert_eq!(urls.live, SkypeUrls::default().live);

        let err = SkypeUrls::from_lookup(|name| {
            (name == "SKYPE_API_URL").then(|| "http://evil.example".to_string())
        })
        .unwrap_err();
        assert_eq!(err.name, "SKYPE_API_URL");
    }
}
