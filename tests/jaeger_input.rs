//! The real `sluice` binary's `jaeger` input against real Jaeger clients, into the `file`
//! output:
//! - jaeger-client 4.8.0 (the seed's tracer, configured as its `jaeger_config.py`) over UDP
//!   compact, and polling the sampling endpoint;
//! - opentelemetry-exporter-jaeger-thrift 1.21.0 in agent mode (UDP compact) and collector
//!   mode (HTTP `POST /api/traces`);
//! - a tonic 0.14 gRPC client calling `CollectorService/PostSpans`;
//! - hostile datagrams and bodies, each refused and counted while good ones still land.
//!
//! The Python clients live in virtualenvs `scripts/jaeger-peers.sh` makes under `target/`
//! (`scripts/test.sh` runs it); without them these tests fail and say how to get them.

#[path = "support/jaeger_thrift_crate.rs"]
mod thrift_crate;

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use sluice::event::Text;
use sluice::inputs::jaeger::grpc::POST_SPANS;
use sluice::inputs::jaeger::proto::{
    Batch, PostSpansRequest, PostSpansResponse, ProtoKeyValue, ProtoProcess, ProtoSpan,
    ProtoSpanRef, Timestamp,
};
use sluice::traces::model::{KeyValue, Process, Span, TagValue};
use thrift_crate::{Extensions, Wire};

mod common;
use common::fifo::{wait_for_trace, Fifo};
use common::process::{self, log_field};

/// The Python of the virtualenv `venv` (under `target/`), checked to import `module`.
fn python(venv: &str, module: &str) -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(venv)
        .join("bin/python");
    let usable = Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        usable,
        "{module} is not importable by {}: run scripts/jaeger-peers.sh once",
        python.display()
    );
    python
}

fn peer(script: &str) -> String {
    format!("{}/tests/peers/{script}", env!("CARGO_MANIFEST_DIR"))
}

/// `sluice run` with one jaeger input (every endpoint on a free port) and the file output.
struct Sluice {
    _process: process::Sluice,
    compact: u16,
    binary: u16,
    http: u16,
    grpc: u16,
    sampling: u16,
    api: u16,
    dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Sluice {
    fn start(extra: &str) -> Sluice {
        Sluice::start_writing_to(extra, None)
    }

    /// With the file output writing to `output` instead of `<dir>/spans.ndjson`.
    fn start_writing_to(extra: &str, output: Option<&str>) -> Sluice {
        Sluice::start_with(extra, output, "", &[])
    }

    /// `start_writing_to` with more settings for the file output and more command-line
    /// arguments (pipeline settings).
    fn start_with(
        extra: &str,
        output: Option<&str>,
        output_settings: &str,
        args: &[&str],
    ) -> Sluice {
        let dir = tempfile::tempdir().unwrap();
        let output = output.map_or_else(
            || format!("{}/spans.ndjson", dir.path().display()),
            str::to_owned,
        );
        let strategies = dir.path().join("strategies.json");
        std::fs::write(
            &strategies,
            r#"{"default_strategy": {"type": "probabilistic", "param": 0.001},
                "service_strategies": [{"service": "remote-svc", "type": "probabilistic", "param": 0.25}]}"#,
        )
        .unwrap();
        let config = format!(
            r#"input {{ jaeger {{ host => "127.0.0.1" thrift_compact_port => 0 thrift_binary_port => 0
                 thrift_http_port => 0 grpc_port => 0 sampling_port => 0 max_packet_size => 9000
                 sampling_strategies_file => "{}" {extra} }} }}
