//! The real `sluice` binary's `otlp` input against the real OpenTelemetry Python SDK 1.45.2
//! (its OTLP/gRPC and OTLP/HTTP exporters, through `tests/peers/otel_send.py`), raw HTTP
//! requests for OTLP/JSON and hostile bodies, and telemetrygen v0.161.0 for volume, into the
//! `file` output.
//!
//! The file output finalizes events only after flushing them, so a span the SDK saw exported
//! must already be in the file when its `export` call returns: every test checks that.
//!
//! The SDK lives in a virtualenv that `scripts/otel-python.sh` creates (`target/otel-venv`,
//! exported by `scripts/test.sh` as `SLUICE_OTEL_PYTHON`); telemetrygen is built by
//! `scripts/telemetrygen.sh` (`SLUICE_TELEMETRYGEN`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use serde_json::Value;

mod common;
use common::fifo::{wait_for_trace, Fifo};
use common::process::{self, log_field};

/// The Python that has the SDK: `SLUICE_OTEL_PYTHON`, else the virtualenv of
/// `scripts/otel-python.sh`.
fn python() -> PathBuf {
    let python = std::env::var_os("SLUICE_OTEL_PYTHON").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/otel-venv/bin/python"),
        PathBuf::from,
    );
    let usable = Command::new(&python)
        .args([
            "-c",
            "import opentelemetry.exporter.otlp.proto.grpc, opentelemetry.exporter.otlp.proto.http",
        ])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        usable,
        "the OpenTelemetry SDK is not importable by {}: run scripts/otel-python.sh once, or set \
         SLUICE_OTEL_PYTHON to a Python that has it",
        python.display()
    );
    python
}

/// `sluice run` with an otlp input on free ports and the API on a free port.
struct Sluice {
    _process: process::Sluice,
    grpc: String,
    http: String,
    api: String,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

impl Sluice {
    /// `otlp_settings` are added to the input; `output` is the output block, in which
    /// `OUT` stands for the output file's path.
    fn start(otlp_settings: &str, filter: &str, output: &str) -> Sluice {
        Sluice::start_with(&[], otlp_settings, filter, output)
    }

    /// `start` with more command-line arguments (pipeline settings).
    fn start_with(args: &[&str], otlp_settings: &str, filter: &str, output: &str) -> Sluice {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.ndjson");
        let config = format!(
            r#"input {{ otlp {{ host => "127.0.0.1" grpc_port => 0 http_port => 0 {otlp_settings} }} }}
filter {{ {filter} }}
output {{ {} }}"#,
            output.replace("OUT", &out.display().to_string())
        );
        let mut all_args = vec!["run", "--api.http.port", "0", "-e", &config];
        all_args.extend_from_slice(args);
        let process = process::Sluice::start(&all_args);
        let [input, api] = process.wait_for_logs(["otlp input listening", "HTTP API listening"]);
        let field = |line: &str, name| log_field(line, name).expect(name);
        Sluice {
            grpc: field(&input, "grpc"),
            http: field(&input, "http"),
            api: field(&api, "addr"),
            _process: process,
            out,
            _dir: dir,
        }
    }

    /// `otel_send.py` with `args`, its one JSON line.
    fn send(&self, args: &[&str]) -> Value {
        let output = Command::new(python())
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/peers/otel_send.py"
            ))
            .args(args)
            // requests lets these override the exporter's own `certificate_file`.
            .env_remove("REQUESTS_CA_BUNDLE")
            .env_remove("CURL_CA_BUNDLE")
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout:?}"))
    }

    fn export(&self, signal: &str, protocol: &str, count: usize) -> Value {
        let endpoint = match protocol {
            "grpc" => format!("http://{}", self.grpc),
            _ => format!("http://{}", self.http),
        };
        self.send(&[signal, protocol, &endpoint, &count.to_string()])
    }

    /// Every document in the output file so far.
    fn written(&self) -> Vec<Value> {
        common::json_lines(&self.out)
    }

    fn with_trace_id(&self, field: &str, trace_id: &str) -> Vec<Value> {
        self.written()
            .into_iter()
            .filter(|d| d[field] == trace_id)
            .collect()
    }

    /// One raw HTTP/1.1 POST to the OTLP/HTTP port.
    fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        post(&self.http, path, headers, body)
    }

    /// The value of the first `/metrics` series whose line starts with `prefix`.
    fn metric(&self, prefix: &str) -> u64 {
        self.metric_where(|l| l.starts_with(prefix), prefix)
    }

    /// The value of the first `/metrics` series whose line contains every one of `parts`.
    fn metric_with(&self, parts: &[&str]) -> u64 {
        self.metric_where(|l| parts.iter().all(|p| l.contains(p)), &parts.join(" "))
    }

    fn metric_where(&self, line: impl Fn(&str) -> bool, prefix: &str) -> u64 {
        let mut stream = TcpStream::connect(&self.api).unwrap();
        write!(stream, "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        text.lines()
            .find(|l| line(l))
            .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }
}

