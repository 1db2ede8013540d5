//! `jaeger.thrift`'s structs (`Batch`, `Process`, `Span`, `SpanRef`, `Tag`, `Log`) and
//! `agent.thrift`'s `emitBatch` message, read through either protocol into the span model.
//!
//! Field ids are `jaeger.thrift`'s. A field whose id we know but whose type differs is
//! skipped, as Thrift's generated readers do.

use std::sync::Arc;

use bytes::Bytes;

use super::protocol::{skip, Protocol, Ty};
use super::{DecodeError, Decoded, PREALLOCATE};
use crate::event::Text;
use crate::traces::model::{KeyValue, Process, RefType, Span, SpanLog, SpanRef, TagValue};
use crate::traces::parent::take_parent;

/// Reads an `Agent.emitBatch(1: Batch batch)` call.
pub fn emit_batch<P: Protocol>(p: P) -> Result<Decoded, DecodeError> {
    let mut r = Reader::new(p);
    let header = r.p.message_begin()?;
    if !header.is_call || &header.name[..] != b"emitBatch" {
        return Err(DecodeError::Unsupported(
            "only Agent.emitBatch calls are accepted",
        ));
    }
    let mut batch = None;
    let mut last = 0;
    while let Some((ty, id)) = r.p.field_begin(&mut last)? {
        match (id, ty) {
            (1, Ty::Struct) => batch = Some(r.batch()?),
            _ => skip(&mut r.p, ty, 1)?,
        }
    }
    let spans = batch.ok_or(DecodeError::MissingField("emitBatch.batch"))?;
    Ok(Decoded {
        spans,
        invalid_utf8: r.invalid_utf8,
    })
}

/// Reads a `Batch` struct that is the whole input.
pub fn bare_batch<P: Protocol>(p: P) -> Result<Decoded, DecodeError> {
    let mut r = Reader::new(p);
    let spans = r.batch()?;
    Ok(Decoded {
        spans,
        invalid_utf8: r.invalid_utf8,
    })
}

/// Marks which required fields a struct has shown, to name the first one missing.
struct Required {
    seen: u32,
}

impl Required {
    fn new() -> Required {
        Required { seen: 0 }
    }
    fn saw(&mut self, bit: u32) {
        self.seen |= 1 << bit;
    }
    /// Fails with the first of `names` (bit `i` for `names[i]`) that was not seen.
    fn check(&self, names: &[&'static str]) -> Result<(), DecodeError> {
        match (0..names.len()).find(|&i| self.seen & (1 << i) == 0) {
            Some(i) => Err(DecodeError::MissingField(names[i])),
            None => Ok(()),
        }
    }
}

struct Reader<P> {
    p: P,
    invalid_utf8: usize,
}

impl<P: Protocol> Reader<P> {
    fn new(p: P) -> Reader<P> {
        Reader { p, invalid_utf8: 0 }
    }

    fn text(&mut self) -> Result<Text, DecodeError> {
        let bytes = self.p.read_binary()?;
        Ok(match Text::from_utf8(bytes.clone()) {
            Ok(text) => text,
            Err(_) => {
                self.invalid_utf8 += 1;
                Text::from_utf8_lossy(bytes)
            }
        })
    }

