//! Reminders: a message posted later, once or on a schedule. Each reminder
//! is one EventBridge Scheduler schedule and nothing else (no second store
//! that could disagree), reached through the [`ScheduleStore`] port.
//!
//! A schedule's name carries its owner: `r.<owner>.<id>`, where `<owner>`
//! is a digest of the caller's scope (a key's identity, never the key), so
//! listing one owner's reminders is a name-prefix query and a scoped key
//! can be refused anything outside its prefix. The schedule's input is the
//! send payload, plus a `reminder` object: the id, the owner, the when as
//! the caller wrote it, and Scheduler's placeholders for the schedule ARN
//! and the scheduled time, which together name one occurrence (the
//! delivery's idempotency key, `src/triggers/reminder.rs`).

use jiff::Timestamp;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::App;
use super::send::{SendRequest, threads_allowed};
use crate::domain::{Caller, ScheduleSpec};
use crate::error::{AppError, ErrorCode};
use crate::state::{MAX_PAGE, ScheduleStore, ScheduleStoreError, StoredSchedule};

/// Every reminder's name starts so (Scheduler names: letters, digits,
/// `.`, `-`, `_`; at most 64).
const NAME_PREFIX: &str = "r.";

/// A reminder to create, checked at the edge.
#[derive(Debug, Clone)]
pub struct ReminderDraft {
    /// The send it makes: checked now, as a send would be.
    pub send: SendRequest,
    /// The send fields as the schedule delivers them (`msg`, `channel`,
    /// `format`, `mentions`, `thread`).
    pub payload: Map<String, Value>,
    /// When, as the caller wrote it (`at`/`cron`/`rate`/`every`,
    /// `timezone`, `start`, `end`): shown back by `GET`, merged by `PATCH`.
    pub when: Map<String, Value>,
    /// When, parsed.
    pub schedule: ScheduleSpec,
    /// A name for people (the schedule's description).
    pub label: Option<String>,
    /// Whether it runs (a disabled reminder is kept, not run).
    pub enabled: bool,
}

/// A reminder as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Reminder {
    /// Its id (the schedule's name).
    pub id: String,
    /// The send fields.
    pub payload: Map<String, Value>,
    /// The when, as the caller wrote it.
    pub when: Map<String, Value>,
    /// Scheduler's expression (`at(...)`, `cron(...)`, `rate(...)`).
    pub schedule_expression: String,
    /// The IANA time zone it runs in.
    pub timezone: String,
    /// The next run, when it can be told.
    pub next_run: Option<Timestamp>,
    /// Whether it runs.
    pub enabled: bool,
    /// The name for people.
    pub label: Option<String>,
}

/// A page of reminders.
#[derive(Debug, Clone)]
pub struct ReminderPage {
    /// The reminders of this page.
    pub reminders: Vec<Reminder>,
    /// Where the next page starts, if there is one.
    pub next_token: Option<String>,
}

/// What created a reminder answer says: new, or the one an earlier request
/// with the same idempotency key created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// A new schedule.
    New,
    /// The same idempotency key again: nothing new was created.
    Replayed,
}

/// The owner part of a schedule name: 12 hex digits of a digest of the
/// caller's scope.
fn owner_tag(caller: &Caller) -> String {
    hex::encode(&Sha256::digest(caller.scope().as_bytes())[..6])
}

/// The name prefix of `caller`'s reminders.
fn owner_prefix(caller: &Caller) -> String {
    format!("{NAME_PREFIX}{}.", owner_tag(caller))
}

/// A reminder's id: from the idempotency key (so a repeat names the same
/// schedule), else random.
fn new_id(caller: &Caller, idempotency_key: Option<&str>) -> String {
    let suffix = match idempotency_key {
        Some(key) => {
            let mut hasher = Sha256::new();
            hasher.update(caller.scope().as_bytes());
            hasher.update([0]);
            hasher.update(key.as_bytes());
            hex::encode(&hasher.finalize()[..8])
        }
        None => format!("{:016x}", fastrand::u64(..)),
    };
    format!("{}{suffix}", owner_prefix(caller))
}

impl From<ScheduleStoreError> for AppError {
    fn from(err: ScheduleStoreError) -> Self {
        match err {
            ScheduleStoreError::NotFound => AppError::reminder_not_found(),
            ScheduleStoreError::Refused(why) => AppError::new(
                ErrorCode::InvalidSchedule,
                format!("EventBridge Scheduler refused the reminder: {why}"),
            ),
            other => {
                let mut err = AppError::new(
                    ErrorCode::SchedulerUnavailable,
                    format!("EventBridge Scheduler: {other}"),
                );
                err.retry_after = Some(5);
                err
            }
        }
    }
}

