//! The span model every trace endpoint decodes into and the Jaeger schema is written from.
//!
//! It is Jaeger's own model (`model.proto`, `jaeger.thrift`): what the Elasticsearch
//! documents hold, field for field. OTLP is mapped onto it by the rules in
//! `shared/reference/traces.md` §3; Jaeger Thrift and Jaeger protobuf land on it nearly
//! one to one. Strings are [`Text`] slices of the request they came from.

use std::sync::Arc;

use bytes::Bytes;

use crate::event::Text;

/// A 128-bit trace id; Thrift's and OTLP's 64-bit ids have a zero high half.
pub type TraceId = u128;
pub type SpanId = u64;

/// One finished span.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    /// 0 when the span is a root. Written as `parentSpanID` and as the first `CHILD_OF`
    /// reference, so old and new Jaeger readers both find it.
    pub parent_span_id: SpanId,
    pub operation_name: Text,
    /// References other than the parent's `CHILD_OF`.
    pub references: Vec<SpanRef>,
    pub flags: u32,
    /// Microseconds since the Unix epoch.
    pub start_time_us: i64,
    pub duration_us: i64,
    pub tags: Vec<KeyValue>,
    pub logs: Vec<SpanLog>,
    /// Shared by the spans of one batch (one OTLP resource, one Thrift `Batch`).
    pub process: Arc<Process>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Process {
    pub service_name: Text,
    pub tags: Vec<KeyValue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefType {
    ChildOf,
    FollowsFrom,
}

impl RefType {
    pub fn as_str(self) -> &'static str {
        match self {
            RefType::ChildOf => "CHILD_OF",
            RefType::FollowsFrom => "FOLLOWS_FROM",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanRef {
    pub ref_type: RefType,
    pub trace_id: TraceId,
    pub span_id: SpanId,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SpanLog {
    /// Microseconds since the Unix epoch.
    pub timestamp_us: i64,
    pub fields: Vec<KeyValue>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyValue {
    pub key: Text,
    pub value: TagValue,
}

/// A tag's value with its Jaeger type (`string|bool|int64|float64|binary`). OTLP maps and
/// arrays arrive here already rendered as JSON strings.
#[derive(Debug, Clone, PartialEq)]
pub enum TagValue {
    String(Text),
    Bool(bool),
    Int64(i64),
    Float64(f64),
    Binary(Bytes),
}

impl TagValue {
    /// The `type` Jaeger writes beside the value.
    pub fn type_name(&self) -> &'static str {
        match self {
            TagValue::String(_) => "string",
            TagValue::Bool(_) => "bool",
            TagValue::Int64(_) => "int64",
            TagValue::Float64(_) => "float64",
            TagValue::Binary(_) => "binary",
        }
    }
}

impl KeyValue {
    pub fn new(key: impl Into<Text>, value: TagValue) -> KeyValue {
        KeyValue {
            key: key.into(),
            value,
        }
    }
}
