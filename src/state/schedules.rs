//! Where reminders live: as EventBridge Scheduler schedules of one schedule
//! group, and nowhere else. Scheduler is the store: it keeps each
//! reminder's timing and its message (the target's input) and invokes the
//! function when one is due, so a second copy could only drift from it.
//!
//! The port ([`ScheduleStore`]) speaks plain data (std types only); the
//! adapter ([`SchedulerStore`]) maps it to the SDK. Errors are described
//! by kind only, as in aws.rs: a schedule's input is a message, which may
//! hold anything, and the service's error messages can quote it.

use std::sync::Arc;
use std::time::SystemTime;

use aws_sdk_scheduler::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_scheduler::primitives::DateTime;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode,
    RetryPolicy, ScheduleState, Target,
};

use super::aws::{AwsClients, kind};

/// How long Scheduler keeps retrying a reminder it could not deliver: a
/// reminder an hour late is still worth sending, one a day late is not.
pub const MAX_EVENT_AGE_SECONDS: u32 = 3600;

/// How many times Scheduler retries a failed invocation of the function.
pub const MAX_RETRY_ATTEMPTS: u32 = 3;

/// The most schedules ListSchedules returns in one page (its MaxResults
/// range is 1 to 100).
pub const MAX_PAGE: usize = 100;

/// One reminder as the store writes it: everything a schedule carries
/// that is ours to choose (the group, the target and its role are the
/// store's, the same for every reminder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSchedule {
    /// The schedule's name, unique in the group (1 to 64 of
    /// `[0-9a-zA-Z-_.]`, Scheduler's rule).
    pub name: String,
    /// When it runs: `at(yyyy-mm-ddThh:mm:ss)` once, `cron(...)` or
    /// `rate(...)` again and again.
    pub expression: String,
    /// The IANA time zone `at(..)` and `cron(..)` are read in ("UTC",
    /// "Europe/Berlin").
    pub timezone: String,
    /// A recurring schedule runs no earlier than this.
    pub start: Option<SystemTime>,
    /// A recurring schedule runs no later than this.
    pub end: Option<SystemTime>,
    /// A disabled schedule is kept but does not run (a paused reminder).
    pub enabled: bool,
    /// Scheduler deletes the schedule after its last run
    /// (ActionAfterCompletion DELETE): a one-time reminder does not linger.
    pub delete_after_run: bool,
    /// The JSON text the function is invoked with (the target's input),
    /// kept byte for byte.
    pub input: String,
    /// A line for operators browsing the group in the console.
    pub description: Option<String>,
}

/// Where a schedule's runs go, as Scheduler reports it: what the store set,
/// read back so a reader can tell a schedule written elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadTarget {
    /// The invoked function's ARN.
    pub arn: String,
    /// The role Scheduler assumes to invoke it.
    pub role_arn: String,
    /// Where undeliverable runs are sent, if anywhere.
    pub dead_letter_arn: Option<String>,
    /// How long a failed run is retried (seconds), if set.
    pub max_event_age_seconds: Option<u32>,
    /// How many times a failed run is retried, if set.
    pub max_retry_attempts: Option<u32>,
}

/// A schedule as read: the reminder, and what Scheduler adds to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadSchedule {
    /// The reminder's fields.
    pub schedule: StoredSchedule,
    /// The schedule's ARN (what Scheduler names it by in its events).
    pub arn: String,
    /// When it was created, if Scheduler says.
    pub creation_date: Option<SystemTime>,
    /// When it was last changed, if Scheduler says.
    pub last_modification_date: Option<SystemTime>,
    /// Where its runs go.
    pub target: ReadTarget,
}

/// One line of a listing: ListSchedules returns summaries, not inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedSchedule {
    /// The schedule's name.
    pub name: String,
    /// The schedule's ARN.
    pub arn: String,
    /// Whether it runs.
    pub enabled: bool,
    /// When it was created, if Scheduler says.
    pub creation_date: Option<SystemTime>,
}

