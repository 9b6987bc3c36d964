//! Business metrics (messages sent and failed, logins, session age) as
//! CloudWatch Embedded Metric Format (EMF) lines: one JSON object per line on
//! stdout, which CloudWatch Logs turns into metrics. No CloudWatch API call,
//! no extra permission, nothing on the request path but one small write.
//!
//! The free functions never fail and never panic: a metric that cannot be
//! written is dropped, because a message must never fail for its metric.
//! `METRICS=off` silences them; `METRICS_NAMESPACE` overrides the namespace;
//! the `Function` dimension is `AWS_LAMBDA_FUNCTION_NAME` (`local` outside
//! Lambda), so alarms can select one deployment's function.
//!
//! Each line also carries a `level` and an RFC 3339 `timestamp`, so that
//! Lambda's log-level filter (`ApplicationLogLevel`) keeps it: a line at
//! INFO, or at the configured level when that is higher
//! (`AWS_LAMBDA_LOG_LEVEL`), is never dropped (docs/architecture.md,
//! "Logs and metrics").

use std::io::Write;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::clock::unix_millis as now_ms;
use crate::domain::{LoginOutcome, Platform};

/// The namespace alarms and dashboards look in, unless `METRICS_NAMESPACE`
/// names another.
pub const DEFAULT_NAMESPACE: &str = "SkypeSender";
/// The dimension every metric carries: the Lambda function's name.
pub const FUNCTION: &str = "Function";
/// The dimension that splits `MessagesSent` by destination.
pub const PLATFORM: &str = "Platform";
/// The dimension that splits `MessagesFailed` by our stable error code.
pub const REASON: &str = "Reason";

/// Messages a platform accepted (Count).
pub const MESSAGES_SENT: &str = "MessagesSent";
/// Repeated requests (same idempotency key) answered with the first
/// result, posting nothing (Count).
pub const MESSAGES_DEDUPLICATED: &str = "MessagesDeduplicated";
/// Messages that were not delivered (Count).
pub const MESSAGES_FAILED: &str = "MessagesFailed";
/// Every login attempt (Count).
pub const LOGINS: &str = "Logins";
/// Logins stopped by a browser check, captcha or second factor (Count): a
/// person must log in once in a browser.
pub const LOGIN_WALLS: &str = "LoginWalls";
/// Logins that did not succeed, walls included (Count).
pub const LOGIN_FAILURES: &str = "LoginFailures";
/// Age of the session token in use (Seconds).
pub const SESSION_TOKEN_AGE: &str = "SessionTokenAge";
/// Time until the session token expires (Seconds; negative once expired).
pub const SESSION_EXPIRES_IN: &str = "SessionExpiresIn";

/// The `Function` value outside Lambda.
const LOCAL_FUNCTION: &str = "local";
/// The member Lambda's log-level filter reads on every line.
pub const LEVEL: &str = "level";
/// The member Lambda reads the line's time from (RFC 3339); without a
/// valid one it ignores the `level` too.
pub const TIMESTAMP: &str = "timestamp";
/// Lambda's application log levels, most detailed first.
const LAMBDA_LEVELS: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
/// The `Reason` value when the caller passed none.
const UNKNOWN_REASON: &str = "unknown";
/// EMF: a dimension value longer than this is rejected.
const MAX_DIMENSION_VALUE_CHARS: usize = 1024;
/// CloudWatch: namespaces are 1 to 255 characters.
const MAX_NAMESPACE_CHARS: usize = 255;

/// Counts one message a platform accepted.
pub fn message_sent(platform: Platform) {
    publish(settings(), &Event::MessageSent(platform));
}

/// Counts one repeated request answered with its first result.
pub fn message_deduplicated(platform: Platform) {
    publish(settings(), &Event::MessageDeduplicated(platform));
}

