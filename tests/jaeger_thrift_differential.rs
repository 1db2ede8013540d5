//! Our Jaeger Thrift decoders against the `thrift` crate 0.25 (Apache Thrift's own Rust
//! library): random batches are encoded with it in the compact and binary protocols, with and
//! without fields from the future, and must decode to exactly the spans they were made from,
//! by our decoders and by the `thrift` crate's.

#[path = "support/jaeger_thrift_crate.rs"]
mod thrift_crate;

use std::sync::Arc;

use bytes::Bytes;
use sluice::event::Text;
use sluice::traces::model::{KeyValue, Process, RefType, Span, SpanLog, SpanRef, TagValue};
use sluice::traces::thrift::{
    decode_binary_batch, decode_binary_emit_batch, decode_compact_emit_batch,
};
use thrift_crate::{Extensions, Wire};

fn text(rng: &mut fastrand::Rng) -> Text {
    const PIECES: [&str; 6] = ["a", "span", "é", "日本", "🚀", " "];
    let n = rng.usize(0..12);
    Text::from(
        (0..n)
            .map(|_| PIECES[rng.usize(..PIECES.len())])
            .collect::<String>(),
    )
}

fn tag(rng: &mut fastrand::Rng) -> KeyValue {
    let value = match rng.u8(0..5) {
        0 => TagValue::String(text(rng)),
        1 => TagValue::Float64(rng.f64() * 1e6 - 5e5),
        2 => TagValue::Bool(rng.bool()),
        3 => TagValue::Int64(rng.i64(..)),
        _ => TagValue::Binary(Bytes::from(
            (0..rng.usize(0..9)).map(|_| rng.u8(..)).collect::<Vec<_>>(),
        )),
    };
    KeyValue::new(text(rng), value)
}

fn tags(rng: &mut fastrand::Rng, max: usize) -> Vec<KeyValue> {
    (0..rng.usize(0..=max)).map(|_| tag(rng)).collect()
}

/// A batch of random spans. References are FOLLOWS_FROM or point into another trace: a
/// same-trace CHILD_OF names the parent, which the model keeps in `parent_span_id` instead.
fn batch(rng: &mut fastrand::Rng) -> Vec<Span> {
    let process = Arc::new(Process {
        service_name: text(rng),
        tags: tags(rng, 4),
    });
    (0..rng.usize(0..20))
        .map(|_| {
            let trace_id = if rng.bool() {
                u128::from(rng.u64(..))
            } else {
                rng.u128(..)
            };
            Span {
                trace_id,
                span_id: rng.u64(..),
                parent_span_id: if rng.bool() { 0 } else { rng.u64(..) },
                operation_name: text(rng),
                references: (0..rng.usize(0..3))
                    .map(|_| SpanRef {
                        ref_type: if rng.bool() {
                            RefType::FollowsFrom
                        } else {
                            RefType::ChildOf
                        },
                        trace_id: trace_id ^ 1,
                        span_id: rng.u64(..),
                    })
                    .collect(),
                flags: rng.u32(..),
                start_time_us: rng.i64(..),
                duration_us: rng.i64(..),
                tags: tags(rng, 8),
                logs: (0..rng.usize(0..3))
                    .map(|_| SpanLog {
                        timestamp_us: rng.i64(..),
                        fields: tags(rng, 4),
                    })
                    .collect(),
                process: process.clone(),
            }
        })
        .collect()
}

#[test]
fn random_batches_decode_as_the_thrift_crate_encodes_them() {
    let mut rng = fastrand::Rng::with_seed(0x1a_e6e7);
    for round in 0..400 {
        let spans = batch(&mut rng);
        let ext = Extensions(round % 2 == 1);
        for wire in [Wire::Compact, Wire::Binary] {
            let bytes = thrift_crate::emit_batch(wire, &spans, ext);
            let ours = match wire {
                Wire::Compact => decode_compact_emit_batch(Bytes::from(bytes.clone())),
                Wire::Binary => decode_binary_emit_batch(Bytes::from(bytes.clone())),
            }
            .unwrap_or_else(|e| panic!("round {round} {wire:?}: {e}"));
            assert_eq!(ours.spans, spans, "round {round} {wire:?}");
            assert_eq!(ours.invalid_utf8, 0);
            let reference = thrift_crate::decode_emit_batch(wire, &bytes).unwrap();
            assert_eq!(
                reference, spans,
                "the reference decoder, round {round} {wire:?}"
            );
        }
        let body = thrift_crate::bare_batch(&spans, ext);
        assert_eq!(decode_binary_batch(Bytes::from(body)).unwrap().spans, spans);
    }
}

#[test]
fn every_strict_prefix_of_a_message_is_refused() {
    let mut rng = fastrand::Rng::with_seed(7);
    let spans = batch(&mut rng);
    for wire in [Wire::Compact, Wire::Binary] {
        let bytes = Bytes::from(thrift_crate::emit_batch(wire, &spans, Extensions(true)));
        for end in 0..bytes.len() {
            let prefix = bytes.slice(..end);
            let result = match wire {
                Wire::Compact => decode_compact_emit_batch(prefix),
                Wire::Binary => decode_binary_emit_batch(prefix),
            };
            assert!(result.is_err(), "{wire:?} prefix of {end} bytes decoded");
        }
    }
}

#[test]
fn strings_are_slices_of_the_datagram() {
    let mut rng = fastrand::Rng::with_seed(3);
    let spans = loop {
        let spans = batch(&mut rng);
        if spans.iter().any(|s| !s.operation_name.is_empty()) {
            break spans;
        }
    };
    let bytes = Bytes::from(thrift_crate::emit_batch(
        Wire::Compact,
        &spans,
        Extensions(false),
    ));
    let range = bytes.as_ptr_range();
    let decoded = decode_compact_emit_batch(bytes.clone()).unwrap();
    for span in decoded
        .spans
        .iter()
        .filter(|s| !s.operation_name.is_empty())
    {
        assert!(range.contains(&span.operation_name.as_bytes().as_ptr()));
    }
}