/// A failed operation on the store. The messages say what kind of failure
/// it was, never what was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleStoreError {
    /// A schedule of that name already exists (create).
    #[error("a schedule of that name already exists")]
    Exists,
    /// No schedule of that name (update).
    #[error("no schedule of that name")]
    NotFound,
    /// The service rejected the schedule as invalid; the words say which
    /// field or limit, from a fixed list, never the values sent.
    #[error("the schedule was refused: {0}")]
    Refused(String),
    /// The service asks us to slow down (after the SDK's own retry).
    #[error("EventBridge Scheduler is throttling requests")]
    Throttled,
    /// The service cannot be reached or failed.
    #[error("schedule store unavailable: {0}")]
    Unavailable(String),
}

/// Where reminders are kept.
#[async_trait::async_trait]
pub trait ScheduleStore: Send + Sync {
    /// Creates `schedule`; its ARN. [`ScheduleStoreError::Exists`] when the
    /// name is taken.
    async fn create(&self, schedule: &StoredSchedule) -> Result<String, ScheduleStoreError>;

    /// The schedule `name`, if it exists.
    async fn get(&self, name: &str) -> Result<Option<ReadSchedule>, ScheduleStoreError>;

    /// Replaces every field of the schedule `schedule.name`;
    /// [`ScheduleStoreError::NotFound`] when there is none.
    async fn update(&self, schedule: &StoredSchedule) -> Result<(), ScheduleStoreError>;

    /// Deletes the schedule `name`; whether it existed.
    async fn delete(&self, name: &str) -> Result<bool, ScheduleStoreError>;

    /// One page of the schedules whose names start with `name_prefix`, at
    /// most `max` (1 to [`MAX_PAGE`]) of them, from `next_token` (`None`:
    /// the first page); and the token of the next page, if any.
    async fn list(
        &self,
        name_prefix: &str,
        next_token: Option<String>,
        max: usize,
    ) -> Result<(Vec<ListedSchedule>, Option<String>), ScheduleStoreError>;
}

/// The function's own ARN, every schedule's target: `FUNCTION_ARN`, or
/// the ARN the function is invoked by, which only the first invocation's
/// context tells (main.rs notes it). A template cannot hand a function its
/// own ARN without a circular reference.
#[derive(Debug, Clone, Default)]
pub struct TargetArn(Arc<std::sync::OnceLock<String>>);

impl TargetArn {
    /// Keeps `arn` unless one is known already (or it is empty); called
    /// on every invocation, only the first allocates.
    pub fn note(&self, arn: &str) {
        if self.0.get().is_none() && !arn.trim().is_empty() {
            let _ = self.0.set(arn.trim().to_string());
        }
    }

    /// The ARN, once known.
    pub fn get(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }
}

impl From<&str> for TargetArn {
    fn from(arn: &str) -> Self {
        let target = TargetArn::default();
        target.note(arn);
        target
    }
}

/// Reminders as EventBridge Scheduler schedules: all in `group`, each
/// invoking `target_arn` (the function) as `role_arn` with the reminder's
/// input.
pub struct SchedulerStore {
    clients: Arc<AwsClients>,
    group: String,
    target_arn: TargetArn,
    role_arn: String,
    dead_letter_arn: Option<String>,
}

impl SchedulerStore {
    /// The schedules of `group`, invoking `target_arn` as `role_arn`;
    /// undeliverable runs go to `dead_letter_arn` (an SQS queue) when set.
    pub fn new(
        clients: Arc<AwsClients>,
        group: impl Into<String>,
        target_arn: impl Into<TargetArn>,
        role_arn: impl Into<String>,
        dead_letter_arn: Option<String>,
    ) -> Self {
        Self {
            clients,
            group: group.into(),
            target_arn: target_arn.into(),
            role_arn: role_arn.into(),
            dead_letter_arn,
        }
    }

