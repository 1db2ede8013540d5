//! One client connection: windows in, ACKs out.
//!
//! Three parts share the socket. The *reader* decodes windows; before each it takes a slot
//! from a per-connection semaphore (at most `max_windows_ahead` windows pending) and the
//! window's size from the input-wide byte budget, and stops reading the socket until it has
//! both: that is the back-pressure a slow pipeline puts on a client, without refusing or
//! dropping it. Each window's events are built on the blocking pool (milliseconds of CPU that
//! must not stall the async workers), and the *submitter* hands them to the [`WindowSink`] in
//! arrival order. The *ACK writer* holds the pending windows in arrival order and, for the one
//! at the front, waits for its receipt and writes one ACK carrying its last sequence number.
//! Because the writer is its own task, its keep-alive timer (ACK 0 every
//! `keepalive_interval` while a window is pending) keeps running while events are built or
//! the sink waits on a full queue.
//!
//! The connection ends when the client closes it at a window boundary (pending windows are
//! still acknowledged), on any decode error (closed at once, logged once, counted), when a
//! receipt resolves `Failed` (closed without that ACK, so the client resends), when the front
//! window stays unacknowledged past `unacked_window_timeout` (so the client fails over), or
//! after `client_inactivity_timeout` without bytes while no window is pending. Closing shuts
//! the write half down (a FIN, or TLS close_notify then FIN), never an abortive RST.

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, timeout, Instant};
use tokio_util::sync::CancellationToken;

use super::event::{EventBuilder, EventOptions};
use super::frame::{DataFrame, Decoder, Limits, ProtocolError, Version, Window};
use super::metrics::BeatsMetrics;
use super::tls::TlsPeer;
use super::WindowSink;
use crate::event::Event;
use crate::pipeline::receipt::{receipt, BatchHandle, Delivery, Finalizers};

/// Per-connection settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionSettings {
    pub limits: Limits,
    pub events: EventOptions,
    /// Windows read ahead of the oldest unacknowledged one (Filebeat's default `pipelining: 2`
    /// keeps up to three on the wire).
    pub max_windows_ahead: usize,
    /// ACK 0 is sent this often while a window is pending (Filebeat's read deadline is 30 s;
    /// the default of 4 s keeps the promised "at least every 5 s" despite timer slack).
    pub keepalive_interval: Duration,
    /// A window pending longer than this closes the connection, so the client fails over.
    pub unacked_window_timeout: Duration,
    /// `client_inactivity_timeout`: a connection with no pending window and no bytes for
    /// this long is closed.
    pub client_inactivity_timeout: Duration,
}

impl Default for ConnectionSettings {
    fn default() -> ConnectionSettings {
        ConnectionSettings {
            limits: Limits::default(),
            events: EventOptions::default(),
            max_windows_ahead: 4,
            keepalive_interval: Duration::from_secs(4),
            unacked_window_timeout: Duration::from_secs(600),
            client_inactivity_timeout: Duration::from_secs(60),
        }
    }
}

/// What every connection of one input shares.
pub struct ConnectionContext {
    pub settings: ConnectionSettings,
    pub sink: Arc<dyn WindowSink>,
    pub metrics: Arc<BeatsMetrics>,
    /// The input-wide budget of inflated bytes held by pending windows, one permit a byte.
    pub budget: Arc<Semaphore>,
    /// The budget's size in bytes.
    pub budget_bytes: usize,
}

/// How much to ask the socket for per read.
const READ_CHUNK: usize = 64 << 10;

/// Why a connection ended, other than the peer closing it cleanly.
#[derive(Debug, thiserror::Error)]
enum Close {
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    #[error("event {seq} is not a JSON object: {reason}")]
    InvalidJson { seq: u32, reason: String },
    #[error("pipeline failed to deliver the window ending at seq {0}; closing without ACK so the client resends")]
    DeliveryFailed(u32),
    #[error("window ending at seq {seq} unacknowledged after {after:?} (unacked_window_timeout)")]
    UnackedTimeout { seq: u32, after: Duration },
    #[error("socket error: {0}")]
    Io(#[from] std::io::Error),
    #[error("no bytes for {0:?} (client_inactivity_timeout)")]
    Idle(Duration),
}

impl Close {
    fn kind(&self) -> &'static str {
        match self {
            Close::Protocol(e) => e.kind(),
            Close::InvalidJson { .. } => "invalid_json",
            Close::DeliveryFailed(_) => "delivery_failed",
            Close::UnackedTimeout { .. } => "unacked_window_timeout",
            Close::Io(_) => "io",
            Close::Idle(_) => "idle",
        }
    }
}

