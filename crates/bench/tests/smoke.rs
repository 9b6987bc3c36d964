//! The benchmark (`make bench`) in quick mode on the debug binaries, so it
//! cannot rot: every figure must be produced, and the counts that are facts
//! must hold. No timing is asserted here.

use std::path::PathBuf;

/// The `skype-sender` binary of this build: beside this crate's binaries
/// in target/<profile>, where `cargo test --workspace` (what `make test`
/// runs) puts it, since the main package's own tests need it. When it is
/// missing (`cargo test -p bench` alone) it is built here with the same
/// profile (cargo has released its lock while tests run).
fn skype_sender() -> PathBuf {
    if let Some(path) = std::env::var_os("SKYPE_SENDER_BIN") {
        return path.into();
    }
    let hello = PathBuf::from(env!("CARGO_BIN_EXE_hello-lambda"));
    let profile_dir = hello.parent().expect("target/<profile>");
    let path = profile_dir.join("skype-sender");
    if path.is_file() {
        return path;
    }
    let target_dir = profile_dir.parent().expect("target/<profile>");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = std::process::Command::new(&cargo);
    build
        .args([
            "build",
            "--locked",
            "-p",
            "skype-sender",
            "--bin",
            "skype-sender",
            "--manifest-path",
        ])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml"))
        .env("CARGO_TARGET_DIR", target_dir);
    if profile_dir
        .file_name()
        .is_some_and(|name| name == "release")
    {
        build.arg("--release");
    }
    let built = build.status();
    assert!(
        path.is_file(),
        "{} is missing and `{cargo} build -p skype-sender --bin skype-sender` did not make it \
         ({built:?}): build it or set SKYPE_SENDER_BIN",
        path.display()
    );
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bench_produces_every_figure_in_quick_mode() {
    let params = bench::Params {
        sizes: bench::Sizes::quick(),
        function: skype_sender(),
        hello: PathBuf::from(env!("CARGO_BIN_EXE_hello-lambda")),
        profile: "debug".into(),
    };
    let report = bench::run(&params).await;
    println!("{}", report.table());

    for id in bench::figure_ids() {
        let figure = report.figure(id).unwrap_or_else(|| panic!("{id} missing"));
        assert!(
            figure.error.is_none() && figure.measured.is_some() && figure.value.is_some(),
            "{id} was not measured: {:?}",
            figure.error
        );
    }
    assert_eq!(report.figures.len(), bench::figure_ids().len());
    let json = report.to_json();
    assert_eq!(
        json["figures"].as_array().map(Vec::len),
        Some(report.figures.len())
    );

    let facts = &report.facts;
    let warm = facts.warm_invocations.expect("warm invocations counted");
    assert!(warm > 0);
    assert_eq!(
        facts.warm_skype_requests,
        Some(warm),
        "1 Skype request per warm message"
    );
    assert_eq!(
        facts.warm_aws_requests,
        Some(0),
        "no AWS request on a warm message"
    );
    assert_eq!(
        facts.warm_irregular,
        Some(0),
        "each warm message: exactly 1 send, 0 AWS"
    );
    assert_eq!(
        facts.warm_delivered,
        Some(warm),
        "every warm message stored"
    );

    assert_eq!(
        facts.concurrency_logins,
        Some(1),
        "one login for the concurrent container"
    );
    assert_eq!(facts.concurrency_sessions, Some(1), "one shared session");
    assert_eq!(facts.concurrency_delivered, facts.concurrency_messages);
    assert!(
        facts.concurrency_max_in_flight.unwrap_or(0) > 1,
        "invocations overlapped"
    );

    assert_eq!(
        facts.cold_logins,
        Some(1),
        "one login across the cold containers"
    );
    assert_eq!(
        facts.cold_delivered, facts.cold_containers,
        "every cold container's message stored; sends that reused another container's \
         clientmessageid (Skype keeps the first): {:?}",
        facts.cold_reused_client_message_ids
    );

    assert!(facts.sqs_records.unwrap_or(0) > 0);
    assert_eq!(facts.sqs_failed, Some(0), "no SQS record failed");
}

/// The round-trip count of `cold_round_trips`: calls made at once are one
/// round trip, in series as many as there are, whatever each upstream took,
/// and the function's own time between calls counts in units of `unit`.
#[test]
fn round_trips_are_counted_from_the_calls_timeline() {
    use bench::{Timed, round_trips};
    use std::time::{Duration, Instant};
    let t = Instant::now();
    let at = |ms: u64| t + Duration::from_millis(ms);
    let call = |start: u64, end: u64| Timed {
        name: String::new(),
        start: at(start),
        end: at(end),
    };
    let unit = Duration::from_millis(20);
    // Two reads at once (one slower), then the send.
    let together = [call(0, 20), call(0, 35), call(35, 85)];
    let trips = round_trips(t, at(85), &together, unit);
    assert!((trips - 2.0).abs() < 1e-9, "{trips}");
    let series = [call(0, 20), call(20, 40), call(40, 90), call(90, 140)];
    let trips = round_trips(t, at(140), &series, unit);
    assert!((trips - 4.0).abs() < 1e-9, "{trips}");
    // 10 ms of the function's own work between two calls: half a unit.
    let with_work = [call(0, 20), call(30, 80)];
    let trips = round_trips(t, at(80), &with_work, unit);
    assert!((trips - 2.5).abs() < 1e-9, "{trips}");
}