    /// The target every schedule of the store has, with `input`.
    fn target(&self, input: &str) -> Result<Target, ScheduleStoreError> {
        let arn = self.target_arn.get().ok_or_else(|| {
            ScheduleStoreError::Unavailable(
                "this function's ARN is not known yet (set FUNCTION_ARN)".into(),
            )
        })?;
        Target::builder()
            .arn(arn)
            .role_arn(&self.role_arn)
            .input(input)
            .retry_policy(
                RetryPolicy::builder()
                    .maximum_event_age_in_seconds(MAX_EVENT_AGE_SECONDS as i32)
                    .maximum_retry_attempts(MAX_RETRY_ATTEMPTS as i32)
                    .build(),
            )
            .set_dead_letter_config(
                self.dead_letter_arn
                    .as_ref()
                    .map(|arn| DeadLetterConfig::builder().arn(arn).build()),
            )
            .build()
            .map_err(|_| ScheduleStoreError::Refused("the target is incomplete".into()))
    }
}

/// Runs exactly when due: reminders are not spread over a window.
fn window_off() -> Result<FlexibleTimeWindow, ScheduleStoreError> {
    FlexibleTimeWindow::builder()
        .mode(FlexibleTimeWindowMode::Off)
        .build()
        .map_err(|_| ScheduleStoreError::Refused("the time window is incomplete".into()))
}

fn state(enabled: bool) -> ScheduleState {
    if enabled {
        ScheduleState::Enabled
    } else {
        ScheduleState::Disabled
    }
}

fn after_run(delete_after_run: bool) -> ActionAfterCompletion {
    if delete_after_run {
        ActionAfterCompletion::Delete
    } else {
        ActionAfterCompletion::None
    }
}

fn to_date(time: Option<SystemTime>) -> Option<DateTime> {
    time.map(DateTime::from)
}

/// A date Scheduler returned; one outside what `SystemTime` holds is no
/// date rather than a failure.
fn from_date(date: Option<&DateTime>) -> Option<SystemTime> {
    date.and_then(|date| SystemTime::try_from(*date).ok())
}

fn to_u32(value: Option<i32>) -> Option<u32> {
    value.and_then(|value| u32::try_from(value).ok())
}

/// Every field of `$schedule` on `$request`, a CreateSchedule or an
/// UpdateSchedule builder: the SDK gives the two no common trait, and an
/// update must send exactly what a create does (a field it leaves out is
/// reset to its default), so both are written by this one list.
macro_rules! with_schedule {
    ($store:expr, $request:expr, $schedule:expr) => {
        $request
            .group_name(&$store.group)
            .name(&$schedule.name)
            .schedule_expression(&$schedule.expression)
            .schedule_expression_timezone(&$schedule.timezone)
            .set_start_date(to_date($schedule.start))
            .set_end_date(to_date($schedule.end))
            .state(state($schedule.enabled))
            .action_after_completion(after_run($schedule.delete_after_run))
            .set_description($schedule.description.clone())
            .flexible_time_window(window_off()?)
            .target($store.target(&$schedule.input)?)
    };
}

#[async_trait::async_trait]
impl ScheduleStore for SchedulerStore {
    async fn create(&self, schedule: &StoredSchedule) -> Result<String, ScheduleStoreError> {
        let request = self.clients.scheduler().await.create_schedule();
        let output = with_schedule!(self, request, schedule).send().await;
        match output {
            Ok(output) => Ok(output.schedule_arn().to_string()),
            Err(e) => Err(match Failure::of(&e) {
                Failure::Conflict => ScheduleStoreError::Exists,
                failure => failure.into_error(),
            }),
        }
    }

