//! Counters of one `beats` input, shared by its connections, exported as Prometheus series
//! labelled with the pipeline and the plugin id.
//!
//! Each is an independent monotonic count (or, for open connections, a gauge), so no
//! ordering between them is promised or needed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use std::time::Duration;

use crate::observe::metrics::{registry, Counter, Gauge, Histogram, LATENCY_BUCKETS};

#[derive(Default)]
pub struct BeatsMetrics {
    /// `(pipeline, plugin id)` when the counters are exported.
    labels: Option<(Arc<str>, Arc<str>)>,
    connections_accepted: Counter,
    connections_open: Gauge,
    windows: Counter,
    events: Counter,
    acks: Counter,
    ack_latency: Histogram,
    keepalives: Counter,
    bytes_in: Counter,
    bytes_compressed: Counter,
    bytes_inflated: Counter,
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

impl BeatsMetrics {
    /// Counters exported in the process registry under `pipeline` and `plugin` labels.
    pub fn registered(pipeline: &Arc<str>, id: &Arc<str>) -> BeatsMetrics {
        let labels: &[(&str, &str)] = &[("pipeline", pipeline), ("plugin", id)];
        let r = registry();
        BeatsMetrics {
            labels: Some((pipeline.clone(), id.clone())),
            connections_accepted: r.counter(
                "sluice_beats_connections_accepted_total",
                "Connections a beats input accepted.",
                labels,
            ),
            connections_open: r.gauge(
                "sluice_beats_connections_open",
                "Connections a beats input has open.",
                labels,
            ),
            windows: r.counter(
                "sluice_beats_windows_total",
                "Complete windows a beats input decoded.",
                labels,
            ),
            events: r.counter(
                "sluice_beats_events_total",
                "Events a beats input decoded.",
                labels,
            ),
            acks: r.counter(
                "sluice_beats_acks_total",
                "Window ACKs a beats input sent (keep-alives not included).",
                labels,
            ),
            ack_latency: r.histogram(
                "sluice_beats_ack_latency_seconds",
                "Time from a window's arrival to its ACK: how long the outputs took to store it.",
                labels,
                LATENCY_BUCKETS,
            ),
            keepalives: r.counter(
                "sluice_beats_keepalives_total",
                "ACK 0 keep-alives a beats input sent while windows waited.",
                labels,
            ),
            bytes_in: r.counter(
                "sluice_beats_bytes_in_total",
                "Bytes a beats input read from its sockets (after TLS).",
                labels,
            ),
            bytes_compressed: r.counter(
                "sluice_beats_compressed_bytes_total",
                "Bytes of compressed frames a beats input read.",
                labels,
            ),
            bytes_inflated: r.counter(
                "sluice_beats_inflated_bytes_total",
                "Bytes of data frames a beats input decoded, once inflated.",
                labels,
            ),
            errors: Mutex::default(),
        }
    }

    pub(super) fn connection_opened(&self) {
        self.connections_accepted.inc();
        self.connections_open.add(1);
    }
    pub(super) fn connection_closed(&self) {
        self.connections_open.add(-1);
    }
    pub(super) fn window(&self, events: usize, inflated: usize) {
        self.windows.inc();
        self.events.add(events as u64);
        self.bytes_inflated.add(inflated as u64);
    }
    /// A window acknowledged `waited` after it arrived (window 0 too, with no wait).
    pub(super) fn ack(&self, waited: Duration) {
        self.acks.inc();
        self.ack_latency.observe(waited.as_secs_f64());
    }
    pub(super) fn keepalive(&self) {
        self.keepalives.inc();
    }
    pub(super) fn bytes_in(&self, n: usize) {
        self.bytes_in.add(n as u64);
    }
    pub(super) fn bytes_compressed(&self, n: u64) {
        self.bytes_compressed.add(n);
    }
    pub(super) fn error(&self, kind: &'static str) {
        if let Some((pipeline, id)) = &self.labels {
            registry()
                .counter(
                    "sluice_beats_connection_errors_total",
                    "Connections a beats input closed because of an error, by kind.",
                    &[("pipeline", pipeline), ("plugin", id), ("kind", kind)],
                )
                .inc();
        }
        let mut errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        *errors.entry(kind).or_default() += 1;
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            connections_accepted: self.connections_accepted.get(),
            connections_open: self.connections_open.get().max(0) as u64,
            windows: self.windows.get(),
            events: self.events.get(),
            acks: self.acks.get(),
            keepalives: self.keepalives.get(),
            bytes_in: self.bytes_in.get(),
            bytes_compressed: self.bytes_compressed.get(),
            bytes_inflated: self.bytes_inflated.get(),
            errors: self
                .errors
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }
}
