//! The Jaeger schema's span documents from arbitrary spans: the fast path (typed span) and the
//! tree path (the span's field tree) must write the same bytes, with and without
//! `tags_as_fields`; what they write must be JSON whose elevated field names are never empty;
//! and no start time, however bogus, may date a span outside the start-time window.

#![no_main]

use std::sync::Arc;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sluice::event::json::decode_object;
use sluice::event::{Event, Text, Value};
use sluice::outputs::elasticsearch::jaeger::span_json::{encode_span, encode_tree, TagsAsFields};
use sluice::outputs::elasticsearch::jaeger::{JaegerConfig, JaegerSchema};
use sluice::traces::model::{KeyValue, Process, RefType, Span, SpanLog, SpanRef, TagValue};

/// Reads the fuzzer's bytes as a span's parts.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }

    fn u64(&mut self) -> u64 {
        let mut buf = [0u8; 8];
        let bytes = self.take(8);
        buf[..bytes.len()].copy_from_slice(bytes);
        u64::from_le_bytes(buf)
    }

    fn byte(&mut self) -> u8 {
        self.take(1).first().copied().unwrap_or(0)
    }

    fn text(&mut self) -> Text {
        let n = usize::from(self.byte() % 12);
        Text::from(String::from_utf8_lossy(self.take(n)).into_owned())
    }

    fn tags(&mut self) -> Vec<KeyValue> {
        (0..self.byte() % 6)
            .map(|_| {
                let key = self.text();
                let value = match self.byte() % 5 {
                    0 => TagValue::String(self.text()),
                    1 => TagValue::Bool(self.byte() & 1 == 1),
                    2 => TagValue::Int64(self.u64() as i64),
                    3 => TagValue::Float64(f64::from_bits(self.u64())),
                    _ => TagValue::Binary(Bytes::copy_from_slice(self.text().as_bytes())),
                };
                KeyValue::new(key, value)
            })
            .collect()
    }

    fn span(&mut self) -> Span {
        Span {
            trace_id: u128::from(self.u64()) << 64 | u128::from(self.u64()),
            span_id: self.u64(),
            parent_span_id: self.u64() % 3,
            operation_name: self.text(),
            references: (0..self.byte() % 3)
                .map(|_| SpanRef {
                    ref_type: if self.byte() & 1 == 0 {
                        RefType::ChildOf
                    } else {
                        RefType::FollowsFrom
                    },
                    trace_id: u128::from(self.u64()),
                    span_id: self.u64(),
                })
                .collect(),
            flags: self.u64() as u32,
            start_time_us: self.u64() as i64,
            duration_us: self.u64() as i64,
            tags: self.tags(),
            logs: (0..self.byte() % 3)
                .map(|_| SpanLog {
                    timestamp_us: self.u64() as i64,
                    fields: self.tags(),
                })
                .collect(),
            process: Arc::new(Process {
                service_name: self.text(),
                tags: self.tags(),
            }),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let span = input.span();
    let dot = input.text();
    let elevations = [
        TagsAsFields::default(),
        TagsAsFields {
            all: true,
            dot_replacement: dot.as_str().replace('.', "").into(),
            ..TagsAsFields::default()
        },
    ];
    let event = Event::from_span(span.clone());
    for elevate in &elevations {
        let (mut fast, mut tree) = (Vec::new(), Vec::new());
        encode_span(&span, elevate, &mut fast);
        encode_tree(event.fields(), elevate, &mut tree);
        assert_eq!(fast, tree, "the two paths disagree");
        let doc = decode_object(&Bytes::from(fast)).expect("a span document is JSON");
        for field in [
            doc.get("tag"),
            doc.get("process").and_then(|p| p.as_object()?.get("tag")),
        ]
        .into_iter()
        .flatten()
        {
            let Value::Object(tag) = field else {
                panic!("tag is an object")
            };
            assert!(tag.keys().all(|k| !k.is_empty() && !k.contains('.')));
        }
    }

    let schema = JaegerSchema::new(JaegerConfig::default());
    let now_us = sluice::event::now().timestamp_micros();
    let mut event = Event::from_span(span);
    let placement = schema.place(&mut event, now_us);
    let date = |us: i64| {
        let time = chrono::DateTime::from_timestamp_micros(us).unwrap();
        time.format("%Y-%m-%d").to_string()
    };
    let lo = date(now_us - 72 * 3_600_000_000);
    let hi = date(now_us + 3_600_000_000);
    let day = placement.span_index.trim_start_matches("jaeger-span-");
    assert!(
        lo.as_str() <= day && day <= hi.as_str(),
        "{day} outside {lo}..{hi}"
    );
});
