//! Jaeger batches through the `thrift` crate (0.25), the reference implementation of the
//! protocols: the encoder the differential tests build their inputs with, and the decoder the
//! `jaeger_thrift` bench measures ours against. Written as Thrift's generated code for
//! `jaeger.thrift` would be, straight onto the span model.
//!
//! Shared by `tests/jaeger_thrift_differential.rs` and `benches/jaeger_thrift.rs` with `#[path]`.

#![allow(dead_code)]

use std::sync::Arc;

use sluice::event::Text;
use sluice::traces::model::{KeyValue, Process, RefType, Span, SpanLog, SpanRef, TagValue};
use thrift::protocol::{
    TBinaryInputProtocol, TBinaryOutputProtocol, TCompactInputProtocol, TCompactOutputProtocol,
    TFieldIdentifier, TInputProtocol, TListIdentifier, TMapIdentifier, TMessageIdentifier,
    TMessageType, TOutputProtocol, TStructIdentifier, TType,
};

/// Which protocol to write or read.
#[derive(Clone, Copy, Debug)]
pub enum Wire {
    Compact,
    Binary,
}

/// Extra fields a newer client might send, written into every struct when asked, so the
/// decoder under test must skip each Thrift type.
#[derive(Clone, Copy, Debug, Default)]
pub struct Extensions(pub bool);

/// `Agent.emitBatch(batch)` as a oneway message.
pub fn emit_batch(wire: Wire, spans: &[Span], ext: Extensions) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut p = output(wire, &mut out);
        p.write_message_begin(&TMessageIdentifier::new(
            "emitBatch",
            TMessageType::OneWay,
            1,
        ))
        .unwrap();
        p.write_struct_begin(&TStructIdentifier::new("emitBatch_args"))
            .unwrap();
        field(&mut *p, TType::Struct, 1);
        write_batch(&mut *p, spans, ext);
        p.write_field_end().unwrap();
        p.write_field_stop().unwrap();
        p.write_struct_end().unwrap();
        p.write_message_end().unwrap();
        p.flush().unwrap();
    }
    out
}

/// A bare `Batch`, as `POST /api/traces` carries it (binary protocol).
pub fn bare_batch(spans: &[Span], ext: Extensions) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut p = output(Wire::Binary, &mut out);
        write_batch(&mut *p, spans, ext);
        p.flush().unwrap();
    }
    out
}

fn output<'a>(wire: Wire, out: &'a mut Vec<u8>) -> Box<dyn TOutputProtocol + 'a> {
    match wire {
        Wire::Compact => Box::new(TCompactOutputProtocol::new(out)),
        Wire::Binary => Box::new(TBinaryOutputProtocol::new(out, true)),
    }
}

fn field(p: &mut dyn TOutputProtocol, ty: TType, id: i16) {
    p.write_field_begin(&TFieldIdentifier::new("f", ty, id))
        .unwrap();
}

fn list(
    p: &mut dyn TOutputProtocol,
    id: i16,
    n: usize,
    mut each: impl FnMut(&mut dyn TOutputProtocol, usize),
) {
    field(p, TType::List, id);
    p.write_list_begin(&TListIdentifier::new(TType::Struct, n as i32))
        .unwrap();
    for i in 0..n {
        each(p, i);
    }
    p.write_list_end().unwrap();
    p.write_field_end().unwrap();
}

/// Fields 100–105 of every type a decoder must be able to skip, nested.
fn write_extensions(p: &mut dyn TOutputProtocol) {
    field(p, TType::Map, 100);
    p.write_map_begin(&TMapIdentifier::new(TType::String, TType::List, 1))
        .unwrap();
    p.write_string("k").unwrap();
    p.write_list_begin(&TListIdentifier::new(TType::Double, 2))
        .unwrap();
    p.write_double(1.5).unwrap();
    p.write_double(-2.0).unwrap();
    p.write_list_end().unwrap();
    p.write_map_end().unwrap();
    p.write_field_end().unwrap();
    field(p, TType::Struct, 101);
    p.write_struct_begin(&TStructIdentifier::new("x")).unwrap();
    field(p, TType::Bool, 1);
    p.write_bool(true).unwrap();
    p.write_field_end().unwrap();
    field(p, TType::I16, 2);
    p.write_i16(-7).unwrap();
    p.write_field_end().unwrap();
    field(p, TType::I08, 3);
    p.write_i8(9).unwrap();
    p.write_field_end().unwrap();
    p.write_field_stop().unwrap();
    p.write_struct_end().unwrap();
    p.write_field_end().unwrap();
    field(p, TType::List, 102);
    p.write_list_begin(&TListIdentifier::new(TType::Bool, 3))
        .unwrap();
    for b in [true, false, true] {
        p.write_bool(b).unwrap();
    }
    p.write_list_end().unwrap();
    p.write_field_end().unwrap();
    field(p, TType::String, 1000);
    p.write_string("far away").unwrap();
    p.write_field_end().unwrap();
}

