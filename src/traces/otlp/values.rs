//! OTLP attribute values as Jaeger stores them: strings, bools, ints and doubles keep their
//! types, bytes become `binary`, and arrays and maps become the JSON text Jaeger v2 writes
//! (Go's `encoding/json` of the value: map keys sorted, `<>&` escaped, bytes in base64).
//! A string that is not UTF-8 becomes `binary` holding its bytes, as Jaeger's UTF-8
//! sanitizer does.

use base64::Engine;
use bytes::Bytes;

use super::wire::{any_value, AnyValue, KeyValue as WireKeyValue};
use crate::event::Text;
use crate::traces::model::{KeyValue, TagValue};

/// The tag value of an attribute; an empty `AnyValue` is the empty string.
pub fn tag_value(value: Option<AnyValue>) -> TagValue {
    match value.and_then(|v| v.value) {
        None => TagValue::String(Text::default()),
        Some(any_value::Value::String(s)) => match Text::try_from_bytes(s) {
            Ok(text) => TagValue::String(text),
            Err(bytes) => TagValue::Binary(bytes),
        },
        Some(any_value::Value::Bool(b)) => TagValue::Bool(b),
        Some(any_value::Value::Int(i)) => TagValue::Int64(i),
        Some(any_value::Value::Double(d)) => TagValue::Float64(d),
        Some(any_value::Value::Bytes(b)) => TagValue::Binary(b),
        Some(nested @ (any_value::Value::Array(_) | any_value::Value::Kvlist(_))) => {
            let mut out = String::new();
            write_json(Some(&nested), &mut out);
            TagValue::String(Text::from(out))
        }
    }
}

/// Appends `attributes` to `tags`. A key that is not UTF-8 is replaced by
/// `invalid-tag-key-N` whose binary value holds the original key, `:` and the value's bytes.
pub fn push_tags(attributes: Vec<WireKeyValue>, tags: &mut Vec<KeyValue>) {
    tags.reserve(attributes.len());
    let mut invalid_keys = 0;
    for attribute in attributes {
        let value = tag_value(attribute.value);
        match Text::try_from_bytes(attribute.key) {
            Ok(key) => tags.push(KeyValue { key, value }),
            Err(key) => {
                invalid_keys += 1;
                let mut raw = key.to_vec();
                raw.push(b':');
                match &value {
                    TagValue::Binary(b) => raw.extend_from_slice(b),
                    TagValue::String(s) => raw.extend_from_slice(s.as_bytes()),
                    other => raw.extend_from_slice(display(other).as_bytes()),
                }
                tags.push(KeyValue {
                    key: Text::from(format!("invalid-tag-key-{invalid_keys}")),
                    value: TagValue::Binary(Bytes::from(raw)),
                });
            }
        }
    }
}

fn display(value: &TagValue) -> String {
    match value {
        TagValue::Bool(b) => b.to_string(),
        TagValue::Int64(i) => i.to_string(),
        TagValue::Float64(f) => f.to_string(),
        TagValue::String(s) => s.to_string(),
        TagValue::Binary(b) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// Writes `value` as Go's `encoding/json` writes the raw value (what `pcommon.Value.AsString`
/// returns for maps and slices).
pub fn write_json(value: Option<&any_value::Value>, out: &mut String) {
    match value {
        None => out.push_str("null"),
        Some(any_value::Value::String(s)) => write_json_string(&String::from_utf8_lossy(s), out),
        Some(any_value::Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(any_value::Value::Int(i)) => out.push_str(itoa::Buffer::new().format(*i)),
        Some(any_value::Value::Double(d)) => write_go_float(*d, out),
        Some(any_value::Value::Bytes(b)) => {
            out.push('"');
            base64::engine::general_purpose::STANDARD.encode_string(b, out);
            out.push('"');
        }
        Some(any_value::Value::Array(array)) => {
            out.push('[');
            for (i, item) in array.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item.value.as_ref(), out);
            }
            out.push(']');
        }
        Some(any_value::Value::Kvlist(list)) => {
            // Go marshals a map with its keys sorted; a repeated key keeps its last value.
            let mut entries: Vec<(String, Option<&any_value::Value>)> = Vec::new();
            for kv in &list.values {
                let key = String::from_utf8_lossy(&kv.key).into_owned();
                let value = kv.value.as_ref().and_then(|v| v.value.as_ref());
                match entries.iter_mut().find(|(k, _)| *k == key) {
                    Some(entry) => entry.1 = value,
                    None => entries.push((key, value)),
                }
            }
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(&key, out);
                out.push(':');
                write_json(value, out);
            }
            out.push('}');
        }
    }
}

