//! The logged-in state of the bot account, and the SkPy token file that
//! carries it between processes (docs/skype-protocol.md §5).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// What a login gives: who we are and the skype token proving it.
#[derive(Debug, Clone)]
pub struct SkypeAuth {
    /// The profile user name (`fred.2`, `live:.cid.92bd244e945d8335`).
    pub user_id: String,
    /// The name shown next to our messages (`imdisplayname`), when known:
    /// a login reads it from the profile; a SkPy token file has no room
    /// for it, so the token store keeps it beside the file.
    pub display_name: Option<String>,
    /// The `skypetoken`, sent as `X-SkypeToken` / `Authentication` / ASM auth.
    pub token: SecretString,
    /// Absolute expiry, Unix seconds.
    pub expires_at: u64,
}

/// What a registration gives: the messaging endpoint and its token.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The `RegistrationToken` header value, **with** its `registrationToken=` prefix.
    pub token: SecretString,
    /// Absolute expiry, Unix seconds.
    pub expires_at: u64,
    /// The messaging host that issued it (`https://db1-client-s.../v1`).
    pub msgs_host: String,
    /// `{guid}` of the endpoint, when the server named it (not in the token file).
    pub endpoint_id: Option<String>,
}

/// A full session: enough to send without any login.
#[derive(Debug, Clone)]
pub struct Session {
    /// The login part.
    pub auth: SkypeAuth,
    /// The registration part.
    pub registration: Registration,
}

/// What a session needs before it can be used at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Both tokens outlive the margin: use as is.
    Fresh,
    /// The skype token is good, the registration is not: register again.
    NeedsRegistration,
    /// The skype token is (about to be) expired: log in again.
    NeedsLogin,
}

impl Session {
    /// Judges the session at `now` (Unix seconds), renewing `margin` early so
    /// that no request leaves with a token that dies on the way.
    pub fn freshness(&self, now: u64, margin: Duration) -> Freshness {
        let horizon = now.saturating_add(margin.as_secs());
        if horizon >= self.auth.expires_at {
            Freshness::NeedsLogin
        } else if horizon >= self.registration.expires_at {
            Freshness::NeedsRegistration
        } else {
            Freshness::Fresh
        }
    }

    /// The earlier of the two expiries: when this session stops being usable.
    pub fn expires_at(&self) -> u64 {
        self.auth.expires_at.min(self.registration.expires_at)
    }

    /// Whether two sessions hold the same tokens (used to tell whether a
    /// stored session is newer than the one in hand).
    pub fn same_tokens(&self, other: &Session) -> bool {
        self.auth.token.expose_secret() == other.auth.token.expose_secret()
            && self.registration.token.expose_secret() == other.registration.token.expose_secret()
            && self.registration.msgs_host == other.registration.msgs_host
    }
}

/// The token file could not be read as SkPy writes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Token file is malformed: {0}")]
pub struct MalformedTokenFile(&'static str);

/// Reads a SkPy token file: six lines (user id, skype token, its expiry,
/// registration token, its expiry, messaging host).
///
/// Like SkPy, the line count and the two numbers are checked here; whether
/// the tokens are still valid is [`Session::freshness`]'s question.
pub fn parse_token_file(text: &str) -> Result<Session, MalformedTokenFile> {
    let lines = python_splitlines(text);
    let [
        user_id,
        skype_token,
        skype_expiry,
        reg_token,
        reg_expiry,
        msgs_host,
    ] = lines[..]
    else {
        return Err(MalformedTokenFile("expected 6 lines"));
    };
    let timestamp = |value: &str| -> Result<u64, MalformedTokenFile> {
        // Python's int() accepts surrounding spaces and a sign; a time
        // before 1970 is simply expired.
        let value: i64 = value
            .trim()
            .parse()
            .map_err(|_| MalformedTokenFile("expiry is not a number"))?;
        Ok(value.max(0) as u64)
    };
    if user_id.is_empty() || skype_token.is_empty() {
        return Err(MalformedTokenFile("empty user id or skype token"));
    }
    Ok(Session {
        auth: SkypeAuth {
            user_id: user_id.to_string(),
            display_name: None,
            token: SecretString::from(skype_token),
            expires_at: timestamp(skype_expiry)?,
        },
        registration: Registration {
            token: SecretString::from(reg_token),
            expires_at: timestamp(reg_expiry)?,
            msgs_host: msgs_host.to_string(),
            endpoint_id: None,
        },
    })
}

/// Splits like Python's `str.splitlines()`, which SkPy reads the file with:
/// every line boundary Python knows (`\r` alone included), and no empty
/// last line after a final newline.
fn python_splitlines(text: &str) -> Vec<&str> {
    const BOUNDARIES: &[char] = &[
        '\n', '\r', '\u{0b}', '\u{0c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}',
        '\u{2029}',
    ];
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find(BOUNDARIES) {
            Some(at) => {
                lines.push(&rest[..at]);
                let boundary = if rest[at..].starts_with("\r\n") {
                    2
                } else {
                    rest[at..].chars().next().map_or(1, char::len_utf8)
                };
                rest = &rest[at + boundary..];
            }
            None => {
                lines.push(rest);
                rest = "";
            }
        }
    }
    lines
}

