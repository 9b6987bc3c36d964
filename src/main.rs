//! The Lambda entry point: read the configuration, wire the adapters once
//! per container, and serve every invocation with the same `App`.

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use skype_sender::app::App;
use skype_sender::config::Config;
use skype_sender::deadline::Deadline;
use skype_sender::state::Stores;
use skype_sender::triggers;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let stores = Stores::open(&config.state).await;
    let app = Arc::new(App::new(config, stores));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let app = app.clone();
        let deadline = Deadline::from_epoch_millis(event.context.deadline);
        async move { triggers::handle_within(&app, event.payload, deadline).await }
    }))
    .await
}
