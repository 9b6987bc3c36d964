//! The deployment template (`template.yaml`): the properties an edit could
//! lose without `cfn-lint` noticing, because they are valid CloudFormation
//! either way: the runtime and build method, the environment the function
//! reads, partial batch failures, where failed events end up, least-privilege
//! IAM, the bucket's protections, and the outputs the README points at.
//!
//! The template uses CloudFormation's short-form tags (`!Ref`, `!Sub`), which
//! plain YAML parsers reject, so it is read as text: each check looks inside
//! one resource's block (its lines up to the next line indented as little),
//! with comment lines removed so a comment never satisfies an assertion.

use serde_json::Value;
use skype_sender::metrics;

const TEMPLATE: &str = include_str!("../../template.yaml");
/// What `sam build` runs for the function (`BuildMethod: makefile`).
const MAKEFILE: &str = include_str!("../../Makefile");
/// Where the function reads its configuration.
const CONFIG_RS: &str = include_str!("../../src/config.rs");
/// Where the function writes its metrics (and reads their namespace).
const METRICS_RS: &str = include_str!("../../src/metrics.rs");

/// The template without its comment lines.
fn template() -> String {
    TEMPLATE
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The block of the first `key:` line indented by `indent` spaces inside
/// `text`: that line and every following line indented deeper (or blank).
fn block(text: &str, indent: usize, key: &str) -> String {
    let head = format!("{}{key}:", " ".repeat(indent));
    let mut lines = text.lines().skip_while(|line| {
        !(line.starts_with(&head)
            && line[head.len()..]
                .chars()
                .next()
                .is_none_or(char::is_whitespace))
    });
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("no `{key}:` at indent {indent}"));
    let rest = lines
        .take_while(|line| line.trim().is_empty() || line.len() - line.trim_start().len() > indent);
    std::iter::once(first)
        .chain(rest)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A top-level resource, parameter or output (`  Name:`).
fn resource(name: &str) -> String {
    block(&template(), 2, name)
}

/// The values of `key` anywhere in `text`: `key: value` or a `- value` list.
fn values(text: &str, key: &str) -> Vec<String> {
    let head = format!("{key}:");
    let mut found = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let entry = line.trim_start();
        let entry = entry.strip_prefix("- ").unwrap_or(entry);
        let Some(value) = entry.strip_prefix(&head) else {
            continue;
        };
        if !value.trim().is_empty() {
            found.push(value.trim().to_string());
            continue;
        }
        let indent = line.len() - entry.len();
        for item in &lines[i + 1..] {
            let item_indent = item.len() - item.trim_start().len();
            match item.trim_start().strip_prefix("- ") {
                Some(value) if item_indent >= indent => found.push(value.trim().to_string()),
                _ => break,
            }
        }
    }
    found
}

/// The single value of `key` in `text`.
fn value(text: &str, key: &str) -> String {
    match values(text, key).as_slice() {
        [one] => one.clone(),
        other => panic!("expected one `{key}`, found {other:?}"),
    }
}

/// The inline value of the `key:` line at exactly `indent` spaces (not of
/// a nested key of the same name).
fn at(text: &str, indent: usize, key: &str) -> String {
    let block = block(text, indent, key);
    let line = block.lines().next().unwrap().trim_start();
    line[key.len() + 1..].trim().to_string()
}

/// A quoted YAML scalar without its quotes.
fn unquote(s: &str) -> &str {
    s.trim_matches(|c| c == '\'' || c == '"')
}

