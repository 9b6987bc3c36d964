//! The web ("Live") flow (docs/skype-protocol.md §2.3): scrape the
//! Microsoft login pages the way SkPy did, and report each of their dead
//! ends plainly.

use std::sync::LazyLock;

use quick_xml::escape::unescape;
use regex_lite::Regex;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use secrecy::{ExposeSecret, SecretString};

use super::{Credentials, IssuedToken};
use crate::base_url::is_trusted;
use crate::clock::unix_millis;
use crate::skype::error::SkypeError;
use crate::skype::http::{Api, Auth, MAX_ANSWER_BYTES, check, read_text};

const CLIENT_ID: &str = "578134";
const REDIRECT_URI: &str = "https://web.skype.com";
/// How many redirects the first login page may take before we give up
/// (a loop, or a host sending us around).
const MAX_LOGIN_FORM_HOPS: usize = 5;
const WREPLY: &str = "https://lw.skype.com/login/oauth/proxy?client_id=578134&site_name=lw.skype.com&redirect_uri=https%3A%2F%2Fweb.skype.com%2F";

static PPFT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"<input.*?name="PPFT".*?value="(.*?)""#).unwrap());
static T_FIELD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"<[a-zA-Z]+\s[^>]*\bid=["']t["'][^>]*>"#).unwrap());
static VALUE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\bvalue=(?:"([^"]*)"|'([^']*)')"#).unwrap());
static ERROR_TEXT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"sErrTxt:'([^'\\]*(?:\\.[^'\\]*)*)'"#).unwrap());
static TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<.*?>").unwrap());
static SECOND_FACTOR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\bV:\s*\[\s*\{").unwrap());
static ACTION_FORM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"<form[^>]*\bname=["']fmHF["'][^>]*>"#).unwrap());
static ACTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\baction=(?:"([^"]*)"|'([^']*)')"#).unwrap());
static OPID: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)opid=([A-Z0-9]+)").unwrap());
static SKYPE_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"<input[^>]*\bname=["']skypetoken["'][^>]*>"#).unwrap());
static EXPIRES_IN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"<input[^>]*\bname=["']expires_in["'][^>]*>"#).unwrap());

/// What a login page says, checked in SkPy's order.
#[derive(Debug, PartialEq, Eq)]
enum Page {
    /// The `t` value: the login is done.
    Done(String),
    /// None of the known markers: the caller decides what is missing.
    Undecided,
}

/// Reads one page of steps 1 to 3.
fn read_page(html: &str) -> Result<Page, SkypeError> {
    if let Some(t) = T_FIELD
        .find(html)
        .and_then(|tag| attribute(&VALUE, tag.as_str()))
    {
        return Ok(Page::Done(t));
    }
    if let Some(found) = ERROR_TEXT.captures(html) {
        let text = TAG.replace_all(&found[1], "");
        let text = text.replace("\\'", "'").replace("\\\\", "\\");
        return Err(SkypeError::LoginRefused(text));
    }
    if SECOND_FACTOR.is_match(html) {
        return Err(SkypeError::TwoFactorUnsupported);
    }
    if let Some(form) = ACTION_FORM.find(html) {
        let action = attribute(&ACTION, form.as_str()).unwrap_or_default();
        let action = action.split('?').next().unwrap_or_default().to_string();
        return Err(SkypeError::LoginWall { action });
    }
    Ok(Page::Undecided)
}

/// A quoted attribute's value, HTML entities decoded.
fn attribute(pattern: &Regex, tag: &str) -> Option<String> {
    let found = pattern.captures(tag)?;
    let raw = found.get(1).or_else(|| found.get(2))?.as_str();
    Some(unescape(raw).map_or_else(|_| raw.to_string(), |v| v.into_owned()))
}

/// The `name=value` of each `Set-Cookie` (attributes dropped).
fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next()?.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

