//! The collector's gRPC endpoint: `jaeger.api_v2.CollectorService/PostSpans` (port 14250), as
//! the Jaeger agent, `opentelemetry-exporter-jaeger-proto-grpc` and the OTel collector's
//! Jaeger exporter send.
//!
//! The service is written out by hand (what `tonic-build` would generate for one unary
//! method), so no protoc is needed. It answers `OK` only once the batch's receipt has
//! resolved; `UNAVAILABLE` when the pipeline has no room within `max_queue_wait_ms` or an output
//! failed the batch (clients retry); `INVALID_ARGUMENT` for a batch that cannot be read;
//! messages over `max_request_bytes` are refused by tonic with `OUT_OF_RANGE`.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tonic::codegen::{http, BoxFuture, Service, StdError};
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic::{Request, Response, Status};

use super::metrics::EndpointMetrics;
use super::proto::{spans, PostSpansRequest, PostSpansResponse};
use super::spans::to_events;
use super::tls_incoming;
use crate::inputs::otlp::rpc;
use crate::inputs::EventSink;
use crate::pipeline::receipt::Delivery;
use crate::traces::thrift::Decoded;

pub const POST_SPANS: &str = "/jaeger.api_v2.CollectorService/PostSpans";

struct Collector {
    sink: EventSink,
    metrics: EndpointMetrics,
    max_queue_wait: Duration,
}

impl Collector {
    async fn post_spans(&self, request: PostSpansRequest) -> Result<PostSpansResponse, Status> {
        let refuse = |reason: &str, status: Status| {
            self.metrics.batch_rejected(reason);
            status
        };
        let spans = spans(request)
            .map_err(|e| refuse(e.kind(), Status::invalid_argument(e.to_string())))?;
        let events = to_events(
            Decoded {
                spans,
                invalid_utf8: 0,
            },
            &self.metrics,
        );
        if events.is_empty() {
            return Ok(PostSpansResponse {});
        }
        let receipt = match tokio::time::timeout(self.max_queue_wait, self.sink.send(events)).await
        {
            Ok(Ok(receipt)) => receipt,
            Ok(Err(_)) => {
                return Err(refuse(
                    "shutdown",
                    unavailable("shutting down", Duration::from_secs(5)),
                ))
            }
            Err(_) => {
                return Err(refuse(
                    "saturated",
                    unavailable("the pipeline is full; retry later", Duration::from_secs(1)),
                ))
            }
        };
        match receipt.await {
            Delivery::Delivered => Ok(PostSpansResponse {}),
            Delivery::Failed => Err(refuse(
                "output_failed",
                unavailable(
                    "an output could not take the spans; retry later",
                    Duration::from_secs(5),
                ),
            )),
        }
    }
}

/// `UNAVAILABLE` with a `RetryInfo` detail, so a client waits `retry_after` before sending
/// again rather than hammering a saturated collector at its own backoff (as OTLP answers).
fn unavailable(message: &str, retry_after: Duration) -> Status {
    Status::with_details(
        tonic::Code::Unavailable,
        message,
        rpc::status(tonic::Code::Unavailable, message, Some(retry_after)),
    )
}

/// The tonic service: routes `PostSpans`, answers `UNIMPLEMENTED` to anything else.
#[derive(Clone)]
pub struct CollectorService {
    collector: Arc<Collector>,
    max_request_bytes: usize,
}

impl CollectorService {
    pub fn new(
        sink: EventSink,
        metrics: EndpointMetrics,
        max_queue_wait: Duration,
        max_request_bytes: usize,
    ) -> CollectorService {
        CollectorService {
            collector: Arc::new(Collector {
                sink,
                metrics,
                max_queue_wait,
            }),
            max_request_bytes,
        }
    }
}

impl NamedService for CollectorService {
    const NAME: &'static str = "jaeger.api_v2.CollectorService";
}

struct PostSpans(Arc<Collector>);

impl UnaryService<PostSpansRequest> for PostSpans {
    type Response = PostSpansResponse;
    type Future = BoxFuture<Response<PostSpansResponse>, Status>;

    fn call(&mut self, request: Request<PostSpansRequest>) -> Self::Future {
        let collector = self.0.clone();
        Box::pin(async move {
            collector
                .post_spans(request.into_inner())
                .await
                .map(Response::new)
        })
    }
}

impl<B> Service<http::Request<B>> for CollectorService
where
    B: tonic::codegen::Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path() != POST_SPANS {
            return Box::pin(async { Ok(Status::unimplemented("").into_http()) });
        }
        let collector = self.collector.clone();
        let max = self.max_request_bytes;
        Box::pin(async move {
            let mut grpc = Grpc::new(tonic_prost::ProstCodec::default())
                .apply_max_message_size_config(Some(max), None);
            Ok(grpc.unary(PostSpans(collector), request).await)
        })
    }
}

/// Serves `service` on `listener` (over TLS when `tls` is given) until `shutdown`, then lets
/// calls in flight finish.
pub async fn serve(
    listener: TcpListener,
    tls: Option<(TlsAcceptor, Duration)>,
    service: CollectorService,
    shutdown: CancellationToken,
) {
    let server = Server::builder().add_service(service);
    let stop = shutdown.clone().cancelled_owned();
    let served = match tls {
        Some((acceptor, limit)) => {
            let incoming = tls_incoming::incoming(listener, acceptor, limit, shutdown);
            server.serve_with_incoming_shutdown(incoming, stop).await
        }
        None => {
            server
                .serve_with_incoming_shutdown(TcpIncoming::from(listener), stop)
                .await
        }
    };
    if let Err(e) = served {
        tracing::error!(error = %e, "jaeger grpc: the server stopped");
    }
}
