//! Expiry times in words: a UTC date and how long from now, so an operator
//! sees at a glance whether a session is usable.

use std::time::{Duration, UNIX_EPOCH};

pub use skype_sender::clock::unix_seconds as unix_now;

/// `2025-11-27 10:00:00 UTC (in 23 h 59 min)`, or `(expired 5 min ago)`.
pub fn describe(at: u64, now: u64) -> String {
    let relative = if at > now {
        format!("in {}", span(at - now))
    } else {
        format!("expired {} ago", span(now - at))
    };
    format!("{} ({relative})", utc(at))
}

/// `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc(at: u64) -> String {
    let rfc3339 = humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(at));
    // `2026-11-26T15:09:15Z`, as people read it.
    rfc3339
        .to_string()
        .replacen('T', " ", 1)
        .replace('Z', " UTC")
}

/// A duration in the two largest units: `2 d 3 h`, `23 h 59 min`, `42 s`.
fn span(seconds: u64) -> String {
    let (days, hours, minutes) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
    );
    if days > 0 {
        format!("{days} d {hours} h")
    } else if hours > 0 {
        format!("{hours} h {minutes} min")
    } else if minutes > 0 {
        format!("{minutes} min")
    } else {
        format!("{seconds} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_795_705_755), "2026-11-26 15:09:15 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_709_251_199), "2024-02-29 23:59:59 UTC");
    }

    #[test]
    fn spans_read_naturally() {
        assert_eq!(
            describe(100 + 86_399, 100).split_once('(').unwrap().1,
            "in 23 h 59 min)"
        );
        assert!(describe(100, 400).ends_with("(expired 5 min ago)"));
        assert!(describe(10 + 3 * 86_400 + 7200, 10).ends_with("(in 3 d 2 h)"));
        assert!(describe(52, 10).ends_with("(in 42 s)"));
    }
}
