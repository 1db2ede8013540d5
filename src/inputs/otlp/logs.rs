//! OTLP log records as log events, shaped so grok, date, conditionals and the Elasticsearch
//! output treat them like a Beats event:
//!
//! | field | from |
//! |---|---|
//! | `message` | the body: a string as is; another kind rendered (JSON for maps and arrays) |
//! | `@timestamp` | `time_unix_nano`, else `observed_time_unix_nano`, else now |
//! | `level` | `severity_text`, else the severity number's name (`INFO`, `ERROR`, …) |
//! | `trace_id`, `span_id` | hex, when set |
//! | `attributes` | the record's attributes, typed (maps as objects, arrays as arrays) |
//! | `resource.attributes` | the resource's attributes (`service.name` among them) |
//! | `scope.name`, `scope.version` | the instrumentation scope, when set |
//!
//! Attributes keep OTLP's own names under one parent, as the Elasticsearch exporter's `otel`
//! mode stores them, rather than being renamed to ECS: a name never collides with `message`
//! or `@timestamp`, and `[attributes][http.method]` says where it came from.

use base64::Engine;
use chrono::DateTime;

use crate::event::{Event, Object, Text, Timestamp, Value};
use crate::traces::otlp::values::write_json;
use crate::traces::otlp::wire::{self, any_value, AnyValue};
use crate::traces::otlp::{Rejection, Rejections};

/// The events of one request, and the records refused.
#[derive(Debug, Default)]
pub struct MappedLogs {
    pub events: Vec<Event>,
    pub rejected: Rejections,
}

pub fn map_request(request: wire::ExportLogsServiceRequest) -> MappedLogs {
    let mut out = MappedLogs::default();
    for resource_logs in request.resource_logs {
        let resource = resource_logs
            .resource
            .filter(|r| !r.attributes.is_empty())
            .map(|r| {
                let mut resource = Object::with_capacity(1);
                resource.push_unchecked(Text::from_static("attributes"), attributes(r.attributes));
                Value::Object(resource)
            });
        for scope_logs in resource_logs.scope_logs {
            let scope = scope_logs.scope.and_then(scope);
            for record in scope_logs.log_records {
                match event(record, resource.as_ref(), scope.as_ref()) {
                    Ok(event) => out.events.push(event),
                    Err(reason) => out.rejected.add(reason),
                }
            }
        }
    }
    out
}

fn scope(scope: wire::InstrumentationScope) -> Option<Value> {
    let mut object = Object::with_capacity(2);
    for (key, value) in [("name", scope.name), ("version", scope.version)] {
        if !value.is_empty() {
            object.push_unchecked(
                Text::from_static(key),
                Value::String(Text::from_utf8_lossy(value)),
            );
        }
    }
    (!object.is_empty()).then_some(Value::Object(object))
}

fn event(
    record: wire::LogRecord,
    resource: Option<&Value>,
    scope: Option<&Value>,
) -> Result<Event, Rejection> {
    let trace_id = hex_id(&record.trace_id, 16, Rejection::TraceIdLength)?;
    let span_id = hex_id(&record.span_id, 8, Rejection::SpanIdLength)?;
    let mut fields = Object::with_capacity(10);
    let mut put =
        |key: &'static str, value: Value| fields.push_unchecked(Text::from_static(key), value);
    let nanos = match record.time_unix_nano {
        0 => record.observed_time_unix_nano,
        t => t,
    };
    if nanos != 0 {
        put("@timestamp", Value::Timestamp(timestamp(nanos)));
    }
    if let Some(body) = record.body {
        put("message", Value::String(message(body)));
    }
    if let Some(level) = level(record.severity_text, record.severity_number) {
        put("level", Value::String(level));
    }
    if let Some(id) = trace_id {
        put("trace_id", Value::String(id));
    }
    if let Some(id) = span_id {
        put("span_id", Value::String(id));
    }
    if !record.attributes.is_empty() {
        put("attributes", attributes(record.attributes));
    }
    if let Some(resource) = resource {
        put("resource", resource.clone());
    }
    if let Some(scope) = scope {
        put("scope", scope.clone());
    }
    let mut event = Event::new(fields);
    event.metadata_mut().push_unchecked(
        Text::from_static(crate::event::SIGNAL),
        Value::String(Text::from_static("logs")),
    );
    Ok(event)
}

