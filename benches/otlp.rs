//! OTLP trace export bodies to spans, and on to Jaeger's Elasticsearch documents: the `otlp`
//! input's per-span cost before the queue and the whole in-process chain to the bulk body.
//!
//! The body is one `ExportTraceServiceRequest` of 1000 spans shaped like an instrumented HTTP
//! service's (one resource with 8 attributes, two scopes; per span 10–20 attributes of
//! string, int, bool and double types, kind, status, a parent for 9 in 10, on every fourth an
//! event with two attributes; [`request`]). Measured on the same bytes:
//!
//! - `sluice_decode_map`: what the input does: decode into Sluice's zero-copy messages and map
//!   to Jaeger's `Span` model (one process per resource);
//! - `sluice_decode_map_document`: the same, then each span's Jaeger document built as a field
//!   tree and written as JSON (what a span costs when a filter writes it and an output encodes
//!   it generically);
//! - `sluice_chain_bulk`: the whole chain, decode → spans → span events → the bulk body the
//!   `schema => "jaeger"` Elasticsearch output sends (action lines, span documents, index
//!   names, service-document lookups), as [`sluice_chain_bulk`] details; and the same on
//!   telemetrygen's lean spans (`sluice_chain_bulk_telemetrygen`);
//! - `reference_prost_decode`: decoding alone with `opentelemetry-proto`'s generated types
//!   (what any tonic server does before looking at a span);
//! - `reference_prost_serde_json`: that decode plus `serde_json` of the request, the usual
//!   "receive and re-serialize" baseline.
//!
//! Besides criterion's report, prints spans per second (wall clock and CPU time of the
//! thread, the latter being the per-core figure on a shared machine), the ratios and
//! allocations per span.
//!
//! `cargo bench --bench otlp`

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use sluice::event::Event;
use sluice::outputs::elasticsearch::encoder::{Action, BulkBuffer, Id, ItemTarget};
use sluice::outputs::elasticsearch::jaeger::{JaegerConfig, JaegerSchema};
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

fn bool_(key: &str, value: bool) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::BoolValue(value)),
        }),
        ..Default::default()
    }
}

fn double(key: &str, value: f64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::DoubleValue(value)),
        }),
        ..Default::default()
    }
}

/// The attributes of span `i`: an HTTP server span's semantic conventions, then 2–12 more
/// (database, messaging, user, feature flags) so the count runs from 10 to 20.
fn attributes(i: u64) -> Vec<KeyValue> {
    let mut attributes = vec![
        string("http.request.method", "GET"),
        string("url.path", &format!("/api/orders/{}/items", 1000 + i)),
        string("url.scheme", "https"),
        string("server.address", "orders.internal"),
        int("server.port", 8080),
        int(
            "http.response.status_code",
            if i % 50 == 0 { 503 } else { 200 },
        ),
        string("network.protocol.version", "1.1"),
        string("user_agent.original", "python-requests/2.32.3"),
    ];
    let extra: [fn(u64) -> KeyValue; 12] = [
        |i| int("http.response.body.size", 5120 + i as i64),
        |_| string("http.route", "/api/orders/{id}/items"),
        |_| string("client.address", "10.42.7.31"),
        |_| string("db.system", "postgresql"),
        |_| string("db.statement", "SELECT * FROM items WHERE order_id = $1"),
        |i| int("db.rows_returned", (i % 40) as i64),
        |i| bool_("cache.hit", i % 3 == 0),
        |i| double("queue.wait_ratio", (i % 100) as f64 / 100.0),
        |i| string("enduser.id", &format!("user-{}", i % 977)),
        |_| string("feature_flag.key", "new-checkout"),
        |_| bool_("feature_flag.enabled", true),
        |i| int("retry.count", (i % 4) as i64),
    ];
    attributes.extend(extra.iter().take(2 + (i % 11) as usize).map(|f| f(i)));
    attributes
}

