//! Reminders at the edge: a request body read into a checked
//! [`ReminderDraft`] (every field known, every value checked before
//! Scheduler is called), its answer, and a reminder's delivery, where the
//! schedule ARN and the scheduled time become the idempotency key.

use jiff::Timestamp;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::payload::Payload;
use crate::app::{Reminder, ReminderDraft};
use crate::domain::ScheduleSpec;
use crate::error::{AppError, ErrorCode};

/// The send fields a reminder keeps and delivers.
const SEND_FIELDS: &[&str] = &["msg", "text", "channel", "format", "mentions", "thread"];
/// The fields that say when.
const WHEN_FIELDS: &[&str] = &["at", "cron", "rate", "every", "timezone", "start", "end"];
/// The rest of a reminder (`API_KEY`/`api_key` as for sends).
const OTHER_FIELDS: &[&str] = &["name", "enabled", "API_KEY", "api_key"];
/// The longest `name`.
const MAX_NAME_CHARS: usize = 200;

/// Reads a `POST /reminders` body (or a `{"action": "remind"}` event
/// without its `action`). Unknown fields are refused by name: a typo must
/// not silently change what is reminded when.
pub fn draft(body: &Map<String, Value>, now: Timestamp) -> Result<ReminderDraft, AppError> {
    if let Some(unknown) = body.keys().find(|name| {
        !SEND_FIELDS.contains(&name.as_str())
            && !WHEN_FIELDS.contains(&name.as_str())
            && !OTHER_FIELDS.contains(&name.as_str())
    }) {
        return Err(AppError::new(
            ErrorCode::InvalidField,
            format!(
                "unknown field {:?}: a reminder takes msg, channel, format, mentions, thread, one of at, cron, rate or every, and timezone, start, end, name, enabled",
                unknown.chars().take(40).collect::<String>()
            ),
        ));
    }
    let present = |names: &[&str]| -> Map<String, Value> {
        body.iter()
            .filter(|(name, value)| names.contains(&name.as_str()) && !value.is_null())
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    };
    let mut payload = present(SEND_FIELDS);
    let send = Payload::from_json(Value::Object(payload.clone()))?.send_request(None)?;
    // Stored as `msg`, whichever name the caller used.
    if let Some(text) = payload.remove("text") {
        payload.entry("msg").or_insert(text);
    }
    let when = present(WHEN_FIELDS);
    let schedule = ScheduleSpec::from_json(&when, now)
        .map_err(|err| AppError::new(ErrorCode::InvalidSchedule, err.to_string()))?;
    let label = match body.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) if name.chars().count() <= MAX_NAME_CHARS => {
            Some(name.trim().to_string()).filter(|name| !name.is_empty())
        }
        Some(_) => {
            return Err(AppError::new(
                ErrorCode::InvalidField,
                format!("name must be a string of at most {MAX_NAME_CHARS} characters"),
            ));
        }
    };
    let enabled = match body.get("enabled") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(enabled)) => *enabled,
        Some(_) => {
            return Err(AppError::new(
                ErrorCode::InvalidField,
                "enabled must be true or false",
            ));
        }
    };
    Ok(ReminderDraft {
        send,
        payload,
        when,
        schedule,
        label,
        enabled,
    })
}

/// A `PATCH` body laid over the stored reminder: the fields it names
/// replace the stored ones; naming any of `at`, `cron`, `rate` or `every`
/// replaces the stored one of them.
pub fn patched(current: &Reminder, patch: &Map<String, Value>) -> Map<String, Value> {
    let mut merged = current.payload.clone();
    let mut when = current.when.clone();
    if ["at", "cron", "rate", "every"]
        .iter()
        .any(|name| patch.contains_key(*name))
    {
        for name in ["at", "cron", "rate", "every"] {
            when.remove(name);
        }
    }
    merged.extend(when);
    if let Some(label) = &current.label {
        merged.insert("name".into(), json!(label));
    }
    merged.insert("enabled".into(), json!(current.enabled));
    for (name, value) in patch {
        match value {
            Value::Null => merged.remove(name),
            value => merged.insert(name.clone(), value.clone()),
        };
    }
    merged
}

/// A reminder as callers see it.
pub fn view(reminder: &Reminder) -> Value {
    let mut view = reminder.payload.clone();
    view.extend(reminder.when.clone());
    view.insert("id".into(), json!(reminder.id));
    view.insert(
        "next_run".into(),
        json!(reminder.next_run.map(|at| at.to_string())),
    );
    view.insert(
        "schedule_expression".into(),
        json!(reminder.schedule_expression),
    );
    view.insert("timezone".into(), json!(reminder.timezone));
    view.insert("enabled".into(), json!(reminder.enabled));
    view.insert("name".into(), json!(reminder.label));
    Value::Object(view)
}

/// A delivered reminder: the payload without its `reminder` object, and
/// the occurrence's idempotency key, or `None` when `event` is no
/// reminder. The key is a digest of the schedule ARN and the scheduled
/// time, which Scheduler keeps across its own retries; the execution id,
/// new on every attempt, is only logged.
pub fn delivery(event: &Value) -> Option<Result<(Value, String), AppError>> {
    let reminder = event.get("reminder")?;
    let text = |name: &str| reminder.get(name).and_then(Value::as_str).unwrap_or("");
    let (schedule, at) = (text("schedule"), text("at"));
    let filled = |value: &str| !value.is_empty() && !value.starts_with("<aws.scheduler.");
    if !filled(schedule) || !filled(at) {
        return Some(Err(AppError::new(
            ErrorCode::InvalidField,
            "a reminder event needs reminder.schedule and reminder.at filled in by EventBridge Scheduler (<aws.scheduler.schedule-arn>, <aws.scheduler.scheduled-time>)",
        )));
    }
    tracing::info!(
        reminder = text("id"),
        scheduled = at,
        execution = text("execution"),
        "reminder due"
    );
    let mut hasher = Sha256::new();
    hasher.update(schedule.as_bytes());
    hasher.update([0]);
    hasher.update(at.as_bytes());
    let key = format!("reminder:{}", hex::encode(hasher.finalize()));
    let mut payload = event.clone();
    if let Some(map) = payload.as_object_mut() {
        map.remove("reminder");
    }
    Some(Ok((payload, key)))
}
