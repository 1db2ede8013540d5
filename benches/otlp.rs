//! OTLP trace export bodies to spans: the `otlp` input's per-span cost before the queue.
//!
//! The body is one `ExportTraceServiceRequest` of 1000 spans shaped like an instrumented HTTP
//! service's (one resource with 6 attributes, one scope; per span 8 attributes of string and
//! int types, kind, status, a parent, every tenth with an event). Measured on the same bytes:
//!
//! - `sluice_decode_map`: what the input does: decode into Sluice's zero-copy messages and map
//!   to Jaeger's `Span` model (one process per resource);
//! - `sluice_decode_map_document`: the same, then each span's Jaeger document built as a field
//!   tree and written as JSON (what a span costs when a filter reads it and an output encodes
//!   it generically);
//! - `reference_prost_decode`: decoding alone with `opentelemetry-proto`'s generated types
//!   (what any tonic server does before looking at a span);
//! - `reference_prost_serde_json`: that decode plus `serde_json` of the request, the usual
//!   "receive and re-serialize" baseline.
//!
//! Besides criterion's report, prints spans per second (wall clock and CPU time of the
//! thread, the latter being the per-core figure on a shared machine), the ratios and
//! allocations per span.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use sluice::traces::document::span_document;
use sluice::traces::otlp::{spans, wire};

#[path = "support/counting_allocator.rs"]
mod counting_allocator;

#[global_allocator]
static GLOBAL: counting_allocator::Counting = counting_allocator::Counting;

const SPANS: usize = 1000;

fn string(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

fn int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
        ..Default::default()
    }
}

fn request() -> Bytes {
    let start = 1_764_000_000_000_000_000u64;
    let spans = (0..SPANS as u64)
        .map(|i| Span {
            trace_id: (0x5b8e_fff7_9803_8103_d269_b633_813f_c60c_u128 + u128::from(i / 10))
                .to_be_bytes()
                .to_vec(),
            span_id: (i + 1).to_be_bytes().to_vec(),
            parent_span_id: if i % 10 == 0 {
                vec![]
            } else {
                (i - i % 10 + 1).to_be_bytes().to_vec()
            },
            name: format!("GET /api/orders/{{id}}/{}", i % 7),
            kind: 2,
            start_time_unix_nano: start + i * 1_000_000,
            end_time_unix_nano: start + i * 1_000_000 + 250_000,
            attributes: vec![
                string("http.request.method", "GET"),
                string("url.path", "/api/orders/1234/items"),
                string("server.address", "orders.internal"),
                int("http.response.status_code", 200),
                int("server.port", 8080),
                string("network.protocol.version", "1.1"),
                string("user_agent.original", "python-requests/2.32"),
                int("http.response.body.size", 5120 + i as i64),
            ],
            events: if i % 10 == 0 {
                vec![span::Event {
                    time_unix_nano: start + i * 1_000_000 + 100_000,
                    name: "cache miss".into(),
                    attributes: vec![string("cache.key", "orders:1234")],
                    ..Default::default()
                }]
            } else {
                vec![]
            },
            status: Some(Status {
                code: 1,
                message: String::new(),
            }),
            flags: 0x101,
            ..Default::default()
        })
        .collect();
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    string("service.name", "orders"),
                    string("service.version", "2.4.1"),
                    string("deployment.environment", "production"),
                    string("host.name", "orders-7d9f8b-x2x4q"),
                    string("telemetry.sdk.name", "opentelemetry"),
                    string("telemetry.sdk.language", "python"),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "opentelemetry.instrumentation.flask".into(),
                    version: "0.50b0".into(),
                    ..Default::default()
                }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    Bytes::from(request.encode_to_vec())
}

fn sluice_decode_map(body: &Bytes) -> usize {
    let request = wire::ExportTraceServiceRequest::decode(body.clone()).unwrap();
    spans::map_request(request).spans.len()
}

fn sluice_decode_map_document(body: &Bytes, out: &mut Vec<u8>) -> usize {
    let request = wire::ExportTraceServiceRequest::decode(body.clone()).unwrap();
    let mapped = spans::map_request(request);
    out.clear();
    for span in &mapped.spans {
        sluice::event::json::encode_object(&span_document(span), out);
        out.push(b'\n');
    }
    mapped.spans.len()
}

fn reference_decode(body: &Bytes) -> usize {
    let request = ExportTraceServiceRequest::decode(body.clone()).unwrap();
    request.resource_spans[0].scope_spans[0].spans.len()
}

fn reference_serde_json(body: &Bytes, out: &mut Vec<u8>) -> usize {
    let request = ExportTraceServiceRequest::decode(body.clone()).unwrap();
    out.clear();
    serde_json::to_writer(&mut *out, &request).unwrap();
    request.resource_spans[0].scope_spans[0].spans.len()
}

/// Nanoseconds this thread has run on a CPU (Linux `schedstat`), so that rates are per
/// CPU-second even on a machine busy with other work; `None` elsewhere.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Spans per wall-clock second and per CPU-second of `f` over about `span`, and allocations
/// per span.
fn rate(span: Duration, mut f: impl FnMut() -> usize) -> (f64, f64, f64) {
    let start = Instant::now();
    let cpu_start = thread_cpu_ns();
    let allocations = counting_allocator::allocations();
    let mut spans = 0u64;
    while start.elapsed() < span {
        spans += black_box(f()) as u64;
    }
    let allocated = counting_allocator::allocations() - allocations;
    let wall = start.elapsed().as_secs_f64();
    let cpu = match (cpu_start, thread_cpu_ns()) {
        (Some(a), Some(b)) => (b - a) as f64 / 1e9,
        _ => wall,
    };
    (
        spans as f64 / wall,
        spans as f64 / cpu,
        allocated as f64 / spans as f64,
    )
}

fn main() {
    let body = request();
    assert_eq!(sluice_decode_map(&body), SPANS);
    let mut out = Vec::new();

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("otlp");
    group.throughput(Throughput::Elements(SPANS as u64));
    group.bench_function("sluice_decode_map", |b| {
        b.iter(|| sluice_decode_map(black_box(&body)))
    });
    group.bench_function("sluice_decode_map_document", |b| {
        b.iter(|| sluice_decode_map_document(black_box(&body), &mut out))
    });
    group.bench_function("reference_prost_decode", |b| {
        b.iter(|| reference_decode(black_box(&body)))
    });
    group.bench_function("reference_prost_serde_json", |b| {
        b.iter(|| reference_serde_json(black_box(&body), &mut out))
    });
    group.finish();

    // Under `cargo test --all-targets` (no `--bench`) criterion only checks the bench runs.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let span = Duration::from_secs(3);
    let runs = [
        (
            "sluice decode + map           ",
            rate(span, || sluice_decode_map(&body)),
        ),
        (
            "sluice decode + map + document",
            rate(span, || sluice_decode_map_document(&body, &mut out)),
        ),
        (
            "opentelemetry-proto decode    ",
            rate(span, || reference_decode(&body)),
        ),
        (
            "opentelemetry-proto + serde   ",
            rate(span, || reference_serde_json(&body, &mut out)),
        ),
    ];
    println!(
        "otlp: {SPANS} spans/request, {:.0} B per span on the wire",
        body.len() as f64 / SPANS as f64
    );
    let ours = runs[0].1 .1;
    for (name, (wall, cpu, allocations)) in runs {
        println!(
            "otlp: {name} {wall:>10.0} spans/s wall {cpu:>10.0} spans/CPU-s {allocations:>5.1} allocs/span  (sluice decode + map is {:.2}x)",
            ours / cpu
        );
    }
}
