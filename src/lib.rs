//! skype-sender: post to a Skype conversation with one curl command.
//!
//! The crate is split so that each layer knows only what it must:
//! - [`skype`]: the Skype web protocol client (login, registration,
//!   LockAndKey, messages, files, the SkPy token file). No Lambda, no AWS.

pub mod app;
pub mod clock;
pub mod config;
pub mod deadline;
pub mod domain;
pub mod error;
pub mod idempotency;
pub mod metrics;
pub mod render;
pub mod skype;
pub mod state;
pub mod telemetry;
pub mod triggers;
pub mod webhooks;
