//! A load generator that speaks Lumberjack v2 the way Filebeat does: windows of
//! `window_size` events numbered 1..n, one zlib `C` frame per window (or bare `J` frames at
//! level 0), up to `pipelining` windows unacknowledged, ACK 0 read as a keep-alive and any
//! ACK above the window's last sequence number treated as the protocol error Filebeat
//! reports. Events are Filebeat-shaped JSON of ~600 bytes.
//!
//! `connections` clients run side by side (Filebeat's `worker` setting), sharing the events.
//! Windows are encoded before the clock starts and reused, so the figure measures the
//! server, not the generator. `sluice loadgen beats` runs it; use it only against loopback or
//! your own test hosts.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::time::timeout;

use super::frame::encode;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadgenSettings {
    pub address: SocketAddr,
    /// Events to send in total.
    pub events: u64,
    /// Filebeat's `bulk_max_size` (default 2048).
    pub window_size: u32,
    /// Windows in flight (Filebeat's `pipelining: 2` allows three on the wire).
    pub pipelining: usize,
    /// 0 sends bare `J` frames; 1–9 one `C` frame per window (Filebeat's default is 3).
    pub compression_level: u32,
    /// Longest wait for any ACK, keep-alives included (Filebeat's `timeout`, 30 s).
    pub timeout: Duration,
    /// Connections sending at once; the events are split between them.
    pub connections: usize,
}

impl LoadgenSettings {
    pub fn new(address: SocketAddr) -> LoadgenSettings {
        LoadgenSettings {
            address,
            events: 100_000,
            window_size: 2048,
            pipelining: 3,
            compression_level: 3,
            timeout: Duration::from_secs(30),
            connections: 1,
        }
    }
}

/// What a run achieved.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadgenReport {
    pub events: u64,
    pub windows: u64,
    pub keepalives: u64,
    pub bytes_sent: u64,
    pub elapsed: Duration,
}