/// Writes the session exactly as SkPy's `writeTokenToStr` does.
pub fn write_token_file(session: &Session) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}\n",
        session.auth.user_id,
        session.auth.token.expose_secret(),
        session.auth.expires_at,
        session.registration.token.expose_secret(),
        session.registration.expires_at,
        session.registration.msgs_host,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SKPY_FILE: &str = include_str!("../../tests/data/skpy-token-file.txt");

    fn sample(skype_expiry: u64, reg_expiry: u64) -> Session {
        Session {
            auth: SkypeAuth {
                user_id: "live:.cid.92bd244e945d8335".into(),
                display_name: None,
                token: SecretString::from("skype-token"),
                expires_at: skype_expiry,
            },
            registration: Registration {
                token: SecretString::from("registrationToken=U2t5cGU="),
                expires_at: reg_expiry,
                msgs_host: "https://db1-client-s.gateway.messenger.live.com/v1".into(),
                endpoint_id: Some("{eeeeeeee-eeee-eeee-eeee-eeeeeeeeeeee}".into()),
            },
        }
    }

    #[test]
    fn reads_the_file_skpy_wrote() {
        let session = parse_token_file(SKPY_FILE).unwrap();
        assert_eq!(session.auth.user_id, "fred.2");
        assert_eq!(session.auth.expires_at, 1795705755);
        assert!(session.auth.token.expose_secret().starts_with("ssss"));
        assert!(
            session
                .registration
                .token
                .expose_secret()
                .starts_with("registrationToken=rrrr")
        );
        assert_eq!(session.registration.expires_at, 1795705755);
        assert_eq!(
            session.registration.msgs_host,
            "https://db1-client-s.gateway.messenger.live.com/v1"
        );
        // Byte for byte back again.
        assert_eq!(write_token_file(&session), SKPY_FILE);
    }

    #[test]
    fn round_trips_what_we_write() {
        let session = sample(1_800_000_000, 1_800_000_100);
        let text = write_token_file(&session);
        assert_eq!(text.lines().count(), 6);
        assert!(text.ends_with('\n'));
        let back = parse_token_file(&text).unwrap();
        assert!(back.same_tokens(&session));
        assert_eq!(back.auth.expires_at, 1_800_000_000);
        assert_eq!(back.registration.expires_at, 1_800_000_100);
        assert_eq!(back.auth.user_id, session.auth.user_id);
    }

    #[test]
    fn crlf_and_missing_final_newline_are_read_like_skpy() {
        let crlf = SKPY_FILE.replace('\n', "\r\n");
        assert!(parse_token_file(&crlf).is_ok());
        assert!(parse_token_file(SKPY_FILE.trim_end()).is_ok());
    }

    #[test]
    fn lines_split_as_python_splits_them() {
        assert_eq!(python_splitlines("a\nb\r\nc\rd\n"), ["a", "b", "c", "d"]);
        assert_eq!(python_splitlines("a\n\nb"), ["a", "", "b"]);
        assert_eq!(python_splitlines("a\u{2028}b\u{0c}"), ["a", "b"]);
        assert!(python_splitlines("").is_empty());
        // A stray \r is a line of its own to SkPy: seven lines, malformed.
        let file = "u\nt\n1\nr\n2\nhost\r\n";
        assert!(parse_token_file(file).is_ok());
        assert!(parse_token_file("u\nt\n1\nr\n2\nho\rst\n").is_err());
    }

    #[test]
    fn malformed_files_are_rejected() {
        let five: String = SKPY_FILE
            .lines()
            .take(5)
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(parse_token_file(&five).is_err());
        assert!(parse_token_file(&format!("{SKPY_FILE}extra\n")).is_err());
        assert!(parse_token_file("").is_err());
        let bad_number = SKPY_FILE.replacen("1795705755", "soon", 1);
        assert!(parse_token_file(&bad_number).is_err());
        let err = parse_token_file("a\nb\n").unwrap_err();
        assert!(err.to_string().starts_with("Token file is malformed"));
    }

    #[test]
    fn freshness_follows_skpy_with_a_margin() {
        let margin = Duration::from_secs(300);
        let session = sample(10_000, 20_000);
        assert_eq!(session.freshness(1_000, margin), Freshness::Fresh);
        // Skype token about to expire: login, whatever the registration says.
        assert_eq!(session.freshness(9_800, margin), Freshness::NeedsLogin);
        assert_eq!(
            session.freshness(10_000, Duration::ZERO),
            Freshness::NeedsLogin
        );
        let session = sample(20_000, 10_000);
        assert_eq!(session.freshness(9_699, margin), Freshness::Fresh);
        assert_eq!(
            session.freshness(9_700, margin),
            Freshness::NeedsRegistration
        );
        assert_eq!(session.expires_at(), 10_000);
    }

    #[test]
    fn debug_never_shows_tokens() {
        let shown = format!("{:?}", sample(1, 2));
        assert!(!shown.contains("skype-token"));
        assert!(!shown.contains("U2t5cGU="));
    }
}
