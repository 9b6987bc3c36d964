//! Warm invocations on one container, one at a time (as classic Lambda
//! sends them): the handler's overhead (end-to-end at the Runtime API minus
//! the fake's own service time), the upstream requests each message makes,
//! and the peak RSS after the first and the last of them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_skype::Op;
use serde_json::json;

use super::cold_start::summary;
use super::harness::{Container, World, conversation, http, ms, percentile, posted};
use super::report::{Facts, Figure};
use super::{PhaseResult, Sizes};

/// The figures of [`warm`].
pub const IDS: &[&str] = &[
    "warm_overhead_p50",
    "warm_overhead_p99",
    "upstream_per_warm_message",
    "rss_peak",
    "rss_growth",
];

/// Invocations of the hello-world binary measuring the harness's floor.
const HELLO_FLOOR_INVOCATIONS: usize = 2_000;
const P50_LIMIT_MS: f64 = 0.5;
const P99_LIMIT_MS: f64 = 2.0;
const RSS_LIMIT_MB: f64 = 30.0;
const GROWTH_LIMIT_MB: f64 = 1.0;

/// Peak and current RSS, MB.
#[derive(Debug, Clone, Copy)]
struct Rss {
    peak: f64,
    now: f64,
}

/// HTTP API messages (key in a header) on a warm container in AWS mode.
pub async fn warm(world: Arc<World>, sizes: Sizes) -> PhaseResult {
    world.seed_session().await?;
    let channel = conversation(2);
    let container = world.function(&[]).await;
    for i in 0..sizes.warm_up {
        let (answer, _) = container
            .invoke(http(&channel, &format!("warming up {i}")))
            .await?;
        posted(&answer).map_err(|e| container.explain(&e))?;
    }
    let rss = || -> Result<Rss, String> {
        Ok(Rss {
            peak: container.status_kb("VmHWM")? as f64 / 1024.0,
            now: container.status_kb("VmRSS")? as f64 / 1024.0,
        })
    };
    let rss_warmed_up = rss()?;
    let total = sizes.warm_total;
    let mut overhead = Vec::with_capacity(total);
    let mut end_to_end = Vec::with_capacity(total);
    let mut service = Vec::with_capacity(total);
    let (mut skype_requests, mut aws_requests, mut irregular) = (0u64, 0u64, 0u64);
    let mut aws_seen = Vec::new();
    let mut rss_first = None;
    let started = Instant::now();
    for i in 0..total {
        let (aws_start, skype_start) = (world.proxy.count(), world.fake.request_count());
        let message = format!("Build {i} <b>passed</b> &amp; deployed");
        let (answer, timing) = container.invoke(http(&channel, &message)).await?;
        posted(&answer).map_err(|e| container.explain(&e))?;
        let requests = world.fake.requests_since(skype_start);
        let aws = world.proxy.since(aws_start);
        let served: Duration = requests.iter().filter_map(|r| r.service_time).sum();
        let sends_only = requests.len() == 1 && requests[0].op == Some(Op::Send);
        if !sends_only || !aws.is_empty() {
            irregular += 1;
        }
        skype_requests += requests.len() as u64;
        aws_requests += aws.len() as u64;
        if aws_seen.len() < 20 {
            aws_seen.extend(aws);
        }
        end_to_end.push(ms(timing.elapsed()));
        service.push(ms(served));
        overhead.push(ms(timing.elapsed().saturating_sub(served)));
        if i + 1 == sizes.rss_first {
            rss_first = Some(rss()?);
        }
    }
    let wall = started.elapsed();
    let rss_last = rss()?;
    let rss_first = rss_first.unwrap_or(rss_last);
    drop(container);
    let delivered = world
        .fake
        .messages(&channel)
        .len()
        .saturating_sub(sizes.warm_up);

    // The harness's own floor, side by side: the hello-world binary echoing
    // the same events makes the same two Runtime API round trips and no
    // Skype call.
    let hello = Container::start(&world.hello, &world.function_env(&[])).await;
    let mut floor = Vec::with_capacity(total.min(HELLO_FLOOR_INVOCATIONS));
    for i in 0..total.min(HELLO_FLOOR_INVOCATIONS) + sizes.warm_up {
        let (_, timing) = hello
            .invoke(http(&channel, &format!("Build {i} <b>passed</b>")))
            .await?;
        if i >= sizes.warm_up {
            floor.push(ms(timing.elapsed()));
        }
    }
    drop(hello);
    let floor_p50 = percentile(&floor, 50.0);
    let floor_p99 = percentile(&floor, 99.0);

    let n = total as f64;
    let p50 = percentile(&overhead, 50.0);
    let p99 = percentile(&overhead, 99.0);
    let details = json!({
        "invocations": total,
        "overhead_ms": {
            "p50": p50, "p90": percentile(&overhead, 90.0), "p99": p99,
            "p999": percentile(&overhead, 99.9),
            "max": overhead.iter().copied().fold(0.0, f64::max),
        },
        "end_to_end_ms": {"p50": percentile(&end_to_end, 50.0), "p99": percentile(&end_to_end, 99.0)},
        "fake_service_ms": {"p50": percentile(&service, 50.0), "p99": percentile(&service, 99.0)},
        "invocations_per_second": n / wall.as_secs_f64(),
        "hello_world_end_to_end_ms": {
            "invocations": floor.len(),
            "p50": floor_p50,
            "p99": floor_p99,
        },
    });
    let figures = vec![
        Figure::new("warm_overhead_p50")
            .measured(
                format!(
                    "{p50:.3} ms over {total} sends (end-to-end {:.3} ms − fake {:.3} ms, p50s; hello-world echo end-to-end {floor_p50:.3} ms)",
                    percentile(&end_to_end, 50.0),
                    percentile(&service, 50.0)
                ),
                p50,
                "ms",
            )
            .verdict(p50 <= P50_LIMIT_MS)
            .details(details.clone()),
        Figure::new("warm_overhead_p99")
            .measured(
                format!(
                    "{p99:.3} ms (p99.9 {:.3} ms, max {:.3} ms; hello-world echo p99 {floor_p99:.3} ms)",
                    percentile(&overhead, 99.9),
                    overhead.iter().copied().fold(0.0, f64::max)
                ),
                p99,
                "ms",
            )
            .verdict(p99 <= P99_LIMIT_MS)
            .details(json!({"overhead_ms": summary_without_samples(&overhead)})),
        Figure::new("upstream_per_warm_message")
            .measured(
                format!(
                    "{:.3} Skype, {:.3} AWS per message over {total} ({irregular} not exactly 1 send + 0 AWS; {delivered} stored){}",
                    skype_requests as f64 / n,
                    aws_requests as f64 / n,
                    if aws_seen.is_empty() {
                        String::new()
                    } else {
                        format!("; AWS seen: {}", aws_seen.join(", "))
                    }
                ),
                skype_requests as f64 / n,
                "requests",
            )
            .verdict(irregular == 0 && delivered == total)
            .details(json!({
                "messages": total,
                "stored": delivered,
                "skype_requests": skype_requests,
                "aws_requests": aws_requests,
                "irregular_messages": irregular,
            })),
        Figure::new("rss_peak")
            .measured(
                format!(
                    "{:.1} MB after {}, {:.1} MB after {total} (after warm-up {:.1} MB; current RSS {:.1} MB)",
                    rss_first.peak, sizes.rss_first, rss_last.peak, rss_warmed_up.peak, rss_last.now
                ),
                rss_last.peak,
                "MB",
            )
            .verdict(rss_last.peak <= RSS_LIMIT_MB)
            .details(json!({
                "after_warm_up": {"peak_mb": rss_warmed_up.peak, "rss_mb": rss_warmed_up.now, "invocations": sizes.warm_up},
                "after_first": {"peak_mb": rss_first.peak, "rss_mb": rss_first.now, "invocations": sizes.rss_first},
                "after_last": {"peak_mb": rss_last.peak, "rss_mb": rss_last.now, "invocations": total},
            })),
        Figure::new("rss_growth")
            .measured(
                format!(
                    "{:+.2} MB peak from {} to {total} invocations (current RSS {:+.2} MB)",
                    rss_last.peak - rss_first.peak,
                    sizes.rss_first,
                    rss_last.now - rss_first.now
                ),
                rss_last.peak - rss_first.peak,
                "MB",
            )
            .verdict(rss_last.peak - rss_first.peak <= GROWTH_LIMIT_MB),
    ];
    let facts = Facts {
        warm_invocations: Some(total as u64),
        warm_skype_requests: Some(skype_requests),
        warm_aws_requests: Some(aws_requests),
        warm_irregular: Some(irregular),
        warm_delivered: Some(delivered as u64),
        ..Facts::default()
    };
    Ok((figures, facts))
}

fn summary_without_samples(values: &[f64]) -> serde_json::Value {
    let mut summary = summary(values);
    if let Some(map) = summary.as_object_mut() {
        map.remove("samples");
    }
    summary
}
