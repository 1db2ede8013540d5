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

async fn listen(endpoint: &str, address: SocketAddr) -> Result<TcpListener, PluginError> {
    TcpListener::bind(address)
        .await
        .map_err(|e| format!("jaeger {endpoint}: cannot listen on {address}: {e}").into())
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
            let collector = match s.thrift_http {
                Some(address) => {
                    let listener = listen("thrift_http", address).await?;
                    listening(&ctx, "thrift_http", http::local(&listener));
                    Some(listener)
                }
                None => None,
            };
            let grpc = match s.grpc {
                Some(address) => {
                    let listener = listen("grpc", address).await?;
                    listening(&ctx, "grpc", http::local(&listener));
                    Some(listener)
                }
                None => None,
            };
            let sampling = match s.sampling {
                Some(address) => {
                    let listener = listen("sampling", address).await?;
                    listening(&ctx, "sampling", http::local(&listener));
                    Some(listener)
                }
                None => None,
            };

            for agent in agents {
                tasks.spawn(agent.run(ctx.sink(), shutdown.clone()));
            }
            if let Some(listener) = collector {
                let handler = Arc::new(Collector {
                    sink: ctx.sink(),
                    metrics: metrics(Endpoint::CollectorHttp),
                    max_request_size: s.max_request_size,
                    enqueue_timeout: s.enqueue_timeout,
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
                    s.enqueue_timeout,
                    s.max_request_size,
                );
                let server = tonic::transport::Server::builder().add_service(service);
                let stop = shutdown.clone();
                tasks.spawn(async move {
                    let served = match acceptor {
                        Some((acceptor, limit)) => {
                            let incoming =
                                tls_incoming::incoming(listener, acceptor, limit, stop.clone());
                            server
                                .serve_with_incoming_shutdown(incoming, stop.cancelled_owned())
                                .await
                        }
                        None => {
                            let incoming = tonic::transport::server::TcpIncoming::from(listener);
                            server
                                .serve_with_incoming_shutdown(incoming, stop.cancelled_owned())
                                .await
                        }
                    };
                    if let Err(e) = served {
                        tracing::error!(error = %e, "jaeger grpc: the server stopped");
                    }
                });
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
