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

const TEMPLATE: &str = include_str!("../template.yaml");
/// Where the function reads its configuration.
const CONFIG_RS: &str = include_str!("../src/config.rs");

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
    assert_eq!(value(&function, "BuildMethod"), "rust-cargolambda");
    assert_eq!(value(&function, "Binary"), "skype-sender");
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
fn the_http_api_is_post_send_message_and_throttled() {
    let events = block(&resource("SkypeSenderFunction"), 6, "Events");
    let route = block(&events, 8, "SendMessage");
    assert_eq!(value(&route, "Type"), "HttpApi");
    assert_eq!(value(&route, "ApiId"), "!Ref HttpApi");
    assert_eq!(value(&route, "Method"), "POST");
    assert_eq!(value(&route, "Path"), "/send-message");

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
