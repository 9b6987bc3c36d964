//! The Lambda entry point: read the configuration, wire the adapters once
//! per container, and serve every invocation with the same `App`.

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use skype_sender::app::App;
use skype_sender::config::Config;
use skype_sender::deadline::Deadline;
use skype_sender::state::{Stores, TargetArn};
use skype_sender::triggers;

/// One thread: a Lambda sandbox of 128 MB has a fraction of a vCPU, and
/// the work is waiting on the network, which one thread multiplexes.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    skype_sender::telemetry::init();
    let config = Config::from_env()?;
    // The reminders' target: FUNCTION_ARN, else the ARN we are invoked by.
    let function_arn = TargetArn::default();
    let stores = Stores::open(
        &config.state,
        config.reminders.as_ref(),
        function_arn.clone(),
    );
    let app = Arc::new(App::new(config, stores));
    // Several invocations at once when Lambda allows it
    // (AWS_LAMBDA_MAX_CONCURRENCY > 1); one at a time otherwise. They share
    // the session, and a renewal still happens once.
    lambda_runtime::run_concurrent(service_fn(move |event: LambdaEvent<Value>| {
        let app = app.clone();
        function_arn.note(&event.context.invoked_function_arn);
        let deadline = Deadline::from_epoch_millis(event.context.deadline);
        async move { triggers::handle_within(&app, event.payload, deadline).await }
    }))
    .await
}
