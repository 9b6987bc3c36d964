//! Many invocations at once: one container with Lambda multi-concurrency
//! against the same binary run sequentially (Skype answering slowly), and
//! many cold containers finding the stored session expired together.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_skype::{Fault, Op};
use lambda_harness::runtime_api::RuntimeApi;
use serde_json::json;

use super::cold_start::summary;
use super::harness::{
    Container, World, conversation, direct, http, invoke_on, ms, posted, sends_and_reused_ids,
};
use super::report::{Facts, Figure};
use super::{PhaseResult, Sizes};

/// The figures of [`concurrency`].
pub const IDS: &[&str] = &["concurrency", "concurrency_session"];
/// The figure of [`cold_containers`].
pub const COLD_IDS: &[&str] = &["cold_containers"];

const TARGET_SPEEDUP: f64 = 10.0;

/// `count` HTTP messages to `channel` sent to `container` all at once;
/// the time from sending them to the last answer.
async fn burst(
    container: &Container,
    channel: &str,
    count: usize,
    name: &str,
) -> Result<Duration, String> {
    let started = Instant::now();
    let tasks: Vec<_> = (0..count)
        .map(|i| {
            let runtime = container.runtime().clone();
            let event = http(channel, &format!("{name} {i}"));
            tokio::spawn(async move { invoke_on(&runtime, event).await })
        })
        .collect();
    let mut last = started;
    for task in tasks {
        let (answer, timing) = task
            .await
            .map_err(|e| format!("an invocation task failed: {e}"))?
            .map_err(|e| container.explain(&e))?;
        posted(&answer).map_err(|e| container.explain(&e))?;
        last = last.max(timing.answered);
    }
    Ok(last.saturating_duration_since(started))
}

/// Messages per second with `AWS_LAMBDA_MAX_CONCURRENCY` against without,
/// Skype taking `skype_delay` over each; the concurrent container starts
/// with no stored session, so its first burst also shares one login.
pub async fn concurrency(world: Arc<World>, sizes: Sizes) -> PhaseResult {
    let fake = &world.fake;
    world.delete_session().await;
    let (concurrent_channel, sequential_channel) = (conversation(3), conversation(4));
    let logins_start = fake.logins();
    let skype_start = fake.request_count();
    let slow = Fault::Slow(sizes.skype_delay);
    let first_burst = sizes.concurrency;
    fake.inject(Op::Send, slow, first_burst + sizes.concurrent_messages);
    let limit = sizes.concurrency.to_string();
    let container = world
        .function(&[("AWS_LAMBDA_MAX_CONCURRENCY", &limit)])
        .await;
    let cold_burst = burst(&container, &concurrent_channel, first_burst, "cold burst").await?;
    let concurrent = burst(
        &container,
        &concurrent_channel,
        sizes.concurrent_messages,
        "concurrent",
    )
    .await?;
    let max_in_flight = container.runtime().max_in_flight();
    let concurrent_logins = fake.logins() - logins_start;
    let requests = fake.requests_since(skype_start);
    let (send_count, reused_ids) = sends_and_reused_ids(&requests);
    let sends: Vec<_> = requests
        .into_iter()
        .filter(|r| r.op == Some(Op::Send))
        .collect();
    let sessions: BTreeSet<String> = sends
        .iter()
        .filter_map(|r| r.header("registrationtoken").map(str::to_string))
        .collect();
    drop(container);

    let sequential_messages = sizes.sequential_messages;
    fake.inject(Op::Send, slow, 1 + sequential_messages);
    let container = world.function(&[]).await;
    let (answer, _) = container
        .invoke(direct(&sequential_channel, "sequential warm-up"))
        .await?;
    posted(&answer).map_err(|e| container.explain(&e))?;
    let sequential = burst(
        &container,
        &sequential_channel,
        sequential_messages,
        "sequential",
    )
    .await?;
    let sequential_in_flight = container.runtime().max_in_flight();
    drop(container);

    let messages = first_burst + sizes.concurrent_messages;
    let delivered = fake.messages(&concurrent_channel).len();
    let sequential_delivered = fake.messages(&sequential_channel).len();
    let logins = fake.logins() - logins_start;
    let concurrent_rate = sizes.concurrent_messages as f64 / concurrent.as_secs_f64();
    let sequential_rate = sequential_messages as f64 / sequential.as_secs_f64();
    let speedup = concurrent_rate / sequential_rate;
    let figures = vec![
        Figure::new("concurrency")
            .measured(
                format!(
                    "{speedup:.1}× ({concurrent_rate:.0} msg/s, {} at most in flight, vs {sequential_rate:.1} msg/s sequential; {} / {sequential_messages} messages)",
                    max_in_flight, sizes.concurrent_messages
                ),
                speedup,
                "ratio",
            )
            .verdict(speedup >= TARGET_SPEEDUP)
            .details(json!({
                "max_concurrency": sizes.concurrency,
                "skype_delay_ms": ms(sizes.skype_delay),
                "concurrent": {"messages": sizes.concurrent_messages, "seconds": concurrent.as_secs_f64(), "per_second": concurrent_rate, "max_in_flight": max_in_flight},
                "cold_burst": {"messages": first_burst, "seconds": cold_burst.as_secs_f64()},
                "sequential": {"messages": sequential_messages, "seconds": sequential.as_secs_f64(), "per_second": sequential_rate, "max_in_flight": sequential_in_flight},
            })),
        Figure::new("concurrency_session")
            .measured(
                format!(
                    "{concurrent_logins} login, {} session over {send_count} sends, {delivered}/{messages} stored{} (cold burst of {first_burst}: {:.0} ms); sequential container: {} login, {sequential_delivered}/{} stored",
                    sessions.len(),
                    if reused_ids > 0 { format!(" ({reused_ids} clientmessageids reused)") } else { String::new() },
                    ms(cold_burst),
                    logins - concurrent_logins,
                    sequential_messages + 1
                ),
                concurrent_logins as f64,
                "logins",
            )
            .verdict(
                concurrent_logins == 1
                    && sessions.len() == 1
                    && delivered == messages
                    && sequential_delivered == sequential_messages + 1,
            )
            .details(json!({
                "logins": concurrent_logins,
                "sessions": sessions.len(),
                "send_requests": send_count,
                "reused_client_message_ids": reused_ids,
                "messages": messages,
                "delivered": delivered,
                "sequential_messages": sequential_messages + 1,
                "sequential_delivered": sequential_delivered,
                "sequential_container_logins": logins - concurrent_logins,
            })),
    ];
    let facts = Facts {
        concurrency_logins: Some(concurrent_logins as u64),
        concurrency_sessions: Some(sessions.len() as u64),
        concurrency_messages: Some(messages as u64),
        concurrency_delivered: Some(delivered as u64),
        concurrency_max_in_flight: Some(max_in_flight),
        ..Facts::default()
    };
    Ok((figures, facts))
}

