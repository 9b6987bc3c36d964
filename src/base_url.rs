//! Base URLs of the services we send credentials to, checked once when
//! configuration is read: `https://` anywhere, `http://` only on loopback
//! (the fakes and local runs).

use url::Url;

/// A base URL we refuse to send credentials to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} must be an https:// URL, or http:// on the loopback interface (got {value:?})")]
pub struct InvalidUrl {
    /// The setting that held it (`SKYPE_MSGS_URL`, ...).
    pub name: String,
    /// What it held.
    pub value: String,
}

/// Accepts `https://` anywhere and `http://` only on loopback, and drops a
/// trailing slash so paths can be appended with `format!`.
pub fn check_base_url(name: &str, value: &str) -> Result<String, InvalidUrl> {
    let invalid = || InvalidUrl {
        name: name.to_string(),
        value: value.to_string(),
    };
    let url = Url::parse(value).map_err(|_| invalid())?;
    if !is_trusted(&url) || url.query().is_some() || url.fragment().is_some() {
        return Err(invalid());
    }
    Ok(value.trim_end_matches('/').to_string())
}

/// Whether credentials may go to `url`: `https://` anywhere, `http://`
/// only on loopback (the fake and local runs). Base URLs and the one
/// redirect we follow (the web login's first page) obey the same rule.
pub fn is_trusted(url: &Url) -> bool {
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => match url.host() {
            Some(url::Host::Domain(domain)) => domain == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}
