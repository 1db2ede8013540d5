//! The `otlp` input's series, labelled with the pipeline and plugin id:
//!
//! - `sluice_otlp_items_received_total{signal, transport, format}`: spans and log records
//!   decoded and handed to the pipeline;
//! - `sluice_otlp_items_rejected_total{signal, reason}`: items refused one by one (bad ids);
//! - `sluice_otlp_requests_total{signal, transport, status}`: requests answered, by the
//!   HTTP status or gRPC code sent.
//!
//! The series every request adds to (items received, successful answers) are registered when
//! the input starts, so a request touches only atomic counters; error answers and rejections
//! are looked up when they happen. The rejection reasons are registered at zero too, so alerts
//! and dashboards see a series (`rate()` over one that does not exist yet is empty, not zero).

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

const SIGNALS: [Signal; 2] = [Signal::Traces, Signal::Logs];
const TRANSPORTS: [Transport; 2] = [Transport::Grpc, Transport::Http];
const FORMATS: [Format; 2] = [Format::Protobuf, Format::Json];

/// The status label of a successful answer.
fn success(transport: Transport) -> &'static str {
    match transport {
        Transport::Grpc => "OK",
        Transport::Http => "200",
    }
}

#[derive(Clone)]
pub struct OtlpMetrics {
    pipeline: Arc<str>,
    plugin: Arc<str>,
    /// `sluice_otlp_items_received_total`, by `[signal][transport][format]`.
    received: [[[Counter; 2]; 2]; 2],
    /// `sluice_otlp_requests_total` of successful answers, by `[signal][transport]`.
    succeeded: [[Counter; 2]; 2],
}

impl OtlpMetrics {
    pub fn new(pipeline: Arc<str>, plugin: Arc<str>) -> OtlpMetrics {
        let received = SIGNALS.map(|signal| {
            TRANSPORTS.map(|transport| {
                FORMATS.map(|format| {
                    registry().counter(
                        "sluice_otlp_items_received_total",
                        "Spans and log records an otlp input decoded and handed to its pipeline.",
                        &[
                            ("pipeline", &pipeline),
                            ("plugin", &plugin),
                            ("signal", signal.as_str()),
                            ("transport", transport.as_str()),
                            ("format", format.as_str()),
                        ],
                    )
                })
            })
        });
        let succeeded = SIGNALS.map(|signal| {
            TRANSPORTS.map(|transport| {
                requests(&pipeline, &plugin, signal, transport, success(transport))
            })
        });
        let metrics = OtlpMetrics {
            pipeline,
            plugin,
            received,
            succeeded,
        };
        for signal in SIGNALS {
            for reason in Rejection::ALL {
                metrics.rejections(signal, reason);
            }
        }
        metrics
    }

    pub fn received(&self, signal: Signal, transport: Transport, format: Format, n: usize) {
        self.received[signal as usize][transport as usize][format as usize].add(n as u64);
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
        if status == success(transport) {
            self.succeeded[signal as usize][transport as usize].inc();
        } else {
            requests(&self.pipeline, &self.plugin, signal, transport, status).inc();
        }
    }
}

/// The `sluice_otlp_requests_total` series of one answer.
fn requests(
    pipeline: &str,
    plugin: &str,
    signal: Signal,
    transport: Transport,
    status: &str,
) -> Counter {
    registry().counter(
        "sluice_otlp_requests_total",
        "Requests an otlp input answered, by HTTP status or gRPC code.",
        &[
            ("pipeline", pipeline),
            ("plugin", plugin),
            ("signal", signal.as_str()),
            ("transport", transport.as_str()),
            ("status", status),
        ],
    )
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

    fn series(name: &'static str, labels: &[(&'static str, &str)]) -> u64 {
        registry().counter(name, "", labels).get()
    }

    #[test]
    fn each_request_lands_in_its_own_series() {
        let metrics = OtlpMetrics::new("otlp-metrics-test".into(), "p".into());
        metrics.received(Signal::Logs, Transport::Http, Format::Json, 3);
        metrics.received(Signal::Traces, Transport::Grpc, Format::Protobuf, 5);
        metrics.answered(Signal::Logs, Transport::Http, "200");
        metrics.answered(Signal::Logs, Transport::Http, "429");
        metrics.answered(Signal::Traces, Transport::Grpc, "OK");
        let base = [("pipeline", "otlp-metrics-test"), ("plugin", "p")];
        let received = |signal, transport, format| {
            let labels = [
                base[0],
                base[1],
                ("signal", signal),
                ("transport", transport),
                ("format", format),
            ];
            series("sluice_otlp_items_received_total", &labels)
        };
        assert_eq!(received("logs", "http", "json"), 3);
        assert_eq!(received("traces", "grpc", "protobuf"), 5);
        assert_eq!(received("traces", "http", "json"), 0);
        let answered = |signal, transport, status| {
            let labels = [
                base[0],
                base[1],
                ("signal", signal),
                ("transport", transport),
                ("status", status),
            ];
            series("sluice_otlp_requests_total", &labels)
        };
        assert_eq!(answered("logs", "http", "200"), 1);
        assert_eq!(answered("logs", "http", "429"), 1);
        assert_eq!(answered("traces", "grpc", "OK"), 1);
        assert_eq!(answered("traces", "http", "200"), 0);
    }
}
