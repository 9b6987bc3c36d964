//! An SQS batch (buffered sending): every record a send request, its
//! `messageId` the idempotency key, and the answer `batchItemFailures`
//! naming exactly the records to deliver again.
//!
//! Records of a standard queue are independent: they are sent at once (at
//! most [`CONCURRENT_RECORDS`] together), so a batch of ten takes about as
//! long as one record. Records of a FIFO queue keep their order within
//! their `MessageGroupId`: a group is sent one record after another
//! (different groups at once), and when a record fails, it and every later
//! record of its group are reported failed without being sent, so SQS
//! redelivers them in order and none overtakes the one that failed.

use std::collections::BTreeMap;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse};
use futures_util::future::join_all;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use super::{payload, send_payload};
use crate::app::App;
use crate::deadline::Deadline;
use crate::error::{AppError, ErrorCode};

/// Records sent at the same time (a batch is at most 10 by default, 10 000
/// with a batching window).
pub const CONCURRENT_RECORDS: usize = 10;

/// One record, as much of it as sending needs.
struct Record {
    message_id: String,
    body: String,
    /// `attributes.MessageGroupId`: set on FIFO queues only.
    group: Option<String>,
}

impl Record {
    fn read(record: &Value) -> Record {
        let text = |pointer: &str| {
            record
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Record {
            message_id: text("/messageId"),
            body: text("/body"),
            group: Some(text("/attributes/MessageGroupId")).filter(|g| !g.is_empty()),
        }
    }
}

/// Handles the batch; the partial batch response.
pub(super) async fn handle(app: &App, event: &Value, deadline: Deadline) -> Value {
    let records: Vec<Record> = event
        .get("Records")
        .and_then(Value::as_array)
        .map(|records| records.iter().map(Record::read).collect())
        .unwrap_or_default();
    // Each FIFO group in arrival order; each standard record a group of one.
    let mut groups: BTreeMap<(usize, &str), Vec<(usize, &Record)>> = BTreeMap::new();
    let mut first_of_group: BTreeMap<&str, usize> = BTreeMap::new();
    for (index, record) in records.iter().enumerate() {
        let key = match record.group.as_deref() {
            Some(group) => (*first_of_group.entry(group).or_insert(index), group),
            None => (index, ""),
        };
        groups.entry(key).or_default().push((index, record));
    }
    let slots = Semaphore::new(CONCURRENT_RECORDS);
    let runs = groups.into_values().map(|group| {
        let slots = &slots;
        async move {
            let mut failed = Vec::new();
            let mut blocked = false;
            for (index, record) in group {
                if blocked {
                    tracing::warn!(message_id = %record.message_id, "SQS record not sent: an earlier record of its FIFO group failed");
                    failed.push(index);
                    continue;
                }
                let outcome = match slots.acquire().await {
                    Ok(_permit) => send(app, record, deadline).await,
                    Err(_) => Err(AppError::deadline()),
                };
                if let Err(err) = outcome {
                    tracing::warn!(message_id = %record.message_id, error = err.code.as_str(), reason = %err.message, "SQS record failed");
                    failed.push(index);
                    // Order matters only within a FIFO group.
                    blocked = record.group.is_some();
                }
            }
            failed
        }
    });
    let mut failed: Vec<usize> = join_all(runs).await.into_iter().flatten().collect();
    failed.sort_unstable();
    let mut response = SqsBatchResponse::default();
    for index in failed {
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = records[index].message_id.clone();
        response.batch_item_failures.push(failure);
    }
    serde_json::to_value(response).unwrap_or_else(|_| json!({"batchItemFailures": []}))
}

/// One record's send, keyed by its `messageId`.
async fn send(app: &App, record: &Record, deadline: Deadline) -> Result<(), AppError> {
    match payload::parse_text(&record.body) {
        Some(payload) => send_payload(app, payload, Some(&record.message_id), deadline)
            .await
            .map(drop),
        None => Err(AppError::new(
            ErrorCode::InvalidJson,
            "the SQS message body is neither JSON nor a Python dict literal",
        )),
    }
}
