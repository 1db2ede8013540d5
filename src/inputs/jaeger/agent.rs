//! The agent's UDP endpoints: one socket per protocol, read by its own task, which never
//! waits for the pipeline.
//!
//! A datagram is decoded as soon as it is read and its events are handed to a bounded
//! channel; a forwarding task queues them into the pipeline. When the channel is full (the
//! pipeline is saturated) the datagram is dropped and counted, so the socket is always read
//! and the kernel's buffer never silently overflows instead. UDP has no answer, so nothing
//! waits for receipts: this endpoint is best effort by nature, and every datagram it drops is
//! counted with why.

use std::io;

use bytes::{Bytes, BytesMut};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::metrics::{Endpoint, EndpointMetrics};
use super::spans::to_events;
use crate::event::Event;
use crate::inputs::EventSink;
use crate::traces::thrift::{decode_binary_emit_batch, decode_compact_emit_batch};

/// Datagrams are read into shared buffers this many maximal datagrams long, so a small one
/// holds only its own bytes' share of an allocation while its spans travel.
const DATAGRAMS_PER_BUFFER: usize = 16;

/// One bound UDP endpoint.
pub struct Agent {
    pub socket: UdpSocket,
    pub metrics: EndpointMetrics,
    pub max_packet_size: usize,
    pub queue_size: usize,
}

impl Agent {
    pub async fn bind(
        address: std::net::SocketAddr,
        metrics: EndpointMetrics,
        max_packet_size: usize,
        queue_size: usize,
    ) -> io::Result<Agent> {
        Ok(Agent {
            socket: UdpSocket::bind(address).await?,
            metrics,
            max_packet_size,
            queue_size,
        })
    }

    /// Reads until `shutdown`, then lets the events already decoded reach the pipeline.
    pub async fn run(self, sink: EventSink, shutdown: CancellationToken) {
        let (tx, rx) = mpsc::channel(self.queue_size);
        let forwarder = tokio::spawn(forward(rx, sink, self.metrics.clone()));
        self.read(tx, shutdown).await;
        let _ = forwarder.await;
    }

    async fn read(&self, tx: mpsc::Sender<Vec<Event>>, shutdown: CancellationToken) {
        let room = self.max_packet_size + 1;
        let mut buf = BytesMut::new();
        loop {
            if buf.capacity() < room {
                buf = BytesMut::with_capacity(room * DATAGRAMS_PER_BUFFER);
            }
            let received = tokio::select! {
                _ = shutdown.cancelled() => return,
                r = self.socket.recv_buf_from(&mut buf) => r,
            };
            let len = match received {
                Ok((len, _)) => len,
                Err(e) => {
                    // ICMP errors surface here on some systems; the socket itself is fine.
                    tracing::debug!(error = %e, "jaeger: UDP receive failed");
                    continue;
                }
            };
            let datagram = buf.split_to(len).freeze();
            if len > self.max_packet_size {
                self.metrics.datagram_dropped("too_big");
                continue;
            }
            let Some(events) = self.decode(datagram) else {
                continue;
            };
            if events.is_empty() {
                continue;
            }
            match tx.try_send(events) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.metrics.datagram_dropped("queue_full")
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    self.metrics.datagram_dropped("shutdown");
                    return;
                }
            }
        }
    }

    fn decode(&self, datagram: Bytes) -> Option<Vec<Event>> {
        let decoded = match self.metrics.endpoint() {
            Endpoint::AgentCompact => decode_compact_emit_batch(datagram),
            _ => decode_binary_emit_batch(datagram),
        };
        match decoded {
            Ok(decoded) => Some(to_events(decoded, &self.metrics)),
            Err(e) => {
                self.metrics.datagram_dropped(e.kind());
                tracing::debug!(endpoint = self.metrics.endpoint().label(), reason = %e, "jaeger: datagram dropped");
                None
            }
        }
    }
}

/// Queues what the socket task decoded; the receipts are not awaited (no one to answer).
async fn forward(mut rx: mpsc::Receiver<Vec<Event>>, sink: EventSink, metrics: EndpointMetrics) {
    while let Some(events) = rx.recv().await {
        if sink.send(events).await.is_err() {
            metrics.datagram_dropped("shutdown");
        }
    }
}