/// `bytes` as lowercase hex when set and not all zeros (OTLP's "no id"); a wrong length
/// refuses the record.
fn hex_id(bytes: &[u8], len: usize, wrong: Rejection) -> Result<Option<Text>, Rejection> {
    if bytes.is_empty() || bytes.iter().all(|b| *b == 0) && bytes.len() == len {
        return Ok(None);
    }
    if bytes.len() != len {
        return Err(wrong);
    }
    let mut hex = String::with_capacity(len * 2);
    for b in bytes {
        hex.push(char::from_digit(u32::from(b >> 4), 16).expect("a nibble"));
        hex.push(char::from_digit(u32::from(b & 15), 16).expect("a nibble"));
    }
    Ok(Some(Text::from(hex)))
}

fn timestamp(nanos: u64) -> Timestamp {
    // u64 nanoseconds end in 2554: always within chrono's range.
    DateTime::from_timestamp(
        (nanos / 1_000_000_000) as i64,
        (nanos % 1_000_000_000) as u32,
    )
    .expect("u64 nanoseconds are within chrono's range")
}

fn message(body: AnyValue) -> Text {
    match body.value {
        None => Text::default(),
        Some(any_value::Value::String(s)) => Text::from_utf8_lossy(s),
        Some(any_value::Value::Bool(b)) => Text::from_static(if b { "true" } else { "false" }),
        Some(any_value::Value::Int(i)) => Text::from(i.to_string()),
        Some(any_value::Value::Double(d)) => Text::from(d.to_string()),
        Some(any_value::Value::Bytes(b)) => {
            Text::from(base64::engine::general_purpose::STANDARD.encode(b))
        }
        Some(nested) => {
            let mut out = String::new();
            write_json(Some(&nested), &mut out);
            Text::from(out)
        }
    }
}

/// The severity text, else the name of the number's range (OTLP's `SeverityNumber`).
fn level(text: bytes::Bytes, number: i32) -> Option<Text> {
    if !text.is_empty() {
        return Some(Text::from_utf8_lossy(text));
    }
    let name = match number {
        1..=4 => "TRACE",
        5..=8 => "DEBUG",
        9..=12 => "INFO",
        13..=16 => "WARN",
        17..=20 => "ERROR",
        21..=24 => "FATAL",
        _ => return None,
    };
    Some(Text::from_static(name))
}

/// Attributes as an object of typed values; a repeated key keeps its last value.
fn attributes(attributes: Vec<wire::KeyValue>) -> Value {
    let mut object = Object::with_capacity(attributes.len());
    for kv in attributes {
        object.insert(Text::from_utf8_lossy(kv.key), value(kv.value));
    }
    Value::Object(object)
}

