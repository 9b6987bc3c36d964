//! Session state in AWS, through the real AWS SDK against a local moto
//! server: the secret and the S3 token file loaded once per container,
//! warm sends without AWS calls, conditional writes that never overwrite a
//! newer session, one login across many cold containers, key rotation, and
//! outages answered quickly.

#[allow(dead_code)]
#[path = "support/fake_skype/mod.rs"]
mod fake_skype;
#[allow(dead_code)]
#[path = "support/moto.rs"]
mod moto;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use fake_skype::{Account as FakeAccount, FakeSkype, Fault, Op};
use moto::{Moto, RequestCounter};
use secrecy::ExposeSecret;
use serde_json::json;
use skype_sender::app::{App, SendRequest};
use skype_sender::config::Config;
use skype_sender::domain::{Caller, Format, MessageText};
use skype_sender::skype::{
    ClientOptions, Credentials, Session, SkypeClient, SkypeUrls, parse_token_file, write_token_file,
};
use skype_sender::state::{S3Objects, S3TokenStore, SecretsManagerSource, Stores};

const GROUP: &str = "19:0123456789abcdef0123456789abcdef@thread.skype";
const KEY: &str = "skype/token";

struct World {
    _moto: Moto,
    fake: FakeSkype,
    sdk: aws_config::SdkConfig,
    admin_s3: aws_sdk_s3::Client,
    admin_secrets: aws_sdk_secretsmanager::Client,
    bucket: String,
    secret_id: String,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn secret(keys: &[&str]) -> String {
    json!({
        "username": "fred.adams@example.com",
        "password": "p&ss<w>rd",
        "api_keys": keys,
        "channels": {"standup": GROUP}
    })
    .to_string()
}

async fn world() -> World {
    let moto = Moto::start().await;
    let fake = FakeSkype::start().await;
    fake.add_account(FakeAccount::fred());
    let sdk = moto::sdk_config(&moto.endpoint).await;
    let admin = RequestCounter::default();
    let admin_s3 = moto::s3(&sdk, &admin);
    let admin_secrets = moto::secrets(&sdk, &admin);
    let bucket = "skype-sender-tokens".to_string();
    admin_s3
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let secret_id = admin_secrets
        .create_secret()
        .name("skype-sender")
        .secret_string(secret(&["k1"]))
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    World {
        _moto: moto,
        fake,
        sdk,
        admin_s3,
        admin_secrets,
        bucket,
        secret_id,
    }
}

impl World {
    fn urls(&self) -> SkypeUrls {
        let u = self.fake.urls();
        SkypeUrls {
            live: u.live,
            login: u.login,
            edge: u.edge,
            api: u.api,
            msgs: u.msgs,
            asm: u.asm,
        }
    }

    fn config(&self, overrides: &[(&str, &str)]) -> Config {
        let urls = self.urls();
        let overrides: Vec<(String, String)> = overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| {
            if let Some((_, v)) = overrides.iter().find(|(k, _)| k == name) {
                return Some(v.clone());
            }
            match name {
                "SECRET_ID" => Some(self.secret_id.clone()),
                "TOKEN_BUCKET" => Some(self.bucket.clone()),
                "SKYPE_LIVE_URL" => Some(urls.live.clone()),
                "SKYPE_LOGIN_URL" => Some(urls.login.clone()),
                "SKYPE_EDGE_URL" => Some(urls.edge.clone()),
                "SKYPE_API_URL" => Some(urls.api.clone()),
                "SKYPE_MSGS_URL" => Some(urls.msgs.clone()),
                "SKYPE_ASM_URL" => Some(urls.asm.clone()),
                _ => None,
            }
        })
        .unwrap()
    }

    /// A container: its own SDK clients (counting), its own Skype client.
    fn app(&self, counter: &RequestCounter, overrides: &[(&str, &str)]) -> App {
        self.app_with(&self.sdk, &self.sdk, counter, overrides)
    }

    fn app_with(
        &self,
        secrets_sdk: &aws_config::SdkConfig,
        s3_sdk: &aws_config::SdkConfig,
        counter: &RequestCounter,
        overrides: &[(&str, &str)],
    ) -> App {
        let s3 = moto::s3(s3_sdk, counter);
        App::new(
            self.config(overrides),
            Stores {
                accounts: Box::new(SecretsManagerSource::new(
                    moto::secrets(secrets_sdk, counter),
                    &self.secret_id,
                )),
                tokens: Box::new(S3TokenStore::new(s3.clone(), &self.bucket, KEY)),
                lock: Box::new(S3TokenStore::new(
                    s3.clone(),
                    &self.bucket,
                    format!("{KEY}.lock"),
                )),
                records: Box::new(S3Objects::new(s3, &self.bucket, "idempotency/")),
            },
        )
    }

