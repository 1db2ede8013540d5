//! Beats input hot path: decoding a Filebeat window and building its events.
//!
//! The events are the 2048 of the first window of the real Filebeat 7.17 capture (~640 B of
//! JSON each), re-framed as one window uncompressed and one compressed at zlib level 3
//! (Filebeat's default). `decode+events` makes the lazy events a pipeline without filters
//! gets (checked JSON, no tree); `decode+events+first-read` reads a field of each, which
//! builds its tree; `decode+trees` builds trees right away, as the input does when the
//! pipeline reads every event (filters). Throughput is in events; the socket buffer is prepared outside the
//! timed section. There is no in-process reference implementation to compare against; the
//! published figures for go-lumber and Logstash are in docs/PERFORMANCE.md. Times are the
//! bench thread's CPU time (`support/thread_cpu_time.rs`): the machine is shared.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use sluice::event::{Event, FieldRef};
use sluice::inputs::beats::event::{EventBuilder, EventOptions};
use sluice::inputs::beats::frame::{encode, Decoder, Limits, Payload};
use thread_cpu_time::ThreadCpuTime;

#[path = "support/counting_allocator.rs"]
mod counting_allocator;
#[path = "support/thread_cpu_time.rs"]
mod thread_cpu_time;

#[global_allocator]
static GLOBAL: counting_allocator::Counting = counting_allocator::Counting;

const CAPTURE: &[u8] = include_bytes!("../fixtures/beats/filebeat-7.17.29-zlib3-5000.bin");

/// The JSON payloads of the capture's first window.
fn filebeat_events() -> Vec<bytes::Bytes> {
    let mut decoder = Decoder::new(Limits::default());
    let mut buf = BytesMut::from(CAPTURE);
    let window = decoder.decode(&mut buf).unwrap().unwrap();
    window
        .frames
        .into_iter()
        .map(|f| match f.payload {
            Payload::Json(b) => b,
            Payload::Pairs(_) => unreachable!("Filebeat sends JSON"),
        })
        .collect()
}

fn window_bytes(events: &[bytes::Bytes], level: Option<u32>) -> BytesMut {
    let mut frames = BytesMut::new();
    for (i, e) in events.iter().enumerate() {
        encode::json(&mut frames, i as u32 + 1, e);
    }
    let mut out = BytesMut::new();
    encode::window(&mut out, b'2', events.len() as u32);
    match level {
        Some(level) => encode::compressed(&mut out, b'2', &frames, level),
        None => out.extend_from_slice(&frames),
    }
    out
}

fn bench(c: &mut Criterion<ThreadCpuTime>) {
    let events = filebeat_events();
    let peer = "10.0.0.1:40000".parse().unwrap();
    let builder = EventBuilder::new(peer, EventOptions::default());
    let eager = EventBuilder::new(
        peer,
        EventOptions {
            lazy: false,
            ..EventOptions::default()
        },
    );
    let message = FieldRef::parse("message").unwrap();
    let mut group = c.benchmark_group("beats");
    group.throughput(Throughput::Elements(events.len() as u64));
    for (name, level) in [("plain", None), ("zlib3", Some(3))] {
        let wire = window_bytes(&events, level);
        report_allocations(&format!("{name} events"), &wire, &builder, events.len());
        report_allocations(&format!("{name} trees"), &wire, &eager, events.len());
        group.bench_function(format!("decode/{name}"), |b| {
            b.iter_batched(
                || BytesMut::from(&wire[..]),
                |mut buf| {
                    let mut decoder = Decoder::new(Limits::default());
                    black_box(decoder.decode(&mut buf).unwrap().unwrap())
                },
                BatchSize::LargeInput,
            )
        });
        group.bench_function(format!("decode+events/{name}"), |b| {
            b.iter_batched(
                || BytesMut::from(&wire[..]),
                |mut buf| black_box(decode_and_build(&mut buf, &builder, |_| {})),
                BatchSize::LargeInput,
            )
        });
        group.bench_function(format!("decode+events+first-read/{name}"), |b| {
            b.iter_batched(
                || BytesMut::from(&wire[..]),
                |mut buf| {
                    black_box(decode_and_build(&mut buf, &builder, |e| {
                        black_box(e.get(&message));
                    }))
                },
                BatchSize::LargeInput,
            )
        });
        group.bench_function(format!("decode+trees/{name}"), |b| {
            b.iter_batched(
                || BytesMut::from(&wire[..]),
                |mut buf| black_box(decode_and_build(&mut buf, &eager, |_| {})),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

/// Decodes the window in `buf` and builds its events, handing each to `each`.
fn decode_and_build(
    buf: &mut BytesMut,
    builder: &EventBuilder,
    each: impl Fn(&Event),
) -> Vec<Event> {
    let mut decoder = Decoder::new(Limits::default());
    let window = decoder.decode(buf).unwrap().unwrap();
    window
        .frames
        .into_iter()
        .map(|f| {
            let event = builder.build(f.payload).unwrap();
            each(&event);
            event
        })
        .collect()
}

/// Prints the allocations one window's decode and event construction make, per event.
fn report_allocations(name: &str, wire: &BytesMut, builder: &EventBuilder, events: usize) {
    let mut buf = BytesMut::from(&wire[..]);
    let before = counting_allocator::allocations();
    let mut decoder = Decoder::new(Limits::default());
    let window = decoder.decode(&mut buf).unwrap().unwrap();
    let decoded = counting_allocator::allocations();
    let built: Vec<_> = window
        .frames
        .into_iter()
        .map(|f| builder.build(f.payload).unwrap())
        .collect();
    let after = counting_allocator::allocations();
    drop(black_box(built));
    println!(
        "beats/{name}: allocations per event: decode {:.2}, decode+events {:.2}",
        (decoded - before) as f64 / events as f64,
        (after - before) as f64 / events as f64
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = bench
}
criterion_main!(benches);
