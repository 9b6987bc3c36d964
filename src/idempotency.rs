//! At most one post per idempotency key.
//!
//! A key is claimed with a create-if-absent write of an "in progress"
//! record *before* the platform is called, and completed with the result
//! after. A repeat finds the result and returns it; a concurrent repeat
//! finds the claim and is told to wait (409). A failure that certainly
//! posted nothing frees the key. A failure whose outcome is unknown (no
//! answer after the request left), or a sender that died holding its
//! claim, leaves the record *uncertain*: whoever takes it over is told so
//! ([`Ticket::uncertain`]) and must find out whether the first attempt
//! arrived before posting again (see `src/app/send.rs`).
//!
//! The same store keeps who posted a message ([`Ledger::record_owner`]),
//! so that a scoped key may later change the messages it posted.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::unix_seconds as now;
use crate::domain::{Delivered, DeliveryStatus};
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
    /// The attempt failed before the platform took the message: free to retry.
    Released,
    /// The attempt's outcome is unknown: it may have been posted.
    Uncertain {
        at: u64,
    },
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
    /// An earlier attempt under this key may have been posted (it timed
    /// out, or its sender died): look before posting again.
    pub uncertain: bool,
}

/// The idempotency records.
pub struct Ledger {
    records: Box<dyn ObjectStore>,
    stale_after: Duration,
}

/// Which post of a request a record is for: a file and the caption
/// posted after it are two posts under one caller key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The message, or the file.
    Post,
    /// The message posted after a file.
    Caption,
}

/// What one record is about: a caller's key, for one target and part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostKey<'a> {
    /// Whose key ([`crate::domain::Caller::scope`]).
    pub scope: &'a str,
    /// Where ([`crate::domain::Target::key`]).
    pub target: &'a str,
    /// Which post.
    pub part: Part,
    /// The caller's idempotency key.
    pub key: &'a str,
}

impl PostKey<'_> {
    /// The record name and the `clientmessageid`: both derived from the
    /// whole `PostKey`, so every attempt uses the same ones. The fields
    /// are hashed as a JSON array, so no caller key can be written to
    /// name another record (as `"k\ncaption"` once named k's caption).
    pub fn names(&self) -> (String, String) {
        let part = match self.part {
            Part::Post => "post",
            Part::Caption => "caption",
        };
        let fields = serde_json::json!([self.scope, self.target, part, self.key]);
        let digest = Sha256::digest(fields.to_string().as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        (hex::encode(digest), u64::from_be_bytes(first).to_string())
    }
}

/// The record naming who posted message `id` to `target`.
fn owner_record(target: &str, id: &str) -> String {
    let fields = serde_json::json!(["owner", target, id]);
    format!(
        "owner-{}",
        hex::encode(Sha256::digest(fields.to_string().as_bytes()))
    )
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

    /// Claims `post`.
    pub async fn claim(&self, post: &PostKey<'_>) -> Result<Claim, StoreError> {
        let (record, client_message_id) = post.names();
        let object = self.records.object(&record);
        let claim = to_text(&Record::InProgress { started_at: now() });
        let ticket = |object, version, uncertain| {
            Claim::Proceed(Ticket {
                object,
                version,
                client_message_id: client_message_id.clone(),
                uncertain,
            })
        };

        let (expected, uncertain) = match object.save(&claim, None).await {
            Ok(version) => return Ok(ticket(object, version, false)),
            Err(StoreError::Conflict) => match object.load().await? {
                None => (None, false),
                Some(stored) => match serde_json::from_str::<Record>(&stored.text) {
                    Ok(Record::InProgress { started_at })
                        if now() < started_at + self.stale_after.as_secs() =>
                    {
                        return Ok(Claim::InProgress);
                    }
                    // Its sender died: it may have posted first.
                    Ok(Record::InProgress { .. } | Record::Uncertain { .. }) => {
                        (Some(stored.version), true)
                    }
                    Ok(Record::Released) => (Some(stored.version), false),
                    Ok(record) => match record.into_delivered() {
                        Some(delivered) => return Ok(Claim::Done(delivered)),
                        None => (Some(stored.version), true),
                    },
                    // Unreadable: take it over, carefully.
                    Err(_) => (Some(stored.version), true),
                },
            },
            Err(err) => return Err(err),
        };
        match object.save(&claim, expected.as_ref()).await {
            Ok(version) => Ok(ticket(object, version, uncertain)),
            Err(StoreError::Conflict) => Ok(Claim::InProgress),
            Err(err) => Err(err),
        }
    }

    /// The result recorded for `post`, if it completed.
    pub async fn lookup(&self, post: &PostKey<'_>) -> Result<Option<Delivered>, StoreError> {
        let (record, _) = post.names();
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

    /// Gives the key back after a failure that posted nothing, so a
    /// retry may post.
    pub async fn release(&self, ticket: Ticket) {
        self.settle(ticket, &Record::Released).await;
    }

    /// Keeps the key after a failure that may have posted: the next
    /// attempt is told to look before it posts.
    pub async fn mark_uncertain(&self, ticket: Ticket) {
        self.settle(ticket, &Record::Uncertain { at: now() }).await;
    }

    async fn settle(&self, ticket: Ticket, record: &Record) {
        if let Err(err) = ticket
            .object
            .save(&to_text(record), Some(&ticket.version))
            .await
        {
            tracing::warn!(error = %err, "could not settle an idempotency claim");
        }
    }

    /// Notes that `owner` (a caller scope) posted message `id` to
    /// `target`, so it may change it later.
    pub async fn record_owner(
        &self,
        target: &str,
        id: &str,
        owner: &str,
    ) -> Result<(), StoreError> {
        let text = serde_json::json!({ "owner": owner }).to_string();
        let object = self.records.object(&owner_record(target, id));
        match object.save(&text, None).await {
            // Message ids are unique per conversation: one owner ever.
            Ok(_) | Err(StoreError::Conflict) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// The scope that posted message `id` to `target`, if recorded.
    pub async fn owner_of(&self, target: &str, id: &str) -> Result<Option<String>, StoreError> {
        let Some(stored) = self
            .records
            .object(&owner_record(target, id))
            .load()
            .await?
        else {
            return Ok(None);
        };
        Ok(serde_json::from_str::<serde_json::Value>(&stored.text)
            .ok()
            .and_then(|record| Some(record.get("owner")?.as_str()?.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post<'a>(key: &'a str, part: Part) -> PostKey<'a> {
        PostKey {
            scope: "key:abc",
            target: "19:x@thread.skype",
            part,
            key,
        }
    }

    #[test]
    fn no_caller_key_names_another_record() {
        let caption = post("k", Part::Caption).names();
        // The old scheme wrote a caption's record as "<key>\ncaption".
        assert_ne!(post("k\ncaption", Part::Post).names(), caption);
        assert_ne!(post("k", Part::Post).names(), caption);
        let mut other_scope = post("k", Part::Post);
        other_scope.scope = "aws-trigger";
        assert_ne!(other_scope.names(), post("k", Part::Post).names());
        assert_eq!(post("k", Part::Post).names(), post("k", Part::Post).names());
    }
}
