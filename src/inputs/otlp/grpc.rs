//! OTLP/gRPC: `opentelemetry.proto.collector.{trace,logs}.v1.{Trace,Logs}Service/Export`.
//!
//! tonic does the gRPC framing, gzip and the size limits; the message itself arrives as raw
//! bytes (a [`RawCodec`]) so that it is decoded into Sluice's own zero-copy messages, and so a
//! message that does not decode is answered `INVALID_ARGUMENT` (tonic's own codec would say
//! `INTERNAL`, which senders retry forever). A busy Sluice answers `UNAVAILABLE` with a
//! `RetryInfo` detail.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use bytes::{Buf, BufMut, Bytes};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tonic::codec::{
    Codec, CompressionEncoding, DecodeBuf, Decoder, EnabledCompressionEncodings, EncodeBuf, Encoder,
};
use tonic::{Code, Status};

use super::export::{Answer, Endpoint, ExportResponse};
use super::metrics::{Format, Signal, Transport};
use super::rpc;

pub const TRACES_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
pub const LOGS_PATH: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

/// The gRPC port's routes.
pub fn router(endpoint: Arc<Endpoint>) -> Router {
    Router::new()
        .route(
            TRACES_PATH,
            post(|state, request| export(state, Signal::Traces, request)),
        )
        .route(
            LOGS_PATH,
            post(|state, request| export(state, Signal::Logs, request)),
        )
        .with_state(endpoint)
}

async fn export(State(state): State<Arc<Endpoint>>, signal: Signal, request: Request) -> Response {
    // The body as sent is bounded here, tonic bounds each message once inflated. A body error
    // that is a `Status` reaches the sender as that status (tonic looks for one).
    let max_request_bytes = state.max_request_bytes;
    let request = request.map(|body| {
        Limited::new(body, max_request_bytes).map_err(move |e| {
            if e.downcast_ref::<LengthLimitError>().is_some() {
                Status::resource_exhausted(format!(
                    "the request is over {max_request_bytes} bytes (max_request_bytes)"
                ))
            } else {
                Status::from_error(e)
            }
        })
    });
    let exporter = state.exporter.clone();
    let service = tower::service_fn(move |request: tonic::Request<Bytes>| {
        let exporter = exporter.clone();
        async move {
            let answer = exporter
                .export(
                    signal,
                    Transport::Grpc,
                    Format::Protobuf,
                    request.into_inner(),
                )
                .await;
            match answer {
                Answer::Accepted(rejected) => Ok(tonic::Response::new(
                    ExportResponse::new(signal, &rejected).protobuf(),
                )),
                Answer::Invalid(reason) => Err(Status::invalid_argument(reason)),
                Answer::Busy(busy) => Err(Status::with_details(
                    Code::Unavailable,
                    busy.message(),
                    rpc::status(Code::Unavailable, busy.message(), Some(busy.retry_after())),
                )),
            }
        }
    });
    let mut accept = EnabledCompressionEncodings::default();
    accept.enable(CompressionEncoding::Gzip);
    let mut grpc = tonic::server::Grpc::new(RawCodec)
        .apply_compression_config(accept, EnabledCompressionEncodings::default())
        .apply_max_message_size_config(Some(state.max_decompressed_bytes), None);
    let response = grpc.unary(service, request).await;
    // Errors are sent trailers-only, their code in the headers; success has it in trailers.
    let code = response
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
        .map_or(Code::Ok, Code::from);
    state
        .exporter
        .metrics()
        .answered(signal, Transport::Grpc, code_name(code));
    response.map(axum::body::Body::new)
}

/// gRPC's canonical name of `code`, for the metric label.
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// Hands a message over as the bytes it is: decoding is the exporter's job. For an
/// uncompressed message the bytes are a slice of tonic's read buffer, not a copy.
#[derive(Clone, Copy)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }

    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}