/// Cold containers started together, each with one message queued, on a
/// stored session that has expired: one should log in, the others adopt
/// its session through S3.
pub async fn cold_containers(world: Arc<World>, sizes: Sizes) -> PhaseResult {
    let fake = &world.fake;
    world.seed_session().await?;
    world.expire_session().await?;
    let channel = conversation(5);
    let count = sizes.cold_containers;
    let logins_start = fake.logins();
    let skype_start = fake.request_count();
    let aws_start = world.proxy.count();
    let env = world.function_env(&[]);
    let mut runtimes = Vec::with_capacity(count);
    for _ in 0..count {
        runtimes.push(RuntimeApi::start().await);
    }
    let started = Instant::now();
    let containers: Vec<Container> = runtimes
        .into_iter()
        .map(|runtime| Container::spawn(runtime, &world.function, &env))
        .collect();
    let tasks: Vec<_> = containers
        .iter()
        .enumerate()
        .map(|(i, container)| {
            let runtime = container.runtime().clone();
            let event = direct(&channel, &format!("cold {i}"));
            tokio::spawn(async move { invoke_on(&runtime, event).await })
        })
        .collect();
    let mut answered = Vec::new();
    let mut failures = BTreeMap::<String, usize>::new();
    let mut last = started;
    for (task, container) in tasks.into_iter().zip(&containers) {
        let outcome = task
            .await
            .map_err(|e| format!("an invocation task failed: {e}"))?;
        match outcome.and_then(|(answer, timing)| posted(&answer).map(|_| timing)) {
            Ok(timing) => {
                last = last.max(timing.answered);
                answered.push(ms(timing.answered.saturating_duration_since(started)));
            }
            Err(why) => {
                let why = container.explain(&why);
                eprintln!("bench: cold container failed: {why}");
                let short: String = why.chars().take(120).collect();
                *failures.entry(short).or_default() += 1;
            }
        }
    }
    let wall = last.saturating_duration_since(started);
    drop(containers);
    let logins = fake.logins() - logins_start;
    let delivered = fake.messages(&channel).len();
    let (send_count, reused_ids) = sends_and_reused_ids(&fake.requests_since(skype_start));
    let mut aws_ops = BTreeMap::<String, usize>::new();
    for op in world.proxy.since(aws_start) {
        *aws_ops.entry(op).or_default() += 1;
    }
    let aws_total: usize = aws_ops.values().sum();
    let figure = Figure::new("cold_containers")
        .measured(
            format!(
                "{count} containers: {logins} login, {delivered}/{count} stored{}, wall {:.2} s (median answer {:.2} s); {aws_total} AWS requests{}",
                if reused_ids > 0 { format!(" ({} answered; {reused_ids} of {send_count} sends reused another's clientmessageid)", answered.len()) } else { String::new() },
                wall.as_secs_f64(),
                if answered.is_empty() { 0.0 } else { super::harness::median(&answered) / 1e3 },
                if failures.is_empty() { String::new() } else { format!("; failures: {failures:?}") }
            ),
            logins as f64,
            "logins",
        )
        .verdict(logins == 1 && delivered == count && answered.len() == count)
        .details(json!({
            "containers": count,
            "logins": logins,
            "delivered": delivered,
            "answered": answered.len(),
            "send_requests": send_count,
            "reused_client_message_ids": reused_ids,
            "wall_seconds": wall.as_secs_f64(),
            "answer_ms_from_start": summary(&answered),
            "aws_requests": aws_ops,
            "failures": failures,
        }));
    let facts = Facts {
        cold_containers: Some(count as u64),
        cold_logins: Some(logins as u64),
        cold_delivered: Some(delivered as u64),
        cold_reused_client_message_ids: Some(reused_ids as u64),
        ..Facts::default()
    };
    Ok((vec![figure], facts))
}