/// Counts one message that was not delivered; `reason` is our stable error
/// code (`skype_rate_limited`, ...), never a message from upstream.
pub fn message_failed(platform: Platform, reason: &str) {
    publish(settings(), &Event::MessageFailed(platform, reason));
}

/// Counts one login attempt, and a wall or failure when it was one.
pub fn login(outcome: LoginOutcome) {
    publish(settings(), &Event::Login(outcome));
}

/// Records how old the session token in use is, in seconds.
pub fn token_age(seconds: u64) {
    publish(settings(), &Event::TokenAge(seconds));
}

/// Records how long until the session token expires, in seconds (negative
/// once it has expired).
pub fn token_expires_in(seconds: i64) {
    publish(settings(), &Event::TokenExpiresIn(seconds));
}

/// What the process reads from its environment once.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Settings {
    namespace: String,
    function: String,
    enabled: bool,
    /// The `level` of every metric line (see [`line_level`]).
    level: &'static str,
}

impl Settings {
    /// Reads `METRICS`, `METRICS_NAMESPACE`, `AWS_LAMBDA_FUNCTION_NAME` and
    /// `AWS_LAMBDA_LOG_LEVEL` through `var`, so tests need not touch the
    /// process environment.
    fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Self {
        let enabled = var("METRICS").is_none_or(|value| {
            !matches!(
                value.trim().to_ascii_lowercase().as_str(),
                "off" | "false" | "0" | "no"
            )
        });
        let namespace = match var("METRICS_NAMESPACE") {
            None => DEFAULT_NAMESPACE.to_string(),
            Some(value) if value.trim().is_empty() => DEFAULT_NAMESPACE.to_string(),
            Some(value) if valid_namespace(value.trim()) => value.trim().to_string(),
            Some(_) => {
                tracing::warn!(
                    "METRICS_NAMESPACE is not a valid CloudWatch namespace; using {DEFAULT_NAMESPACE}"
                );
                DEFAULT_NAMESPACE.to_string()
            }
        };
        let function = var("AWS_LAMBDA_FUNCTION_NAME")
            .map(|name| name.trim().to_string())
            .filter(|name| !name.is_empty())
            .map_or_else(|| LOCAL_FUNCTION.to_string(), |name| dimension_value(&name));
        Settings {
            namespace,
            function,
            enabled,
            level: line_level(var("AWS_LAMBDA_LOG_LEVEL").as_deref()),
        }
    }
}

/// The `level` of the metric lines under Lambda's `ApplicationLogLevel`
/// (`AWS_LAMBDA_LOG_LEVEL`). Lambda drops every JSON line below that level,
/// and reads a line without a level as INFO: at WARN or above, unlabelled
/// metric lines would never reach CloudWatch, and the alarms built on them
/// would stay silent. So a line is INFO, or the configured level when that
/// is higher (it passes the filter by being at its level); FATAL, which no
/// setting drops, for a value Lambda does not define. Why, and what
/// Lambda documents: docs/architecture.md, "Logs and metrics".
fn line_level(configured: Option<&str>) -> &'static str {
    let Some(configured) = configured.map(str::trim).filter(|value| !value.is_empty()) else {
        return "INFO";
    };
    let Some(rank) = LAMBDA_LEVELS
        .iter()
        .position(|level| level.eq_ignore_ascii_case(configured))
    else {
        return "FATAL";
    };
    let info = LAMBDA_LEVELS.iter().position(|level| *level == "INFO");
    LAMBDA_LEVELS[rank.max(info.unwrap_or(rank))]
}

/// The process's settings, read on the first metric.
fn settings() -> &'static Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS.get_or_init(|| Settings::from_lookup(|name| std::env::var(name).ok()))
}

/// 1 to 255 of the characters CloudWatch accepts, and not AWS's own prefix.
fn valid_namespace(namespace: &str) -> bool {
    !namespace.is_empty()
        && namespace.chars().count() <= MAX_NAMESPACE_CHARS
        && !namespace.starts_with("AWS/")
        && namespace
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._#:/-".contains(c))
}

