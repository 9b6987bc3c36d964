//! The function's code in this process: the use cases, the triggers and the
//! Skype and webhook clients, against the strict fakes (`fake-skype`,
//! `fake-webhooks`) over loopback HTTP, with local files or moto (S3,
//! Secrets Manager) as the state. One test binary: the AWS SDK is linked
//! once, not once per file.
//!
//! The function's own binaries, run as processes, are tested in `tests/e2e`.

// Shared support.
mod aws_world;
mod local_app;
mod openapi_spec;

// One module per concern.
mod app_in_process;
mod aws_state;
mod bad_input;
mod channels;
mod fault_matrix;
mod idempotency;
mod messages_api;
mod openapi;
mod skpy_reference;
mod skype_client;
mod template;
mod webhooks;
