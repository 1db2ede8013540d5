//! One port of the input: accepts TCP connections, runs the TLS handshake when enabled (the
//! beats input's rustls setup), and serves a router over HTTP/1.1 or HTTP/2, whichever the
//! client speaks (gRPC needs 2, OTLP/HTTP senders mostly use 1.1).
//!
//! On shutdown it stops accepting, lets every request in flight finish (their answers wait
//! for receipts, which the draining pipeline resolves) and returns once all connections
//! have closed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::inputs::beats::tls;

/// The TLS acceptor and its handshake timeout, shared by both ports.
pub type Tls = Option<(TlsAcceptor, Duration)>;

pub async fn serve(
    name: &'static str,
    listener: TcpListener,
    router: Router,
    tls: Tls,
    shutdown: CancellationToken,
) {
    let builder = Arc::new(Builder::new(TokioExecutor::new()));
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let connection = connection(name, stream, peer, router.clone(), tls.clone(), builder.clone(), graceful.watcher());
                    tokio::spawn(connection);
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off rather than spin.
                    tracing::warn!(error = %e, "otlp {name}: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    drop(listener);
    graceful.shutdown().await;
}

async fn connection(
    name: &'static str,
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    tls: Tls,
    builder: Arc<Builder<TokioExecutor>>,
    watcher: hyper_util::server::graceful::Watcher,
) {
    let service = TowerToHyperService::new(router);
    let served = match tls {
        None => {
            watcher
                .watch(
                    builder
                        .serve_connection(TokioIo::new(stream), service)
                        .into_owned(),
                )
                .await
        }
        Some((acceptor, limit)) => match tls::handshake(&acceptor, stream, limit).await {
            Ok(Some(stream)) => {
                watcher
                    .watch(
                        builder
                            .serve_connection(TokioIo::new(stream), service)
                            .into_owned(),
                    )
                    .await
            }
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(%peer, kind = e.kind(), reason = %e, "otlp {name}: TLS handshake failed");
                return;
            }
        },
    };
    if let Err(e) = served {
        tracing::debug!(%peer, error = %e, "otlp {name}: connection ended with an error");
    }
}
