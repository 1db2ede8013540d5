//! OTLP/HTTP: `POST /v1/traces` and `POST /v1/logs`, protobuf or JSON, plain or gzip.
//!
//! Answers as the OTLP specification asks: 200 with the export response (a partial success
//! when items were refused) in the request's format; 400 with a `google.rpc.Status` for a body
//! that does not decode; 413 when the body or its inflated form is over its cap; 415 for a
//! content type or encoding OTLP does not have; 429 (queue full) or 503 (outputs failed,
//! shutting down) with `Retry-After` when the sender must back off.

use std::io::Read;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::export::{Answer, Busy, Endpoint, ExportResponse};
use super::metrics::{Format, Signal, Transport};
use super::rpc;

/// The HTTP port's routes.
pub fn router(endpoint: Arc<Endpoint>) -> Router {
    Router::new()
        .route(
            "/v1/traces",
            post(|state, request| export(state, Signal::Traces, request)),
        )
        .route(
            "/v1/logs",
            post(|state, request| export(state, Signal::Logs, request)),
        )
        .with_state(endpoint)
}

/// Why a request is refused before it is decoded.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
        }
    }
}

async fn export(State(state): State<Arc<Endpoint>>, signal: Signal, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let response = match format_of(&parts.headers) {
        Err(refusal) => error(refusal.status, Format::Json, &refusal.message, None),
        Ok(format) => match read(&state, &parts.headers, body).await {
            Err(refusal) => error(refusal.status, format, &refusal.message, None),
            Ok(body) => answer(
                signal,
                format,
                state
                    .exporter
                    .export(signal, Transport::Http, format, body)
                    .await,
            ),
        },
    };
    state
        .exporter
        .metrics()
        .answered(signal, Transport::Http, response.status().as_str());
    response
}

fn answer(signal: Signal, format: Format, answer: Answer) -> Response {
    match answer {
        Answer::Accepted(rejected) => {
            let answer = ExportResponse::new(signal, &rejected);
            let body = match format {
                Format::Protobuf => answer.protobuf(),
                Format::Json => answer.json(),
            };
            respond(StatusCode::OK, format, body)
        }
        Answer::Invalid(reason) => error(StatusCode::BAD_REQUEST, format, &reason, None),
        Answer::Busy(busy) => {
            let status = match busy {
                Busy::QueueFull => StatusCode::TOO_MANY_REQUESTS,
                Busy::OutputsFailed | Busy::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            };
            error(status, format, busy.message(), Some(busy))
        }
    }
}

/// The format `Content-Type` names.
fn format_of(headers: &HeaderMap) -> Result<Format, Refusal> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match content_type.split(';').next().unwrap_or("").trim() {
        "application/x-protobuf" => Ok(Format::Protobuf),
        "application/json" => Ok(Format::Json),
        other => Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("content type `{other}` is not OTLP: send application/x-protobuf or application/json"),
        )),
    }
}

/// The body, bounded, and inflated when gzip.
async fn read(state: &Endpoint, headers: &HeaderMap, body: Body) -> Result<Bytes, Refusal> {
    let gzip = match headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
    {
        None | Some("") | Some("identity") => false,
        Some(e) if e.eq_ignore_ascii_case("gzip") => true,
        Some(other) => {
            return Err(Refusal::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("content encoding `{other}` is not supported: send gzip or none"),
            ))
        }
    };
    let body = match Limited::new(body, state.max_request_bytes).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return Err(Refusal::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the body is over {} bytes (max_request_bytes)",
                    state.max_request_bytes
                ),
            ))
        }
        Err(e) => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("reading the body failed: {e}"),
            ))
        }
    };
    if !gzip {
        return Ok(body);
    }
    inflate(&body, state.max_decompressed_bytes)
}

/// Inflates a gzip body, stopping one byte past `limit` so a bomb costs no more than that.
fn inflate(body: &[u8], limit: usize) -> Result<Bytes, Refusal> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(body)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, format!("invalid gzip body: {e}")))?;
    if out.len() > limit {
        return Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body inflates to over {limit} bytes (max_decompressed_bytes)"),
        ));
    }
    Ok(Bytes::from(out))
}

fn respond(status: StatusCode, format: Format, body: Bytes) -> Response {
    let content_type = match format {
        Format::Protobuf => "application/x-protobuf",
        Format::Json => "application/json",
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// An error answer: a `google.rpc.Status` in the request's format, `Retry-After` when busy.
fn error(status: StatusCode, format: Format, message: &str, busy: Option<Busy>) -> Response {
    let code = match status {
        StatusCode::BAD_REQUEST => tonic::Code::InvalidArgument,
        StatusCode::PAYLOAD_TOO_LARGE => tonic::Code::ResourceExhausted,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => tonic::Code::InvalidArgument,
        _ => tonic::Code::Unavailable,
    };
    let retry_after = busy.map(Busy::retry_after);
    let body = match format {
        Format::Protobuf => rpc::status(code, message, retry_after),
        Format::Json => rpc::status_json(code, message),
    };
    let mut response = respond(status, format, body);
    if let Some(after) = retry_after {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(after.as_secs().max(1)),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn inflation_stops_at_the_limit() {
        let bomb = gzip(&vec![0u8; 10 << 20]);
        assert!(bomb.len() < 20_000);
        let refusal = inflate(&bomb, 1 << 20).unwrap_err();
        assert_eq!(refusal.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            inflate(&gzip(b"abc"), 3).unwrap(),
            Bytes::from_static(b"abc")
        );
    }

    #[test]
    fn corrupt_and_truncated_gzip_are_bad_requests() {
        let whole = gzip(b"hello world");
        for body in [&b"not gzip"[..], &whole[..whole.len() / 2]] {
            assert_eq!(
                inflate(body, 1 << 20).unwrap_err().status,
                StatusCode::BAD_REQUEST
            );
        }
    }
}
