//! The `otlp` input: OpenTelemetry senders (SDKs, collectors, telemetrygen) exporting traces
//! and logs over OTLP/gRPC (port 4317) and OTLP/HTTP (port 4318, protobuf or JSON).
//!
//! Spans become span events (Jaeger's model, see [`crate::traces::otlp`]); log records become
//! log events like a Beats event's ([`logs`]). A request is answered success only once every
//! item is in every output; see `export` for what a sender is told otherwise.
//!
//! - [`config`]: the settings.
//! - `export`: one request, transport aside: decode, queue, receipt, answer.
//! - `grpc`, `http`: the two transports' routes and answers; `rpc`: `google.rpc.Status`.
//! - `listener`: a port, with TLS, HTTP/1.1 and HTTP/2, and graceful shutdown.
//! - [`logs`]: log records to events.
//! - `metrics`: the series.
//! - [`plugin`]: the input as a pipeline plugin.

pub mod config;
mod export;
mod grpc;
mod http;
mod listener;
pub mod logs;
mod metrics;
pub mod plugin;
pub(crate) mod rpc;