/// A dimension value CloudWatch accepts: not blank, at most 1024 characters.
fn dimension_value(raw: &str) -> String {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return UNKNOWN_REASON.to_string();
    }
    trimmed.chars().take(MAX_DIMENSION_VALUE_CHARS).collect()
}

/// One thing worth a metric line.
enum Event<'a> {
    MessageSent(Platform),
    MessageDeduplicated(Platform),
    MessageFailed(Platform, &'a str),
    Login(LoginOutcome),
    TokenAge(u64),
    TokenExpiresIn(i64),
}

/// The CloudWatch units we use.
#[derive(Clone, Copy)]
enum Unit {
    Count,
    Seconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Seconds => "Seconds",
        }
    }
}

/// The parts of one EMF document before it is laid out as JSON.
struct Shape {
    /// Each inner list is one dimension set (the keys, in order).
    dimensions: Vec<Vec<&'static str>>,
    /// Root members besides `Function`: dimension values and context.
    members: Vec<(&'static str, String)>,
    metrics: Vec<(&'static str, Unit, Value)>,
}

impl Event<'_> {
    fn shape(&self) -> Shape {
        let function_only = vec![vec![FUNCTION]];
        match *self {
            Event::MessageSent(platform) => Shape {
                dimensions: vec![vec![FUNCTION, PLATFORM], vec![FUNCTION]],
                members: vec![(PLATFORM, platform.metric_name().to_string())],
                metrics: vec![(MESSAGES_SENT, Unit::Count, Value::from(1))],
            },
            Event::MessageDeduplicated(platform) => Shape {
                dimensions: vec![vec![FUNCTION, PLATFORM], vec![FUNCTION]],
                members: vec![(PLATFORM, platform.metric_name().to_string())],
                metrics: vec![(MESSAGES_DEDUPLICATED, Unit::Count, Value::from(1))],
            },
            Event::MessageFailed(platform, reason) => Shape {
                dimensions: vec![vec![FUNCTION, REASON], vec![FUNCTION]],
                members: vec![
                    (REASON, dimension_value(reason)),
                    (PLATFORM, platform.metric_name().to_string()),
                ],
                metrics: vec![(MESSAGES_FAILED, Unit::Count, Value::from(1))],
            },
            Event::Login(outcome) => {
                let mut metrics = vec![(LOGINS, Unit::Count, Value::from(1))];
                if outcome == LoginOutcome::LoginWall {
                    metrics.push((LOGIN_WALLS, Unit::Count, Value::from(1)));
                }
                if outcome != LoginOutcome::Succeeded {
                    metrics.push((LOGIN_FAILURES, Unit::Count, Value::from(1)));
                }
                Shape {
                    dimensions: function_only,
                    members: vec![("Outcome", outcome.as_str().to_string())],
                    metrics,
                }
            }
            Event::TokenAge(seconds) => Shape {
                dimensions: function_only,
                members: Vec::new(),
                metrics: vec![(SESSION_TOKEN_AGE, Unit::Seconds, Value::from(seconds))],
            },
            Event::TokenExpiresIn(seconds) => Shape {
                dimensions: function_only,
                members: Vec::new(),
                metrics: vec![(SESSION_EXPIRES_IN, Unit::Seconds, Value::from(seconds))],
            },
        }
    }
}

/// One metric as the function publishes it: what dashboards and alarms may
/// select.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The metric's name (`MessagesSent`, ...).
    pub name: &'static str,
    /// The dimension sets it is published under, each a list of dimension
    /// names; CloudWatch knows the metric under each set, and only those.
    pub dimension_sets: Vec<Vec<&'static str>>,
    /// The other members of its lines (`Platform` on a failure, the login
    /// `Outcome`): not dimensions, but there for CloudWatch Logs Insights.
    pub members: Vec<&'static str>,
}

