//! `input { otlp { … } }` as a pipeline plugin: binds both ports when the pipeline starts and
//! serves them until shutdown.

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::config::OtlpSettings;
use super::export::{Endpoint, Exporter};
use super::listener::{self, Tls};
use super::metrics::OtlpMetrics;
use super::{grpc, http};
use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::inputs::beats::tls;
use crate::inputs::{BoxFuture, Input, InputContext, PluginError};

pub struct Otlp {
    settings: OtlpSettings,
}

pub fn build(settings: &Settings) -> Result<Box<dyn Input>, ConfigError> {
    let otlp = OtlpSettings::from_settings(settings)?;
    // Requests are protobuf or JSON by their content type; there is no codec to choose.
    settings.string("codec")?;
    Ok(Box::new(Otlp { settings: otlp }))
}

impl Input for Otlp {
    fn run(self: Box<Self>, mut ctx: InputContext) -> BoxFuture<Result<(), PluginError>> {
        Box::pin(async move {
            let s = self.settings;
            let tls: Tls = match &s.tls {
                Some(t) => {
                    let mut config = tls::server_config(t)?;
                    // gRPC clients insist on negotiating HTTP/2; HTTP clients may use either.
                    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
                    Some((TlsAcceptor::from(Arc::new(config)), t.handshake_timeout))
                }
                None => None,
            };
            let bind = |address| async move {
                TcpListener::bind(address)
                    .await
                    .map_err(|e| format!("otlp: cannot listen on {address}: {e}"))
            };
            let grpc_listener = bind(s.grpc_address).await?;
            let http_listener = bind(s.http_address).await?;
            let metrics = OtlpMetrics::new(ctx.pipeline.clone(), ctx.id.clone());
            let endpoint = Arc::new(Endpoint {
                exporter: Exporter::new(ctx.sink(), metrics, s.max_queue_wait),
                max_request_bytes: s.max_request_bytes,
                max_decompressed_bytes: s.max_decompressed_bytes,
            });
            tracing::info!(
                pipeline = %ctx.pipeline,
                plugin = %ctx.id,
                grpc = %grpc_listener.local_addr()?,
                http = %http_listener.local_addr()?,
                tls = tls.is_some(),
                "otlp input listening"
            );
            ctx.mark_ready();
            let shutdown = ctx.shutdown().clone();
            tokio::join!(
                listener::serve(
                    "grpc",
                    grpc_listener,
                    grpc::router(Arc::clone(&endpoint)),
                    tls.clone(),
                    shutdown.clone(),
                ),
                listener::serve("http", http_listener, http::router(endpoint), tls, shutdown,),
            );
            Ok(())
        })
    }
}
