//! `sluice top` in a real terminal: tmux (installed by scripts/test.sh) runs it in a detached
//! session of a fixed size against a real Sluice whose generator pipeline feeds a `null`
//! output; the pane's text must show the pipeline with a non-zero rate, then "disconnected"
//! once that Sluice stops, then the numbers again once one is back on the same port; `q` must
//! end it with status 0.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::process::Sluice;

const PIPELINE: &str = "top-generated";

/// A tmux server of its own (its own socket), ended with the test.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn new() -> Tmux {
        let version = Command::new("tmux").arg("-V").output();
        assert!(
            version.is_ok_and(|v| v.status.success()),
            "tmux is not installed: scripts/test.sh installs it (apt-get install tmux)"
        );
        Tmux {
            socket: format!("sluice-top-test-{}", std::process::id()),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn screen(&self) -> String {
        String::from_utf8(self.run(&["capture-pane", "-p", "-t", "top"]).stdout).unwrap()
    }

    /// Polls the pane until `check` holds, and returns that screen.
    fn wait_for(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if check(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "no {what} on screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

fn start_sluice(api_port: u16) -> Sluice {
    let sluice = Sluice::start(&[
        "run",
        "--pipeline.id",
        PIPELINE,
        "--api.http.port",
        &api_port.to_string(),
        "-e",
        r#"input { generator { lines => ["one", "two"] } } output { null {} }"#,
    ]);
    sluice.wait_for_log("HTTP API listening");
    sluice
}

/// The In/s column of the pipeline's row in the Pipelines table (its first row naming it).
fn events_in(screen: &str) -> Option<String> {
    let row = screen.lines().find(|l| l.contains(PIPELINE))?;
    let cells: Vec<&str> = row
        .split(|c: char| c == '│' || c.is_whitespace())
        .filter(|c| !c.is_empty())
        .collect();
    Some(cells.get(1)?.to_string())
}

#[test]
fn top_shows_a_running_pipeline_survives_its_restart_and_quits_on_q() {
    let api_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut sluice = start_sluice(api_port);
    let dir = tempfile::tempdir().unwrap();
    let status = dir.path().join("status");
    let tmux = Tmux::new();
    let command = format!(
        "{} top --api.http.address 127.0.0.1:{api_port}; echo $? > {}",
        env!("CARGO_BIN_EXE_sluice"),
        status.display()
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "top",
        "-x",
        "120",
        "-y",
        "40",
        &command,
    ]);

    let nonzero = |screen: &str| {
        events_in(screen).is_some_and(|rate| {
            rate.trim_end_matches(['k', 'M', 'G'])
                .parse::<f64>()
                .is_ok_and(|r| r > 0.0)
        })
    };
    let screen = tmux.wait_for("non-zero events/s for the pipeline", nonzero);
    for text in [
        "connected",
        "Pipelines",
        "generator@",
        "null@",
        "input",
        "output",
    ] {
        assert!(screen.contains(text), "{text} is not on screen:\n{screen}");
    }

    sluice.terminate();
    tmux.wait_for("disconnected state", |s| s.contains("disconnected"));
    let _sluice = start_sluice(api_port);
    tmux.wait_for("reconnection with rates", |s| {
        !s.contains("disconnected") && nonzero(s)
    });

    tmux.run(&["send-keys", "-t", "top", "q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !exited(&status) {
        assert!(Instant::now() < deadline, "q did not end sluice top");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(std::fs::read_to_string(&status).unwrap().trim(), "0");
}

fn exited(status: &Path) -> bool {
    std::fs::read_to_string(status).is_ok_and(|s| s.ends_with('\n'))
}