#[test]
fn the_function_is_the_rust_binary_on_al2023() {
    let function = resource("SkypeSenderFunction");
    assert_eq!(at(&function, 4, "Type"), "AWS::Serverless::Function");
    assert_eq!(value(&function, "Runtime"), "provided.al2023");
    assert_eq!(value(&function, "Handler"), "bootstrap");
    assert_eq!(value(&function, "CodeUri"), ".");
    // sam build runs the Makefile's target for the function, i.e. `make build`.
    assert_eq!(value(&function, "BuildMethod"), "makefile");
    assert!(
        MAKEFILE.contains("\nbuild-SkypeSenderFunction: build\n"),
        "the Makefile has no build-SkypeSenderFunction target running `make build`"
    );
    assert_eq!(value(&function, "Architectures"), "!Ref Architecture");
    assert_eq!(value(&function, "MemorySize"), "128");
    assert_eq!(value(&function, "Timeout"), "30");
    assert_eq!(value(&function, "LogFormat"), "JSON");
    assert!(!function.contains("ReservedConcurrentExecutions"));

    let architecture = resource("Architecture");
    assert_eq!(value(&architecture, "Default"), "x86_64");
    assert_eq!(value(&architecture, "AllowedValues"), "[x86_64, arm64]");
}

#[test]
fn the_environment_is_what_the_function_reads() {
    let variables = block(&resource("SkypeSenderFunction"), 8, "Variables");
    assert_eq!(value(&variables, "SECRET_ID"), "!Ref SkypeSecret");
    assert_eq!(value(&variables, "TOKEN_BUCKET"), "!Ref TokenBucket");
    assert_eq!(value(&variables, "TOKEN_KEY"), "skype/token");
    assert_eq!(unquote(&value(&variables, "REFRESH_WINDOW_MINUTES")), "120");
    assert_eq!(value(&variables, "RUST_LOG"), "info");
    for name in [
        "SECRET_ID",
        "TOKEN_BUCKET",
        "TOKEN_KEY",
        "REFRESH_WINDOW_MINUTES",
    ] {
        assert!(
            CONFIG_RS.contains(&format!("\"{name}\"")),
            "src/config.rs no longer reads {name}"
        );
    }
}

#[test]
fn the_queue_reports_partial_failures_and_has_a_dead_letter_queue() {
    let mapping = resource("BufferedSend");
    assert_eq!(value(&mapping, "Type"), "AWS::Lambda::EventSourceMapping");
    assert_eq!(value(&mapping, "EventSourceArn"), "!GetAtt SendQueue.Arn");
    assert_eq!(value(&mapping, "FunctionName"), "!Ref SkypeSenderFunction");
    assert_eq!(value(&mapping, "BatchSize"), "10");
    assert_eq!(
        values(&mapping, "FunctionResponseTypes"),
        ["ReportBatchItemFailures"]
    );

    let queue = resource("SendQueue");
    let timeout: u32 = value(&resource("SkypeSenderFunction"), "Timeout")
        .parse()
        .unwrap();
    let visibility: u32 = value(&queue, "VisibilityTimeout").parse().unwrap();
    assert!(
        visibility >= 6 * timeout,
        "VisibilityTimeout {visibility} < 6 x Timeout {timeout}"
    );
    assert_eq!(
        value(&queue, "deadLetterTargetArn"),
        "!GetAtt SendDeadLetterQueue.Arn"
    );
    assert_eq!(value(&queue, "maxReceiveCount"), "5");
    assert_eq!(
        value(&resource("SendDeadLetterQueue"), "Type"),
        "AWS::SQS::Queue"
    );
}

#[test]
fn failed_asynchronous_events_end_in_the_failed_events_queue() {
    let function = resource("SkypeSenderFunction");
    let invoke_config = block(&function, 6, "EventInvokeConfig");
    assert_eq!(value(&invoke_config, "MaximumRetryAttempts"), "2");
    let on_failure = block(&invoke_config, 10, "OnFailure");
    assert_eq!(value(&on_failure, "Type"), "SQS");
    assert_eq!(
        value(&on_failure, "Destination"),
        "!GetAtt FailedEventsQueue.Arn"
    );

    let events = block(&function, 6, "Events");
    for schedule in ["WeeklyReminder", "KeepAlive"] {
        let event = block(&events, 8, schedule);
        assert_eq!(value(&event, "Type"), "ScheduleV2", "{schedule}");
        assert!(event.contains("RetryPolicy:"), "{schedule}");
        assert_eq!(
            value(&block(&event, 12, "DeadLetterConfig"), "Arn"),
            "!GetAtt FailedEventsQueue.Arn",
            "{schedule}"
        );
    }
}

