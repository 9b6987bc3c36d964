//! skype-sender: post to a Skype conversation with one curl command.
//!
//! The library behind the Lambda function (`src/main.rs`) and the
//! operator's CLI (`src/bin/skype-sender-cli/`). The crate is split so that
//! each layer knows only what it must; from the edge inwards, each module
//! with what it holds and what it uses today:
//!
//! - [`triggers`]: every invocation shape (API Gateway, Function URL,
//!   direct, EventBridge, SQS, refresh) decoded into one [`app`] call and
//!   answered in its own shape. Uses `app`, `domain`, `error`, `deadline`;
//!   never the Skype wire format.
//! - [`app`]: the use cases (authenticate, send and fan out, files, edit
//!   and delete, health, refresh) and a warm container's state. Uses every
//!   module below.
//! - [`idempotency`]: at most one post per key, target and part, and who
//!   posted what. Uses `state` (an object store) and `domain`.
//! - [`render`]: one message for every platform (readers, one document,
//!   writers); pure. Uses `domain`, `skype::markup` and the platforms'
//!   message types (`teams`, `bots`).
//! - [`domain`]: values parsed once at the edge (message text, mentions,
//!   channels and their aliases, conversation ids, webhook URLs, API keys
//!   and callers) and what a post came to (`Delivered`, `Platform`,
//!   `LoginOutcome`). The floor: uses no other module of the crate.
//! - [`skype`]: the Skype web protocol client (login, registration,
//!   LockAndKey, messages, files, the SkPy token file), as
//!   `docs/skype-protocol.md` describes it. No Lambda, no AWS; uses only
//!   `domain` (conversation ids, attachments) and `clock`.
//! - [`teams`]: the Microsoft Teams bot (inbound Bot Framework tokens, the
//!   app token, the Connector REST API). No Lambda, no AWS; uses `domain`,
//!   `base_url`, `http_answer`.
//! - [`bots`]: Slack's Web API, Discord webhooks and Telegram's Bot API,
//!   one adapter each with one error type. No Lambda, no AWS; uses
//!   `domain`, `base_url`, `http_answer`.
//! - [`webhooks`]: the Teams Workflows and Slack webhook clients. Uses
//!   `domain` (webhook URLs, platforms), `http_answer`.
//! - [`state`]: credentials, API keys and the session, behind traits
//!   (environment and files locally; Secrets Manager and S3 in AWS), the
//!   account cache, the session vault and the login lease. Uses `skype`,
//!   `domain`, `config`, `metrics`, `clock`.
//! - [`error`]: [`error::AppError`], the one failure type (status, a stable
//!   [`error::ErrorCode`], message), and the mapping of the upstream
//!   services' failures into it (`error/upstream.rs`).
//! - [`config`]: the environment, read once per container;
//!   [`base_url`]: the rule for the hosts credentials may go to;
//!   [`http_answer`]: an upstream's answer, read with a bound.
//! - [`metrics`]: CloudWatch Embedded Metric Format lines on stdout.
//! - [`telemetry`]: log setup. [`deadline`]: the invocation's time budget.
//!   [`clock`]: Unix time.
//!
//! `docs/architecture.md` follows one message through these layers and
//! says where state lives.

pub mod app;
pub mod base_url;
pub mod bots;
pub mod clock;
pub mod config;
pub mod deadline;
pub mod domain;
pub mod error;
pub mod http_answer;
pub mod idempotency;
pub mod metrics;
pub mod render;
pub mod skype;
pub mod state;
pub mod teams;
pub mod telemetry;
pub mod triggers;
pub mod webhooks;
