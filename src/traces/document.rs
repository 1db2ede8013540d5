//! A span as the field tree filters and conditionals see: Jaeger's Elasticsearch span
//! document (`dbmodel.Span`), field for field, so `[operationName]`,
//! `[process][serviceName]` or `[tags][0][key]` name what ends up stored.
//!
//! Layout: `traceID` (32 hex), `spanID` (16 hex), `parentSpanID` (16 hex, only when the span
//! has a parent), `flags`, `operationName`, `references` (`[{refType, traceID, spanID}]`, the
//! parent's `CHILD_OF` first), `startTime` and `duration` (µs), `startTimeMillis`, `tags` and
//! `process.tags` (`[{key, type, value}]`, typed values, binary as hex), `logs`
//! (`[{timestamp, fields}]`) and `process.serviceName`.

use crate::event::{array_index, Object, Text, Value};
use crate::traces::model::{KeyValue, RefType, Span, SpanId, TagValue, TraceId};

/// The top-level fields of every span document: a path starting anywhere else is absent.
const TOP_LEVEL: [&str; 12] = [
    "traceID",
    "spanID",
    "parentSpanID",
    "flags",
    "operationName",
    "references",
    "startTime",
    "startTimeMillis",
    "duration",
    "tags",
    "logs",
    "process",
];

/// What a span can say about one field of its document without building it.
#[derive(Debug, PartialEq)]
pub enum Lookup {
    Found(Value),
    /// The document has no such field.
    Absent,
    /// Not answered here: build the document and look.
    Unknown,
}

/// The value at `path` in `span_document(span)`, for the fields conditionals and sprintf
/// references usually name: the ids, `operationName`, `flags`, the times, `duration`,
/// `[process][serviceName]` and a tag by position (`[tags][0][value]`,
/// `[process][tags][-1][key]`); and absence for any path outside the document's layout
/// (`[message]` on a span). Lists and objects as a whole are [`Lookup::Unknown`].
pub fn lookup(span: &Span, path: &[Text]) -> Lookup {
    let Some((first, rest)) = path.split_first() else {
        return Lookup::Unknown;
    };
    let scalar = |value: Value| match rest {
        [] => Lookup::Found(value),
        // A string or number has no children.
        _ => Lookup::Absent,
    };
    match first.as_str() {
        "traceID" => scalar(trace_id_hex(span.trace_id).into()),
        "spanID" => scalar(span_id_hex(span.span_id).into()),
        "parentSpanID" if span.parent_span_id == 0 => Lookup::Absent,
        "parentSpanID" => scalar(span_id_hex(span.parent_span_id).into()),
        "flags" => scalar(Value::Integer(i64::from(span.flags))),
        "operationName" => scalar(Value::String(span.operation_name.clone())),
        "startTime" => scalar(Value::Integer(span.start_time_us)),
        "startTimeMillis" => scalar(Value::Integer(span.start_time_us.div_euclid(1000))),
        "duration" => scalar(Value::Integer(span.duration_us)),
        "tags" => tag_lookup(&span.tags, rest),
        "process" => match rest {
            [field] if field.as_str() == "serviceName" => {
                Lookup::Found(Value::String(span.process.service_name.clone()))
            }
            [field, ..] if field.as_str() == "serviceName" => Lookup::Absent,
            [field, tag @ ..] if field.as_str() == "tags" => tag_lookup(&span.process.tags, tag),
            [_, ..] => Lookup::Absent,
            [] => Lookup::Unknown,
        },
        name if TOP_LEVEL.contains(&name) => Lookup::Unknown,
        _ => Lookup::Absent,
    }
}

/// `[i][key|type|value]` in a tag list (an entry's fields are all scalars).
fn tag_lookup(tags: &[KeyValue], path: &[Text]) -> Lookup {
    let [index, field, deeper @ ..] = path else {
        return Lookup::Unknown;
    };
    let Some(tag) = array_index(tags.len(), index).map(|i| &tags[i]) else {
        return Lookup::Absent;
    };
    let value = match field.as_str() {
        "key" => Value::String(tag.key.clone()),
        "type" => Value::String(Text::from_static(tag.value.type_name())),
        "value" => tag_value(&tag.value),
        _ => return Lookup::Absent,
    };
    match deeper {
        [] => Lookup::Found(value),
        _ => Lookup::Absent,
    }
}