impl Api {
    pub(super) async fn web_login(
        &self,
        credentials: &Credentials,
    ) -> Result<IssuedToken, SkypeError> {
        // Step 1: the login form, its PPFT and two cookies.
        let (page, requ, ok) = self.login_form().await?;
        if let Page::Done(t) = read_page(&page)? {
            return self.exchange_t(&t).await;
        }
        let ppft = PPFT
            .captures(&page)
            .map(|found| found[1].to_string())
            .ok_or_else(|| SkypeError::Protocol("Couldn't retrieve PPFT from login form".into()))?;
        let (Some(requ), Some(ok)) = (requ, ok) else {
            return Err(SkypeError::Protocol(
                "Couldn't retrieve MSPRequ/MSPOK cookies".into(),
            ));
        };
        let cookies =
            |requ: &str, ok: &str| format!("MSPRequ={requ}; MSPOK={ok}; CkTst=G{}", unix_millis());

        // Step 2: the credentials.
        let password = credentials.password.expose_secret();
        let page = self
            .post_srf(
                cookies(&requ, &ok),
                &[
                    ("login", credentials.username.as_str()),
                    ("passwd", password),
                    ("PPFT", ppft.as_str()),
                    ("loginoptions", "3"),
                ],
            )
            .await?;
        if let Page::Done(t) = read_page(&page)? {
            return self.exchange_t(&t).await;
        }

        // Step 3: some accounts need the `opid` round trip.
        let opid = OPID
            .captures(&page)
            .map(|found| found[1].to_string())
            .ok_or(SkypeError::LoginIncomplete)?;
        let page = self
            .post_srf(
                cookies(&requ, &ok),
                &[
                    ("opid", opid.as_str()),
                    ("PPFT", ppft.as_str()),
                    ("site_name", "lw.skype.com"),
                    ("oauthPartner", "999"),
                    ("client_id", CLIENT_ID),
                    ("redirect_uri", REDIRECT_URI),
                    ("type", "28"),
                ],
            )
            .await?;
        match read_page(&page)? {
            Page::Done(t) => self.exchange_t(&t).await,
            Page::Undecided => Err(SkypeError::LoginIncomplete),
        }
    }

    /// Step 1: `GET {login}/login/oauth/microsoft`, following its redirects
    /// by hand (the client follows none): GET only, at most
    /// [`MAX_LOGIN_FORM_HOPS`], each `Location` under the rule of the base
    /// URLs. Answers the page and the `MSPRequ` / `MSPOK` cookies, which
    /// any hop may set (the last one set wins).
    async fn login_form(&self) -> Result<(String, Option<String>, Option<String>), SkypeError> {
        let mut request = self
            .http
            .get(format!("{}/login/oauth/microsoft", self.urls.login))
            .query(&[("client_id", CLIENT_ID), ("redirect_uri", REDIRECT_URI)]);
        let (mut requ, mut ok) = (None, None);
        for hop in 0..=MAX_LOGIN_FORM_HOPS {
            let response = request.send().await?;
            requ = cookie(&response, "MSPRequ").or(requ);
            ok = cookie(&response, "MSPOK").or(ok);
            if !matches!(response.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
                let page = read_text(check(response, Auth::Login).await?, MAX_ANSWER_BYTES).await?;
                return Ok((page, requ, ok));
            }
            if hop == MAX_LOGIN_FORM_HOPS {
                break;
            }
            let next = response
                .headers()
                .get(LOCATION)
                .and_then(|location| location.to_str().ok())
                .and_then(|location| response.url().join(location).ok())
                .ok_or_else(|| {
                    SkypeError::Protocol(
                        "the login page redirected without a usable Location".into(),
                    )
                })?;
            if !is_trusted(&next) {
                return Err(SkypeError::Protocol(
                    "the login page redirected to an untrusted URL (only https://, or http:// on loopback)"
                        .into(),
                ));
            }
            request = self.http.get(next);
        }
        Err(SkypeError::Protocol(format!(
            "the login page redirected more than {MAX_LOGIN_FORM_HOPS} times"
        )))
    }

