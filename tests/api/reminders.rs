//! Reminders end to end in this process: the HTTP routes and the direct
//! `remind` action create EventBridge Scheduler schedules through the real
//! SDK against moto; the schedule's input, fed back as Scheduler delivers
//! it (placeholders filled in), posts once per occurrence at the strict
//! fake Skype, whatever Scheduler's retries do.

use lambda_harness::events::{json_request, status_and_body};
use lambda_harness::moto::{self, RequestCounter};
use serde_json::{Value, json};
use skype_sender::app::App;
use skype_sender::state::{AwsClients, SchedulerStore, TargetArn};

use crate::aws_world::{GROUP, World, world};

const SCHEDULE_GROUP: &str = "skype-sender";
const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:skype-sender";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/skype-sender-scheduler";
/// Unscoped, and two keys scoped to "standup".
pub(crate) const ADMIN: &str = "admin-key";
pub(crate) const ALICE: &str = "alice-key";
const BOB: &str = "bob-key";

/// A world whose secret has the three keys, its schedule group created.
pub(crate) async fn reminder_world() -> World {
    let world = world().await;
    let secret = json!({
        "username": "fred.adams@example.com",
        "password": "p&ss<w>rd",
        "api_keys": [
            ADMIN,
            {"name": "alice", "key": ALICE, "channels": ["standup"]},
            {"name": "bob", "key": BOB, "channels": ["standup"]},
        ],
        "channels": {"standup": GROUP, "other": "19:ffffffffffffffffffffffffffffffff@thread.skype"},
    });
    world
        .admin_secrets
        .put_secret_value()
        .secret_id(&world.secret_id)
        .secret_string(secret.to_string())
        .send()
        .await
        .unwrap();
    let scheduler = moto::scheduler(&world.sdk, &RequestCounter::default());
    moto::create_schedule_group(&scheduler, SCHEDULE_GROUP).await;
    world
}

/// A container with reminders on: its SDK clients count into `counter`.
pub(crate) fn app(world: &World, counter: &RequestCounter, overrides: &[(&str, &str)]) -> App {
    let aws = AwsClients::from_clients(
        moto::s3(&world.sdk, counter),
        moto::secrets(&world.sdk, counter),
    )
    .with_scheduler(moto::scheduler(&world.sdk, counter));
    let target = TargetArn::default();
    target.note(FUNCTION_ARN);
    let schedules = SchedulerStore::new(aws.clone(), SCHEDULE_GROUP, target, ROLE_ARN, None);
    App::new(
        world.config(overrides),
        world.stores(aws, Some(Box::new(schedules))),
    )
}

async fn call(app: &App, key: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
    let event = json_request(method, path, key, body);
    status_and_body(&crate::handle(app, event).await.unwrap())
}

/// The schedule as moto keeps it.
async fn schedule(
    world: &World,
    name: &str,
) -> aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput {
    moto::scheduler(&world.sdk, &RequestCounter::default())
        .get_schedule()
        .group_name(SCHEDULE_GROUP)
        .name(name)
        .send()
        .await
        .unwrap()
}

async fn schedule_count(world: &World) -> usize {
    moto::scheduler(&world.sdk, &RequestCounter::default())
        .list_schedules()
        .group_name(SCHEDULE_GROUP)
        .send()
        .await
        .unwrap()
        .schedules()
        .len()
}

/// The event Scheduler delivers for one run of `name`: its input with the
/// placeholders filled in.
async fn delivered(world: &World, name: &str, at: &str, execution: &str) -> Value {
    let found = schedule(world, name).await;
    let target = found.target().unwrap();
    let input = target
        .input()
        .unwrap()
        .replace("<aws.scheduler.schedule-arn>", found.arn().unwrap())
        .replace("<aws.scheduler.scheduled-time>", at)
        .replace("<aws.scheduler.execution-id>", execution);
    serde_json::from_str(&input).unwrap()
}

