//! Logs: one line per event, JSON when Lambda's advanced logging asks for
//! it, at the level Lambda or `RUST_LOG` names. A plain level, not a filter
//! language: that keeps a regex engine out of the binary.

use std::str::FromStr;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the subscriber for the process. Reads `AWS_LAMBDA_LOG_LEVEL`
/// (Lambda's logging controls) first, then `RUST_LOG`, default `info`;
/// `AWS_LAMBDA_LOG_FORMAT=JSON` switches to JSON lines.
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
        .without_time()
        .with_ansi(false);
    // Another subscriber (a test's) may already be installed: keep it.
    let _ = if json {
        logs.json().finish().with(filter(level)).try_init()
    } else {
        logs.finish().with(filter(level)).try_init()
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
/// (`info,hyper=warn` → info).
fn level_of(value: &str) -> Option<LevelFilter> {
    value
        .split(',')
        .map(str::trim)
        .find(|part| !part.contains('='))
        .and_then(|level| LevelFilter::from_str(level).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_read_like_lambda_and_rust_log() {
        assert_eq!(level_of("debug"), Some(LevelFilter::DEBUG));
        assert_eq!(level_of("WARN"), Some(LevelFilter::WARN));
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
}
