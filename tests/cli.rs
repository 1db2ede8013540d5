//! The `sluice` binary, started for real: `check` reports (with no config, on the quickstart),
//! `loadgen beats` feeds a running beats input, `run` moves events from the
//! generator and stdin to the file and stdout outputs, the HTTP API answers, and SIGTERM
//! drains and exits 0.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::process::{log_field, Sluice};

fn sluice() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    command.env_remove("RUST_LOG");
    command
}

/// Runs `sluice args…` with `input` on its standard input; asserts it exits 0 and returns its
/// standard output.
fn sluice_with_stdin(args: &[&str], input: &[u8]) -> String {
    let mut child = sluice()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "sluice {args:?} exited with {}",
        output.status
    );
    String::from_utf8(output.stdout).unwrap()
}

fn seed_config() -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/seed-configs/logstash.conf");
    assert!(
        path.is_file(),
        "the seed config is expected at {} (shared/ beside the repository)",
        path.display()
    );
    path
}

#[test]
fn check_compiles_the_seed_config_and_warns_about_its_grok_capture() {
    let output = sluice()
        .arg("check")
        .arg("-f")
        .arg(seed_config())
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    for plugin in ["beats", "grok", "date", "mutate", "elasticsearch", "email"] {
        assert!(
            stdout.contains(&format!("{plugin} (id: {plugin}@logstash.conf:")),
            "{plugin} missing from the plan:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("grok captures into `message`, the field it matches, without `overwrite`"),
        "{stdout}"
    );
    assert_eq!(
        stdout
            .matches("this condition reads Filebeat's `fields` under `[fields]`")
            .count(),
        2,
        "both [fields][service] branches are flagged:\n{stdout}"
    );
    assert!(stdout.contains("Configuration OK"), "{stdout}");
}

#[test]
fn grok_debugger_prints_captures_or_the_failure_tag() {
    let text = sluice_with_stdin(
        &[
            "grok",
            "--pattern",
            "%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} %{GREEDYDATA:message}",
        ],
        b"2026-11-24 16:17:54,123 ERROR boom\nnot a log line\n",
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].contains(r#""timestamp":"2026-11-24 16:17:54,123""#),
        "{text}"
    );
    assert!(lines[0].contains(r#""level":"ERROR""#), "{text}");
    assert!(lines[1].contains("_grokparsefailure"), "{text}");
}

#[test]
fn check_points_at_a_malformed_config() {
    let output = sluice()
        .args([
            "check",
            "-e",
            "input { generator { count => 1 } }\noutput { stdot {} }",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("config string:2:10: unknown output plugin `stdot`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `stdout`?"), "{stderr}");
}

#[test]
fn run_writes_generated_events_to_the_file_output_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        r#"input {{ generator {{ count => 25 lines => ["one", "two"] }} }}
filter {{ mutate {{ add_field => {{ "[@metadata][kind]" => "gen" }} }} }}
output {{ file {{ path => "{}/out-%{{[@metadata][kind]}}-%{{+YYYY.MM.dd}}.ndjson" }} }}"#,
        dir.path().display()
    );
    let status = sluice()
        .args(["run", "--api.enabled", "false", "-e", &config])
        .status()
        .unwrap();
    assert!(status.success());
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    let today = chrono::Utc::now().format("%Y.%m.%d").to_string();
    assert_eq!(name, format!("out-gen-{today}.ndjson"));
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 25);
    for line in &lines {
        assert!(line.starts_with("{\"message\":\""), "{line}");
        assert!(line.contains("\"@timestamp\":\""), "{line}");
        assert!(
            !line.contains("@metadata"),
            "metadata must never be written: {line}"
        );
    }
}

#[test]
fn stdin_to_stdout_json_lines_ends_with_its_input() {
    let text = sluice_with_stdin(
        &[
            "run",
            "--api.enabled",
            "false",
            "-e",
            "input { stdin {} } output { stdout { codec => json_lines } }",
        ],
        b"first\nsecond \"quoted\"\r\nthird",
    );
    let messages: Vec<&str> = text
        .lines()
        .map(|l| {
            l.split("\"message\":")
                .nth(1)
                .unwrap()
                .split(",\"")
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(
        messages,
        ["\"first\"", r#""second \"quoted\"""#, "\"third\""]
    );
}

#[test]
fn stdin_with_the_multiline_codec_joins_traces_and_flushes_the_last_at_end_of_input() {
    let text = sluice_with_stdin(
        &[
            "run",
            "--api.enabled",
            "false",
            "-e",
            r#"input { stdin { codec => multiline { pattern => "^%{TIMESTAMP_ISO8601} " negate => true what => previous } } }
output { stdout { codec => json_lines } }"#,
        ],
        b"2026-11-24 10:00:00,000 ERROR a failed\nTraceback (most recent call last):\n  File \"a.py\", line 1\nValueError: x\n2026-11-24 10:00:01,000 INFO b\n\tat trailing\n",
    );
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let messages: Vec<&str> = events
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "2026-11-24 10:00:00,000 ERROR a failed\nTraceback (most recent call last):\n  File \"a.py\", line 1\nValueError: x",
            "2026-11-24 10:00:01,000 INFO b\n\tat trailing",
        ]
    );
    assert_eq!(events[0]["tags"], serde_json::json!(["multiline"]));
}

/// Starts `sluice run` with the API on a free port; returns it and the API address.
fn start_with_api(config: &str) -> (Sluice, String) {
    start_with_api_args(&["-e", config])
}

/// Starts `sluice run <config_args>` with the API on a free port.
fn start_with_api_args(config_args: &[&str]) -> (Sluice, String) {
    let mut args = vec!["run", "--api.http.port", "0"];
    args.extend_from_slice(config_args);
    let sluice = Sluice::start(&args);
    let line = sluice.wait_for_log("addr=");
    let addr = log_field(&line, "addr").expect("the API logs its address");
    (sluice, addr)
}

fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

#[test]
fn api_reports_metrics_readiness_and_branch_counters_and_sigterm_drains() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.ndjson");
    let config = format!(
        r#"input {{ generator {{ lines => ["a ERROR b", "all fine"] }} }}
filter {{ if [message] =~ /ERROR/ {{ mutate {{ add_tag => ["error"] }} }} else if [fields][service] == "nginx" {{ drop {{}} }} grok {{ match => {{ "message" => "%{{WORD:a}} ERROR %{{WORD:b}}" }} }} }}
output {{ file {{ path => "{}" flush_interval => 0 }} }}"#,
        path.display()
    );
    let (mut child, addr) = start_with_api(&config);
    let deadline = Instant::now() + Duration::from_secs(30);
    while http_get(&addr, "/ready").0 != 200 {
        assert!(Instant::now() < deadline, "never ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(http_get(&addr, "/live").0, 200);
    for probe in [
        &["health", "--api.http.address", &addr][..],
        &["health", "--live", "--api.http.address", &addr],
    ] {
        let output = sluice().args(probe).output().unwrap();
        assert!(
            output.status.success(),
            "{probe:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let (status, health) = http_get(&addr, "/health");
    assert_eq!(status, 200);
    assert!(health.contains(r#""main":{"ready":true}"#), "{health}");
    std::thread::sleep(Duration::from_millis(300));
    let (_, metrics) = http_get(&addr, "/metrics");
    let value = |prefix: &str| -> u64 {
        metrics
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{metrics}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(value("sluice_input_events_total{pipeline=\"main\"") > 0);
    assert!(
        value("sluice_input_queue_wait_seconds_count{pipeline=\"main\"") > 0,
        "every hand-over to the queue is timed"
    );
    let grok = "{pipeline=\"main\",plugin=\"grok@config string:2\"}";
    let (grok_in, grok_failed) = (
        value(&format!("sluice_filter_events_in_total{grok}")),
        value(&format!("sluice_filter_failures_total{grok}")),
    );
    assert!(
        grok_failed > 0 && grok_failed < grok_in,
        "\"all fine\" lines fail the grok, \"a ERROR b\" lines do not: {grok_failed} of {grok_in}"
    );
    let nginx_branch = "sluice_branch_matched_total{pipeline=\"main\",branch=\"filter@config string:2\",condition=\"[fields][service] == \\\"nginx\\\"\"}";
    assert_eq!(value(nginx_branch), 0, "the nginx branch never matches");
    assert!(value("sluice_branch_matched_total{pipeline=\"main\",branch=\"filter@config string:2\",condition=\"[message] =~ /ERROR/\"}") > 0);

    // SIGTERM drains and exits 0.
    child.terminate();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with('\n'), "no torn last line");
    assert!(text.lines().all(|l| l.starts_with('{') && l.ends_with('}')));
}

#[test]
fn check_without_a_config_compiles_the_quickstart_beats_pipeline() {
    let output = sluice()
        .env_remove("SLUICE_BEATS_PORT")
        .arg("check")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("beats"), "{stdout}");
    assert!(stdout.ends_with("Configuration OK\n"), "{stdout}");
}

#[test]
fn loadgen_beats_sends_to_a_running_beats_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.ndjson");
    let config = format!(
        r#"input {{ beats {{ host => "127.0.0.1" port => 0 }} }}
output {{ file {{ path => "{}" flush_interval => 0 }} }}"#,
        path.display()
    );
    let mut child = Sluice::run(&config);
    let listening = child.wait_for_log("beats input listening");
    let address = log_field(&listening, "address").expect("the beats input logs its address");
    let output = sluice()
        .args(["loadgen", "beats", &address, "--events", "5000"])
        .args(["--window-size", "1000", "--connections", "2"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Two connections of 2 500 events: windows of 1 000, 1 000 and 500 each.
    assert!(
        stdout.starts_with("5000 events in 6 windows over 2 connection(s)"),
        "{stdout}"
    );
    child.terminate();
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(written.lines().count(), 5000);
}

#[test]
fn a_closed_log_pipe_does_not_take_the_pipeline_down() {
    let mut child = Sluice::start_then_close_log(&[
        "run",
        "--api.enabled",
        "false",
        "-e",
        "input { generator {} } output { null {} }",
    ]);
    // SIGTERM with a closed log pipe still drains and exits 0.
    child.terminate();
}

#[test]
fn every_shipped_pipeline_compiles() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "conf") {
            let output = sluice().arg("check").arg("-f").arg(&path).output().unwrap();
            assert!(
                output.status.success(),
                "{}: {}",
                path.display(),
                String::from_utf8_lossy(&output.stderr)
            );
            checked += 1;
        }
    }
    assert!(checked >= 2, "quickstart.conf and mangakai.conf at least");
}

#[test]
fn the_shipped_pipelines_yml_checks() {
    let settings = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let output = sluice()
        .args(["check", "--path.settings"])
        .arg(&settings)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Two pipelines from one `pipelines.yml`, each with the settings its entry gives.
fn two_pipelines(
    dir: &std::path::Path,
    logs_count: &str,
    traces_count: &str,
) -> std::path::PathBuf {
    let logs = dir.join("logs.conf");
    std::fs::write(
        &logs,
        format!(
            r#"input {{ generator {{ {logs_count} lines => ["log line"] }} }}
filter {{ if [message] == "never" {{ drop {{}} }} }}
output {{ file {{ path => "{}/logs.ndjson" flush_interval => 0 }} }}"#,
            dir.display()
        ),
    )
    .unwrap();
    let settings = dir.join("settings");
    std::fs::create_dir(&settings).unwrap();
    std::fs::write(
        settings.join("pipelines.yml"),
        format!(
            r#"# Two pipelines in one process; a relative path.config is the file's neighbour.
- pipeline.id: logs
  path.config: "../logs.conf"
  pipeline.workers: 2
- pipeline.id: traces
  config.string: 'input {{ generator {{ {traces_count} lines => ["span"] }} }} output {{ file {{ path => "{}/traces.ndjson" flush_interval => 0 }} }}'
  pipeline.workers: 1
  pipeline.batch.size: 7
"#,
            dir.display()
        ),
    )
    .unwrap();
    settings
}

#[test]
fn pipelines_yml_runs_each_pipeline_with_its_own_settings_until_all_end() {
    let dir = tempfile::tempdir().unwrap();
    let settings = two_pipelines(dir.path(), "count => 40", "count => 15");
    let check = sluice()
        .args(["check", "--path.settings"])
        .arg(&settings)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        report.contains("== pipeline `logs`") && report.contains("== pipeline `traces`"),
        "{report}"
    );

    let status = sluice()
        .args(["run", "--api.enabled", "false", "--path.settings"])
        .arg(&settings)
        .status()
        .unwrap();
    assert!(status.success());
    let lines = |name: &str| {
        std::fs::read_to_string(dir.path().join(name))
            .unwrap()
            .lines()
            .count()
    };
    assert_eq!(lines("logs.ndjson"), 40);
    assert_eq!(lines("traces.ndjson"), 15);
}

#[test]
fn pipelines_yml_pipelines_report_apart_and_stop_together() {
    let dir = tempfile::tempdir().unwrap();
    let settings = two_pipelines(dir.path(), "", "");
    let settings = settings.to_str().unwrap();
    let (mut child, addr) = start_with_api_args(&["--path.settings", settings]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while http_get(&addr, "/ready").0 != 200 {
        assert!(Instant::now() < deadline, "never ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (_, health) = http_get(&addr, "/health");
    assert!(health.contains(r#""logs":{"ready":true}"#), "{health}");
    assert!(health.contains(r#""traces":{"ready":true}"#), "{health}");
    std::thread::sleep(Duration::from_millis(300));
    let (_, metrics) = http_get(&addr, "/metrics");
    for pipeline in ["logs", "traces"] {
        assert!(
            metrics.contains(&format!(
                "sluice_pipeline_queue_capacity_events{{pipeline=\"{pipeline}\"}}"
            )),
            "{metrics}"
        );
    }
    assert!(
        metrics.contains("sluice_pipeline_queue_capacity_events{pipeline=\"traces\"} 7"),
        "workers × batch size of its own entry"
    );
    assert!(
        metrics.contains("sluice_pipeline_queue_capacity_events{pipeline=\"logs\"} 250"),
        "workers 2 × the default batch"
    );

    // Both pipelines drain and the process exits 0.
    child.terminate();
    for name in ["logs.ndjson", "traces.ndjson"] {
        let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert!(
            !text.is_empty() && text.ends_with('\n'),
            "{name} drained whole"
        );
    }
}

#[test]
fn a_bad_pipeline_in_pipelines_yml_starts_nothing_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("pipelines.yml");
    std::fs::write(
        &settings,
        format!(
            "- pipeline.id: good\n  config.string: 'input {{ generator {{ count => 5 }} }} output {{ file {{ path => \"{}/good.ndjson\" }} }}'\n- pipeline.id: bad\n  config.string: 'input {{ generator {{}} }} output {{ stdot {{}} }}'\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let output = sluice()
        .args(["run", "--api.enabled", "false", "--path.settings"])
        .arg(&settings)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("pipeline `bad`:"), "{stderr}");
    assert!(stderr.contains("unknown output plugin `stdot`"), "{stderr}");
    assert!(!dir.path().join("good.ndjson").exists(), "nothing started");

    std::fs::write(
        &settings,
        "- pipeline.id: a\n  path.config: x\n  pipeline.wrokers: 2\n",
    )
    .unwrap();
    let output = sluice()
        .args(["check", "--path.settings"])
        .arg(&settings)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unknown setting `pipeline.wrokers`; did you mean `pipeline.workers`?"),
        "{stderr}"
    );
}

#[test]
fn health_fails_clearly_when_nothing_answers() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = sluice()
        .args(["health", "--api.http.address", &format!("127.0.0.1:{port}")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("unhealthy: cannot reach the API at 127.0.0.1:"),
        "{stderr}"
    );
}