#[test]
fn the_schedules_send_payloads_the_function_understands() {
    let events = block(&resource("SkypeSenderFunction"), 6, "Events");

    let keep_alive = block(&events, 8, "KeepAlive");
    assert_eq!(value(&keep_alive, "ScheduleExpression"), "rate(30 minutes)");
    let input: Value = serde_json::from_str(unquote(&value(&keep_alive, "Input"))).unwrap();
    assert_eq!(input, serde_json::json!({"action": "refresh"}));

    let reminder = block(&events, 8, "WeeklyReminder");
    assert_eq!(
        value(&reminder, "ScheduleExpression"),
        "cron(55 9 ? * MON *)"
    );
    assert_eq!(
        value(&reminder, "State"),
        "!If [HasReminderChannel, ENABLED, DISABLED]"
    );
    // The input is a !Sub of ReminderChannel: substituted, it must be JSON.
    let input = value(&reminder, "Input");
    let input =
        unquote(input.strip_prefix("!Sub ").unwrap()).replace("${ReminderChannel}", "standup");
    let input: Value = serde_json::from_str(&input).unwrap();
    assert_eq!(input["channel"], "standup");
    assert!(input["msg"].as_str().is_some_and(|m| !m.is_empty()));
    // ... and the parameter cannot break the JSON string it lands in.
    assert_eq!(
        value(&resource("ReminderChannel"), "AllowedPattern"),
        r#"'^[^"\\]*$'"#
    );
    assert_eq!(
        value(&block(&template(), 0, "Conditions"), "HasReminderChannel"),
        r#"!Not [!Equals [!Ref ReminderChannel, ""]]"#
    );
}

#[test]
fn the_function_may_do_only_what_it_needs() {
    let function = resource("SkypeSenderFunction");
    let policies = block(&function, 6, "Policies");
    let mut actions = values(&policies, "Action");
    actions.sort();
    assert_eq!(
        actions,
        [
            "s3:GetObject",
            "s3:ListBucket",
            "s3:PutObject",
            "secretsmanager:GetSecretValue",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ReceiveMessage",
        ]
    );
    assert_eq!(
        values(&policies, "Resource"),
        [
            "!Ref SkypeSecret",
            "!GetAtt SendQueue.Arn",
            "!Sub \"${TokenBucket.Arn}/skype/*\"",
            "!Sub \"${TokenBucket.Arn}/idempotency/*\"",
            "!GetAtt TokenBucket.Arn",
        ]
    );
    assert_eq!(values(&policies, "s3:prefix"), ["skype/*", "idempotency/*"]);
    // The token key and its lease lock must stay inside the granted prefix.
    assert!(value(&function, "TOKEN_KEY").starts_with("skype/"));
    // Only inline policy documents: no managed policy, no SAM policy template.
    for item in policies.lines().filter(|l| l.starts_with("        - ")) {
        assert!(
            item.starts_with("        - Version:") || item.starts_with("        - Statement:"),
            "not an inline policy document: {item}"
        );
    }
    // A SAM `SQS` event would attach AWSLambdaSQSQueueExecutionRole
    // (every queue in the account); the queue is read by BufferedSend.
    let events = block(&function, 6, "Events");
    assert!(!events.contains("Type: SQS"), "{events}");
}

#[test]
fn the_token_bucket_is_private_encrypted_versioned_and_tls_only() {
    let bucket = resource("TokenBucket");
    assert_eq!(value(&bucket, "Type"), "AWS::S3::Bucket");
    for setting in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(value(&bucket, setting), "true", "{setting}");
    }
    assert_eq!(value(&bucket, "SSEAlgorithm"), "AES256");
    assert_eq!(
        value(&block(&bucket, 6, "VersioningConfiguration"), "Status"),
        "Enabled"
    );
    assert_eq!(value(&bucket, "ObjectOwnership"), "BucketOwnerEnforced");
}

