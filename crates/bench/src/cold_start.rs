//! Cold start (spawn → first `GET /runtime/invocation/next`, against the
//! hello-world baseline, interleaved so both see the same noise), and the
//! first invocation of a cold container (secret and token from moto).

use std::collections::BTreeMap;
use std::sync::Arc;

use fake_skype::Op;
use serde_json::json;

use super::harness::{Container, World, conversation, direct, median, ms, percentile, posted};
use super::report::{Facts, Figure};
use super::{PhaseResult, Sizes};

/// The figure of [`cold_start`].
pub const COLD_IDS: &[&str] = &["cold_start"];
/// The figure of [`first_invocation`].
pub const FIRST_IDS: &[&str] = &["first_invocation"];

const TARGET_RATIO: f64 = 1.1;

/// Medians of spawn → first poll, the function (AWS mode, as deployed) and
/// the hello-world binary taking turns; one unmeasured spawn of each first.
pub async fn cold_start(world: Arc<World>, sizes: Sizes) -> PhaseResult {
    let env = world.function_env(&[]);
    let mut hello = Vec::new();
    let mut function = Vec::new();
    for round in 0..=sizes.cold_spawns {
        let mut order = [(&world.hello, false), (&world.function, true)];
        if round % 2 == 1 {
            order.reverse();
        }
        for (binary, is_function) in order {
            let container = Container::start(binary, &env).await;
            let init = container.init_time().await?;
            drop(container);
            if round > 0 {
                if is_function {
                    &mut function
                } else {
                    &mut hello
                }
                .push(ms(init));
            }
        }
    }
    let (hello_median, function_median) = (median(&hello), median(&function));
    let ratio = function_median / hello_median;
    let figure = Figure::new("cold_start")
        .measured(
            format!(
                "{ratio:.2}× (function {function_median:.2} ms vs hello {hello_median:.2} ms, median of {} spawns each)",
                function.len()
            ),
            ratio,
            "ratio",
        )
        .verdict(ratio <= TARGET_RATIO)
        .details(json!({
            "function_ms": summary(&function),
            "hello_ms": summary(&hello),
        }));
    Ok((vec![figure], Facts::default()))
}

/// Cold containers, each answering one direct invocation queued before it
/// starts: the session is in S3 (no login), the secret in Secrets Manager.
pub async fn first_invocation(world: Arc<World>, sizes: Sizes) -> PhaseResult {
    world.seed_session().await?;
    let channel = conversation(1);
    let mut first = Vec::new();
    let mut from_spawn = Vec::new();
    let mut init = Vec::new();
    let mut aws_ops = BTreeMap::<String, usize>::new();
    let mut skype_ops = BTreeMap::<String, usize>::new();
    let runs = sizes.first_invocations;
    for run in 0..runs {
        let (aws_start, skype_start) = (world.proxy.count(), world.fake.request_count());
        let container = world.function(&[]).await;
        let (answer, timing) = container
            .invoke(direct(&channel, &format!("first invocation {run}")))
            .await?;
        posted(&answer).map_err(|e| container.explain(&e))?;
        first.push(ms(timing.elapsed()));
        from_spawn.push(ms(timing
            .answered
            .saturating_duration_since(container.spawned_at())));
        init.push(ms(container.init_time().await?));
        drop(container);
        for op in world.proxy.since(aws_start) {
            *aws_ops.entry(op).or_default() += 1;
        }
        for request in world.fake.requests_since(skype_start) {
            let op = request.op.map_or("unknown".into(), |op| format!("{op:?}"));
            *skype_ops.entry(op).or_default() += 1;
        }
    }
    let per_run = |ops: &BTreeMap<String, usize>| -> String {
        ops.iter()
            .map(|(op, n)| {
                let per = *n as f64 / runs as f64;
                if per == per.round() {
                    format!("{per:.0} {op}")
                } else {
                    format!("{per:.1} {op}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let sends = skype_ops.get(&format!("{:?}", Op::Send)).copied();
    let figure = Figure::new("first_invocation")
        .measured(
            format!(
                "{:.1} ms median event → answer ({:.1} ms from spawn) over {runs} cold containers; AWS: {}; Skype: {}",
                median(&first),
                median(&from_spawn),
                per_run(&aws_ops),
                per_run(&skype_ops),
            ),
            median(&first),
            "ms",
        )
        .details(json!({
            "event_to_answer_ms": summary(&first),
            "spawn_to_answer_ms": summary(&from_spawn),
            "spawn_to_first_poll_ms": summary(&init),
            "aws_requests": aws_ops,
            "skype_requests": skype_ops,
            "skype_sends": sends,
            "containers": runs,
            "stored": world.fake.messages(&channel).len(),
        }));
    Ok((vec![figure], Facts::default()))
}

/// Min, median, p90, max and the samples.
pub fn summary(values: &[f64]) -> serde_json::Value {
    json!({
        "n": values.len(),
        "min": values.iter().copied().fold(f64::INFINITY, f64::min),
        "median": median(values),
        "p90": percentile(values, 90.0),
        "max": values.iter().copied().fold(0.0, f64::max),
        "samples": values,
    })
}
