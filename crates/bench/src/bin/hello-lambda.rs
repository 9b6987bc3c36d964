//! The cold-start baseline: the smallest `lambda_runtime` function (what
//! `cargo lambda new` generates: a tracing subscriber and a `service_fn`),
//! echoing its payload. Built with the same profile as
//! `skype-sender`, so the bench compares like with like.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .init();
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
