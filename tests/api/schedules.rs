//! Reminders as EventBridge Scheduler schedules (src/state/schedules.rs),
//! through the real AWS SDK against a local moto server: every field read
//! back as written, names taken once, updates that replace the schedule,
//! deletes that say whether there was one, listings by name prefix within
//! the store's group, refusals that name a field and quote nothing, and
//! one request per operation.
//!
//! What moto 5.2.5 (moto/scheduler/ in the venv) does not do as the
//! service does, and so what these tests cannot show:
//! - UpdateSchedule ignores ActionAfterCompletion (the schedule keeps the
//!   value it was created with), so a change of `delete_after_run` is not
//!   seen here; the store sends it (src/state/schedules.rs, `update`).
//! - Nothing is validated but a cron expression's StartDate (not earlier
//!   than 5 minutes ago): not the name, the expression, the time zone,
//!   the ARNs, nor the input's size.
//! - CreateSchedule in a group that does not exist fails with a 500, not
//!   ResourceNotFoundException; a taken name is a ConflictException with
//!   status 400, not 409 (the SDK reads the code, so the store sees
//!   ConflictException either way).
//! - Schedules never run, and ActionAfterCompletion DELETE deletes nothing.
//! - ListSchedules does honour NamePrefix, MaxResults and NextToken (its
//!   docstring says otherwise); the store filters by prefix as well.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_scheduler::types::{
    ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, Target,
};
use lambda_harness::moto::{self, Moto, RequestCounter};
use skype_sender::state::{
    AwsClients, MAX_EVENT_AGE_SECONDS, MAX_RETRY_ATTEMPTS, ScheduleStore, ScheduleStoreError,
    SchedulerStore, StoredSchedule,
};

const GROUP: &str = "skype-sender-reminders";
const OTHER_GROUP: &str = "someone-elses";
const TARGET: &str = "arn:aws:lambda:us-east-1:123456789012:function:skype-sender";
const ROLE: &str = "arn:aws:iam::123456789012:role/skype-sender-scheduler";
const DEAD_LETTERS: &str = "arn:aws:sqs:us-east-1:123456789012:skype-sender-reminders-dlq";

/// JSON text whose exact bytes matter: spacing, escapes, a non-ASCII
/// script, a number as written.
const INPUT: &str = "{\"reminder\": {\"channels\": [\"standup\"],\n  \"text\": \"José «Bot» \\\"quoted\\\" \\u00e9 日本 <b>&amp;</b>\"}, \"n\": 1.50}";

struct Scheduler {
    _moto: Moto,
    sdk: aws_config::SdkConfig,
    admin: aws_sdk_scheduler::Client,
}

async fn scheduler() -> Scheduler {
    let moto = Moto::start().await;
    let sdk = moto::sdk_config(&moto.endpoint).await;
    let admin = moto::scheduler(&sdk, &RequestCounter::default());
    moto::create_schedule_group(&admin, GROUP).await;
    moto::create_schedule_group(&admin, OTHER_GROUP).await;
    Scheduler {
        _moto: moto,
        sdk,
        admin,
    }
}

/// The function's clients on `sdk`, its Scheduler client counting into
/// `counter`.
fn clients(sdk: &aws_config::SdkConfig, counter: &RequestCounter) -> Arc<AwsClients> {
    AwsClients::from_clients(
        moto::s3(sdk, &RequestCounter::default()),
        moto::secrets(sdk, &RequestCounter::default()),
    )
    .with_scheduler(moto::scheduler(sdk, counter))
}

impl Scheduler {
    /// The store of the reminders' group, with a dead-letter queue.
    fn store(&self, counter: &RequestCounter) -> SchedulerStore {
        SchedulerStore::new(
            clients(&self.sdk, counter),
            GROUP,
            TARGET,
            ROLE,
            Some(DEAD_LETTERS.to_string()),
        )
    }
}

/// Now plus `days`, in whole seconds (what the service keeps).
fn in_days(days: u64) -> SystemTime {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    UNIX_EPOCH + Duration::from_secs(now + days * 86_400)
}

/// A one-time reminder, deleted after it runs.
fn once(name: &str) -> StoredSchedule {
    StoredSchedule {
        name: name.to_string(),
        expression: "at(2030-01-02T09:30:00)".to_string(),
        timezone: "Europe/Berlin".to_string(),
        start: None,
        end: None,
        enabled: true,
        delete_after_run: true,
        input: INPUT.to_string(),
        description: Some("standup reminder «once»".to_string()),
    }
}

/// A weekday reminder between two dates, paused.
fn weekdays(name: &str) -> StoredSchedule {
    StoredSchedule {
        name: name.to_string(),
        expression: "cron(0 9 ? * MON-FRI *)".to_string(),
        timezone: "America/New_York".to_string(),
        start: Some(in_days(1)),
        end: Some(in_days(30)),
        enabled: false,
        delete_after_run: false,
        input: "{\"text\":\"stand up\"}".to_string(),
        description: None,
    }
}

