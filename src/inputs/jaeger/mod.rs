//! The `jaeger` input: Sluice as the Jaeger agent and collector that Jaeger clients already
//! point at.
//!
//! - [`agent`]: UDP 6831 (Thrift compact) and 6832 (Thrift binary) `emitBatch` datagrams, best
//!   effort, every drop counted;
//! - [`collector`]: HTTP 14268 `POST /api/traces`, answered only once the spans are delivered;
//! - [`grpc`]: gRPC 14250 `CollectorService/PostSpans`, likewise, with [`proto`]'s messages;
//! - [`sampling`]: HTTP 5778, sampling strategies for clients;
//! - [`spans`]: decoded batches to events (what is refused or repaired);
//! - [`http`]: the small HTTP server the two HTTP endpoints share; [`tls_incoming`]: TLS
//!   connections for the gRPC server;
//! - [`config`], [`metrics`].
//!
//! The Thrift decoding itself lives in [`crate::traces::thrift`].

pub mod agent;
pub mod collector;
pub mod config;
pub mod grpc;
pub mod http;
pub mod metrics;
pub mod proto;
pub mod sampling;
pub mod spans;
pub mod tls_incoming;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinSet;

use self::agent::Agent;
use self::collector::Collector;
use self::config::JaegerSettings;
use self::metrics::{Endpoint, EndpointMetrics};
use self::sampling::{SamplingEndpoint, Strategies};
use super::{BoxFuture, Input, InputContext, PluginError};
use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::inputs::beats::tls;

pub struct Jaeger {
    settings: JaegerSettings,
    strategies: Strategies,
}

pub fn build(settings: &Settings) -> Result<Box<dyn Input>, ConfigError> {
    let jaeger = config::from_settings(settings)?;
    // Read now, so a bad file stops the configuration check rather than the running input.
    let strategies = match &jaeger.sampling_strategies_file {
        Some(path) => {
            Strategies::from_file(path, jaeger.default_sampling_probability).map_err(|e| {
                let setting = settings.raw("sampling_strategies_file").expect("given");
                settings.invalid(setting, e)
            })?
        }
        None => Strategies::probabilistic(jaeger.default_sampling_probability),
    };
    // Spans are not text: a codec has nothing to decode.
    settings.string("codec")?;
    Ok(Box::new(Jaeger {
        settings: jaeger,
        strategies,
    }))
}

/// Binds the TCP port of `endpoint` unless it is turned off, and logs where it listens.
async fn listen(
    ctx: &InputContext,
    endpoint: &str,
    address: Option<SocketAddr>,
) -> Result<Option<TcpListener>, PluginError> {
    let Some(address) = address else {
        return Ok(None);
    };
    let listener = TcpListener::bind(address)
        .await
        .map_err(|e| format!("jaeger {endpoint}: cannot listen on {address}: {e}"))?;
    listening(ctx, endpoint, listener.local_addr().ok());
    Ok(Some(listener))
}

fn listening(ctx: &InputContext, endpoint: &str, address: Option<SocketAddr>) {
    if let Some(address) = address {
        tracing::info!(pipeline = %ctx.pipeline, plugin = %ctx.id, endpoint, %address, "jaeger input listening");
    }
}

impl Input for Jaeger {
    fn run(self: Box<Self>, mut ctx: InputContext) -> BoxFuture<Result<(), PluginError>> {
        Box::pin(async move {
            let s = self.settings;
            let shutdown = ctx.shutdown().clone();
            let metrics = |endpoint| EndpointMetrics::new(&ctx.pipeline, &ctx.id, endpoint);
            let mut tasks = JoinSet::new();
            // Bind everything before serving anything: a port in use fails the whole input.
            let mut agents = Vec::new();
            for (address, endpoint, name) in [
                (s.thrift_compact, Endpoint::AgentCompact, "thrift_compact"),
                (s.thrift_binary, Endpoint::AgentBinary, "thrift_binary"),
            ] {
                let Some(address) = address else { continue };
                let agent = Agent::bind(
                    address,
                    metrics(endpoint),
                    s.max_packet_size,
                    s.udp_queue_size,
                )
                .await
                .map_err(|e| format!("jaeger {name}: cannot bind UDP {address}: {e}"))?;
                listening(&ctx, name, agent.socket.local_addr().ok());
                agents.push(agent);
            }
            let acceptor = match &s.tls {
                Some(t) => Some((tls::acceptor(t)?, t.handshake_timeout)),
                None => None,
            };
            let collector = listen(&ctx, "thrift_http", s.thrift_http).await?;
            let grpc = listen(&ctx, "grpc", s.grpc).await?;
            let sampling = listen(&ctx, "sampling", s.sampling).await?;

            for agent in agents {
                tasks.spawn(agent.run(ctx.sink(), shutdown.clone()));
            }
            if let Some(listener) = collector {
                let handler = Arc::new(Collector {
                    sink: ctx.sink(),
                    metrics: metrics(Endpoint::CollectorHttp),
                    max_request_bytes: s.max_request_bytes,
                    max_queue_wait: s.max_queue_wait,
                });
                tasks.spawn(http::serve(
                    listener,
                    acceptor.clone(),
                    handler,
                    shutdown.clone(),
                ));
            }
            if let Some(listener) = grpc {
                let service = grpc::CollectorService::new(
                    ctx.sink(),
                    metrics(Endpoint::CollectorGrpc),
                    s.max_queue_wait,
                    s.max_request_bytes,
                );
                tasks.spawn(grpc::serve(listener, acceptor, service, shutdown.clone()));
            }
            if let Some(listener) = sampling {
                let handler = Arc::new(SamplingEndpoint {
                    strategies: self.strategies,
                    pipeline: ctx.pipeline.clone(),
                    plugin: ctx.id.clone(),
                });
                tasks.spawn(http::serve(listener, None, handler, shutdown.clone()));
            }
            ctx.mark_ready();
            while tasks.join_next().await.is_some() {}
            Ok(())
        })
    }
}
