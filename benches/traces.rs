//! Typed spans → Jaeger's Elasticsearch span documents in a `_bulk` NDJSON body.
//!
//! The spans are what the seed application's tracer sends: 8–15 typed tags (strings, ints,
//! bools, a float), one log with two fields, a process with three tags, a parent; ~1.3 KB
//! documents. Ours: the Jaeger schema's fast path, straight from the typed span into the bulk
//! buffer (`encode`), and the same plus what the output does per span before it (`prepare`:
//! index date and name, start-time window, service-document lookup). Reference in the same
//! run: what Jaeger's own writer does, in Rust: convert each span to owned document structs
//! (hex ids as strings, tags as `{key, type, value}`) and serialise them with serde_json.
//! Besides criterion's report, prints spans/s of each (per wall-clock and per CPU second: the
//! machine is shared) and the ratios.
//!
//! `cargo bench --bench traces`

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use serde::Serialize;
use sluice::event::Event;
use sluice::outputs::elasticsearch::encoder::{Action, BulkBuffer, Id, ItemTarget};
use sluice::outputs::elasticsearch::jaeger::{JaegerConfig, JaegerSchema};
use sluice::traces::model::{KeyValue, Process, Span, SpanLog, TagValue};

const BATCH: usize = 1000;
const INDEX: &str = "jaeger-span-2026-11-24";

fn spans(now_us: i64) -> Vec<Event> {
    let process = Arc::new(Process {
        service_name: "mangakai-backend".into(),
        tags: vec![
            KeyValue::new("hostname", TagValue::String("mangakai-web-7c9f".into())),
            KeyValue::new("ip", TagValue::String("10.42.3.17".into())),
            KeyValue::new("jaeger.version", TagValue::String("Python-4.8.0".into())),
        ],
    });
    (0..BATCH)
        .map(|n| {
            let s = |text: String| TagValue::String(text.into());
            let mut tags = vec![
                KeyValue::new("span.kind", s("server".into())),
                KeyValue::new("component", s("fastapi".into())),
                KeyValue::new("sampler.type", s("const".into())),
                KeyValue::new("sampler.param", TagValue::Bool(true)),
                KeyValue::new("http.method", s("GET".into())),
                KeyValue::new(
                    "http.url",
                    s(format!("http://mangakai/api/v1/manga/{n}/chapters?page=2")),
                ),
                KeyValue::new("http.status_code", TagValue::Int64(200)),
                KeyValue::new("peer.ipv4", s(format!("10.42.{}.{}", n % 256, n * 7 % 256))),
            ];
            for extra in 0..(n % 8) {
                tags.push(KeyValue::new(
                    ["db.rows", "cache.hit", "retry.count", "user.id"][extra % 4],
                    match extra % 4 {
                        0 => TagValue::Int64(n as i64),
                        1 => TagValue::Bool(n % 3 == 0),
                        2 => TagValue::Float64(0.5 + extra as f64),
                        _ => s(format!("user-{n}")),
                    },
                ));
            }
            let start = now_us - 1_000_000 + n as i64;
            Event::from_span(Span {
                trace_id: 0x5b8efff798038103d269b633813fc60c ^ n as u128,
                span_id: 0xeee19b7ec3c1b174 ^ n as u64,
                parent_span_id: 0x00f067aa0ba902b7,
                operation_name: format!("GET /api/v1/manga/{{id}}/chapters/{}", n % 20).into(),
                references: vec![],
                flags: 1,
                start_time_us: start,
                duration_us: 1500 + n as i64,
                tags,
                logs: vec![SpanLog {
                    timestamp_us: start + 700,
                    fields: vec![
                        KeyValue::new("event", s("cache miss".into())),
                        KeyValue::new("key", s(format!("manga:{n}"))),
                    ],
                }],
                process: process.clone(),
            })
        })
        .collect()
}

