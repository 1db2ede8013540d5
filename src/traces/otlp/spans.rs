//! OTLP spans onto Jaeger's model, by the rules of Jaeger v2's writer (`to_dbmodel.go`) and
//! the sanitizers it runs first (`internal/jptrace/sanitizer`): see
//! `shared/reference/traces.md` §3.
//!
//! Per span it costs the span's own vectors (tags, logs, references) and nothing per string:
//! names and values are slices of the request buffer. The process is built once per
//! resource and shared.

use std::sync::Arc;

use bytes::Bytes;

use super::values::{push_tags, tag_value};
use super::wire::{self, any_value};
use super::{Rejection, Rejections};
use crate::event::Text;
use crate::traces::model::{
    KeyValue, Process, RefType, Span, SpanId, SpanLog, SpanRef, TagValue, TraceId,
};

/// What Jaeger's sanitizer names a resource's service when `service.name` is missing, not a
/// string, or empty.
const MISSING_SERVICE_NAME: &str = "missing-service-name";
const SERVICE_NAME_WRONG_TYPE: &str = "service-name-wrong-type";
const EMPTY_SERVICE_NAME: &str = "empty-service-name";

/// The spans of one request, and the ones refused.
#[derive(Debug, Default)]
pub struct MappedSpans {
    pub spans: Vec<Span>,
    pub rejected: Rejections,
}

/// Maps every span of `request`; spans with unusable ids are counted, not returned.
pub fn map_request(request: wire::ExportTraceServiceRequest) -> MappedSpans {
    let mut out = MappedSpans::default();
    let total = request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum();
    out.spans.reserve_exact(total);
    for resource_spans in request.resource_spans {
        let process = Arc::new(process(resource_spans.resource.unwrap_or_default()));
        for scope_spans in resource_spans.scope_spans {
            let scope_tags = scope_tags(scope_spans.scope.unwrap_or_default());
            for span in scope_spans.spans {
                match map_span(span, &scope_tags, &process) {
                    Ok(span) => out.spans.push(span),
                    Err(reason) => out.rejected.add(reason),
                }
            }
        }
    }
    out
}

/// `service.name` becomes the service; every other resource attribute a process tag.
fn process(resource: wire::Resource) -> Process {
    let mut service_name = None;
    let mut others = Vec::with_capacity(resource.attributes.len());
    for attribute in resource.attributes {
        if &attribute.key[..] == b"service.name" {
            service_name = Some(attribute.value);
        } else {
            others.push(attribute);
        }
    }
    let service_name = match service_name {
        None => Text::from_static(MISSING_SERVICE_NAME),
        Some(value) => match tag_value(value) {
            TagValue::String(name) if name.is_empty() => Text::from_static(EMPTY_SERVICE_NAME),
            TagValue::String(name) => name,
            _ => Text::from_static(SERVICE_NAME_WRONG_TYPE),
        },
    };
    let mut tags = Vec::new();
    push_tags(others, &mut tags);
    Process { service_name, tags }
}

/// `otel.scope.name` and `otel.scope.version`, each when not empty.
fn scope_tags(scope: wire::InstrumentationScope) -> Vec<KeyValue> {
    let mut tags = Vec::with_capacity(2);
    for (key, value, placeholder) in [
        ("otel.scope.name", scope.name, "invalid-scope-name"),
        ("otel.scope.version", scope.version, "invalid-scope-version"),
    ] {
        if !value.is_empty() {
            tags.push(KeyValue::new(
                Text::from_static(key),
                // Jaeger keeps a bad scope string's bytes in scope attributes, which its
                // span model has no place for: only the placeholder survives.
                TagValue::String(Text::from_utf8(value).unwrap_or(Text::from_static(placeholder))),
            ));
        }
    }
    tags
}

