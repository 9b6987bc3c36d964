//! The function's binaries as processes: `skype-sender` polling a Lambda
//! Runtime API emulator (`lambda-harness`) and under `cargo lambda watch`,
//! and the operator CLI; against the strict fake Skype, the fake webhooks
//! and moto; and the release profile the deployed binary is built with. One
//! test binary. (The benchmark's quick run, which also runs
//! the real binary, is `crates/bench/tests/smoke.rs`.)
//!
//! The same code in this process is tested in `tests/api`.

mod bots;
mod cargo_lambda_watch;
mod cli;
mod function;
mod release_profile;
mod teams;
