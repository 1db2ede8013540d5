//! `Value`: the tree an event is made of, and `Object`, its ordered map.

use std::fmt;

use super::Text;

/// A point in time, always UTC; formatted as RFC 3339 with millisecond precision or more.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// One node of an event's tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    Integer(i64),
    Float(f64),
    String(Text),
    Timestamp(Timestamp),
    Array(Vec<Value>),
    Object(Object),
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(t) => Some(t.as_str()),
            _ => None,
        }
    }

    pub fn as_text(&self) -> Option<&Text> {
        match self {
            Value::String(t) => Some(t),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_object_mut(&mut self) -> Option<&mut Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The name of this value's type, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Boolean(_) => "boolean",
            Value::Integer(_) => "integer",
            Value::Float(_) => "float",
            Value::String(_) => "string",
            Value::Timestamp(_) => "timestamp",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// Appends this value as Logstash's `to_s` renders it in sprintf templates: strings as
    /// they are, numbers and booleans in their literal form, arrays joined by commas,
    /// objects as JSON, timestamps as RFC 3339.
    pub fn write_display(&self, out: &mut String) {
        match self {
            Value::Null => {}
            Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Integer(i) => out.push_str(itoa::Buffer::new().format(*i)),
            Value::Float(f) => write_float(*f, out),
            Value::String(t) => out.push_str(t),
            Value::Timestamp(ts) => write_timestamp(ts, out),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_display(out);
                }
            }
            Value::Object(_) => {
                let mut buf = Vec::new();
                super::json::encode_value(self, &mut buf);
                out.push_str(&String::from_utf8_lossy(&buf));
            }
        }
    }

    /// This value rendered as by [`Value::write_display`].
    pub fn to_display(&self) -> String {
        match self {
            Value::String(t) => t.as_str().to_owned(),
            other => {
                let mut s = String::new();
                other.write_display(&mut s);
                s
            }
        }
    }
}

/// Writes a float the way Ruby's `Float#to_s` does for ordinary magnitudes: always with a
/// fractional part (`1.0`, `0.5`).
pub fn write_float(f: f64, out: &mut String) {
    float_text(f, |text| out.push_str(text));
}

/// Hands `f`'s text to `push` in pieces, so JSON encoding can write it into bytes with no
/// `String` in between.
pub(crate) fn float_text(f: f64, mut push: impl FnMut(&str)) {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 {
        push(itoa::Buffer::new().format(f as i64));
        push(".0");
    } else {
        push(ryu::Buffer::new().format(f));
    }
}

