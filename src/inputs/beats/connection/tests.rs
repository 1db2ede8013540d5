//! End-to-end: a real listener on loopback, a sink the test controls, and a TCP client
//! replaying captured or constructed bytes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use bytes::BytesMut;
use tokio::net::TcpStream;
use tokio::sync::Notify;

use super::*;
use crate::event::Event;
use crate::inputs::beats::frame::encode;
use crate::inputs::beats::metrics::MetricsSnapshot;
use crate::inputs::beats::{BeatsServer, BeatsSettings};

const FILEBEAT: &[u8] =
    include_bytes!("../../../../fixtures/beats/filebeat-7.17.29-zlib3-5000.bin");
const FILEBEAT_ACKS: &[u8] =
    include_bytes!("../../../../fixtures/beats/filebeat-7.17.29-zlib3-5000.acks");
const PYLOGBEAT: &[u8] = include_bytes!("../../../../fixtures/beats/pylogbeat-2.1.0-2windows.bin");

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Deliver,
    Hold,
    Fail,
}

/// A sink that delivers, holds or fails every batch, and remembers what it saw.
struct TestSink {
    mode: Mutex<Mode>,
    held: Mutex<Vec<Vec<Event>>>,
    submitted: AtomicUsize,
    events: AtomicUsize,
    changed: Notify,
}

impl TestSink {
    fn new(mode: Mode) -> Arc<TestSink> {
        Arc::new(TestSink {
            mode: Mutex::new(mode),
            held: Mutex::new(Vec::new()),
            submitted: AtomicUsize::new(0),
            events: AtomicUsize::new(0),
            changed: Notify::new(),
        })
    }

    /// Waits until `n` windows have been submitted.
    async fn wait_submitted(&self, n: usize) {
        timeout(Duration::from_secs(5), async {
            loop {
                let changed = self.changed.notified();
                if self.submitted.load(Ordering::SeqCst) >= n {
                    return;
                }
                changed.await;
            }
        })
        .await
        .expect("windows submitted in time");
    }

    /// Finalizes the held batch at `index` (in submission order) with `outcome`.
    fn release(&self, index: usize, outcome: Delivery) {
        let mut held = self.held.lock().unwrap();
        for event in &mut held[index] {
            event.finalize(outcome);
        }
    }
}

impl WindowSink for TestSink {
    fn submit(&self, mut events: Vec<Event>) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
        Box::pin(async move {
            assert!(events.iter_mut().all(|e| !e.finalizers_mut().is_empty()));
            self.events.fetch_add(events.len(), Ordering::SeqCst);
            match *self.mode.lock().unwrap() {
                Mode::Deliver => events
                    .iter_mut()
                    .for_each(|e| e.finalize(Delivery::Delivered)),
                Mode::Fail => events.iter_mut().for_each(|e| e.finalize(Delivery::Failed)),
                Mode::Hold => self.held.lock().unwrap().push(events),
            }
            self.submitted.fetch_add(1, Ordering::SeqCst);
            self.changed.notify_waiters();
            true
        })
    }
}

struct Running {
    addr: SocketAddr,
    metrics: Arc<BeatsMetrics>,
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<()>,
}

async fn start(sink: Arc<TestSink>, tune: impl FnOnce(&mut BeatsSettings)) -> Running {
    let mut settings = BeatsSettings {
        address: "127.0.0.1:0".parse().unwrap(),
        ..BeatsSettings::default()
    };
    tune(&mut settings);
    let server = BeatsServer::bind(settings, sink).await.unwrap();
    let addr = server.local_addr().unwrap();
    let metrics = server.metrics();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(server.run(shutdown.clone()));
    Running {
        addr,
        metrics,
        shutdown,
        server,
    }
}

fn fast_timers(settings: &mut BeatsSettings) {
    settings.connection.keepalive_interval = Duration::from_millis(100);
}

async fn read_exact(client: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut got = vec![0u8; n];
    timeout(Duration::from_secs(10), client.read_exact(&mut got))
        .await
        .expect("bytes in time")
        .expect("bytes");
    got
}

/// Reads until the server closes, returning everything it sent; panics on a reset.
async fn read_to_close(client: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    timeout(Duration::from_secs(10), client.read_to_end(&mut got))
        .await
        .expect("closed in time")
        .expect("closed with FIN, not reset");
    got
}

fn ack(version: u8, seq: u32) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode::ack(&mut out, version, seq);
    out.to_vec()
}

