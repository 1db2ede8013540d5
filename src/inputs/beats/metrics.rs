//! Counters of one `beats` input, shared by its connections; `observe` reads them.
//!
//! Plain relaxed atomics: each is an independent monotonic count (or, for open connections,
//! a gauge), so no ordering between them is promised or needed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

#[derive(Default)]
pub struct BeatsMetrics {
    connections_accepted: AtomicU64,
    connections_open: AtomicU64,
    windows: AtomicU64,
    events: AtomicU64,
    acks: AtomicU64,
    keepalives: AtomicU64,
    bytes_in: AtomicU64,
    bytes_compressed: AtomicU64,
    bytes_inflated: AtomicU64,
    /// Errors are rare, so a locked map keyed by [`ProtocolError::kind`] is cheap enough and
    /// keeps the label set open.
    ///
    /// [`ProtocolError::kind`]: super::frame::ProtocolError::kind
    errors: Mutex<BTreeMap<&'static str, u64>>,
}

/// A copy of every counter at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    pub connections_accepted: u64,
    pub connections_open: u64,
    /// Complete windows decoded (window 0 included).
    pub windows: u64,
    pub events: u64,
    /// Non-zero-window ACKs and window-0 ACKs; keep-alives are counted apart.
    pub acks: u64,
    pub keepalives: u64,
    /// Bytes read from sockets (after TLS).
    pub bytes_in: u64,
    /// Bytes of `C` frame payloads.
    pub bytes_compressed: u64,
    /// Bytes of data frames once inflated (plain frames included).
    pub bytes_inflated: u64,
    /// Connections closed for a reason other than the peer's clean close, by kind.
    pub errors: BTreeMap<&'static str, u64>,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl BeatsMetrics {
    pub(super) fn connection_opened(&self) {
        add(&self.connections_accepted, 1);
        add(&self.connections_open, 1);
    }
    pub(super) fn connection_closed(&self) {
        self.connections_open.fetch_sub(1, Ordering::Relaxed);
    }
    pub(super) fn window(&self, events: usize, inflated: usize) {
        add(&self.windows, 1);
        add(&self.events, events as u64);
        add(&self.bytes_inflated, inflated as u64);
    }
    pub(super) fn ack(&self) {
        add(&self.acks, 1);
    }
    pub(super) fn keepalive(&self) {
        add(&self.keepalives, 1);
    }
    pub(super) fn bytes_in(&self, n: usize) {
        add(&self.bytes_in, n as u64);
    }
    pub(super) fn bytes_compressed(&self, n: u64) {
        add(&self.bytes_compressed, n);
    }
    pub(super) fn error(&self, kind: &'static str) {
        let mut errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        *errors.entry(kind).or_default() += 1;
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        MetricsSnapshot {
            connections_accepted: get(&self.connections_accepted),
            connections_open: get(&self.connections_open),
            windows: get(&self.windows),
            events: get(&self.events),
            acks: get(&self.acks),
            keepalives: get(&self.keepalives),
            bytes_in: get(&self.bytes_in),
            bytes_compressed: get(&self.bytes_compressed),
            bytes_inflated: get(&self.bytes_inflated),
            errors: self
                .errors
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }
}