    async fn get(&self, name: &str) -> Result<Option<ReadSchedule>, ScheduleStoreError> {
        let output = match self
            .clients
            .scheduler()
            .await
            .get_schedule()
            .group_name(&self.group)
            .name(name)
            .send()
            .await
        {
            Ok(output) => output,
            Err(e) => {
                return match Failure::of(&e) {
                    Failure::NotFound => Ok(None),
                    failure => Err(failure.into_error()),
                };
            }
        };
        // An expression and a target are what make a schedule: one without
        // them was not written by this store, nor by anything that works.
        let expression = output
            .schedule_expression()
            .ok_or_else(|| unreadable("no schedule expression"))?;
        let target = output.target().ok_or_else(|| unreadable("no target"))?;
        let retry = target.retry_policy();
        Ok(Some(ReadSchedule {
            schedule: StoredSchedule {
                name: output.name().unwrap_or(name).to_string(),
                expression: expression.to_string(),
                // Scheduler's defaults when a field is left out.
                timezone: output
                    .schedule_expression_timezone()
                    .unwrap_or("UTC")
                    .to_string(),
                start: from_date(output.start_date()),
                end: from_date(output.end_date()),
                enabled: output.state() != Some(&ScheduleState::Disabled),
                delete_after_run: output.action_after_completion()
                    == Some(&ActionAfterCompletion::Delete),
                input: target.input().unwrap_or_default().to_string(),
                description: output.description().map(str::to_string),
            },
            arn: output.arn().unwrap_or_default().to_string(),
            creation_date: from_date(output.creation_date()),
            last_modification_date: from_date(output.last_modification_date()),
            target: ReadTarget {
                arn: target.arn().to_string(),
                role_arn: target.role_arn().to_string(),
                dead_letter_arn: target
                    .dead_letter_config()
                    .and_then(|config| config.arn())
                    .map(str::to_string),
                max_event_age_seconds: to_u32(
                    retry.and_then(|retry| retry.maximum_event_age_in_seconds()),
                ),
                max_retry_attempts: to_u32(retry.and_then(|retry| retry.maximum_retry_attempts())),
            },
        }))
    }

    async fn update(&self, schedule: &StoredSchedule) -> Result<(), ScheduleStoreError> {
        // UpdateSchedule replaces the whole schedule (a field left out
        // takes its default), so every field is sent, as for a create.
        let request = self.clients.scheduler().await.update_schedule();
        let output = with_schedule!(self, request, schedule).send().await;
        match output {
            Ok(_) => Ok(()),
            Err(e) => Err(match Failure::of(&e) {
                Failure::NotFound => ScheduleStoreError::NotFound,
                failure => failure.into_error(),
            }),
        }
    }

    async fn delete(&self, name: &str) -> Result<bool, ScheduleStoreError> {
        let output = self
            .clients
            .scheduler()
            .await
            .delete_schedule()
            .group_name(&self.group)
            .name(name)
            .send()
            .await;
        match output {
            Ok(_) => Ok(true),
            Err(e) => match Failure::of(&e) {
                Failure::NotFound => Ok(false),
                failure => Err(failure.into_error()),
            },
        }
    }

    async fn list(
        &self,
        name_prefix: &str,
        next_token: Option<String>,
        max: usize,
    ) -> Result<(Vec<ListedSchedule>, Option<String>), ScheduleStoreError> {
        let max = max.clamp(1, MAX_PAGE) as i32;
        let output = self
            .clients
            .scheduler()
            .await
            .list_schedules()
            .group_name(&self.group)
            .set_name_prefix(Some(name_prefix.to_string()).filter(|prefix| !prefix.is_empty()))
            .max_results(max)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| Failure::of(&e).into_error())?;
        // The prefix is applied here too: a server that ignores NamePrefix
        // (some local emulators) must not hand out other reminders.
        let schedules = output
            .schedules()
            .iter()
            .filter_map(|summary| {
                let name = summary.name()?;
                name.starts_with(name_prefix).then(|| ListedSchedule {
                    name: name.to_string(),
                    arn: summary.arn().unwrap_or_default().to_string(),
                    enabled: summary.state() != Some(&ScheduleState::Disabled),
                    creation_date: from_date(summary.creation_date()),
                })
            })
            .collect();
        let next = output
            .next_token()
            .filter(|token| !token.is_empty())
            .map(str::to_string);
        Ok((schedules, next))
    }
}

