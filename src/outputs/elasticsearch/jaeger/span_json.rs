//! A span as the JSON of Jaeger's Elasticsearch span document, written straight into the bulk
//! body.
//!
//! Two ways in, one layout out. [`encode_span`] is the fast path: it writes from the typed
//! [`Span`] while no filter has touched the event, with no tree and no per-field allocation.
//! [`encode_tree`] writes an event whose fields a filter changed; the tree already has the
//! document layout ([`crate::traces::document`]), so it is written as it is. For an untouched
//! span both give the same bytes (tested below), so which path a span takes never shows in
//! Elasticsearch. Both apply `tags_as_fields` ([`TagsAsFields`]) the way Jaeger's writer does.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::event::json::{encode_str, encode_value};
use crate::event::{Object, Value};
use crate::traces::model::{KeyValue, RefType, Span, TagValue};

/// Which tags are also written as fields of a `tag` object (Jaeger's `tags_as_fields`):
/// searchable in Kibana as `tag.http@method`. An elevated tag leaves the nested `tags` list;
/// binary tags never move, nor do log fields.
#[derive(Clone, Debug)]
pub struct TagsAsFields {
    /// `tags_as_fields_all`: every non-binary tag.
    pub all: bool,
    /// `tags_as_fields`: these keys only. A handful (Jaeger's two and what the user lists),
    /// checked for every tag of every span: a scan costs less than hashing the key.
    pub keys: Vec<Box<str>>,
    /// `tags_as_fields_dot_replacement`: stands for `.` in a field name, where a dot would make
    /// Elasticsearch nest objects (`http.method` → `http@method`).
    pub dot_replacement: Box<str>,
}

impl Default for TagsAsFields {
    fn default() -> TagsAsFields {
        TagsAsFields {
            all: false,
            keys: Vec::new(),
            dot_replacement: "@".into(),
        }
    }
}

impl TagsAsFields {
    fn is_off(&self) -> bool {
        !self.all && self.keys.is_empty()
    }

    fn elevates(&self, key: &str) -> bool {
        self.all || self.keys.iter().any(|k| **k == *key)
    }

    fn field_name<'k>(&self, key: &'k str) -> Cow<'k, str> {
        if key.contains('.') {
            Cow::Owned(key.replace('.', &self.dot_replacement))
        } else {
            Cow::Borrowed(key)
        }
    }
}

/// Appends the span document of `span`.
pub fn encode_span(span: &Span, elevate: &TagsAsFields, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"traceID\":\"");
    hex(span.trace_id, 32, out);
    out.extend_from_slice(b"\",\"spanID\":\"");
    hex(u128::from(span.span_id), 16, out);
    out.push(b'"');
    if span.parent_span_id != 0 {
        out.extend_from_slice(b",\"parentSpanID\":\"");
        hex(u128::from(span.parent_span_id), 16, out);
        out.push(b'"');
    }
    out.extend_from_slice(b",\"flags\":");
    integer(i64::from(span.flags), out);
    out.extend_from_slice(b",\"operationName\":");
    encode_str(&span.operation_name, out);
    out.extend_from_slice(b",\"references\":[");
    let parent = (span.parent_span_id != 0).then_some((
        RefType::ChildOf,
        span.trace_id,
        span.parent_span_id,
    ));
    let references = parent.into_iter().chain(
        span.references
            .iter()
            .map(|r| (r.ref_type, r.trace_id, r.span_id)),
    );
    for (i, (ref_type, trace_id, span_id)) in references.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"refType\":\"");
        out.extend_from_slice(ref_type.as_str().as_bytes());
        out.extend_from_slice(b"\",\"traceID\":\"");
        hex(trace_id, 32, out);
        out.extend_from_slice(b"\",\"spanID\":\"");
        hex(u128::from(span_id), 16, out);
        out.extend_from_slice(b"\"}");
    }
    out.extend_from_slice(b"],\"startTime\":");
    integer(span.start_time_us, out);
    out.extend_from_slice(b",\"startTimeMillis\":");
    integer(span.start_time_us.div_euclid(1000), out);
    out.extend_from_slice(b",\"duration\":");
    integer(span.duration_us, out);
    out.push(b',');
    typed_tags(&span.tags, elevate, out);
    out.extend_from_slice(b",\"logs\":[");
    for (i, log) in span.logs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"timestamp\":");
        integer(log.timestamp_us, out);
        out.extend_from_slice(b",\"fields\":[");
        for (j, field) in log.fields.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            key_value(field, out);
        }
        out.extend_from_slice(b"]}");
    }
    out.extend_from_slice(b"],\"process\":{\"serviceName\":");
    encode_str(&span.process.service_name, out);
    out.push(b',');
    typed_tags(&span.process.tags, elevate, out);
    out.extend_from_slice(b"}}");
}

