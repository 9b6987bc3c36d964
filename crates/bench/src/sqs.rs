//! An SQS batch against as many single-record invocations on the same warm
//! container: each record carries its message id as idempotency key, so
//! each one also writes its record to S3.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::cold_start::summary;
use super::harness::{
    Container, World, conversation, direct, median, ms, posted, sqs as sqs_event,
};
use super::report::{Facts, Figure};
use super::{PhaseResult, Sizes};

/// The figures of [`sqs`].
pub const IDS: &[&str] = &["sqs_batch", "sqs_per_record"];

/// What one invocation cost.
struct Cost {
    ms: f64,
    failed: usize,
    aws: Vec<String>,
    skype: usize,
}

async fn timed(world: &World, container: &Container, event: Value) -> Result<Cost, String> {
    let (aws_start, skype_start) = (world.proxy.count(), world.fake.request_count());
    let (answer, timing) = container.invoke(event).await?;
    let failed = match answer.get("batchItemFailures") {
        Some(failures) => failures.as_array().map_or(usize::MAX, Vec::len),
        None => {
            posted(&answer).map_err(|e| container.explain(&e))?;
            0
        }
    };
    Ok(Cost {
        ms: ms(timing.elapsed()),
        failed,
        aws: world.proxy.since(aws_start),
        skype: world.fake.request_count() - skype_start,
    })
}

/// Batches of `sqs_batch` records, each followed by as many single-record
/// events and as many direct invocations (no idempotency key).
pub async fn sqs(world: Arc<World>, sizes: Sizes) -> PhaseResult {
    world.seed_session().await?;
    let channel = conversation(6);
    let container = world.function(&[]).await;
    let nonce = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    );
    let record = |round: usize, kind: &str, i: usize| {
        (
            format!("bench-{nonce}-{round}-{kind}{i}"),
            format!("queued message {round}.{kind}{i}"),
        )
    };
    // Warm every path once: a direct send and a single record.
    timed(&world, &container, direct(&channel, "sqs warm-up")).await?;
    timed(
        &world,
        &container,
        sqs_event(&channel, &[record(0, "w", 0)]),
    )
    .await?;

    let n = sizes.sqs_batch;
    let (mut batches, mut singles, mut directs) = (Vec::new(), Vec::new(), Vec::new());
    let (mut records, mut failed) = (0usize, 0usize);
    let mut batch_aws = BTreeMap::<String, usize>::new();
    let mut batch_skype = 0usize;
    for round in 1..=sizes.sqs_rounds {
        let batch: Vec<_> = (0..n).map(|i| record(round, "b", i)).collect();
        let cost = timed(&world, &container, sqs_event(&channel, &batch)).await?;
        batches.push(cost.ms);
        records += n;
        failed += cost.failed;
        batch_skype += cost.skype;
        for op in cost.aws {
            *batch_aws.entry(op).or_default() += 1;
        }

        let mut total = 0.0;
        for i in 0..n {
            let event = sqs_event(&channel, &[record(round, "s", i)]);
            let cost = timed(&world, &container, event).await?;
            total += cost.ms;
            records += 1;
            failed += cost.failed;
        }
        singles.push(total);

        let mut total = 0.0;
        for i in 0..n {
            let event = direct(&channel, &format!("direct {round}.{i}"));
            total += timed(&world, &container, event).await?.ms;
        }
        directs.push(total);
    }
    drop(container);

    let (batch, single, plain) = (median(&batches), median(&singles), median(&directs));
    let ratio = batch / single;
    let per_record = (sizes.sqs_rounds * n) as f64;
    let aws_per_record: f64 = batch_aws.values().sum::<usize>() as f64 / per_record;
    let aws_breakdown: Vec<String> = batch_aws
        .iter()
        .map(|(op, count)| format!("{:.1} {op}", *count as f64 / per_record))
        .collect();
    let figures = vec![
        Figure::new("sqs_batch")
            .measured(
                format!(
                    "batch of {n}: {batch:.1} ms vs {n} single-record invocations: {single:.1} ms ({ratio:.2}×); {n} direct invocations without idempotency key: {plain:.1} ms (medians of {})",
                    sizes.sqs_rounds
                ),
                ratio,
                "ratio",
            )
            .details(json!({
                "records_per_batch": n,
                "batch_ms": summary(&batches),
                "singles_total_ms": summary(&singles),
                "direct_total_ms": summary(&directs),
            })),
        Figure::new("sqs_per_record")
            .measured(
                format!(
                    "{:.1} Skype, {aws_per_record:.1} AWS per batched record ({})",
                    batch_skype as f64 / per_record,
                    aws_breakdown.join(", ")
                ),
                aws_per_record,
                "requests",
            )
            .details(json!({
                "aws_requests": batch_aws,
                "skype_requests": batch_skype,
                "records": per_record,
            })),
    ];
    let facts = Facts {
        sqs_records: Some(records as u64),
        sqs_failed: Some(failed as u64),
        ..Facts::default()
    };
    Ok((figures, facts))
}