/// Writes `ts` as RFC 3339 in UTC with milliseconds, or with more digits when the
/// timestamp carries them (`2026-11-24T16:17:54.123Z`), as Logstash does.
pub fn write_timestamp(ts: &Timestamp, out: &mut String) {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write;
    let nanos = ts.nanosecond() % 1_000_000_000;
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        ts.year(),
        ts.month(),
        ts.day(),
        ts.hour(),
        ts.minute(),
        ts.second()
    );
    if nanos % 1_000_000 == 0 {
        let _ = write!(out, ".{:03}Z", nanos / 1_000_000);
    } else if nanos % 1_000 == 0 {
        let _ = write!(out, ".{:06}Z", nanos / 1_000);
    } else {
        let _ = write!(out, ".{nanos:09}Z");
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(Text::from(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(Text::from(s))
    }
}

impl From<Text> for Value {
    fn from(t: Text) -> Value {
        Value::String(t)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Integer(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Boolean(b)
    }
}

impl From<Object> for Value {
    fn from(o: Object) -> Value {
        Value::Object(o)
    }
}

impl From<Timestamp> for Value {
    fn from(ts: Timestamp) -> Value {
        Value::Timestamp(ts)
    }
}

/// A map from keys to values that keeps insertion order.
///
/// Events are small (a Filebeat event has about a dozen top-level keys), so a vector with
/// linear look-up beats hashing and allocates once. Callers that build objects from untrusted
/// input with many keys use [`Object::dedup_keys`], which is O(n log n), rather than
/// inserting key by key.
#[derive(Clone, Default, PartialEq)]
pub struct Object {
    entries: Vec<(Text, Value)>,
}

impl Object {
    pub fn new() -> Object {
        Object::default()
    }

    pub fn with_capacity(n: usize) -> Object {
        Object {
            entries: Vec::with_capacity(n),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.entries.iter().position(|(k, _)| k.as_str() == key)
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Sets `key` to `value`, returning the previous value. A new key goes last.
    pub fn insert(&mut self, key: Text, value: Value) -> Option<Value> {
        match self.position(&key) {
            Some(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// The value at `key`, inserting `make()` first when it is absent.
    pub fn get_or_insert_with(&mut self, key: &Text, make: impl FnOnce() -> Value) -> &mut Value {
        let i = match self.position(key) {
            Some(i) => i,
            None => {
                self.entries.push((key.clone(), make()));
                self.entries.len() - 1
            }
        };
        &mut self.entries[i].1
    }

    /// The object of `entries`, repeated keys removed as by [`Object::dedup_keys`]; the
    /// vector's spare capacity is kept for members added later.
    pub fn from_entries(entries: Vec<(Text, Value)>) -> Object {
        let mut object = Object { entries };
        object.dedup_keys();
        object
    }

    /// Appends without checking for an existing key; pair with [`Object::dedup_keys`].
    pub fn push_unchecked(&mut self, key: Text, value: Value) {
        self.entries.push((key, value));
    }

    /// Removes repeated keys, keeping the last value of each at the position of its first
    /// occurrence (what JSON parsers conventionally do). O(n log n).
    pub fn dedup_keys(&mut self) {
        let n = self.entries.len();
        if n < 2 {
            return;
        }
        if n <= 16 {
            let mut i = 0;
            while i < self.entries.len() {
                let mut j = i + 1;
                while j < self.entries.len() {
                    if self.entries[j].0 == self.entries[i].0 {
                        let (_, value) = self.entries.remove(j);
                        self.entries[i].1 = value;
                    } else {
                        j += 1;
                    }
                }
                i += 1;
            }
            return;
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| self.entries[a].0.cmp(&self.entries[b].0).then(a.cmp(&b)));
        // For each run of equal keys: the first index keeps its slot, the last holds the value.
        let mut keep = vec![true; n];
        let mut moves = Vec::new();
        let mut run_start = 0;
        for k in 1..=n {
            if k == n || self.entries[order[k]].0 != self.entries[order[run_start]].0 {
                if k - run_start > 1 {
                    let first = order[run_start];
                    let last = order[k - 1];
                    moves.push((first, last));
                    for &dup in &order[run_start + 1..k] {
                        keep[dup] = false;
                    }
                }
                run_start = k;
            }
        }
        for (first, last) in moves {
            let value = std::mem::replace(&mut self.entries[last].1, Value::Null);
            self.entries[first].1 = value;
        }
        let mut index = 0;
        self.entries.retain(|_| {
            let kept = keep[index];
            index += 1;
            kept
        });
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.position(key).map(|i| self.entries.remove(i).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Text, &Value)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&Text, &mut Value)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &Text> {
        self.entries.iter().map(|(k, _)| k)
    }
}

impl IntoIterator for Object {
    type Item = (Text, Value);
    type IntoIter = std::vec::IntoIter<(Text, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl FromIterator<(Text, Value)> for Object {
    fn from_iter<I: IntoIterator<Item = (Text, Value)>>(iter: I) -> Object {
        let mut object = Object {
            entries: iter.into_iter().collect(),
        };
        object.dedup_keys();
        object
    }
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(o: &Object) -> Vec<&str> {
        o.keys().map(|k| k.as_str()).collect()
    }

    #[test]
    fn insert_replaces_in_place() {
        let mut o = Object::new();
        o.insert("a".into(), 1.into());
        o.insert("b".into(), 2.into());
        assert_eq!(o.insert("a".into(), 3.into()), Some(Value::Integer(1)));
        assert_eq!(keys(&o), ["a", "b"]);
        assert_eq!(o.get("a"), Some(&Value::Integer(3)));
    }

    #[test]
    fn dedup_keeps_last_value_at_first_position() {
        for n in [3usize, 40] {
            let mut o = Object::new();
            for i in 0..n {
                o.push_unchecked(Text::from(format!("k{}", i % 3)), (i as i64).into());
            }
            o.dedup_keys();
            assert_eq!(keys(&o), ["k0", "k1", "k2"], "n={n}");
            let last = |r: usize| (0..n).rev().find(|i| i % 3 == r).unwrap() as i64;
            assert_eq!(o.get("k0"), Some(&Value::Integer(last(0))));
            assert_eq!(o.get("k2"), Some(&Value::Integer(last(2))));
        }
    }

    #[test]
    fn floats_render_like_ruby() {
        let mut s = String::new();
        write_float(1.0, &mut s);
        s.push(' ');
        write_float(0.25, &mut s);
        assert_eq!(s, "1.0 0.25");
    }
}
