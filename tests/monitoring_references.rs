//! The alert rules (`deploy/prometheus/sluice-rules.yml`) and the Grafana dashboard
//! (`deploy/grafana/sluice.json`) reference only metrics a running Sluice exports, and every
//! dashboard expression is PromQL that promtool 3.x (`scripts/promtool.sh`) accepts.
//!
//! The real `sluice` binary runs a pipeline that exercises every plugin they watch: pylogbeat
//! 2.1.0 into `beats`, jaeger_client 4.8.0 spans over UDP into `jaeger`, OpenTelemetry SDK spans
//! over OTLP/HTTP into `otlp`, a `grok` that fails, conditionals (one that never matches), an
//! `elasticsearch` output whose index refuses the events (400 items, kept in the dead-letter
//! queue) and a Jaeger-schema one that stores the spans, both on the test node. Then `/metrics`
//! is scraped and every name the rules and the dashboard use must be among its samples (so a
//! histogram's `_bucket`, `_sum` and `_count` are checked as they are written).

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::process::{log_field, Sluice};
use common::{es, node, refuse_text_messages, unique};
use hyper::Method;
use serde_json::Value as Json;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The metric names a PromQL expression reads: identifiers that are not functions, keywords,
/// label names (in `{…}` matchers and `by`/`on`/… lists), durations or strings.
fn metric_names(expr: &str) -> Vec<String> {
    // Operators, and aggregations, which may put `by (…)` before their parenthesis.
    const KEYWORDS: &[&str] = &[
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "inf",
        "nan",
        "Inf",
        "NaN",
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
        "limitk",
        "limit_ratio",
    ];
    const LABEL_LISTS: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    let chars: Vec<char> = expr.chars().collect();
    let mut names = Vec::new();
    let mut i = 0;
    // Skips from an opening delimiter to its closing one, strings inside included.
    let skip = |mut i: usize, close: char| -> usize {
        while i < chars.len() && chars[i] != close {
            if matches!(chars[i], '"' | '\'' | '`') {
                let quote = chars[i];
                i += 1;
                while i < chars.len() && chars[i] != quote {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
            }
            i += 1;
        }
        i + 1
    };
    while i < chars.len() {
        let c = chars[i];
        if matches!(c, '"' | '\'' | '`') {
            i = skip(i + 1, c);
        } else if c == '{' {
            i = skip(i + 1, '}');
        } else if c == '[' {
            i = skip(i + 1, ']');
        } else if c.is_ascii_digit() || c == '.' {
            // Numbers and durations (`0.95`, `1e3`, `5m`, `1h30m`).
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '_' | ':'))
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut next = i;
            while next < chars.len() && chars[next].is_whitespace() {
                next += 1;
            }
            let opens = chars.get(next) == Some(&'(');
            if LABEL_LISTS.contains(&word.as_str()) {
                if opens {
                    i = skip(next + 1, ')');
                }
            } else if !opens && !KEYWORDS.contains(&word.as_str()) {
                names.push(word);
            }
        } else {
            i += 1;
        }
    }
    names
}

#[test]
fn metric_names_are_told_apart_from_functions_labels_and_durations() {
    let names = metric_names(
        r#"histogram_quantile(0.95, sum by (le, pipeline) (rate(a_bucket{job="$job", x=~"b{c}"}[$__rate_interval])))
           / on (instance) group_left (plugin) b:recorded offset 1h30m > bool 1e3
           and ignoring(x) c unless d{le="+Inf"}"#,
    );
    assert_eq!(names, ["a_bucket", "b:recorded", "c", "d"]);
}

/// The rules' expressions and the names the recording rules define.
fn rules(path: &Path) -> (Vec<String>, BTreeSet<String>) {
    let text = std::fs::read_to_string(path).unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
    let (mut exprs, mut recorded) = (Vec::new(), BTreeSet::new());
    for group in docs[0]["groups"].as_vec().expect("groups") {
        for rule in group["rules"].as_vec().expect("rules") {
            exprs.push(rule["expr"].as_str().expect("expr").to_owned());
            if let Some(name) = rule["record"].as_str() {
                recorded.insert(name.to_owned());
            }
        }
    }
    (exprs, recorded)
}

