//! A small HTTP/1.1 server for the collector and sampling endpoints: accepts connections
//! (with TLS when configured), serves each with hyper, and on shutdown stops accepting and
//! lets requests in flight finish (a collector request waits for its receipt).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::inputs::beats::tls;

pub type Reply = Response<Full<Bytes>>;

/// Answers one request.
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, request: Request<Incoming>) -> impl Future<Output = Reply> + Send;
}

/// A reply with a plain-text (or JSON) body.
pub fn reply(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    response
}

/// Serves `handler` on `listener` until `shutdown`, then waits for open connections to finish
/// their requests.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    tls: Option<(TlsAcceptor, Duration)>,
    handler: Arc<H>,
    shutdown: CancellationToken,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let handler = handler.clone();
                    let shutdown = shutdown.clone();
                    let tls = tls.clone();
                    connections.spawn(async move {
                        match tls {
                            None => connection(stream, handler, shutdown).await,
                            Some((acceptor, limit)) => match tls::handshake(&acceptor, stream, limit).await {
                                Ok(Some(stream)) => connection(stream, handler, shutdown).await,
                                Ok(None) => {}
                                Err(e) => tracing::warn!(%peer, reason = %e, "jaeger: TLS handshake failed"),
                            },
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "jaeger: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

async fn connection<S, H>(stream: S, handler: Arc<H>, shutdown: CancellationToken)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    H: Handler,
{
    let service = service_fn(move |request| {
        let handler = handler.clone();
        async move { Ok::<_, std::convert::Infallible>(handler.handle(request).await) }
    });
    let conn = http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30))
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "jaeger: HTTP connection ended with an error");
            }
        }
        _ = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// The local address, for the "listening" log line.
pub fn local(listener: &TcpListener) -> Option<SocketAddr> {
    listener.local_addr().ok()
}