fn window(first_seq: u32, n: u32) -> BytesMut {
    let mut out = BytesMut::new();
    encode::window(&mut out, b'2', n);
    let mut frames = BytesMut::new();
    for seq in first_seq..first_seq + n {
        encode::json(
            &mut frames,
            seq,
            format!(r#"{{"message":"event {seq}"}}"#).as_bytes(),
        );
    }
    encode::compressed(&mut out, b'2', &frames, 3);
    out
}

async fn wait_metrics(
    metrics: &BeatsMetrics,
    done: impl Fn(&MetricsSnapshot) -> bool,
) -> MetricsSnapshot {
    timeout(Duration::from_secs(5), async {
        loop {
            let snapshot = metrics.snapshot();
            if done(&snapshot) {
                return snapshot;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("metrics in time")
}

#[tokio::test]
async fn filebeat_capture_gets_the_acks_go_lumber_sent() {
    let sink = TestSink::new(Mode::Deliver);
    let server = start(sink.clone(), |_| {}).await;
    let mut client = TcpStream::connect(server.addr).await.unwrap();
    client.write_all(FILEBEAT).await.unwrap();
    assert_eq!(
        read_exact(&mut client, FILEBEAT_ACKS.len()).await,
        FILEBEAT_ACKS
    );
    drop(client);
    let m = wait_metrics(&server.metrics, |m| m.connections_open == 0).await;
    assert_eq!(sink.events.load(Ordering::SeqCst), 5000);
    assert_eq!((m.windows, m.events, m.acks), (3, 5000, 3));
    assert_eq!(m.bytes_in, FILEBEAT.len() as u64);
    assert!(m.bytes_compressed > 0 && m.bytes_inflated > m.bytes_compressed);
    assert!(m.errors.is_empty(), "{:?}", m.errors);
}

#[tokio::test]
async fn pylogbeat_gets_the_last_seq_of_each_window() {
    let server = start(TestSink::new(Mode::Deliver), |_| {}).await;
    let mut client = TcpStream::connect(server.addr).await.unwrap();
    client.write_all(PYLOGBEAT).await.unwrap();
    let expected = [ack(b'2', 3), ack(b'2', 6)].concat();
    assert_eq!(read_exact(&mut client, 12).await, expected);
}

#[tokio::test]
async fn v1_windows_get_v1_acks() {
    let sink = TestSink::new(Mode::Deliver);
    let server = start(sink.clone(), |_| {}).await;
    let mut client = TcpStream::connect(server.addr).await.unwrap();
    let mut bytes = BytesMut::new();
    encode::window(&mut bytes, b'1', 1);
    encode::pairs(&mut bytes, 9, &[("line", "hello")]);
    client.write_all(&bytes).await.unwrap();
    assert_eq!(read_exact(&mut client, 6).await, ack(b'1', 9));
}

#[tokio::test]
async fn window_zero_is_answered_with_ack_zero() {
    let sink = TestSink::new(Mode::Deliver);
    let server = start(sink.clone(), |_| {}).await;
    let mut client = TcpStream::connect(server.addr).await.unwrap();
    let mut bytes = BytesMut::new();
    encode::window(&mut bytes, b'2', 0);
    client.write_all(&bytes).await.unwrap();
    assert_eq!(read_exact(&mut client, 6).await, ack(b'2', 0));
    assert_eq!(sink.submitted.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn keepalives_flow_while_a_receipt_is_held() {
    let sink = TestSink::new(Mode::Hold);
    let server = start(sink.clone(), fast_timers).await;
    let mut client = TcpStream::connect(server.addr).await.unwrap();
    client.write_all(&window(1, 4)).await.unwrap();
    sink.wait_submitted(1).await;
    // Three keep-alives, ~100 ms apart, while the window waits.
    for _ in 0..3 {
        assert_eq!(read_exact(&mut client, 6).await, ack(b'2', 0));
    }
    sink.release(0, Delivery::Delivered);
    // The ACK follows, possibly after one more keep-alive.
    let mut got = read_exact(&mut client, 6).await;
    if got == ack(b'2', 0) {
        got = read_exact(&mut client, 6).await;
    }
    assert_eq!(got, ack(b'2', 4));
    assert!(server.metrics.snapshot().keepalives >= 3);
}

/// A sink whose queue is full: `submit` never returns.
struct BlockedSink;

impl WindowSink for BlockedSink {
    fn submit(&self, events: Vec<Event>) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
        Box::pin(async move {
            let _events = events;
            std::future::pending().await
        })
    }
}

#[tokio::test]
async fn keepalives_flow_while_submit_is_blocked() {
    let mut settings = BeatsSettings {
        address: "127.0.0.1:0".parse().unwrap(),
        ..BeatsSettings::default()
    };
    fast_timers(&mut settings);
    let server = BeatsServer::bind(settings, Arc::new(BlockedSink))
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.run(CancellationToken::new()));
    let mut client = TcpStream::connect(addr).await.unwrap();
    client.write_all(&window(1, 2)).await.unwrap();
    for _ in 0..2 {
        assert_eq!(read_exact(&mut client, 6).await, ack(b'2', 0));
    }
}

#[tokio::test]
async fn a_failed_receipt_closes_without_ack() {
    let server = start(TestSink::new(Mode::Fail), fast_timers).await;
    let mut client = TcpStream::connect(server.addr).await.unwrap();
    client.write_all(&window(1, 3)).await.unwrap();
    let got = read_to_close(&mut client).await;
    assert!(
        got.chunks(6).all(|a| a == ack(b'2', 0)),
        "only keep-alives, got {got:?}"
    );
    let m = wait_metrics(&server.metrics, |m| m.connections_open == 0).await;
    assert_eq!(m.errors.get("delivery_failed"), Some(&1));
    assert_eq!(m.acks, 0);
}

#[tokio::test]
async fn a_window_unacked_past_the_ceiling_closes_the_connection() {
    let sink = TestSink::new(Mode::Hold);
    let server = start(sink.clone(), |s| {
        fast_timers(s);
        s.connection.unacked_window_timeout = Duration::from_millis(350);
    })
    .await;
    let mut client = TcpStream::connect(server.addr).await.unwrap();
    let started = Instant::now();
    client.write_all(&window(1, 2)).await.unwrap();
    let got = read_to_close(&mut client).await;
    assert!(started.elapsed() >= Duration::from_millis(350));
    assert!(!got.is_empty() && got.chunks(6).all(|a| a == ack(b'2', 0)));
    let m = wait_metrics(&server.metrics, |m| m.connections_open == 0).await;
    assert_eq!(m.errors.get("unacked_window_timeout"), Some(&1));
}

#[tokio::test]
async fn pipelined_windows_are_acked_in_order_whatever_order_they_finish() {
    let sink = TestSink::new(Mode::Hold);
    let server = start(sink.clone(), |_| {}).await;
    let mut client = TcpStream::connect(server.addr).await.unwrap();
    let stream = [window(1, 2), window(1, 3), window(1, 1)].concat();
    client.write_all(&stream).await.unwrap();
    sink.wait_submitted(3).await;
    // Built in parallel, submitted in arrival order.
    let sizes: Vec<usize> = sink.held.lock().unwrap().iter().map(Vec::len).collect();
    assert_eq!(sizes, [2, 3, 1]);
    for i in [2, 1, 0] {
        sink.release(i, Delivery::Delivered);
    }
    let expected = [ack(b'2', 2), ack(b'2', 3), ack(b'2', 1)].concat();
    assert_eq!(read_exact(&mut client, 18).await, expected);
}

#[tokio::test]
async fn reading_ahead_stops_at_max_windows_ahead() {
    let sink = TestSink::new(Mode::Hold);
    let server = start(sink.clone(), |s| s.connection.max_windows_ahead = 1).await;
    let mut client = TcpStream::connect(server.addr).await.unwrap();
    let stream = [window(1, 1), window(2, 1), window(3, 1)].concat();
    client.write_all(&stream).await.unwrap();
    sink.wait_submitted(1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.submitted.load(Ordering::SeqCst), 1);
    sink.release(0, Delivery::Delivered);
    assert_eq!(read_exact(&mut client, 6).await, ack(b'2', 1));
    sink.wait_submitted(2).await;
    sink.release(1, Delivery::Delivered);
    assert_eq!(read_exact(&mut client, 6).await, ack(b'2', 2));
}

#[tokio::test]
async fn the_byte_budget_is_shared_across_connections() {
    let sink = TestSink::new(Mode::Hold);
    let one_window = window(1, 2);
    let server = start(sink.clone(), |s| s.max_pending_bytes = 70).await;
    let mut first = TcpStream::connect(server.addr).await.unwrap();
    first.write_all(&one_window).await.unwrap();
    sink.wait_submitted(1).await;
    let mut second = TcpStream::connect(server.addr).await.unwrap();
    second.write_all(&one_window).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Each window holds 2 × 31 bytes inflated: the second does not fit beside the first.
    assert_eq!(sink.submitted.load(Ordering::SeqCst), 1);
    sink.release(0, Delivery::Delivered);
    assert_eq!(read_exact(&mut first, 6).await, ack(b'2', 2));
    sink.wait_submitted(2).await;
    sink.release(1, Delivery::Delivered);
    assert_eq!(read_exact(&mut second, 6).await, ack(b'2', 2));
}

#[tokio::test]
async fn an_idle_connection_is_closed_with_fin() {
    let server = start(TestSink::new(Mode::Deliver), |s| {
        s.connection.client_inactivity_timeout = Duration::from_millis(200);
    })
    .await;
    let mut client = TcpStream::connect(server.addr).await.unwrap();
    let started = Instant::now();
    assert!(read_to_close(&mut client).await.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(200));
    let m = wait_metrics(&server.metrics, |m| m.connections_open == 0).await;
    assert!(
        m.errors.is_empty(),
        "an idle close is no error: {:?}",
        m.errors
    );
}

#[tokio::test]
async fn a_connection_waiting_for_its_ack_is_not_idle() {
    let sink = TestSink::new(Mode::Hold);
    let server = start(sink.clone(), |s| {
        s.connection.client_inactivity_timeout = Duration::from_millis(150);
    })
    .await;
    let mut client = TcpStream::connect(server.addr).await.unwrap();
    client.write_all(&window(1, 1)).await.unwrap();
    sink.wait_submitted(1).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    sink.release(0, Delivery::Delivered);
    assert_eq!(read_exact(&mut client, 6).await, ack(b'2', 1));
}

#[tokio::test]
async fn garbage_closes_the_connection_and_is_counted() {
    let server = start(TestSink::new(Mode::Deliver), |_| {}).await;
    for (bytes, kind) in [
        (
            &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
            "http_on_beats_port",
        ),
        (
            &b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"[..],
            "tls_on_plain_port",
        ),
        (
            &b"2W\0\0\0\x012J\0\0\0\x01\0\0\0\x03[1]"[..],
            "invalid_json",
        ),
    ] {
        let mut client = TcpStream::connect(server.addr).await.unwrap();
        client.write_all(bytes).await.unwrap();
        assert!(read_to_close(&mut client).await.is_empty());
        let m = wait_metrics(&server.metrics, |m| m.errors.contains_key(kind)).await;
        assert_eq!(m.errors[kind], 1);
    }
}

#[tokio::test]
async fn shutdown_stops_accepting_and_finishes_pending_windows() {
    let sink = TestSink::new(Mode::Hold);
    let server = start(sink.clone(), |_| {}).await;
    let mut client = TcpStream::connect(server.addr).await.unwrap();
    client.write_all(&window(1, 2)).await.unwrap();
    sink.wait_submitted(1).await;
    server.shutdown.cancel();
    // The pending window is still acknowledged, then the connection closes.
    tokio::time::sleep(Duration::from_millis(50)).await;
    sink.release(0, Delivery::Delivered);
    assert_eq!(read_to_close(&mut client).await, ack(b'2', 2));
    timeout(Duration::from_secs(5), server.server)
        .await
        .expect("server stopped")
        .unwrap();
    assert!(TcpStream::connect(server.addr).await.is_err());
}

#[tokio::test]
async fn the_load_generator_is_acked_like_filebeat() {
    use crate::inputs::beats::loadgen::{loadgen, LoadgenSettings};
    let sink = TestSink::new(Mode::Deliver);
    let server = start(sink.clone(), |_| {}).await;
    // Two connections of 1 500 events each send windows of 1 000 and 500.
    for (level, events, connections, windows) in
        [(3, 5_000, 1, 5), (0, 2_500, 1, 3), (3, 3_000, 2, 4)]
    {
        let mut settings = LoadgenSettings::new(server.addr);
        settings.events = events;
        settings.window_size = 1_000;
        settings.compression_level = level;
        settings.connections = connections;
        let report = loadgen(&settings).await.unwrap();
        assert_eq!((report.events, report.windows), (events, windows));
    }
    assert_eq!(sink.events.load(Ordering::SeqCst), 10_500);
}

#[tokio::test]
async fn many_short_connections_are_served_and_released() {
    let sink = TestSink::new(Mode::Deliver);
    let server = start(sink.clone(), |_| {}).await;
    let addr = server.addr;
    let clients: Vec<_> = (0..200u32)
        .map(|i| {
            tokio::spawn(async move {
                let mut client = TcpStream::connect(addr).await.unwrap();
                client.write_all(&window(i + 1, 1)).await.unwrap();
                assert_eq!(read_exact(&mut client, 6).await, ack(b'2', i + 1));
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    let m = wait_metrics(&server.metrics, |m| m.connections_open == 0).await;
    assert_eq!((m.connections_accepted, m.acks), (200, 200));
    assert!(m.errors.is_empty(), "{:?}", m.errors);
}
