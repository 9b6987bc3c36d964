//! What a test inspects and injects: every request as it arrived, and the
//! faults queued per operation.

use std::borrow::Borrow;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

use serde::Serialize;

/// One request as the fake received it, with the status it answered.
/// `Op` is the fake's name for what the request was routed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedRequest<Op> {
    /// The operation it was routed to; `None` for unknown paths or methods.
    pub op: Option<Op>,
    /// HTTP method.
    pub method: String,
    /// The raw (still percent-encoded) path.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// All headers, names lowercase, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
    /// The status answered (0: the connection was dropped on purpose).
    pub status: u16,
}

impl<Op> RecordedRequest<Op> {
    /// The first value of a header, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::header(&self.headers, name)
    }

    /// The body as text (empty when it is not UTF-8).
    pub fn body_str(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or("")
    }
}

/// Every request received, in arrival order, rejected ones included.
#[derive(Debug)]
pub struct Log<Op> {
    requests: Vec<RecordedRequest<Op>>,
}

impl<Op> Default for Log<Op> {
    fn default() -> Self {
        Log {
            requests: Vec::new(),
        }
    }
}

impl<Op: Clone> Log<Op> {
    /// Log a request as it arrives; its status is filled in when answered.
    pub fn record(&mut self, request: RecordedRequest<Op>) -> usize {
        self.requests.push(request);
        self.requests.len() - 1
    }

    /// The status the request at `index` was answered with.
    pub fn set_status(&mut self, index: usize, status: u16) {
        if let Some(recorded) = self.requests.get_mut(index) {
            recorded.status = status;
        }
    }

    /// A copy of every request, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest<Op>> {
        self.requests.clone()
    }

    /// How many requests were routed to an operation `matches` accepts.
    pub fn count(&self, matches: impl Fn(Option<&Op>) -> bool) -> usize {
        self.requests
            .iter()
            .filter(|r| matches(r.op.as_ref()))
            .count()
    }
}

/// Faults queued per operation, drawn first in, first out.
#[derive(Debug)]
pub struct Faults<Key, Fault> {
    queues: HashMap<Key, VecDeque<Fault>>,
}

impl<Key, Fault> Default for Faults<Key, Fault> {
    fn default() -> Self {
        Faults {
            queues: HashMap::new(),
        }
    }
}

impl<Key: Hash + Eq, Fault: Clone> Faults<Key, Fault> {
    /// Make the next `times` requests of `key` draw `fault`.
    pub fn inject(&mut self, key: Key, fault: Fault, times: usize) {
        let queue = self.queues.entry(key).or_default();
        queue.extend(std::iter::repeat_n(fault, times));
    }

    /// Take the next queued fault for `key`, if any.
    pub fn take<Q>(&mut self, key: &Q) -> Option<Fault>
    where
        Key: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.queues.get_mut(key).and_then(VecDeque::pop_front)
    }
}