#[tokio::test]
async fn a_created_schedule_reads_back_field_for_field() {
    let scheduler = scheduler().await;
    let counter = RequestCounter::default();
    let store = scheduler.store(&counter);

    for (i, schedule) in [once("u1-once"), weekdays("u1-weekdays")]
        .into_iter()
        .enumerate()
    {
        let arn = store.create(&schedule).await.unwrap();
        assert_eq!(
            arn,
            format!(
                "arn:aws:scheduler:us-east-1:123456789012:schedule/{GROUP}/{}",
                schedule.name
            )
        );
        assert_eq!(counter.get(), 2 * i + 1, "one request to create");

        let read = store.get(&schedule.name).await.unwrap().unwrap();
        assert_eq!(counter.get(), 2 * i + 2, "one request to read");
        assert_eq!(
            read.schedule, schedule,
            "every field, the input byte for byte"
        );
        assert_eq!(read.arn, arn);
        assert_eq!(read.target.arn, TARGET);
        assert_eq!(read.target.role_arn, ROLE);
        assert_eq!(read.target.dead_letter_arn.as_deref(), Some(DEAD_LETTERS));
        assert_eq!(
            read.target.max_event_age_seconds,
            Some(MAX_EVENT_AGE_SECONDS)
        );
        assert_eq!(read.target.max_retry_attempts, Some(MAX_RETRY_ATTEMPTS));
        assert!(read.creation_date.is_some());
        assert!(read.last_modification_date.is_some());
    }

    // What the service holds, as another client reads it.
    let raw = scheduler
        .admin
        .get_schedule()
        .group_name(GROUP)
        .name("u1-once")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.group_name(), Some(GROUP));
    assert_eq!(
        raw.flexible_time_window().map(|window| window.mode()),
        Some(&FlexibleTimeWindowMode::Off),
        "reminders run when due"
    );
    assert_eq!(
        raw.action_after_completion(),
        Some(&ActionAfterCompletion::Delete)
    );
    assert_eq!(raw.target().and_then(|target| target.input()), Some(INPUT));
}

#[tokio::test]
async fn a_store_without_a_dead_letter_queue_sets_none() {
    let scheduler = scheduler().await;
    let counter = RequestCounter::default();
    let store = SchedulerStore::new(clients(&scheduler.sdk, &counter), GROUP, TARGET, ROLE, None);
    store.create(&once("u1-once")).await.unwrap();
    let read = store.get("u1-once").await.unwrap().unwrap();
    assert_eq!(read.target.dead_letter_arn, None);
    assert_eq!(read.schedule, once("u1-once"));
}

#[tokio::test]
async fn creating_a_taken_name_is_exists_and_keeps_the_first() {
    let scheduler = scheduler().await;
    let counter = RequestCounter::default();
    let store = scheduler.store(&counter);
    store.create(&once("u1-once")).await.unwrap();

    let second = StoredSchedule {
        input: "{\"text\":\"the second\"}".to_string(),
        ..weekdays("u1-once")
    };
    assert_eq!(store.create(&second).await, Err(ScheduleStoreError::Exists));
    assert_eq!(
        counter.get(),
        2,
        "one request each, the refusal not retried"
    );
    assert_eq!(
        store.get("u1-once").await.unwrap().unwrap().schedule,
        once("u1-once")
    );
}

#[tokio::test]
async fn an_update_replaces_every_field() {
    let scheduler = scheduler().await;
    let counter = RequestCounter::default();
    let store = scheduler.store(&counter);
    let arn = store.create(&once("u1-once")).await.unwrap();

    // Every field but the name changes. `delete_after_run` stays: moto
    // ignores ActionAfterCompletion on update (see the module comment).
    let changed = StoredSchedule {
        delete_after_run: true,
        description: None,
        ..weekdays("u1-once")
    };
    store.update(&changed).await.unwrap();
    assert_eq!(counter.get(), 2, "one request to update");
    let read = store.get("u1-once").await.unwrap().unwrap();
    assert_eq!(read.schedule, changed);
    assert_eq!(read.arn, arn);
    assert_eq!(
        read.target.max_event_age_seconds,
        Some(MAX_EVENT_AGE_SECONDS)
    );
    assert_eq!(read.target.dead_letter_arn.as_deref(), Some(DEAD_LETTERS));

    // And back: a description and dates left out are gone, not kept.
    store.update(&once("u1-once")).await.unwrap();
    assert_eq!(
        store.get("u1-once").await.unwrap().unwrap().schedule,
        once("u1-once")
    );

    assert_eq!(
        store.update(&once("u1-nobody")).await,
        Err(ScheduleStoreError::NotFound)
    );
    assert_eq!(counter.get(), 6, "one request per operation");
    assert_eq!(store.get("u1-nobody").await.unwrap(), None, "not created");
}