/// Appends an event's fields as a span document: as they are, except that `tags` and
/// `[process][tags]` are split by `elevate`.
pub fn encode_tree(fields: &Object, elevate: &TagsAsFields, out: &mut Vec<u8>) {
    out.push(b'{');
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match (key.as_str(), value) {
            ("tags", Value::Array(tags)) => tree_tags(tags, elevate, out),
            ("process", Value::Object(process)) => {
                encode_str(key, out);
                out.push(b':');
                out.push(b'{');
                for (j, (key, value)) in process.iter().enumerate() {
                    if j > 0 {
                        out.push(b',');
                    }
                    match (key.as_str(), value) {
                        ("tags", Value::Array(tags)) => tree_tags(tags, elevate, out),
                        _ => field(key, value, out),
                    }
                }
                out.push(b'}');
            }
            _ => field(key, value, out),
        }
    }
    out.push(b'}');
}

/// The service document: what Jaeger Query's service and operation lists are made of.
pub fn encode_service(service: &str, operation: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"serviceName\":");
    encode_str(service, out);
    out.extend_from_slice(b",\"operationName\":");
    encode_str(operation, out);
    out.push(b'}');
}

fn field(key: &str, value: &Value, out: &mut Vec<u8>) {
    encode_str(key, out);
    out.push(b':');
    encode_value(value, out);
}

fn typed_tags(tags: &[KeyValue], elevate: &TagsAsFields, out: &mut Vec<u8>) {
    split_tags(
        tags,
        elevate,
        |tag| (!matches!(tag.value, TagValue::Binary(_))).then_some(tag.key.as_str()),
        key_value,
        |tag, out| tag_value(&tag.value, out),
        out,
    );
}

/// A tree's tag list: entries shaped `{key, type, value}` (any other entry stays in `tags`).
fn tree_tags(tags: &[Value], elevate: &TagsAsFields, out: &mut Vec<u8>) {
    split_tags(
        tags,
        elevate,
        |tag| {
            let entry = tag.as_object()?;
            if entry.get("type").and_then(Value::as_str) == Some("binary") {
                return None;
            }
            entry.get("value")?;
            entry.get("key")?.as_str()
        },
        encode_value,
        |tag, out| {
            let value = tag.as_object().and_then(|e| e.get("value"));
            encode_value(value.expect("checked when elevated"), out)
        },
        out,
    );
}

/// Writes `"tags":[…]` with the tags that stay nested and, when some are elevated,
/// `,"tag":{…}` with those. `elevatable` gives the key of a tag that may be elevated. A field
/// name is used once (the first tag wins; a later one with the same name stays nested, as a
/// repeated name would make Elasticsearch refuse the document), and never empty.
fn split_tags<T>(
    tags: &[T],
    elevate: &TagsAsFields,
    elevatable: impl Fn(&T) -> Option<&str>,
    entry: impl Fn(&T, &mut Vec<u8>),
    value: impl Fn(&T, &mut Vec<u8>),
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(b"\"tags\":[");
    let mut elevated: Vec<(Cow<'_, str>, &T)> = Vec::new();
    // With a key list at most one tag per listed key is elevated, and a scan of those finds
    // a name taken; with `all` any number can be, so a set.
    let mut names: Option<HashSet<Cow<'_, str>>> = elevate.all.then(HashSet::new);
    let mut nested = 0;
    for tag in tags {
        if !elevate.is_off() {
            if let Some(key) = elevatable(tag).filter(|k| elevate.elevates(k)) {
                let name = elevate.field_name(key);
                let unused = match &mut names {
                    Some(names) => names.insert(name.clone()),
                    None => !elevated.iter().any(|(taken, _)| *taken == name),
                };
                if !name.is_empty() && unused {
                    elevated.push((name, tag));
                    continue;
                }
            }
        }
        if nested > 0 {
            out.push(b',');
        }
        nested += 1;
        entry(tag, out);
    }
    out.push(b']');
    if elevated.is_empty() {
        return;
    }
    out.extend_from_slice(b",\"tag\":{");
    for (i, (name, tag)) in elevated.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        encode_str(name, out);
        out.push(b':');
        value(tag, out);
    }
    out.push(b'}');
}

