//! The figures of a run: the table `make bench` prints, the JSON it
//! writes (`target/bench.json`), and the facts the smoke test checks.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::{Params, PhaseOutput};

/// Every figure: id, what it is, its target ("reported": no target).
pub const CATALOGUE: [(&str, &str, &str); 17] = [
    (
        "cold_start",
        "cold start: spawn → first /next, vs hello-world lambda_runtime (medians)",
        "≤ 1.1×",
    ),
    (
        "first_invocation",
        "first invocation on a cold container (secret + token from moto, send)",
        "reported",
    ),
    (
        "warm_overhead_p50",
        "warm: handler overhead p50 (end-to-end − fake's service time)",
        "≤ 0.5 ms",
    ),
    ("warm_overhead_p99", "warm: handler overhead p99", "≤ 2 ms"),
    (
        "upstream_per_warm_message",
        "upstream requests per warm message (at the fake / at moto)",
        "1 Skype, 0 AWS",
    ),
    (
        "upstream_per_warm_message_by_platform",
        "the same for Teams, Slack, Discord and Telegram (at each fake / at moto)",
        "1 each, 0 AWS",
    ),
    (
        "rss_peak",
        "peak RSS (VmHWM) after the first and the last warm invocations",
        "≤ 30 MB",
    ),
    ("rss_growth", "peak RSS growth between the two", "≤ 1 MB"),
    (
        "bootstrap_size",
        "bootstrap size (stripped, x86_64 as built here)",
        "≤ 8 MB",
    ),
    (
        "zip_size",
        "bootstrap.zip (one deflated entry, as cargo-lambda)",
        "≤ 4 MB",
    ),
    (
        "concurrency",
        "AWS_LAMBDA_MAX_CONCURRENCY=32, Skype 20 ms: msg/s vs sequential",
        "≥ 10×",
    ),
    (
        "concurrency_session",
        "… logins and sessions in the concurrent container",
        "1 login, 1 session",
    ),
    (
        "cold_containers",
        "concurrent cold containers, expired session",
        "1 login, all delivered",
    ),
    (
        "sqs_batch",
        "SQS batch vs as many single-record invocations",
        "reported",
    ),
    (
        "sqs_per_record",
        "SQS: upstream requests per record (idempotency records)",
        "reported",
    ),
    (
        "cold_round_trips",
        "latency injected (Skype 50 ms, AWS 20 ms): first invocation of a cold container, in sequential round trips",
        "≤ 2.3",
    ),
    (
        "sqs_batch_latency",
        "latency injected: SQS standard batch of 10 vs one record (and FIFO, one group)",
        "≤ 2×",
    ),
];

/// One line of the table.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// Stable id (the JSON key, the smoke test's name for it).
    pub id: &'static str,
    /// What it is.
    pub label: &'static str,
    /// The measurement in words; `None` when it could not be measured.
    pub measured: Option<String>,
    /// The number compared with the target, in `unit`.
    pub value: Option<f64>,
    /// `ms`, `ratio`, `MB`, ...
    pub unit: &'static str,
    /// The target, or `reported`.
    pub target: &'static str,
    /// Whether the target is met; `None` when only reported.
    pub ok: Option<bool>,
    /// Why it could not be measured.
    pub error: Option<String>,
    /// The raw numbers behind it.
    pub details: Value,
}

impl Figure {
    /// The figure `id` of the catalogue, not measured yet.
    pub fn new(id: &'static str) -> Figure {
        let (id, label, target) = CATALOGUE
            .iter()
            .copied()
            .find(|(known, _, _)| *known == id)
            .unwrap_or_else(|| panic!("{id} is not in the catalogue"));
        Figure {
            id,
            label,
            measured: None,
            value: None,
            unit: "",
            target,
            ok: None,
            error: None,
            details: Value::Null,
        }
    }

    /// What was measured, and the number compared with the target.
    pub fn measured(mut self, text: impl Into<String>, value: f64, unit: &'static str) -> Figure {
        self.measured = Some(text.into());
        self.value = Some(value);
        self.unit = unit;
        self
    }

    /// Whether the target is met.
    pub fn verdict(mut self, ok: bool) -> Figure {
        self.ok = Some(ok);
        self
    }

    /// The raw numbers.
    pub fn details(mut self, details: Value) -> Figure {
        self.details = details;
        self
    }

    fn failed(id: &'static str, why: &str) -> Figure {
        let mut figure = Figure::new(id);
        figure.error = Some(why.to_string());
        figure
    }