/// Every panel target's `expr` and the series selector of every `label_values(…)` variable,
/// with Grafana's variables replaced by what Grafana sends for them.
fn dashboard_queries(path: &Path) -> Vec<String> {
    fn panels(value: &Json, out: &mut Vec<String>) {
        for panel in value["panels"].as_array().into_iter().flatten() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                out.push(target["expr"].as_str().expect("a target's expr").to_owned());
            }
            panels(panel, out);
        }
    }
    let dashboard: Json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut queries = Vec::new();
    panels(&dashboard, &mut queries);
    for variable in dashboard["templating"]["list"].as_array().unwrap() {
        if let Some(query) = variable["definition"].as_str() {
            let selector = query
                .strip_prefix("label_values(")
                .and_then(|q| q.rsplit_once(','))
                .map(|(selector, _label)| selector)
                .unwrap_or_else(|| panic!("a variable query that is not label_values: {query}"));
            queries.push(selector.to_owned());
        }
    }
    queries
        .into_iter()
        .map(|q| {
            q.replace("$__rate_interval", "1m")
                .replace("$job", "sluice")
                .replace("$instance", ".*")
                .replace("$pipeline", ".*")
        })
        .collect()
}

fn promtool() -> PathBuf {
    let promtool = std::env::var_os("SLUICE_PROMTOOL")
        .map_or_else(|| repo("target/peers/bin/promtool"), PathBuf::from);
    assert!(
        promtool.exists(),
        "promtool is missing at {}: run scripts/promtool.sh (scripts/test.sh does)",
        promtool.display()
    );
    promtool
}

#[test]
fn every_dashboard_query_is_promql_that_promtool_accepts() {
    let queries = dashboard_queries(&repo("deploy/grafana/sluice.json"));
    assert!(queries.len() >= 15, "{queries:?}");
    // As recording rules, the one PromQL-parsing command promtool has that needs no server.
    let mut file = tempfile::NamedTempFile::with_suffix(".yml").unwrap();
    writeln!(file, "groups:\n- name: dashboard\n  rules:").unwrap();
    for (i, query) in queries.iter().enumerate() {
        writeln!(file, "  - record: dashboard:query_{i}\n    expr: {query:?}").unwrap();
    }
    let out = Command::new(promtool())
        .args(["check", "rules"])
        .arg(file.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool check rules:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains(&format!("SUCCESS: {} rules found", queries.len())),
        "{report}"
    );
}

/// The Python of the virtualenv `venv` under `target/` (scripts/test.sh makes them).
fn venv_python(venv: &str) -> PathBuf {
    let python = repo("target").join(venv).join("bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/test.sh once",
        python.display()
    );
    python
}

