//! The HTTP API (Logstash's port, 9600 by default): `/metrics` in the Prometheus text format,
//! `/health` (JSON per pipeline), `/ready` (200 once every pipeline's inputs listen, 503
//! before and while shutting down) and `/live` (200 while the process serves requests).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

/// What the API reports about the running pipelines.
#[derive(Clone, Default)]
pub struct Health {
    pipelines: Arc<Vec<(Arc<str>, Arc<AtomicBool>)>>,
    stopping: Arc<AtomicBool>,
}

impl Health {
    pub fn new(pipelines: Vec<(Arc<str>, Arc<AtomicBool>)>) -> Health {
        Health {
            pipelines: Arc::new(pipelines),
            stopping: Arc::new(AtomicBool::new(false)),
        }
    }

    /// From now on `/ready` answers 503 so load balancers stop sending.
    pub fn set_stopping(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }

    fn ready(&self) -> bool {
        !self.stopping.load(Ordering::Relaxed)
            && self
                .pipelines
                .iter()
                .all(|(_, r)| r.load(Ordering::Relaxed))
    }
}

/// Binds the first free port of `ports` on `host` (Logstash tries 9600–9700 the same way).
pub async fn bind(
    host: &str,
    ports: std::ops::RangeInclusive<u16>,
) -> std::io::Result<TcpListener> {
    let mut last_error = None;
    for port in ports {
        match TcpListener::bind((host, port)).await {
            Ok(listener) => return Ok(listener),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("empty port range")))
}

/// Serves the API on `listener` until the process ends.
pub async fn serve(listener: TcpListener, health: Health) -> std::io::Result<()> {
    let ready_health = health.clone();
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/live", get(|| async { "live\n" }))
        .route(
            "/ready",
            get(move || {
                let health = ready_health.clone();
                async move {
                    if health.ready() {
                        (StatusCode::OK, "ready\n")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
                    }
                }
            }),
        )
        .route(
            "/health",
            get(move || {
                let health = health.clone();
                async move { health_report(&health) }
            }),
        );
    axum::serve(listener, app).await
}

async fn metrics() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::observe::metrics::registry().render(),
    )
}

fn health_report(health: &Health) -> impl IntoResponse {
    let mut body = Vec::new();
    body.extend_from_slice(br#"{"status":""#);
    body.extend_from_slice(if health.ready() { b"green" } else { b"yellow" });
    body.extend_from_slice(br#"","pipelines":{"#);
    for (i, (id, ready)) in health.pipelines.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        crate::event::json::encode_str(id, &mut body);
        body.extend_from_slice(br#":{"ready":"#);
        body.extend_from_slice(if ready.load(Ordering::Relaxed) {
            b"true"
        } else {
            b"false"
        });
        body.push(b'}');
    }
    body.extend_from_slice(b"}}\n");
    ([(header::CONTENT_TYPE, "application/json")], body)
}

/// The address a listener ended up on, for the start-up log line.
pub fn local_addr(listener: &TcpListener) -> Option<SocketAddr> {
    listener.local_addr().ok()
}
