//! At most one post per idempotency key.
//!
//! A key is claimed with a create-if-absent write of an "in progress"
//! record *before* Skype is called, and completed with the result after.
//! A repeat finds the result and returns it; a concurrent repeat finds the
//! claim and is told to wait (409). If a sender dies between Skype and the
//! record, its claim goes stale and a retry takes it over, re-sending with
//! the same `clientmessageid`, which Skype de-duplicates: still one post.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::app::{Delivered, DeliveryStatus};
use crate::clock::unix_seconds as now;
use crate::state::{ObjectStore, StoreError, TokenStore, Version};

/// The record of one key.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum Record {
    InProgress {
        started_at: u64,
    },
    Done {
        id: Option<String>,
        channel: String,
        arrival_time: Option<u64>,
        #[serde(default)]
        status: DeliveryStatus,
    },
    /// The attempt failed before Skype took the message: free to retry.
    Released,
}

impl Record {
    fn into_delivered(self) -> Option<Delivered> {
        match self {
            Self::Done {
                id,
                channel,
                arrival_time,
                status,
            } => Some(Delivered {
                id,
                channel,
                arrival_time,
                status,
            }),
            _ => None,
        }
    }
}

/// What claiming a key found.
pub enum Claim {
    /// Ours: send, then [`Ledger::complete`] or [`Ledger::release`].
    Proceed(Ticket),
    /// Already posted: the first result.
    Done(Delivered),
    /// Another request holds the key right now.
    InProgress,
}

/// A held claim.
pub struct Ticket {
    object: Box<dyn TokenStore>,
    version: Version,
    /// The `clientmessageid` for this key, the same on every attempt.
    pub client_message_id: String,
}

/// The idempotency records.
pub struct Ledger {
    records: Box<dyn ObjectStore>,
    stale_after: Duration,
}

/// The record name and the `clientmessageid` of `key` for `scope`: both
/// derived from the key, so every attempt uses the same ones.
pub fn names(scope: &str, key: &str) -> (String, String) {
    let digest = Sha256::digest(format!("{scope}\n{key}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (hex::encode(digest), u64::from_be_bytes(first).to_string())
}

fn to_text(record: &Record) -> String {
    serde_json::to_string(record).unwrap_or_default()
}

impl Ledger {
    /// Records in `records`; a claim older than `stale_after` is abandoned.
    pub fn new(records: Box<dyn ObjectStore>, stale_after: Duration) -> Self {
        Self {
            records,
            stale_after,
        }
    }

    /// Claims `key` for `scope` (the caller).
    pub async fn claim(&self, scope: &str, key: &str) -> Result<Claim, StoreError> {
        let (record, client_message_id) = names(scope, key);
        let object = self.records.object(&record);
        let claim = to_text(&Record::InProgress { started_at: now() });
        let ticket = |object, version| {
            Claim::Proceed(Ticket {
                object,
                version,
                client_message_id: client_message_id.clone(),
            })
        };

        let expected = match object.save(&claim, None).await {
            Ok(version) => return Ok(ticket(object, version)),
            Err(StoreError::Conflict) => match object.load().await? {
                None => None,
                Some(stored) => match serde_json::from_str::<Record>(&stored.text) {
                    Ok(Record::InProgress { started_at })
                        if now() < started_at + self.stale_after.as_secs() =>
                    {
                        return Ok(Claim::InProgress);
                    }
                    Ok(record) => match record.into_delivered() {
                        Some(delivered) => return Ok(Claim::Done(delivered)),
                        // Released or abandoned: take it over.
                        None => Some(stored.version),
                    },
                    // Unreadable: take it over.
                    Err(_) => Some(stored.version),
                },
            },
            Err(err) => return Err(err),
        };
        match object.save(&claim, expected.as_ref()).await {
            Ok(version) => Ok(ticket(object, version)),
            Err(StoreError::Conflict) => Ok(Claim::InProgress),
            Err(err) => Err(err),
        }
    }

    /// The result `key` recorded for `scope`, if its post completed.
    pub async fn lookup(&self, scope: &str, key: &str) -> Result<Option<Delivered>, StoreError> {
        let (record, _) = names(scope, key);
        let Some(stored) = self.records.object(&record).load().await? else {
            return Ok(None);
        };
        Ok(serde_json::from_str::<Record>(&stored.text)
            .ok()
            .and_then(Record::into_delivered))
    }

    /// Records the result: repeats of the key get it from now on.
    pub async fn complete(&self, ticket: Ticket, delivered: &Delivered) -> Result<(), StoreError> {
        let done = to_text(&Record::Done {
            id: delivered.id.clone(),
            channel: delivered.channel.clone(),
            arrival_time: delivered.arrival_time,
            status: delivered.status,
        });
        ticket
            .object
            .save(&done, Some(&ticket.version))
            .await
            .map(|_| ())
    }

    /// Gives the key back after a failure, so a retry may post.
    pub async fn release(&self, ticket: Ticket) {
        let released = to_text(&Record::Released);
        if let Err(err) = ticket.object.save(&released, Some(&ticket.version)).await {
            tracing::warn!(error = %err, "could not release an idempotency claim");
        }
    }
}
