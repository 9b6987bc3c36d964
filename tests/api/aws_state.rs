//! Session state in AWS, through the real AWS SDK against a local moto
//! server: the secret and the S3 token file loaded once per container,
//! warm sends without AWS calls, conditional writes that never overwrite a
//! newer session, one login across many cold containers, key rotation, and
//! outages answered quickly.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_skype::{Fault, Op};
use lambda_harness::moto::{self, RequestCounter};
use secrecy::ExposeSecret;
use skype_sender::app::App;
use skype_sender::skype::{Session, parse_token_file, write_token_file};
use skype_sender::state::{
    AwsClients, ObjectStore, S3Objects, S3TokenStore, StoreError, TokenStore,
};

use crate::aws_world::{GROUP, KEY, now, secret, send_one, world};

/// The token file as `skype-sender-cli login --bucket` uploads it: the
/// function's own S3 store, with the display name as the object's label.
async fn upload_named(world: &crate::aws_world::World, session: &Session) {
    let aws = AwsClients::from_clients(
        moto::s3(&world.sdk, &RequestCounter::default()),
        moto::secrets(&world.sdk, &RequestCounter::default()),
    );
    let label = session.auth.display_name.as_deref();
    assert_eq!(label, Some("Fred Adams"), "a login knows the display name");
    S3TokenStore::new(aws, &world.bucket, KEY)
        .save_labelled(&write_token_file(session), label, None)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_stored_token_file_is_used_without_login_and_warm_sends_touch_no_aws() {
    let world = world().await;
    let session = world.login().await;
    upload_named(&world, &session).await;
    let profile_reads = world.fake.count(Op::Profile);
    let counter = RequestCounter::default();
    let app = world.app(&counter, &[]);

    send_one(&app, "cold").await.unwrap();
    assert_eq!(
        counter.get(),
        2,
        "cold start: the secret and the token file, once each"
    );
    assert_eq!(
        world.fake.logins(),
        1,
        "the stored session was used, no login"
    );
    assert_eq!(
        world.fake.count(Op::Profile),
        profile_reads,
        "the display name came with the token file: no profile read"
    );

    let sends_before = world.fake.count(Op::Send);
    for i in 0..20 {
        send_one(&app, &format!("warm {i}")).await.unwrap();
    }
    assert_eq!(counter.get(), 2, "warm sends make no AWS request");
    assert_eq!(
        world.fake.count(Op::Send) - sends_before,
        20,
        "one Skype request per message"
    );
    assert_eq!(world.fake.messages(GROUP).len(), 21);
    assert!(
        world
            .fake
            .messages(GROUP)
            .iter()
            .all(|m| m.imdisplayname.as_deref() == Some("Fred Adams")),
        "every message carries the stored display name"
    );
    assert_eq!(
        world.get_object(KEY).await.unwrap(),
        write_token_file(&session),
        "nothing rewritten"
    );
}

#[tokio::test]
async fn a_skpy_token_file_costs_one_profile_read_then_keeps_the_name_beside_it() {
    let world = world().await;
    let session = world.login().await;
    // As SkPy writes it: six lines and no label.
    world.put_token(&write_token_file(&session)).await;
    let profile_reads = world.fake.count(Op::Profile);

    let counter = RequestCounter::default();
    send_one(&world.app(&counter, &[]), "first").await.unwrap();
    assert_eq!(world.fake.count(Op::Profile), profile_reads + 1);
    assert_eq!(
        counter.get(),
        3,
        "the secret, the token file, and one write of the label"
    );
    assert_eq!(
        world.get_object(KEY).await.unwrap(),
        write_token_file(&session),
        "the file itself is unchanged, still SkPy's"
    );

    // The next cold container finds the name with the file.
    let counter = RequestCounter::default();
    send_one(&world.app(&counter, &[]), "second").await.unwrap();
    assert_eq!(
        world.fake.count(Op::Profile),
        profile_reads + 1,
        "no second profile read"
    );
    assert_eq!(counter.get(), 2);
    let names: Vec<_> = world
        .fake
        .messages(GROUP)
        .iter()
        .map(|m| m.imdisplayname.clone())
        .collect();
    assert_eq!(names, vec![Some("Fred Adams".to_string()); 2]);
}

#[tokio::test]
async fn an_expired_skype_token_costs_one_login_and_is_written_back() {
    let world = world().await;
    let mut session = world.login().await;
    session.auth.expires_at = now() - 10;
    world.put_token(&write_token_file(&session)).await;
    let app = world.app(&RequestCounter::default(), &[]);

    send_one(&app, "after expiry").await.unwrap();

    assert_eq!(world.fake.logins(), 2);
    let stored = parse_token_file(&world.get_object(KEY).await.unwrap()).unwrap();
    assert!(
        stored.auth.expires_at > now() + 80_000,
        "the renewed session was written back"
    );
    assert!(!stored.same_tokens(&session));
    let lease = world.get_object(&format!("{KEY}.lock")).await.unwrap();
    assert!(
        lease.contains("expires_at=0"),
        "the login lease was released: {lease}"
    );
}

#[tokio::test]
async fn a_newer_session_written_meanwhile_is_adopted_not_overwritten() {
    let world = world().await;
    let mut first = world.login().await;
    let newer = world.login().await;
    // Ours needs a new registration; while it registers (slowly), another
    // container stores a newer session.
    first.registration.expires_at = now() + 60;
    world.put_token(&write_token_file(&first)).await;
    world
        .fake
        .inject(Op::Register, Fault::Slow(Duration::from_millis(800)), 1);
    let app = Arc::new(world.app(&RequestCounter::default(), &[]));
    let sending = {
        let app = app.clone();
        tokio::spawn(async move { send_one(&app, "during").await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    world.put_token(&write_token_file(&newer)).await;
    sending.await.unwrap().unwrap();

    assert_eq!(
        world.get_object(KEY).await.unwrap(),
        write_token_file(&newer),
        "the newer stored session was not overwritten"
    );
    send_one(&app, "after").await.unwrap();
    let last = world
        .fake
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.op == Some(Op::Send))
        .unwrap();
    assert_eq!(
        last.header("registrationtoken"),
        Some(newer.registration.token.expose_secret()),
        "the container adopted the newer session"
    );
}

#[tokio::test]
async fn twenty_cold_containers_with_an_expired_session_log_in_once() {
    let world = world().await;
    let mut session = world.login().await;
    session.auth.expires_at = now() - 10;
    world.put_token(&write_token_file(&session)).await;

    let apps: Vec<Arc<App>> = (0..20)
        .map(|_| Arc::new(world.app(&RequestCounter::default(), &[])))
        .collect();
    let sends: Vec<_> = apps
        .iter()
        .enumerate()
        .map(|(i, app)| {
            let app = app.clone();
            tokio::spawn(async move { send_one(&app, &format!("c{i}")).await })
        })
        .collect();
    for send in sends {
        send.await.unwrap().unwrap();
    }

    assert_eq!(
        world.fake.logins(),
        2,
        "one login for twenty containers (plus the seed)"
    );
    assert_eq!(world.fake.messages(GROUP).len(), 20);
}

#[tokio::test]
async fn a_rotated_key_works_within_seconds_and_wrong_keys_cannot_flood_the_secret() {
    let world = world().await;
    world
        .put_token(&write_token_file(&world.login().await))
        .await;
    let counter = RequestCounter::default();
    let app = world.app(
        &counter,
        &[
            ("SECRET_MISS_REFRESH_SECONDS", "1"),
            ("SECRET_TTL_SECONDS", "2"),
        ],
    );
    assert!(app.authenticate(Some("k1")).await.is_ok());
    for _ in 0..20 {
        assert!(app.authenticate(Some("k1")).await.is_ok());
        assert!(app.authenticate(Some("wrong")).await.is_err());
    }
    // The session is read once too, beside the first read of the secret
    // (a cold container's first send then waits for one round trip).
    assert_eq!(
        counter.get(),
        2,
        "one read of the secret (and of the session) for all of that"
    );

    world
        .admin_secrets
        .put_secret_value()
        .secret_id(&world.secret_id)
        .secret_string(secret(&["k2"]))
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(
        app.authenticate(Some("k2")).await.is_ok(),
        "the new key, after one miss"
    );
    assert_eq!(counter.get(), 3);
    assert_eq!(
        app.authenticate(Some("k1")).await.unwrap_err().status,
        401,
        "the old key is gone"
    );

    // The TTL alone also brings changes in.
    world
        .admin_secrets
        .put_secret_value()
        .secret_id(&world.secret_id)
        .secret_string(secret(&["k2", "k3"]))
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(app.authenticate(Some("k2")).await.is_ok());
    assert!(counter.get() >= 4, "re-read after the TTL");
}

#[tokio::test]
async fn unreachable_aws_services_are_a_fast_503() {
    let world = world().await;
    world
        .put_token(&write_token_file(&world.login().await))
        .await;
    let nowhere = moto::sdk_config("http://127.0.0.1:1").await;

    let started = Instant::now();
    let app = world.app_with(&nowhere, &world.sdk, &RequestCounter::default(), &[]);
    let err = send_one(&app, "x").await.unwrap_err();
    assert_eq!((err.status, err.code.as_str()), (503, "secret_unavailable"));
    assert!(err.retry_after.is_some());

    let app = world.app_with(&world.sdk, &nowhere, &RequestCounter::default(), &[]);
    let err = send_one(&app, "x").await.unwrap_err();
    assert_eq!(
        (err.status, err.code.as_str()),
        (503, "token_store_unavailable")
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(world.fake.messages(GROUP).is_empty());
}

#[tokio::test]
async fn while_another_container_holds_the_login_lease_we_wait_then_answer_503() {
    let world = world().await;
    let mut session = world.login().await;
    session.auth.expires_at = now() - 10;
    world.put_token(&write_token_file(&session)).await;
    let lease = format!("owner=elsewhere\nexpires_at={}\n", now() + 60);
    world.put_object(&format!("{KEY}.lock"), &lease).await;
    let app = world.app(&RequestCounter::default(), &[("LOGIN_WAIT_SECONDS", "1")]);

    let started = Instant::now();
    let err = send_one(&app, "x").await.unwrap_err();

    assert_eq!(
        (err.status, err.code.as_str()),
        (503, "skype_login_in_progress")
    );
    assert!(err.retry_after.is_some());
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        world.fake.logins(),
        1,
        "no second login while the lease is held"
    );
}

#[tokio::test]
async fn teams_references_are_objects_under_their_prefix_and_counted() {
    let world = world().await;
    let counter = RequestCounter::default();
    let aws = AwsClients::from_clients(
        moto::s3(&world.sdk, &counter),
        moto::secrets(&world.sdk, &counter),
    );
    let references = S3Objects::new(aws, &world.bucket, "teams/");
    assert_eq!(references.count().await.unwrap(), 0);
    let chat = references.object("19%3Achat%40thread.v2.json");
    chat.save("{}", None).await.unwrap();
    assert_eq!(
        chat.save("{}", None).await,
        Err(StoreError::Conflict),
        "created once"
    );
    references
        .object("a%3A1.json")
        .save("{}", None)
        .await
        .unwrap();
    world.put_object("idempotency/other", "x").await;
    assert_eq!(
        references.count().await.unwrap(),
        2,
        "only the prefix counts"
    );
    assert!(
        world
            .get_object("teams/19%3Achat%40thread.v2.json")
            .await
            .is_some()
    );
}

#[tokio::test]
async fn a_label_of_any_script_survives_s3_metadata() {
    let world = world().await;
    let counter = RequestCounter::default();
    let aws = AwsClients::from_clients(
        moto::s3(&world.sdk, &counter),
        moto::secrets(&world.sdk, &counter),
    );
    let store = S3TokenStore::new(aws, &world.bucket, "labelled");
    let name = "José «Bot» 日本 %41 100%";
    let version = store
        .save_labelled("text\n", Some(name), None)
        .await
        .unwrap();
    let stored = store.load().await.unwrap().unwrap();
    assert_eq!(stored.label.as_deref(), Some(name));
    assert_eq!(
        (stored.text.as_str(), &stored.version),
        ("text\n", &version)
    );
    // A plain save keeps no label.
    store.save("text\n", Some(&version)).await.unwrap();
    assert_eq!(store.load().await.unwrap().unwrap().label, None);
}
