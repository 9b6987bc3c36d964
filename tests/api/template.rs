//! The deployment template (`template.yaml`): the properties an edit could
//! lose without `cfn-lint` noticing, because they are valid CloudFormation
//! either way: the runtime and build method, the environment the function
//! reads, partial batch failures, where failed events end up, least-privilege
//! IAM, the bucket's and the secret's protections, the outputs the README
//! points at, access logs that never hold a key, and a dashboard that reads
//! exactly the metrics `src/metrics.rs` publishes.
//!
//! The template uses CloudFormation's short-form tags (`!Ref`, `!Sub`), which
//! plain YAML parsers reject, so it is read as text: each check looks inside
//! one resource's block (its lines up to the next line indented as little),
//! with comment lines removed so a comment never satisfies an assertion.

use std::collections::BTreeSet;

use serde_json::Value;
use skype_sender::domain::Platform;
use skype_sender::metrics;

const TEMPLATE: &str = include_str!("../../template.yaml");
/// What `sam build` runs for the function (`BuildMethod: makefile`).
const MAKEFILE: &str = include_str!("../../Makefile");
/// Where the function reads its configuration.
const CONFIG_RS: &str = include_str!("../../src/config.rs");
/// Where the function writes its metrics (and reads their namespace).
const METRICS_RS: &str = include_str!("../../src/metrics.rs");
/// The HTTP routes (`GET /health` among them).
const ROUTES_RS: &str = include_str!("../../src/triggers/http/routes.rs");

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
    assert_eq!(
        value(&variables, "SCHEDULE_GROUP"),
        "!Ref ReminderScheduleGroup"
    );
    assert_eq!(
        value(&variables, "SCHEDULER_ROLE_ARN"),
        "!GetAtt ReminderSchedulerRole.Arn"
    );
    assert_eq!(
        value(&variables, "REMINDER_DEAD_LETTER_ARN"),
        "!GetAtt FailedEventsQueue.Arn"
    );
    for name in [
        "SECRET_ID",
        "TOKEN_BUCKET",
        "TOKEN_KEY",
        "REFRESH_WINDOW_MINUTES",
        "SCHEDULE_GROUP",
        "SCHEDULER_ROLE_ARN",
        "REMINDER_DEAD_LETTER_ARN",
        "REMINDERS_PER_KEY",
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
            "iam:PassRole",
            "s3:GetObject",
            "s3:ListBucket",
            "s3:PutObject",
            "scheduler:CreateSchedule",
            "scheduler:DeleteSchedule",
            "scheduler:GetSchedule",
            "scheduler:ListSchedules",
            "scheduler:UpdateSchedule",
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
            // The Teams bot's conversation references: the one prefix it adds.
            "!Sub \"${TokenBucket.Arn}/teams/*\"",
            "!GetAtt TokenBucket.Arn",
            // Reminders: the schedules of the stack's group only ...
            "!Sub \"arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/${ReminderScheduleGroup}/*\"",
            // ... listed (ListSchedules has no resource) ...
            "\"*\"",
            // ... and the one role they run as, passed to Scheduler only.
            "!GetAtt ReminderSchedulerRole.Arn",
        ]
    );
    assert_eq!(
        value(&policies, "iam:PassedToService"),
        "scheduler.amazonaws.com"
    );
    assert_eq!(
        values(&policies, "s3:prefix"),
        ["skype/*", "idempotency/*", "teams/*"]
    );
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
        ("CreateReminder", "POST", "/reminders"),
        ("ListReminders", "GET", "/reminders"),
        ("GetReminder", "GET", "/reminders/{id}"),
        ("ChangeReminder", "PATCH", "/reminders/{id}"),
        ("DeleteReminder", "DELETE", "/reminders/{id}"),
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

/// The comment lines just above the `key:` line indented by `indent`.
fn comment_above(indent: usize, key: &str) -> String {
    let lines: Vec<&str> = TEMPLATE.lines().collect();
    let head = format!("{}{key}:", " ".repeat(indent));
    let at = lines
        .iter()
        .position(|line| line.trim_end() == head)
        .unwrap_or_else(|| panic!("no `{key}:` at indent {indent}"));
    let mut comment: Vec<&str> = lines[..at]
        .iter()
        .rev()
        .take_while(|line| line.trim_start().starts_with('#'))
        .map(|line| line.trim_start().trim_start_matches('#').trim())
        .collect();
    comment.reverse();
    comment.join(" ")
}