/// A window between decoding and its ACK.
struct Pending {
    version: Version,
    last_seq: u32,
    since: Instant,
    outcome: Pin<Box<dyn Future<Output = Delivery> + Send>>,
    /// Released when the window is acknowledged (or the connection ends).
    _slot: OwnedSemaphorePermit,
    _bytes: Option<OwnedSemaphorePermit>,
}

/// A window's events being built, and where to say whether the sink queued them.
struct Job {
    build: JoinHandle<Result<Vec<Event>, Close>>,
    queued: oneshot::Sender<bool>,
}

/// Builds a window's events, each holding the window's batch.
fn build_events(
    builder: &EventBuilder,
    frames: Vec<DataFrame>,
    batch: BatchHandle,
) -> Result<Vec<Event>, Close> {
    let mut events = Vec::with_capacity(frames.len());
    for frame in frames {
        let seq = frame.seq;
        let mut event = builder
            .build(frame.payload)
            .map_err(|e| Close::InvalidJson {
                seq,
                reason: e.to_string(),
            })?;
        event.set_finalizers(Finalizers::new(&batch));
        events.push(event);
    }
    Ok(events)
}

/// Hands built windows to the sink in the order they arrived, so events keep their order.
async fn submit_in_order(
    mut jobs: mpsc::Receiver<Job>,
    sink: &dyn WindowSink,
    abort: &CancellationToken,
) -> Result<(), Close> {
    while let Some(job) = jobs.recv().await {
        let built = tokio::select! {
            _ = abort.cancelled() => return Ok(()),
            built = job.build => built,
        };
        let events = built.map_err(|join| Close::Io(std::io::Error::other(join)))??;
        let queued = tokio::select! {
            _ = abort.cancelled() => return Ok(()),
            queued = sink.submit(events) => queued,
        };
        let _ = job.queued.send(queued);
    }
    Ok(())
}

/// Serves one accepted connection until it ends; `shutdown` stops it at the next window
/// boundary once its pending windows are acknowledged. `tls_peer` is the TLS session when
/// `enrich` includes `ssl_peer_metadata`.
pub async fn serve<S>(
    stream: S,
    peer: SocketAddr,
    tls_peer: Option<TlsPeer>,
    ctx: Arc<ConnectionContext>,
    shutdown: CancellationToken,
) where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    ctx.metrics.connection_opened();
    let (read_half, write_half) = tokio::io::split(stream);
    let settings = ctx.settings;
    let slots = Arc::new(Semaphore::new(settings.max_windows_ahead.max(1)));
    let (tx, rx) = mpsc::channel(settings.max_windows_ahead.max(1));
    let abort = CancellationToken::new();

    let writer = tokio::spawn(write_acks(
        write_half,
        rx,
        settings,
        ctx.metrics.clone(),
        abort.clone(),
    ));
    let (jobs, jobs_rx) = mpsc::channel(settings.max_windows_ahead.max(1));
    let reader = Reader {
        ctx: &ctx,
        events: Arc::new(EventBuilder::for_connection(
            peer,
            tls_peer.as_ref(),
            settings.events,
        )),
        slots,
        tx,
        jobs,
        abort: abort.clone(),
        shutdown,
    };
    // Any failure ends the connection now; pending windows are resent by the client.
    let failing = |result: Result<(), Close>| {
        if result.is_err() {
            abort.cancel();
        }
        result
    };
    let (read_result, submit_result) =
        tokio::join!(async { failing(reader.run(read_half).await) }, async {
            failing(submit_in_order(jobs_rx, &*ctx.sink, &abort).await)
        },);
    let write_result = match writer.await {
        Ok(r) => r,
        Err(join) => Err(Close::Io(std::io::Error::other(join))),
    };
    // One reason per connection: when both halves fail (a reset), the reader's came first.
    if let Some(close) = read_result
        .err()
        .or(submit_result.err())
        .or(write_result.err())
    {
        match close {
            Close::Idle(_) => {
                tracing::debug!(%peer, reason = %close, "beats: closing idle connection")
            }
            _ => {
                ctx.metrics.error(close.kind());
                tracing::warn!(%peer, kind = close.kind(), reason = %close, "beats: closing connection");
            }
        }
    }
    ctx.metrics.connection_closed();
}

