//! A named pipe (FIFO) as the path of a `file` output: the output's `open` blocks until
//! someone reads it, which stalls the pipeline for real, the way a slow consumer would.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Command;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

pub struct Fifo {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl Fifo {
    pub fn new() -> Fifo {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spans.fifo");
        let made = Command::new("mkfifo").arg(&path).status().unwrap();
        assert!(made.success(), "mkfifo failed");
        Fifo { _dir: dir, path }
    }

    /// Starts reading: the blocked output goes on, and each line it writes arrives here.
    pub fn read_lines(&self) -> Receiver<String> {
        let (lines, received) = mpsc::channel();
        let path = self.path.clone();
        std::thread::spawn(move || {
            let reader = BufReader::new(std::fs::File::open(&path).unwrap());
            for line in reader.lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    return;
                }
            }
        });
        received
    }
}

/// Reads span documents from `lines` until the one of `trace_id` (32 hex digits) has come;
/// the trace ids read on the way are kept in `written`.
pub fn wait_for_trace(lines: &Receiver<String>, written: &mut HashSet<String>, trace_id: &str) {
    while !written.contains(trace_id) {
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("trace {trace_id} was accepted but never written"));
        let doc: serde_json::Value = serde_json::from_str(&line).unwrap();
        written.insert(doc["traceID"].as_str().unwrap().to_owned());
    }
}