impl AppError {
    fn reminder_not_found() -> Self {
        AppError::new(
            ErrorCode::ReminderNotFound,
            "no such reminder among those this API key may see",
        )
    }
}

impl App {
    fn schedules(&self) -> Result<&dyn ScheduleStore, AppError> {
        self.schedules.as_deref().ok_or_else(|| {
            let mut err = AppError::new(
                ErrorCode::RemindersNotConfigured,
                "reminders need EventBridge Scheduler: set SCHEDULE_GROUP and SCHEDULER_ROLE_ARN (the stack in template.yaml sets both)",
            );
            err.retry_after = Some(60);
            err
        })
    }

    /// Creates `draft` for `caller`, after every check a send makes
    /// (channels, scope, threads) and the per-key limit. With an
    /// idempotency key, a repeat answers the reminder the first created.
    pub async fn create_reminder(
        &self,
        caller: &Caller,
        draft: &ReminderDraft,
        idempotency_key: Option<&str>,
    ) -> Result<(Reminder, Created), AppError> {
        let store = self.schedules()?;
        let targets = self.targets(caller, &draft.send.channels).await?;
        threads_allowed(&targets, draft.send.thread.as_deref())?;
        let id = new_id(caller, idempotency_key);
        if idempotency_key.is_some()
            && let Some(existing) = store.get(&id).await?
        {
            return Ok((reminder_of(&existing.schedule)?, Created::Replayed));
        }
        let prefix = owner_prefix(caller);
        let limit = self.config.reminders_per_key;
        let (listed, more) = store.list(&prefix, None, limit.clamp(1, MAX_PAGE)).await?;
        let owned = if more.is_some() {
            listed.len().max(limit)
        } else {
            listed.len()
        };
        if owned >= self.config.reminders_per_key {
            return Err(AppError::new(
                ErrorCode::TooManyReminders,
                format!(
                    "this API key has {owned} reminders, the most it may have (REMINDERS_PER_KEY): delete one first"
                ),
            ));
        }
        let stored = stored_schedule(&id, caller, draft);
        match store.create(&stored).await {
            Ok(_) => {}
            // Two requests with the same key at once: the other won.
            Err(ScheduleStoreError::Exists) if idempotency_key.is_some() => {
                if let Some(existing) = store.get(&id).await? {
                    return Ok((reminder_of(&existing.schedule)?, Created::Replayed));
                }
            }
            Err(err) => return Err(err.into()),
        }
        tracing::info!(reminder = %id, caller = caller.name(), expression = %stored.expression, "reminder created");
        Ok((reminder_of(&stored)?, Created::New))
    }

    /// `caller`'s reminders (every reminder, for an unscoped caller that
    /// asks for `all`), a page at a time.
    pub async fn list_reminders(
        &self,
        caller: &Caller,
        all: bool,
        next_token: Option<String>,
        limit: usize,
    ) -> Result<ReminderPage, AppError> {
        let store = self.schedules()?;
        let prefix = if all && caller.is_unscoped() {
            NAME_PREFIX.to_string()
        } else {
            owner_prefix(caller)
        };
        let (listed, next_token) = store.list(&prefix, next_token, limit).await?;
        let mut reminders = Vec::with_capacity(listed.len());
        for summary in listed {
            // Gone between the list and the read: not listed.
            if let Some(stored) = store.get(&summary.name).await? {
                reminders.push(reminder_of(&stored.schedule)?);
            }
        }
        Ok(ReminderPage {
            reminders,
            next_token,
        })
    }

    /// One reminder `caller` may see.
    pub async fn reminder(&self, caller: &Caller, id: &str) -> Result<Reminder, AppError> {
        reminder_of(&self.owned_schedule(caller, id).await?)
    }