fn write_batch(p: &mut dyn TOutputProtocol, spans: &[Span], ext: Extensions) {
    p.write_struct_begin(&TStructIdentifier::new("Batch"))
        .unwrap();
    let process = spans.first().map(|s| s.process.clone()).unwrap_or_else(|| {
        Arc::new(Process {
            service_name: Text::from("empty"),
            tags: Vec::new(),
        })
    });
    field(p, TType::Struct, 1);
    p.write_struct_begin(&TStructIdentifier::new("Process"))
        .unwrap();
    field(p, TType::String, 1);
    p.write_string(&process.service_name).unwrap();
    p.write_field_end().unwrap();
    list(p, 2, process.tags.len(), |p, i| {
        write_tag(p, &process.tags[i], ext)
    });
    if ext.0 {
        write_extensions(p);
    }
    p.write_field_stop().unwrap();
    p.write_struct_end().unwrap();
    p.write_field_end().unwrap();
    list(p, 2, spans.len(), |p, i| write_span(p, &spans[i], ext));
    field(p, TType::I64, 3);
    p.write_i64(42).unwrap();
    p.write_field_end().unwrap();
    p.write_field_stop().unwrap();
    p.write_struct_end().unwrap();
}

fn i64_field(p: &mut dyn TOutputProtocol, id: i16, v: i64) {
    field(p, TType::I64, id);
    p.write_i64(v).unwrap();
    p.write_field_end().unwrap();
}

fn write_span(p: &mut dyn TOutputProtocol, s: &Span, ext: Extensions) {
    p.write_struct_begin(&TStructIdentifier::new("Span"))
        .unwrap();
    i64_field(p, 1, s.trace_id as u64 as i64);
    i64_field(p, 2, (s.trace_id >> 64) as u64 as i64);
    i64_field(p, 3, s.span_id as i64);
    i64_field(p, 4, s.parent_span_id as i64);
    field(p, TType::String, 5);
    p.write_string(&s.operation_name).unwrap();
    p.write_field_end().unwrap();
    if !s.references.is_empty() {
        list(p, 6, s.references.len(), |p, i| {
            let r = &s.references[i];
            p.write_struct_begin(&TStructIdentifier::new("SpanRef"))
                .unwrap();
            field(p, TType::I32, 1);
            p.write_i32(match r.ref_type {
                RefType::ChildOf => 0,
                RefType::FollowsFrom => 1,
            })
            .unwrap();
            p.write_field_end().unwrap();
            i64_field(p, 2, r.trace_id as u64 as i64);
            i64_field(p, 3, (r.trace_id >> 64) as u64 as i64);
            i64_field(p, 4, r.span_id as i64);
            p.write_field_stop().unwrap();
            p.write_struct_end().unwrap();
        });
    }
    field(p, TType::I32, 7);
    p.write_i32(s.flags as i32).unwrap();
    p.write_field_end().unwrap();
    i64_field(p, 8, s.start_time_us);
    i64_field(p, 9, s.duration_us);
    if ext.0 {
        write_extensions(p);
    }
    list(p, 10, s.tags.len(), |p, i| write_tag(p, &s.tags[i], ext));
    list(p, 11, s.logs.len(), |p, i| {
        let log = &s.logs[i];
        p.write_struct_begin(&TStructIdentifier::new("Log"))
            .unwrap();
        i64_field(p, 1, log.timestamp_us);
        list(p, 2, log.fields.len(), |p, j| {
            write_tag(p, &log.fields[j], ext)
        });
        p.write_field_stop().unwrap();
        p.write_struct_end().unwrap();
    });
    p.write_field_stop().unwrap();
    p.write_struct_end().unwrap();
}

