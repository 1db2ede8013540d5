//! Logstash's `rubydebug` codec: an event as awesome_print shows a Ruby hash, keys sorted
//! and right-aligned, timestamps unquoted.

use crate::event::{json, write_timestamp, Event, Object, Value};

pub fn encode(event: &Event, with_metadata: bool, out: &mut Vec<u8>) {
    let mut text = String::new();
    if with_metadata && !event.metadata().is_empty() {
        let mut fields = event.fields().clone();
        fields.insert("@metadata".into(), Value::Object(event.metadata().clone()));
        object(&fields, 0, &mut text);
    } else {
        object(event.fields(), 0, &mut text);
    }
    text.push('\n');
    out.extend_from_slice(text.as_bytes());
}

fn quoted(s: &str) -> String {
    let mut buf = Vec::new();
    json::encode_str(s, &mut buf);
    String::from_utf8(buf).expect("JSON encoding of a str is UTF-8")
}

fn object(o: &Object, depth: usize, out: &mut String) {
    if o.is_empty() {
        out.push_str("{}");
        return;
    }
    let mut entries: Vec<_> = o.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let keys: Vec<String> = entries.iter().map(|(k, _)| quoted(k)).collect();
    let width = keys.iter().map(|k| k.chars().count()).max().unwrap_or(0);
    let indent = "    ".repeat(depth + 1);
    out.push_str("{\n");
    for (i, ((_, v), key)) in entries.iter().zip(&keys).enumerate() {
        out.push_str(&indent);
        for _ in key.chars().count()..width {
            out.push(' ');
        }
        out.push_str(key);
        out.push_str(" => ");
        value(v, depth + 1, out);
        if i + 1 < entries.len() {
            out.push(',');
        }
        out.push('\n');
    }
    out.push_str(&"    ".repeat(depth));
    out.push('}');
}

fn value(v: &Value, depth: usize, out: &mut String) {
    match v {
        Value::Null => out.push_str("nil"),
        Value::String(s) => out.push_str(&quoted(s)),
        Value::Timestamp(ts) => write_timestamp(ts, out),
        Value::Object(o) => object(o, depth, out),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            let indent = "    ".repeat(depth + 1);
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&indent);
                out.push_str(&format!("[{i}] "));
                value(item, depth + 1, out);
                if i + 1 < items.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&"    ".repeat(depth));
            out.push(']');
        }
        scalar => scalar.write_display(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{FieldRef, Text};

    #[test]
    fn aligns_sorted_keys_like_logstash() {
        let mut fields = Object::new();
        fields.insert(Text::from("message"), "hello".into());
        fields.insert(
            Text::from("@timestamp"),
            Value::Timestamp("2026-11-24T16:17:54.123Z".parse().unwrap()),
        );
        let mut event = Event::new(fields);
        event.fields_mut().remove("@version");
        event.insert(&FieldRef::parse("[host][name]").unwrap(), "web-1".into());
        event.add_tag("a".into());
        let mut out = Vec::new();
        encode(&event, false, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{
    "@timestamp" => 2026-11-24T16:17:54.123Z,
          "host" => {
        "name" => "web-1"
    },
       "message" => "hello",
          "tags" => [
        [0] "a"
    ]
}
"#
        );
    }
}