struct Reader<'c> {
    ctx: &'c ConnectionContext,
    events: Arc<EventBuilder>,
    slots: Arc<Semaphore>,
    tx: mpsc::Sender<Pending>,
    jobs: mpsc::Sender<Job>,
    abort: CancellationToken,
    shutdown: CancellationToken,
}

impl Reader<'_> {
    /// Reads until the peer closes at a window boundary (`Ok`), the connection must end
    /// (`Err`), or the writer gave up (`Ok`; the writer reports why).
    async fn run<R: AsyncRead + Unpin>(self, mut socket: R) -> Result<(), Close> {
        let settings = &self.ctx.settings;
        let mut decoder = Decoder::new(settings.limits);
        let mut buf = BytesMut::with_capacity(READ_CHUNK);
        let mut compressed_seen = 0;
        loop {
            while let Some(window) = decoder.decode(&mut buf)? {
                if !self.submit(window).await? {
                    return Ok(());
                }
            }
            let compressed = decoder.compressed_bytes_in();
            self.ctx
                .metrics
                .bytes_compressed(compressed - compressed_seen);
            compressed_seen = compressed;

            let boundary = decoder.is_between_windows(&buf);
            buf.reserve(READ_CHUNK);
            let read = timeout(
                settings.client_inactivity_timeout,
                socket.read_buf(&mut buf),
            );
            let n = tokio::select! {
                _ = self.abort.cancelled() => return Ok(()),
                _ = self.shutdown.cancelled(), if boundary => return Ok(()),
                n = read => match n {
                    Ok(n) => n?,
                    // Silence while a window is pending is the client waiting for its ACK;
                    // the writer's unacked_window_timeout bounds that wait.
                    Err(_) if self.pending() => continue,
                    Err(_) => return Err(Close::Idle(settings.client_inactivity_timeout)),
                },
            };
            if n == 0 {
                decoder.finish(&buf)?;
                return Ok(());
            }
            self.ctx.metrics.bytes_in(n);
        }
    }

    fn pending(&self) -> bool {
        self.slots.available_permits() < self.ctx.settings.max_windows_ahead.max(1)
    }

    /// Takes a read-ahead slot and budget for one window, starts building its events on the
    /// blocking pool, and queues it for the writer and the submitter; false when the
    /// connection is being torn down.
    async fn submit(&self, window: Window) -> Result<bool, Close> {
        let metrics = &self.ctx.metrics;
        metrics.window(window.frames.len(), window.inflated_bytes);
        let (version, last_seq, bytes) = (window.version, window.last_seq, window.inflated_bytes);

        let slot = tokio::select! {
            _ = self.abort.cancelled() => return Ok(false),
            slot = self.slots.clone().acquire_owned() => slot.expect("never closed"),
        };
        let bytes = if bytes == 0 {
            None
        } else {
            // A window larger than the whole budget takes all of it rather than waiting for ever.
            let wanted = bytes.min(self.budget_size()).max(1) as u32;
            tokio::select! {
                _ = self.abort.cancelled() => return Ok(false),
                permit = self.ctx.budget.clone().acquire_many_owned(wanted) => Some(permit.expect("never closed")),
            }
        };

        let mut job = None;
        let outcome: Pin<Box<dyn Future<Output = Delivery> + Send>> = if window.frames.is_empty() {
            Box::pin(std::future::ready(Delivery::Delivered))
        } else {
            let (input_receipt, batch) = receipt();
            let builder = self.events.clone();
            let frames = window.frames;
            // Building ~2000 events takes milliseconds: off the async workers, and in
            // parallel with decoding the next window.
            let build = tokio::task::spawn_blocking(move || build_events(&builder, frames, batch));
            let (queued, queued_rx) = oneshot::channel();
            job = Some(Job { build, queued });
            Box::pin(async move {
                match queued_rx.await {
                    Ok(true) => input_receipt.await,
                    // Refused or never handed over: the events are gone unfinalized.
                    _ => Delivery::Failed,
                }
            })
        };
        // The writer learns of the window before the sink takes it, so keep-alives flow while
        // the events are built and while `submit` waits on a full queue.
        let pending = Pending {
            version,
            last_seq,
            since: Instant::now(),
            outcome,
            _slot: slot,
            _bytes: bytes,
        };
        if self.tx.send(pending).await.is_err() {
            return Ok(false);
        }
        if let Some(job) = job {
            if self.jobs.send(job).await.is_err() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn budget_size(&self) -> usize {
        self.ctx.budget_bytes.min(u32::MAX as usize)
    }
}

/// Writes ACKs in window order, and keep-alives while a window is pending. Returns `Ok` after
/// the reader finished and every pending window was acknowledged, having shut the write half.
async fn write_acks<W: AsyncWrite>(
    socket: W,
    mut rx: mpsc::Receiver<Pending>,
    settings: ConnectionSettings,
    metrics: Arc<BeatsMetrics>,
    abort: CancellationToken,
) -> Result<(), Close> {
    let mut socket = std::pin::pin!(socket);
    let mut queue: VecDeque<Pending> = VecDeque::new();
    let mut reader_done = false;
    let mut last_write = Instant::now();
    let result = loop {
        if reader_done && queue.is_empty() {
            break Ok(());
        }
        let front = queue.front_mut();
        let deadline = front
            .as_ref()
            .map(|p| p.since + settings.unacked_window_timeout);
        // Keep-alives only for v2: v1 clients (logstash-forwarder) predate them and go-lumber's
        // v1 server sends none.
        let keepalive = front.as_ref().is_some_and(|p| p.version == Version::V2);
        // Counted from the last write or from when the front window arrived, whichever is
        // later: a window arriving after a quiet spell gets a full interval first.
        let keepalive_at = front
            .as_ref()
            .map_or(last_write, |p| p.since.max(last_write))
            + settings.keepalive_interval;
        let event = tokio::select! {
            biased;
            _ = abort.cancelled() => break Ok(()),
            outcome = async { front.expect("guarded").outcome.as_mut().await }, if deadline.is_some() => {
                WriterEvent::Resolved(outcome)
            }
            pending = rx.recv(), if !reader_done => WriterEvent::Received(pending),
            _ = sleep_until(deadline.unwrap_or(keepalive_at)), if deadline.is_some() => WriterEvent::Deadline,
            _ = sleep_until(keepalive_at), if keepalive => WriterEvent::KeepAlive,
        };
        match event {
            WriterEvent::Received(Some(p)) => queue.push_back(p),
            WriterEvent::Received(None) => reader_done = true,
            WriterEvent::Resolved(Delivery::Delivered) => {
                let done = queue.pop_front().expect("front resolved");
                if let Err(e) = write_ack(&mut socket, done.version, done.last_seq, &settings).await
                {
                    break Err(e);
                }
                metrics.ack(done.since.elapsed());
                last_write = Instant::now();
            }
            WriterEvent::Resolved(Delivery::Failed) => {
                let failed = queue.pop_front().expect("front resolved");
                break Err(Close::DeliveryFailed(failed.last_seq));
            }
            WriterEvent::Deadline => {
                let stuck = queue.front().expect("deadline of the front");
                break Err(Close::UnackedTimeout {
                    seq: stuck.last_seq,
                    after: settings.unacked_window_timeout,
                });
            }
            WriterEvent::KeepAlive => {
                if let Err(e) = write_ack(&mut socket, Version::V2, 0, &settings).await {
                    break Err(e);
                }
                metrics.keepalive();
                last_write = Instant::now();
            }
        }
    };
    // Stop the reader whatever happened here, then close our direction gracefully.
    abort.cancel();
    let _ = timeout(settings.keepalive_interval, socket.shutdown()).await;
    result
}

enum WriterEvent {
    Received(Option<Pending>),
    Resolved(Delivery),
    Deadline,
    KeepAlive,
}

/// Writes one `A` frame; a client that stops reading for as long as a window may stay
/// unacknowledged is given up on.
async fn write_ack<W: AsyncWrite>(
    socket: &mut Pin<&mut W>,
    version: Version,
    seq: u32,
    settings: &ConnectionSettings,
) -> Result<(), Close> {
    let mut frame = [0u8; 6];
    let mut out = &mut frame[..];
    out.put_u8(version.byte());
    out.put_u8(b'A');
    out.put_u32(seq);
    match timeout(settings.unacked_window_timeout, async {
        socket.write_all(&frame).await?;
        socket.flush().await
    })
    .await
    {
        Ok(r) => Ok(r?),
        Err(_) => Err(Close::Io(std::io::ErrorKind::TimedOut.into())),
    }
}

#[cfg(test)]
mod tests;