    fn status(&self) -> &'static str {
        match (&self.error, self.ok) {
            (Some(_), _) => "ERROR",
            (None, Some(true)) => "ok",
            (None, Some(false)) => "MISS",
            (None, None) => "info",
        }
    }
}

/// Counts that are facts, not timings: the smoke test asserts them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Facts {
    /// Warm invocations measured.
    pub warm_invocations: Option<u64>,
    /// Requests the fake Skype received during them.
    pub warm_skype_requests: Option<u64>,
    /// AWS requests (at the proxy in front of moto) during them.
    pub warm_aws_requests: Option<u64>,
    /// Warm invocations that did not make exactly one Skype send and no AWS request.
    pub warm_irregular: Option<u64>,
    /// Warm messages stored at the fake.
    pub warm_delivered: Option<u64>,
    /// Logins while the concurrent container ran (cold, no stored session).
    pub concurrency_logins: Option<u64>,
    /// Distinct registration tokens its messages carried.
    pub concurrency_sessions: Option<u64>,
    /// Messages sent to it (warm-up burst and timed run).
    pub concurrency_messages: Option<u64>,
    /// Of those, delivered (stored at the fake).
    pub concurrency_delivered: Option<u64>,
    /// The most invocations it held at once.
    pub concurrency_max_in_flight: Option<u64>,
    /// Cold containers started together on an expired session.
    pub cold_containers: Option<u64>,
    /// Logins they performed.
    pub cold_logins: Option<u64>,
    /// Messages they delivered (stored at the fake).
    pub cold_delivered: Option<u64>,
    /// Their sends that reused a `clientmessageid` another container had
    /// used (Skype keeps only the first of them).
    pub cold_reused_client_message_ids: Option<u64>,
    /// SQS records sent (batches and singles).
    pub sqs_records: Option<u64>,
    /// SQS records reported failed.
    pub sqs_failed: Option<u64>,
}

impl Facts {
    fn merge(&mut self, other: Facts) {
        macro_rules! take {
            ($($field:ident),*) => { $( self.$field = self.$field.or(other.$field); )* };
        }
        take!(
            warm_invocations,
            warm_skype_requests,
            warm_aws_requests,
            warm_irregular,
            warm_delivered,
            concurrency_logins,
            concurrency_sessions,
            concurrency_messages,
            concurrency_delivered,
            concurrency_max_in_flight,
            cold_containers,
            cold_logins,
            cold_delivered,
            cold_reused_client_message_ids,
            sqs_records,
            sqs_failed
        );
    }
}

/// The machine the figures were measured on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// `model name` of /proc/cpuinfo.
    pub cpu: String,
    /// Logical processors.
    pub cores: usize,
    /// /proc/loadavg when the run started.
    pub load_at_start: String,
    /// Total memory, MB.
    pub memory_mb: u64,
    /// The kernel release.
    pub kernel: String,
    /// When the run started, UTC.
    pub date_utc: String,
}

impl Machine {
    fn here() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|line| {
                let (key, value) = line.split_once(':')?;
                (key.trim() == "model name").then(|| value.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        let cores = cpuinfo
            .lines()
            .filter(|line| line.starts_with("processor"))
            .count()
            .max(std::thread::available_parallelism().map_or(1, usize::from));
        let memory_mb = std::fs::read_to_string("/proc/meminfo")
            .unwrap_or_default()
            .lines()
            .find_map(|line| line.strip_prefix("MemTotal:"))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map_or(0, |kb| kb / 1024);
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .map(|text| text.trim().to_string())
                .unwrap_or_default()
        };
        Machine {
            cpu,
            cores,
            load_at_start: read("/proc/loadavg"),
            memory_mb,
            kernel: read("/proc/sys/kernel/osrelease"),
            date_utc: utc_now(),
        }
    }
}

/// `YYYY-MM-DD hh:mm:ss UTC`, from the system clock.
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `full` or `quick`.
    pub mode: &'static str,
    /// `release` or `debug`.
    pub profile: String,
    /// The function binary.
    pub function: String,
    /// The hello-world baseline binary.
    pub hello: String,
    /// Where it ran.
    pub machine: Machine,
    /// The figures, in catalogue order.
    pub figures: Vec<Figure>,
    /// Counts the smoke test asserts.
    pub facts: Facts,
    /// How long the run took.
    pub seconds: f64,
}