    /// `POST {live}/ppsecure/post.srf` with the cookies of step 1.
    async fn post_srf(&self, cookies: String, form: &[(&str, &str)]) -> Result<String, SkypeError> {
        let response = self
            .http
            .post(format!("{}/ppsecure/post.srf", self.urls.live))
            .query(&[("wa", "wsignin1.0"), ("wp", "MBI_SSL"), ("wreply", WREPLY)])
            .header(COOKIE, cookies)
            .form(form)
            .send()
            .await?;
        read_text(check(response, Auth::Login).await?, MAX_ANSWER_BYTES).await
    }

    /// Step 4: trade `t` for the skype token and its lifetime.
    async fn exchange_t(&self, t: &str) -> Result<IssuedToken, SkypeError> {
        let response = self
            .http
            .post(format!("{}/login/microsoft", self.urls.login))
            .query(&[("client_id", CLIENT_ID), ("redirect_uri", REDIRECT_URI)])
            .form(&[
                ("t", t),
                ("client_id", CLIENT_ID),
                ("oauthPartner", "999"),
                ("site_name", "lw.skype.com"),
                ("redirect_uri", REDIRECT_URI),
            ])
            .send()
            .await?;
        let page = read_text(check(response, Auth::Login).await?, MAX_ANSWER_BYTES).await?;
        token_page(&page)
    }
}

/// Reads the skype token and `expires_in` of the step 4 page.
fn token_page(page: &str) -> Result<IssuedToken, SkypeError> {
    let field = |pattern: &Regex| {
        pattern
            .find(page)
            .and_then(|tag| attribute(&VALUE, tag.as_str()))
    };
    let token = field(&SKYPE_TOKEN)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            SkypeError::Protocol("Couldn't retrieve Skype token from login response".into())
        })?;
    let expires_in = field(&EXPIRES_IN)
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| SkypeError::Protocol("login response without expires_in".into()))?;
    Ok(IssuedToken {
        token: SecretString::from(token),
        expires_in,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_field_wins_wherever_it_is() {
        let page = r#"<html><input type="hidden" name="t" id="t" value="EwA&amp;x"></html>"#;
        assert_eq!(read_page(page).unwrap(), Page::Done("EwA&x".into()));
    }

    #[test]
    fn error_text_is_unescaped_and_stripped_of_tags() {
        let page = r#"var ServerData = {sErrTxt:'Your account or password is incorrect. If you don\'t remember your password, <a href="x">reset it now.</a>', V: []};"#;
        assert_eq!(
            read_page(page).unwrap_err(),
            SkypeError::LoginRefused(
                "Your account or password is incorrect. If you don't remember your password, reset it now.".into()
            )
        );
    }

    #[test]
    fn second_factor_and_action_wall() {
        let page = r#"{V: [ {"type": 1, "display": "f***@example.com"} ]}"#;
        assert_eq!(
            read_page(page).unwrap_err(),
            SkypeError::TwoFactorUnsupported
        );
        assert_eq!(read_page("{V: []}").unwrap(), Page::Undecided);
        let wall = r#"<form name="fmHF" id="fmHF" action="https://account.live.com/ar/cancel?ru=https://x" method="post">"#;
        assert_eq!(
            read_page(wall).unwrap_err(),
            SkypeError::LoginWall {
                action: "https://account.live.com/ar/cancel".into()
            }
        );
    }

    #[test]
    fn ppft_as_skpy_finds_it() {
        let page = r#"sFTTag:'<input type="hidden" name="PPFT" id="i0327" value="Dd7x!abc$"/>',"#;
        assert_eq!(&PPFT.captures(page).unwrap()[1], "Dd7x!abc$");
    }

    #[test]
    fn token_page_needs_token_and_expiry() {
        let page = r#"<input type="hidden" name="skypetoken" value="tok"/><input type="hidden" name="expires_in" value="86400"/>"#;
        let issued = token_page(page).unwrap();
        assert_eq!(issued.token.expose_secret(), "tok");
        assert_eq!(issued.expires_in, 86400);
        let no_expiry = r#"<input type="hidden" name="skypetoken" value="tok"/>"#;
        assert!(token_page(no_expiry).is_err());
        assert!(token_page("<html></html>").is_err());
    }
}
