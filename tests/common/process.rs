//! The real `sluice` binary as a child process: started with arguments, its log read on
//! another thread, stopped with SIGTERM (it must drain and exit 0) or killed with SIGKILL.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

pub struct Sluice {
    child: Child,
    log: Receiver<String>,
}

impl Sluice {
    /// `sluice run --api.enabled false -e <config>`.
    pub fn run(config: &str) -> Sluice {
        Sluice::start(&["run", "--api.enabled", "false", "-e", config])
    }

    pub fn start(args: &[&str]) -> Sluice {
        let (child, stderr) = spawn(args);
        let (tx, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Sluice { child, log }
    }

    /// Starts Sluice, waits for its first log line, then closes the pipe its log goes to:
    /// every later log write fails.
    pub fn start_then_close_log(args: &[&str]) -> Sluice {
        let (child, mut stderr) = spawn(args);
        let mut first = String::new();
        stderr.read_line(&mut first).unwrap();
        drop(stderr);
        // No sender: the log reads as ended.
        let (_, log) = mpsc::channel();
        Sluice { child, log }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for a log line containing `text` and returns it.
    pub fn wait_for_log(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let line = self
                .log
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("sluice logged no line with `{text}` in time"));
            if line.contains(text) {
                return line;
            }
        }
    }

    /// Waits for a log line containing each of `texts`, whatever their order, and returns
    /// them in the order asked.
    pub fn wait_for_logs<const N: usize>(&self, texts: [&str; N]) -> [String; N] {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut found: [Option<String>; N] = std::array::from_fn(|_| None);
        while found.iter().any(Option::is_none) {
            let line = self
                .log
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("sluice logged no lines with all of {texts:?} in time"));
            if let Some(i) = (0..N).find(|&i| found[i].is_none() && line.contains(texts[i])) {
                found[i] = Some(line);
            }
        }
        found.map(Option::unwrap)
    }

    /// SIGTERM; Sluice must drain and exit 0. Returns the log lines not read yet.
    pub fn terminate(&mut self) -> Vec<String> {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let status = self.child.wait().unwrap();
        let log: Vec<String> = self.log.iter().collect();
        assert!(status.success(), "{status}:\n{}", log.join("\n"));
        log
    }

    /// SIGKILL: no draining, no last write.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Sluice {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `sluice <args>` with its log (standard error) on a pipe.
fn spawn(args: &[&str]) -> (Child, BufReader<ChildStderr>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .env_remove("RUST_LOG")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    (child, stderr)
}

/// The value of ` name=` in a structured log line, quotes trimmed.
pub fn log_field(line: &str, name: &str) -> Option<String> {
    let rest = line.split(&format!(" {name}=")).nth(1)?;
    Some(rest.split_whitespace().next()?.trim_matches('"').to_owned())
}
