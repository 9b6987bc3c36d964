//! A world for tests of the function's AWS state: moto (S3, Secrets
//! Manager) through the real SDK, the fake Skype, and in-process
//! "containers" (apps with their own clients) sharing them.

use std::sync::Arc;

use fake_skype::{Account as FakeAccount, FakeSkype};
use lambda_harness::moto::{self, Moto, RequestCounter};
use serde_json::json;
use skype_sender::app::{App, SendRequest};
use skype_sender::config::Config;
use skype_sender::deadline::Deadline;
use skype_sender::domain::{Caller, ChannelNames, Content, Delivered, Format, MessageText};
use skype_sender::error::AppError;
use skype_sender::skype::{ClientOptions, Credentials, Session, SkypeClient, SkypeUrls};
use skype_sender::state::{
    AwsClients, S3Objects, S3TokenStore, ScheduleStore, SecretsManagerSource, Stores,
};

use crate::local_app;

pub const GROUP: &str = "19:0123456789abcdef0123456789abcdef@thread.skype";
pub const KEY: &str = "skype/token";

pub struct World {
    pub _moto: Moto,
    pub fake: FakeSkype,
    pub sdk: aws_config::SdkConfig,
    pub admin_s3: aws_sdk_s3::Client,
    pub admin_secrets: aws_sdk_secretsmanager::Client,
    pub bucket: String,
    pub secret_id: String,
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub fn secret(keys: &[&str]) -> String {
    json!({
        "username": "fred.adams@example.com",
        "password": "p&ss<w>rd",
        "api_keys": keys,
        "channels": {"standup": GROUP}
    })
    .to_string()
}

pub async fn world() -> World {
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
    let secret_id = moto::create_secret(&admin_secrets, "skype-sender", &secret(&["k1"])).await;
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
    pub fn urls(&self) -> SkypeUrls {
        local_app::skype_urls(&self.fake)
    }

    /// Configuration for an in-process container (its stores are given
    /// directly, so only Skype's URLs and the timings matter).
    pub fn config(&self, overrides: &[(&str, &str)]) -> Config {
        local_app::config(&self.fake, overrides)
    }

    /// A container: its own SDK clients (counting), its own Skype client.
    pub fn app(&self, counter: &RequestCounter, overrides: &[(&str, &str)]) -> App {
        self.app_with(&self.sdk, &self.sdk, counter, overrides)
    }

    pub fn app_with(
        &self,
        secrets_sdk: &aws_config::SdkConfig,
        s3_sdk: &aws_config::SdkConfig,
        counter: &RequestCounter,
        overrides: &[(&str, &str)],
    ) -> App {
        let aws = AwsClients::from_clients(
            moto::s3(s3_sdk, counter),
            moto::secrets(secrets_sdk, counter),
        );
        App::new(self.config(overrides), self.stores(aws, None))
    }

    /// The stores of a container in AWS mode over `aws` (the bucket and
    /// secret of this world), with `schedules` for reminders.
    pub fn stores(
        &self,
        aws: Arc<AwsClients>,
        schedules: Option<Box<dyn ScheduleStore>>,
    ) -> Stores {
        Stores {
            accounts: Box::new(SecretsManagerSource::new(aws.clone(), &self.secret_id)),
            tokens: Box::new(S3TokenStore::new(aws.clone(), &self.bucket, KEY)),
            lock: Box::new(S3TokenStore::new(
                aws.clone(),
                &self.bucket,
                format!("{KEY}.lock"),
            )),
            records: Box::new(S3Objects::new(aws.clone(), &self.bucket, "idempotency/")),
            teams: Box::new(S3Objects::new(aws, &self.bucket, "teams/")),
            schedules,
        }
    }

    /// A session from a real login at the fake (as a trusted machine would make).
    pub async fn login(&self) -> Session {
        let client = SkypeClient::new(
            self.urls(),
            ClientOptions::default(),
            Some(Credentials::new("fred.adams@example.com", "p&ss<w>rd")),
        )
        .unwrap();
        (*client.ensure_session().await.unwrap()).clone()
    }

    pub async fn put_token(&self, text: &str) {
        self.put_object(KEY, text).await;
    }

    pub async fn put_object(&self, key: &str, text: &str) {
        moto::put_text(&self.admin_s3, &self.bucket, key, text)
            .await
            .unwrap();
    }

    pub async fn get_object(&self, key: &str) -> Option<String> {
        moto::get_text(&self.admin_s3, &self.bucket, key).await.ok()
    }
}

/// Sends `text` to "standup" as a trusted caller: that one target's result.
pub async fn send_one(app: &App, text: &str) -> Result<Delivered, AppError> {
    let mut outcomes = app
        .send_within(&Caller::Trusted, &request(text), Deadline::default())
        .await?;
    outcomes.remove(0).result
}

pub fn request(text: &str) -> SendRequest {
    SendRequest {
        channels: ChannelNames::one("standup"),
        content: Content::new(MessageText::parse(text).unwrap(), Format::Rich, vec![]),
        thread: None,
        idempotency_key: None,
    }
}
