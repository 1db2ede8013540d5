//! Acceptance: the MangakAI guide's pipeline (`pipelines/mangakai.conf`) on the real `sluice`
//! binary, fed the MangakAI fixtures (`fixtures/mangakai/`) by pylogbeat 2.1.0 as Filebeat
//! would ship them, mailing errors to a real SMTP server (aiosmtpd 1.4.6).
//!
//! The pipeline is the shipped file with only its `elasticsearch { … }` output block replaced
//! by a `file` output (the stand-in for Elasticsearch; same daily name). So its beats input
//! listens on 5044, as shipped: the tests here take turns.
//!
//! - As the seed's `filebeat.yml` has it (`fields_under_root: true`), `service` sits at the
//!   event's root and the pipeline's `[fields][service]` conditionals never match: nothing is
//!   parsed, nothing mailed, and `/metrics` shows each branch evaluated for every event and
//!   matched for none, under the branch labels `sluice check` prints beside its warning that
//!   such a Filebeat leaves those branches unmatched.
//! - With `fields.service` nested (no `fields_under_root`), and the one change a user makes to
//!   stitch stack traces in Sluice instead of Filebeat (the variant config: the input gets
//!   `codec => multiline { pattern => "^(%{TIMESTAMP_ISO8601} |%{IPORHOST} - )" negate =>
//!   true what => previous }`: a codec applies to every file the input receives, so its
//!   pattern names where a backend record *and* an nginx line start), every backend record is
//!   parsed, dated by its own time, ERROR records are tagged and mailed, and every nginx line
//!   is parsed by `%{NGINXACCESS}`.

mod shipping;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::Value as Json;
use shipping::{filebeat_lines, metric, read_events, Shipper, Sluice, SmtpSink, Stream};

/// The shipped pipeline binds port 5044: one test at a time.
static PORT_5044: Mutex<()> = Mutex::new(());

const BACKEND: &str = "/var/log/mangakai/app.log";
const NOISE: &str = "/var/log/mangakai/noise.log";
const NGINX: &str = "/var/log/nginx/access.log";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/mangakai")
        .join(name)
}

/// `text` with the block that starts at `start` (up to its matching `}`) replaced.
fn replace_block(text: &str, start: &str, replacement: &str) -> String {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("no `{start}` in the pipeline"));
    let mut depth = 0;
    for (i, c) in text[from..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    let end = from + i + 1;
                    return format!("{}{replacement}{}", &text[..from], &text[end..]);
                }
            }
            _ => {}
        }
    }
    panic!("`{start}` is not closed");
}

/// The shipped pipeline with Elasticsearch replaced by a file in `dir`; with `multiline`, also
/// the stack-trace stitching a user would add to the beats input.
fn pipeline(dir: &Path, multiline: bool) -> PathBuf {
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/mangakai.conf"),
    )
    .unwrap();
    let mut text = replace_block(
        &shipped,
        "elasticsearch {",
        &format!(
            r#"file {{ path => "{}/mangakai-logs-%{{+YYYY.MM.dd}}.ndjson" }}"#,
            dir.display()
        ),
    );
    if multiline {
        text = replace_block(
            &text,
            "beats {",
            r#"beats {
    port => 5044
    codec => multiline {
      pattern => "^(%{TIMESTAMP_ISO8601} |%{IPORHOST} - )"
      negate => true
      what => previous
      auto_flush_interval => 0.5
    }
  }"#,
        );
    }
    let path = dir.join("mangakai.conf");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the pipeline at `config`, ships the three fixtures from host `web-1` and stops; the
/// events written, Sluice's `/metrics` just before it stopped, and the mails.
fn run(dir: &Path, config: &Path, fields_under_root: bool) -> (Vec<Json>, String, Vec<Json>) {
    let smtp = SmtpSink::start(dir);
    let sluice = Sluice::start(
        &["-f", config.to_str().unwrap()],
        &[
            ("SMTP_HOST", "127.0.0.1".to_owned()),
            ("SMTP_PORT", smtp.port.to_string()),
        ],
    );
    let (backend, noise, nginx) = (
        fixture("backend.log"),
        fixture("noise.log"),
        fixture("nginx-access.log"),
    );
    let streams = [
        Stream {
            file: &backend,
            service: "mangakai-backend",
            host: "web-1",
            path: BACKEND,
        },
        Stream {
            file: &noise,
            service: "mangakai-backend",
            host: "web-1",
            path: NOISE,
        },
        Stream {
            file: &nginx,
            service: "nginx",
            host: "web-1",
            path: NGINX,
        },
    ];
    // Windows of Filebeat's default `bulk_max_size`. pylogbeat waits for each ACK before it
    // sends the next window, so a record split across two windows would be cut by
    // `auto_flush_interval` (docs/MULTILINE.md); Filebeat pipelines windows and does not.
    let mut options = vec!["--window", "2048"];
    if fields_under_root {
        options.push("--fields-under-root");
    }
    Shipper::start(sluice.beats_port(), &streams, &options).finish();
    let metrics = sluice.metrics();
    sluice.terminate();
    let written = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ndjson"))
        .flat_map(|p| read_events(&p))
        .collect();
    (written, metrics, smtp.mails())
}