/// A JSON string with Go's escaping: `<`, `>`, `&`, U+2028 and U+2029 as `\u` escapes.
fn write_json_string(s: &str, out: &mut String) {
    use std::fmt::Write;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A float as Go's JSON encoder writes it: plain digits in [1e-6, 1e21), an exponent with a
/// sign otherwise; NaN and infinities (which Go cannot encode) as `null`.
fn write_go_float(f: f64, out: &mut String) {
    use std::fmt::Write;
    if !f.is_finite() {
        out.push_str("null");
    } else if f == 0.0 || (1e-6..1e21).contains(&f.abs()) {
        let _ = write!(out, "{f}");
    } else {
        let text = format!("{f:e}");
        match text.split_once('e') {
            Some((mantissa, exponent)) if !exponent.starts_with('-') => {
                let _ = write!(out, "{mantissa}e+{exponent}");
            }
            _ => out.push_str(&text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traces::otlp::wire::{ArrayValue, KeyValueList};

    fn any(value: any_value::Value) -> Option<AnyValue> {
        Some(AnyValue { value: Some(value) })
    }

    fn kv(key: &'static [u8], value: any_value::Value) -> WireKeyValue {
        WireKeyValue {
            key: Bytes::from_static(key),
            value: any(value),
        }
    }

    #[test]
    fn scalars_keep_their_types_and_bytes_become_binary() {
        use any_value::Value as V;
        assert_eq!(
            tag_value(any(V::String(Bytes::from_static(b"x")))),
            TagValue::String("x".into())
        );
        assert_eq!(tag_value(any(V::Bool(true))), TagValue::Bool(true));
        assert_eq!(tag_value(any(V::Int(-3))), TagValue::Int64(-3));
        assert_eq!(tag_value(any(V::Double(0.5))), TagValue::Float64(0.5));
        assert_eq!(
            tag_value(any(V::Bytes(Bytes::from_static(&[1, 2])))),
            TagValue::Binary(Bytes::from_static(&[1, 2]))
        );
        assert_eq!(tag_value(None), TagValue::String(Text::default()));
        assert_eq!(
            tag_value(any(V::String(Bytes::from_static(b"\xff")))),
            TagValue::Binary(Bytes::from_static(b"\xff"))
        );
    }

    #[test]
    fn arrays_and_maps_render_as_go_writes_them() {
        use any_value::Value as V;
        let array = V::Array(ArrayValue {
            values: vec![
                AnyValue {
                    value: Some(V::Int(1)),
                },
                AnyValue {
                    value: Some(V::Double(1e21)),
                },
                AnyValue {
                    value: Some(V::Double(2.5)),
                },
                AnyValue {
                    value: Some(V::String(Bytes::from_static(b"<a&b>\n"))),
                },
                AnyValue { value: None },
                AnyValue {
                    value: Some(V::Bytes(Bytes::from_static(b"hi"))),
                },
            ],
        });
        assert_eq!(
            tag_value(any(array)),
            TagValue::String(r#"[1,1e+21,2.5,"\u003ca\u0026b\u003e\n",null,"aGk="]"#.into())
        );
        let map = V::Kvlist(KeyValueList {
            values: vec![
                kv(b"z", V::Bool(false)),
                kv(b"a", V::Int(1)),
                kv(b"z", V::Bool(true)),
            ],
        });
        assert_eq!(
            tag_value(any(map)),
            TagValue::String(r#"{"a":1,"z":true}"#.into())
        );
    }

    #[test]
    fn a_key_that_is_not_utf8_is_renamed_and_kept_as_binary() {
        let mut tags = Vec::new();
        push_tags(
            vec![
                kv(b"ok", any_value::Value::Int(7)),
                kv(b"k\xfe", any_value::Value::String(Bytes::from_static(b"v"))),
            ],
            &mut tags,
        );
        assert_eq!(tags[0], KeyValue::new("ok", TagValue::Int64(7)));
        assert_eq!(
            tags[1],
            KeyValue::new(
                "invalid-tag-key-1",
                TagValue::Binary(Bytes::from_static(b"k\xfe:v"))
            )
        );
    }
}
