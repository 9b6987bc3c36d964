//! Any bytes as a Lambda event, through the real handler (its Skype is
//! unreachable, so nothing leaves the machine): never a panic, never a 5xx
//! for an HTTP request that Skype was not needed for.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use skype_sender::app::App;
use skype_sender::config::Config;
use skype_sender::state::{FileObjects, FileTokenStore, Stores};
use skype_sender::deadline::Deadline;
use skype_sender::triggers;

struct Harness {
    runtime: tokio::runtime::Runtime,
    app: App,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("skype-sender-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = Config::from_lookup(|name| match name {
            "SKYPE_LIVE_URL" | "SKYPE_LOGIN_URL" | "SKYPE_EDGE_URL" | "SKYPE_API_URL" => {
                Some("http://127.0.0.1:9".into())
            }
            "SKYPE_MSGS_URL" => Some("http://127.0.0.1:9/v1".into()),
            "SKYPE_ASM_URL" => Some("http://127.0.0.1:9/v1/objects".into()),
            _ => None,
        })
        .unwrap();
        let stores = Stores {
            accounts: Box::new(skype_sender::state::StaticAccount::from_secret_json(
                r#"{"username": "bot@example.com", "password": "pw", "api_keys": ["fuzz-key"], "channels": {"standup": "19:0123456789abcdef0123456789abcdef@thread.skype"}}"#,
            )),
            tokens: Box::new(FileTokenStore::new(dir.join("token"))),
            lock: Box::new(FileTokenStore::new(dir.join("token.lock"))),
            records: Box::new(FileObjects::new(dir.join("idempotency"))),
            teams: Box::new(FileObjects::new(dir.join("teams"))),
            schedules: None,
        };
        Harness {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            app: App::new(config, stores),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let harness = harness();
    let is_http = event.pointer("/requestContext/http/method").is_some()
        || event.get("httpMethod").is_some();
    let answer = harness
        .runtime
        .block_on(triggers::handle_within(&harness.app, event, Deadline::default()));
    if let (true, Ok(answer)) = (is_http, answer) {
        let status = answer["statusCode"].as_u64().unwrap_or(0);
        // 502/503/504 mean Skype was needed and is unreachable here.
        assert!(status < 500 || (502..=504).contains(&status), "{answer}");
    }
});