/// The field tree of `span`.
pub fn span_document(span: &Span) -> Object {
    let mut doc = Object::with_capacity(13);
    let mut put =
        |key: &'static str, value: Value| doc.push_unchecked(Text::from_static(key), value);
    put("traceID", trace_id_hex(span.trace_id).into());
    put("spanID", span_id_hex(span.span_id).into());
    if span.parent_span_id != 0 {
        put("parentSpanID", span_id_hex(span.parent_span_id).into());
    }
    put("flags", Value::Integer(i64::from(span.flags)));
    put("operationName", Value::String(span.operation_name.clone()));
    put("references", Value::Array(references(span)));
    put("startTime", Value::Integer(span.start_time_us));
    put(
        "startTimeMillis",
        Value::Integer(span.start_time_us.div_euclid(1000)),
    );
    put("duration", Value::Integer(span.duration_us));
    put("tags", key_values(&span.tags));
    put(
        "logs",
        Value::Array(
            span.logs
                .iter()
                .map(|log| {
                    let mut entry = Object::with_capacity(2);
                    entry.push_unchecked(
                        Text::from_static("timestamp"),
                        Value::Integer(log.timestamp_us),
                    );
                    entry.push_unchecked(Text::from_static("fields"), key_values(&log.fields));
                    Value::Object(entry)
                })
                .collect(),
        ),
    );
    let mut process = Object::with_capacity(2);
    process.push_unchecked(
        Text::from_static("serviceName"),
        Value::String(span.process.service_name.clone()),
    );
    process.push_unchecked(Text::from_static("tags"), key_values(&span.process.tags));
    put("process", Value::Object(process));
    doc
}

/// The references as stored: the parent's `CHILD_OF` first (older Jaeger readers take the
/// parent only from there), then the span's own.
fn references(span: &Span) -> Vec<Value> {
    let parent = (span.parent_span_id != 0).then_some((
        RefType::ChildOf,
        span.trace_id,
        span.parent_span_id,
    ));
    parent
        .into_iter()
        .chain(
            span.references
                .iter()
                .map(|r| (r.ref_type, r.trace_id, r.span_id)),
        )
        .map(|(ref_type, trace_id, span_id)| {
            let mut entry = Object::with_capacity(3);
            entry.push_unchecked(
                Text::from_static("refType"),
                Value::String(Text::from_static(ref_type.as_str())),
            );
            entry.push_unchecked(Text::from_static("traceID"), trace_id_hex(trace_id).into());
            entry.push_unchecked(Text::from_static("spanID"), span_id_hex(span_id).into());
            Value::Object(entry)
        })
        .collect()
}

fn key_values(tags: &[KeyValue]) -> Value {
    Value::Array(
        tags.iter()
            .map(|tag| {
                let mut entry = Object::with_capacity(3);
                entry.push_unchecked(Text::from_static("key"), Value::String(tag.key.clone()));
                entry.push_unchecked(
                    Text::from_static("type"),
                    Value::String(Text::from_static(tag.value.type_name())),
                );
                entry.push_unchecked(Text::from_static("value"), tag_value(&tag.value));
                Value::Object(entry)
            })
            .collect(),
    )
}

fn tag_value(value: &TagValue) -> Value {
    match value {
        TagValue::String(s) => Value::String(s.clone()),
        TagValue::Bool(b) => Value::Boolean(*b),
        TagValue::Int64(i) => Value::Integer(*i),
        TagValue::Float64(f) => Value::Float(*f),
        TagValue::Binary(bytes) => hex(bytes).into(),
    }
}

/// 32 lowercase hex digits, zero-padded: what Jaeger v2 reads back (16-digit ids are
/// mis-decoded by it).
pub fn trace_id_hex(id: TraceId) -> String {
    format!("{id:032x}")
}