fn encode(schema: &JaegerSchema, events: &[Event], buffer: &mut BulkBuffer) -> usize {
    let target = ItemTarget {
        index: INDEX,
        id: Id::Auto,
        ..Default::default()
    };
    for event in events {
        buffer.push_with(Action::Index, false, &target, |out| {
            schema.encode(event, out)
        });
    }
    buffer.finish().size_total()
}

/// `encode` plus the output's per-span work before it (see `prepare_spans`): index date and
/// name, the start-time window, the lookup of the span's service document.
fn prepare(
    schema: &JaegerSchema,
    events: &mut [Event],
    buffer: &mut BulkBuffer,
    now_us: i64,
) -> usize {
    let clock = Instant::now();
    for event in events.iter_mut() {
        let placement = schema.place(event, now_us);
        black_box(schema.service_doc(event, &placement, clock).is_some());
        let target = ItemTarget {
            index: &placement.span_index,
            id: Id::Auto,
            ..Default::default()
        };
        buffer.push_with(Action::Index, false, &target, |out| {
            schema.encode(event, out)
        });
    }
    buffer.finish().size_total()
}

/// Jaeger's `dbmodel`, for the reference.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DbSpan<'a> {
    #[serde(rename = "traceID")]
    trace_id: String,
    #[serde(rename = "spanID")]
    span_id: String,
    #[serde(rename = "parentSpanID")]
    parent_span_id: String,
    flags: u32,
    operation_name: &'a str,
    references: Vec<DbRef>,
    start_time: i64,
    start_time_millis: i64,
    duration: i64,
    tags: Vec<DbKeyValue<'a>>,
    logs: Vec<DbLog<'a>>,
    process: DbProcess<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DbRef {
    ref_type: &'static str,
    #[serde(rename = "traceID")]
    trace_id: String,
    #[serde(rename = "spanID")]
    span_id: String,
}

#[derive(Serialize)]
struct DbKeyValue<'a> {
    key: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    value: DbValue<'a>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum DbValue<'a> {
    String(&'a str),
    Bool(bool),
    Int64(i64),
    Float64(f64),
}

#[derive(Serialize)]
struct DbLog<'a> {
    timestamp: i64,
    fields: Vec<DbKeyValue<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DbProcess<'a> {
    service_name: &'a str,
    tags: Vec<DbKeyValue<'a>>,
}

fn db_tags(tags: &[KeyValue]) -> Vec<DbKeyValue<'_>> {
    tags.iter()
        .map(|t| DbKeyValue {
            key: &t.key,
            kind: t.value.type_name(),
            value: match &t.value {
                TagValue::String(s) => DbValue::String(s),
                TagValue::Bool(b) => DbValue::Bool(*b),
                TagValue::Int64(i) => DbValue::Int64(*i),
                TagValue::Float64(f) => DbValue::Float64(*f),
                TagValue::Binary(_) => unreachable!("the bench has no binary tags"),
            },
        })
        .collect()
}

fn db_span(span: &Span) -> DbSpan<'_> {
    DbSpan {
        trace_id: format!("{:032x}", span.trace_id),
        span_id: format!("{:016x}", span.span_id),
        parent_span_id: format!("{:016x}", span.parent_span_id),
        flags: span.flags,
        operation_name: &span.operation_name,
        references: vec![DbRef {
            ref_type: "CHILD_OF",
            trace_id: format!("{:032x}", span.trace_id),
            span_id: format!("{:016x}", span.parent_span_id),
        }],
        start_time: span.start_time_us,
        start_time_millis: span.start_time_us / 1000,
        duration: span.duration_us,
        tags: db_tags(&span.tags),
        logs: span
            .logs
            .iter()
            .map(|l| DbLog {
                timestamp: l.timestamp_us,
                fields: db_tags(&l.fields),
            })
            .collect(),
        process: DbProcess {
            service_name: &span.process.service_name,
            tags: db_tags(&span.process.tags),
        },
    }
}

#[derive(Serialize)]
struct ActionLine<'a> {
    index: ActionMeta<'a>,
}

#[derive(Serialize)]
struct ActionMeta<'a> {
    _index: &'a str,
}

