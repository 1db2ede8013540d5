//! The few messages of Jaeger's `api_v2` protobuf (`model.proto`, `collector.proto`) that
//! `CollectorService/PostSpans` carries, written out as prost structs (no protoc, no build
//! script), and their conversion to the span model.
//!
//! Ids are raw big-endian bytes: 16 for a trace (high half first), 8 for a span. A span's own
//! `process` overrides the batch's, as in Jaeger.

use std::sync::Arc;

use bytes::Bytes;

use crate::event::Text;
use crate::traces::model::{self, RefType, Span, SpanLog, SpanRef, TagValue};
use crate::traces::parent::take_parent;

#[derive(Clone, PartialEq, prost::Message)]
pub struct PostSpansRequest {
    #[prost(message, optional, tag = "1")]
    pub batch: Option<Batch>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PostSpansResponse {}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Batch {
    #[prost(message, repeated, tag = "1")]
    pub spans: Vec<ProtoSpan>,
    #[prost(message, optional, tag = "2")]
    pub process: Option<ProtoProcess>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoSpan {
    #[prost(bytes = "bytes", tag = "1")]
    pub trace_id: Bytes,
    #[prost(bytes = "bytes", tag = "2")]
    pub span_id: Bytes,
    #[prost(string, tag = "3")]
    pub operation_name: String,
    #[prost(message, repeated, tag = "4")]
    pub references: Vec<ProtoSpanRef>,
    #[prost(uint32, tag = "5")]
    pub flags: u32,
    #[prost(message, optional, tag = "6")]
    pub start_time: Option<Timestamp>,
    #[prost(message, optional, tag = "7")]
    pub duration: Option<Timestamp>,
    #[prost(message, repeated, tag = "8")]
    pub tags: Vec<ProtoKeyValue>,
    #[prost(message, repeated, tag = "9")]
    pub logs: Vec<ProtoLog>,
    #[prost(message, optional, tag = "10")]
    pub process: Option<ProtoProcess>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoSpanRef {
    #[prost(bytes = "bytes", tag = "1")]
    pub trace_id: Bytes,
    #[prost(bytes = "bytes", tag = "2")]
    pub span_id: Bytes,
    /// `CHILD_OF` = 0, `FOLLOWS_FROM` = 1.
    #[prost(int32, tag = "3")]
    pub ref_type: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoProcess {
    #[prost(string, tag = "1")]
    pub service_name: String,
    #[prost(message, repeated, tag = "2")]
    pub tags: Vec<ProtoKeyValue>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoKeyValue {
    #[prost(string, tag = "1")]
    pub key: String,
    /// `STRING` = 0, `BOOL` = 1, `INT64` = 2, `FLOAT64` = 3, `BINARY` = 4.
    #[prost(int32, tag = "2")]
    pub v_type: i32,
    #[prost(string, tag = "3")]
    pub v_str: String,
    #[prost(bool, tag = "4")]
    pub v_bool: bool,
    #[prost(int64, tag = "5")]
    pub v_int64: i64,
    #[prost(double, tag = "6")]
    pub v_float64: f64,
    #[prost(bytes = "bytes", tag = "7")]
    pub v_binary: Bytes,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoLog {
    #[prost(message, optional, tag = "1")]
    pub timestamp: Option<Timestamp>,
    #[prost(message, repeated, tag = "2")]
    pub fields: Vec<ProtoKeyValue>,
}

/// `google.protobuf.Timestamp` and `google.protobuf.Duration`: the same two fields.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl Timestamp {
    fn micros(value: Option<Timestamp>) -> i64 {
        value.map_or(0, |t| {
            t.seconds
                .saturating_mul(1_000_000)
                .saturating_add(i64::from(t.nanos) / 1000)
        })
    }
}

/// Why a batch cannot be taken.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidBatch {
    #[error("the request has no batch")]
    NoBatch,
    #[error("span {0} has no process and neither has its batch")]
    NoProcess(usize),
    #[error("span {0}: a trace id is 16 bytes (or 8), not {1}")]
    TraceId(usize, usize),
    #[error("span {0}: a span id is 8 bytes, not {1}")]
    SpanId(usize, usize),
}

impl InvalidBatch {
    pub fn kind(&self) -> &'static str {
        match self {
            InvalidBatch::NoBatch => "no_batch",
            InvalidBatch::NoProcess(_) => "no_process",
            InvalidBatch::TraceId(..) | InvalidBatch::SpanId(..) => "bad_id",
        }
    }
}

fn trace_id(span: usize, bytes: &[u8]) -> Result<u128, InvalidBatch> {
    match bytes.len() {
        16 => Ok(u128::from_be_bytes(bytes.try_into().expect("16 bytes"))),
        8 => Ok(u128::from(u64::from_be_bytes(
            bytes.try_into().expect("8 bytes"),
        ))),
        n => Err(InvalidBatch::TraceId(span, n)),
    }
}

fn span_id(span: usize, bytes: &[u8]) -> Result<u64, InvalidBatch> {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_be_bytes)
        .map_err(|_| InvalidBatch::SpanId(span, bytes.len()))
}

fn process(p: ProtoProcess) -> Arc<model::Process> {
    Arc::new(model::Process {
        service_name: Text::from(p.service_name),
        tags: key_values(p.tags),
    })
}

fn key_values(kvs: Vec<ProtoKeyValue>) -> Vec<model::KeyValue> {
    kvs.into_iter()
        .map(|kv| {
            let value = match kv.v_type {
                1 => TagValue::Bool(kv.v_bool),
                2 => TagValue::Int64(kv.v_int64),
                3 => TagValue::Float64(kv.v_float64),
                4 => TagValue::Binary(kv.v_binary),
                _ => TagValue::String(Text::from(kv.v_str)),
            };
            model::KeyValue::new(Text::from(kv.key), value)
        })
        .collect()
}

/// The spans of a `PostSpans` request.
pub fn spans(request: PostSpansRequest) -> Result<Vec<Span>, InvalidBatch> {
    let batch = request.batch.ok_or(InvalidBatch::NoBatch)?;
    let batch_process = batch.process.map(process);
    let mut spans = Vec::with_capacity(batch.spans.len());
    for (i, s) in batch.spans.into_iter().enumerate() {
        let trace = trace_id(i, &s.trace_id)?;
        let mut references = s
            .references
            .iter()
            .map(|r| {
                Ok(SpanRef {
                    ref_type: if r.ref_type == 0 {
                        RefType::ChildOf
                    } else {
                        RefType::FollowsFrom
                    },
                    trace_id: trace_id(i, &r.trace_id)?,
                    span_id: span_id(i, &r.span_id)?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let parent_span_id = take_parent(trace, 0, &mut references);
        let process = match s.process {
            Some(own) => process(own),
            None => batch_process.clone().ok_or(InvalidBatch::NoProcess(i))?,
        };
        spans.push(Span {
            trace_id: trace,
            span_id: span_id(i, &s.span_id)?,
            parent_span_id,
            operation_name: Text::from(s.operation_name),
            references,
            flags: s.flags,
            start_time_us: Timestamp::micros(s.start_time),
            duration_us: Timestamp::micros(s.duration),
            tags: key_values(s.tags),
            logs: s
                .logs
                .into_iter()
                .map(|l| SpanLog {
                    timestamp_us: Timestamp::micros(l.timestamp),
                    fields: key_values(l.fields),
                })
                .collect(),
            process,
        });
    }
    Ok(spans)
}