#[test]
fn old_versions_and_idempotency_records_expire() {
    let bucket = resource("TokenBucket");
    let rules = block(&block(&bucket, 6, "LifecycleConfiguration"), 8, "Rules");
    assert_eq!(values(&rules, "NoncurrentDays"), ["30", "1"]);
    assert_eq!(value(&rules, "Prefix"), "idempotency/");
    assert_eq!(value(&rules, "ExpirationInDays"), "1");
}

#[test]
fn the_bucket_policy_denies_plain_http() {
    let policy = resource("TokenBucketPolicy");
    assert_eq!(value(&policy, "Bucket"), "!Ref TokenBucket");
    assert_eq!(value(&policy, "Effect"), "Deny");
    assert_eq!(value(&policy, "Principal"), "\"*\"");
    assert_eq!(value(&policy, "aws:SecureTransport"), "\"false\"");
    assert_eq!(
        values(&policy, "Resource"),
        ["!GetAtt TokenBucket.Arn", "!Sub \"${TokenBucket.Arn}/*\""]
    );
}

#[test]
fn the_secret_placeholder_has_the_shape_the_function_reads() {
    let secret = resource("SkypeSecret");
    let json: Value = serde_json::from_str(unquote(&value(&secret, "SecretString"))).unwrap();
    assert!(json["username"].is_string());
    assert!(json["password"].is_string());
    assert!(json["api_keys"].is_array());
    assert!(json["channels"].is_object());
}

#[test]
fn the_http_api_routes_every_endpoint_and_is_throttled() {
    let events = block(&resource("SkypeSenderFunction"), 6, "Events");
    for (event, method, path) in [
        ("SendMessage", "POST", "/send-message"),
        ("SendFile", "POST", "/send-file"),
        ("EditMessage", "PATCH", "/messages/{id}"),
        ("DeleteMessage", "DELETE", "/messages/{id}"),
        ("Health", "GET", "/health"),
        ("Everything", "ANY", "/{proxy+}"),
    ] {
        let route = block(&events, 8, event);
        assert_eq!(value(&route, "Type"), "HttpApi", "{event}");
        assert_eq!(value(&route, "ApiId"), "!Ref HttpApi", "{event}");
        assert_eq!(value(&route, "Method"), method, "{event}");
        assert_eq!(value(&route, "Path"), path, "{event}");
        assert_eq!(
            unquote(&value(&route, "PayloadFormatVersion")),
            "2.0",
            "{event}"
        );
    }
    // One event per route: API Gateway rejects a duplicate route key.
    let mut routes: Vec<String> = values(&events, "Method")
        .into_iter()
        .zip(values(&events, "Path"))
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    let count = routes.len();
    routes.sort();
    routes.dedup();
    assert_eq!(routes.len(), count, "{routes:?}");

    let api = resource("HttpApi");
    assert_eq!(value(&api, "ThrottlingRateLimit"), "!Ref ApiThrottleRate");
    assert_eq!(value(&api, "ThrottlingBurstLimit"), "!Ref ApiThrottleBurst");
}

#[test]
fn the_outputs_name_what_the_readme_uses() {
    let outputs = block(&template(), 0, "Outputs");
    let output = |name: &str| value(&block(&outputs, 2, name), "Value");
    assert_eq!(
        output("ApiUrl"),
        "!Sub https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/send-message"
    );
    assert_eq!(output("FunctionArn"), "!GetAtt SkypeSenderFunction.Arn");
    assert_eq!(output("FunctionName"), "!Ref SkypeSenderFunction");
    assert_eq!(output("SendQueueUrl"), "!Ref SendQueue");
    assert_eq!(output("FailedEventsQueueUrl"), "!Ref FailedEventsQueue");
    assert_eq!(output("SecretArn"), "!Ref SkypeSecret");
    assert_eq!(output("TokenBucketName"), "!Ref TokenBucket");
}