output {{ file {{ path => "{output}" flush_interval => 0 {output_settings} }} }}"#,
            strategies.display(),
        );
        let api = free_port();
        let api_port = api.to_string();
        let mut all_args = vec!["run", "--api.http.port", &api_port, "-e", &config];
        all_args.extend_from_slice(args);
        let process = process::Sluice::start(&all_args);
        let mut ports = std::collections::HashMap::new();
        // The sampling endpoint is logged last.
        while !ports.contains_key("sampling") {
            let line = process.wait_for_log("jaeger input listening");
            let field = |name| log_field(&line, name).expect(name);
            let port: u16 = field("address")
                .rsplit(':')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            ports.insert(field("endpoint"), port);
        }
        Sluice {
            _process: process,
            compact: ports["thrift_compact"],
            binary: ports["thrift_binary"],
            http: ports["thrift_http"],
            grpc: ports.get("grpc").copied().unwrap_or_default(),
            sampling: ports["sampling"],
            api,
            dir,
        }
    }

    /// The span documents written so far.
    fn spans(&self) -> Vec<Value> {
        common::json_lines(&self.dir.path().join("spans.ndjson"))
    }

    /// Waits until `done` holds for the spans written.
    fn wait_for(&self, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let spans = self.spans();
            if done(&spans) {
                return spans;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; have {spans:#?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The value of the first `/metrics` series whose line contains every part of `parts`.
    fn metric(&self, parts: &[&str]) -> u64 {
        let (_, body) = http(self.api, "GET", "/metrics", &[], b"");
        body.lines()
            .find(|l| !l.starts_with('#') && parts.iter().all(|p| l.contains(p)))
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
            .unwrap_or(0)
    }

    /// Each collector (HTTP and gRPC) refused exactly one batch for `reason`.
    fn assert_rejected_once_per_collector(&self, reason: &str) {
        for endpoint in ["endpoint=\"http\"", "endpoint=\"grpc\""] {
            let rejected = self.metric(&["sluice_jaeger_batches_rejected_total", endpoint, reason]);
            assert_eq!(rejected, 1, "{endpoint}");
        }
    }

    fn send_udp(&self, port: u16, datagram: &[u8]) {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.send_to(datagram, ("127.0.0.1", port)).unwrap();
    }
}

/// One HTTP/1.1 request on its own connection: the status and the body.
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let (status, _, body) = http_full(port, method, path, headers, body);
    (status, body)
}

/// Posts a Thrift binary `Batch` to the HTTP collector: the status, the header block and the
/// body.
fn post_batch(port: u16, body: &[u8]) -> (u16, String, String) {
    let thrift = [("Content-Type", "application/x-thrift")];
    http_full(port, "POST", "/api/traces", &thrift, body)
}

/// One HTTP/1.1 request on its own connection: the status, the header block and the body.
fn http_full(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    // A server may answer (413) before reading a large body and close; that is fine.
    let _ = stream.write_all(body);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {response:?}"));
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (status, head.to_ascii_lowercase(), body.to_owned())
}

fn tag<'a>(tags: &'a Value, key: &str) -> Option<&'a Value> {
    tags.as_array()?.iter().find(|t| t["key"] == key)
}