/// One raw HTTP/1.1 POST to `addr`: status, headers (lowercase) and body.
fn post(addr: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // A server may answer (413) before reading everything; a reset then is fine.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP answer: {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).to_lowercase();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    Response {
        status,
        head,
        body: raw[split + 4..].to_vec(),
    }
}

struct Response {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Response {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(&self.body)))
    }
}

fn tag<'a>(doc: &'a Value, key: &str) -> &'a Value {
    doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == key)
        .unwrap_or_else(|| panic!("no tag {key} in {doc}"))
}

const FILE: &str = r#"file { path => "OUT" flush_interval => 0 }"#;

#[test]
fn sdk_spans_over_grpc_and_http_arrive_as_jaeger_spans() {
    let sluice = Sluice::start("", "", FILE);
    for (protocol, count) in [("grpc", 3), ("http", 5)] {
        let sent = sluice.export("traces", protocol, count);
        assert_eq!(sent["result"], "SUCCESS", "{protocol}: {sent}");
        let trace_id = sent["trace_id"].as_str().unwrap();
        let spans = sluice.with_trace_id("traceID", trace_id);
        assert_eq!(spans.len(), count, "{protocol}: every span, once");

        let root = spans
            .iter()
            .find(|s| s["operationName"] == "GET /orders")
            .unwrap();
        assert!(root.get("parentSpanID").is_none());
        assert_eq!(root["references"], serde_json::json!([]));
        assert_eq!(root["process"]["serviceName"], "otel-python-peer");
        assert!(root["process"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["key"] == "deployment.environment" && t["value"] == "test"));
        assert_eq!(tag(root, "span.kind")["value"], "server");
        assert_eq!(tag(root, "http.status_code")["type"], "int64");
        assert_eq!(tag(root, "http.status_code")["value"], 500);
        assert_eq!(tag(root, "retry")["value"], true);
        assert_eq!(tag(root, "ratio")["type"], "float64");
        assert_eq!(tag(root, "ids")["value"], "[1,2,3]");
        assert_eq!(tag(root, "error")["value"], true);
        assert!(
            root["tags"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["key"] != "otel.status_code"),
            "Jaeger writes an error as `error` alone"
        );
        assert_eq!(
            tag(root, "otel.status_description")["value"],
            "database down"
        );
        assert_eq!(tag(root, "otel.scope.name")["value"], "sluice.tests");
        assert_eq!(tag(root, "otel.scope.version")["value"], "1.0");
        let log = &root["logs"][0];
        assert_eq!(log["fields"][0]["key"], "event");
        assert_eq!(log["fields"][0]["value"], "cache miss");
        assert_eq!(log["fields"][1]["value"], "orders:7");
        assert!(root["startTime"].as_i64().unwrap() > 1_700_000_000_000_000);
        assert_eq!(
            root["startTimeMillis"].as_i64().unwrap(),
            root["startTime"].as_i64().unwrap() / 1000
        );

        for child in spans.iter().filter(|s| s["operationName"] != "GET /orders") {
            assert_eq!(child["parentSpanID"], root["spanID"]);
            assert_eq!(child["references"][0]["refType"], "CHILD_OF");
            assert_eq!(child["references"][0]["spanID"], root["spanID"]);
            assert_eq!(tag(child, "span.kind")["value"], "internal");
        }
    }
    let received = |transport: &str| {
        sluice.metric(&format!(
            "sluice_otlp_items_received_total{{pipeline=\"main\",plugin=\"otlp@config string:1\",signal=\"traces\",transport=\"{transport}\",format=\"protobuf\"}}"
        ))
    };
    assert_eq!(received("grpc"), 3);
    assert_eq!(received("http"), 5);
    assert_eq!(
        sluice.metric("sluice_otlp_requests_total{pipeline=\"main\",plugin=\"otlp@config string:1\",signal=\"traces\",transport=\"grpc\",status=\"OK\"}"),
        1
    );
}

