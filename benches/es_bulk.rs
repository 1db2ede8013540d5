//! Batch → `_bulk` NDJSON for Filebeat-shaped events after grok (~600-byte documents).
//!
//! Ours: `BulkBuffer::push` (action line + source straight from the event tree, strings from
//! their `Bytes`). References in the same run: serde_json writing the same events through a
//! `Serialize` impl on the event tree (no intermediate values), and serde_json through
//! `serde_json::Value` (what an encoder that builds a JSON value per event pays).
//! Besides criterion's report, prints events/s of each and the ratios.
//!
//! `cargo bench --bench es_bulk`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use sluice::event::{write_timestamp, Event, FieldRef, Object, Text, Value};
use sluice::outputs::elasticsearch::encoder::{Action, BulkBuffer, Id, ItemTarget};

const BATCH: usize = 1000;
const INDEX: &str = "mangakai-logs-2026.11.24";

/// One event as Filebeat 7.17 sends it and grok leaves it: captures are slices of `message`.
fn event(n: usize) -> Event {
    let message = Text::from(format!(
        "2026-11-24T16:17:{:02}.{:03}Z INFO [uvicorn.access] 10.42.{}.{} - \"GET /api/v1/manga/{}/chapters?page=2 HTTP/1.1\" 200 {} {}ms",
        n % 60,
        n % 1000,
        n % 256,
        (n * 7) % 256,
        n,
        1000 + n % 5000,
        n % 300
    ));
    let m = message.as_str();
    let part = |needle: &str| -> Text {
        let at = m.find(needle).unwrap();
        message.slice_ref(&m[at..at + needle.len()])
    };
    let ip_start = m.find("10.42.").unwrap();
    let ip_end = ip_start + m[ip_start..].find(' ').unwrap();
    let path_start = m.find("/api").unwrap();
    let path_end = path_start + m[path_start..].find(' ').unwrap();
    let mut e = Event::new(Object::new());
    let mut set = |f: &str, v: Value| {
        e.insert(&FieldRef::parse(f).unwrap(), v);
    };
    set("@timestamp", sluice::event::now().into());
    set("[agent][id]", "5b1c0a6e-3a51-4b7b-9bd4-2f2d3c1e9f11".into());
    set("[agent][name]", "mangakai-web-7c9f".into());
    set("[agent][type]", "filebeat".into());
    set("[agent][version]", "7.17.29".into());
    set("[ecs][version]", "1.12.0".into());
    set("[host][name]", "mangakai-web-7c9f".into());
    set("[log][file][path]", "/var/log/mangakai/access.log".into());
    set("[log][offset]", ((n * 231) as i64).into());
    set("[input][type]", "log".into());
    set("level", part("INFO").into());
    set("client_ip", message.slice_ref(&m[ip_start..ip_end]).into());
    set("method", part("GET").into());
    set("path", message.slice_ref(&m[path_start..path_end]).into());
    set("status", 200i64.into());
    set("bytes", ((1000 + n % 5000) as i64).into());
    set("duration_ms", ((n % 300) as f64 + 0.5).into());
    set(
        "tags",
        Value::Array(vec!["beats_input_codec_plain_applied".into()]),
    );
    set("message", message.clone().into());
    set("[@metadata][beat]", "filebeat".into());
    set("[@metadata][type]", "_doc".into());
    e
}

fn ours(events: &[Event], buffer: &mut BulkBuffer) -> usize {
    let target = ItemTarget {
        index: INDEX,
        id: Id::Auto,
        routing: None,
        pipeline: None,
    };
    for e in events {
        buffer.push(Action::Index, false, &target, e);
    }
    buffer.finish().size_total()
}

/// serde's view of the event tree, for the reference encoders.
struct Ser<'a>(&'a Value);