#[tokio::test]
async fn a_weekday_reminder_is_one_schedule_that_posts_once_per_occurrence() {
    let world = reminder_world().await;
    let counter = RequestCounter::default();
    let app = app(&world, &counter, &[]);

    let (status, created) = call(
        &app,
        ALICE,
        "POST",
        "/reminders",
        json!({
            "msg": "stand-up in 5 minutes",
            "channel": "standup",
            "every": {"weekdays": ["mon", "tue", "wed", "thu", "fri"], "time": "09:55"},
            "timezone": "Europe/London",
            "name": "stand-up",
        }),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["schedule_expression"], "cron(55 9 ? * MON-FRI *)");
    assert_eq!(created["timezone"], "Europe/London");
    assert!(created["next_run"].as_str().is_some(), "{created}");
    assert_eq!(created["msg"], "stand-up in 5 minutes");

    // One schedule, as Scheduler keeps it: its target is this function.
    let stored = schedule(&world, &id).await;
    assert_eq!(
        stored.schedule_expression(),
        Some("cron(55 9 ? * MON-FRI *)")
    );
    assert_eq!(stored.schedule_expression_timezone(), Some("Europe/London"));
    let target = stored.target().unwrap();
    assert_eq!(target.arn(), FUNCTION_ARN);
    assert_eq!(target.role_arn(), ROLE_ARN);
    let input: Value = serde_json::from_str(target.input().unwrap()).unwrap();
    assert_eq!(input["msg"], "stand-up in 5 minutes");
    assert_eq!(input["reminder"]["at"], "<aws.scheduler.scheduled-time>");
    assert!(
        !target.input().unwrap().contains(ALICE),
        "the owner is the key's identity, never the key"
    );

    // Scheduler runs it: one post.
    let first = delivered(&world, &id, "2026-12-07T09:55:00Z", "exec-1").await;
    let answer = crate::handle(&app, first.clone()).await.unwrap();
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(world.fake.messages(GROUP).len(), 1);
    // The same occurrence again (a retry: another execution id): nothing.
    let again = delivered(&world, &id, "2026-12-07T09:55:00Z", "exec-2").await;
    crate::handle(&app, again).await.unwrap();
    assert_eq!(world.fake.messages(GROUP).len(), 1, "exactly once");
    // The next occurrence posts again.
    let next = delivered(&world, &id, "2026-12-08T09:55:00Z", "exec-3").await;
    crate::handle(&app, next).await.unwrap();
    let messages = world.fake.messages(GROUP);
    assert_eq!(messages.len(), 2);
    assert!(
        messages
            .iter()
            .all(|m| m.content.as_deref() == Some("stand-up in 5 minutes"))
    );
}

#[tokio::test]
async fn the_same_idempotency_key_gives_the_same_reminder_and_one_schedule() {
    let world = reminder_world().await;
    let app = app(&world, &RequestCounter::default(), &[]);
    let body = json!({"msg": "lunch", "channel": "standup", "cron": "cron(0 12 * * ? *)"});
    let mut event = json_request("POST", "/reminders", ALICE, body.clone());
    event["headers"]["idempotency-key"] = json!("lunch-1");
    let (first_status, first) = status_and_body(&crate::handle(&app, event.clone()).await.unwrap());
    let (second_status, second) = status_and_body(&crate::handle(&app, event).await.unwrap());
    assert_eq!((first_status, second_status), (201, 201));
    assert_eq!(first["id"], second["id"]);
    assert_eq!(schedule_count(&world).await, 1);
}

