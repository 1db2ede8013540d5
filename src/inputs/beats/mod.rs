//! The `beats` input: Filebeat and other Beats (and Logstash's lumberjack output, pylogbeat)
//! speaking Lumberjack v1/v2 over TCP, optionally TLS.
//!
//! - [`config`]: `input { beats { … } }` settings, with Logstash's names.
//! - [`frame`]: bytes to windows (zero-copy, bounded).
//! - [`event`]: a window's payloads to events, shaped as logstash-input-beats shapes them.
//! - [`connection`]: one client: reading ahead within bounds, ACKs in order, keep-alives,
//!   timeouts.
//! - [`server`]: the listener, the input-wide byte budget, shutdown.
//! - [`tls`]: rustls configuration from the `ssl_*` settings, and the handshake.
//! - [`metrics`]: the counters.
//! - [`plugin`]: the input as a pipeline plugin.
//! - [`loadgen`]: a Filebeat-like client for load tests.

pub mod config;
pub mod connection;
pub mod event;
pub mod frame;
pub mod loadgen;
pub mod metrics;
pub mod plugin;
pub mod server;
pub mod tls;

use std::future::Future;
use std::pin::Pin;

pub use crate::event::json::JsonError;
pub use server::{BeatsServer, BeatsSettings, StartError};

use crate::event::Event;

/// Where a connection hands its windows: the pipeline's queue.
///
/// `submit` resolves once the events are queued, waiting while the queue is full (that wait is
/// the back-pressure that stops the connection reading), with `false` when the pipeline no
/// longer takes events. Each event already carries the
/// [`Finalizers`](crate::pipeline::receipt::Finalizers) of the receipt the connection holds
/// for its window; the window is acknowledged when that receipt resolves `Delivered`.
pub trait WindowSink: Send + Sync + 'static {
    fn submit(&self, events: Vec<Event>) -> Pin<Box<dyn Future<Output = bool> + Send + '_>>;
}