#[test]
fn the_keep_alive_renews_well_before_expiry() {
    let function = resource("SkypeSenderFunction");
    let keep_alive = block(&block(&function, 6, "Events"), 8, "KeepAlive");
    let every: u32 = value(&keep_alive, "ScheduleExpression")
        .strip_prefix("rate(")
        .and_then(|rate| rate.strip_suffix(" minutes)"))
        .unwrap()
        .parse()
        .unwrap();
    let window: u32 = unquote(&value(&function, "REFRESH_WINDOW_MINUTES"))
        .parse()
        .unwrap();
    // Several runs fall inside the refresh window, so one failed or throttled
    // renewal is retried before the session runs out.
    assert!(
        window >= 3 * every,
        "window {window} min, every {every} min"
    );
    // Its comment (the lines just above it) says so.
    let lines: Vec<&str> = TEMPLATE.lines().collect();
    let at = lines
        .iter()
        .position(|line| *line == "        KeepAlive:")
        .unwrap();
    let comment: String = lines[..at]
        .iter()
        .rev()
        .take_while(|line| line.trim_start().starts_with('#'))
        .copied()
        .collect();
    assert!(comment.contains("well before it expires"), "{comment}");
}

#[test]
fn the_function_names_the_metrics_namespace_the_alarms_read() {
    let variables = block(&resource("SkypeSenderFunction"), 8, "Variables");
    assert_eq!(
        value(&variables, "METRICS_NAMESPACE"),
        metrics::DEFAULT_NAMESPACE
    );
    // The names src/metrics.rs reads: its namespace, and the function's name
    // that Lambda sets and the alarms select with !Ref SkypeSenderFunction.
    for name in ["METRICS_NAMESPACE", "AWS_LAMBDA_FUNCTION_NAME"] {
        assert!(
            METRICS_RS.contains(&format!("\"{name}\"")),
            "src/metrics.rs no longer reads {name}"
        );
    }
    // A fixed FunctionName would also be what !Ref returns, but none is set:
    // the generated name keeps two stacks in one account apart.
    assert!(!resource("SkypeSenderFunction").contains("FunctionName:"));
}

#[test]
fn alerts_go_to_a_topic_with_an_optional_email_subscription() {
    let topic = resource("AlertsTopic");
    assert_eq!(at(&topic, 4, "Type"), "AWS::SNS::Topic");
    // CloudWatch cannot publish to a topic under the AWS-managed SNS key.
    assert!(!topic.contains("KmsMasterKeyId"), "{topic}");

    let email = resource("AlertEmail");
    assert_eq!(value(&email, "Type"), "String");
    assert_eq!(value(&email, "Default"), "\"\"");
    let pattern = regex_lite::Regex::new(unquote(&value(&email, "AllowedPattern"))).unwrap();
    for good in ["", "ops@example.com", "first.last+alerts@example.co.uk"] {
        assert!(pattern.is_match(good), "{good}");
    }
    for bad in ["ops", "ops@example.com, dev@example.com", "a@b@c"] {
        assert!(!pattern.is_match(bad), "{bad}");
    }
    assert_eq!(
        value(&block(&template(), 0, "Conditions"), "HasAlertEmail"),
        r#"!Not [!Equals [!Ref AlertEmail, ""]]"#
    );

    let subscription = resource("AlertEmailSubscription");
    assert_eq!(at(&subscription, 4, "Type"), "AWS::SNS::Subscription");
    assert_eq!(at(&subscription, 4, "Condition"), "HasAlertEmail");
    assert_eq!(value(&subscription, "TopicArn"), "!Ref AlertsTopic");
    assert_eq!(value(&subscription, "Protocol"), "email");
    assert_eq!(value(&subscription, "Endpoint"), "!Ref AlertEmail");

    let outputs = block(&template(), 0, "Outputs");
    assert_eq!(
        value(&block(&outputs, 2, "AlertsTopicArn"), "Value"),
        "!Ref AlertsTopic"
    );
}