fn write_tag(p: &mut dyn TOutputProtocol, kv: &KeyValue, ext: Extensions) {
    p.write_struct_begin(&TStructIdentifier::new("Tag"))
        .unwrap();
    field(p, TType::String, 1);
    p.write_string(&kv.key).unwrap();
    p.write_field_end().unwrap();
    let v_type = match &kv.value {
        TagValue::String(_) => 0,
        TagValue::Float64(_) => 1,
        TagValue::Bool(_) => 2,
        TagValue::Int64(_) => 3,
        TagValue::Binary(_) => 4,
    };
    field(p, TType::I32, 2);
    p.write_i32(v_type).unwrap();
    p.write_field_end().unwrap();
    match &kv.value {
        TagValue::String(s) => {
            field(p, TType::String, 3);
            p.write_string(s).unwrap();
        }
        TagValue::Float64(f) => {
            field(p, TType::Double, 4);
            p.write_double(*f).unwrap();
        }
        TagValue::Bool(b) => {
            field(p, TType::Bool, 5);
            p.write_bool(*b).unwrap();
        }
        TagValue::Int64(n) => {
            field(p, TType::I64, 6);
            p.write_i64(*n).unwrap();
        }
        TagValue::Binary(b) => {
            field(p, TType::String, 7);
            p.write_bytes(b).unwrap();
        }
    }
    p.write_field_end().unwrap();
    if ext.0 {
        field(p, TType::Double, 50);
        p.write_double(0.25).unwrap();
        p.write_field_end().unwrap();
    }
    p.write_field_stop().unwrap();
    p.write_struct_end().unwrap();
}

/// The reference decoder: an `emitBatch` message read with the `thrift` crate's compact or
/// binary input protocol into spans.
pub fn decode_emit_batch(wire: Wire, mut bytes: &[u8]) -> thrift::Result<Vec<Span>> {
    let mut p: Box<dyn TInputProtocol + '_> = match wire {
        Wire::Compact => Box::new(TCompactInputProtocol::new(&mut bytes)),
        Wire::Binary => Box::new(TBinaryInputProtocol::new(&mut bytes, true)),
    };
    p.read_message_begin()?;
    p.read_struct_begin()?;
    let mut spans = Vec::new();
    loop {
        let f = p.read_field_begin()?;
        match (f.field_type, f.id) {
            (TType::Stop, _) => break,
            (TType::Struct, Some(1)) => spans = read_batch(&mut *p)?,
            (ty, _) => p.skip(ty)?,
        }
        p.read_field_end()?;
    }
    p.read_struct_end()?;
    p.read_message_end()?;
    Ok(spans)
}

fn read_fields(
    p: &mut dyn TInputProtocol,
    mut each: impl FnMut(&mut dyn TInputProtocol, TType, i16) -> thrift::Result<bool>,
) -> thrift::Result<()> {
    p.read_struct_begin()?;
    loop {
        let f = p.read_field_begin()?;
        if f.field_type == TType::Stop {
            break;
        }
        if !each(p, f.field_type, f.id.unwrap_or(0))? {
            p.skip(f.field_type)?;
        }
        p.read_field_end()?;
    }
    p.read_struct_end()
}

fn read_list<T>(
    p: &mut dyn TInputProtocol,
    mut each: impl FnMut(&mut dyn TInputProtocol) -> thrift::Result<T>,
) -> thrift::Result<Vec<T>> {
    let l = p.read_list_begin()?;
    let mut items = Vec::with_capacity(l.size.max(0) as usize);
    for _ in 0..l.size {
        items.push(each(p)?);
    }
    p.read_list_end()?;
    Ok(items)
}