#[test]
fn gzip_compressed_exports_over_both_transports() {
    let sluice = Sluice::start("", "", FILE);
    for (signal, protocol, address, field) in [
        ("traces", "grpc", &sluice.grpc, "traceID"),
        ("logs", "http", &sluice.http, "trace_id"),
    ] {
        let endpoint = format!("http://{address}");
        let sent = sluice.send(&[signal, protocol, &endpoint, "3", "--gzip"]);
        assert_eq!(
            sent["result"], "SUCCESS",
            "{signal} over {protocol}: {sent}"
        );
        let trace_id = sent["trace_id"].as_str().unwrap();
        assert_eq!(sluice.with_trace_id(field, trace_id).len(), 3);
    }
}

#[test]
fn sdk_logs_over_grpc_and_http_go_through_filters_like_beats_events() {
    let filter = r#"if [level] == "ERROR" { grok { match => { "message" => "disk full on %{NOTSPACE:device}" } } }"#;
    let sluice = Sluice::start("", filter, FILE);
    for protocol in ["grpc", "http"] {
        let sent = sluice.export("logs", protocol, 2);
        assert_eq!(sent["result"], "SUCCESS", "{protocol}: {sent}");
        let trace_id = sent["trace_id"].as_str().unwrap();
        let mut events = sluice.with_trace_id("trace_id", trace_id);
        assert_eq!(events.len(), 2, "{protocol}");
        events.sort_by_key(|e| e["attributes"]["disk.index"].as_i64());
        for (i, event) in events.iter().enumerate() {
            assert_eq!(event["message"], format!("disk full on /dev/sda{i}"));
            assert_eq!(
                event["device"],
                format!("/dev/sda{i}"),
                "grok ran on the body"
            );
            assert_eq!(event["level"], "ERROR");
            assert_eq!(event["span_id"].as_str().unwrap().len(), 16);
            assert_eq!(event["attributes"]["disk.index"], i);
            assert_eq!(
                event["resource"]["attributes"]["service.name"],
                "otel-python-peer"
            );
            assert_eq!(event["scope"]["name"], "sluice.tests");
            assert!(event["@timestamp"].as_str().unwrap().starts_with("20"));
        }
    }
}

