//! Jaeger agent datagrams (Thrift compact `emitBatch`, UDP 6831) to spans: our decoder
//! against the `thrift` crate 0.25 decoding the same bytes into the same spans (as Thrift's
//! generated Rust code reads, one `String` per string).
//!
//! Two datagrams: `batch40`, 40 spans of a web request's shape (8 tags of mixed types, one log
//! with two fields; a process with three tags), about what the OpenTelemetry exporter packs
//! into one datagram; and `single`, one such span, what the seed's jaeger-client sends with
//! `reporter_batch_size: 1`. Besides criterion's report, prints spans/s of each decoder, the
//! ratio, and our heap allocations per span.

#[path = "support/counting_allocator.rs"]
mod counting_allocator;
#[path = "../tests/support/jaeger_thrift_crate.rs"]
mod thrift_crate;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput};
use sluice::event::Text;
use sluice::traces::model::{KeyValue, Process, RefType, Span, SpanLog, SpanRef, TagValue};
use sluice::traces::thrift::decode_compact_emit_batch;
use thrift_crate::{Extensions, Wire};

#[global_allocator]
static ALLOCATOR: counting_allocator::Counting = counting_allocator::Counting;

fn spans(n: usize) -> Vec<Span> {
    let process = Arc::new(Process {
        service_name: Text::from("mangakai-backend"),
        tags: vec![
            KeyValue::new("jaeger.version", TagValue::String("Python-4.8.0".into())),
            KeyValue::new("hostname", TagValue::String("api-7d9f8c6b5-x2k4j".into())),
            KeyValue::new("ip", TagValue::String("10.42.3.17".into())),
        ],
    });
    (0..n)
        .map(|i| Span {
            trace_id: 0x5f3a_9c21_0b7e_4d18_a6c4_2e91_f0d3_7b55 + i as u128,
            span_id: 0x1b2c_3d4e_5f60_7182 + i as u64,
            parent_span_id: if i == 0 { 0 } else { 0x1b2c_3d4e_5f60_7182 },
            operation_name: Text::from(format!("GET /api/manga/{{id}}/chapters/{}", i % 7)),
            references: if i % 10 == 9 {
                vec![SpanRef {
                    ref_type: RefType::FollowsFrom,
                    trace_id: 77,
                    span_id: 78,
                }]
            } else {
                Vec::new()
            },
            flags: 1,
            start_time_us: 1_764_000_000_000_000 + i as i64 * 1000,
            duration_us: 1234 + i as i64,
            tags: vec![
                KeyValue::new("component", TagValue::String("flask".into())),
                KeyValue::new("span.kind", TagValue::String("server".into())),
                KeyValue::new("http.method", TagValue::String("GET".into())),
                KeyValue::new(
                    "http.url",
                    TagValue::String(
                        format!("https://mangakai.example/api/manga/{i}/chapters").into(),
                    ),
                ),
                KeyValue::new("http.status_code", TagValue::Int64(200)),
                KeyValue::new("error", TagValue::Bool(false)),
                KeyValue::new("db.rows", TagValue::Float64(12.0)),
                KeyValue::new("sampler.type", TagValue::String("const".into())),
            ],
            logs: vec![SpanLog {
                timestamp_us: 1_764_000_000_000_500 + i as i64 * 1000,
                fields: vec![
                    KeyValue::new("event", TagValue::String("cache miss".into())),
                    KeyValue::new("key", TagValue::String(format!("manga:{i}").into())),
                ],
            }],
            process: process.clone(),
        })
        .collect()
}

/// Spans per second of `f`, which decodes `per_call` spans, over about `span`.
fn rate(span: Duration, per_call: usize, mut f: impl FnMut() -> usize) -> f64 {
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < span {
        assert_eq!(black_box(f()), per_call);
        calls += 1;
    }
    (calls * per_call as u64) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let cases: Vec<(&str, Vec<Span>)> = vec![("batch40", spans(40)), ("single", spans(1))];
    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("jaeger_thrift");
    let mut datagrams = Vec::new();
    for (name, batch) in &cases {
        let datagram = Bytes::from(thrift_crate::emit_batch(
            Wire::Compact,
            batch,
            Extensions(false),
        ));
        // Both decoders must read the datagram back into the spans it was made from.
        assert_eq!(
            &decode_compact_emit_batch(datagram.clone()).unwrap().spans,
            batch
        );
        assert_eq!(
            &thrift_crate::decode_emit_batch(Wire::Compact, &datagram).unwrap(),
            batch
        );
        group.throughput(Throughput::Elements(batch.len() as u64));
        group.bench_function(format!("{name}/sluice"), |b| {
            b.iter(|| decode_compact_emit_batch(black_box(datagram.clone())).unwrap())
        });
        group.bench_function(format!("{name}/thrift_crate"), |b| {
            b.iter(|| thrift_crate::decode_emit_batch(Wire::Compact, black_box(&datagram)).unwrap())
        });
        datagrams.push((*name, batch.len(), datagram));
    }
    group.finish();

    // Under `cargo test --all-targets` (no `--bench`) criterion only checks the bench runs.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    for (name, n, datagram) in &datagrams {
        let before = counting_allocator::allocations();
        let decoded = decode_compact_emit_batch(datagram.clone()).unwrap();
        let allocations = counting_allocator::allocations() - before;
        drop(decoded);
        let span = Duration::from_secs(3);
        let ours = rate(span, *n, || {
            decode_compact_emit_batch(datagram.clone())
                .unwrap()
                .spans
                .len()
        });
        let reference = rate(span, *n, || {
            thrift_crate::decode_emit_batch(Wire::Compact, datagram)
                .unwrap()
                .len()
        });
        println!(
            "jaeger_thrift/{name}: {} B datagram, {n} spans",
            datagram.len()
        );
        println!("jaeger_thrift/{name}: sluice        {ours:>12.0} spans/s  ({:.1} allocations per span)", allocations as f64 / *n as f64);
        println!(
            "jaeger_thrift/{name}: thrift crate  {reference:>12.0} spans/s  (sluice is {:.2}x)",
            ours / reference
        );
    }
}
