//! What the strict fakes share, whatever service they imitate:
//!
//! - their view of an HTTP exchange ([`Req`], [`Resp`]), so that handlers
//!   are plain functions of a request already read;
//! - the request log ([`Log`], [`RecordedRequest`]) and the per-operation
//!   fault queues ([`Faults`]) a test inspects and fills;
//! - the one catch-all server loop ([`serve`], driven by a fake's
//!   [`Service`]) that reads every request whole, records it, applies any
//!   injected fault and answers, so that every request, unknown paths and
//!   wrong methods included, goes through the same recording and refusal
//!   path.
//!
//! Each fake keeps what is its service's own: routing, error bodies, state
//! and checks.

mod log;
mod server;
mod wire;

use std::sync::{Mutex, MutexGuard};

pub use log::{Faults, Log, RecordedRequest};
pub use server::{Effect, Service, listen, serve};
pub use wire::{Req, Resp, header, injected_status};

/// Lock a fake's state, surviving a poisoned mutex (a panicking test thread
/// must not take every later request down with it).
pub fn lock<T>(state: &Mutex<T>) -> MutexGuard<'_, T> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
