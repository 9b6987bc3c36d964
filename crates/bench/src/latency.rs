//! Latency-injected figures: the fake Skype answers [`SKYPE_LATENCY`]
//! late and every AWS request waits [`AWS_LATENCY`] at the proxy, as a
//! far region would. In AWS, round trips dominate, not CPU, so these
//! figures count round trips, which do not depend on this machine's speed.
//!
//! Every upstream call counts as one round trip, however long its service
//! took (moto's own milliseconds are not the function's): a stretch of the
//! invocation with calls in flight counts as its share of the longest of
//! them. Two calls made at once are one round trip; one after the other,
//! two. Time with no call in flight, the function's own work, counts in
//! units of the shortest injected latency (AWS's), the strictest choice.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::cold_start::summary;
use super::harness::{Container, World, conversation, direct, median, ms, posted, sqs, sqs_fifo};
use super::report::{Facts, Figure};
use super::{PhaseResult, Sizes};

/// The figures of [`latency`].
pub const IDS: &[&str] = &["cold_round_trips", "sqs_batch_latency"];

/// How late the fake Skype answers (across an ocean).
pub const SKYPE_LATENCY: Duration = Duration::from_millis(50);
/// How late every AWS answer comes back (the same region).
pub const AWS_LATENCY: Duration = Duration::from_millis(20);

const TARGET_ROUND_TRIPS: f64 = 2.3;
const TARGET_BATCH_RATIO: f64 = 2.0;

/// One upstream call of an invocation.
#[derive(Debug, Clone)]
pub struct Timed {
    /// `s3.GetObject`, `skype.Send`, ...
    pub name: String,
    /// The request arrived upstream.
    pub start: Instant,
    /// Its answer left.
    pub end: Instant,
}

/// The latencies, put in for a phase and taken out when it ends (even
/// when it fails), so the other figures run at full speed.
struct Injected<'w>(&'w World);

impl<'w> Injected<'w> {
    fn on(world: &'w World) -> Self {
        world.fake.set_latency(SKYPE_LATENCY);
        world.proxy.set_delay(AWS_LATENCY);
        Injected(world)
    }
}

impl Drop for Injected<'_> {
    fn drop(&mut self) {
        self.0.fake.set_latency(Duration::ZERO);
        self.0.proxy.set_delay(Duration::ZERO);
    }
}

/// The calls made from the `aws`th AWS and `skype`th Skype request on.
fn calls_since(world: &World, aws: usize, skype: usize) -> Vec<Timed> {
    let mut calls: Vec<Timed> = world
        .proxy
        .calls_since(aws)
        .into_iter()
        .map(|call| Timed {
            end: call.end.unwrap_or_else(Instant::now),
            name: call.op,
            start: call.start,
        })
        .collect();
    calls.extend(world.fake.requests_since(skype).into_iter().map(|request| {
        let op = request.op.map_or("unknown".into(), |op| format!("{op:?}"));
        Timed {
            name: format!("skype.{op}"),
            start: request.received_at,
            end: request.received_at + request.service_time.unwrap_or_default(),
        }
    }));
    calls.sort_by_key(|call| call.start);
    calls
}

/// The invocation from `from` to `to` in round trips (see the module's
/// comment), its own time counted in units of `unit`.
pub fn round_trips(from: Instant, to: Instant, calls: &[Timed], unit: Duration) -> f64 {
    let clamp = |at: Instant| at.clamp(from, to);
    let mut points: Vec<Instant> = calls
        .iter()
        .flat_map(|call| [clamp(call.start), clamp(call.end)])
        .chain([from, to])
        .collect();
    points.sort();
    points.dedup();
    points
        .windows(2)
        .map(|stretch| {
            let (a, b) = (stretch[0], stretch[1]);
            let longest = calls
                .iter()
                .filter(|call| call.start <= a && call.end >= b)
                .map(|call| call.end - call.start)
                .max()
                .unwrap_or(unit);
            (b - a).as_secs_f64() / longest.as_secs_f64()
        })
        .sum()
}

/// `secretsmanager.GetSecretValue 0–21 ms, s3.GetObject 0–22 ms, ...`
fn timeline(from: Instant, calls: &[Timed]) -> Vec<Value> {
    calls
        .iter()
        .map(|call| {
            json!({
                "call": call.name,
                "start_ms": ms(call.start.saturating_duration_since(from)),
                "end_ms": ms(call.end.saturating_duration_since(from)),
            })
        })
        .collect()
}