/// Every metric the function publishes (in the namespace `METRICS_NAMESPACE`
/// names, [`DEFAULT_NAMESPACE`] unless set), read from the same shapes the
/// lines are written from, so a dashboard can be checked against it.
pub fn published() -> Vec<Published> {
    let mut found: Vec<Published> = Vec::new();
    for event in Event::every_kind() {
        let shape = event.shape();
        let dimensions: Vec<&'static str> = shape.dimensions.iter().flatten().copied().collect();
        let members: Vec<&'static str> = shape
            .members
            .iter()
            .map(|(key, _)| *key)
            .filter(|key| !dimensions.contains(key))
            .collect();
        for (name, _, _) in &shape.metrics {
            match found.iter_mut().find(|metric| metric.name == *name) {
                Some(metric) => {
                    for set in &shape.dimensions {
                        if !metric.dimension_sets.contains(set) {
                            metric.dimension_sets.push(set.clone());
                        }
                    }
                    for member in &members {
                        if !metric.members.contains(member) {
                            metric.members.push(member);
                        }
                    }
                }
                None => found.push(Published {
                    name,
                    dimension_sets: shape.dimensions.clone(),
                    members: members.clone(),
                }),
            }
        }
    }
    found
}

impl Event<'static> {
    /// One event of every kind, with every platform and login outcome.
    fn every_kind() -> Vec<Event<'static>> {
        let mut events = Vec::new();
        for platform in Platform::ALL {
            events.push(Event::MessageSent(platform));
            events.push(Event::MessageDeduplicated(platform));
            events.push(Event::MessageFailed(platform, "skype_rate_limited"));
        }
        events.extend(LoginOutcome::ALL.map(Event::Login));
        events.push(Event::TokenAge(0));
        events.push(Event::TokenExpiresIn(0));
        events
    }
}

/// The EMF document of `event` at `timestamp_ms` (milliseconds since the
/// Unix epoch).
fn document(settings: &Settings, event: &Event<'_>, timestamp_ms: u64) -> Value {
    let shape = event.shape();
    let definitions: Vec<Value> = shape
        .metrics
        .iter()
        .map(|(name, unit, _)| serde_json::json!({"Name": name, "Unit": unit.as_str()}))
        .collect();
    let mut root = Map::new();
    root.insert(
        "_aws".to_string(),
        serde_json::json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": settings.namespace,
                "Dimensions": shape.dimensions,
                "Metrics": definitions,
            }],
        }),
    );
    // Read by Lambda's log-level filter, not by CloudWatch's metric
    // extraction (a member no directive names is only logged).
    root.insert(LEVEL.to_string(), Value::from(settings.level));
    root.insert(
        TIMESTAMP.to_string(),
        Value::from(crate::telemetry::rfc3339(timestamp_ms)),
    );
    root.insert(
        FUNCTION.to_string(),
        Value::from(settings.function.as_str()),
    );
    for (key, value) in shape.members {
        root.insert(key.to_string(), Value::from(value));
    }
    for (name, _, value) in shape.metrics {
        root.insert(name.to_string(), value);
    }
    Value::Object(root)
}

/// Builds and writes the line of `event`, unless metrics are off.
fn publish(settings: &Settings, event: &Event<'_>) {
    if !settings.enabled {
        return;
    }
    let document = document(settings, event, now_ms());
    #[cfg(test)]
    capture::record(document);
    #[cfg(not(test))]
    write_line(&mut std::io::stdout().lock(), &document);
}

/// Writes `document` as one line with a single write, so that under the
/// stdout lock it never interleaves with log lines (the tracing formatter
/// also writes each event with one write). Errors are dropped: a metric is
/// not worth failing a message for.
fn write_line(out: &mut impl Write, document: &Value) {
    // Compact JSON escapes every newline inside strings: one line.
    let mut line = document.to_string();
    line.push('\n');
    let _ = out.write_all(line.as_bytes());
    let _ = out.flush();
}