#[tokio::test]
async fn a_delete_says_whether_there_was_a_schedule() {
    let scheduler = scheduler().await;
    let counter = RequestCounter::default();
    let store = scheduler.store(&counter);
    store.create(&once("u1-once")).await.unwrap();

    assert_eq!(store.delete("u1-once").await, Ok(true));
    assert_eq!(store.get("u1-once").await.unwrap(), None);
    assert_eq!(store.delete("u1-once").await, Ok(false));
    assert_eq!(counter.get(), 4, "one request per operation");
}

#[tokio::test]
async fn a_missing_schedule_reads_as_none() {
    let scheduler = scheduler().await;
    let counter = RequestCounter::default();
    let store = scheduler.store(&counter);
    assert_eq!(store.get("nobody").await, Ok(None));
    assert_eq!(counter.get(), 1, "a 404 is an answer, not retried");
}

#[tokio::test]
async fn a_listing_holds_its_prefix_of_its_group_page_by_page() {
    let scheduler = scheduler().await;
    let counter = RequestCounter::default();
    let store = scheduler.store(&counter);
    for name in ["u1-a", "u1-b", "u1-c"] {
        store.create(&once(name)).await.unwrap();
    }
    store.create(&weekdays("u2-a")).await.unwrap();
    // The same prefix in another group is not the store's.
    scheduler
        .admin
        .create_schedule()
        .group_name(OTHER_GROUP)
        .name("u1-elsewhere")
        .schedule_expression("rate(1 day)")
        .flexible_time_window(
            FlexibleTimeWindow::builder()
                .mode(FlexibleTimeWindowMode::Off)
                .build()
                .unwrap(),
        )
        .target(
            Target::builder()
                .arn(TARGET)
                .role_arn(ROLE)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let created = counter.get();

    let (listed, next) = store.list("u1-", None, 100).await.unwrap();
    assert_eq!(counter.get(), created + 1, "one request for a page");
    assert_eq!(next, None);
    let names: BTreeSet<&str> = listed.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, BTreeSet::from(["u1-a", "u1-b", "u1-c"]));
    for schedule in &listed {
        assert!(schedule.enabled);
        assert!(schedule.creation_date.is_some());
        assert_eq!(
            schedule.arn,
            format!(
                "arn:aws:scheduler:us-east-1:123456789012:schedule/{GROUP}/{}",
                schedule.name
            )
        );
    }

    let (u2, _) = store.list("u2-", None, 100).await.unwrap();
    assert_eq!(u2.len(), 1);
    assert_eq!((u2[0].name.as_str(), u2[0].enabled), ("u2-a", false));
    let (all, _) = store.list("", None, 100).await.unwrap();
    assert_eq!(all.len(), 4, "the whole group, no other");

    // Page by page: every name once, one request a page.
    let before = counter.get();
    let (mut names, mut token, mut pages) = (Vec::new(), None, 0);
    loop {
        let (page, next) = store.list("u1-", token, 2).await.unwrap();
        pages += 1;
        assert!(page.len() <= 2);
        names.extend(page.into_iter().map(|s| s.name));
        match next {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    names.sort();
    assert_eq!(names, ["u1-a", "u1-b", "u1-c"]);
    assert_eq!(pages, 2);
    assert_eq!(counter.get(), before + pages);
}

#[tokio::test]
async fn a_refused_schedule_names_the_field_and_quotes_nothing() {
    let scheduler = scheduler().await;
    let counter = RequestCounter::default();
    let store = scheduler.store(&counter);
    // The one check moto makes: a cron schedule cannot start in the past.
    let schedule = StoredSchedule {
        start: Some(SystemTime::now() - Duration::from_secs(3600)),
        input: "{\"text\":\"sk-live-0123456789\"}".to_string(),
        description: Some("sk-live-0123456789".to_string()),
        ..weekdays("u1-late")
    };
    let err = store.create(&schedule).await.unwrap_err();
    assert_eq!(
        err,
        ScheduleStoreError::Refused("ValidationException (start date)".to_string())
    );
    assert_eq!(counter.get(), 1, "a refusal is not retried");
    let said = err.to_string();
    assert!(!said.contains("sk-live"), "{said}");
    assert!(!said.contains("cron"), "{said}");
}

#[tokio::test]
async fn an_unreachable_scheduler_is_unavailable_by_kind() {
    let nowhere = moto::sdk_config("http://127.0.0.1:1").await;
    let store = SchedulerStore::new(
        clients(&nowhere, &RequestCounter::default()),
        GROUP,
        TARGET,
        ROLE,
        None,
    );
    assert_eq!(
        store.get("u1-once").await,
        Err(ScheduleStoreError::Unavailable(
            "Scheduler: cannot connect".to_string()
        ))
    );
    assert!(matches!(
        store.create(&once("u1-once")).await,
        Err(ScheduleStoreError::Unavailable(_))
    ));
}
