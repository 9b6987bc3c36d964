//! What runs the real function the way Lambda does, shared by the
//! end-to-end tests (`tests/e2e`) and the benchmark (`crates/bench`):
//!
//! - [`runtime_api`]: a Lambda Runtime API emulator the real binary polls;
//! - [`process`]: the real binary as one process polling it, its log lines
//!   (and the metric lines among them) captured, killed when dropped;
//! - [`moto`]: a moto server (S3, Secrets Manager) from the venv `make test`
//!   installs, SDK clients for it that count their requests, a secret
//!   created, and the text of an S3 object read and written whole;
//! - [`events`]: Lambda events as AWS sends them, and the samples of
//!   `events/`.

use std::path::Path;

pub mod events;
pub mod moto;
pub mod process;
pub mod runtime_api;

/// The repository's root (where `events/`, `.venv/` and `target/` are):
/// this crate lives in `crates/lambda-harness`.
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .expect("crates/lambda-harness lies two folders below the repository's root")
}
