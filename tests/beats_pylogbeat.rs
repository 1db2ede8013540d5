//! The real `sluice` binary's `beats` input against pylogbeat 2.1.0, a real Lumberjack v2
//! client (compressed windows, sequence numbers counting across windows, a blocking wait for
//! each window's ACK), through `tests/peers/pylogbeat_send.py`, into the `file` output.
//!
//! The file output acknowledges a batch only after flushing (and fsyncing) it, so an event
//! pylogbeat saw ACKed must be in the file: that is what every test checks, by `log.offset`.
//!
//! pylogbeat lives in a virtualenv that `scripts/test.sh` creates (`target/py-venv`, exported
//! as `SLUICE_PYTHON`); without it these tests fail and say how to get it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::pki::Pki;
use common::pylogbeat::driver;

/// A child process that is killed if the test fails before it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `sluice run` with one beats input writing to `<dir>/<beat>.ndjson`.
struct Sluice {
    child: Running,
    /// Where the beats input listens, from its "beats input listening" log line.
    address: String,
    /// Sluice's log lines, read on another thread.
    log: Receiver<String>,
    dir: tempfile::TempDir,
}

impl Sluice {
    /// Starts Sluice with `beats_settings` added to `host => "127.0.0.1" port => 0` and the
    /// file output's `flush_interval` as given.
    fn start(beats_settings: &str, flush_interval: u32) -> Sluice {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            r#"input {{ beats {{ host => "127.0.0.1" port => 0 {beats_settings} }} }}
output {{ file {{ path => "{}/%{{[@metadata][beat]}}.ndjson" flush_interval => {flush_interval} }} }}"#,
            dir.path().display()
        );
        let mut child = Running(
            Command::new(env!("CARGO_BIN_EXE_sluice"))
                .env_remove("RUST_LOG")
                .args(["run", "--api.enabled", "false", "-e", &config])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let log = lines(child.0.stderr.take().unwrap());
        let deadline = Instant::now() + Duration::from_secs(60);
        let address = loop {
            let line = log
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("sluice logged no `beats input listening` line in time");
            if line.contains("beats input listening") {
                let rest = line.split("address=").nth(1).expect("an address field");
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        Sluice {
            child,
            address,
            log,
            dir,
        }
    }

    fn port(&self) -> &str {
        self.address.rsplit(':').next().unwrap()
    }

    /// SIGTERM, then the exit status must be success (Sluice drains and exits 0).
    fn terminate(&mut self) {
        let pid = self.child.0.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let status = self.child.0.wait().unwrap();
        assert!(status.success(), "SIGTERM drains and exits 0, got {status}");
    }

    /// Every log line not read yet, to the end: call it once Sluice has exited.
    fn rest_of_log(&self) -> Vec<String> {
        self.log.iter().collect()
    }

    /// The events written for the `filebeat` beat, keyed by `log.offset`, each with how many
    /// times it was written.
    fn written(&self) -> BTreeMap<u64, (Value, usize)> {
        let mut events: BTreeMap<u64, (Value, usize)> = BTreeMap::new();
        for event in common::json_lines(&self.dir.path().join("filebeat.ndjson")) {
            let offset = event["log"]["offset"]
                .as_u64()
                .unwrap_or_else(|| panic!("no log.offset in {event}"));
            events.entry(offset).or_insert((event, 0)).1 += 1;
        }
        events
    }
}

/// Forwards a reader's lines to a channel from another thread.
fn lines(reader: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// What `pylogbeat_send.py` reported: one line per ACKed window, then the summary.
struct Sent {
    windows: Vec<Value>,
    summary: Value,
}

impl Sent {
    fn parse(lines: impl IntoIterator<Item = String>) -> Sent {
        let mut windows: Vec<Value> = lines
            .into_iter()
            .map(|l| serde_json::from_str(&l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        let summary = windows.pop().expect("the driver printed its summary");
        assert!(summary.get("acked_events").is_some(), "{summary}");
        Sent { windows, summary }
    }

    fn error(&self) -> Option<&str> {
        self.summary["error"].as_str()
    }

    /// The `log.offset`s of every event pylogbeat saw ACKed.
    fn acked_offsets(&self) -> Vec<u64> {
        self.windows
            .iter()
            .flat_map(|w| {
                let first = w["first_offset"].as_u64().unwrap();
                first..first + w["events"].as_u64().unwrap()
            })
            .collect()
    }
}

/// The driver's command line: `windows` windows of `per_window` events to `sluice`.
fn pylogbeat(sluice: &Sluice, windows: u32, per_window: u32, extra: &[&str]) -> Command {
    driver(sluice.port(), windows, per_window, extra)
}

/// Runs the driver to its end.
fn send(sluice: &Sluice, windows: u32, per_window: u32, extra: &[&str]) -> Sent {
    let output = pylogbeat(sluice, windows, per_window, extra)
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    Sent::parse(stdout.lines().map(str::to_owned))
}

/// Every event `sent` reports ACKed, once each, and nothing else, with its fields intact.
fn assert_all_written_once(sluice: &Sluice, sent: &Sent, total: u64) {
    assert_eq!(sent.error(), None, "{}", sent.summary);
    assert_eq!(sent.summary["acked_events"].as_u64(), Some(total));
    let written = sluice.written();
    assert_eq!(written.len() as u64, total, "distinct events written");
    assert_eq!(
        written.keys().copied().collect::<Vec<_>>(),
        sent.acked_offsets()
    );
    let duplicated: Vec<u64> = written
        .iter()
        .filter(|(_, (_, n))| *n > 1)
        .map(|(o, _)| *o)
        .collect();
    assert!(duplicated.is_empty(), "written twice: {duplicated:?}");
}

#[test]
fn many_compressed_windows_over_one_connection_arrive_once_with_their_fields() {
    let mut sluice = Sluice::start("", 0);
    let (windows, per_window) = (40, 250);
    let sent = send(&sluice, windows, per_window, &[]);
    let total = u64::from(windows * per_window);
    // pylogbeat numbers across windows, so the last ACK it accepted was `total`.
    assert_eq!(
        sent.windows.last().unwrap()["last_seq"].as_u64(),
        Some(total)
    );
    assert_all_written_once(&sluice, &sent, total);

    for (offset, (event, _)) in sluice.written() {
        let (minutes, seconds, millis) = (offset / 60_000, offset / 1000 % 60, offset % 1000);
        assert_eq!(
            event["@timestamp"],
            format!("2026-11-24T10:{minutes:02}:{seconds:02}.{millis:03}Z"),
            "the sender's @timestamp is kept"
        );
        assert_eq!(event["message"], format!("pylogbeat event {offset}"));
        assert_eq!(event["host"]["name"], "pyhost");
        assert_eq!(event["agent"]["id"], "5b7f0b3c-1f4e-4a4e-9d51-4a1c0b7e2a10");
        assert_eq!(event["log"]["file"]["path"], "/var/log/app/app.log");
        assert_eq!(event["fields"]["service"], "checkout");
        assert!(event.get("@metadata").is_none(), "{event}");
    }
    sluice.terminate();
}

/// The file output holds every receipt until its next flush, 15 s away, while pylogbeat gives
/// up after 8 s without a byte: only the input's ACK 0 keep-alives (every 4 s by default)
/// keep the connection alive, and no window is resent.
#[test]
fn keepalives_hold_a_client_whose_timeout_is_shorter_than_the_output() {
    let mut sluice = Sluice::start("", 15);
    let sent = send(&sluice, 2, 100, &["--timeout", "8"]);
    assert_all_written_once(&sluice, &sent, 200);
    assert!(
        sent.summary["keepalives"].as_u64().unwrap() >= 2,
        "pylogbeat waited through keep-alives: {}",
        sent.summary
    );
    sluice.terminate();
}

#[test]
fn tls_with_a_verified_server_certificate() {
    let pki = Pki::new();
    let mut sluice = Sluice::start(&pki.server_settings("none"), 0);
    let sent = send(&sluice, 5, 100, &["--ca", &pki.path("ca.pem")]);
    assert_all_written_once(&sluice, &sent, 500);
    sluice.terminate();
}

#[test]
fn mutual_tls_accepts_a_client_certificate_and_refuses_a_client_without_one() {
    let pki = Pki::new();
    let mut sluice = Sluice::start(&pki.server_settings("required"), 0);
    let (cert, key) = pki.issue("client");
    let ca = pki.path("ca.pem");

    let refused = send(&sluice, 1, 10, &["--ca", &ca, "--timeout", "10"]);
    assert!(refused.error().is_some(), "{}", refused.summary);
    assert_eq!(refused.summary["acked_events"].as_u64(), Some(0));
    assert!(sluice.written().is_empty());

    let sent = send(
        &sluice,
        5,
        100,
        &["--ca", &ca, "--cert", &cert, "--key", &key],
    );
    assert_all_written_once(&sluice, &sent, 500);
    sluice.terminate();
    let log = sluice.rest_of_log();
    assert_eq!(
        log.iter()
            .filter(|l| l.contains("TLS handshake failed"))
            .count(),
        1,
        "exactly the certificate-less client failed its handshake: {log:#?}"
    );
}

/// SIGTERM while pylogbeat is sending: Sluice stops reading at a window boundary, ACKs what it
/// has, exits 0, and every event pylogbeat saw ACKed is in the file exactly once.
#[test]
fn sigterm_while_sending_keeps_every_acked_event() {
    let mut sluice = Sluice::start("", 0);
    let mut driver = Running(
        pylogbeat(&sluice, 2_000, 50, &["--timeout", "20"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let out = lines(driver.0.stdout.take().unwrap());
    let mut seen = Vec::new();
    while seen.len() < 5 {
        let line = out
            .recv_timeout(Duration::from_secs(60))
            .expect("pylogbeat reports ACKed windows");
        assert!(line.contains("\"window\""), "ended early: {line}");
        seen.push(line);
    }
    sluice.terminate();
    driver.0.wait().unwrap();
    seen.extend(out.iter());
    let sent = Sent::parse(seen);

    let acked = sent.acked_offsets();
    assert_eq!(
        sent.summary["acked_events"].as_u64(),
        Some(acked.len() as u64)
    );
    let written = sluice.written();
    let missing: Vec<u64> = acked
        .iter()
        .copied()
        .filter(|o| !written.contains_key(o))
        .collect();
    assert!(missing.is_empty(), "ACKed but not written: {missing:?}");
    assert!(
        written.values().all(|(_, n)| *n == 1),
        "an event was written twice"
    );
    assert!(written.keys().all(|o| *o < 100_000), "only events sent");
}