    /// Replaces a reminder with `draft` (the caller's fields merged over
    /// the stored ones at the edge), after the same checks as a creation.
    pub async fn change_reminder(
        &self,
        caller: &Caller,
        id: &str,
        draft: &ReminderDraft,
    ) -> Result<Reminder, AppError> {
        let store = self.schedules()?;
        let current = self.owned_schedule(caller, id).await?;
        let targets = self.targets(caller, &draft.send.channels).await?;
        threads_allowed(&targets, draft.send.thread.as_deref())?;
        let owner = owner_of(&current).unwrap_or_else(|| caller.scope());
        let mut stored = stored_schedule(id, caller, draft);
        stored.input = input_json(id, &owner, draft);
        store.update(&stored).await?;
        tracing::info!(reminder = %id, caller = caller.name(), "reminder changed");
        reminder_of(&stored)
    }

    /// Deletes a reminder `caller` may see.
    pub async fn delete_reminder(&self, caller: &Caller, id: &str) -> Result<(), AppError> {
        let store = self.schedules()?;
        self.owned_schedule(caller, id).await?;
        if !store.delete(id).await? {
            return Err(AppError::reminder_not_found());
        }
        tracing::info!(reminder = %id, caller = caller.name(), "reminder deleted");
        Ok(())
    }

    /// The stored reminder `id`, if `caller` may see it: its own, or any
    /// for an unscoped caller. Another key's reminder is "not found", so
    /// ids say nothing about who has which.
    async fn owned_schedule(&self, caller: &Caller, id: &str) -> Result<StoredSchedule, AppError> {
        let store = self.schedules()?;
        let visible = id.starts_with(NAME_PREFIX)
            && (caller.is_unscoped() || id.starts_with(&owner_prefix(caller)));
        if !visible || !valid_name(id) {
            return Err(AppError::reminder_not_found());
        }
        store
            .get(id)
            .await?
            .map(|read| read.schedule)
            .ok_or_else(AppError::reminder_not_found)
    }
}

/// Scheduler's name rule.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// The schedule for `draft`, named `id`.
fn stored_schedule(id: &str, caller: &Caller, draft: &ReminderDraft) -> StoredSchedule {
    let schedule = &draft.schedule;
    StoredSchedule {
        name: id.to_string(),
        expression: schedule.schedule_expression(),
        timezone: schedule.timezone().name().to_string(),
        start: schedule.start_instant().map(system_time),
        end: schedule.end_instant().map(system_time),
        enabled: draft.enabled,
        delete_after_run: schedule.is_one_time(),
        input: input_json(id, &caller.scope(), draft),
        description: draft.label.clone(),
    }
}

/// What Scheduler hands the function on each run (docs/architecture.md,
/// "Reminders"): the send payload and the `reminder` object.
fn input_json(id: &str, owner: &str, draft: &ReminderDraft) -> String {
    let mut input = draft.payload.clone();
    input.insert(
        "reminder".into(),
        json!({
            "id": id,
            "owner": owner,
            "when": draft.when,
            "schedule": "<aws.scheduler.schedule-arn>",
            "at": "<aws.scheduler.scheduled-time>",
            "execution": "<aws.scheduler.execution-id>",
        }),
    );
    Value::Object(input).to_string()
}

fn system_time(at: Timestamp) -> std::time::SystemTime {
    std::time::SystemTime::try_from(at).unwrap_or(std::time::UNIX_EPOCH)
}

/// The owner scope a stored input names.
fn owner_of(stored: &StoredSchedule) -> Option<String> {
    let input: Value = serde_json::from_str(&stored.input).ok()?;
    input
        .pointer("/reminder/owner")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// A stored schedule read back as a reminder (its next run computed from
/// the when it carries).
fn reminder_of(stored: &StoredSchedule) -> Result<Reminder, AppError> {
    let bad = || {
        let mut err = AppError::new(
            ErrorCode::SchedulerUnavailable,
            format!(
                "the schedule {} is not one this function wrote",
                stored.name
            ),
        );
        err.retry_after = Some(60);
        err
    };
    let Value::Object(mut payload) = serde_json::from_str(&stored.input).map_err(|_| bad())? else {
        return Err(bad());
    };
    let reminder = payload.remove("reminder").ok_or_else(bad)?;
    let when = reminder
        .get("when")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let now = Timestamp::now();
    let next_run = ScheduleSpec::from_json(&when, now)
        .ok()
        .and_then(|spec| spec.next_run(now));
    Ok(Reminder {
        id: stored.name.clone(),
        payload,
        when,
        schedule_expression: stored.expression.clone(),
        timezone: stored.timezone.clone(),
        next_run: next_run.filter(|_| stored.enabled),
        enabled: stored.enabled,
        label: stored.description.clone(),
    })
}
