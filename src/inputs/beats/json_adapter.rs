//! TEMPORARY stand-in for `crate::event::json::decode_object`, which is being written on
//! another branch. Same signature; at merge, delete this file and import the real one.
//!
//! It drives serde_json with a visitor that builds our `Value` directly, in document order.
//! Strings without escapes borrow from the input and become zero-copy `Text` slices of the
//! payload's `Bytes`; escaped strings are copied. Numbers follow the usual split: integers
//! that fit `i64` stay integers, everything else is a float.

use std::fmt;

use bytes::Bytes;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::event::{Object, Text, Value};

/// Why a payload is not a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JsonError(String);

/// Parses `bytes` as one JSON object.
pub fn decode_object(bytes: &Bytes) -> Result<Object, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = ValueSeed { source: bytes }
        .deserialize(&mut de)
        .map_err(|e| JsonError(e.to_string()))?;
    de.end().map_err(|e| JsonError(e.to_string()))?;
    match value {
        Value::Object(o) => Ok(o),
        other => Err(JsonError(format!(
            "expected an object, found {}",
            other.kind()
        ))),
    }
}

/// Carries the payload so borrowed strings can be turned into slices of it.
#[derive(Clone, Copy)]
struct ValueSeed<'s> {
    source: &'s Bytes,
}

impl ValueSeed<'_> {
    fn text_borrowed(&self, s: &str) -> Text {
        // SAFETY: `s` is a `str` and therefore UTF-8; `slice_ref` keeps exactly its bytes.
        unsafe { Text::from_utf8_unchecked(self.source.slice_ref(s.as_bytes())) }
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Boolean(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Integer(i))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(i64::try_from(u).map_or(Value::Float(u as f64), Value::Integer))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float(f))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Value, E> {
        // Borrowed from the deserializer's input, which is `self.source`.
        Ok(Value::String(self.text_borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(Text::from(s)))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(Text::from(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Object::with_capacity(map.size_hint().unwrap_or(8));
        while let Some(key) = map.next_key_seed(KeySeed(self))? {
            let value = map.next_value_seed(self)?;
            object.push_unchecked(key, value);
        }
        object.dedup_keys();
        Ok(Value::Object(object))
    }
}

/// Object keys, zero-copy like string values.
struct KeySeed<'s>(ValueSeed<'s>);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Text;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Text, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Text;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Text, E> {
        Ok(self.0.text_borrowed(s))
    }
    fn visit_str<E>(self, s: &str) -> Result<Text, E> {
        Ok(Text::from(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_types_and_borrows_plain_strings() {
        let src = Bytes::from_static(
            br#"{"b":1,"a":"x\"y","c":[true,null,1.5,18446744073709551615],"d":{"e":"plain"}}"#,
        );
        let o = decode_object(&src).unwrap();
        let keys: Vec<_> = o.keys().map(|k| k.as_str()).collect();
        assert_eq!(keys, ["b", "a", "c", "d"]);
        assert_eq!(o.get("a"), Some(&Value::from("x\"y")));
        assert_eq!(
            o.get("c"),
            Some(&Value::Array(vec![
                Value::Boolean(true),
                Value::Null,
                Value::Float(1.5),
                Value::Float(u64::MAX as f64)
            ]))
        );
        let plain = o.get("d").unwrap().as_object().unwrap().get("e").unwrap();
        let plain = plain.as_text().unwrap().as_bytes().as_ptr() as usize;
        let range = src.as_ptr() as usize..src.as_ptr() as usize + src.len();
        assert!(range.contains(&plain));
    }

    #[test]
    fn refuses_non_objects_and_trailing_bytes() {
        assert!(decode_object(&Bytes::from_static(b"[1]")).is_err());
        assert!(decode_object(&Bytes::from_static(b"{} {}")).is_err());
        assert!(decode_object(&Bytes::from_static(b"{\"a\":")).is_err());
    }
}