/// One request of [`SPANS`] spans from one service: a resource with 8 attributes, two scopes
/// (the web framework's and the database client's), 10–20 attributes per span, kind, status
/// (an error in one of 50), a parent for 9 in 10, and on every fourth span an event with two
/// attributes. telemetrygen's spans are the lean end of this (a few attributes, no events).
fn request() -> Bytes {
    let start = 1_764_000_000_000_000_000u64;
    let span = |i: u64| Span {
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
        kind: if i % 2 == 0 { 2 } else { 3 },
        start_time_unix_nano: start + i * 1_000_000,
        end_time_unix_nano: start + i * 1_000_000 + 250_000,
        attributes: attributes(i),
        events: if i % 4 == 0 {
            vec![span::Event {
                time_unix_nano: start + i * 1_000_000 + 100_000,
                name: "cache miss".into(),
                attributes: vec![string("cache.key", "orders:1234"), int("cache.ttl_s", 300)],
                ..Default::default()
            }]
        } else {
            vec![]
        },
        status: Some(if i % 50 == 0 {
            Status {
                code: 2,
                message: "upstream unavailable".into(),
            }
        } else {
            Status {
                code: 1,
                message: String::new(),
            }
        }),
        flags: 0x101,
        ..Default::default()
    };
    let scope = |name: &str, version: &str, spans: Vec<Span>| ScopeSpans {
        scope: Some(InstrumentationScope {
            name: name.into(),
            version: version.into(),
            ..Default::default()
        }),
        spans,
        ..Default::default()
    };
    let half = SPANS as u64 / 2;
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    string("service.name", "orders"),
                    string("service.version", "2.4.1"),
                    string(
                        "service.instance.id",
                        "b1f5e0c2-7d9f-4c1e-9a51-3f2d7c8e6a10",
                    ),
                    string("deployment.environment", "production"),
                    string("host.name", "orders-7d9f8b-x2x4q"),
                    string("telemetry.sdk.name", "opentelemetry"),
                    string("telemetry.sdk.language", "python"),
                    string("telemetry.sdk.version", "1.29.0"),
                ],
                ..Default::default()
            }),
            scope_spans: vec![
                scope(
                    "opentelemetry.instrumentation.flask",
                    "0.50b0",
                    (0..half).map(span).collect(),
                ),
                scope(
                    "opentelemetry.instrumentation.psycopg2",
                    "0.50b0",
                    (half..SPANS as u64).map(span).collect(),
                ),
            ],
            ..Default::default()
        }],
    };
    Bytes::from(request.encode_to_vec())
}