/// Runs the seed's `jaeger_client` (4.8, PyPI) against `sluice`'s agent ports:
/// `tests/peers/jaeger_client_send.py MODE COMPACT_PORT SAMPLING_PORT ARGS…`, whose JSON
/// report on stdout is returned.
fn jaeger_client(sluice: &Sluice, mode_and_args: &[&str]) -> Value {
    let (mode, args) = mode_and_args.split_first().expect("a mode");
    let out = Command::new(python("jaeger-client-venv", "jaeger_client"))
        .arg(peer("jaeger_client_send.py"))
        .arg(mode)
        .arg(sluice.compact.to_string())
        .arg(sluice.sampling.to_string())
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_seed_client_sends_spans_with_tags_logs_and_process_tags() {
    let sluice = Sluice::start("");
    let sent = jaeger_client(&sluice, &["seed", "mangakai-backend", "5"]);
    let trace_ids: Vec<&str> = sent["trace_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(trace_ids.len(), 5);

    let spans = sluice.wait_for("10 spans", |s| s.len() >= 10);
    assert_eq!(spans.len(), 10, "every span once");
    for id in &trace_ids {
        let trace: Vec<&Value> = spans.iter().filter(|s| s["traceID"] == *id).collect();
        assert_eq!(trace.len(), 2, "trace {id}");
        let root = trace
            .iter()
            .find(|s| s["operationName"] == "GET /api/manga")
            .unwrap();
        let child = trace
            .iter()
            .find(|s| s["operationName"] == "db.query")
            .unwrap();
        assert_eq!(child["parentSpanID"], root["spanID"]);
        assert_eq!(child["references"][0]["refType"], "CHILD_OF");
        let tags = &root["tags"];
        assert_eq!(tag(tags, "component").unwrap()["value"], "flask");
        assert_eq!(tag(tags, "http.status_code").unwrap()["type"], "int64");
        assert_eq!(tag(tags, "http.status_code").unwrap()["value"], 500);
        assert_eq!(tag(tags, "error").unwrap()["value"], true);
        assert_eq!(tag(tags, "manga.score").unwrap()["value"], 9.5);
        assert_eq!(tag(tags, "sampler.type").unwrap()["value"], "const");
        let fields = &child["logs"][0]["fields"];
        assert_eq!(tag(fields, "event").unwrap()["value"], "cache miss");
        assert!(tag(fields, "key").unwrap()["value"]
            .as_str()
            .unwrap()
            .starts_with("manga:"));
        let process = &root["process"];
        assert_eq!(process["serviceName"], "mangakai-backend");
        assert!(tag(&process["tags"], "jaeger.version").unwrap()["value"]
            .as_str()
            .unwrap()
            .starts_with("Python-4.8"));
        assert!(tag(&process["tags"], "hostname").is_some());
        assert!(tag(&process["tags"], "ip").is_some());
    }
    assert_eq!(
        sluice.metric(&["sluice_jaeger_spans_received_total", "udp_compact"]),
        10
    );
}

#[test]
fn jaeger_client_takes_its_sampling_strategy_from_us() {
    let sluice = Sluice::start("");
    let got = jaeger_client(&sluice, &["remote", "remote-svc", "0.25"]);
    assert_eq!(got["sampler"], "ProbabilisticSampler", "{got}");
    assert_eq!(got["rate"], 0.25);
    assert!(sluice.metric(&["sluice_jaeger_sampling_requests_total", "path=\"sampling\""]) >= 1);

    let (status, body) = http(sluice.sampling, "GET", "/?service=remote-svc", &[], b"");
    assert_eq!(status, 200);
    let legacy: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(legacy["strategyType"], 0);
    let (status, body) = http(
        sluice.sampling,
        "GET",
        "/baggageRestrictions?service=x",
        &[],
        b"",
    );
    assert_eq!((status, body.as_str()), (200, "[]"));
    assert_eq!(http(sluice.sampling, "GET", "/sampling", &[], b"").0, 400);
}

#[test]
fn the_opentelemetry_jaeger_exporter_over_udp_and_http() {
    let sluice = Sluice::start("");
    let python = python("otel-jaeger-venv", "opentelemetry.exporter.jaeger.thrift");
    let mut trace_ids = Vec::new();
    for (mode, port) in [("agent", sluice.compact), ("collector", sluice.http)] {
        let out = Command::new(&python)
            .arg(peer("otel_jaeger_thrift_send.py"))
            .args([mode, &port.to_string(), &format!("otel-{mode}"), "4"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sent: Value = serde_json::from_slice(&out.stdout).unwrap();
        trace_ids.push((mode, sent["trace_id"].as_str().unwrap().to_owned()));
    }
    let spans = sluice.wait_for("8 spans", |s| s.len() >= 8);
    for (mode, id) in &trace_ids {
        let trace: Vec<&Value> = spans
            .iter()
            .filter(|s| s["traceID"] == id.as_str())
            .collect();
        assert_eq!(trace.len(), 4, "{mode}");
        let root = trace
            .iter()
            .find(|s| s["operationName"] == "checkout")
            .unwrap();
        assert_eq!(root["process"]["serviceName"], format!("otel-{mode}"));
        assert_eq!(tag(&root["tags"], "order.items").unwrap()["value"], 3);
        assert_eq!(tag(&root["tags"], "order.express").unwrap()["value"], true);
        assert_eq!(tag(&root["tags"], "order.total").unwrap()["value"], 12.5);
        // The exporter names an event's log by a `message` field.
        let fields = &root["logs"][0]["fields"];
        assert_eq!(tag(fields, "message").unwrap()["value"], "payment");
        assert_eq!(tag(fields, "provider").unwrap()["value"], "card");
        assert_eq!(
            trace
                .iter()
                .filter(|s| s["parentSpanID"] == root["spanID"])
                .count(),
            3
        );
    }
    assert_eq!(
        sluice.metric(&["sluice_jaeger_spans_received_total", "endpoint=\"http\""]),
        4
    );
}

/// A one-span batch for `service`, with a given trace id, duration and start.
fn span(service: &str, trace_id: u128, duration_us: i64, start_time_us: i64) -> Span {
    Span {
        trace_id,
        span_id: 7,
        parent_span_id: 0,
        operation_name: Text::from("op"),
        references: Vec::new(),
        flags: 1,
        start_time_us,
        duration_us,
        tags: vec![KeyValue::new("k", TagValue::Int64(1))],
        logs: Vec::new(),
        process: Arc::new(Process {
            service_name: Text::from(service),
            tags: Vec::new(),
        }),
    }
}

const NOW_US: i64 = 1_764_000_000_000_000;
/// 8154-01-01 in µs since the epoch.
const YEAR_8154_US: i64 = 195_160_000_000_000_000;

#[test]
fn hostile_datagrams_are_dropped_and_counted_and_good_ones_still_land() {
    let sluice = Sluice::start("");
    let good = |service: &str| {
        thrift_crate::emit_batch(
            Wire::Compact,
            &[span(service, 42, 5, NOW_US)],
            Extensions(true),
        )
    };
    let compact = sluice.compact;
    // Garbage, a truncated datagram, one over max_packet_size, and hostile structures.
    sluice.send_udp(compact, b"\x00\x01garbage\xff\xfe");
    let whole = good("truncated");
    sluice.send_udp(compact, &whole[..whole.len() / 2]);
    let mut big = good("too-big");
    big.resize(9001, 0);
    sluice.send_udp(compact, &big);
    let mut deep = vec![0x82, 0x81, 0, 9];
    deep.extend_from_slice(b"emitBatch");
    deep.push(0x2c);
    deep.extend(std::iter::repeat_n(0x1c, 4000));
    deep.extend(std::iter::repeat_n(0, 4001));
    sluice.send_udp(compact, &deep);
    let mut huge = vec![0x82, 0x81, 0, 9];
    huge.extend_from_slice(b"emitBatch");
    huge.extend_from_slice(&[0x1c, 0x29, 0xfc, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    sluice.send_udp(compact, &huge);
    let mut unknown_type = vec![0x82, 0x81, 0, 9];
    unknown_type.extend_from_slice(b"emitBatch");
    unknown_type.push(0x1e);
    sluice.send_udp(compact, &unknown_type);
    // Spans that are refused (zero trace id) or repaired (negative duration) or kept as they
    // are (year 8154: the output decides what to do with far-future dates).
    sluice.send_udp(
        compact,
        &thrift_crate::emit_batch(
            Wire::Compact,
            &[
                span("odd", 0, 5, NOW_US),
                span("odd", 43, -5, NOW_US),
                span("odd", 44, 5, YEAR_8154_US),
            ],
            Extensions(false),
        ),
    );
    // Binary on the other port, and then the good datagram after all the bad ones.
    sluice.send_udp(
        sluice.binary,
        &thrift_crate::emit_batch(
            Wire::Binary,
            &[span("binary", 45, 5, NOW_US)],
            Extensions(true),
        ),
    );
    sluice.send_udp(compact, &good("after-the-bad"));

    let spans = sluice.wait_for("4 good spans", |s| s.len() >= 4);
    let mut services: Vec<&str> = spans
        .iter()
        .map(|s| s["process"]["serviceName"].as_str().unwrap())
        .collect();
    services.sort();
    assert_eq!(services, ["after-the-bad", "binary", "odd", "odd"]);
    let repaired = spans
        .iter()
        .find(|s| s["traceID"] == format!("{:032x}", 43))
        .unwrap();
    assert_eq!(repaired["duration"], 0);
    let future = spans
        .iter()
        .find(|s| s["traceID"] == format!("{:032x}", 44))
        .unwrap();
    assert_eq!(future["startTime"], YEAR_8154_US);

    let dropped = |reason: &str| {
        sluice.metric(&[
            "sluice_jaeger_udp_dropped_total",
            "udp_compact",
            &format!("reason=\"{reason}\""),
        ])
    };
    assert_eq!(dropped("garbage"), 2, "garbage and an unknown type code");
    assert_eq!(
        dropped("truncated"),
        2,
        "half a datagram and a huge declared length"
    );
    assert_eq!(dropped("too_big"), 1);
    assert_eq!(dropped("too_deep"), 1);
    assert_eq!(
        sluice.metric(&[
            "sluice_jaeger_spans_rejected_total",
            "udp_compact",
            "zero_trace_id"
        ]),
        1
    );
    assert_eq!(
        sluice.metric(&["sluice_jaeger_spans_sanitized_total", "negative_duration"]),
        1
    );
}

#[test]
fn the_http_collector_refuses_bad_requests_and_accepts_good_ones() {
    let sluice = Sluice::start("max_request_bytes => 100000");
    let thrift = [("Content-Type", "application/x-thrift")];
    let body = thrift_crate::bare_batch(&[span("http", 46, 5, NOW_US)], Extensions(true));

    let (status, text) = http(
        sluice.http,
        "POST",
        "/api/traces",
        &[("Content-Type", "application/json")],
        &body,
    );
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("content type"));
    let (status, text) = http(
        sluice.http,
        "POST",
        "/api/traces",
        &thrift,
        b"{\"not\": \"thrift\"}",
    );
    assert_eq!(status, 400, "{text}");
    let (status, _) = http(
        sluice.http,
        "POST",
        "/api/traces",
        &thrift,
        &body[..body.len() - 3],
    );
    assert_eq!(status, 400);
    let (status, _) = http(
        sluice.http,
        "POST",
        "/api/traces",
        &thrift,
        &vec![0u8; 100_001],
    );
    assert_eq!(status, 413);
    assert_eq!(http(sluice.http, "GET", "/api/traces", &thrift, b"").0, 405);
    assert_eq!(
        http(sluice.http, "POST", "/elsewhere", &thrift, &body).0,
        404
    );
    // The 202 comes once the file output has written the span.
    let binary = [("Content-Type", "application/vnd.apache.thrift.binary")];
    assert_eq!(
        http(sluice.http, "POST", "/api/traces", &binary, &body).0,
        202
    );
    let spans = sluice.spans();
    assert_eq!(spans.len(), 1, "written before the answer");
    assert_eq!(spans[0]["process"]["serviceName"], "http");

    let rejected = |reason: &str| {
        sluice.metric(&[
            "sluice_jaeger_batches_rejected_total",
            &format!("reason=\"{reason}\""),
        ])
    };
    assert_eq!(rejected("content_type"), 1);
    assert_eq!(rejected("garbage") + rejected("truncated"), 2);
    assert_eq!(rejected("too_big"), 1);
}

/// One `PostSpans` call from a tonic client.
async fn post_spans(port: u16, request: PostSpansRequest) -> Result<(), tonic::Status> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = tonic::client::Grpc::new(channel);
    client.ready().await.unwrap();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(POST_SPANS);
    client
        .unary::<_, PostSpansResponse, _>(
            tonic::Request::new(request),
            path,
            tonic_prost::ProstCodec::default(),
        )
        .await
        .map(drop)
}

fn proto_span(trace_id: &[u8], span_id: u64, process: Option<ProtoProcess>) -> ProtoSpan {
    ProtoSpan {
        trace_id: trace_id.to_vec().into(),
        span_id: span_id.to_be_bytes().to_vec().into(),
        operation_name: "grpc-op".into(),
        references: vec![ProtoSpanRef {
            trace_id: trace_id.to_vec().into(),
            span_id: 99u64.to_be_bytes().to_vec().into(),
            ref_type: 0,
        }],
        flags: 1,
        start_time: Some(Timestamp {
            seconds: NOW_US / 1_000_000,
            nanos: 5_000,
        }),
        duration: Some(Timestamp {
            seconds: 0,
            nanos: 2_000_000,
        }),
        tags: vec![ProtoKeyValue {
            key: "http.status_code".into(),
            v_type: 2,
            v_int64: 200,
            ..Default::default()
        }],
        logs: vec![],
        process,
    }
}

fn proto_process(service: &str) -> ProtoProcess {
    ProtoProcess {
        service_name: service.into(),
        tags: vec![],
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_post_spans_is_answered_after_delivery_and_refuses_bad_batches() {
    let sluice = Sluice::start("max_request_bytes => 100000");
    let mut trace = [0u8; 16];
    trace[15] = 0x33;
    trace[0] = 0x01;
    let request = PostSpansRequest {
        batch: Some(Batch {
            spans: vec![
                proto_span(&trace, 1, None),
                proto_span(&trace, 2, Some(proto_process("own-process"))),
            ],
            process: Some(proto_process("batch-process")),
        }),
    };
    post_spans(sluice.grpc, request).await.unwrap();
    let spans = sluice.spans();
    assert_eq!(spans.len(), 2, "written before the answer");
    let services: Vec<&str> = spans
        .iter()
        .map(|s| s["process"]["serviceName"].as_str().unwrap())
        .collect();
    assert_eq!(services, ["batch-process", "own-process"]);
    let first = &spans[0];
    assert_eq!(first["traceID"], "01000000000000000000000000000033");
    assert_eq!(first["spanID"], "0000000000000001");
    assert_eq!(first["parentSpanID"], "0000000000000063");
    assert_eq!(first["startTime"], NOW_US + 5);
    assert_eq!(first["duration"], 2000);
    assert_eq!(
        tag(&first["tags"], "http.status_code").unwrap()["value"],
        200
    );

    let bad_id = PostSpansRequest {
        batch: Some(Batch {
            spans: vec![proto_span(&trace[..5], 1, None)],
            process: Some(proto_process("x")),
        }),
    };
    let status = post_spans(sluice.grpc, bad_id).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status}");
    let no_process = PostSpansRequest {
        batch: Some(Batch {
            spans: vec![proto_span(&trace, 1, None)],
            process: None,
        }),
    };
    let status = post_spans(sluice.grpc, no_process).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status}");
    let huge = PostSpansRequest {
        batch: Some(Batch {
            spans: vec![proto_span(
                &trace,
                1,
                Some(proto_process(&"x".repeat(200_000))),
            )],
            process: None,
        }),
    };
    let status = post_spans(sluice.grpc, huge).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::OutOfRange, "{status}");
    assert_eq!(
        sluice.spans().len(),
        2,
        "nothing of the refused batches was written"
    );
    assert_eq!(
        sluice.metric(&[
            "sluice_jaeger_spans_received_total",
            "endpoint=\"grpc\"",
            "protobuf"
        ]),
        2
    );
    assert_eq!(
        sluice.metric(&[
            "sluice_jaeger_batches_rejected_total",
            "endpoint=\"grpc\"",
            "bad_id"
        ]),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_output_gets_collectors_to_ask_for_a_retry() {
    // The file output cannot create its file under /proc: every batch fails.
    let sluice = Sluice::start_writing_to("", Some("/proc/sluice-cannot-write/spans.ndjson"));
    let body = thrift_crate::bare_batch(&[span("http", 47, 5, NOW_US)], Extensions(false));
    let port = sluice.http;
    let (status, head, text) = tokio::task::spawn_blocking(move || post_batch(port, &body))
        .await
        .unwrap();
    assert_eq!(status, 503, "{text}");
    assert!(head.contains("retry-after: 5"), "{head}");
    grpc_is_asked_to_retry(sluice.grpc, 1).await;
    sluice.assert_rejected_once_per_collector("output_failed");
}

/// Posts one span to the gRPC collector, which must refuse it with `UNAVAILABLE` and a
/// `RetryInfo` in the `google.rpc.Status` details (its encoding is unit tested in
/// `inputs::otlp::rpc`).
async fn grpc_is_asked_to_retry(port: u16, trace_byte: u8) {
    let mut trace = [0u8; 16];
    trace[15] = trace_byte;
    let request = PostSpansRequest {
        batch: Some(Batch {
            spans: vec![proto_span(&trace, 1, None)],
            process: Some(proto_process("grpc")),
        }),
    };
    let status = post_spans(port, request).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status}");
    assert!(
        String::from_utf8_lossy(status.details()).contains("google.rpc.RetryInfo"),
        "{status:?}"
    );
}

/// The pipeline is made to fill for real, as in the otlp tests: the file output writes to a
/// FIFO nobody reads yet, so its `open` blocks; one worker, batches of one and a queue of one
/// event leave room for only a few batches. Then the HTTP and gRPC collectors must ask for a
/// retry after `max_queue_wait_ms`, UDP datagrams must be dropped and counted, and once the
/// FIFO is read every batch that was accepted must be answered 202 with its span written.
#[tokio::test(flavor = "multi_thread")]
async fn a_full_pipeline_gets_collectors_to_ask_for_a_retry_and_udp_drops_counted() {
    let fifo = Fifo::new();
    let sluice = Sluice::start_with(
        "max_queue_wait_ms => 300 udp_queue_size => 2",
        Some(&fifo.path.display().to_string()),
        // A FIFO cannot be synced.
        "fsync => false",
        &["-w", "1", "-b", "1", "--queue.max_events", "1"],
    );
    let post = |trace_id: u128| {
        let port = sluice.http;
        let body =
            thrift_crate::bare_batch(&[span("full", trace_id, 5, NOW_US)], Extensions(false));
        std::thread::spawn(move || post_batch(port, &body))
    };
    let mut in_flight = Vec::new();
    let mut refused = None;
    for trace_id in 1..=20u128 {
        let sender = post(trace_id);
        tokio::time::sleep(Duration::from_millis(600)).await;
        if sender.is_finished() {
            refused = Some(sender.join().unwrap());
            break;
        }
        in_flight.push((trace_id, sender));
    }
    let (status, head, text) = refused.expect("20 batches and the pipeline never filled");
    assert_eq!(status, 503, "{text}");
    assert!(head.contains("retry-after: 5"), "{head}");
    assert!(!in_flight.is_empty(), "the first batch must get in");

    grpc_is_asked_to_retry(sluice.grpc, 99).await;
    sluice.assert_rejected_once_per_collector("saturated");

    // The UDP hand-off holds two datagrams' spans; the rest are dropped, and counted.
    let datagram = thrift_crate::emit_batch(
        Wire::Compact,
        &[span("udp", 77, 5, NOW_US)],
        Extensions(false),
    );
    for _ in 0..10 {
        sluice.send_udp(sluice.compact, &datagram);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let dropped = loop {
        let dropped = sluice.metric(&["sluice_jaeger_udp_dropped_total", "queue_full"]);
        if dropped >= 7 || Instant::now() > deadline {
            break dropped;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!((7..=8).contains(&dropped), "{dropped} datagrams dropped");

    // Reading the FIFO lets the output go on: every accepted batch is answered and written.
    let received = fifo.read_lines();
    let mut written = std::collections::HashSet::new();
    for (trace_id, sender) in in_flight {
        let (status, _, text) = sender.join().unwrap();
        assert_eq!(status, 202, "batch {trace_id}: {text}");
        wait_for_trace(&received, &mut written, &format!("{trace_id:032x}"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_collectors_serve_tls() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let sluice = Sluice::start(&format!(
        r#"ssl_enabled => true ssl_certificate => "{}" ssl_key => "{}""#,
        cert.display(),
        key.display()
    ));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let connect = move |port: u16| {
        let connector = connector.clone();
        async move {
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
            let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
            connector.connect(name, tcp).await
        }
    };
    let mut tls = connect(sluice.http).await.unwrap();
    let body = thrift_crate::bare_batch(&[span("over-tls", 48, 5, NOW_US)], Extensions(false));
    let head = format!(
        "POST /api/traces HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/x-thrift\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    tls.write_all(&body).await.unwrap();
    let mut response = Vec::new();
    let _ = tls.read_to_end(&mut response).await;
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 202"), "{response}");
    assert_eq!(sluice.spans()[0]["process"]["serviceName"], "over-tls");

    // gRPC: HTTP/2 over a TLS connection of ours.
    let port = sluice.grpc;
    let channel = tonic::transport::Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_| {
            let tls = connect(port);
            async move { tls.await.map(hyper_util::rt::TokioIo::new) }
        }))
        .await
        .unwrap();
    let mut client = tonic::client::Grpc::new(channel);
    client.ready().await.unwrap();
    let mut trace = [0u8; 16];
    trace[15] = 49;
    let request = PostSpansRequest {
        batch: Some(Batch {
            spans: vec![proto_span(&trace, 1, None)],
            process: Some(proto_process("grpc-over-tls")),
        }),
    };
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(POST_SPANS);
    client
        .unary::<_, PostSpansResponse, _>(
            tonic::Request::new(request),
            path,
            tonic_prost::ProstCodec::default(),
        )
        .await
        .unwrap();
    assert_eq!(sluice.spans()[1]["process"]["serviceName"], "grpc-over-tls");
}
