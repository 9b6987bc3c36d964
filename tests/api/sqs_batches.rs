//! SQS batches as Lambda delivers them: a standard queue's records sent
//! at once, each reported on its own; a FIFO queue's records in order
//! within their `MessageGroupId`, a failed record holding back the rest of
//! its group (reported failed, not sent) while other groups go on.

use fake_skype::{FakeSkype, Fault, Op};
use serde_json::{Value, json};
use skype_sender::app::App;

use crate::local_app;

const GROUP: &str = "19:0123456789abcdef0123456789abcdef@thread.skype";
const OTHER: &str = "19:fedcba9876543210fedcba9876543210@thread.skype";

async fn world(name: &str) -> (FakeSkype, App) {
    let channels = json!({"standup": GROUP, "other": OTHER});
    local_app::fred_app(&format!("sqs-{name}"), json!(["k"]), channels).await
}

/// A record of `queue` (`.fifo` queues carry a group) posting `body`.
fn record(id: &str, body: Value, group: Option<&str>) -> Value {
    let mut attributes = json!({"ApproximateReceiveCount": "1", "SentTimestamp": "1795624200000"});
    let mut queue = "arn:aws:sqs:us-east-1:123456789012:skype-sender-queue".to_string();
    if let Some(group) = group {
        attributes["MessageGroupId"] = json!(group);
        attributes["SequenceNumber"] = json!(format!("1888{id}"));
        attributes["MessageDeduplicationId"] = json!(id);
        queue.push_str(".fifo");
    }
    json!({
        "messageId": id, "receiptHandle": "AQEB...", "body": body.to_string(),
        "attributes": attributes, "messageAttributes": {}, "md5OfBody": "0",
        "eventSource": "aws:sqs", "eventSourceARN": queue, "awsRegion": "us-east-1",
    })
}

fn failures(answer: &Value) -> Vec<String> {
    answer["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_string())
        .collect()
}

fn contents(skype: &FakeSkype, conversation: &str) -> Vec<String> {
    skype
        .messages(conversation)
        .into_iter()
        .filter_map(|m| m.content)
        .collect()
}

#[tokio::test]
async fn a_fifo_group_keeps_its_order_and_a_failure_holds_back_the_rest() {
    let (skype, app) = world("fifo").await;
    let batch = |ids: &[&str]| {
        let records: Vec<Value> = ids
            .iter()
            .map(|id| {
                let channel = if *id == "r2" { "nowhere" } else { "standup" };
                record(
                    id,
                    json!({"msg": format!("step {id}"), "channel": channel}),
                    Some("deploys"),
                )
            })
            .chain(std::iter::once(record(
                "o1",
                json!({"msg": "other group", "channel": "other"}),
                Some("others"),
            )))
            .collect();
        json!({"Records": records})
    };
    let answer = crate::handle(&app, batch(&["r1", "r2", "r3", "r4", "r5"]))
        .await
        .unwrap();
    // r2 failed: it and everything after it in its group come back, unsent;
    // the other group is not held back.
    assert_eq!(failures(&answer), ["r2", "r3", "r4", "r5"]);
    assert_eq!(contents(&skype, GROUP), ["step r1"]);
    assert_eq!(contents(&skype, OTHER), ["other group"]);
}

#[tokio::test]
async fn a_fifo_group_is_sent_in_order_when_nothing_fails() {
    let (skype, app) = world("fifo-order").await;
    // A slow first send would let a concurrent one overtake: order must hold.
    skype.inject(
        Op::Send,
        Fault::Slow(std::time::Duration::from_millis(300)),
        1,
    );
    let records: Vec<Value> = (1..=6)
        .map(|i| {
            record(
                &format!("m{i}"),
                json!({"msg": format!("line {i}"), "channel": "standup"}),
                Some("one"),
            )
        })
        .collect();
    let answer = crate::handle(&app, json!({"Records": records}))
        .await
        .unwrap();
    assert_eq!(failures(&answer), Vec::<String>::new());
    let expected: Vec<String> = (1..=6).map(|i| format!("line {i}")).collect();
    assert_eq!(contents(&skype, GROUP), expected);
}

#[tokio::test]
async fn a_standard_batch_is_sent_at_once_and_reports_only_its_failures() {
    let (skype, app) = world("standard").await;
    // The first send to arrive is answered slowly: sent one after another,
    // its message would be stored first; sent at once, the others overtake it.
    skype.inject(
        Op::Send,
        Fault::Slow(std::time::Duration::from_millis(300)),
        1,
    );
    let records: Vec<Value> = (1..=10)
        .map(|i| {
            let channel = if i == 4 { "nowhere" } else { "standup" };
            record(
                &format!("s{i}"),
                json!({"msg": format!("note {i}"), "channel": channel}),
                None,
            )
        })
        .collect();
    let answer = crate::handle(&app, json!({"Records": records}))
        .await
        .unwrap();
    assert_eq!(failures(&answer), ["s4"]);
    let posted = contents(&skype, GROUP);
    assert_eq!(posted.len(), 9);
    let first_sent = skype
        .requests()
        .into_iter()
        .find(|r| r.op == Some(Op::Send))
        .unwrap();
    let slow = posted
        .iter()
        .find(|text| first_sent.body_str().contains(&format!("\"{text}\"")))
        .unwrap()
        .clone();
    assert_eq!(
        posted.last(),
        Some(&slow),
        "records were sent one after another: {posted:?}"
    );
}
