//! What a `jaeger` input counts, exported as Prometheus series labelled with the pipeline and
//! the plugin id:
//!
//! - `sluice_jaeger_spans_received_total{endpoint, format}`: spans decoded and accepted;
//! - `sluice_jaeger_spans_rejected_total{endpoint, reason}`: spans left out of a batch
//!   (`zero_trace_id`, `zero_span_id`);
//! - `sluice_jaeger_spans_sanitized_total{endpoint, reason}`: spans kept after a repair
//!   (`negative_duration`, `invalid_utf8`);
//! - `sluice_jaeger_batches_rejected_total{endpoint, reason}`: HTTP and gRPC requests refused,
//!   by why;
//! - `sluice_jaeger_udp_dropped_total{endpoint, reason}`: datagrams dropped, by why
//!   (`too_big`, `queue_full`, `shutdown`, or a decode error's kind);
//! - `sluice_jaeger_sampling_requests_total{path}`: sampling requests served.
//!
//! The counters of the hot path are registered once; rare events look their series up when
//! they happen. The reasons the alerts and the dashboard watch (spans rejected, datagrams
//! dropped because they were too big or the queue was full) are registered at zero with the
//! endpoint: `rate()` over a series that does not exist yet is empty, not zero.

use std::sync::Arc;

use crate::observe::metrics::{registry, Counter};

/// Where spans came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// UDP 6831, Thrift compact.
    AgentCompact,
    /// UDP 6832, Thrift binary.
    AgentBinary,
    /// HTTP 14268, Thrift binary.
    CollectorHttp,
    /// gRPC 14250, Jaeger's api_v2 protobuf.
    CollectorGrpc,
}

impl Endpoint {
    pub fn label(self) -> &'static str {
        match self {
            Endpoint::AgentCompact => "udp_compact",
            Endpoint::AgentBinary => "udp_binary",
            Endpoint::CollectorHttp => "http",
            Endpoint::CollectorGrpc => "grpc",
        }
    }

    fn format(self) -> &'static str {
        match self {
            Endpoint::AgentCompact => "thrift_compact",
            Endpoint::AgentBinary | Endpoint::CollectorHttp => "thrift_binary",
            Endpoint::CollectorGrpc => "protobuf",
        }
    }
}

/// The counters of one endpoint of one input. Cheap to clone.
#[derive(Clone)]
pub struct EndpointMetrics {
    pipeline: Arc<str>,
    plugin: Arc<str>,
    endpoint: Endpoint,
    spans_received: Counter,
}

impl EndpointMetrics {
    pub fn new(pipeline: &Arc<str>, plugin: &Arc<str>, endpoint: Endpoint) -> EndpointMetrics {
        let metrics = EndpointMetrics {
            spans_received: registry().counter(
                "sluice_jaeger_spans_received_total",
                "Spans a jaeger input decoded and accepted, by endpoint and format.",
                &[
                    ("pipeline", pipeline),
                    ("plugin", plugin),
                    ("endpoint", endpoint.label()),
                    ("format", endpoint.format()),
                ],
            ),
            pipeline: pipeline.clone(),
            plugin: plugin.clone(),
            endpoint,
        };
        for reason in ["zero_trace_id", "zero_span_id"] {
            metrics.spans_rejected(reason, 0);
        }
        if matches!(endpoint, Endpoint::AgentCompact | Endpoint::AgentBinary) {
            for reason in ["too_big", "queue_full"] {
                metrics.dropped_datagrams(reason);
            }
        }
        metrics
    }

    pub fn endpoint(&self) -> Endpoint {
        self.endpoint
    }

    pub fn spans_received(&self, n: usize) {
        self.spans_received.add(n as u64);
    }

    fn by_reason(&self, name: &'static str, help: &'static str, reason: &str) -> Counter {
        registry().counter(
            name,
            help,
            &[
                ("pipeline", &self.pipeline),
                ("plugin", &self.plugin),
                ("endpoint", self.endpoint.label()),
                ("reason", reason),
            ],
        )
    }

    pub fn spans_rejected(&self, reason: &'static str, n: usize) {
        self.by_reason(
            "sluice_jaeger_spans_rejected_total",
            "Spans a jaeger input left out of their batch, by reason.",
            reason,
        )
        .add(n as u64);
    }

    pub fn spans_sanitized(&self, reason: &'static str, n: usize) {
        self.by_reason(
            "sluice_jaeger_spans_sanitized_total",
            "Spans a jaeger input repaired and kept, by reason.",
            reason,
        )
        .add(n as u64);
    }

    pub fn batch_rejected(&self, reason: &str) {
        self.by_reason(
            "sluice_jaeger_batches_rejected_total",
            "Requests a jaeger input refused, by reason.",
            reason,
        )
        .inc();
    }

    pub fn datagram_dropped(&self, reason: &str) {
        self.dropped_datagrams(reason).inc();
    }

    fn dropped_datagrams(&self, reason: &str) -> Counter {
        self.by_reason(
            "sluice_jaeger_udp_dropped_total",
            "UDP datagrams a jaeger input dropped, by reason.",
            reason,
        )
    }
}

/// Counts a sampling request for `path` (`sampling`, `legacy`, `baggage_restrictions`).
pub fn sampling_request(pipeline: &str, plugin: &str, path: &'static str) {
    registry()
        .counter(
            "sluice_jaeger_sampling_requests_total",
            "Sampling requests a jaeger input served, by path.",
            &[("pipeline", pipeline), ("plugin", plugin), ("path", path)],
        )
        .inc();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watched_reasons_exist_at_zero_before_anything_happens() {
        let (pipeline, plugin): (Arc<str>, Arc<str>) = ("jaeger-prereg".into(), "j1".into());
        EndpointMetrics::new(&pipeline, &plugin, Endpoint::AgentCompact);
        EndpointMetrics::new(&pipeline, &plugin, Endpoint::CollectorHttp);
        let text = registry().render();
        for (endpoint, name, reason) in [
            ("udp_compact", "udp_dropped", "queue_full"),
            ("udp_compact", "udp_dropped", "too_big"),
            ("udp_compact", "spans_rejected", "zero_trace_id"),
            ("http", "spans_rejected", "zero_span_id"),
        ] {
            let line = format!(
                "sluice_jaeger_{name}_total{{pipeline=\"jaeger-prereg\",plugin=\"j1\",endpoint=\"{endpoint}\",reason=\"{reason}\"}} 0\n"
            );
            assert!(text.contains(&line), "{line} missing");
        }
        // An endpoint that receives no datagrams drops none.
        assert!(!text.contains(r#"endpoint="http",reason="queue_full""#));
    }
}