    /// A list of `elem`s, each read by `read` (the list is at depth 2 or more, so its
    /// elements' own fields are at most three levels further down).
    fn list<T>(
        &mut self,
        elem: Ty,
        mut read: impl FnMut(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let (ty, n) = self.p.list_begin()?;
        if n > 0 && ty != elem {
            return Err(DecodeError::Garbage("list of the wrong element type"));
        }
        let mut items = Vec::with_capacity(n.min(PREALLOCATE));
        for _ in 0..n {
            items.push(read(self)?);
        }
        Ok(items)
    }

    /// `Batch { 1: required Process process, 2: required list<Span> spans, … }`.
    fn batch(&mut self) -> Result<Vec<Span>, DecodeError> {
        let mut process = None;
        let mut spans = None;
        let mut last = 0;
        while let Some((ty, id)) = self.p.field_begin(&mut last)? {
            match (id, ty) {
                (1, Ty::Struct) => process = Some(self.process()?),
                (2, Ty::List) => spans = Some(self.list(Ty::Struct, Self::span)?),
                // seqNo, stats: client bookkeeping we have no use for.
                _ => skip(&mut self.p, ty, 2)?,
            }
        }
        let process = Arc::new(process.ok_or(DecodeError::MissingField("Batch.process"))?);
        let mut spans = spans.ok_or(DecodeError::MissingField("Batch.spans"))?;
        for span in &mut spans {
            span.process = process.clone();
        }
        Ok(spans)
    }

    /// `Process { 1: required string serviceName, 2: optional list<Tag> tags }`.
    fn process(&mut self) -> Result<Process, DecodeError> {
        let mut service_name = None;
        let mut tags = Vec::new();
        let mut last = 0;
        while let Some((ty, id)) = self.p.field_begin(&mut last)? {
            match (id, ty) {
                (1, Ty::Binary) => service_name = Some(self.text()?),
                (2, Ty::List) => tags = self.list(Ty::Struct, Self::tag)?,
                _ => skip(&mut self.p, ty, 3)?,
            }
        }
        Ok(Process {
            service_name: service_name.ok_or(DecodeError::MissingField("Process.serviceName"))?,
            tags,
        })
    }

    fn span(&mut self) -> Result<Span, DecodeError> {
        const REQUIRED: [&str; 8] = [
            "Span.traceIdLow",
            "Span.traceIdHigh",
            "Span.spanId",
            "Span.parentSpanId",
            "Span.operationName",
            "Span.flags",
            "Span.startTime",
            "Span.duration",
        ];
        let mut seen = Required::new();
        let (mut low, mut high, mut span_id, mut parent) = (0, 0, 0, 0);
        let mut operation_name = Text::default();
        let mut references = Vec::new();
        let (mut flags, mut start, mut duration) = (0, 0, 0);
        let mut tags = Vec::new();
        let mut logs = Vec::new();
        let mut last = 0;
        while let Some((ty, id)) = self.p.field_begin(&mut last)? {
            match (id, ty) {
                (1, Ty::I64) => {
                    low = self.p.read_i64()?;
                    seen.saw(0);
                }
                (2, Ty::I64) => {
                    high = self.p.read_i64()?;
                    seen.saw(1);
                }
                (3, Ty::I64) => {
                    span_id = self.p.read_i64()?;
                    seen.saw(2);
                }
                (4, Ty::I64) => {
                    parent = self.p.read_i64()?;
                    seen.saw(3);
                }
                (5, Ty::Binary) => {
                    operation_name = self.text()?;
                    seen.saw(4);
                }
                (6, Ty::List) => references = self.list(Ty::Struct, Self::span_ref)?,
                (7, Ty::I32) => {
                    flags = self.p.read_i32()?;
                    seen.saw(5);
                }
                (8, Ty::I64) => {
                    start = self.p.read_i64()?;
                    seen.saw(6);
                }
                (9, Ty::I64) => {
                    duration = self.p.read_i64()?;
                    seen.saw(7);
                }
                (10, Ty::List) => tags = self.list(Ty::Struct, Self::tag)?,
                (11, Ty::List) => logs = self.list(Ty::Struct, Self::log)?,
                _ => skip(&mut self.p, ty, 3)?,
            }
        }
        seen.check(&REQUIRED)?;
        let trace_id = trace_id(high, low);
        let parent_span_id = take_parent(trace_id, parent as u64, &mut references);
        Ok(Span {
            trace_id,
            span_id: span_id as u64,
            parent_span_id,
            operation_name,
            references,
            flags: flags as u32,
            start_time_us: start,
            duration_us: duration,
            tags,
            logs,
            // Set by `batch` once the batch's process is known.
            process: placeholder_process(),
        })
    }

    /// `SpanRef { 1: refType, 2: traceIdLow, 3: traceIdHigh, 4: spanId }`, all required.
    fn span_ref(&mut self) -> Result<SpanRef, DecodeError> {
        let mut seen = Required::new();
        let (mut ref_type, mut low, mut high, mut span_id) = (0, 0, 0, 0);
        let mut last = 0;
        while let Some((ty, id)) = self.p.field_begin(&mut last)? {
            match (id, ty) {
                (1, Ty::I32) => {
                    ref_type = self.p.read_i32()?;
                    seen.saw(0);
                }
                (2, Ty::I64) => {
                    low = self.p.read_i64()?;
                    seen.saw(1);
                }
                (3, Ty::I64) => {
                    high = self.p.read_i64()?;
                    seen.saw(2);
                }
                (4, Ty::I64) => {
                    span_id = self.p.read_i64()?;
                    seen.saw(3);
                }
                _ => skip(&mut self.p, ty, 4)?,
            }
        }
        seen.check(&[
            "SpanRef.refType",
            "SpanRef.traceIdLow",
            "SpanRef.traceIdHigh",
            "SpanRef.spanId",
        ])?;
        Ok(SpanRef {
            // CHILD_OF = 0, FOLLOWS_FROM = 1; Jaeger reads other values as FOLLOWS_FROM too.
            ref_type: if ref_type == 0 {
                RefType::ChildOf
            } else {
                RefType::FollowsFrom
            },
            trace_id: trace_id(high, low),
            span_id: span_id as u64,
        })
    }

    /// `Log { 1: required i64 timestamp, 2: required list<Tag> fields }`.
    fn log(&mut self) -> Result<SpanLog, DecodeError> {
        let mut seen = Required::new();
        let mut timestamp_us = 0;
        let mut fields = Vec::new();
        let mut last = 0;
        while let Some((ty, id)) = self.p.field_begin(&mut last)? {
            match (id, ty) {
                (1, Ty::I64) => {
                    timestamp_us = self.p.read_i64()?;
                    seen.saw(0);
                }
                (2, Ty::List) => {
                    fields = self.list(Ty::Struct, Self::tag)?;
                    seen.saw(1);
                }
                _ => skip(&mut self.p, ty, 4)?,
            }
        }
        seen.check(&["Log.timestamp", "Log.fields"])?;
        Ok(SpanLog {
            timestamp_us,
            fields,
        })
    }

    /// `Tag { 1: required string key, 2: required TagType vType, 3: vStr, 4: vDouble,
    /// 5: vBool, 6: vLong, 7: vBinary }`; the value is the one `vType` names.
    fn tag(&mut self) -> Result<KeyValue, DecodeError> {
        let mut seen = Required::new();
        let mut key = Text::default();
        let mut v_type = 0;
        let mut v_str = Text::default();
        let mut v_double = 0.0;
        let mut v_bool = false;
        let mut v_long = 0;
        let mut v_binary = Bytes::new();
        let mut last = 0;
        while let Some((ty, id)) = self.p.field_begin(&mut last)? {
            match (id, ty) {
                (1, Ty::Binary) => {
                    key = self.text()?;
                    seen.saw(0);
                }
                (2, Ty::I32) => {
                    v_type = self.p.read_i32()?;
                    seen.saw(1);
                }
                (3, Ty::Binary) => v_str = self.text()?,
                (4, Ty::Double) => v_double = self.p.read_double()?,
                (5, Ty::Bool) => v_bool = self.p.read_bool()?,
                (6, Ty::I64) => v_long = self.p.read_i64()?,
                (7, Ty::Binary) => v_binary = self.p.read_binary()?,
                _ => skip(&mut self.p, ty, 5)?,
            }
        }
        seen.check(&["Tag.key", "Tag.vType"])?;
        let value = match v_type {
            1 => TagValue::Float64(v_double),
            2 => TagValue::Bool(v_bool),
            3 => TagValue::Int64(v_long),
            4 => TagValue::Binary(v_binary),
            // STRING = 0, and any type a newer IDL may add: the string is what is left.
            _ => TagValue::String(v_str),
        };
        Ok(KeyValue { key, value })
    }
}

/// Thrift ids are signed; Jaeger reads their bits as unsigned.
fn trace_id(high: i64, low: i64) -> u128 {
    (u128::from(high as u64) << 64) | u128::from(low as u64)
}

/// The process a span holds until its batch's is known: one shared empty value, so a span
/// costs no allocation for it.
fn placeholder_process() -> Arc<Process> {
    static EMPTY: std::sync::OnceLock<Arc<Process>> = std::sync::OnceLock::new();
    EMPTY
        .get_or_init(|| {
            Arc::new(Process {
                service_name: Text::default(),
                tags: Vec::new(),
            })
        })
        .clone()
}