impl Serialize for Ser<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => s.serialize_unit(),
            Value::Boolean(b) => s.serialize_bool(*b),
            Value::Integer(i) => s.serialize_i64(*i),
            Value::Float(f) => s.serialize_f64(*f),
            Value::String(t) => s.serialize_str(t),
            Value::Timestamp(ts) => {
                let mut text = String::with_capacity(30);
                write_timestamp(ts, &mut text);
                s.serialize_str(&text)
            }
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Ser(item))?;
                }
                seq.end()
            }
            Value::Object(o) => serialize_object(o, s),
        }
    }
}

fn serialize_object<S: Serializer>(o: &Object, s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(o.len()))?;
    for (k, v) in o.iter() {
        map.serialize_entry(k.as_str(), &Ser(v))?;
    }
    map.end()
}

struct Fields<'a>(&'a Object);

impl Serialize for Fields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_object(self.0, s)
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

fn serde_direct(events: &[Event], out: &mut Vec<u8>) -> usize {
    out.clear();
    for e in events {
        serde_json::to_writer(
            &mut *out,
            &ActionLine {
                index: ActionMeta { _index: INDEX },
            },
        )
        .unwrap();
        out.push(b'\n');
        serde_json::to_writer(&mut *out, &Fields(e.fields())).unwrap();
        out.push(b'\n');
    }
    out.len()
}

fn serde_value(events: &[Event], out: &mut Vec<u8>) -> usize {
    out.clear();
    for e in events {
        let action = serde_json::json!({ "index": { "_index": INDEX } });
        serde_json::to_writer(&mut *out, &action).unwrap();
        out.push(b'\n');
        let doc = serde_json::to_value(Fields(e.fields())).unwrap();
        serde_json::to_writer(&mut *out, &doc).unwrap();
        out.push(b'\n');
    }
    out.len()
}

/// Events per second of `f` over about `span`.
fn rate(span: Duration, mut f: impl FnMut() -> usize) -> f64 {
    let start = Instant::now();
    let mut batches = 0u64;
    while start.elapsed() < span {
        black_box(f());
        batches += 1;
    }
    (batches * BATCH as u64) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let events: Vec<Event> = (0..BATCH).map(event).collect();
    let mut buffer = BulkBuffer::default();
    let mut out = Vec::new();
    let ours_bytes = ours(&events, &mut buffer);
    let serde_bytes = serde_direct(&events, &mut out);
    // Same bytes modulo float formatting (`12.5` both ways here) and key order (identical).
    assert_eq!(
        ours_bytes, serde_bytes,
        "the encoders disagree on the output"
    );

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("es_bulk");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("sluice_bulk_encoder", |b| {
        b.iter(|| ours(black_box(&events), &mut buffer))
    });
    group.bench_function("serde_json_serialize", |b| {
        b.iter(|| serde_direct(black_box(&events), &mut out))
    });
    group.bench_function("serde_json_via_value", |b| {
        b.iter(|| serde_value(black_box(&events), &mut out))
    });
    group.finish();

    // Under `cargo test --all-targets` (no `--bench`) criterion only checks the bench runs.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let span = Duration::from_secs(3);
    let r_ours = rate(span, || ours(&events, &mut buffer));
    let r_direct = rate(span, || serde_direct(&events, &mut out));
    let r_value = rate(span, || serde_value(&events, &mut out));
    let action_line = INDEX.len() + 24;
    println!(
        "es_bulk: {} events/batch, {:.0} B per document (+{action_line} B action line)",
        BATCH,
        ours_bytes as f64 / BATCH as f64 - action_line as f64
    );
    println!("es_bulk: sluice bulk encoder     {r_ours:>12.0} events/s");
    println!(
        "es_bulk: serde_json (Serialize)  {r_direct:>12.0} events/s  (sluice is {:.2}x)",
        r_ours / r_direct
    );
    println!(
        "es_bulk: serde_json (via Value)  {r_value:>12.0} events/s  (sluice is {:.2}x)",
        r_ours / r_value
    );
}