#[test]
fn success_waits_for_the_output_and_a_failing_output_makes_senders_back_off() {
    // The file output holds events (and so their receipts) for two seconds before flushing.
    let holding = Sluice::start("", "", r#"file { path => "OUT" flush_interval => 2 }"#);
    for (signal, protocol, field) in [
        ("traces", "grpc", "traceID"),
        ("traces", "http", "traceID"),
        ("logs", "grpc", "trace_id"),
        ("logs", "http", "trace_id"),
    ] {
        let sent = holding.export(signal, protocol, 2);
        assert_eq!(sent["result"], "SUCCESS", "{signal} {protocol}: {sent}");
        // Answered only after the flush: the items are already in the file.
        let trace_id = sent["trace_id"].as_str().unwrap();
        assert_eq!(
            holding.with_trace_id(field, trace_id).len(),
            2,
            "{signal} over {protocol} was answered before the output flushed"
        );
    }

    // A file under /dev/null cannot be created: every event fails.
    let failing = Sluice::start("", "", r#"file { path => "/dev/null/OUT" }"#);
    let raw = failing.send(&["raw-grpc", &failing.grpc]);
    assert_eq!(raw["code"], "UNAVAILABLE", "{raw}");
    assert_eq!(raw["retry_delay_seconds"], 5.0, "{raw}");
    let answer = failing.post(
        "/v1/traces",
        &[("Content-Type", "application/x-protobuf")],
        &request(vec![span(1, 1)]).encode_to_vec(),
    );
    assert_eq!(answer.status, 503);
    assert!(answer.head.contains("retry-after: 5"), "{}", answer.head);
    let endpoint = format!("http://{}", failing.http);
    let sent = failing.send(&["traces", "http", &endpoint, "1", "--timeout", "3"]);
    assert_eq!(sent["result"], "FAILURE", "{sent}");
}

/// The pipeline is made to fill for real: its output is a `file` output on a FIFO that nobody
/// reads yet, so the output's `open` blocks and it takes no more batches; with one worker, a
/// batch size of one and a queue of one event, a few one-span requests fill everything
/// behind it. Later requests must be refused with 429 / `UNAVAILABLE` and a retry delay
/// after `max_queue_wait_ms`, the endpoints must keep answering, and once the FIFO is read
/// every request that was accepted must be answered 200 with its span in the output.
#[test]
fn a_full_pipeline_asks_senders_to_retry_and_loses_nothing_it_accepted() {
    let fifo = Fifo::new();
    let sluice = Sluice::start_with(
        &["-w", "1", "-b", "1", "--queue.max_events", "1"],
        "max_queue_wait_ms => 300",
        "",
        // A FIFO cannot be synced: `fsync` off.
        &format!(
            r#"file {{ path => "{}" flush_interval => 0 fsync => false }}"#,
            fifo.path.display()
        ),
    );
    let protobuf = [("Content-Type", "application/x-protobuf")];

    // Requests that get in wait for their receipts, so each is sent from its own thread.
    let mut in_flight = Vec::new();
    let mut refused = None;
    for n in 1..=20u128 {
        let addr = sluice.http.clone();
        let body = request(vec![span(n, 1)]).encode_to_vec();
        let sender = std::thread::spawn(move || post(&addr, "/v1/traces", &protobuf, &body));
        std::thread::sleep(Duration::from_millis(600));
        if sender.is_finished() {
            refused = Some(sender.join().unwrap());
            break;
        }
        in_flight.push((n, sender));
    }
    let refused = refused.expect("20 requests and the pipeline never filled");
    assert_eq!(refused.status, 429, "{}", refused.head);
    assert!(refused.head.contains("retry-after: 1"), "{}", refused.head);
    assert!(!in_flight.is_empty(), "the first request must get in");

    let raw = sluice.send(&["raw-grpc", &sluice.grpc]);
    assert_eq!(raw["code"], "UNAVAILABLE", "{raw}");
    assert_eq!(raw["retry_delay_seconds"], 1.0, "{raw}");
    let answered = |transport: &str, status: &str| {
        sluice.metric_with(&[
            "sluice_otlp_requests_total{",
            &format!("transport=\"{transport}\""),
            &format!("status=\"{status}\""),
        ])
    };
    assert_eq!(answered("http", "429"), 1);
    assert_eq!(answered("grpc", "UNAVAILABLE"), 1);

    // Now read the FIFO: the output opens it, writes, and every accepted request is answered.
    let received = fifo.read_lines();
    let mut written = std::collections::HashSet::new();
    for (n, sender) in in_flight {
        let answer = sender.join().unwrap();
        assert_eq!(answer.status, 200, "request {n}: {}", answer.head);
        wait_for_trace(&received, &mut written, &format!("{n:032x}"));
    }
    assert!(
        !written.contains(&format!("{:032x}", 21)),
        "nothing beyond the requests sent"
    );
}

fn request(spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue("raw".into())),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn span(trace_id: u128, span_id: u64) -> Span {
    Span {
        trace_id: trace_id.to_be_bytes().to_vec(),
        span_id: span_id.to_be_bytes().to_vec(),
        name: "raw".into(),
        start_time_unix_nano: 1_700_000_000_000_000_000,
        end_time_unix_nano: 1_700_000_000_500_000_000,
        ..Default::default()
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn hostile_input_is_refused_clearly_counted_and_the_input_keeps_serving() {
    let sluice = Sluice::start(
        "max_request_bytes => 65536 max_decompressed_bytes => 1048576",
        "",
        FILE,
    );
    let protobuf = [("Content-Type", "application/x-protobuf")];
    let json = [("Content-Type", "application/json")];
    let valid = request(vec![span(0xabc, 1)]).encode_to_vec();

    let truncated = sluice.post("/v1/traces", &protobuf, &valid[..valid.len() - 3]);
    assert_eq!(truncated.status, 400);
    let garbage = sluice.post(
        "/v1/traces",
        &protobuf,
        b"\x0a\xff\xff\xff\xff\x0f not protobuf",
    );
    assert_eq!(garbage.status, 400);
    let bad_json = sluice.post("/v1/logs", &json, br#"{"resourceLogs":[{"scopeLogs":"#);
    assert_eq!(bad_json.status, 400);
    assert_eq!(bad_json.json()["code"], 3);
    let wrong_type = sluice.post("/v1/traces", &[("Content-Type", "text/plain")], &valid);
    assert_eq!(wrong_type.status, 415);
    let oversized = sluice.post("/v1/traces", &protobuf, &vec![0x0a; 100_000]);
    assert_eq!(oversized.status, 413);
    let bomb = gzip(&vec![0u8; 8 << 20]);
    assert!(
        bomb.len() < 65536,
        "the bomb itself fits in max_request_bytes"
    );
    let bombed = sluice.post(
        "/v1/traces",
        &[
            ("Content-Type", "application/x-protobuf"),
            ("Content-Encoding", "gzip"),
        ],
        &bomb,
    );
    assert_eq!(bombed.status, 413);
    let garbage_grpc = sluice.send(&["garbage-grpc", &sluice.grpc]);
    assert_eq!(garbage_grpc["code"], "INVALID_ARGUMENT", "{garbage_grpc}");
    let oversized_grpc = sluice.send(&["garbage-grpc", &sluice.grpc, "100000"]);
    assert_eq!(
        oversized_grpc["code"], "RESOURCE_EXHAUSTED",
        "{oversized_grpc}"
    );

    // OTLP/JSON with hex ids: a 16-digit and an all-zero trace id are refused one by one; a
    // span ending before it starts is stored with duration 0; the last nanosecond u64 can
    // express (2554) is stored as is.
    let body = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"json"}}]},
      "scopeSpans":[{"spans":[
        {"traceId":"5b8efff798038103","spanId":"eee19b7ec3c1b174","name":"short id","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000000000001"},
        {"traceId":"00000000000000000000000000000000","spanId":"eee19b7ec3c1b175","name":"zero id","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000000000001"},
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b176","name":"backwards","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1600000000000000000","kind":3,"attributes":[{"key":"n","value":{"intValue":"7"}}]},
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b177","name":"far future","startTimeUnixNano":"18446744073709551615","endTimeUnixNano":"18446744073709551615"}
      ]}]}]}"#;
    let partial = sluice.post("/v1/traces", &json, body.as_bytes());
    assert_eq!(partial.status, 200);
    let answer = partial.json();
    assert_eq!(answer["partialSuccess"]["rejectedSpans"], 2, "{answer}");
    assert!(answer["partialSuccess"]["errorMessage"]
        .as_str()
        .unwrap()
        .contains("trace_id must be 16 bytes"));
    let stored = sluice.with_trace_id("traceID", "5b8efff798038103d269b633813fc60c");
    assert_eq!(stored.len(), 2);
    let backwards = stored
        .iter()
        .find(|s| s["operationName"] == "backwards")
        .unwrap();
    assert_eq!(backwards["duration"], 0);
    assert_eq!(tag(backwards, "n")["value"], 7);
    assert_eq!(tag(backwards, "span.kind")["value"], "client");
    let far = stored
        .iter()
        .find(|s| s["operationName"] == "far future")
        .unwrap();
    assert_eq!(far["startTime"], 18_446_744_073_709_551i64);

    // Still serving, over both transports.
    let ok = sluice.post("/v1/traces", &protobuf, &valid);
    assert_eq!(ok.status, 200);
    assert_eq!(
        sluice
            .with_trace_id("traceID", &format!("{:032x}", 0xabc))
            .len(),
        1
    );
    assert_eq!(sluice.export("traces", "grpc", 1)["result"], "SUCCESS");

    let labels = "pipeline=\"main\",plugin=\"otlp@config string:1\"";
    let rejected = |reason: &str| {
        sluice.metric(&format!(
            "sluice_otlp_items_rejected_total{{{labels},signal=\"traces\",reason=\"{reason}\"}}"
        ))
    };
    assert_eq!(rejected("trace_id_length"), 1);
    assert_eq!(rejected("trace_id_zero"), 1);
    let answered = |signal: &str, status: &str| {
        sluice.metric(&format!(
            "sluice_otlp_requests_total{{{labels},signal=\"{signal}\",transport=\"http\",status=\"{status}\"}}"
        ))
    };
    assert_eq!(answered("traces", "400"), 2);
    assert_eq!(answered("logs", "400"), 1);
    assert_eq!(answered("traces", "413"), 2);
    assert_eq!(answered("traces", "415"), 1);
    assert_eq!(answered("traces", "200"), 2);
}

