//! Reading an upstream's HTTP answer (webhooks, the Microsoft services):
//! its status, a bounded body and the `Retry-After` header (seconds or an
//! HTTP date). A hostile or broken server cannot make us buffer more than
//! the caller's bound.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::{Response, header};

/// What the classifiers look at: nothing here can hold the request URL
/// except `body`, which they only mine for code-shaped words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// `Retry-After`, when present and readable.
    pub retry_after: Option<Duration>,
    /// At most the bound's bytes of the body (empty if it could not be read).
    pub body: String,
}

impl Answer {
    /// Reads status, `Retry-After` and at most `max_body` bytes of the body.
    pub async fn read(mut response: Response, max_body: usize) -> Self {
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, SystemTime::now()));
        let mut body = Vec::new();
        // A body that breaks off is read as far as it came: the status
        // already says what happened.
        while let Ok(Some(chunk)) = response.chunk().await {
            let room = max_body - body.len();
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if body.len() >= max_body {
                break;
            }
        }
        Self {
            status,
            retry_after,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }
}

/// `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`
/// (RFC 9110 §10.2.3); a date in the past means "now" (zero).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = UNIX_EPOCH + Duration::from_secs(parse_http_date(value)?);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Unix seconds of an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`, and the
/// two obsolete forms recipients must still accept).
fn parse_http_date(text: &str) -> Option<u64> {
    let at = httpdate::parse_http_date(text).ok()?;
    at.duration_since(UNIX_EPOCH)
        .ok()
        .map(|since| since.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_retry_after_forms() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after("30", now), Some(Duration::from_secs(30)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        for bad in [
            "",
            "soon",
            "-1",
            "1.5",
            "Sun, 06 Nov 1994 08:50:07 UTC",
            "06 Nov 1994 08:50:07 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }

    #[test]
    fn http_dates_match_known_instants() {
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2028 12:00:00 GMT"),
            Some(1_835_438_400)
        );
        assert_eq!(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 24:00:00 GMT"), None);
    }
}
