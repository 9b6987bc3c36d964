//! The performance benchmark (the README's table): the real `skype-sender`
//! binary as Lambda runs it (a process polling a Runtime API emulator),
//! against the strict fake Skype and moto (behind a counting proxy), measured
//! side by side with a hello-world `lambda_runtime` binary of the same build.
//!
//! `make bench` runs it in full on the release binaries (the `bench`
//! binary of this crate); `tests/smoke.rs` runs it in quick mode
//! on the debug binaries so it cannot rot. Timings are only reported, never
//! asserted by tests: ratios measured in one run matter more than absolute
//! times.

mod cold_start;
mod concurrency;
mod harness;
mod latency;
mod package;
mod platforms;
mod proxy;
mod report;
mod sqs;
mod warm;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use latency::{Timed, round_trips};
pub use report::{Facts, Figure, Report};

use harness::World;

/// Every figure a run produces, in the order of the table.
pub fn figure_ids() -> Vec<&'static str> {
    report::CATALOGUE.iter().map(|(id, _, _)| *id).collect()
}

/// How much of everything to do.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// `full` or `quick`.
    pub name: &'static str,
    /// Spawns of each binary for the cold-start medians (after one warm-up each).
    pub cold_spawns: usize,
    /// Cold containers whose first invocation is timed.
    pub first_invocations: usize,
    /// Invocations before the warm measurement starts.
    pub warm_up: usize,
    /// Warm invocations after which the first peak RSS is read.
    pub rss_first: usize,
    /// Warm invocations in all (timed, and the second peak RSS).
    pub warm_total: usize,
    /// Warm messages to each of Teams, Slack, Discord and Telegram.
    pub platform_messages: usize,
    /// `AWS_LAMBDA_MAX_CONCURRENCY` of the concurrent container.
    pub concurrency: usize,
    /// How long the fake takes over each message in the concurrency figure.
    pub skype_delay: Duration,
    /// Messages timed on the concurrent container.
    pub concurrent_messages: usize,
    /// Messages timed on the sequential container.
    pub sequential_messages: usize,
    /// Cold containers started at once on an expired session.
    pub cold_containers: usize,
    /// Records in the SQS batch.
    pub sqs_batch: usize,
    /// Batches (and as many rounds of single-record invocations).
    pub sqs_rounds: usize,
    /// Cold containers timed with the latencies injected.
    pub latency_runs: usize,
    /// SQS batches (standard and FIFO) timed with the latencies injected.
    pub latency_rounds: usize,
    /// Deflate level of the zip (cargo-lambda's is the default, 6).
    pub zip_level: u32,
}

impl Sizes {
    /// The full sizes (`make bench`, the README's figures).
    pub fn full() -> Sizes {
        Sizes {
            name: "full",
            cold_spawns: 20,
            first_invocations: 10,
            warm_up: 100,
            rss_first: 1_000,
            warm_total: 10_000,
            platform_messages: 200,
            concurrency: 32,
            skype_delay: Duration::from_millis(20),
            concurrent_messages: 640,
            sequential_messages: 64,
            cold_containers: 50,
            sqs_batch: 10,
            sqs_rounds: 5,
            latency_runs: 7,
            latency_rounds: 3,
            zip_level: 6,
        }
    }

    /// A few iterations of everything (the smoke test, debug binaries).
    pub fn quick() -> Sizes {
        Sizes {
            name: "quick",
            cold_spawns: 3,
            first_invocations: 2,
            warm_up: 3,
            rss_first: 10,
            warm_total: 30,
            platform_messages: 5,
            concurrency: 32,
            skype_delay: Duration::from_millis(20),
            concurrent_messages: 64,
            sequential_messages: 8,
            cold_containers: 6,
            sqs_batch: 10,
            sqs_rounds: 1,
            latency_runs: 1,
            latency_rounds: 1,
            // The debug binary is a few hundred MB.
            zip_level: 1,
        }
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Params {
    /// How much.
    pub sizes: Sizes,
    /// The `skype-sender` binary.
    pub function: PathBuf,
    /// The hello-world `lambda_runtime` binary of the same build.
    pub hello: PathBuf,
    /// `release` or `debug`: the build both binaries come from.
    pub profile: String,
}

/// Runs every figure and returns the report (a figure that could not be
/// measured says why instead of stopping the run).
pub async fn run(params: &Params) -> Report {
    let started = Instant::now();
    let mut report = Report::new(params);
    for binary in [&params.function, &params.hello] {
        if !binary.is_file() {
            report.fail_all(&format!("{} does not exist", binary.display()));
            return report;
        }
    }
    let world = Arc::new(World::start(params).await);
    let sizes = params.sizes.clone();

    // The package first: it needs no process.
    report.add(package::measure(&params.function, &world.scratch, &sizes).await);
    let w = || world.clone();
    let s = || sizes.clone();
    report.add(phase(cold_start::COLD_IDS, cold_start::cold_start(w(), s())).await);
    report.add(
        phase(
            cold_start::FIRST_IDS,
            cold_start::first_invocation(w(), s()),
        )
        .await,
    );
    report.add(phase(warm::IDS, warm::warm(w(), s())).await);
    report.add(phase(platforms::IDS, platforms::platforms(w(), s())).await);
    report.add(phase(concurrency::IDS, concurrency::concurrency(w(), s())).await);
    report.add(
        phase(
            concurrency::COLD_IDS,
            concurrency::cold_containers(w(), s()),
        )
        .await,
    );
    report.add(phase(sqs::IDS, sqs::sqs(w(), s())).await);
    report.add(phase(latency::IDS, latency::latency(w(), s())).await);

    report.finish(started.elapsed());
    report
}

/// What a phase measured: its figures and facts, or why it could not.
pub(crate) type PhaseResult = Result<(Vec<Figure>, Facts), String>;

/// What a phase produced.
pub(crate) struct PhaseOutput {
    /// The ids its figures would have had (to mark them failed).
    pub ids: &'static [&'static str],
    /// The figures, or the reason there are none.
    pub result: PhaseResult,
}

/// Runs a phase on its own task, so a panic (e.g. an emulator timeout)
/// becomes that phase's error rather than the end of the run.
async fn phase(
    ids: &'static [&'static str],
    future: impl Future<Output = PhaseResult> + Send + 'static,
) -> PhaseOutput {
    let result = match tokio::spawn(future).await {
        Ok(result) => result,
        Err(err) if err.is_panic() => {
            let panic = err.into_panic();
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic".into());
            Err(format!("panicked: {why}"))
        }
        Err(err) => Err(format!("the phase was cancelled: {err}")),
    };
    PhaseOutput { ids, result }
}
