//! The listener: accepts connections, gives each its task, and stops on shutdown.
//!
//! Shutdown is a [`CancellationToken`]: once cancelled the listener closes at once, and every
//! connection stops reading at its next window boundary, waits for its pending windows'
//! receipts, ACKs them and closes; [`BeatsServer::run`] returns when the last one has.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::connection::{serve, ConnectionContext, ConnectionSettings};
use super::metrics::BeatsMetrics;
use super::tls::{self, TlsConfigError, TlsSettings};
use super::WindowSink;

/// The input's settings (Logstash's names where Logstash has the setting).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BeatsSettings {
    /// `host` and `port` (default `0.0.0.0:5044`).
    pub address: SocketAddr,
    pub connection: ConnectionSettings,
    /// Inflated bytes that pending windows of all connections may hold together; a connection
    /// whose next window does not fit stops reading until others are acknowledged.
    pub max_pending_bytes: usize,
    /// `ssl_enabled => true` and the other `ssl_*` settings.
    pub tls: Option<TlsSettings>,
}

/// Why the input could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: SocketAddr,
        source: io::Error,
    },
    #[error(transparent)]
    Tls(#[from] TlsConfigError),
}

impl Default for BeatsSettings {
    fn default() -> BeatsSettings {
        BeatsSettings {
            address: SocketAddr::from(([0, 0, 0, 0], 5044)),
            connection: ConnectionSettings::default(),
            max_pending_bytes: 512 << 20,
            tls: None,
        }
    }
}

/// A bound `beats` input, ready to [`run`](BeatsServer::run).
pub struct BeatsServer {
    listener: TcpListener,
    ctx: Arc<ConnectionContext>,
    tls: Option<(tokio_rustls::TlsAcceptor, Duration)>,
}

impl BeatsServer {
    /// Reads the TLS files and binds the port; counters are kept but not exported.
    pub async fn bind(
        settings: BeatsSettings,
        sink: Arc<dyn WindowSink>,
    ) -> Result<BeatsServer, StartError> {
        BeatsServer::bind_with_metrics(settings, sink, BeatsMetrics::default()).await
    }

    /// Reads the TLS files and binds the port, counting into `metrics`.
    pub async fn bind_with_metrics(
        settings: BeatsSettings,
        sink: Arc<dyn WindowSink>,
        metrics: BeatsMetrics,
    ) -> Result<BeatsServer, StartError> {
        let acceptor = match &settings.tls {
            Some(t) => Some((tls::acceptor(t)?, t.handshake_timeout)),
            None => None,
        };
        let listener = TcpListener::bind(settings.address)
            .await
            .map_err(|source| StartError::Bind {
                address: settings.address,
                source,
            })?;
        let budget_bytes = settings.max_pending_bytes.clamp(1, Semaphore::MAX_PERMITS);
        Ok(BeatsServer {
            listener,
            ctx: Arc::new(ConnectionContext {
                settings: settings.connection,
                sink,
                metrics: Arc::new(metrics),
                budget: Arc::new(Semaphore::new(budget_bytes)),
                budget_bytes,
            }),
            tls: acceptor,
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn metrics(&self) -> Arc<BeatsMetrics> {
        self.ctx.metrics.clone()
    }

    /// Accepts until `shutdown` is cancelled, then waits for every connection to finish.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        // ACKs are six bytes; Nagle would hold them back.
                        let _ = stream.set_nodelay(true);
                        connections.spawn(accept(stream, peer, self.ctx.clone(), self.tls.clone(), shutdown.clone()));
                    }
                    Err(e) => {
                        // Out of file descriptors and the like: back off rather than spin.
                        tracing::warn!(error = %e, "beats: accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
            }
        }
        drop(self.listener);
        while connections.join_next().await.is_some() {}
    }
}

/// Runs the TLS handshake when enabled, then serves the connection.
async fn accept(
    stream: TcpStream,
    peer: SocketAddr,
    ctx: Arc<ConnectionContext>,
    tls: Option<(tokio_rustls::TlsAcceptor, Duration)>,
    shutdown: CancellationToken,
) {
    let Some((acceptor, limit)) = tls else {
        return serve(stream, peer, None, ctx, shutdown).await;
    };
    match tls::handshake(&acceptor, stream, limit).await {
        Ok(Some(stream)) => {
            let tls_peer = ctx
                .settings
                .events
                .ssl_peer_metadata
                .then(|| tls::TlsPeer::of(stream.get_ref().1));
            serve(stream, peer, tls_peer, ctx, shutdown).await
        }
        Ok(None) => tracing::debug!(%peer, "beats: client closed before the TLS handshake"),
        Err(e) => {
            ctx.metrics.error(e.kind());
            tracing::warn!(%peer, kind = e.kind(), reason = %e, "beats: TLS handshake failed");
        }
    }
}