fn path_of(event: &Json) -> &str {
    event["log"]["file"]["path"].as_str().unwrap()
}

fn tags(event: &Json) -> Vec<&str> {
    event["tags"]
        .as_array()
        .map(|t| t.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default()
}

/// The line an event was made from: `message`, or its first element once grok has appended
/// its capture (the seed's grok writes `%{GREEDYDATA:message}` without `overwrite`).
fn original_message(event: &Json) -> &str {
    match &event["message"] {
        Json::Array(items) => items[0].as_str().unwrap(),
        other => other.as_str().unwrap(),
    }
}

/// The label `sluice check` and `/metrics` give the filter branch on `condition` in `config`.
fn branch_label(config: &Path, condition: &str) -> String {
    let text = std::fs::read_to_string(config).unwrap();
    let line = text
        .lines()
        .position(|l| l.trim() == format!("if {condition} {{"))
        .unwrap_or_else(|| panic!("no branch on {condition}"));
    format!("filter@mangakai.conf:{}", line + 1)
}

/// `sluice_branch_{evaluated,matched}_total` of the branch labelled `branch`.
fn branch_counts(metrics: &str, branch: &str, condition: &str) -> (u64, u64) {
    let labels = format!(
        r#"pipeline="main",branch="{branch}",condition="{}""#,
        condition.replace('"', "\\\"")
    );
    let get = |name| {
        metric(metrics, name, &labels)
            .unwrap_or_else(|| panic!("no {name}{{{labels}}} in\n{metrics}"))
    };
    (
        get("sluice_branch_evaluated_total"),
        get("sluice_branch_matched_total"),
    )
}

const BACKEND_BRANCH: &str = r#"[fields][service] == "mangakai-backend""#;
const NGINX_BRANCH: &str = r#"[fields][service] == "nginx""#;

#[test]
fn with_fields_under_root_as_the_seed_has_it_no_conditional_matches_and_metrics_show_it() {
    let _turn = PORT_5044.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let config = pipeline(dir.path(), false);

    // `sluice check` lists the branches under the labels /metrics counts them by.
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["check", "-f", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(check.status.success());
    let plan = String::from_utf8_lossy(&check.stdout);
    let (backend_branch, nginx_branch) = (
        branch_label(&config, BACKEND_BRANCH),
        branch_label(&config, NGINX_BRANCH),
    );
    for expected in [
        format!("if {BACKEND_BRANCH}  (branch: {backend_branch})"),
        format!("if {NGINX_BRANCH}  (branch: {nginx_branch})"),
    ] {
        assert!(plan.contains(&expected), "{expected:?} not in\n{plan}");
    }
    // …and warns that a `fields_under_root` Filebeat leaves those branches unmatched.
    for branch in [&backend_branch, &nginx_branch] {
        let line = branch.rsplit(':').next().unwrap();
        let warning = format!(
            "mangakai.conf:{line}:3: this condition reads Filebeat's `fields` under `[fields]`; \
             a Filebeat with `fields_under_root: true` puts them at the event's root"
        );
        assert!(plan.contains(&warning), "{warning:?} not in\n{plan}");
    }

    let (events, metrics, mails) = run(dir.path(), &config, true);
    let shipped: usize = ["backend.log", "noise.log", "nginx-access.log"]
        .iter()
        .map(|f| filebeat_lines(&fixture(f)).len())
        .sum();
    assert_eq!(events.len(), shipped, "one event per line, none lost");
    for event in &events {
        assert!(event["service"].is_string(), "service at the root: {event}");
        assert!(event.get("fields").is_none());
        assert!(event.get("level").is_none() && event.get("clientip").is_none());
        assert!(!tags(event).contains(&"error"));
    }
    assert!(mails.is_empty(), "no event was ever tagged error");
    let n = shipped as u64;
    assert_eq!(
        branch_counts(&metrics, &backend_branch, BACKEND_BRANCH),
        (n, 0)
    );
    assert_eq!(branch_counts(&metrics, &nginx_branch, NGINX_BRANCH), (n, 0));
}

/// The backend's records as the multiline rule groups Filebeat's lines: a line starting with
/// a date starts a record. Keyed by the first line's offset.
fn backend_records() -> BTreeMap<u64, String> {
    let starts = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}[.,]\d{3} ").unwrap();
    let mut records: BTreeMap<u64, String> = BTreeMap::new();
    let mut current = None;
    for (offset, line) in filebeat_lines(&fixture("backend.log")) {
        match current {
            Some(start) if !starts.is_match(&line) => {
                let record: &mut String = records.get_mut(&start).unwrap();
                record.push('\n');
                record.push_str(&line);
            }
            _ => {
                records.insert(offset, line);
                current = Some(offset);
            }
        }
    }
    records
}

/// `2026-11-24 09:58:03,827` (or with `T`, or `.`) as the RFC 3339 UTC time the date filter
/// gives it.
fn as_utc(timestamp: &str) -> String {
    format!("{}Z", timestamp.replacen(' ', "T", 1).replace(',', "."))
}

#[test]
fn with_nested_fields_and_multiline_every_record_is_parsed_dated_tagged_and_mailed() {
    let _turn = PORT_5044.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let config = pipeline(dir.path(), true);
    let (events, metrics, mails) = run(dir.path(), &config, false);

    let by_path = |path: &str| -> Vec<&Json> {
        let mut chosen: Vec<&Json> = events.iter().filter(|e| path_of(e) == path).collect();
        chosen.sort_by_key(|e| e["log"]["offset"].as_u64().unwrap());
        chosen
    };

    // Backend: one event per record, whole, with its parsed fields and its own time.
    let records = backend_records();
    let backend = by_path(BACKEND);
    let got: BTreeMap<u64, &str> = backend
        .iter()
        .map(|e| (e["log"]["offset"].as_u64().unwrap(), original_message(e)))
        .collect();
    let want: BTreeMap<u64, &str> = records.iter().map(|(o, r)| (*o, r.as_str())).collect();
    assert_eq!(got, want, "every record whole, stack trace included, once");
    let mut errors = Vec::new();
    for event in &backend {
        let timestamp = event["timestamp"]
            .as_str()
            .unwrap_or_else(|| panic!("{event}"));
        for field in ["level", "logger"] {
            assert!(event[field].is_string(), "no {field} in {event}");
        }
        assert!(
            event["message"][1].is_string(),
            "grok's message capture: {event}"
        );
        assert_eq!(event["@timestamp"], as_utc(timestamp), "{event}");
        let is_error = event["level"] == "ERROR";
        assert_eq!(tags(event).contains(&"error"), is_error, "{event}");
        if original_message(event).contains('\n') {
            assert!(tags(event).contains(&"multiline"), "{event}");
        }
        if is_error {
            errors.push(format!(
                "Error detected: {}",
                event["message"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
    }
    assert!(errors.len() >= 50, "the fixture has its share of errors");
    assert!(
        backend
            .iter()
            .any(|e| original_message(e).contains("\tat com.mangakai")),
        "a Java trace"
    );
    assert!(
        backend
            .iter()
            .any(|e| original_message(e).contains("Traceback (most recent call last):")),
        "a Python traceback"
    );

    // Every ERROR record reached the SMTP server, with the seed's subject and body.
    let mut bodies: Vec<String> = mails
        .iter()
        .map(|m| {
            assert_eq!(m["to"], serde_json::json!(["team@mangakai.com"]));
            assert_eq!(m["subject"], "Error in MangakAI Application");
            m["body"]
                .as_str()
                .unwrap()
                .replace("\r\n", "\n")
                .trim_end()
                .to_owned()
        })
        .collect();
    bodies.sort();
    errors.sort();
    assert_eq!(bodies, errors);

    // nginx: every line parsed by %{NGINXACCESS}.
    let nginx = by_path(NGINX);
    assert_eq!(
        nginx.len(),
        filebeat_lines(&fixture("nginx-access.log")).len()
    );
    for event in &nginx {
        assert!(!tags(event).contains(&"_grokparsefailure"), "{event}");
        // (Its `%{QS:agent}` finds Filebeat's `agent` object in the way and, as Logstash's
        // grok does, leaves it: only strings and arrays take a capture.)
        for field in [
            "clientip",
            "verb",
            "request",
            "response",
            "timestamp",
            "httpversion",
        ] {
            assert!(event[field].is_string(), "no {field} in {event}");
        }
        assert!(event["agent"]["id"].is_string());
    }

    // Noise: every line arrives, in order; what no rule can parse is tagged, not dropped.
    let noise = by_path(NOISE);
    let noise_lines: Vec<String> = filebeat_lines(&fixture("noise.log"))
        .into_iter()
        .map(|(_, l)| l)
        .collect();
    let arrived: Vec<&str> = noise
        .iter()
        .flat_map(|e| original_message(e).split('\n'))
        .collect();
    assert_eq!(arrived, noise_lines);
    assert!(noise.iter().any(|e| tags(e).contains(&"_grokparsefailure")));

    // The branches matched: one evaluation per event, a match per backend or nginx event.
    let n = events.len() as u64;
    assert_eq!(
        branch_counts(
            &metrics,
            &branch_label(&config, BACKEND_BRANCH),
            BACKEND_BRANCH
        ),
        (n, (backend.len() + noise.len()) as u64)
    );
    assert_eq!(
        branch_counts(&metrics, &branch_label(&config, NGINX_BRANCH), NGINX_BRANCH),
        (n, nginx.len() as u64)
    );
    let labels = r#"pipeline="main",plugin="beats@mangakai.conf:4""#;
    assert_eq!(
        metric(&metrics, "sluice_multiline_events_merged_total", labels),
        Some(
            events
                .iter()
                .filter(|e| original_message(e).contains('\n'))
                .count() as u64
        )
    );
}