/// What telemetrygen sends: pairs of spans (`lets-go` calling `okey-dokey-0`) with its two
/// attributes, one resource attribute, no events and no status.
fn telemetrygen_request() -> Bytes {
    let start = 1_764_000_000_000_000_000u64;
    let spans = (0..SPANS as u64)
        .map(|i| Span {
            trace_id: (0x0af7_6519_16cd_43dd_8448_eb21_1c80_319c_u128 + u128::from(i / 2))
                .to_be_bytes()
                .to_vec(),
            span_id: (i + 1).to_be_bytes().to_vec(),
            parent_span_id: if i % 2 == 0 {
                vec![]
            } else {
                i.to_be_bytes().to_vec()
            },
            name: if i % 2 == 0 {
                "lets-go"
            } else {
                "okey-dokey-0"
            }
            .into(),
            kind: if i % 2 == 0 { 3 } else { 2 },
            start_time_unix_nano: start + i * 1_000_000,
            end_time_unix_nano: start + i * 1_000_000 + 123_000,
            attributes: vec![
                string("network.peer.address", "1.2.3.4"),
                string("peer.service", "telemetrygen-server"),
            ],
            ..Default::default()
        })
        .collect();
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![string("service.name", "telemetrygen")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "telemetrygen".into(),
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

/// The whole in-process chain a span takes from an OTLP request to Elasticsearch: what the
/// `otlp` input does (decode, map, one event per span) and what the `schema => "jaeger"`
/// output's `prepare_spans` does (date the span's index, look up its service document, write
/// the bulk action and document into the request buffer). Service documents are recorded as
/// written once the batch is encoded, as the output does when Elasticsearch took them, so
/// the steady state writes none.
fn sluice_chain_bulk(body: &Bytes, chain: &mut Chain) -> usize {
    let request = wire::ExportTraceServiceRequest::decode(body.clone()).unwrap();
    let events: Vec<Event> = spans::map_request(request)
        .spans
        .into_iter()
        .map(Event::from_span)
        .collect();
    let now_us = chain.now_us;
    let clock = Instant::now();
    let mut written = Vec::new();
    for mut event in events {
        let placement = chain.schema.place(&mut event, now_us);
        if let Some((doc, body)) = chain.schema.service_doc(&event, &placement, clock) {
            let target = ItemTarget {
                index: &doc.index,
                id: Id::Given(&doc.id),
                ..Default::default()
            };
            chain
                .services
                .push_with(Action::Index, false, &target, |out| {
                    out.extend_from_slice(&body)
                });
            written.push(doc.key);
        }
        let target = ItemTarget {
            index: &placement.span_index,
            id: Id::Auto,
            ..Default::default()
        };
        chain.spans.push_with(Action::Index, false, &target, |out| {
            chain.schema.encode(&event, out)
        });
    }
    chain.schema.written(written, clock);
    chain.services.finish();
    chain.spans.finish().len()
}

struct Chain {
    schema: JaegerSchema,
    spans: BulkBuffer,
    services: BulkBuffer,
    now_us: i64,
}

fn spans_in(request: &ExportTraceServiceRequest) -> usize {
    request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum()
}

fn reference_decode(body: &Bytes) -> usize {
    let request = ExportTraceServiceRequest::decode(body.clone()).unwrap();
    spans_in(&request)
}

fn reference_serde_json(body: &Bytes, out: &mut Vec<u8>) -> usize {
    let request = ExportTraceServiceRequest::decode(body.clone()).unwrap();
    out.clear();
    serde_json::to_writer(&mut *out, &request).unwrap();
    spans_in(&request)
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
    let lean = telemetrygen_request();
    assert_eq!(sluice_decode_map(&body), SPANS);
    let mut out = Vec::new();
    let mut chain = Chain {
        schema: JaegerSchema::new(JaegerConfig::default()),
        spans: BulkBuffer::default(),
        services: BulkBuffer::default(),
        // The request's spans started within the last hour: inside Jaeger's start-time
        // window, so none is re-dated.
        now_us: 1_764_000_000_000_000 + 3_600_000_000,
    };
    assert_eq!(sluice_chain_bulk(&body, &mut chain), SPANS);
    assert_eq!(sluice_chain_bulk(&lean, &mut chain), SPANS);

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("otlp");
    group.throughput(Throughput::Elements(SPANS as u64));
    group.bench_function("sluice_decode_map", |b| {
        b.iter(|| sluice_decode_map(black_box(&body)))
    });
    group.bench_function("sluice_decode_map_document", |b| {
        b.iter(|| sluice_decode_map_document(black_box(&body), &mut out))
    });
    group.bench_function("sluice_chain_bulk", |b| {
        b.iter(|| sluice_chain_bulk(black_box(&body), &mut chain))
    });
    group.bench_function("sluice_chain_bulk_telemetrygen", |b| {
        b.iter(|| sluice_chain_bulk(black_box(&lean), &mut chain))
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
            "sluice whole chain to _bulk   ",
            rate(span, || sluice_chain_bulk(&body, &mut chain)),
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
    let lean_chain = rate(span, || sluice_chain_bulk(&lean, &mut chain));
    println!(
        "otlp: {SPANS} spans/request, {:.0} B per span on the wire ({:.0} B telemetrygen's)",
        body.len() as f64 / SPANS as f64,
        lean.len() as f64 / SPANS as f64
    );
    let ours = runs[0].1 .1;
    for (name, (wall, cpu, allocations)) in &runs {
        println!(
            "otlp: {name} {wall:>10.0} spans/s wall {cpu:>10.0} spans/CPU-s {allocations:>5.1} allocs/span  (sluice decode + map is {:.2}x)",
            ours / cpu
        );
    }
    let (wall, cpu, allocations) = lean_chain;
    println!(
        "otlp: whole chain, telemetrygen spans {wall:>10.0} spans/s wall {cpu:>10.0} spans/CPU-s {allocations:>5.1} allocs/span"
    );
    println!(
        "otlp: the whole chain to _bulk is {:.2}x opentelemetry-proto decode + serde_json",
        runs[2].1 .1 / runs[4].1 .1
    );
}