/// telemetrygen v0.161.0: `SLUICE_TELEMETRYGEN`, else what `scripts/telemetrygen.sh` builds.
fn telemetrygen() -> PathBuf {
    let path = std::env::var_os("SLUICE_TELEMETRYGEN").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/peers/bin/telemetrygen"),
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "no telemetrygen at {}: run scripts/telemetrygen.sh once, or set SLUICE_TELEMETRYGEN",
        path.display()
    );
    path
}

fn run_telemetrygen(args: &[&str]) {
    let output = Command::new(telemetrygen()).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "telemetrygen {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn telemetrygen_volume_arrives_complete_over_grpc_and_http() {
    let sluice = Sluice::start(
        "",
        "",
        r#"file { path => "OUT" flush_interval => 0 fsync => false }"#,
    );
    // Each trace is two spans. A modest `--rate` keeps telemetrygen's own SDK queue (2048
    // spans) from overflowing: above ~1000/s per worker it drops spans before sending them,
    // which Sluice then never sees (its received counter shows it).
    run_telemetrygen(&[
        "traces",
        "--otlp-insecure",
        "--otlp-endpoint",
        &sluice.grpc,
        "--traces",
        "1000",
        "--workers",
        "2",
        "--rate",
        "500",
        "--service",
        "tg-grpc",
    ]);
    run_telemetrygen(&[
        "traces",
        "--otlp-insecure",
        "--otlp-http",
        "--otlp-endpoint",
        &sluice.http,
        "--traces",
        "500",
        "--workers",
        "2",
        "--rate",
        "500",
        "--service",
        "tg-http",
    ]);
    run_telemetrygen(&[
        "logs",
        "--otlp-insecure",
        "--otlp-endpoint",
        &sluice.grpc,
        "--logs",
        "1500",
        "--workers",
        "2",
        "--rate",
        "1000",
        "--body",
        "volume test line",
    ]);
    let written = sluice.written();
    let spans_of = |service: &str| {
        written
            .iter()
            .filter(|d| d["process"]["serviceName"] == service)
            .count()
    };
    assert_eq!(spans_of("tg-grpc"), 2 * 1000 * 2, "every gRPC span, once");
    assert_eq!(spans_of("tg-http"), 2 * 500 * 2, "every HTTP span, once");
    let logs = written
        .iter()
        .filter(|d| d["message"] == "volume test line")
        .count();
    assert_eq!(logs, 2 * 1500, "every log record, once");
    let labels = "pipeline=\"main\",plugin=\"otlp@config string:1\"";
    assert_eq!(
        sluice.metric(&format!("sluice_otlp_items_received_total{{{labels},signal=\"traces\",transport=\"grpc\",format=\"protobuf\"}}")),
        4000
    );
    assert_eq!(
        sluice.metric(&format!("sluice_otlp_items_received_total{{{labels},signal=\"logs\",transport=\"grpc\",format=\"protobuf\"}}")),
        3000
    );
}