pub fn span_id_hex(id: SpanId) -> String {
    format!("{id:016x}")
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::event::{Event, FieldRef};
    use crate::traces::model::{Process, SpanLog, SpanRef};

    fn span() -> Span {
        Span {
            trace_id: 0x1f,
            span_id: 0xab,
            parent_span_id: 0x0c,
            operation_name: "GET /health".into(),
            references: vec![SpanRef {
                ref_type: RefType::FollowsFrom,
                trace_id: 0x2,
                span_id: 0x3,
            }],
            flags: 1,
            start_time_us: 1_700_000_000_123_456,
            duration_us: 250,
            tags: vec![
                KeyValue::new("http.status_code", TagValue::Int64(200)),
                KeyValue::new(
                    "secret",
                    TagValue::Binary(bytes::Bytes::from_static(b"\x01\xff")),
                ),
            ],
            logs: vec![SpanLog {
                timestamp_us: 1_700_000_000_123_500,
                fields: vec![KeyValue::new("event", TagValue::String("retry".into()))],
            }],
            process: Arc::new(Process {
                service_name: "mangakai-backend".into(),
                tags: vec![KeyValue::new("hostname", TagValue::String("web-1".into()))],
            }),
        }
    }

    fn get<'e>(event: &'e Event, path: &str) -> Option<&'e Value> {
        event.get(&FieldRef::parse(path).unwrap())
    }

    #[test]
    fn the_tree_is_jaegers_document() {
        let event = Event::from_span(span());
        assert_eq!(
            get(&event, "traceID"),
            Some(&"0000000000000000000000000000001f".into())
        );
        assert_eq!(get(&event, "spanID"), Some(&"00000000000000ab".into()));
        assert_eq!(
            get(&event, "parentSpanID"),
            Some(&"000000000000000c".into())
        );
        assert_eq!(get(&event, "operationName"), Some(&"GET /health".into()));
        assert_eq!(
            get(&event, "[references][0][refType]"),
            Some(&"CHILD_OF".into())
        );
        assert_eq!(
            get(&event, "[references][0][spanID]"),
            Some(&"000000000000000c".into())
        );
        assert_eq!(
            get(&event, "[references][1][refType]"),
            Some(&"FOLLOWS_FROM".into())
        );
        assert_eq!(
            get(&event, "startTimeMillis"),
            Some(&Value::Integer(1_700_000_000_123))
        );
        assert_eq!(get(&event, "[tags][0][type]"), Some(&"int64".into()));
        assert_eq!(get(&event, "[tags][0][value]"), Some(&Value::Integer(200)));
        assert_eq!(get(&event, "[tags][1][value]"), Some(&"01ff".into()));
        assert_eq!(
            get(&event, "[logs][0][fields][0][value]"),
            Some(&"retry".into())
        );
        assert_eq!(
            get(&event, "[process][serviceName]"),
            Some(&"mangakai-backend".into())
        );
        assert_eq!(
            get(&event, "[process][tags][0][key]"),
            Some(&"hostname".into())
        );
    }

    /// Every path `lookup` answers, and some it leaves to the tree, read both ways: from the
    /// typed span and from the built document. The answers must be the same.
    #[test]
    fn reads_from_the_span_answer_what_the_document_says() {
        let served = [
            "traceID",
            "spanID",
            "parentSpanID",
            "flags",
            "operationName",
            "startTime",
            "startTimeMillis",
            "duration",
            "[process][serviceName]",
            "[tags][0][key]",
            "[tags][0][type]",
            "[tags][0][value]",
            "[tags][1][value]",
            "[tags][-1][key]",
            "[tags][-2][type]",
            "[tags][2][key]",
            "[tags][-3][key]",
            "[tags][x][key]",
            "[tags][0][other]",
            "[tags][0][value][deeper]",
            "[process][tags][0][value]",
            "[process][tags][1][value]",
            "[process][other]",
            "[process][serviceName][x]",
            "[traceID][0]",
            "[operationName][x]",
            "message",
            "@timestamp",
            "[log][level]",
        ];
        let built = [
            "tags",
            "[tags][0]",
            "references",
            "[references][0][spanID]",
            "logs",
            "process",
            "[process][tags]",
        ];
        let mut root = span();
        root.parent_span_id = 0;
        for span in [span(), root] {
            for path in served.iter().chain(&built) {
                let field = FieldRef::parse(path).unwrap();
                let typed = Event::from_span(span.clone());
                let read = typed.read(&field).map(|v| v.into_owned());
                let tree = Event::from_span(span.clone());
                tree.fields();
                assert_eq!(read.as_ref(), tree.get(&field), "{path}");
                assert_eq!(typed.contains(&field), read.is_some(), "{path}");
                let answered = lookup(&span, field.path()) != Lookup::Unknown;
                assert_eq!(
                    answered,
                    served.contains(path),
                    "{path} answered from the span"
                );
            }
        }
    }

    #[test]
    fn a_conditional_on_a_span_field_builds_no_document() {
        let event = Event::from_span(span());
        let health = crate::pipeline::condition::Condition::Compare(
            crate::pipeline::condition::Operand::Field(FieldRef::parse("operationName").unwrap()),
            crate::config::ast::CompareOp::Eq,
            crate::pipeline::condition::Operand::Literal("GET /health".into()),
        );
        assert!(health.eval(&event));
        assert!(!event.fields_built(), "no tree was built");
    }

    #[test]
    fn a_root_span_has_no_parent_and_empty_references() {
        let mut root = span();
        root.parent_span_id = 0;
        root.references.clear();
        let event = Event::from_span(root);
        assert_eq!(get(&event, "parentSpanID"), None);
        assert_eq!(get(&event, "references"), Some(&Value::Array(vec![])));
    }

    #[test]
    fn reading_keeps_the_span_and_writing_drops_it() {
        let mut event = Event::from_span(span());
        assert_eq!(get(&event, "operationName"), Some(&"GET /health".into()));
        assert!(event.span().is_some(), "a read changes nothing");
        event.insert(&FieldRef::parse("[@metadata][seen]").unwrap(), true.into());
        assert!(event.span().is_some(), "metadata is not the document");
        event.remove(&FieldRef::parse("tags").unwrap());
        assert!(event.span().is_none(), "the tree is now the truth");
        assert_eq!(get(&event, "tags"), None);
        assert_eq!(get(&event, "spanID"), Some(&"00000000000000ab".into()));
    }

    #[test]
    fn a_span_event_says_it_is_one_in_its_metadata() {
        let event = Event::from_span(span());
        assert_eq!(get(&event, "[@metadata][signal]"), Some(&"traces".into()));
        assert!(event.span().is_some(), "metadata is not the document");
    }

    #[test]
    fn a_span_event_has_no_timestamp_field() {
        let event = Event::from_span(span());
        assert_eq!(event.timestamp(), None);
        assert!(event.span().is_some());
    }
}