fn unreadable(what: &str) -> ScheduleStoreError {
    ScheduleStoreError::Unavailable(format!("Scheduler: unreadable schedule ({what})"))
}

/// What went wrong with a Scheduler request, by the error's code alone.
enum Failure {
    /// ConflictException: the name is taken (create), or a concurrent
    /// change (update, delete).
    Conflict,
    /// ResourceNotFoundException: no such schedule (or group).
    NotFound,
    /// ValidationException, with the fields it names (a fixed list).
    Invalid(String),
    /// ServiceQuotaExceededException: the account holds as many
    /// schedules as it may.
    Quota,
    /// ThrottlingException.
    Throttled,
    /// Anything else, by kind.
    Other(String),
}

impl Failure {
    fn of<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Failure {
        let service = match err {
            SdkError::ServiceError(service) => service.err(),
            _ => return Failure::Other(kind(err)),
        };
        match service.code() {
            Some("ConflictException") => Failure::Conflict,
            Some("ResourceNotFoundException") => Failure::NotFound,
            Some("ValidationException") => Failure::Invalid(fields(service.message())),
            Some("ServiceQuotaExceededException") => Failure::Quota,
            Some("ThrottlingException") => Failure::Throttled,
            _ => Failure::Other(kind(err)),
        }
    }

    /// The error of a failure no operation gives a meaning of its own.
    fn into_error(self) -> ScheduleStoreError {
        match self {
            Failure::Conflict => ScheduleStoreError::Unavailable(
                "Scheduler: ConflictException (a concurrent change)".into(),
            ),
            Failure::NotFound => ScheduleStoreError::Unavailable(
                "Scheduler: ResourceNotFoundException (the schedule group?)".into(),
            ),
            Failure::Invalid(fields) => ScheduleStoreError::Refused(fields),
            Failure::Quota => {
                ScheduleStoreError::Refused("the account's schedule quota is reached".into())
            }
            Failure::Throttled => ScheduleStoreError::Throttled,
            Failure::Other(kind) => ScheduleStoreError::Unavailable(format!("Scheduler: {kind}")),
        }
    }
}

/// The fields of a schedule a ValidationException's message names, in
/// words of a fixed list: the message itself can quote the values sent (an
/// expression, an input), so it is never repeated. A word of a quoted value
/// can be mistaken for a field name; that misleads, it leaks nothing.
fn fields(message: Option<&str>) -> String {
    const FIELDS: &[(&[&str], &str)] = &[
        (&["timezone", "time zone"], "timezone"),
        (&["expression"], "expression"),
        (&["startdate", "start date"], "start date"),
        (&["enddate", "end date"], "end date"),
        (&["input"], "input"),
        (&["description"], "description"),
        (&["rolearn", "role"], "role"),
        (
            &["deadletter", "dead letter", "dead-letter"],
            "dead-letter queue",
        ),
        (&["retrypolicy", "retry"], "retry policy"),
        (&["target"], "target"),
        (&["name"], "name"),
    ];
    let message = message.unwrap_or_default().to_ascii_lowercase();
    let named: Vec<&str> = FIELDS
        .iter()
        .filter(|(words, _)| words.iter().any(|word| message.contains(word)))
        .map(|(_, field)| *field)
        .collect();
    if named.is_empty() {
        "ValidationException".into()
    } else {
        format!("ValidationException ({})", named.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::fields;

    #[test]
    fn a_validation_message_is_told_by_its_fields_never_quoted() {
        let said = fields(Some(
            "Invalid Schedule Expression cron(0 9 secret-token * ? *).",
        ));
        assert_eq!(said, "ValidationException (expression)");
        assert_eq!(
            fields(Some(
                "The StartDate you specify cannot be earlier than 5 minutes ago."
            )),
            "ValidationException (start date)"
        );
        assert_eq!(fields(Some("Something odd: p@ss")), "ValidationException");
        assert_eq!(fields(None), "ValidationException");
    }
}
