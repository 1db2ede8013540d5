//! The collector's HTTP endpoint: `POST /api/traces` with a bare Thrift-binary `Batch`, as
//! jaeger-client-java, the OpenTelemetry Jaeger Thrift exporter and others send.
//!
//! Answers as Jaeger's collector does (`202 Accepted`; `400` for a wrong content type or a
//! body that is not a batch), but only once the batch's receipt has resolved: a 202 means
//! every output has durably taken the spans. When the pipeline has no room for the batch
//! within `max_queue_wait_ms`, or an output failed it, the answer is `503` with `Retry-After`
//! so the client sends again later.

use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{header, Method, Request, StatusCode};

use super::http::{reply, Handler, Reply};
use super::metrics::EndpointMetrics;
use super::spans::to_events;
use crate::inputs::EventSink;
use crate::pipeline::receipt::Delivery;
use crate::traces::thrift::decode_binary_batch;

/// The content types Jaeger's collector accepts for a Thrift batch.
const CONTENT_TYPES: [&str; 2] = [
    "application/x-thrift",
    "application/vnd.apache.thrift.binary",
];

/// Seconds a client is asked to wait before sending again after a 503.
const RETRY_AFTER_SECONDS: &str = "5";

pub struct Collector {
    pub sink: EventSink,
    pub metrics: EndpointMetrics,
    pub max_request_bytes: usize,
    pub max_queue_wait: Duration,
}

impl Handler for Collector {
    async fn handle(&self, request: Request<Incoming>) -> Reply {
        if request.uri().path() != "/api/traces" {
            return reply(StatusCode::NOT_FOUND, "text/plain", "not found\n");
        }
        if request.method() != Method::POST {
            return reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "use POST\n");
        }
        match self.accept(request).await {
            Ok(()) => reply(StatusCode::ACCEPTED, "text/plain", ""),
            Err((status, reason, message)) => {
                self.metrics.batch_rejected(reason);
                let mut response = reply(status, "text/plain", message);
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    response.headers_mut().insert(
                        header::RETRY_AFTER,
                        header::HeaderValue::from_static(RETRY_AFTER_SECONDS),
                    );
                }
                response
            }
        }
    }
}

type Refusal = (StatusCode, &'static str, String);

impl Collector {
    async fn accept(&self, request: Request<Incoming>) -> Result<(), Refusal> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::trim)
            .unwrap_or("");
        if !CONTENT_TYPES
            .iter()
            .any(|t| t.eq_ignore_ascii_case(content_type))
        {
            return Err((
                StatusCode::BAD_REQUEST,
                "content_type",
                format!("unsupported content type {content_type:?}; send application/x-thrift\n"),
            ));
        }
        let too_large = || {
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_big",
                format!("the body is over {} bytes\n", self.max_request_bytes),
            )
        };
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_request_bytes as u64) {
            return Err(too_large());
        }
        let body = match Limited::new(request.into_body(), self.max_request_bytes)
            .collect()
            .await
        {
            Ok(body) => body.to_bytes(),
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                return Err(too_large())
            }
            Err(e) => {
                return Err((
                    StatusCode::BAD_REQUEST,
                    "read_error",
                    format!("cannot read the body: {e}\n"),
                ))
            }
        };
        let decoded = decode_binary_batch(body).map_err(|e| {
            (
                StatusCode::BAD_REQUEST,
                e.kind(),
                format!("not a Thrift Batch: {e}\n"),
            )
        })?;
        let events = to_events(decoded, &self.metrics);
        if events.is_empty() {
            return Ok(());
        }
        let receipt = match tokio::time::timeout(self.max_queue_wait, self.sink.send(events)).await
        {
            Ok(Ok(receipt)) => receipt,
            Ok(Err(_)) => return Err(unavailable("shutdown", "shutting down")),
            Err(_) => return Err(unavailable("saturated", "the pipeline is full")),
        };
        match receipt.await {
            Delivery::Delivered => Ok(()),
            Delivery::Failed => Err(unavailable(
                "output_failed",
                "an output could not take the spans",
            )),
        }
    }
}

fn unavailable(reason: &'static str, message: &str) -> Refusal {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        reason,
        format!("{message}; retry later\n"),
    )
}
