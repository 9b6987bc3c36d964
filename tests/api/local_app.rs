//! An in-process `App` wired to a fake Skype and local files, with the
//! account given as the secret JSON the function reads from Secrets Manager
//! (`{"username", "password", "api_keys", "channels"}`: the README's
//! Configuration).

use fake_skype::FakeSkype;
use serde_json::Value;
use skype_sender::app::App;
use skype_sender::config::Config;
use skype_sender::skype::SkypeUrls;
use skype_sender::state::{FileObjects, FileTokenStore, StaticAccount, Stores};

/// The client's base URLs for `fake`.
pub fn skype_urls(fake: &FakeSkype) -> SkypeUrls {
    let urls = fake.urls();
    SkypeUrls {
        live: urls.live,
        login: urls.login,
        edge: urls.edge,
        api: urls.api,
        msgs: urls.msgs,
        asm: urls.asm,
    }
}

/// Configuration pointing at `fake`, plus `overrides` (environment names).
pub fn config(fake: &FakeSkype, overrides: &[(&str, &str)]) -> Config {
    let urls = skype_urls(fake);
    Config::from_lookup(|name| {
        if let Some((_, value)) = overrides.iter().find(|(key, _)| *key == name) {
            return Some(value.to_string());
        }
        match name {
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

/// Local stores in a fresh temporary directory named after `name`.
pub fn stores(secret: &Value, name: &str) -> Stores {
    let dir = std::env::temp_dir().join(format!("skype-sender-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    stores_in(secret, &dir)
}

/// Local stores in `dir`, kept as they are (a second container of the
/// same deployment).
pub fn stores_in(secret: &Value, dir: &std::path::Path) -> Stores {
    std::fs::create_dir_all(dir).unwrap();
    Stores {
        accounts: Box::new(StaticAccount::from_secret_json(secret.to_string())),
        tokens: Box::new(FileTokenStore::new(dir.join("token"))),
        lock: Box::new(FileTokenStore::new(dir.join("token.lock"))),
        records: Box::new(FileObjects::new(dir.join("idempotency"))),
        teams: Box::new(FileObjects::new(dir.join("teams"))),
        schedules: None,
    }
}

/// The app over a fake Skype and local stores.
pub fn app(fake: &FakeSkype, secret: &Value, name: &str, overrides: &[(&str, &str)]) -> App {
    App::new(config(fake, overrides), stores(secret, name))
}

/// An API caller of an in-process app: one key, the Lambda entry point,
/// answers as (status, body).
pub struct Api<'a> {
    /// The app.
    pub app: &'a App,
    /// The key presented (`x-api-key`).
    pub key: &'a str,
}

impl Api<'_> {
    /// `POST /send-message` with `body`.
    pub async fn post(&self, body: Value) -> (u16, Value) {
        self.call("POST", "/send-message", body).await
    }

    /// `method path` with a JSON `body`.
    pub async fn call(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let event = lambda_harness::events::json_request(method, path, self.key, body);
        lambda_harness::events::status_and_body(&crate::handle(self.app, event).await.unwrap())
    }

    /// `PATCH /messages/{id}`: new text `msg` in `channel`.
    pub async fn edit(&self, id: &str, channel: &str, msg: &str) -> (u16, Value) {
        let body = serde_json::json!({"msg": msg, "channel": channel});
        self.call("PATCH", &format!("/messages/{id}"), body).await
    }

    /// `DELETE /messages/{id}` in `channel`.
    pub async fn delete(&self, id: &str, channel: &str) -> (u16, Value) {
        let body = serde_json::json!({"channel": channel});
        self.call("DELETE", &format!("/messages/{id}"), body).await
    }
}

/// A fake Skype with the bot's account, and an app logged in as it with
/// `keys` and `channels` (the secret's fields), its files named after `name`.
pub async fn fred_app(name: &str, keys: Value, channels: Value) -> (FakeSkype, App) {
    let skype = FakeSkype::start().await;
    skype.add_account(fake_skype::Account::fred());
    let secret = serde_json::json!({
        "username": "fred.adams@example.com",
        "password": "p&ss<w>rd",
        "api_keys": keys,
        "channels": channels,
    });
    let app = app(&skype, &secret, name, &[]);
    (skype, app)
}

impl Api<'_> {
    /// Posts `body` and checks it is refused with `status` and `code`; the
    /// answer (to check more of it).
    pub async fn refused(&self, body: Value, status: u16, code: &str) -> Value {
        let (got, answer) = self.post(body).await;
        assert_eq!(
            (got, answer["error"].as_str()),
            (status, Some(code)),
            "{answer}"
        );
        answer
    }
}