/// The names of the resources of type `kind`.
fn resources_of_type(kind: &str) -> Vec<String> {
    let resources = block(&template(), 0, "Resources");
    resources
        .lines()
        .filter_map(|line| {
            let name = line.strip_prefix("  ")?.strip_suffix(':')?;
            (!name.starts_with(' ') && at(&resource(name), 4, "Type") == kind)
                .then(|| name.to_string())
        })
        .collect()
}

/// A block scalar (`key: >-` or `key: !Sub |`): its lines without their
/// indentation, and the header's tail (`>-`, `!Sub |`).
fn scalar_block(text: &str, indent: usize, key: &str) -> (String, Vec<String>) {
    let block = block(text, indent, key);
    let mut lines = block.lines();
    let head = lines.next().unwrap().trim_start()[key.len() + 1..]
        .trim()
        .to_string();
    let body: Vec<String> = lines.map(|line| line.trim().to_string()).collect();
    (head, body)
}

/// `text` as `!Sub` makes it: each `${Name}` replaced by its value in
/// `vars` (a name not there fails the test) and `${!Literal}` kept as
/// `${Literal}`.
fn substitute(text: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = start + rest[start..].find('}').expect("an unclosed ${");
        let name = &rest[start + 2..end];
        match name.strip_prefix('!') {
            Some(literal) => out.push_str(&format!("${{{literal}}}")),
            None => {
                let (_, value) = vars
                    .iter()
                    .find(|(var, _)| *var == name)
                    .unwrap_or_else(|| panic!("!Sub names an unexpected ${{{name}}}"));
                out.push_str(value);
            }
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_secret_outlives_the_stack_like_the_bucket() {
    for name in ["SkypeSecret", "TokenBucket"] {
        let resource = resource(name);
        assert_eq!(at(&resource, 4, "DeletionPolicy"), "Retain", "{name}");
        assert_eq!(at(&resource, 4, "UpdateReplacePolicy"), "Retain", "{name}");
    }
}

#[test]
fn the_health_route_comment_says_what_it_requires() {
    // GET /health authenticates its caller like every route ...
    let health = ROUTES_RS
        .split("pub async fn health(")
        .nth(1)
        .expect("routes.rs has a health route");
    let body = &health[..health.find("\n}\n").unwrap()];
    assert!(body.contains("authenticate("), "{body}");
    // ... and the template says so.
    let comment = comment_above(8, "Health");
    assert!(comment.contains("API key"), "{comment}");
    for wrong in ["No API key", "no key", "without a key"] {
        assert!(!comment.contains(wrong), "{comment}");
    }
}

#[test]
fn the_function_is_traced_with_x_ray() {
    let function = resource("SkypeSenderFunction");
    assert_eq!(at(&function, 6, "Tracing"), "Active");
}

#[test]
fn the_log_level_is_one_lambda_knows_and_its_comment_points_at_the_docs() {
    let function = resource("SkypeSenderFunction");
    let level = value(&function, "ApplicationLogLevel");
    assert!(
        ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"].contains(&level.as_str()),
        "{level}"
    );
    // Its comments (inside the block) explain why raising it keeps metrics.
    let comment = block(TEMPLATE, 6, "LoggingConfig");
    assert!(
        comment.contains("docs/architecture.md"),
        "say where the metric lines' level is explained: {comment}"
    );
}

/// The `$context` variables the access log may hold: API Gateway's own
/// facts about the request, none of them read from a header, the query
/// string or the body (where the API key travels).
const SAFE_ACCESS_LOG_VARIABLES: [&str; 13] = [
    "$context.requestId",
    "$context.requestTime",
    "$context.identity.sourceIp",
    "$context.protocol",
    "$context.httpMethod",
    "$context.path",
    "$context.routeKey",
    "$context.status",
    "$context.responseLength",
    "$context.responseLatency",
    "$context.integrationLatency",
    "$context.integrationStatus",
    "$context.error.message",
];

/// What would let a request's headers, query string or body into the log.
const UNSAFE_FRAGMENTS: [&str; 9] = [
    "header",
    "query",
    "body",
    "authorizer",
    "useragent",
    "$request.",
    "$input",
    "$stagevariables",
    "$util",
];

#[test]
fn api_access_logs_are_one_json_line_without_headers_query_or_body() {
    for safe in SAFE_ACCESS_LOG_VARIABLES {
        for fragment in UNSAFE_FRAGMENTS {
            assert!(!safe.to_ascii_lowercase().contains(fragment), "{safe}");
        }
    }

    let settings = block(&resource("HttpApi"), 6, "AccessLogSettings");
    assert_eq!(
        value(&settings, "DestinationArn"),
        "!GetAtt ApiAccessLogGroup.Arn"
    );
    // Folded: API Gateway takes the format as one line.
    let (head, lines) = scalar_block(&settings, 8, "Format");
    assert_eq!(head, ">-");
    let format = lines.join(" ");
    let lowered = format.to_ascii_lowercase();
    for fragment in UNSAFE_FRAGMENTS {
        assert!(!lowered.contains(fragment), "{fragment} in {format}");
    }
    let fields: Value = serde_json::from_str(&format).expect("the format is JSON");
    let fields = fields.as_object().unwrap();
    let mut variables = BTreeSet::new();
    for (name, variable) in fields {
        // Each value one variable, quoted ("-" is not a JSON number).
        let variable = variable.as_str().unwrap_or_else(|| panic!("{name}"));
        assert!(
            SAFE_ACCESS_LOG_VARIABLES.contains(&variable),
            "{name}: {variable} is not known to be safe to log"
        );
        variables.insert(variable);
    }
    // No variable outside the values (in a key, say).
    assert_eq!(format.matches('$').count(), fields.len(), "{format}");
    for required in [
        "$context.requestId",
        "$context.status",
        "$context.responseLatency",
        "$context.integrationLatency",
        "$context.routeKey",
        "$context.httpMethod",
        "$context.path",
    ] {
        assert!(variables.contains(required), "{required} is not logged");
    }

    let group = resource("ApiAccessLogGroup");
    assert_eq!(at(&group, 4, "Type"), "AWS::Logs::LogGroup");
    assert_eq!(value(&group, "RetentionInDays"), "!Ref LogRetentionDays");
    let outputs = block(&template(), 0, "Outputs");
    assert_eq!(
        value(&block(&outputs, 2, "ApiAccessLogGroupName"), "Value"),
        "!Ref ApiAccessLogGroup"
    );
}

/// Stand-ins for what `!Sub` puts into the dashboard.
const REGION: &str = "eu-west-1";
const FUNCTION_NAME: &str = "stack-SkypeSenderFunction-AbC123";
const FUNCTION_LOG_GROUP: &str = "/aws/lambda/stack-skype-sender";
const API_ID: &str = "a1b2c3d4e5";

/// The dashboard body as CloudFormation would hand it to CloudWatch, and
/// the queue names it stands in for each queue resource.
fn dashboard() -> (Value, Vec<(String, String)>) {
    let (head, lines) = scalar_block(&resource("Dashboard"), 6, "DashboardBody");
    assert_eq!(head, "!Sub |");
    let queues: Vec<(String, String)> = resources_of_type("AWS::SQS::Queue")
        .into_iter()
        .map(|queue| (format!("{queue}.QueueName"), format!("queue-{queue}")))
        .collect();
    let mut vars: Vec<(&str, &str)> = vec![
        ("AWS::Region", REGION),
        ("SkypeSenderFunction", FUNCTION_NAME),
        ("FunctionLogGroup", FUNCTION_LOG_GROUP),
        ("HttpApi", API_ID),
    ];
    vars.extend(
        queues
            .iter()
            .map(|(var, name)| (var.as_str(), name.as_str())),
    );
    let body = substitute(&lines.join("\n"), &vars);
    let body = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    (body, queues)
}

/// One line of a metric widget, as CloudWatch reads it.
#[derive(Debug)]
enum Line {
    Metric {
        namespace: String,
        name: String,
        dimensions: Vec<(String, String)>,
        id: Option<String>,
    },
    Expression {
        id: String,
        expression: String,
    },
}

fn lines_of(widget: &Value) -> Vec<Line> {
    let metrics = widget["properties"]["metrics"].as_array().unwrap();
    metrics
        .iter()
        .map(|line| {
            let parts = line.as_array().unwrap();
            if let [Value::Object(expression)] = parts.as_slice() {
                return Line::Expression {
                    id: expression["id"].as_str().unwrap().to_string(),
                    expression: expression["expression"].as_str().unwrap().to_string(),
                };
            }
            let (options, strings) = match parts.last() {
                Some(Value::Object(options)) => (Some(options), &parts[..parts.len() - 1]),
                _ => (None, &parts[..]),
            };
            let strings: Vec<&str> = strings
                .iter()
                .map(|part| part.as_str().expect("metric parts are strings"))
                .collect();
            // Spelled out: no "." or "..." copying the line above.
            assert!(!strings.iter().any(|s| s.starts_with('.')), "{line}");
            assert!(
                strings.len() >= 2 && strings.len().is_multiple_of(2),
                "{line}"
            );
            Line::Metric {
                namespace: strings[0].to_string(),
                name: strings[1].to_string(),
                dimensions: strings[2..]
                    .chunks(2)
                    .map(|pair| (pair[0].to_string(), pair[1].to_string()))
                    .collect(),
                id: options
                    .and_then(|o| o.get("id"))
                    .map(|id| id.as_str().unwrap().to_string()),
            }
        })
        .collect()
}

/// The function's metric `name` under exactly the dimension names `names`
/// (in any order), as `src/metrics.rs` publishes it; panics otherwise.
fn assert_published(name: &str, names: &[&str]) -> metrics::Published {
    let published = metrics::published();
    let metric = published
        .iter()
        .find(|metric| metric.name == name)
        .unwrap_or_else(|| {
            panic!("the dashboard reads {name}, which src/metrics.rs does not publish")
        });
    let wanted: BTreeSet<&str> = names.iter().copied().collect();
    assert!(
        metric
            .dimension_sets
            .iter()
            .any(|set| set.iter().copied().collect::<BTreeSet<_>>() == wanted),
        "{name} is published under {:?}, not {names:?}",
        metric.dimension_sets
    );
    metric.clone()
}

#[test]
fn the_dashboard_reads_exactly_what_the_function_and_aws_publish() {
    let (dashboard, queues) = dashboard();
    let mut read: BTreeSet<(String, String)> = BTreeSet::new();
    let mut platforms_sent = BTreeSet::new();
    let mut searched = Vec::new();
    let widgets = dashboard["widgets"].as_array().unwrap();
    for widget in widgets.iter().filter(|w| w["type"] == "metric") {
        let title = widget["properties"]["title"].as_str().unwrap();
        assert_eq!(widget["properties"]["region"], REGION, "{title}");
        let lines = lines_of(widget);
        let ids: Vec<&str> = lines
            .iter()
            .filter_map(|line| match line {
                Line::Metric { id, .. } => id.as_deref(),
                Line::Expression { id, .. } => Some(id),
            })
            .collect();
        for line in &lines {
            match line {
                Line::Metric {
                    namespace,
                    name,
                    dimensions,
                    ..
                } => {
                    let names: Vec<&str> = dimensions.iter().map(|(n, _)| n.as_str()).collect();
                    let value_of = |dimension: &str| {
                        dimensions
                            .iter()
                            .find(|(n, _)| n == dimension)
                            .map(|(_, v)| v.as_str())
                    };
                    match namespace.as_str() {
                        metrics::DEFAULT_NAMESPACE => {
                            assert_published(name, &names);
                            assert_eq!(value_of(metrics::FUNCTION), Some(FUNCTION_NAME), "{title}");
                            if let Some(platform) = value_of(metrics::PLATFORM) {
                                assert!(
                                    Platform::ALL.iter().any(|p| p.metric_name() == platform),
                                    "{title}: no platform {platform}"
                                );
                                if name == metrics::MESSAGES_SENT {
                                    platforms_sent.insert(platform.to_string());
                                }
                            }
                        }
                        "AWS/Lambda" => {
                            assert_eq!(names, ["FunctionName"], "{title}");
                            assert_eq!(value_of("FunctionName"), Some(FUNCTION_NAME));
                        }
                        "AWS/SQS" => {
                            assert_eq!(names, ["QueueName"], "{title}");
                            assert_eq!(name, "ApproximateNumberOfMessagesVisible");
                        }
                        "AWS/ApiGateway" => {
                            assert_eq!(names, ["ApiId"], "{title}");
                            assert_eq!(value_of("ApiId"), Some(API_ID));
                        }
                        other => panic!("{title}: unexpected namespace {other}"),
                    }
                    let subject = dimensions
                        .iter()
                        .find(|(n, _)| n == "QueueName")
                        .map_or(name.clone(), |(_, queue)| format!("{name} {queue}"));
                    read.insert((namespace.clone(), subject));
                }
                Line::Expression { expression, .. } if expression.starts_with("SEARCH(") => {
                    // SEARCH('{Namespace,Dim,...} MetricName="X" Function="..."', ...)
                    let schema = &expression
                        [expression.find('{').unwrap() + 1..expression.find('}').unwrap()];
                    let mut parts = schema.split(',');
                    assert_eq!(
                        parts.next(),
                        Some(metrics::DEFAULT_NAMESPACE),
                        "{expression}"
                    );
                    let names: Vec<&str> = parts.collect();
                    let name = expression
                        .split("MetricName=\"")
                        .nth(1)
                        .and_then(|rest| rest.split('"').next())
                        .unwrap_or_else(|| panic!("{expression}: no MetricName"));
                    assert_published(name, &names);
                    // This deployment's function only.
                    assert!(
                        expression.contains(&format!("{}=\"{FUNCTION_NAME}\"", metrics::FUNCTION)),
                        "{expression}"
                    );
                    searched.push((name.to_string(), names.join(",")));
                    read.insert((metrics::DEFAULT_NAMESPACE.to_string(), name.to_string()));
                }
                Line::Expression { expression, .. } => {
                    // Metric math on lines of the same widget.
                    for word in expression.split(|c: char| !c.is_ascii_alphanumeric()) {
                        if word.starts_with(|c: char| c.is_ascii_lowercase()) {
                            assert!(ids.contains(&word), "{title}: {expression} reads {word}");
                        }
                    }
                }
            }
        }
    }

    // What an operator must find there.
    let platforms: BTreeSet<String> = Platform::ALL
        .iter()
        .map(|platform| platform.metric_name().to_string())
        .collect();
    assert_eq!(platforms_sent, platforms, "messages sent, by platform");
    assert!(
        searched.contains(&(
            metrics::MESSAGES_FAILED.to_string(),
            format!("{},{}", metrics::FUNCTION, metrics::REASON)
        )),
        "messages failed, by reason: {searched:?}"
    );
    let mut expected: Vec<(String, String)> = [
        metrics::MESSAGES_SENT,
        metrics::MESSAGES_FAILED,
        metrics::LOGINS,
        metrics::LOGIN_WALLS,
        metrics::LOGIN_FAILURES,
        metrics::SESSION_EXPIRES_IN,
    ]
    .iter()
    .map(|name| (metrics::DEFAULT_NAMESPACE.to_string(), name.to_string()))
    .collect();
    for name in ["Errors", "Duration", "Throttles"] {
        expected.push(("AWS/Lambda".to_string(), name.to_string()));
    }
    // Every queue of the stack: the send queue and both dead-letter queues.
    assert_eq!(queues.len(), 3, "{queues:?}");
    for (_, queue) in &queues {
        expected.push((
            "AWS/SQS".to_string(),
            format!("ApproximateNumberOfMessagesVisible {queue}"),
        ));
    }
    for metric in expected {
        assert!(
            read.contains(&metric),
            "the dashboard does not show {metric:?}"
        );
    }
}

#[test]
fn the_session_widget_marks_where_renewal_starts() {
    let (dashboard, _) = dashboard();
    let widget = dashboard["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|widget| widget["properties"]["title"] == "Skype session (hours)")
        .unwrap();
    let hours = widget["properties"]["annotations"]["horizontal"][0]["value"]
        .as_u64()
        .unwrap();
    let window: u64 = unquote(&value(
        &resource("SkypeSenderFunction"),
        "REFRESH_WINDOW_MINUTES",
    ))
    .parse()
    .unwrap();
    assert_eq!(hours * 60, window);
}

#[test]
fn the_dashboards_log_queries_read_fields_the_lines_have() {
    let (dashboard, _) = dashboard();
    let queries: Vec<&str> = dashboard["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|widget| widget["type"] == "log")
        .map(|widget| {
            assert_eq!(widget["properties"]["region"], REGION);
            widget["properties"]["query"].as_str().unwrap()
        })
        .collect();
    assert_eq!(queries.len(), 2, "{queries:?}");
    for query in &queries {
        assert!(
            query.starts_with(&format!("SOURCE '{FUNCTION_LOG_GROUP}' | ")),
            "the function's log group: {query}"
        );
    }

    // Failures by platform: members of the MessagesFailed lines.
    let failures = queries
        .iter()
        .find(|query| query.contains(&format!("ispresent({})", metrics::MESSAGES_FAILED)))
        .expect("a query over the failure lines");
    let failed = metrics::published()
        .into_iter()
        .find(|metric| metric.name == metrics::MESSAGES_FAILED)
        .unwrap();
    let grouped = failures
        .split(" by ")
        .nth(1)
        .and_then(|rest| rest.split('|').next())
        .unwrap();
    let grouped: Vec<&str> = grouped.split(',').map(str::trim).collect();
    assert!(grouped.contains(&metrics::PLATFORM), "{failures}");
    for field in grouped {
        assert!(
            failed.members.contains(&field)
                || failed.dimension_sets.iter().flatten().any(|d| *d == field),
            "{field} is not on a {} line",
            failed.name
        );
    }

    // Warnings and errors: by the level Lambda reads, without the metric
    // lines that carry WARN or ERROR when the log level is raised.
    let warnings = queries
        .iter()
        .find(|query| !query.contains("MessagesFailed"))
        .unwrap();
    assert!(
        warnings.contains(&format!("filter {} in", metrics::LEVEL)),
        "{warnings}"
    );
    assert!(
        warnings.contains("not ispresent(`_aws.Timestamp`)"),
        "{warnings}"
    );
}

#[test]
fn the_dashboards_url_is_an_output() {
    let outputs = block(&template(), 0, "Outputs");
    let url = value(&block(&outputs, 2, "DashboardUrl"), "Value");
    assert!(url.starts_with("!Sub \"https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}#dashboards:name=${Dashboard}"), "{url}");
    assert_eq!(
        at(&resource("Dashboard"), 4, "Type"),
        "AWS::CloudWatch::Dashboard"
    );
    // The README tells operators where to find it, and the access logs.
    let readme = include_str!("../../README.md");
    for output in ["DashboardUrl", "ApiAccessLogGroupName"] {
        assert!(readme.contains(&format!("out {output}")), "{output}");
    }
}

#[test]
fn reminders_run_as_a_role_that_may_invoke_only_this_function() {
    assert_eq!(
        value(&resource("ReminderScheduleGroup"), "Type"),
        "AWS::Scheduler::ScheduleGroup"
    );
    let role = resource("ReminderSchedulerRole");
    assert_eq!(value(&role, "Service"), "scheduler.amazonaws.com");
    assert_eq!(value(&role, "aws:SourceAccount"), "!Ref AWS::AccountId");
    let policy = resource("ReminderSchedulerPolicy");
    assert_eq!(value(&policy, "Roles"), "!Ref ReminderSchedulerRole");
    let mut actions = values(&policy, "Action");
    actions.sort();
    assert_eq!(actions, ["lambda:InvokeFunction", "sqs:SendMessage"]);
    assert!(policy.contains("!GetAtt SkypeSenderFunction.Arn"));
    assert!(policy.contains("!GetAtt FailedEventsQueue.Arn"));
}