impl LoadgenReport {
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadgenError {
    #[error("socket error: {0}")]
    Io(#[from] std::io::Error),
    #[error("no ACK within {0:?}")]
    Timeout(Duration),
    #[error("invalid sequence number received (seq={got}, expected={expected})")]
    BadAck { got: u32, expected: u32 },
    #[error("server sent a frame that is not a v2 ACK: {0:02x?}")]
    NotAnAck([u8; 6]),
    #[error("server closed the connection with {0} windows unacknowledged")]
    Closed(usize),
}

/// One Filebeat-shaped event; `n` varies the offset, timestamp and message.
fn filebeat_event(n: u64) -> String {
    const PATHS: [&str; 4] = [
        "/healthz",
        "/api/v1/titles",
        "/api/v1/chapters/42",
        "/login",
    ];
    const AGENTS: [&str; 3] = [
        "kube-probe/1.29",
        "Mozilla/5.0 (X11; Linux x86_64)",
        "curl/8.5.0",
    ];
    format!(
        concat!(
            r#"{{"@timestamp":"2026-11-24T14:{:02}:{:02}.{:03}Z","#,
            r#""@metadata":{{"beat":"filebeat","type":"_doc","version":"7.17.29"}},"#,
            r#""log":{{"offset":{},"file":{{"path":"/var/log/mangakai/app.log"}}}},"#,
            r#""message":"10.71.{}.{} - - [24/Nov/2026:10:00:00 +0000] \"GET {} HTTP/1.1\" {} {} \"-\" \"{}\" \"rt=0.0{} uct=0.001\"","#,
            r#""input":{{"type":"log"}},"service":"mangakai-backend","ecs":{{"version":"1.12.0"}},"#,
            r#""host":{{"name":"vm"}},"agent":{{"type":"filebeat","version":"7.17.29","hostname":"vm","#,
            r#""ephemeral_id":"3a31a3de-6ada-4ae9-b8d9-15365fa7c011","id":"c9b6c1f7-71a6-4be7-9b67-0f531da496a5","name":"vm"}}}}"#
        ),
        (n / 60_000) % 60,
        (n / 1000) % 60,
        n % 1000,
        n * 187,
        n % 256,
        (n * 7) % 256,
        PATHS[(n % 4) as usize],
        [200, 200, 304, 404][(n % 4) as usize],
        n * 31 % 100_000,
        AGENTS[(n % 3) as usize],
        n % 100,
    )
}

/// One encoded window of `count` events starting at event number `first`.
fn encode_window(first: u64, count: u32, level: u32) -> Bytes {
    let mut frames = BytesMut::new();
    for i in 0..count {
        encode::json(
            &mut frames,
            i + 1,
            filebeat_event(first + u64::from(i)).as_bytes(),
        );
    }
    let mut out = BytesMut::new();
    encode::window(&mut out, b'2', count);
    if level == 0 {
        out.extend_from_slice(&frames);
    } else {
        encode::compressed(&mut out, b'2', &frames, level.min(9));
    }
    out.freeze()
}

/// Sends `settings.events` events over `settings.connections` connections and waits for every
/// ACK; the report adds the connections up over the wall time of the whole run.
pub async fn loadgen(settings: &LoadgenSettings) -> Result<LoadgenReport, LoadgenError> {
    let connections = settings.connections.max(1) as u64;
    let started = Instant::now();
    let clients: Vec<_> = (0..connections)
        .map(|i| {
            // The first connections take the remainder, one event each.
            let events =
                settings.events / connections + u64::from(i < settings.events % connections);
            let settings = settings.clone();
            tokio::spawn(async move { connection(&settings, events).await })
        })
        .collect();
    let mut total = LoadgenReport {
        events: 0,
        windows: 0,
        keepalives: 0,
        bytes_sent: 0,
        elapsed: Duration::ZERO,
    };
    for client in clients {
        let report = client
            .await
            .map_err(|join| LoadgenError::Io(std::io::Error::other(join)))??;
        total.events += report.events;
        total.windows += report.windows;
        total.keepalives += report.keepalives;
        total.bytes_sent += report.bytes_sent;
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

/// One connection sending `events` events.
async fn connection(
    settings: &LoadgenSettings,
    events: u64,
) -> Result<LoadgenReport, LoadgenError> {
    let window_size = settings.window_size.max(1);
    let full_windows = events / u64::from(window_size);
    let rest = (events % u64::from(window_size)) as u32;
    // A few distinct windows, reused: enough variety for zlib, no encoding on the clock.
    let templates: Vec<Bytes> = (0..full_windows.min(4))
        .map(|i| {
            encode_window(
                i * u64::from(window_size),
                window_size,
                settings.compression_level,
            )
        })
        .collect();
    let last = (rest > 0).then(|| encode_window(0, rest, settings.compression_level));
    let plan: Vec<(Bytes, u32)> = (0..full_windows)
        .map(|i| (templates[(i % 4) as usize].clone(), window_size))
        .chain(last.map(|w| (w, rest)))
        .collect();

    let stream = TcpStream::connect(settings.address).await?;
    stream.set_nodelay(true)?;
    let (mut reader, mut writer) = stream.into_split();
    let in_flight = Arc::new(Semaphore::new(settings.pipelining.max(1)));
    let expected: Arc<Mutex<VecDeque<u32>>> = Arc::default();
    let started = Instant::now();
    let windows = plan.len();

    let sending = {
        let in_flight = in_flight.clone();
        let expected = expected.clone();
        async move {
            let mut sent = 0u64;
            for (bytes, last_seq) in plan {
                in_flight.acquire().await.expect("never closed").forget();
                expected.lock().expect("not poisoned").push_back(last_seq);
                writer.write_all(&bytes).await?;
                sent += bytes.len() as u64;
            }
            Ok::<_, LoadgenError>((sent, writer))
        }
    };
    let acking = async {
        let mut keepalives = 0u64;
        let mut acked = 0usize;
        while acked < windows {
            let mut frame = [0u8; 6];
            match timeout(settings.timeout, reader.read_exact(&mut frame)).await {
                Err(_) => return Err(LoadgenError::Timeout(settings.timeout)),
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Err(LoadgenError::Closed(windows - acked))
                }
                Ok(r) => r?,
            };
            if &frame[..2] != b"2A" {
                return Err(LoadgenError::NotAnAck(frame));
            }
            let seq = u32::from_be_bytes([frame[2], frame[3], frame[4], frame[5]]);
            if seq == 0 {
                keepalives += 1;
                continue;
            }
            let want = expected.lock().expect("not poisoned").front().copied();
            match want {
                Some(want) if seq == want => {
                    expected.lock().expect("not poisoned").pop_front();
                    acked += 1;
                    in_flight.add_permits(1);
                }
                // A partial ACK: legal, the window is not done yet.
                Some(want) if seq < want => {}
                want => {
                    return Err(LoadgenError::BadAck {
                        got: seq,
                        expected: want.unwrap_or(0),
                    })
                }
            }
        }
        Ok(keepalives)
    };
    let (sent, keepalives) = tokio::try_join!(sending, acking)?;
    let elapsed = started.elapsed();
    let (bytes_sent, mut writer) = sent;
    // Close like a client that is done: FIN after the last ACK.
    let _ = writer.shutdown().await;
    Ok(LoadgenReport {
        events,
        windows: windows as u64,
        keepalives,
        bytes_sent,
        elapsed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::beats::event::{EventBuilder, EventOptions};
    use crate::inputs::beats::frame::{Decoder, Limits};

    #[test]
    fn events_are_filebeat_shaped_and_build() {
        let builder = EventBuilder::new("127.0.0.1:1".parse().unwrap(), EventOptions::default());
        for n in [0, 1, 59_999, 1_000_003] {
            let json = filebeat_event(n);
            assert!((550..700).contains(&json.len()), "{} bytes", json.len());
            let mut window = BytesMut::from(&encode_window(n, 1, 3)[..]);
            let decoded = Decoder::new(Limits::default())
                .decode(&mut window)
                .unwrap()
                .unwrap();
            let payload = decoded.frames.into_iter().next().unwrap().payload;
            let event = builder.build(payload).unwrap();
            assert!(event.fields().contains_key("message"));
        }
    }
}
