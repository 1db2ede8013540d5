//! The `otlp` input's series, labelled with the pipeline and plugin id:
//!
//! - `sluice_otlp_items_received_total{signal, transport, format}`: spans and log records
//!   decoded and handed to the pipeline;
//! - `sluice_otlp_items_rejected_total{signal, reason}`: items refused one by one (bad ids);
//! - `sluice_otlp_requests_total{signal, transport, status}`: requests answered, by the
//!   HTTP status or gRPC code sent.
//!
//! Series are looked up once per request, never per item. The rejection reasons are
//! registered at zero when the input starts, so alerts and dashboards see a series (`rate()`
//! over one that does not exist yet is empty, not zero).

use std::sync::Arc;

use crate::observe::metrics::{registry, Counter};
use crate::traces::otlp::{Rejection, Rejections};

/// What a request carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Traces,
    Logs,
}

impl Signal {
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Logs => "logs",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Grpc,
    Http,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Grpc => "grpc",
            Transport::Http => "http",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Protobuf,
    Json,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Protobuf => "protobuf",
            Format::Json => "json",
        }
    }
}

#[derive(Clone)]
pub struct OtlpMetrics {
    pipeline: Arc<str>,
    plugin: Arc<str>,
}

impl OtlpMetrics {
    pub fn new(pipeline: Arc<str>, plugin: Arc<str>) -> OtlpMetrics {
        let metrics = OtlpMetrics { pipeline, plugin };
        for signal in [Signal::Traces, Signal::Logs] {
            for reason in Rejection::ALL {
                metrics.rejections(signal, reason);
            }
        }
        metrics
    }

    pub fn received(&self, signal: Signal, transport: Transport, format: Format, n: usize) {
        registry()
            .counter(
                "sluice_otlp_items_received_total",
                "Spans and log records an otlp input decoded and handed to its pipeline.",
                &[
                    ("pipeline", &self.pipeline),
                    ("plugin", &self.plugin),
                    ("signal", signal.as_str()),
                    ("transport", transport.as_str()),
                    ("format", format.as_str()),
                ],
            )
            .add(n as u64);
    }

    pub fn rejected(&self, signal: Signal, rejections: &Rejections) {
        for (reason, n) in rejections.iter() {
            self.rejections(signal, reason).add(n);
        }
    }

    fn rejections(&self, signal: Signal, reason: Rejection) -> Counter {
        registry().counter(
            "sluice_otlp_items_rejected_total",
            "Spans and log records an otlp input refused one by one, by reason.",
            &[
                ("pipeline", &self.pipeline),
                ("plugin", &self.plugin),
                ("signal", signal.as_str()),
                ("reason", reason.as_str()),
            ],
        )
    }

    pub fn answered(&self, signal: Signal, transport: Transport, status: &str) {
        registry()
            .counter(
                "sluice_otlp_requests_total",
                "Requests an otlp input answered, by HTTP status or gRPC code.",
                &[
                    ("pipeline", &self.pipeline),
                    ("plugin", &self.plugin),
                    ("signal", signal.as_str()),
                    ("transport", transport.as_str()),
                    ("status", status),
                ],
            )
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rejection_reason_exists_at_zero_before_anything_happens() {
        OtlpMetrics::new("otlp-prereg".into(), "o1".into());
        let text = registry().render();
        for signal in ["traces", "logs"] {
            for reason in Rejection::ALL {
                let line = format!(
                    "sluice_otlp_items_rejected_total{{pipeline=\"otlp-prereg\",plugin=\"o1\",signal=\"{signal}\",reason=\"{}\"}} 0\n",
                    reason.as_str()
                );
                assert!(text.contains(&line), "{line} missing");
            }
        }
    }
}
