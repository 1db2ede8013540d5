//! One export request, whatever its transport: decode, map, queue, wait for the receipt,
//! and decide the answer. gRPC and HTTP only translate [`Answer`] into their own words.
//!
//! Success is only ever answered once the request's receipt has resolved, i.e. every span
//! and log record is in every output (or its dead-letter queue). When the queue stays full
//! beyond `max_queue_wait`, or an output failed, the sender is told to retry later instead.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message;

use super::logs;
use super::metrics::{Format, OtlpMetrics, Signal, Transport};
use crate::event::Event;
use crate::inputs::EventSink;
use crate::pipeline::receipt::Delivery;
use crate::traces::otlp::{json, spans, wire, Rejections};

/// How a request ended.
#[derive(Debug, PartialEq)]
pub enum Answer {
    /// Every item is durably taken, except `rejected.total()` refused as bad.
    Accepted(Rejections),
    /// The body is not a request of this signal in this format.
    Invalid(String),
    /// Sluice cannot take the request now; the sender should retry after a pause.
    Busy(Busy),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Busy {
    /// The pipeline's queue stayed full for `max_queue_wait`.
    QueueFull,
    /// An output could not take some of the items (Elasticsearch down, …).
    OutputsFailed,
    /// The pipeline is shutting down.
    ShuttingDown,
}

impl Busy {
    pub fn message(self) -> &'static str {
        match self {
            Busy::QueueFull => "the pipeline is saturated (its queue is full); retry later",
            Busy::OutputsFailed => "an output could not store the data; retry later",
            Busy::ShuttingDown => "the pipeline is shutting down; retry later",
        }
    }

    /// What the sender is asked to wait before retrying.
    pub fn retry_after(self) -> Duration {
        match self {
            Busy::QueueFull => Duration::from_secs(1),
            Busy::OutputsFailed | Busy::ShuttingDown => Duration::from_secs(5),
        }
    }
}

/// What the routes of both transports share: the exporter and the request size caps.
pub struct Endpoint {
    pub exporter: Arc<Exporter>,
    /// `max_request_bytes`: the body as sent.
    pub max_request_bytes: usize,
    /// `max_decompressed_bytes`: the body once inflated.
    pub max_decompressed_bytes: usize,
}

pub struct Exporter {
    sink: EventSink,
    metrics: OtlpMetrics,
    max_queue_wait: Duration,
}

impl Exporter {
    pub fn new(sink: EventSink, metrics: OtlpMetrics, max_queue_wait: Duration) -> Arc<Exporter> {
        Arc::new(Exporter {
            sink,
            metrics,
            max_queue_wait,
        })
    }

    pub fn metrics(&self) -> &OtlpMetrics {
        &self.metrics
    }

    pub async fn export(
        &self,
        signal: Signal,
        transport: Transport,
        format: Format,
        body: Bytes,
    ) -> Answer {
        let (events, rejected) = match decode(signal, format, body) {
            Ok(decoded) => decoded,
            Err(reason) => return Answer::Invalid(reason),
        };
        self.metrics.rejected(signal, &rejected);
        if events.is_empty() {
            return Answer::Accepted(rejected);
        }
        self.metrics
            .received(signal, transport, format, events.len());
        let receipt = match tokio::time::timeout(self.max_queue_wait, self.sink.send(events)).await
        {
            Err(_) => return Answer::Busy(Busy::QueueFull),
            Ok(Err(_closed)) => return Answer::Busy(Busy::ShuttingDown),
            Ok(Ok(receipt)) => receipt,
        };
        match receipt.await {
            Delivery::Delivered => Answer::Accepted(rejected),
            Delivery::Failed => Answer::Busy(Busy::OutputsFailed),
        }
    }
}

fn decode(signal: Signal, format: Format, body: Bytes) -> Result<(Vec<Event>, Rejections), String> {
    match signal {
        Signal::Traces => {
            let request = match format {
                Format::Protobuf => wire::ExportTraceServiceRequest::decode(body)
                    .map_err(|e| format!("invalid OTLP protobuf: {e}"))?,
                Format::Json => json::decode_traces(&body).map_err(|e| e.to_string())?,
            };
            let mapped = spans::map_request(request);
            Ok((
                mapped.spans.into_iter().map(Event::from_span).collect(),
                mapped.rejected,
            ))
        }
        Signal::Logs => {
            let request = match format {
                Format::Protobuf => wire::ExportLogsServiceRequest::decode(body)
                    .map_err(|e| format!("invalid OTLP protobuf: {e}"))?,
                Format::Json => json::decode_logs(&body).map_err(|e| e.to_string())?,
            };
            let mapped = logs::map_request(request);
            Ok((mapped.events, mapped.rejected))
        }
    }
}

/// The success message of `signal`: empty, or a partial success naming what was refused.
pub enum ExportResponse {
    Traces(ExportTraceServiceResponse),
    Logs(ExportLogsServiceResponse),
}