/// `bytes` as text; when they are not UTF-8, `placeholder`, with the original bytes kept in
/// a binary tag named after it (Jaeger's UTF-8 sanitizer).
fn text_or(bytes: Bytes, placeholder: &'static str, tags: &mut Vec<KeyValue>) -> Text {
    match Text::try_from_bytes(bytes) {
        Ok(text) => text,
        Err(bytes) => {
            tags.push(KeyValue::new(
                Text::from_static(placeholder),
                TagValue::Binary(bytes),
            ));
            Text::from_static(placeholder)
        }
    }
}

fn trace_id(bytes: &[u8]) -> Result<TraceId, Rejection> {
    let id: [u8; 16] = bytes.try_into().map_err(|_| Rejection::TraceIdLength)?;
    match u128::from_be_bytes(id) {
        0 => Err(Rejection::TraceIdZero),
        id => Ok(id),
    }
}

fn span_id(bytes: &[u8]) -> Result<SpanId, Rejection> {
    let id: [u8; 8] = bytes.try_into().map_err(|_| Rejection::SpanIdLength)?;
    match u64::from_be_bytes(id) {
        0 => Err(Rejection::SpanIdZero),
        id => Ok(id),
    }
}

fn micros(nanos: u64) -> i64 {
    // u64::MAX / 1000 < i64::MAX: never truncates.
    (nanos / 1000) as i64
}

fn map_span(
    span: wire::Span,
    scope_tags: &[KeyValue],
    process: &Arc<Process>,
) -> Result<Span, Rejection> {
    let trace_id = trace_id(&span.trace_id)?;
    let span_id = span_id(&span.span_id)?;
    let parent_span_id = match span.parent_span_id.len() {
        0 => 0,
        8 => u64::from_be_bytes(span.parent_span_id[..].try_into().expect("8 bytes")),
        _ => return Err(Rejection::ParentSpanIdLength),
    };

    let start = span.start_time_unix_nano;
    let end = span.end_time_unix_nano;

    // Jaeger's order: the scope, the attributes (with what its sanitizers add to them), then
    // kind, status and trace state.
    let mut tags = Vec::with_capacity(span.attributes.len() + scope_tags.len() + 4);
    tags.extend_from_slice(scope_tags);
    push_tags(span.attributes, &mut tags);
    let operation_name = text_or(span.name, "invalid-span-name", &mut tags);
    if end <= start {
        tags.push(negative_duration_warning(start, end));
    }
    if let Some(kind) = span_kind(span.kind) {
        tags.push(KeyValue::new(
            Text::from_static("span.kind"),
            TagValue::String(Text::from_static(kind)),
        ));
    }
    if let Some(status) = span.status {
        match status.code {
            1 => tags.push(status_code("OK")),
            // Only `error`: Jaeger v2's writer adds no `otel.status_code` for ERROR.
            2 => {
                tags.push(KeyValue::new(
                    Text::from_static("error"),
                    TagValue::Bool(true),
                ));
            }
            _ => {}
        }
        if !status.message.is_empty() {
            let description = text_or(status.message, "invalid-status-message", &mut tags);
            tags.push(KeyValue::new(
                Text::from_static("otel.status_description"),
                TagValue::String(description),
            ));
        }
    }
    if !span.trace_state.is_empty() {
        let state = text_or(span.trace_state, "invalid-trace-state", &mut tags);
        tags.push(KeyValue::new(
            Text::from_static("w3c.tracestate"),
            TagValue::String(state),
        ));
    }

    // Jaeger's sanitizer moves an end at or before the start to start + 1 ns: 0 µs.
    let duration_ns = end.saturating_sub(start);
    let (parent_span_id, references) = references(span.links, trace_id, parent_span_id);

    Ok(Span {
        trace_id,
        span_id,
        parent_span_id,
        operation_name,
        references,
        flags: span.flags,
        start_time_us: micros(start),
        duration_us: micros(duration_ns),
        tags,
        logs: span.events.into_iter().map(log).collect(),
        process: process.clone(),
    })
}

fn span_kind(kind: i32) -> Option<&'static str> {
    Some(match kind {
        1 => "internal",
        2 => "server",
        3 => "client",
        4 => "producer",
        5 => "consumer",
        _ => return None,
    })
}