fn described(calls: &[Value]) -> String {
    calls
        .iter()
        .map(|call| {
            format!(
                "{} {:.0}–{:.0} ms",
                call["call"].as_str().unwrap_or("?"),
                call["start_ms"].as_f64().unwrap_or(0.0),
                call["end_ms"].as_f64().unwrap_or(0.0)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Both figures, one after the other, with the latencies in.
pub async fn latency(world: Arc<World>, sizes: Sizes) -> PhaseResult {
    // Seeded at full speed: a stored session (with its display name) is
    // what a cold container finds in AWS.
    world.seed_session().await?;
    let _injected = Injected::on(&world);
    let cold = cold_round_trips(&world, &sizes).await?;
    let batches = sqs_batches(&world, &sizes).await?;
    Ok((vec![cold, batches], Facts::default()))
}

/// Cold containers, each answering one direct invocation.
async fn cold_round_trips(world: &World, sizes: &Sizes) -> Result<Figure, String> {
    let channel = conversation(7);
    let mut runs: Vec<(f64, f64, Vec<Value>)> = Vec::new();
    for run in 0..sizes.latency_runs {
        let (aws, skype) = (world.proxy.count(), world.fake.request_count());
        let container = world.function(&[]).await;
        let (answer, timing) = container
            .invoke(direct(&channel, &format!("cold, far away {run}")))
            .await?;
        posted(&answer).map_err(|e| container.explain(&e))?;
        drop(container);
        let calls = calls_since(world, aws, skype);
        let trips = round_trips(timing.handed_out, timing.answered, &calls, AWS_LATENCY);
        runs.push((
            trips,
            ms(timing.elapsed()),
            timeline(timing.handed_out, &calls),
        ));
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (trips, elapsed, calls) = runs[runs.len() / 2].clone();
    let all: Vec<f64> = runs.iter().map(|run| run.0).collect();
    Ok(Figure::new("cold_round_trips")
        .measured(
            format!(
                "{trips:.2} round trips ({elapsed:.0} ms, median of {} cold containers): {}",
                runs.len(),
                described(&calls)
            ),
            trips,
            "round trips",
        )
        .verdict(trips <= TARGET_ROUND_TRIPS)
        .details(json!({
            "skype_latency_ms": ms(SKYPE_LATENCY),
            "aws_latency_ms": ms(AWS_LATENCY),
            "round_trips": summary(&all),
            "median_run": {"elapsed_ms": elapsed, "calls": calls},
        })))
}

/// What one invocation took, and whether all its records were sent.
async fn timed(container: &Container, event: Value) -> Result<f64, String> {
    let (answer, timing) = container.invoke(event).await?;
    posted(&answer).map_err(|e| container.explain(&e))?;
    Ok(ms(timing.elapsed()))
}

/// A standard-queue batch and a FIFO batch of one group, each against one
/// record, on a warm container (every record keyed by its message id).
async fn sqs_batches(world: &World, sizes: &Sizes) -> Result<Figure, String> {
    let (standard_channel, fifo_channel) = (conversation(8), conversation(9));
    let container = world.function(&[]).await;
    let nonce = format!("{}-{:?}", std::process::id(), Instant::now());
    let record = |round: usize, kind: &str, i: usize| {
        (
            format!("far-{nonce}-{round}-{kind}{i}"),
            format!("far {kind} {round}.{i}"),
        )
    };
    timed(&container, direct(&standard_channel, "warm-up")).await?;
    let n = sizes.sqs_batch;
    let (mut standard, mut fifo, mut single) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..sizes.latency_rounds {
        let one = [record(round, "one", 0)];
        single.push(timed(&container, sqs(&standard_channel, &one)).await?);
        let batch: Vec<_> = (0..n).map(|i| record(round, "std", i)).collect();
        standard.push(timed(&container, sqs(&standard_channel, &batch)).await?);
        let ordered: Vec<_> = (0..n).map(|i| record(round, "fifo", i)).collect();
        fifo.push(timed(&container, sqs_fifo(&fifo_channel, "standup", &ordered)).await?);
        let stored: Vec<String> = world
            .fake
            .messages(&fifo_channel)
            .into_iter()
            .map(|message| message.content.unwrap_or_default())
            .rev()
            .take(n)
            .rev()
            .collect();
        let expected: Vec<String> = ordered.into_iter().map(|(_, msg)| msg).collect();
        if stored != expected {
            return Err(format!("the FIFO batch arrived out of order: {stored:?}"));
        }
    }
    drop(container);
    let (one, batch, ordered) = (median(&single), median(&standard), median(&fifo));
    let ratio = batch / one;
    Ok(Figure::new("sqs_batch_latency")
        .measured(
            format!(
                "standard batch of {n}: {batch:.0} ms vs one record {one:.0} ms ({ratio:.2}×); FIFO batch of {n} in one group: {ordered:.0} ms ({:.1}×, in order, as it must be; medians of {})",
                ordered / one,
                sizes.latency_rounds
            ),
            ratio,
            "ratio",
        )
        .verdict(ratio <= TARGET_BATCH_RATIO)
        .details(json!({
            "records_per_batch": n,
            "one_record_ms": summary(&single),
            "standard_batch_ms": summary(&standard),
            "fifo_one_group_batch_ms": summary(&fifo),
        })))
}
