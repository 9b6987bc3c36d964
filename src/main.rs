//! The Lambda entry point: read the configuration, wire the adapters once
//! per container, and serve every invocation with the same `App`.

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use skype_sender::app::App;
use skype_sender::config::{Config, StateLocation};
use skype_sender::state::{EnvAccountSource, FileTokenStore};
use skype_sender::triggers;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let app = Arc::new(wire(config)?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let app = app.clone();
        async move { triggers::handle(&app, event.payload).await }
    }))
    .await
}

/// The adapters for where the state lives.
fn wire(config: Config) -> Result<App, lambda_runtime::Error> {
    match config.state.clone() {
        StateLocation::Local { token_file } => Ok(App::new(
            config,
            Box::new(EnvAccountSource),
            Box::new(FileTokenStore::new(token_file)),
        )),
        StateLocation::Aws { .. } => Err(
            "AWS mode (SECRET_ID + TOKEN_BUCKET) is not built yet; unset both for local mode"
                .into(),
        ),
    }
}