/// Unit tests read the documents of their own thread instead of stdout
/// (tests run in parallel threads; stdout is shared and not captured).
#[cfg(test)]
mod capture {
    use std::cell::RefCell;

    use serde_json::Value;

    thread_local! {
        static DOCUMENTS: RefCell<Vec<Value>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn record(document: Value) {
        DOCUMENTS.with(|documents| documents.borrow_mut().push(document));
    }

    /// The documents `run` published on this thread.
    pub(super) fn during(run: impl FnOnce()) -> Vec<Value> {
        DOCUMENTS.with(|documents| documents.borrow_mut().clear());
        run();
        DOCUMENTS.with(|documents| documents.borrow_mut().drain(..).collect())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// CloudWatch's standard units (the EMF `Unit` member must be one).
    const UNITS: [&str; 27] = [
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    ];

    /// Checks `doc` against the EMF specification's structure and returns
    /// its one directive's metric names.
    fn assert_valid_emf(doc: &Value) -> BTreeSet<String> {
        let root = doc.as_object().expect("the root is an object");
        let aws = root["_aws"].as_object().expect("_aws is an object");
        let keys: BTreeSet<&str> = aws.keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["CloudWatchMetrics", "Timestamp"]));
        let timestamp = aws["Timestamp"].as_u64().expect("Timestamp is ms");
        assert!(timestamp.abs_diff(now_ms()) < 60_000, "{timestamp}");
        // What Lambda's JSON log format reads: a level it knows, and the
        // same instant as RFC 3339 (without it, the level is ignored).
        let level = root[LEVEL].as_str().expect("a level");
        assert!(LAMBDA_LEVELS.contains(&level), "{level}");
        assert_eq!(root[TIMESTAMP], crate::telemetry::rfc3339(timestamp));

        let directives = aws["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(directives.len(), 1);
        let directive = directives[0].as_object().unwrap();
        let keys: BTreeSet<&str> = directive.keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["Dimensions", "Metrics", "Namespace"]));
        let namespace = directive["Namespace"].as_str().unwrap();
        assert!(valid_namespace(namespace), "{namespace}");

        let sets = directive["Dimensions"].as_array().unwrap();
        assert!(!sets.is_empty());
        for set in sets {
            let set = set.as_array().expect("a dimension set is an array");
            assert!(set.len() <= 30);
            assert_eq!(set[0], FUNCTION, "every set has the function");
            for key in set {
                let key = key.as_str().expect("dimension keys are strings");
                let value = root[key].as_str().expect("a dimension is a string member");
                assert!(!value.trim().is_empty() && value.chars().count() <= 1024);
            }
        }