fn run_peer(command: &mut Command) -> String {
    let out = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{command:?} failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn scrape(api: &str) -> String {
    let mut stream = std::net::TcpStream::connect(api).unwrap();
    write!(stream, "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut page = String::new();
    stream.read_to_string(&mut page).unwrap();
    page
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_the_rules_and_the_dashboard_use_is_exported() {
    let (rule_exprs, recorded) = rules(&repo("deploy/prometheus/sluice-rules.yml"));
    let queries = dashboard_queries(&repo("deploy/grafana/sluice.json"));
    let referenced: BTreeSet<String> = rule_exprs
        .iter()
        .chain(&queries)
        .flat_map(|e| metric_names(e))
        // `up` is Prometheus's own series for every scrape target.
        .filter(|name| name != "up" && !recorded.contains(name))
        .collect();
    assert!(
        referenced.contains("sluice_beats_ack_latency_seconds_bucket"),
        "{referenced:?}"
    );

    let logs_index = unique("monitoring-refused");
    // Every beats event comes back 400 and goes to the dead-letter queue.
    refuse_text_messages(&logs_index).await;
    // Fail in seconds, not at the peers' timeouts, when the node cannot place new indices.
    let health = es(
        Method::GET,
        &format!("/_cluster/health/{logs_index}?wait_for_status=yellow&timeout=30s"),
        None,
    )
    .await;
    assert_eq!(
        health["timed_out"], false,
        "the test node leaves {logs_index} unassigned (a disk past its high watermark?): {health}"
    );
    let spans_prefix = unique("monitoring");
    let node = node();
    let connection = node.output_settings();
    // The test node rejects concurrent bulks (429) on purpose: retry them quickly.
    let retries = "retry_initial_interval => 1 retry_max_interval => 1";
    let config = format!(
        r#"input {{
  beats {{ host => "127.0.0.1" port => 0 }}
  jaeger {{ host => "127.0.0.1" thrift_compact_port => 0 thrift_binary_port => 0
            thrift_http_port => 0 grpc_port => 0 sampling_port => 0 }}
  otlp {{ host => "127.0.0.1" grpc_port => 0 http_port => 0 }}
}}
filter {{
  if [fields][service] == "checkout" {{
    grok {{ match => {{ "message" => "^%{{NUMBER:n}} never matches" }} }}
  }}
  if [fields][service] == "never-sent" {{
    mutate {{ add_tag => ["never"] }}
  }}
}}
output {{
  if [@metadata][signal] == "traces" {{
    elasticsearch {{ {connection} {retries} schema => "jaeger" index_prefix => "{spans_prefix}" }}
  }} else {{
    elasticsearch {{ {connection} {retries} index => "{logs_index}" manage_template => false }}
  }}
}}"#
    );
    let dlq = tempfile::tempdir().unwrap();
    let mut sluice = Sluice::start(&[
        "run",
        "--api.http.port",
        "0",
        "--dead_letter_queue.enable",
        "true",
        "--path.dead_letter_queue",
        dlq.path().to_str().unwrap(),
        "-e",
        &config,
    ]);
    let (mut beats, mut compact, mut otlp_http, mut api) = (None, None, None, None);
    while beats.is_none() || compact.is_none() || otlp_http.is_none() || api.is_none() {
        let line = sluice.wait_for_log("listening");
        let port = |field| {
            log_field(&line, field)
                .and_then(|a| a.rsplit(':').next()?.parse::<u16>().ok())
                .expect(field)
        };
        if line.contains("beats input listening") {
            beats = Some(port("address"));
        } else if line.contains("jaeger input listening")
            && log_field(&line, "endpoint").as_deref() == Some("thrift_compact")
        {
            compact = Some(port("address"));
        } else if line.contains("otlp input listening") {
            otlp_http = Some(port("http"));
        } else if line.contains("HTTP API listening") {
            api = Some(log_field(&line, "addr").unwrap());
        }
    }
    let api = api.unwrap();

    let summary = run_peer(&mut common::pylogbeat::driver(
        &beats.unwrap().to_string(),
        2,
        10,
        &[],
    ));
    assert!(!summary.contains("\"error\""), "{summary}");
    run_peer(
        Command::new(venv_python("jaeger-client-venv"))
            .arg(repo("tests/peers/jaeger_client_send.py"))
            // The const sampler never asks the sampling port.
            .args([
                "seed",
                &compact.unwrap().to_string(),
                "1",
                "monitoring",
                "2",
            ]),
    );
    let exported = run_peer(
        Command::new(venv_python("otel-venv"))
            .arg(repo("tests/peers/otel_send.py"))
            .args([
                "traces",
                "http",
                &format!("http://127.0.0.1:{}", otlp_http.unwrap()),
                "3",
                "--timeout",
                "60",
            ]),
    );
    assert!(exported.contains("SUCCESS"), "{exported}");

    let page = scrape(&api);
    sluice.terminate();

    let samples: BTreeSet<&str> = page
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    let missing: Vec<&String> = referenced
        .iter()
        .filter(|name| !samples.contains(name.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "the rules or the dashboard use {missing:?}, which Sluice does not export:\n{page}"
    );
}