fn read_batch(p: &mut dyn TInputProtocol) -> thrift::Result<Vec<Span>> {
    let mut process = Process {
        service_name: Text::default(),
        tags: Vec::new(),
    };
    let mut spans = Vec::new();
    read_fields(p, |p, ty, id| {
        match (ty, id) {
            (TType::Struct, 1) => read_fields(p, |p, ty, id| {
                match (ty, id) {
                    (TType::String, 1) => process.service_name = Text::from(p.read_string()?),
                    (TType::List, 2) => process.tags = read_list(p, read_tag)?,
                    _ => return Ok(false),
                }
                Ok(true)
            })?,
            (TType::List, 2) => spans = read_list(p, read_span)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    let process = Arc::new(process);
    for span in &mut spans {
        span.process = process.clone();
    }
    Ok(spans)
}

fn read_span(p: &mut dyn TInputProtocol) -> thrift::Result<Span> {
    let (mut low, mut high) = (0i64, 0i64);
    let mut span = Span {
        trace_id: 0,
        span_id: 0,
        parent_span_id: 0,
        operation_name: Text::default(),
        references: Vec::new(),
        flags: 0,
        start_time_us: 0,
        duration_us: 0,
        tags: Vec::new(),
        logs: Vec::new(),
        process: Arc::new(Process {
            service_name: Text::default(),
            tags: Vec::new(),
        }),
    };
    read_fields(p, |p, ty, id| {
        match (ty, id) {
            (TType::I64, 1) => low = p.read_i64()?,
            (TType::I64, 2) => high = p.read_i64()?,
            (TType::I64, 3) => span.span_id = p.read_i64()? as u64,
            (TType::I64, 4) => span.parent_span_id = p.read_i64()? as u64,
            (TType::String, 5) => span.operation_name = Text::from(p.read_string()?),
            (TType::List, 6) => {
                span.references = read_list(p, |p| {
                    let (mut kind, mut low, mut high, mut id) = (0, 0i64, 0i64, 0i64);
                    read_fields(p, |p, ty, fid| {
                        match (ty, fid) {
                            (TType::I32, 1) => kind = p.read_i32()?,
                            (TType::I64, 2) => low = p.read_i64()?,
                            (TType::I64, 3) => high = p.read_i64()?,
                            (TType::I64, 4) => id = p.read_i64()?,
                            _ => return Ok(false),
                        }
                        Ok(true)
                    })?;
                    Ok(SpanRef {
                        ref_type: if kind == 0 {
                            RefType::ChildOf
                        } else {
                            RefType::FollowsFrom
                        },
                        trace_id: (u128::from(high as u64) << 64) | u128::from(low as u64),
                        span_id: id as u64,
                    })
                })?
            }
            (TType::I32, 7) => span.flags = p.read_i32()? as u32,
            (TType::I64, 8) => span.start_time_us = p.read_i64()?,
            (TType::I64, 9) => span.duration_us = p.read_i64()?,
            (TType::List, 10) => span.tags = read_list(p, read_tag)?,
            (TType::List, 11) => {
                span.logs = read_list(p, |p| {
                    let mut log = SpanLog {
                        timestamp_us: 0,
                        fields: Vec::new(),
                    };
                    read_fields(p, |p, ty, id| {
                        match (ty, id) {
                            (TType::I64, 1) => log.timestamp_us = p.read_i64()?,
                            (TType::List, 2) => log.fields = read_list(p, read_tag)?,
                            _ => return Ok(false),
                        }
                        Ok(true)
                    })?;
                    Ok(log)
                })?
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    span.trace_id = (u128::from(high as u64) << 64) | u128::from(low as u64);
    Ok(span)
}

fn read_tag(p: &mut dyn TInputProtocol) -> thrift::Result<KeyValue> {
    let mut key = Text::default();
    let mut v_type = 0;
    let mut value = TagValue::String(Text::default());
    read_fields(p, |p, ty, id| {
        match (ty, id) {
            (TType::String, 1) => key = Text::from(p.read_string()?),
            (TType::I32, 2) => v_type = p.read_i32()?,
            (TType::String, 3) => value = TagValue::String(Text::from(p.read_string()?)),
            (TType::Double, 4) => value = TagValue::Float64(p.read_double()?),
            (TType::Bool, 5) => value = TagValue::Bool(p.read_bool()?),
            (TType::I64, 6) => value = TagValue::Int64(p.read_i64()?),
            (TType::String, 7) => value = TagValue::Binary(p.read_bytes()?.into()),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    let _ = v_type;
    Ok(KeyValue { key, value })
}