impl Report {
    pub(crate) fn new(params: &Params) -> Report {
        Report {
            mode: params.sizes.name,
            profile: params.profile.clone(),
            function: params.function.display().to_string(),
            hello: params.hello.display().to_string(),
            machine: Machine::here(),
            figures: Vec::new(),
            facts: Facts::default(),
            seconds: 0.0,
        }
    }

    /// Adds what a phase produced (or marks its figures failed).
    pub(crate) fn add(&mut self, output: PhaseOutput) {
        match output.result {
            Ok((figures, facts)) => {
                for id in output.ids {
                    if !figures.iter().any(|f| f.id == *id) {
                        self.figures
                            .push(Figure::failed(id, "the phase did not produce it"));
                    }
                }
                self.figures.extend(figures);
                self.facts.merge(facts);
            }
            Err(why) => {
                eprintln!("bench: {}: {why}", output.ids.join(", "));
                self.figures
                    .extend(output.ids.iter().map(|id| Figure::failed(id, &why)));
            }
        }
    }

    /// Marks every figure failed (nothing could run).
    pub(crate) fn fail_all(&mut self, why: &str) {
        self.figures = CATALOGUE
            .iter()
            .map(|(id, _, _)| Figure::failed(id, why))
            .collect();
    }

    pub(crate) fn finish(&mut self, elapsed: Duration) {
        let order = |id: &str| CATALOGUE.iter().position(|(known, _, _)| *known == id);
        self.figures.sort_by_key(|f| order(f.id));
        self.seconds = elapsed.as_secs_f64();
    }

    /// The figure `id`, if the run has it.
    pub fn figure(&self, id: &str) -> Option<&Figure> {
        self.figures.iter().find(|f| f.id == id)
    }

    /// Whether every figure with a target met it.
    pub fn all_ok(&self) -> bool {
        self.figures
            .iter()
            .all(|f| f.error.is_none() && f.ok != Some(false))
    }

    /// The machine facts and the table, as printed.
    pub fn table(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "skype-sender benchmark: {} run, {} binaries, {}\n",
            self.mode, self.profile, self.machine.date_utc
        ));
        out.push_str(&format!(
            "machine: {}, {} logical cores, {} MB RAM, kernel {}, load at start {}\n",
            self.machine.cpu,
            self.machine.cores,
            self.machine.memory_mb,
            self.machine.kernel,
            self.machine.load_at_start
        ));
        out.push_str(&format!(
            "function: {}\nbaseline: {}\n(MB = 2^20 bytes; times from one run, side by side)\n\n",
            self.function, self.hello
        ));
        let rows: Vec<[String; 4]> = self
            .figures
            .iter()
            .map(|f| {
                let measured = match (&f.measured, &f.error) {
                    (Some(text), _) => text.clone(),
                    (None, Some(why)) => format!("not measured: {why}"),
                    (None, None) => "not measured".into(),
                };
                [
                    f.label.to_string(),
                    measured,
                    f.target.to_string(),
                    f.status().to_string(),
                ]
            })
            .collect();
        let header = [
            "figure".to_string(),
            "measured".into(),
            "target".into(),
            "ok".into(),
        ];
        let mut widths = [0usize; 4];
        for row in std::iter::once(&header).chain(rows.iter()) {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |row: &[String; 4]| {
            let cells: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(cell, width)| format!("{cell}{}", " ".repeat(width - cell.chars().count())))
                .collect();
            format!("| {} |\n", cells.join(" | "))
        };
        out.push_str(&line(&header));
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str(&format!("|-{}-|\n", rule.join("-|-")));
        for row in &rows {
            out.push_str(&line(row));
        }
        let missed: Vec<&str> = self
            .figures
            .iter()
            .filter(|f| f.ok == Some(false))
            .map(|f| f.id)
            .collect();
        let failed: Vec<&str> = self
            .figures
            .iter()
            .filter(|f| f.error.is_some())
            .map(|f| f.id)
            .collect();
        let mut verdict = Vec::new();
        if !failed.is_empty() {
            verdict.push(format!("not measured: {}", failed.join(", ")));
        }
        if !missed.is_empty() {
            verdict.push(format!("missed: {}", missed.join(", ")));
        }
        if verdict.is_empty() {
            verdict.push("every target met".into());
        }
        out.push_str(&format!(
            "\n{} figures in {:.0} s; {}\n",
            self.figures.len(),
            self.seconds,
            verdict.join("; ")
        ));
        out
    }

    /// The report as JSON.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}