/// The warning Jaeger's sanitizer records (as the span attribute `@jaeger@warnings`, a list
/// Jaeger Query shows) when it moves an end at or before the start to start + 1 ns.
fn negative_duration_warning(start_ns: u64, end_ns: u64) -> KeyValue {
    let warning = format!(
        "Negative duration detected, sanitizing end timestamp. Original end timestamp: {}, \
         adjusted to: {}",
        go_time(end_ns),
        go_time(start_ns.saturating_add(1)),
    );
    KeyValue::new(
        Text::from_static("@jaeger@warnings"),
        // A list attribute becomes the JSON text of the list; the message needs no escaping.
        TagValue::String(format!("[\"{warning}\"]").as_str().into()),
    )
}

/// A UTC time as Go's `time.Time.String()` writes it: `2026-11-24 22:41:24.72981 +0000 UTC`,
/// nanoseconds without trailing zeros, no fraction when they are all zero.
fn go_time(unix_nanos: u64) -> String {
    // Go reads the u64 as an int64, as this does.
    let time = chrono::DateTime::from_timestamp_nanos(unix_nanos as i64);
    let mut text = time.format("%Y-%m-%d %H:%M:%S").to_string();
    let nanos = time.timestamp_subsec_nanos();
    if nanos != 0 {
        let fraction = format!(".{nanos:09}");
        text.push_str(fraction.trim_end_matches('0'));
    }
    text.push_str(" +0000 UTC");
    text
}

fn status_code(code: &'static str) -> KeyValue {
    KeyValue::new(
        Text::from_static("otel.status_code"),
        TagValue::String(Text::from_static(code)),
    )
}

/// An event as a span log: `event=<name>` first (unless an attribute is already called
/// `event`), then the attributes.
fn log(event: wire::SpanEvent) -> SpanLog {
    let mut fields = Vec::with_capacity(event.attributes.len() + 1);
    let has_event_key = event.attributes.iter().any(|a| &a.key[..] == b"event");
    if !event.name.is_empty() && !has_event_key {
        let name = text_or(event.name, "invalid-event-name", &mut fields);
        fields.push(KeyValue::new(
            Text::from_static("event"),
            TagValue::String(name),
        ));
    }
    push_tags(event.attributes, &mut fields);
    SpanLog {
        timestamp_us: micros(event.time_unix_nano),
        fields,
    }
}

/// Links as references, and the span's parent. A link is `FOLLOWS_FROM` unless its
/// `opentracing.ref_type` says `child_of`. A link to the parent gives the parent's reference
/// its type, as Jaeger's writer does: when that is `FOLLOWS_FROM`, the parent is no
/// `CHILD_OF` parent any more but the first reference. Links with unusable ids are left out
/// (their span is still stored).
fn references(
    links: Vec<wire::SpanLink>,
    trace: TraceId,
    parent: SpanId,
) -> (SpanId, Vec<SpanRef>) {
    let mut parent_type = RefType::ChildOf;
    let mut references: Vec<SpanRef> = links
        .into_iter()
        .filter_map(|link| {
            let trace_id = trace_id(&link.trace_id).ok()?;
            let span_id = span_id(&link.span_id).ok()?;
            let child_of = link.attributes.iter().any(|a| {
                &a.key[..] == b"opentracing.ref_type"
                    && matches!(
                        a.value.as_ref().and_then(|v| v.value.as_ref()),
                        Some(any_value::Value::String(s)) if &s[..] == b"child_of"
                    )
            });
            let ref_type = if child_of {
                RefType::ChildOf
            } else {
                RefType::FollowsFrom
            };
            if parent != 0 && trace_id == trace && span_id == parent {
                parent_type = ref_type;
                return None;
            }
            Some(SpanRef {
                ref_type,
                trace_id,
                span_id,
            })
        })
        .collect();
    if parent_type == RefType::ChildOf {
        return (parent, references);
    }
    references.insert(
        0,
        SpanRef {
            ref_type: parent_type,
            trace_id: trace,
            span_id: parent,
        },
    );
    (0, references)
}

#[cfg(test)]
mod tests;