    /// A session from a real login at the fake (as a trusted machine would make).
    async fn login(&self) -> Session {
        let client = SkypeClient::new(
            self.urls(),
            ClientOptions::default(),
            Some(Credentials::new("fred.adams@example.com", "p&ss<w>rd")),
        )
        .unwrap();
        (*client.ensure_session().await.unwrap()).clone()
    }

    async fn put_token(&self, text: &str) {
        self.admin_s3
            .put_object()
            .bucket(&self.bucket)
            .key(KEY)
            .body(ByteStream::from(text.as_bytes().to_vec()))
            .send()
            .await
            .unwrap();
    }

    async fn get_object(&self, key: &str) -> Option<String> {
        let output = self
            .admin_s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .ok()?;
        let bytes = output.body.collect().await.unwrap().into_bytes();
        Some(String::from_utf8(bytes.to_vec()).unwrap())
    }
}

fn request(text: &str) -> SendRequest {
    SendRequest {
        channel: "standup".into(),
        text: MessageText::parse(text).unwrap(),
        format: Format::Rich,
        idempotency_key: None,
    }
}

#[tokio::test]
async fn a_stored_token_file_is_used_without_login_and_warm_sends_touch_no_aws() {
    let world = world().await;
    let session = world.login().await;
    world.put_token(&write_token_file(&session)).await;
    let counter = RequestCounter::default();
    let app = world.app(&counter, &[]);

    app.send(&Caller::Trusted, &request("cold")).await.unwrap();
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

    let sends_before = world.fake.count(Op::Send);
    for i in 0..20 {
        app.send(&Caller::Trusted, &request(&format!("warm {i}")))
            .await
            .unwrap();
    }
    assert_eq!(counter.get(), 2, "warm sends make no AWS request");
    assert_eq!(
        world.fake.count(Op::Send) - sends_before,
        20,
        "one Skype request per message"
    );
    assert_eq!(world.fake.messages(GROUP).len(), 21);
    assert_eq!(
        world.get_object(KEY).await.unwrap(),
        write_token_file(&session),
        "nothing rewritten"
    );
}

#[tokio::test]
async fn an_expired_skype_token_costs_one_login_and_is_written_back() {
    let world = world().await;
    let mut session = world.login().await;
    session.auth.expires_at = now() - 10;
    world.put_token(&write_token_file(&session)).await;
    let app = world.app(&RequestCounter::default(), &[]);

    app.send(&Caller::Trusted, &request("after expiry"))
        .await
        .unwrap();

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
        tokio::spawn(async move { app.send(&Caller::Trusted, &request("during")).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    world.put_token(&write_token_file(&newer)).await;
    sending.await.unwrap().unwrap();

    assert_eq!(
        world.get_object(KEY).await.unwrap(),
        write_token_file(&newer),
        "the newer stored session was not overwritten"
    );
    app.send(&Caller::Trusted, &request("after")).await.unwrap();
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
            tokio::spawn(
                async move { app.send(&Caller::Trusted, &request(&format!("c{i}"))).await },
            )
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
    assert_eq!(counter.get(), 1, "one read of the secret for all of that");

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
    assert_eq!(counter.get(), 2);
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
    assert!(counter.get() >= 3, "re-read after the TTL");
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
    let err = app.send(&Caller::Trusted, &request("x")).await.unwrap_err();
    assert_eq!((err.status, err.code), (503, "secret_unavailable"));
    assert!(err.retry_after.is_some());

    let app = world.app_with(&world.sdk, &nowhere, &RequestCounter::default(), &[]);
    let err = app.send(&Caller::Trusted, &request("x")).await.unwrap_err();
    assert_eq!((err.status, err.code), (503, "token_store_unavailable"));
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
    world
        .admin_s3
        .put_object()
        .bucket(&world.bucket)
        .key(format!("{KEY}.lock"))
        .body(ByteStream::from(lease.into_bytes()))
        .send()
        .await
        .unwrap();
    let app = world.app(&RequestCounter::default(), &[("LOGIN_WAIT_SECONDS", "1")]);

    let started = Instant::now();
    let err = app.send(&Caller::Trusted, &request("x")).await.unwrap_err();

    assert_eq!((err.status, err.code), (503, "skype_login_in_progress"));
    assert!(err.retry_after.is_some());
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        world.fake.logins(),
        1,
        "no second login while the lease is held"
    );
}