impl ExportResponse {
    pub fn new(signal: Signal, rejected: &Rejections) -> ExportResponse {
        let total = rejected.total() as i64;
        let message = || rejected.message();
        match signal {
            Signal::Traces => ExportResponse::Traces(ExportTraceServiceResponse {
                partial_success: (total > 0).then(|| ExportTracePartialSuccess {
                    rejected_spans: total,
                    error_message: message(),
                }),
            }),
            Signal::Logs => ExportResponse::Logs(ExportLogsServiceResponse {
                partial_success: (total > 0).then(|| ExportLogsPartialSuccess {
                    rejected_log_records: total,
                    error_message: message(),
                }),
            }),
        }
    }

    pub fn protobuf(&self) -> Bytes {
        Bytes::from(match self {
            ExportResponse::Traces(r) => r.encode_to_vec(),
            ExportResponse::Logs(r) => r.encode_to_vec(),
        })
    }

    pub fn json(&self) -> Bytes {
        let encoded = match self {
            ExportResponse::Traces(r) => serde_json::to_vec(r),
            ExportResponse::Logs(r) => serde_json::to_vec(r),
        };
        Bytes::from(encoded.expect("a response of strings and integers always serializes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::queue::Queue;
    use crate::traces::otlp::Rejection;

    /// An exporter over a queue of `capacity` events that nothing drains unless a test does.
    fn exporter(capacity: usize) -> (Arc<Exporter>, Arc<Queue>) {
        let queue = Arc::new(Queue::new(capacity));
        let sink = EventSink::to_queue(queue.clone());
        let metrics = OtlpMetrics::new("test".into(), "otlp".into());
        (
            Exporter::new(sink, metrics, Duration::from_millis(50)),
            queue,
        )
    }

    /// Two spans, one of them with a zero trace id.
    fn body() -> Bytes {
        let span = |trace_id: u128| wire::Span {
            trace_id: Bytes::copy_from_slice(&trace_id.to_be_bytes()),
            span_id: Bytes::copy_from_slice(&1u64.to_be_bytes()),
            ..Default::default()
        };
        let request = wire::ExportTraceServiceRequest {
            resource_spans: vec![wire::ResourceSpans {
                resource: None,
                scope_spans: vec![wire::ScopeSpans {
                    scope: None,
                    spans: vec![span(7), span(0)],
                }],
            }],
        };
        Bytes::from(request.encode_to_vec())
    }

    async fn export(exporter: &Exporter) -> Answer {
        exporter
            .export(Signal::Traces, Transport::Http, Format::Protobuf, body())
            .await
    }

    /// Takes the queued events as an output would and ends them with `outcome`.
    fn output(queue: Arc<Queue>, outcome: Delivery) -> tokio::task::JoinHandle<()> {
        tokio::task::spawn_blocking(move || {
            for mut event in queue.pop_batch(10, Duration::ZERO).unwrap() {
                assert!(event.span().is_some(), "spans travel typed");
                event.finalize(outcome);
            }
        })
    }

    #[tokio::test]
    async fn accepted_once_delivered_with_the_refused_counted() {
        let (exporter, queue) = exporter(10);
        let output = output(queue, Delivery::Delivered);
        let Answer::Accepted(rejected) = export(&exporter).await else {
            panic!("not accepted");
        };
        assert_eq!(
            rejected.iter().collect::<Vec<_>>(),
            [(Rejection::TraceIdZero, 1)]
        );
        output.await.unwrap();
    }

    #[tokio::test]
    async fn a_failed_output_asks_the_sender_to_retry() {
        let (exporter, queue) = exporter(10);
        let output = output(queue, Delivery::Failed);
        assert_eq!(export(&exporter).await, Answer::Busy(Busy::OutputsFailed));
        output.await.unwrap();
    }

    #[tokio::test]
    async fn a_queue_full_past_the_wait_is_saturation_and_closed_is_shutdown() {
        let (exporter, queue) = exporter(1);
        queue
            .push(vec![Event::from_message("filler".into())])
            .await
            .unwrap();
        assert_eq!(export(&exporter).await, Answer::Busy(Busy::QueueFull));
        queue.close();
        assert_eq!(export(&exporter).await, Answer::Busy(Busy::ShuttingDown));
    }

    #[tokio::test]
    async fn undecodable_bodies_are_invalid_in_both_formats() {
        let (exporter, _queue) = exporter(1);
        for (format, body) in [
            (Format::Protobuf, &b"\x0a\x05\x01"[..]),
            (Format::Json, &b"{\"resourceSpans\":"[..]),
        ] {
            let answer = exporter
                .export(
                    Signal::Logs,
                    Transport::Grpc,
                    format,
                    Bytes::from_static(body),
                )
                .await;
            assert!(matches!(answer, Answer::Invalid(_)), "{answer:?}");
        }
    }
}