        let definitions = directive["Metrics"].as_array().unwrap();
        assert!(!definitions.is_empty() && definitions.len() <= 100);
        let mut names = BTreeSet::new();
        for definition in definitions {
            let definition = definition.as_object().unwrap();
            let keys: BTreeSet<&str> = definition.keys().map(String::as_str).collect();
            assert_eq!(keys, BTreeSet::from(["Name", "Unit"]));
            let name = definition["Name"].as_str().unwrap();
            assert!((1..=255).contains(&name.len()));
            assert!(root[name].is_number(), "metric {name} is a number member");
            assert!(UNITS.contains(&definition["Unit"].as_str().unwrap()));
            names.insert(name.to_string());
        }
        names
    }

    fn one(run: impl FnOnce()) -> Value {
        let mut documents = capture::during(run);
        assert_eq!(documents.len(), 1, "{documents:?}");
        documents.remove(0)
    }

    fn dimensions(doc: &Value) -> &Value {
        &doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    }

    fn unit_of<'a>(doc: &'a Value, name: &str) -> &'a str {
        doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["Name"] == name)
            .and_then(|m| m["Unit"].as_str())
            .unwrap()
    }

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            vars.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        }
    }

    #[test]
    fn a_sent_message_counts_per_platform_and_in_total() {
        for platform in [
            Platform::Skype,
            Platform::TeamsWorkflow,
            Platform::SlackWebhook,
        ] {
            let doc = one(|| message_sent(platform));
            assert_eq!(
                assert_valid_emf(&doc),
                BTreeSet::from([MESSAGES_SENT.to_string()])
            );
            assert_eq!(doc[MESSAGES_SENT], 1);
            assert_eq!(unit_of(&doc, MESSAGES_SENT), "Count");
            assert_eq!(doc[PLATFORM], platform.metric_name());
            assert_eq!(doc[FUNCTION], settings().function.as_str());
            assert_eq!(
                *dimensions(&doc),
                serde_json::json!([["Function", "Platform"], ["Function"]])
            );
            assert_eq!(
                doc["_aws"]["CloudWatchMetrics"][0]["Namespace"],
                settings().namespace.as_str()
            );
        }
    }

    #[test]
    fn a_failed_message_counts_per_reason_and_in_total() {
        let doc = one(|| message_failed(Platform::Skype, "skype_rate_limited"));
        assert_eq!(
            assert_valid_emf(&doc),
            BTreeSet::from([MESSAGES_FAILED.to_string()])
        );
        assert_eq!(doc[MESSAGES_FAILED], 1);
        assert_eq!(unit_of(&doc, MESSAGES_FAILED), "Count");
        assert_eq!(doc[REASON], "skype_rate_limited");
        assert_eq!(doc[PLATFORM], "Skype");
        assert_eq!(
            *dimensions(&doc),
            serde_json::json!([["Function", "Reason"], ["Function"]])
        );
    }

    #[test]
    fn a_blank_or_huge_reason_is_still_a_valid_dimension() {
        let doc = one(|| message_failed(Platform::SlackWebhook, "  "));
        assert_valid_emf(&doc);
        assert_eq!(doc[REASON], "unknown");

        let huge = "é".repeat(5000);
        let doc = one(|| message_failed(Platform::TeamsWorkflow, &huge));
        assert_valid_emf(&doc);
        assert_eq!(doc[REASON].as_str().unwrap().chars().count(), 1024);
    }

    #[test]
    fn every_login_counts_and_walls_and_failures_count_apart() {
        let names = |names: &[&str]| -> BTreeSet<String> {
            names.iter().map(|name| name.to_string()).collect()
        };
        let cases = [
            (LoginOutcome::Succeeded, names(&[LOGINS])),
            (
                LoginOutcome::LoginWall,
                names(&[LOGINS, LOGIN_WALLS, LOGIN_FAILURES]),
            ),
            (LoginOutcome::Refused, names(&[LOGINS, LOGIN_FAILURES])),
            (LoginOutcome::Throttled, names(&[LOGINS, LOGIN_FAILURES])),
            (LoginOutcome::Failed, names(&[LOGINS, LOGIN_FAILURES])),
        ];
        for (outcome, expected) in cases {
            let doc = one(|| login(outcome));
            assert_eq!(assert_valid_emf(&doc), expected, "{outcome:?}");
            for name in &expected {
                assert_eq!(doc[name.as_str()], 1, "{outcome:?} {name}");
                assert_eq!(unit_of(&doc, name), "Count");
            }
            assert_eq!(doc["Outcome"], outcome.as_str());
            assert_eq!(*dimensions(&doc), serde_json::json!([["Function"]]));
        }
    }

    #[test]
    fn session_age_and_expiry_are_in_seconds() {
        let doc = one(|| token_age(3600));
        assert_eq!(
            assert_valid_emf(&doc),
            BTreeSet::from([SESSION_TOKEN_AGE.to_string()])
        );
        assert_eq!(doc[SESSION_TOKEN_AGE], 3600);
        assert_eq!(unit_of(&doc, SESSION_TOKEN_AGE), "Seconds");
        assert_eq!(*dimensions(&doc), serde_json::json!([["Function"]]));

        for seconds in [86_400, -90] {
            let doc = one(|| token_expires_in(seconds));
            assert_eq!(
                assert_valid_emf(&doc),
                BTreeSet::from([SESSION_EXPIRES_IN.to_string()])
            );
            assert_eq!(doc[SESSION_EXPIRES_IN], seconds);
            assert_eq!(unit_of(&doc, SESSION_EXPIRES_IN), "Seconds");
        }
    }

    #[test]
    fn settings_come_from_the_lambda_environment() {
        let local = Settings::from_lookup(lookup(&[]));
        assert_eq!(
            local,
            Settings {
                namespace: "SkypeSender".to_string(),
                function: "local".to_string(),
                enabled: true,
                level: "INFO",
            }
        );

        let lambda = Settings::from_lookup(lookup(&[
            (
                "AWS_LAMBDA_FUNCTION_NAME",
                "stack-SkypeSenderFunction-AbC123",
            ),
            ("METRICS_NAMESPACE", "Team/Skype"),
        ]));
        assert_eq!(lambda.function, "stack-SkypeSenderFunction-AbC123");
        assert_eq!(lambda.namespace, "Team/Skype");

        let doc = document(&lambda, &Event::MessageSent(Platform::Skype), now_ms());
        assert_valid_emf(&doc);
        assert_eq!(doc["Function"], "stack-SkypeSenderFunction-AbC123");
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "Team/Skype"
        );
    }

    #[test]
    fn an_invalid_namespace_falls_back_to_the_default() {
        for bad in ["AWS/Lambda", "bad{namespace}", &"x".repeat(256), "  "] {
            let settings = Settings::from_lookup(lookup(&[("METRICS_NAMESPACE", bad)]));
            assert_eq!(settings.namespace, DEFAULT_NAMESPACE, "{bad}");
        }
        let blank = Settings::from_lookup(lookup(&[("AWS_LAMBDA_FUNCTION_NAME", " ")]));
        assert_eq!(blank.function, "local");
    }

    #[test]
    fn metrics_off_writes_nothing() {
        for off in ["off", "OFF", "false", "0"] {
            let settings = Settings::from_lookup(lookup(&[("METRICS", off)]));
            assert!(!settings.enabled, "{off}");
            let documents = capture::during(|| {
                publish(&settings, &Event::Login(LoginOutcome::LoginWall));
            });
            assert!(documents.is_empty(), "{off}");
        }
        assert!(Settings::from_lookup(lookup(&[("METRICS", "on")])).enabled);
    }

    #[test]
    fn a_document_is_written_as_exactly_one_line() {
        let settings = Settings::from_lookup(lookup(&[]));
        let reason = "line one\nline two\r\n\"quoted\"";
        let doc = document(
            &settings,
            &Event::MessageFailed(Platform::Skype, reason),
            1_700_000_000_000,
        );
        let mut out = Vec::new();
        write_line(&mut out, &doc);
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with('\n'));
        assert_eq!(text.lines().count(), 1, "{text}");
        let parsed: Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(parsed, doc);
        assert_eq!(parsed["_aws"]["Timestamp"], 1_700_000_000_000_u64);
        assert_eq!(parsed[REASON], reason.trim());
    }

    #[test]
    fn a_failing_writer_is_ignored() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("closed"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Err(std::io::Error::other("closed"))
            }
        }
        let settings = Settings::from_lookup(lookup(&[]));
        let doc = document(&settings, &Event::TokenAge(1), now_ms());
        write_line(&mut Broken, &doc);
    }

    #[test]
    fn metric_lines_pass_lambdas_log_level_filter_at_every_setting() {
        // Lambda keeps a line whose level is at or above ApplicationLogLevel.
        let kept = |line: &str, setting: &str| {
            let rank = |level: &str| LAMBDA_LEVELS.iter().position(|l| *l == level).unwrap();
            rank(line) >= rank(setting)
        };
        for setting in LAMBDA_LEVELS {
            for spelled in [setting.to_string(), setting.to_ascii_lowercase()] {
                let level = line_level(Some(&spelled));
                assert!(kept(level, setting), "{setting}: {level}");
                // Never above INFO unless the setting asks for it.
                assert!(kept(level, "INFO") && (level == "INFO" || level == setting));
            }
        }
        assert_eq!(line_level(Some("WARN")), "WARN");
        assert_eq!(line_level(Some("debug")), "INFO");
        // Unset (text logs, or outside Lambda): INFO, what Lambda assumes.
        assert_eq!(line_level(None), "INFO");
        assert_eq!(line_level(Some(" ")), "INFO");
        // A setting Lambda does not define: the level no setting drops.
        assert_eq!(line_level(Some("verbose")), "FATAL");

        let settings = Settings::from_lookup(lookup(&[("AWS_LAMBDA_LOG_LEVEL", "ERROR")]));
        let doc = document(
            &settings,
            &Event::Login(LoginOutcome::LoginWall),
            1_700_000_000_000,
        );
        assert_eq!(doc[LEVEL], "ERROR");
        assert_eq!(doc[TIMESTAMP], "2023-11-14T22:13:20.000Z");
        assert_eq!(doc["_aws"]["Timestamp"], 1_700_000_000_000_u64);
    }

    #[test]
    fn every_kind_of_event_is_in_the_catalogue() {
        let mut seen = [false; 6];
        for event in Event::every_kind() {
            // Exhaustive: a new kind of event must be added to every_kind.
            let kind = match event {
                Event::MessageSent(_) => 0,
                Event::MessageDeduplicated(_) => 1,
                Event::MessageFailed(..) => 2,
                Event::Login(_) => 3,
                Event::TokenAge(_) => 4,
                Event::TokenExpiresIn(_) => 5,
            };
            seen[kind] = true;
        }
        assert!(seen.iter().all(|seen| *seen), "{seen:?}");
    }

    #[test]
    fn the_catalogue_lists_each_metric_with_its_dimension_sets() {
        let published = published();
        let names: BTreeSet<&str> = published.iter().map(|metric| metric.name).collect();
        assert_eq!(
            names,
            BTreeSet::from([
                MESSAGES_SENT,
                MESSAGES_DEDUPLICATED,
                MESSAGES_FAILED,
                LOGINS,
                LOGIN_WALLS,
                LOGIN_FAILURES,
                SESSION_TOKEN_AGE,
                SESSION_EXPIRES_IN,
            ])
        );
        assert_eq!(names.len(), published.len(), "each metric once");
        let metric = |name: &str| published.iter().find(|m| m.name == name).unwrap().clone();
        let sent = metric(MESSAGES_SENT);
        assert_eq!(
            sent.dimension_sets,
            [vec![FUNCTION, PLATFORM], vec![FUNCTION]]
        );
        assert!(sent.members.is_empty());
        let failed = metric(MESSAGES_FAILED);
        assert_eq!(
            failed.dimension_sets,
            [vec![FUNCTION, REASON], vec![FUNCTION]]
        );
        assert_eq!(failed.members, [PLATFORM]);
        let walls = metric(LOGIN_WALLS);
        assert_eq!(walls.dimension_sets, [vec![FUNCTION]]);
        assert_eq!(walls.members, ["Outcome"]);

        // And it agrees with the lines themselves.
        for event in Event::every_kind() {
            let doc = document(&Settings::from_lookup(lookup(&[])), &event, now_ms());
            let directive = &doc["_aws"]["CloudWatchMetrics"][0];
            for definition in directive["Metrics"].as_array().unwrap() {
                let listed = metric(definition["Name"].as_str().unwrap());
                assert_eq!(
                    directive["Dimensions"],
                    serde_json::json!(listed.dimension_sets)
                );
                for member in listed.members {
                    assert!(doc[member].is_string(), "{member} in {doc}");
                }
            }
        }
    }
}
