//! What the tests that ship log files through the `beats` input share: the real `sluice`
//! binary as a child process, pylogbeat 2.1.0 shipping files as Filebeat would
//! (`tests/peers/pylogbeat_files.py`), and aiosmtpd 1.4.6 recording mails
//! (`tests/peers/smtp_sink.py`). The Pythons come from the virtualenvs `scripts/test.sh`
//! makes (`target/py-venv`, `target/smtp-venv`) or from `SLUICE_PYTHON` / `SLUICE_SMTP_PYTHON`.

// Each test binary compiles this module and uses a part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

fn venv_python(variable: &str, venv: &str, module: &str) -> PathBuf {
    let python = std::env::var_os(variable).map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(venv)
                .join("bin/python")
        },
        PathBuf::from,
    );
    let usable = Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        usable,
        "{module} is not importable by {}: run scripts/test.sh once (it creates {venv}), or set \
         {variable} to a Python that has it",
        python.display()
    );
    python
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed if the test ends before it does.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Forwards a reader's lines to a channel from another thread.
pub fn lines(reader: impl Read + Send + 'static) -> Receiver<String> {
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

/// `sluice run` with its HTTP API on a free port.
pub struct Sluice {
    child: Running,
    log: Receiver<String>,
    /// Where the beats input listens.
    pub beats: String,
    /// Where the HTTP API listens.
    pub api: String,
}

impl Sluice {
    /// Runs `sluice run <args>` (e.g. `-f file` or `-e text`) with `env` set, and waits until
    /// the beats input and the API listen.
    pub fn start(args: &[&str], env: &[(&str, String)]) -> Sluice {
        let mut child = Running(
            Command::new(env!("CARGO_BIN_EXE_sluice"))
                .env_remove("RUST_LOG")
                .envs(env.iter().map(|(k, v)| (k, v)))
                .args(["run", "--api.http.port", "0"])
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let log = lines(child.0.stderr.take().unwrap());
        let (mut beats, mut api) = (None, None);
        let deadline = Instant::now() + Duration::from_secs(60);
        while beats.is_none() || api.is_none() {
            let line = log
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("sluice did not log that its beats input and API listen");
            let field = |name: &str| {
                let rest = line.split(name).nth(1).expect("the field");
                rest.split_whitespace().next().unwrap().to_owned()
            };
            if line.contains("beats input listening") {
                beats = Some(field("address="));
            } else if line.contains("HTTP API listening") {
                api = Some(field("addr="));
            }
        }
        Sluice {
            child,
            log,
            beats: beats.unwrap(),
            api: api.unwrap(),
        }
    }

    pub fn beats_port(&self) -> &str {
        self.beats.rsplit(':').next().unwrap()
    }

    /// The `/metrics` page.
    pub fn metrics(&self) -> String {
        let mut stream = std::net::TcpStream::connect(&self.api).unwrap();
        write!(stream, "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }

    /// SIGTERM; Sluice must drain and exit 0. Returns its remaining log.
    pub fn terminate(mut self) -> Vec<String> {
        let pid = self.child.0.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let status = self.child.0.wait().unwrap();
        let log: Vec<String> = self.log.iter().collect();
        assert!(
            status.success(),
            "SIGTERM drains and exits 0, got {status}:\n{}",
            log.join("\n")
        );
        log
    }
}

/// The value of the series `name{labels}` on a `/metrics` page (labels as rendered).
pub fn metric(page: &str, name: &str, labels: &str) -> Option<u64> {
    let series = format!("{name}{{{labels}}} ");
    page.lines()
        .find_map(|l| l.strip_prefix(&series))
        .map(|v| v.trim().parse().unwrap())
}

/// One file as Filebeat on `host` would read it from `path`, with `fields.service`.
pub struct Stream<'a> {
    pub file: &'a Path,
    pub service: &'a str,
    pub host: &'a str,
    pub path: &'a str,
}

/// `pylogbeat_files.py` shipping `streams` over one connection to `port`.
pub struct Shipper {
    child: Running,
    out: Receiver<String>,
}

impl Shipper {
    pub fn start(port: &str, streams: &[Stream], options: &[&str]) -> Shipper {
        let python = venv_python("SLUICE_PYTHON", "target/py-venv", "pylogbeat");
        let mut child =
            Running(
                Command::new(python)
                    .arg(concat!(
                        env!("CARGO_MANIFEST_DIR"),
                        "/tests/peers/pylogbeat_files.py"
                    ))
                    .args(["127.0.0.1", port])
                    .args(streams.iter().map(|s| {
                        format!("{},{},{},{}", s.file.display(), s.service, s.host, s.path)
                    }))
                    .args(options)
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap(),
            );
        let out = lines(child.0.stdout.take().unwrap());
        Shipper { child, out }
    }

    /// The next ACKed window's report, if one comes within `wait`.
    pub fn next_ack(&self, wait: Duration) -> Option<Json> {
        let line = self.out.recv_timeout(wait).ok()?;
        Some(serde_json::from_str(&line).unwrap())
    }

    /// Waits for the end; the summary, which must have no error.
    pub fn finish(self) -> Json {
        let reports: Vec<Json> = self
            .out
            .iter()
            .map(|l| serde_json::from_str(&l).unwrap())
            .collect();
        let summary = reports.last().cloned().expect("the shipper's summary");
        assert!(summary.get("error").is_none(), "shipping failed: {summary}");
        assert_eq!(summary["acked_events"], summary["events"], "{summary}");
        summary
    }
}

/// The lines Filebeat would ship from `file`: split at `\n`, a `\r` before it dropped, empty
/// lines and an unterminated last line skipped, invalid UTF-8 replaced (as the shipper does).
pub fn filebeat_lines(file: &Path) -> Vec<(u64, String)> {
    let data = std::fs::read(file).unwrap();
    let mut out = Vec::new();
    let mut start = 0;
    while let Some(end) = data[start..].iter().position(|&b| b == b'\n') {
        let raw = &data[start..start + end];
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if !raw.is_empty() {
            out.push((start as u64, String::from_utf8_lossy(raw).into_owned()));
        }
        start += end + 1;
    }
    out
}

/// Events of an `ndjson` file written by the file output.
pub fn read_events(path: &Path) -> Vec<Json> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// A running aiosmtpd that records every mail as a JSON line.
pub struct SmtpSink {
    _child: Running,
    out: PathBuf,
    pub port: u16,
}

impl SmtpSink {
    pub fn start(dir: &Path) -> SmtpSink {
        let python = venv_python("SLUICE_SMTP_PYTHON", "target/smtp-venv", "aiosmtpd");
        let port = free_port();
        let out = dir.join("mails.jsonl");
        let mut child = Running(
            Command::new(python)
                .arg(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/peers/smtp_sink.py"
                ))
                .arg(port.to_string())
                .arg(&out)
                .stdout(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let mut line = String::new();
        BufReader::new(child.0.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP server did not start");
        SmtpSink {
            _child: child,
            out,
            port,
        }
    }

    pub fn mails(&self) -> Vec<Json> {
        read_events(&self.out)
    }
}
