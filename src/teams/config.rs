//! Where the Microsoft services of a Teams bot are, and which `serviceUrl`s
//! the bot may be told to call.

use std::time::Duration;

use reqwest::Url;

use crate::base_url::{InvalidUrl, check_base_url, is_trusted};

/// The Bot Framework's OpenID metadata document (its `jwks_uri` names the
/// keys inbound tokens are signed with).
pub const DEFAULT_OPENID_URL: &str =
    "https://login.botframework.com/v1/.well-known/openidconfiguration";
/// Entra ID; the token endpoint is `{login}/{tenant}/oauth2/v2.0/token`.
pub const DEFAULT_LOGIN_URL: &str = "https://login.microsoftonline.com";
/// The Connector hosts of the public cloud and the US government clouds.
pub const DEFAULT_SERVICE_URLS: &[&str] = &[
    "https://smba.trafficmanager.net/",
    "https://smba.infra.gcc.teams.microsoft.com/",
    "https://smba.infra.gov.teams.microsoft.us/",
    "https://smba.infra.dod.teams.microsoft.us/",
];

/// The hosts of one Teams bot (`TEAMS_*` settings: README, "Configuration").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamsUrls {
    /// `TEAMS_OPENID_URL`: the metadata document itself.
    pub openid: String,
    /// `TEAMS_LOGIN_URL`: the Entra ID host.
    pub login: String,
    /// `TEAMS_SERVICE_URLS`: allowed `serviceUrl` prefixes, each ending
    /// in `/`, so a prefix names whole hosts and paths, never a host that
    /// merely starts the same way.
    pub service_prefixes: Vec<String>,
}

impl Default for TeamsUrls {
    fn default() -> Self {
        Self {
            openid: DEFAULT_OPENID_URL.into(),
            login: DEFAULT_LOGIN_URL.into(),
            service_prefixes: DEFAULT_SERVICE_URLS.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl TeamsUrls {
    /// Reads the `TEAMS_*` overrides through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, InvalidUrl> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut urls = Self::default();
        if let Some(openid) = get("TEAMS_OPENID_URL") {
            urls.openid = check_base_url("TEAMS_OPENID_URL", openid.trim())?;
        }
        if let Some(login) = get("TEAMS_LOGIN_URL") {
            urls.login = check_base_url("TEAMS_LOGIN_URL", login.trim())?;
        }
        if let Some(list) = get("TEAMS_SERVICE_URLS") {
            urls.service_prefixes = list
                .split(',')
                .map(str::trim)
                .filter(|prefix| !prefix.is_empty())
                .map(|prefix| {
                    check_base_url("TEAMS_SERVICE_URLS", prefix).map(|base| format!("{base}/"))
                })
                .collect::<Result<_, _>>()?;
        }
        Ok(urls)
    }

    /// `service_url`, normalized, when it is on the allow-list: the one
    /// URL an outside party names, so it is checked before it is stored
    /// and again before it is called.
    pub fn allowed_service_url(&self, service_url: &str) -> Option<String> {
        let url = Url::parse(service_url.trim()).ok()?;
        let clean = is_trusted(&url)
            && url.username().is_empty()
            && url.password().is_none()
            && url.query().is_none()
            && url.fragment().is_none();
        if !clean {
            return None;
        }
        let mut normalized = url.to_string();
        if !normalized.ends_with('/') {
            normalized.push('/');
        }
        self.service_prefixes
            .iter()
            .any(|prefix| normalized.starts_with(prefix.as_str()))
            .then_some(normalized)
    }
}

/// How long a request to a Microsoft service may take: they answer in
/// well under a second, and the Lambda must still answer its caller.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The whole exchange.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(prefixes: &str) -> TeamsUrls {
        TeamsUrls::from_lookup(|name| (name == "TEAMS_SERVICE_URLS").then(|| prefixes.to_string()))
            .unwrap()
    }

    #[test]
    fn the_allow_list_names_whole_hosts() {
        let defaults = TeamsUrls::default();
        assert_eq!(
            defaults.allowed_service_url("https://smba.trafficmanager.net/amer/"),
            Some("https://smba.trafficmanager.net/amer/".into())
        );
        for hostile in [
            "https://smba.trafficmanager.net.evil.test/amer/",
            "https://evil.test/https://smba.trafficmanager.net/",
            "http://smba.trafficmanager.net/amer/",
            "https://user@smba.trafficmanager.net/amer/",
            "https://smba.trafficmanager.net/amer/?x=1",
            "http://169.254.169.254/latest/",
            "not a url",
        ] {
            assert_eq!(defaults.allowed_service_url(hostile), None, "{hostile}");
        }
    }

    #[test]
    fn loopback_prefixes_serve_the_fakes() {
        let local = urls("http://127.0.0.1:4000/connector");
        assert_eq!(local.service_prefixes, ["http://127.0.0.1:4000/connector/"]);
        assert!(
            local
                .allowed_service_url("http://127.0.0.1:4000/connector/")
                .is_some()
        );
        assert!(
            local
                .allowed_service_url("http://127.0.0.1:4000/connectorx/")
                .is_none()
        );
        assert!(
            local
                .allowed_service_url("http://127.0.0.1:4001/connector/")
                .is_none()
        );
        assert!(TeamsUrls::from_lookup(|_| Some("http://example.test".into())).is_err());
    }
}