/// What every alarm shares: it notifies the topic when it fires and when it
/// clears, no data is not a failure, and it tells the reader what to do.
fn assert_alarm_basics(name: &str) -> String {
    let alarm = resource(name);
    assert_eq!(at(&alarm, 4, "Type"), "AWS::CloudWatch::Alarm", "{name}");
    assert_eq!(value(&alarm, "TreatMissingData"), "notBreaching", "{name}");
    assert_eq!(
        values(&alarm, "AlarmActions"),
        ["!Ref AlertsTopic"],
        "{name}"
    );
    assert_eq!(values(&alarm, "OKActions"), ["!Ref AlertsTopic"], "{name}");
    let description = block(&alarm, 6, "AlarmDescription");
    assert!(description.len() > 150, "{name}: {description}");
    assert_eq!(value(&alarm, "EvaluationPeriods"), "1", "{name}");
    alarm
}

#[test]
fn login_alarms_watch_the_metrics_the_function_emits() {
    for (name, metric, period, threshold) in [
        ("LoginWallAlarm", metrics::LOGIN_WALLS, "300", "1"),
        ("LoginFailuresAlarm", metrics::LOGIN_FAILURES, "1800", "3"),
    ] {
        let alarm = assert_alarm_basics(name);
        assert_eq!(value(&alarm, "Namespace"), metrics::DEFAULT_NAMESPACE);
        assert_eq!(value(&alarm, "MetricName"), metric, "{name}");
        assert_eq!(values(&alarm, "Name"), [metrics::FUNCTION], "{name}");
        assert_eq!(
            values(&alarm, "Value"),
            ["!Ref SkypeSenderFunction"],
            "{name}"
        );
        assert_eq!(value(&alarm, "Statistic"), "Sum", "{name}");
        assert_eq!(value(&alarm, "Period"), period, "{name}");
        assert_eq!(value(&alarm, "Threshold"), threshold, "{name}");
        assert_eq!(
            value(&alarm, "ComparisonOperator"),
            "GreaterThanOrEqualToThreshold",
            "{name}"
        );
    }
    let wall = block(&resource("LoginWallAlarm"), 6, "AlarmDescription");
    assert!(wall.contains("browser"), "{wall}");
}

#[test]
fn function_errors_and_undelivered_messages_raise_alarms() {
    let errors = assert_alarm_basics("FunctionErrorsAlarm");
    assert_eq!(value(&errors, "Namespace"), "AWS/Lambda");
    assert_eq!(value(&errors, "MetricName"), "Errors");
    assert_eq!(values(&errors, "Name"), ["FunctionName"]);
    assert_eq!(values(&errors, "Value"), ["!Ref SkypeSenderFunction"]);
    assert_eq!(value(&errors, "Statistic"), "Sum");
    assert_eq!(value(&errors, "Threshold"), "1");
    assert_eq!(
        value(&errors, "ComparisonOperator"),
        "GreaterThanOrEqualToThreshold"
    );

    let undelivered = assert_alarm_basics("UndeliveredMessagesAlarm");
    assert_eq!(values(&undelivered, "Namespace"), ["AWS/SQS", "AWS/SQS"]);
    assert_eq!(
        values(&undelivered, "MetricName"),
        [
            "ApproximateNumberOfMessagesVisible",
            "ApproximateNumberOfMessagesVisible"
        ]
    );
    assert_eq!(
        values(&undelivered, "Value"),
        [
            "!GetAtt SendDeadLetterQueue.QueueName",
            "!GetAtt FailedEventsQueue.QueueName"
        ]
    );
    assert_eq!(
        value(&undelivered, "Expression"),
        "sendDeadLetters + failedEvents"
    );
    assert_eq!(value(&undelivered, "Threshold"), "0");
    assert_eq!(
        value(&undelivered, "ComparisonOperator"),
        "GreaterThanThreshold"
    );
}