fn serde_reference(events: &[Event], out: &mut Vec<u8>) -> usize {
    out.clear();
    for event in events {
        let span = event.span().expect("untouched spans");
        serde_json::to_writer(
            &mut *out,
            &ActionLine {
                index: ActionMeta { _index: INDEX },
            },
        )
        .unwrap();
        out.push(b'\n');
        serde_json::to_writer(&mut *out, &db_span(span)).unwrap();
        out.push(b'\n');
    }
    out.len()
}

/// This thread's CPU time (user + system) from `/proc/thread-self/stat`, in clock ticks of
/// 10 ms: on a shared machine, wall time says more about the neighbours than about the code.
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split(' ').collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Spans per wall-clock second and per CPU second of `f`, over about `span` of CPU time.
fn rate(span: Duration, mut f: impl FnMut() -> usize) -> (f64, f64) {
    let start = Instant::now();
    let cpu_start = cpu_ticks().unwrap_or(0);
    let cpu = || cpu_ticks().map(|t| Duration::from_millis((t - cpu_start) * 10));
    let mut batches = 0u64;
    while cpu().unwrap_or_else(|| start.elapsed()) < span {
        black_box(f());
        batches += 1;
    }
    let spans = (batches * BATCH as u64) as f64;
    let cpu = cpu().unwrap_or_else(|| start.elapsed());
    (
        spans / start.elapsed().as_secs_f64(),
        spans / cpu.as_secs_f64(),
    )
}

fn main() {
    let now_us = sluice::event::now().timestamp_micros();
    let mut events = spans(now_us);
    let schema = JaegerSchema::new(JaegerConfig::default());
    let mut buffer = BulkBuffer::default();
    let mut out = Vec::new();

    // Both write the same documents (compared as JSON: the two may format a float apart).
    let ours_bytes = {
        let target = ItemTarget {
            index: INDEX,
            ..Default::default()
        };
        for event in &events {
            buffer.push_with(Action::Index, false, &target, |o| schema.encode(event, o));
        }
        buffer.finish()
    };
    serde_reference(&events, &mut out);
    let ours_body = ours_bytes.body(&(0..BATCH).collect::<Vec<_>>());
    let docs = |body: &[u8]| -> Vec<serde_json::Value> {
        body.split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect()
    };
    assert_eq!(docs(&ours_body), docs(&out), "the encoders disagree");
    println!(
        "document size: {} B per span with its action line",
        ours_body.len() / BATCH
    );

    // In steady state a service's documents are written and remembered: only new
    // service/operation pairs (20 here) cost a service document.
    let clock = Instant::now();
    for event in events.iter_mut() {
        let placement = schema.place(event, now_us);
        if let Some((doc, _)) = schema.service_doc(event, &placement, clock) {
            schema.written([doc.key], clock);
        }
    }

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("traces");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("sluice_jaeger_encode", |b| {
        b.iter(|| encode(&schema, black_box(&events), &mut buffer))
    });
    group.bench_function("sluice_jaeger_prepare", |b| {
        b.iter(|| prepare(&schema, black_box(&mut events), &mut buffer, now_us))
    });
    group.bench_function("serde_json_dbmodel", |b| {
        b.iter(|| serde_reference(black_box(&events), &mut out))
    });
    group.finish();

    let window = Duration::from_secs(3);
    let ours = rate(window, || encode(&schema, &events, &mut buffer));
    let prepared = rate(window, || {
        prepare(&schema, &mut events, &mut buffer, now_us)
    });
    let serde = rate(window, || serde_reference(&events, &mut out));
    for (what, (wall, cpu)) in [
        ("sluice encode", ours),
        ("sluice prepare+encode", prepared),
        ("serde_json dbmodel", serde),
    ] {
        println!(
            "{what}: {:.2} M spans/s wall, {:.2} M spans per CPU-second",
            wall / 1e6,
            cpu / 1e6
        );
    }
    println!(
        "ratio (CPU): encode {:.2}x, prepare+encode {:.2}x the serde_json reference",
        ours.1 / serde.1,
        prepared.1 / serde.1
    );
}