#[tokio::test]
async fn a_scoped_key_sees_and_changes_only_its_own_reminders() {
    let world = reminder_world().await;
    let app = app(&world, &RequestCounter::default(), &[]);
    let create = |key: &'static str, msg: &'static str| {
        let app = &app;
        async move {
            let body = json!({"msg": msg, "channel": "standup", "rate": "rate(1 hour)"});
            let (status, created) = call(app, key, "POST", "/reminders", body).await;
            assert_eq!(status, 201, "{created}");
            created["id"].as_str().unwrap().to_string()
        }
    };
    let alices = create(ALICE, "alice's").await;
    let bobs = create(BOB, "bob's").await;

    let (status, listed) = call(&app, ALICE, "GET", "/reminders", json!(null)).await;
    assert_eq!(status, 200, "{listed}");
    let ids: Vec<&str> = listed["reminders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [alices.as_str()]);

    for (method, body) in [
        ("GET", json!(null)),
        ("PATCH", json!({"msg": "hijacked"})),
        ("DELETE", json!(null)),
    ] {
        let (status, answer) = call(&app, ALICE, method, &format!("/reminders/{bobs}"), body).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (404, Some("reminder_not_found")),
            "{method}: {answer}"
        );
    }
    let (_, bob_view) = call(&app, BOB, "GET", &format!("/reminders/{bobs}"), json!(null)).await;
    assert_eq!(bob_view["msg"], "bob's", "untouched");

    // An unscoped key may see all of them, and change any.
    let mut all = json_request("GET", "/reminders", ADMIN, json!(null));
    all["queryStringParameters"] = json!({"all": "true"});
    all["rawQueryString"] = json!("all=true");
    let (_, everything) = status_and_body(&crate::handle(&app, all).await.unwrap());
    assert_eq!(everything["reminders"].as_array().unwrap().len(), 2);
    let (status, changed) = call(
        &app,
        ADMIN,
        "PATCH",
        &format!("/reminders/{bobs}"),
        json!({"msg": "moved", "cron": "cron(0 10 ? * MON *)"}),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["msg"], "moved");
    assert_eq!(changed["schedule_expression"], "cron(0 10 ? * MON *)");
    let (status, _) = call(
        &app,
        BOB,
        "DELETE",
        &format!("/reminders/{bobs}"),
        json!(null),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(schedule_count(&world).await, 1);
}

#[tokio::test]
async fn bad_reminders_are_refused_by_field_before_scheduler_is_called() {
    let world = reminder_world().await;
    let counter = RequestCounter::default();
    let app = app(&world, &counter, &[]);
    // Warm: the secret and the session read once.
    let (status, _) = call(&app, ALICE, "GET", "/reminders", json!(null)).await;
    assert_eq!(status, 200);
    let huge = "x".repeat(50_000);
    let cases = [
        (
            json!({"msg": "m", "channel": "standup", "cron": "cron(* * * * * *)"}),
            "invalid_schedule",
            "cron",
        ),
        (
            json!({"msg": "m", "channel": "standup", "cron": "0 9 * * MON"}),
            "invalid_schedule",
            "cron",
        ),
        (
            json!({"msg": "m", "channel": "standup", "rate": "rate(0 minutes)"}),
            "invalid_schedule",
            "rate",
        ),
        (
            json!({"msg": "m", "channel": "standup", "at": "2020-01-01T09:00"}),
            "invalid_schedule",
            "at",
        ),
        (
            json!({"msg": "m", "channel": "standup", "at": "2030-01-01T09:00", "timezone": "Mars/Olympus"}),
            "invalid_schedule",
            "timezone",
        ),
        (
            json!({"msg": "m", "channel": "standup", "every": {"weekdays": ["someday"], "time": "09:55"}}),
            "invalid_schedule",
            "every",
        ),
        (
            json!({"msg": "m", "channel": "standup"}),
            "invalid_schedule",
            "at",
        ),
        (
            json!({"msg": "m", "channel": "standup", "at": "2030-01-01T09:00", "cron": "cron(0 9 * * ? *)"}),
            "invalid_schedule",
            "cron",
        ),
        (
            json!({"msg": "m", "channel": "standup", "at": "2030-01-01T09:00", "colour": "red"}),
            "invalid_field",
            "colour",
        ),
        (
            json!({"msg": huge, "channel": "standup", "at": "2030-01-01T09:00"}),
            "message_too_long",
            "",
        ),
        (
            json!({"msg": "m", "channel": "other", "at": "2030-01-01T09:00"}),
            "channel_not_allowed",
            "other",
        ),
        (
            json!({"channel": "standup", "at": "2030-01-01T09:00"}),
            "missing_parameters",
            "",
        ),
    ];
    let before = counter.get();
    for (body, code, named) in cases {
        let (status, answer) = call(&app, ALICE, "POST", "/reminders", body.clone()).await;
        assert!((400..500).contains(&status), "{body}: {status} {answer}");
        assert_eq!(answer["error"].as_str(), Some(code), "{body}: {answer}");
        let message = answer["msg"].as_str().unwrap_or_default();
        assert!(message.contains(named), "{body}: {message}");
        assert!(!message.contains("ValidationException"), "{message}");
    }
    assert_eq!(counter.get(), before, "no request reached AWS");
    assert_eq!(schedule_count(&world).await, 0);
}

#[tokio::test]
async fn a_key_may_have_only_so_many_reminders() {
    let world = reminder_world().await;
    let app = app(
        &world,
        &RequestCounter::default(),
        &[("REMINDERS_PER_KEY", "2")],
    );
    let body = json!({"msg": "m", "channel": "standup", "rate": "rate(5 minutes)"});
    for _ in 0..2 {
        assert_eq!(
            call(&app, ALICE, "POST", "/reminders", body.clone())
                .await
                .0,
            201
        );
    }
    let (status, answer) = call(&app, ALICE, "POST", "/reminders", body.clone()).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (409, Some("too_many_reminders")),
        "{answer}"
    );
    // Another key has its own allowance.
    assert_eq!(call(&app, BOB, "POST", "/reminders", body).await.0, 201);
}

#[tokio::test]
async fn send_at_and_the_remind_action_make_one_time_reminders() {
    let world = reminder_world().await;
    let app = app(&world, &RequestCounter::default(), &[]);
    let (status, later) = call(
        &app,
        ALICE,
        "POST",
        "/send-message",
        json!({"msg": "later", "channel": "standup", "send_at": "2030-06-01T08:00", "timezone": "America/New_York"}),
    )
    .await;
    assert_eq!(status, 201, "{later}");
    assert_eq!(later["schedule_expression"], "at(2030-06-01T08:00:00)");
    let stored = schedule(&world, later["id"].as_str().unwrap()).await;
    assert_eq!(
        stored.action_after_completion().map(|a| a.as_str()),
        Some("DELETE"),
        "a one-time schedule deletes itself after it ran"
    );
    assert!(world.fake.messages(GROUP).is_empty(), "nothing sent now");

    let answer = crate::handle(
        &app,
        json!({"action": "remind", "msg": "from a lambda", "channel": "standup", "cron": "cron(0 8 1 * ? *)"}),
    )
    .await
    .unwrap();
    assert_eq!(
        answer["schedule_expression"], "cron(0 8 1 * ? *)",
        "{answer}"
    );
    assert_eq!(schedule_count(&world).await, 2);
}
