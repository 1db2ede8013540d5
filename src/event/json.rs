//! JSON for events: an encoder that writes straight from the tree (strings from their
//! `Bytes`, untouched by any intermediate value type).

use super::{write_timestamp, Event, Object, Value};

/// Appends `event` as one JSON object: its fields, never its `@metadata`.
pub fn encode_event(event: &Event, out: &mut Vec<u8>) {
    encode_object(event.fields(), out);
}

pub fn encode_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Boolean(true) => out.extend_from_slice(b"true"),
        Value::Boolean(false) => out.extend_from_slice(b"false"),
        Value::Integer(i) => out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
        Value::Float(f) => encode_float(*f, out),
        Value::String(t) => encode_str(t, out),
        Value::Timestamp(ts) => {
            let mut s = String::with_capacity(30);
            write_timestamp(ts, &mut s);
            out.push(b'"');
            out.extend_from_slice(s.as_bytes());
            out.push(b'"');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                encode_value(item, out);
            }
            out.push(b']');
        }
        Value::Object(o) => encode_object(o, out),
    }
}

pub fn encode_object(object: &Object, out: &mut Vec<u8>) {
    out.push(b'{');
    for (i, (key, value)) in object.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        encode_str(key, out);
        out.push(b':');
        encode_value(value, out);
    }
    out.push(b'}');
}

/// JSON has no NaN or infinities; they are written as `null`, as serde_json does.
fn encode_float(f: f64, out: &mut Vec<u8>) {
    if f.is_finite() {
        let mut s = String::new();
        super::write_float(f, &mut s);
        out.extend_from_slice(s.as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Bytes that must be escaped inside a JSON string: controls, `"` and `\`.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = true;
        i += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Writes `s` as a JSON string, copying runs that need no escaping in one go.
pub fn encode_str(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !NEEDS_ESCAPE[b as usize] {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 0xf) as usize]);
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{FieldRef, Text};

    #[test]
    fn escapes_what_json_requires() {
        let mut out = Vec::new();
        encode_str("a\"b\\c\nd\u{1}é", &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), r#""a\"b\\c\nd\u0001é""#);
    }

    #[test]
    fn metadata_is_never_encoded() {
        let mut fields = Object::new();
        fields.insert(Text::from("message"), "hi".into());
        fields.insert(Text::from("n"), Value::Float(2.0));
        let mut event = Event::new(fields);
        event.insert(&FieldRef::parse("[@metadata][secret]").unwrap(), "x".into());
        let ts = event.timestamp().unwrap();
        event.set_timestamp(ts);
        let mut out = Vec::new();
        encode_event(&event, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(r#"{"message":"hi","n":2.0,"@timestamp":""#),
            "{text}"
        );
        assert!(!text.contains("secret"));
    }
}