fn value(any: Option<AnyValue>) -> Value {
    match any.and_then(|v| v.value) {
        None => Value::Null,
        Some(any_value::Value::String(s)) => Value::String(Text::from_utf8_lossy(s)),
        Some(any_value::Value::Bool(b)) => Value::Boolean(b),
        Some(any_value::Value::Int(i)) => Value::Integer(i),
        Some(any_value::Value::Double(d)) => Value::Float(d),
        Some(any_value::Value::Bytes(b)) => Value::String(Text::from(
            base64::engine::general_purpose::STANDARD.encode(b),
        )),
        Some(any_value::Value::Array(a)) => {
            Value::Array(a.values.into_iter().map(|v| value(Some(v))).collect())
        }
        Some(any_value::Value::Kvlist(l)) => attributes(l.values),
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::traces::otlp::wire::{KeyValue, Resource, ResourceLogs, ScopeLogs};

    fn string(key: &'static str, value: &'static str) -> KeyValue {
        KeyValue {
            key: Bytes::from_static(key.as_bytes()),
            value: Some(AnyValue {
                value: Some(any_value::Value::String(Bytes::from_static(
                    value.as_bytes(),
                ))),
            }),
        }
    }

    fn request(records: Vec<wire::LogRecord>) -> wire::ExportLogsServiceRequest {
        wire::ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(Resource {
                    attributes: vec![string("service.name", "shop")],
                }),
                scope_logs: vec![ScopeLogs {
                    scope: Some(wire::InstrumentationScope {
                        name: Bytes::from_static(b"app.logger"),
                        ..Default::default()
                    }),
                    log_records: records,
                }],
            }],
        }
    }

    fn json(event: &Event) -> String {
        let mut out = Vec::new();
        crate::event::json::encode_event(event, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_record_becomes_a_log_event() {
        let record = wire::LogRecord {
            time_unix_nano: 1_700_000_000_123_456_789,
            severity_number: 17,
            body: Some(AnyValue {
                value: Some(any_value::Value::String(Bytes::from_static(b"disk full"))),
            }),
            attributes: vec![
                string("http.method", "GET"),
                KeyValue {
                    key: Bytes::from_static(b"n"),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::Int(3)),
                    }),
                },
            ],
            trace_id: Bytes::copy_from_slice(&7u128.to_be_bytes()),
            span_id: Bytes::copy_from_slice(&9u64.to_be_bytes()),
            ..Default::default()
        };
        let mapped = map_request(request(vec![record]));
        assert_eq!(
            json(&mapped.events[0]),
            r#"{"@timestamp":"2023-11-14T22:13:20.123456789Z","message":"disk full","level":"ERROR","trace_id":"00000000000000000000000000000007","span_id":"0000000000000009","attributes":{"http.method":"GET","n":3},"resource":{"attributes":{"service.name":"shop"}},"scope":{"name":"app.logger"},"@version":"1"}"#
        );
        assert_eq!(
            mapped.events[0].metadata().get(crate::event::SIGNAL),
            Some(&"logs".into()),
            "routable apart from spans"
        );
    }

    #[test]
    fn observed_time_stands_in_and_other_bodies_are_rendered() {
        let record = wire::LogRecord {
            observed_time_unix_nano: 1_000_000_000,
            severity_text: Bytes::from_static(b"warning"),
            body: Some(AnyValue {
                value: Some(any_value::Value::Kvlist(wire::KeyValueList {
                    values: vec![string("a", "b")],
                })),
            }),
            trace_id: Bytes::from_static(&[0; 16]),
            ..Default::default()
        };
        let mapped = map_request(request(vec![record]));
        let fields = mapped.events[0].fields();
        assert_eq!(
            fields.get("message").unwrap().as_str(),
            Some(r#"{"a":"b"}"#)
        );
        assert_eq!(fields.get("level").unwrap().as_str(), Some("warning"));
        assert_eq!(
            fields.get("@timestamp"),
            Some(&Value::Timestamp(DateTime::from_timestamp(1, 0).unwrap()))
        );
        assert!(fields.get("trace_id").is_none());
    }

    #[test]
    fn malformed_ids_refuse_the_record_alone() {
        let bad = wire::LogRecord {
            trace_id: Bytes::from_static(&[1; 8]),
            ..Default::default()
        };
        let bad_span = wire::LogRecord {
            span_id: Bytes::from_static(&[1; 3]),
            ..Default::default()
        };
        let mapped = map_request(request(vec![bad, bad_span, wire::LogRecord::default()]));
        assert_eq!(mapped.events.len(), 1);
        assert_eq!(
            mapped.rejected.iter().collect::<Vec<_>>(),
            [(Rejection::TraceIdLength, 1), (Rejection::SpanIdLength, 1)]
        );
    }
}
