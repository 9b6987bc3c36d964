//! Logs: one line per event, JSON when Lambda's advanced logging asks for
//! it, at the level Lambda or `RUST_LOG` names. A plain level, not a filter
//! language: that keeps a regex engine out of the binary.
//!
//! A JSON line carries `level` and an RFC 3339 `timestamp`: Lambda filters
//! application lines by `level` (`ApplicationLogLevel`), and honours the
//! level only next to a valid timestamp; a line without either counts as
//! INFO (docs/architecture.md, "Logs and metrics").

use std::str::FromStr;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the subscriber for the process. Reads `AWS_LAMBDA_LOG_LEVEL`
/// (Lambda's logging controls) first, then `RUST_LOG`, default `info`;
/// `AWS_LAMBDA_LOG_FORMAT=JSON` switches to JSON lines, each with its
/// `timestamp`. Text lines have none: Lambda stamps each line itself, and
/// a terminal does not need one.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|value| level_of(&value))
        .unwrap_or(LevelFilter::INFO);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let logs = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .with_ansi(false);
    // Another subscriber (a test's) may already be installed: keep it.
    let _ = if json {
        logs.json()
            .with_timer(Rfc3339)
            .finish()
            .with(filter(level))
            .try_init()
    } else {
        logs.without_time().finish().with(filter(level)).try_init()
    };
}

/// Our own events at `level`; every other crate's at `info` at most.
/// Below that, libraries log what they carry: lambda_runtime the raw
/// event (with its API key) at `trace`, the HTTP and AWS clients their
/// requests and answers. No level may print a key, token or password.
fn filter(level: LevelFilter) -> Targets {
    Targets::new()
        .with_target(env!("CARGO_CRATE_NAME"), level)
        .with_default(level.min(LevelFilter::INFO))
}

/// `debug`, `INFO`, or a `RUST_LOG`-style list whose bare level counts
/// (`info,hyper=warn` → info). Lambda's `FATAL` reads as `error`, the
/// highest level tracing has.
fn level_of(value: &str) -> Option<LevelFilter> {
    value
        .split(',')
        .map(str::trim)
        .find(|part| !part.contains('='))
        .and_then(|level| {
            if level.eq_ignore_ascii_case("fatal") {
                Some(LevelFilter::ERROR)
            } else {
                LevelFilter::from_str(level).ok()
            }
        })
}

/// The JSON lines' `timestamp`: the wall clock as [`rfc3339`].
struct Rfc3339;

impl FormatTime for Rfc3339 {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        w.write_str(&rfc3339(crate::clock::unix_millis()))
    }
}

/// `ms` (milliseconds since the Unix epoch) as an RFC 3339 UTC timestamp
/// with milliseconds, `2023-11-14T22:13:20.000Z`: the form Lambda's JSON
/// log format reads. Shared by the log lines and the metric lines.
pub fn rfc3339(ms: u64) -> String {
    let seconds = ms / 1000;
    let (year, month, day) = civil_date(seconds / 86_400);
    let time = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        time / 3600,
        time % 3600 / 60,
        time % 60,
        ms % 1000
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days on or after the epoch).
fn civil_date(days: u64) -> (u64, u64, u64) {
    // Days since 0000-03-01, so that the leap day ends a year.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_read_like_lambda_and_rust_log() {
        assert_eq!(level_of("debug"), Some(LevelFilter::DEBUG));
        assert_eq!(level_of("WARN"), Some(LevelFilter::WARN));
        assert_eq!(level_of("FATAL"), Some(LevelFilter::ERROR));
        assert_eq!(level_of("hyper=warn, info"), Some(LevelFilter::INFO));
        assert_eq!(level_of("nonsense"), None);
    }

    #[test]
    fn other_crates_never_log_below_info() {
        use tracing::Level;
        use tracing::level_filters::LevelFilter;
        let trace = filter(LevelFilter::TRACE);
        assert!(trace.would_enable("skype_sender::app", &Level::TRACE));
        for noisy in [
            "lambda_runtime::layers::api_response",
            "hyper",
            "aws_smithy_runtime",
        ] {
            assert!(!trace.would_enable(noisy, &Level::DEBUG), "{noisy}");
            assert!(trace.would_enable(noisy, &Level::INFO), "{noisy}");
        }
        let warn = filter(LevelFilter::WARN);
        assert!(!warn.would_enable("lambda_runtime", &Level::INFO));
    }

    #[test]
    fn timestamps_are_rfc3339_in_utc_with_milliseconds() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(4_107_542_399_999), "2100-02-28T23:59:59.999Z");
        assert_eq!(rfc3339(4_107_542_400_000), "2100-03-01T00:00:00.000Z");
    }

    #[test]
    fn timestamps_agree_with_an_independent_calendar() {
        // httpdate writes the same instant as "Tue, 14 Nov 2023 22:13:20 GMT".
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let mut ms: u64 = 7_654_321;
        while ms < 4_102_444_800_000 {
            let ours = rfc3339(ms);
            let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
            let theirs = httpdate::fmt_http_date(at);
            let parts: Vec<&str> = theirs.split([' ', ',']).filter(|p| !p.is_empty()).collect();
            let month = MONTHS.iter().position(|m| *m == parts[2]).unwrap() + 1;
            let expected = format!(
                "{}-{month:02}-{}T{}.{:03}Z",
                parts[3],
                parts[1],
                parts[4],
                ms % 1000
            );
            assert_eq!(ours, expected, "{ms}");
            // About 13.4 days and an odd number of milliseconds apart.
            ms += 1_157_400_017;
        }
    }

    #[test]
    fn json_lines_carry_a_level_and_a_timestamp_lambda_reads() {
        use std::sync::{Arc, Mutex};

        #[derive(Clone, Default)]
        struct Lines(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Lines {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }

        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_target(false)
            .with_ansi(false)
            .json()
            .with_timer(Rfc3339)
            .with_writer(move || writer.clone())
            .finish();
        let before = crate::clock::unix_millis();
        tracing::subscriber::with_default(subscriber, || tracing::warn!("session renewed"));
        let after = crate::clock::unix_millis();

        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let line: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(line["level"], "WARN", "{text}");
        assert_eq!(line["fields"]["message"], "session renewed", "{text}");
        let stamp = line["timestamp"].as_str().unwrap();
        assert!(
            (rfc3339(before)..=rfc3339(after)).contains(&stamp.to_string()),
            "{stamp}"
        );
    }
}