/// A CA and a server certificate for 127.0.0.1, as PEM files in a temporary directory.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa,
            KeyPair,
        };
        let named = |name: &str| {
            let mut dn = DistinguishedName::new();
            dn.push(DnType::CommonName, name);
            dn
        };
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = named("Sluice otlp test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
        params.distinguished_name = named("sluice");
        let cert = params.signed_by(&key, &ca).unwrap();
        let pki = Pki {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::write(pki.path("ca.pem"), ca.pem()).unwrap();
        std::fs::write(pki.path("server.pem"), cert.pem()).unwrap();
        std::fs::write(pki.path("server.key"), key.serialize_pem()).unwrap();
        pki
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

#[test]
fn tls_on_both_ports_with_the_beats_settings() {
    let pki = Pki::new();
    let settings = format!(
        r#"ssl_enabled => true ssl_certificate => "{}" ssl_key => "{}""#,
        pki.path("server.pem"),
        pki.path("server.key")
    );
    let sluice = Sluice::start(&settings, "", FILE);
    let ca = pki.path("ca.pem");
    for (signal, protocol, address, field) in [
        ("traces", "grpc", &sluice.grpc, "traceID"),
        ("logs", "http", &sluice.http, "trace_id"),
    ] {
        let endpoint = format!("https://{address}");
        let sent = sluice.send(&[signal, protocol, &endpoint, "2", "--ca", &ca]);
        assert_eq!(
            sent["result"], "SUCCESS",
            "{signal} over {protocol}: {sent}"
        );
        let trace_id = sent["trace_id"].as_str().unwrap();
        assert_eq!(sluice.with_trace_id(field, trace_id).len(), 2);
    }
    // A plain-text client gets no answer (the handshake fails); the port keeps serving TLS.
    let mut plain = TcpStream::connect(&sluice.http).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let _ = plain.write_all(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(
        !answer.starts_with(b"HTTP/"),
        "plain HTTP was answered on a TLS port"
    );
    let endpoint = format!("https://{}", sluice.grpc);
    let sent = sluice.send(&["traces", "grpc", &endpoint, "1", "--ca", &ca]);
    assert_eq!(sent["result"], "SUCCESS", "{sent}");
}