fn key_value(tag: &KeyValue, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"key\":");
    encode_str(&tag.key, out);
    out.extend_from_slice(b",\"type\":\"");
    out.extend_from_slice(tag.value.type_name().as_bytes());
    out.extend_from_slice(b"\",\"value\":");
    tag_value(&tag.value, out);
    out.push(b'}');
}

/// Typed, as Jaeger writes since v1.68: numbers and bools as JSON numbers and bools, binary
/// as lowercase hex.
fn tag_value(value: &TagValue, out: &mut Vec<u8>) {
    match value {
        TagValue::String(s) => encode_str(s, out),
        TagValue::Bool(true) => out.extend_from_slice(b"true"),
        TagValue::Bool(false) => out.extend_from_slice(b"false"),
        TagValue::Int64(i) => integer(*i, out),
        // The tree's float formatting (and `null` for NaN), so both paths agree.
        TagValue::Float64(f) => encode_value(&Value::Float(*f), out),
        TagValue::Binary(bytes) => {
            out.reserve(bytes.len() * 2 + 2);
            out.push(b'"');
            for b in bytes.iter() {
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
            out.push(b'"');
        }
    }
}

fn integer(i: i64, out: &mut Vec<u8>) {
    out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The low `digits` hex digits of `id`, zero-padded.
fn hex(id: u128, digits: usize, out: &mut Vec<u8>) {
    let mut buf = [0u8; 32];
    for (i, slot) in buf[..digits].iter_mut().rev().enumerate() {
        *slot = HEX[((id >> (4 * i)) & 0xf) as usize];
    }
    out.extend_from_slice(&buf[..digits]);
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;

    use super::*;
    use crate::event::json::encode_object;
    use crate::event::{Event, FieldRef};
    use crate::traces::model::{Process, SpanLog, SpanRef};

    pub(crate) fn span() -> Span {
        Span {
            trace_id: 0x0af7651916cd43dd8448eb211c80319c,
            span_id: 0xb7ad6b7169203331,
            parent_span_id: 0x00f067aa0ba902b7,
            operation_name: "GET /api/manga/\"{id}\"".into(),
            references: vec![SpanRef {
                ref_type: RefType::FollowsFrom,
                trace_id: 0x1,
                span_id: 0x2,
            }],
            flags: 1,
            start_time_us: 1_764_000_000_123_456,
            duration_us: 2_500,
            tags: vec![
                KeyValue::new("http.method", TagValue::String("GET".into())),
                KeyValue::new("http.status_code", TagValue::Int64(200)),
                KeyValue::new("error", TagValue::Bool(false)),
                KeyValue::new("ratio", TagValue::Float64(0.25)),
                KeyValue::new("whole", TagValue::Float64(3.0)),
                KeyValue::new("nan", TagValue::Float64(f64::NAN)),
                KeyValue::new("blob", TagValue::Binary(Bytes::from_static(b"\x00\xab"))),
                KeyValue::new("line\n", TagValue::String("tab\there".into())),
            ],
            logs: vec![SpanLog {
                timestamp_us: 1_764_000_000_124_000,
                fields: vec![
                    KeyValue::new("event", TagValue::String("retry".into())),
                    KeyValue::new("attempt", TagValue::Int64(2)),
                ],
            }],
            process: Arc::new(Process {
                service_name: "mangakai-backend".into(),
                tags: vec![
                    KeyValue::new("hostname", TagValue::String("web-1".into())),
                    KeyValue::new("jaeger.version", TagValue::String("Python-4.8.0".into())),
                ],
            }),
        }
    }

    fn fast(span: &Span, elevate: &TagsAsFields) -> String {
        let mut out = Vec::new();
        encode_span(span, elevate, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn tree(span: &Span, elevate: &TagsAsFields) -> String {
        let event = Event::from_span(span.clone());
        let mut out = Vec::new();
        encode_tree(event.fields(), elevate, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn json(s: &str) -> serde_json::Value {
        serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
    }

    fn elevate(keys: &[&str]) -> TagsAsFields {
        TagsAsFields {
            keys: keys.iter().map(|k| Box::from(*k)).collect(),
            ..TagsAsFields::default()
        }
    }

    #[test]
    fn both_paths_write_the_same_bytes_as_the_generic_tree_encoder() {
        let span = span();
        let off = TagsAsFields::default();
        let mut generic = Vec::new();
        encode_object(&crate::traces::document::span_document(&span), &mut generic);
        let generic = String::from_utf8(generic).unwrap();
        assert_eq!(fast(&span, &off), generic);
        assert_eq!(tree(&span, &off), generic);
        let all = TagsAsFields {
            all: true,
            ..TagsAsFields::default()
        };
        assert_eq!(fast(&span, &all), tree(&span, &all));
        let some = elevate(&["http.method", "blob", "hostname"]);
        assert_eq!(fast(&span, &some), tree(&span, &some));

        let mut root = span.clone();
        root.parent_span_id = 0;
        root.references.clear();
        root.tags.clear();
        root.logs.clear();
        assert_eq!(fast(&root, &all), tree(&root, &all));
    }

    #[test]
    fn the_document_is_jaegers() {
        let doc = json(&fast(&span(), &TagsAsFields::default()));
        assert_eq!(doc["traceID"], "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(doc["spanID"], "b7ad6b7169203331");
        assert_eq!(doc["parentSpanID"], "00f067aa0ba902b7");
        assert_eq!(doc["flags"], 1);
        assert_eq!(doc["operationName"], "GET /api/manga/\"{id}\"");
        assert_eq!(
            doc["references"],
            serde_json::json!([
                {"refType": "CHILD_OF", "traceID": "0af7651916cd43dd8448eb211c80319c", "spanID": "00f067aa0ba902b7"},
                {"refType": "FOLLOWS_FROM", "traceID": "00000000000000000000000000000001", "spanID": "0000000000000002"}
            ])
        );
        assert_eq!(doc["startTime"], 1_764_000_000_123_456u64);
        assert_eq!(doc["startTimeMillis"], 1_764_000_000_123u64);
        assert_eq!(doc["duration"], 2500);
        let tags = &doc["tags"];
        assert_eq!(
            tags[1],
            serde_json::json!({"key": "http.status_code", "type": "int64", "value": 200})
        );
        assert_eq!(tags[2]["value"], false);
        assert_eq!(tags[3]["value"], 0.25);
        assert_eq!(tags[5]["value"], serde_json::Value::Null, "NaN has no JSON");
        assert_eq!(
            tags[6],
            serde_json::json!({"key": "blob", "type": "binary", "value": "00ab"})
        );
        assert_eq!(tags[7]["key"], "line\n");
        assert!(doc.get("tag").is_none());
        assert_eq!(doc["logs"][0]["timestamp"], 1_764_000_000_124_000u64);
        assert_eq!(doc["logs"][0]["fields"][1]["value"], 2);
        assert_eq!(doc["process"]["serviceName"], "mangakai-backend");
        assert_eq!(doc["process"]["tags"][0]["key"], "hostname");
    }

    #[test]
    fn a_root_span_has_no_parent_and_empty_lists_never_null() {
        let mut root = span();
        root.parent_span_id = 0;
        root.references.clear();
        root.tags.clear();
        root.logs.clear();
        let doc = json(&fast(&root, &TagsAsFields::default()));
        assert!(doc.get("parentSpanID").is_none());
        for list in ["references", "tags", "logs"] {
            assert_eq!(doc[list], serde_json::json!([]), "{list}");
        }
    }

    #[test]
    fn ids_are_zero_padded_lowercase_hex() {
        let mut s = span();
        s.trace_id = 0xABC;
        s.span_id = 1;
        s.parent_span_id = u64::MAX;
        let doc = json(&fast(&s, &TagsAsFields::default()));
        assert_eq!(doc["traceID"], "00000000000000000000000000000abc");
        assert_eq!(doc["spanID"], "0000000000000001");
        assert_eq!(doc["parentSpanID"], "ffffffffffffffff");
    }

    #[test]
    fn elevated_tags_leave_the_nested_list_with_dots_replaced() {
        let doc = json(&fast(
            &span(),
            &elevate(&["http.method", "blob", "hostname"]),
        ));
        assert_eq!(doc["tag"], serde_json::json!({"http@method": "GET"}));
        let keys: Vec<&str> = doc["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["key"].as_str().unwrap())
            .collect();
        assert!(!keys.contains(&"http.method"));
        assert!(keys.contains(&"blob"), "binary is never elevated");
        assert_eq!(
            doc["process"]["tag"],
            serde_json::json!({"hostname": "web-1"})
        );
        assert_eq!(doc["process"]["tags"].as_array().unwrap().len(), 1);

        let all = TagsAsFields {
            all: true,
            dot_replacement: "__".into(),
            ..TagsAsFields::default()
        };
        let doc = json(&fast(&span(), &all));
        assert_eq!(doc["tag"]["http__status_code"], 200);
        assert_eq!(doc["tag"]["error"], false);
        assert_eq!(
            doc["tags"].as_array().unwrap().len(),
            1,
            "only the binary tag"
        );
        assert_eq!(doc["process"]["tag"]["jaeger__version"], "Python-4.8.0");
        assert_eq!(doc["process"]["tags"], serde_json::json!([]));
        assert!(doc["logs"][0]["fields"].as_array().unwrap().len() == 2);
    }

    #[test]
    fn a_field_name_is_used_once_and_never_empty() {
        let mut s = span();
        s.tags = vec![
            KeyValue::new("a.b", TagValue::Int64(1)),
            KeyValue::new("a@b", TagValue::Int64(2)),
            KeyValue::new("a.b", TagValue::Int64(3)),
            KeyValue::new("", TagValue::Int64(4)),
        ];
        let all = TagsAsFields {
            all: true,
            ..TagsAsFields::default()
        };
        let text = fast(&s, &all);
        let doc = json(&text);
        assert_eq!(doc["tag"], serde_json::json!({"a@b": 1}));
        let nested: Vec<i64> = doc["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["value"].as_i64().unwrap())
            .collect();
        assert_eq!(nested, [2, 3, 4]);
        assert_eq!(text.matches("\"a@b\":").count(), 1);
        assert_eq!(text, tree(&s, &all));
    }

    #[test]
    fn a_changed_tree_is_written_as_changed() {
        let mut event = Event::from_span(span());
        event.remove(&FieldRef::parse("[tags][0]").unwrap());
        event.insert(
            &FieldRef::parse("[@metadata][route]").unwrap(),
            "traces".into(),
        );
        assert!(event.span().is_none());
        let mut out = Vec::new();
        encode_tree(event.fields(), &elevate(&["http.status_code"]), &mut out);
        let text = String::from_utf8(out).unwrap();
        let doc = json(&text);
        assert!(!text.contains("http.method") && !text.contains("@metadata"));
        assert_eq!(doc["tag"]["http@status_code"], 200);
        assert_eq!(doc["tags"][0]["key"], "error");
    }

    #[test]
    fn malformed_tag_entries_in_a_tree_stay_where_they_are() {
        let mut fields = Object::new();
        fields.insert(
            "tags".into(),
            Value::Array(vec![
                "a logstash tag".into(),
                Value::Object(Object::new()),
                Value::Array(vec![]),
            ]),
        );
        fields.insert("process".into(), "not an object".into());
        let all = TagsAsFields {
            all: true,
            ..TagsAsFields::default()
        };
        let mut out = Vec::new();
        encode_tree(&fields, &all, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"tags":["a logstash tag",{},[]],"process":"not an object"}"#
        );
    }

    #[test]
    fn service_documents() {
        let mut out = Vec::new();
        encode_service("svc", "GET \"/\"", &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"serviceName":"svc","operationName":"GET \"/\""}"#
        );
    }
}
