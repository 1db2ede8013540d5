//! The listener: accepts connections, gives each its task, and stops on shutdown.
//!
//! Shutdown is a [`CancellationToken`]: once cancelled the listener closes at once, and every
//! connection stops reading at its next window boundary, waits for its pending windows'
//! receipts, ACKs them and closes; [`BeatsServer::run`] returns when the last one has.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::connection::{serve, ConnectionContext, ConnectionSettings};
use super::metrics::BeatsMetrics;
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
}

impl Default for BeatsSettings {
    fn default() -> BeatsSettings {
        BeatsSettings {
            address: SocketAddr::from(([0, 0, 0, 0], 5044)),
            connection: ConnectionSettings::default(),
            max_pending_bytes: 512 << 20,
        }
    }
}

/// A bound `beats` input, ready to [`run`](BeatsServer::run).
pub struct BeatsServer {
    listener: TcpListener,
    ctx: Arc<ConnectionContext>,
}

impl BeatsServer {
    pub async fn bind(
        settings: BeatsSettings,
        sink: Arc<dyn WindowSink>,
    ) -> io::Result<BeatsServer> {
        let listener = TcpListener::bind(settings.address).await?;
        let budget_bytes = settings.max_pending_bytes.clamp(1, Semaphore::MAX_PERMITS);
        Ok(BeatsServer {
            listener,
            ctx: Arc::new(ConnectionContext {
                settings: settings.connection,
                sink,
                metrics: Arc::new(BeatsMetrics::default()),
                budget: Arc::new(Semaphore::new(budget_bytes)),
                budget_bytes,
            }),
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
                        connections.spawn(serve(stream, peer, self.ctx.clone(), shutdown.clone()));
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
