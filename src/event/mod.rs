//! The event model: what flows through a pipeline.
//!
//! An [`Event`] is a tree of [`Value`]s (its fields, `@timestamp` and `tags` among them),
//! a separate `@metadata` tree that outputs never write, and the [`Finalizers`] that tie it to
//! the receipts of the batches it came from. A span travels as a typed [`Span`] and becomes a
//! tree (Jaeger's document layout, see [`crate::traces::document`]) only when something
//! reads or writes its fields; an untouched span reaches its output still typed. A Beats
//! event likewise travels as the JSON it arrived in ([`raw::RawJson`], checked by
//! [`json_check`]) until something reads a field, and is written from those bytes if nothing
//! does. Fields are read and written through compiled
//! [`FieldRef`]s. Events are read from JSON by [`json`], and rendered into strings by
//! sprintf [`Template`]s, whose date references use [`joda`] patterns; [`date_parse`] reads
//! dates back, for the `date` filter.

pub mod date_parse;
mod field_ref;
pub mod joda;
pub mod json;
pub mod json_check;
pub mod raw;
pub mod template;
mod text;
mod value;

pub use field_ref::{FieldRef, FieldRefError};
pub use template::{Template, TemplateError};
pub use text::Text;
pub use value::{write_float, write_timestamp, Object, Timestamp, Value};

use std::borrow::Cow;
use std::sync::OnceLock;

use crate::pipeline::receipt::{Delivery, Finalizers};
use crate::traces::document::{self, span_document};
use crate::traces::model::Span;
use raw::RawJson;

pub const TIMESTAMP: &str = "@timestamp";
pub const TAGS: &str = "tags";
/// `[@metadata][signal]`: `traces` on span events, `logs` on OTLP log records, so a pipeline
/// can route them apart without reading (and so building) a span's fields.
pub const SIGNAL: &str = "signal";
pub const VERSION: &str = "@version";

/// One log record or span on its way through a pipeline.
#[derive(Debug, Clone)]
pub struct Event {
    /// Always set, except for a span or raw JSON event whose fields nothing has looked at
    /// yet.
    fields: OnceLock<Value>,
    /// Always set, except for a lazy event whose metadata nothing has looked at yet: a
    /// span's is `{signal: traces}` ([`span_metadata`]), built on first access like the
    /// fields, as most spans go from input to output with nobody asking.
    metadata: OnceLock<Value>,
    finalizers: Finalizers,
    origin: Origin,
}

/// What an event's fields were made from, while they still equal it (or are not built
/// yet). The first write through the field API makes the tree the only truth.
#[derive(Debug, Clone)]
enum Origin {
    Tree,
    Span(Box<Span>),
    Json(Box<RawJson>),
}

impl Event {
    /// An event with `fields`; `@timestamp` is set to now and `@version` to `"1"` unless
    /// `fields` has them, as Logstash's event constructor does.
    pub fn new(mut fields: Object) -> Event {
        if !fields.contains_key(TIMESTAMP) {
            fields.push_unchecked(Text::from_static(TIMESTAMP), Value::Timestamp(now()));
        }
        if !fields.contains_key(VERSION) {
            fields.push_unchecked(
                Text::from_static(VERSION),
                Value::String(Text::from_static("1")),
            );
        }
        Event {
            fields: OnceLock::from(Value::Object(fields)),
            metadata: OnceLock::from(Value::Object(Object::new())),
            finalizers: Finalizers::default(),
            origin: Origin::Tree,
        }
    }

    /// An event carrying `span`, with `[@metadata][signal]` set to `traces`. Its fields are
    /// built from it on first access; outputs that understand spans read [`Event::span`]
    /// instead while it is there.
    pub fn from_span(span: Span) -> Event {
        Event {
            fields: OnceLock::new(),
            metadata: OnceLock::new(),
            finalizers: Finalizers::default(),
            origin: Origin::Span(Box::new(span)),
        }
    }

    /// An event whose fields and metadata `raw` stands for, built on first access; outputs
    /// that write JSON write it from `raw` while nothing has changed the fields
    /// ([`json::encode_event`]).
    pub fn from_raw_json(raw: RawJson) -> Event {
        Event {
            fields: OnceLock::new(),
            metadata: OnceLock::new(),
            finalizers: Finalizers::default(),
            origin: Origin::Json(Box::new(raw)),
        }
    }

    /// The span this event came from, unless a filter has changed its fields since.
    pub fn span(&self) -> Option<&Span> {
        match &self.origin {
            Origin::Span(span) => Some(span),
            _ => None,
        }
    }

    /// The JSON this event came from, unless a filter has changed its fields since.
    pub fn raw_json(&self) -> Option<&RawJson> {
        match &self.origin {
            Origin::Json(raw) => Some(raw),
            _ => None,
        }
    }

    fn tree(&self) -> &Value {
        self.fields.get_or_init(|| match &self.origin {
            Origin::Span(span) => Value::Object(span_document(span)),
            Origin::Json(raw) => Value::Object(raw.fields()),
            Origin::Tree => unreachable!("a tree event is made with its fields"),
        })
    }

    fn metadata_tree(&self) -> &Value {
        self.metadata.get_or_init(|| match &self.origin {
            Origin::Span(_) => span_metadata(),
            Origin::Json(raw) => raw.metadata(),
            Origin::Tree => unreachable!("a tree event is made with its metadata"),
        })
    }

    fn metadata_tree_mut(&mut self) -> &mut Value {
        self.metadata_tree();
        self.metadata.get_mut().expect("built just above")
    }

    /// Whether the field tree exists yet: what the tests of the span's lazy paths check.
    #[cfg(test)]
    pub(crate) fn fields_built(&self) -> bool {
        self.fields.get().is_some()
    }

    /// The fields for writing: built if need be, and no longer backed by their origin
    /// (whose metadata is built first, as it is made from the origin too).
    fn tree_mut(&mut self) -> &mut Value {
        self.tree();
        if !matches!(self.origin, Origin::Tree) {
            self.metadata_tree();
            self.origin = Origin::Tree;
        }
        self.fields.get_mut().expect("built just above")
    }

    /// An event whose `message` is `line`, stamped now.
    pub fn from_message(line: Text) -> Event {
        let mut fields = Object::with_capacity(2);
        fields.push_unchecked(Text::from_static("message"), Value::String(line));
        Event::new(fields)
    }

    pub fn fields(&self) -> &Object {
        match self.tree() {
            Value::Object(o) => o,
            _ => unreachable!("event fields are always an object"),
        }
    }

    pub fn fields_mut(&mut self) -> &mut Object {
        match self.tree_mut() {
            Value::Object(o) => o,
            _ => unreachable!("event fields are always an object"),
        }
    }

    pub fn metadata(&self) -> &Object {
        match self.metadata_tree() {
            Value::Object(o) => o,
            _ => unreachable!("event metadata is always an object"),
        }
    }

    pub fn metadata_mut(&mut self) -> &mut Object {
        match self.metadata_tree_mut() {
            Value::Object(o) => o,
            _ => unreachable!("event metadata is always an object"),
        }
    }

    pub fn get(&self, field: &FieldRef) -> Option<&Value> {
        let mut node = if field.is_metadata() {
            self.metadata_tree()
        } else {
            self.tree()
        };
        for segment in field.path() {
            node = child(node, segment)?;
        }
        Some(node)
    }

    /// What [`Event::get`] gives, but answered from the typed span when the span can
    /// ([`document::lookup`]): a conditional or a sprintf reference naming a span's
    /// `operationName`, ids, times, service or a tag by position does not build its
    /// document.
    pub fn read(&self, field: &FieldRef) -> Option<Cow<'_, Value>> {
        if let (Origin::Span(span), None) = (&self.origin, self.fields.get()) {
            if !field.is_metadata() {
                match document::lookup(span, field.path()) {
                    document::Lookup::Found(value) => return Some(Cow::Owned(value)),
                    document::Lookup::Absent => return None,
                    document::Lookup::Unknown => {}
                }
            }
        }
        self.get(field).map(Cow::Borrowed)
    }

    pub fn get_mut(&mut self, field: &FieldRef) -> Option<&mut Value> {
        let mut node = if field.is_metadata() {
            self.metadata_tree_mut()
        } else {
            self.tree_mut()
        };
        for segment in field.path() {
            node = child_mut(node, segment)?;
        }
        Some(node)
    }

    pub fn contains(&self, field: &FieldRef) -> bool {
        self.read(field).is_some()
    }

    /// Sets `field`, creating the objects on its path. A scalar standing where the path needs
    /// an object is replaced by one, as a later write wins in Logstash too.
    pub fn insert(&mut self, field: &FieldRef, value: Value) -> Option<Value> {
        let root = if field.is_metadata() {
            self.metadata_tree_mut()
        } else {
            self.tree_mut()
        };
        insert_at(root, field.path(), value)
    }

    pub fn remove(&mut self, field: &FieldRef) -> Option<Value> {
        let root = if field.is_metadata() {
            self.metadata_tree_mut()
        } else {
            self.tree_mut()
        };
        let (last, parents) = field.path().split_last()?;
        let mut node = root;
        for segment in parents {
            node = child_mut(node, segment)?;
        }
        match node {
            Value::Object(o) => o.remove(last),
            Value::Array(items) => array_index(items.len(), last).map(|i| items.remove(i)),
            _ => None,
        }
    }

    pub fn timestamp(&self) -> Option<Timestamp> {
        match &self.origin {
            // A span document has no `@timestamp`; no need to build it to find out.
            Origin::Span(_) => return None,
            Origin::Json(raw) => return Some(raw.timestamp()),
            Origin::Tree => {}
        }
        match self.fields().get(TIMESTAMP) {
            Some(Value::Timestamp(ts)) => Some(*ts),
            _ => None,
        }
    }

    pub fn set_timestamp(&mut self, ts: Timestamp) {
        self.fields_mut()
            .insert(Text::from_static(TIMESTAMP), Value::Timestamp(ts));
    }

    pub fn has_tag(&self, tag: &str) -> bool {
        has_tag(self.fields(), tag)
    }

    /// Adds `tag` to `tags` unless it is already there (a string `tags` becomes an array).
    pub fn add_tag(&mut self, tag: Text) {
        // Checked before taking the fields for writing, which would drop their origin.
        if !self.has_tag(&tag) {
            add_tag(self.fields_mut(), tag);
        }
    }

    pub fn remove_tag(&mut self, tag: &str) {
        match self.fields_mut().get_mut(TAGS) {
            Some(Value::Array(items)) => items.retain(|t| t.as_str() != Some(tag)),
            Some(Value::String(t)) if t.as_str() == tag => {
                self.fields_mut().remove(TAGS);
            }
            _ => {}
        }
    }

    pub fn finalizers_mut(&mut self) -> &mut Finalizers {
        &mut self.finalizers
    }

    pub fn set_finalizers(&mut self, finalizers: Finalizers) {
        self.finalizers = finalizers;
    }

    pub fn take_finalizers(&mut self) -> Finalizers {
        std::mem::take(&mut self.finalizers)
    }

    /// Records how this event's journey ended (see [`crate::pipeline::receipt`]).
    pub fn finalize(&mut self, outcome: Delivery) {
        self.finalizers.finalize(outcome);
    }
}

fn has_tag(fields: &Object, tag: &str) -> bool {
    match fields.get(TAGS) {
        Some(Value::Array(tags)) => tags.iter().any(|t| t.as_str() == Some(tag)),
        Some(Value::String(t)) => t.as_str() == tag,
        _ => false,
    }
}

/// [`Event::add_tag`] on an event's fields.
fn add_tag(fields: &mut Object, tag: Text) {
    if has_tag(fields, &tag) {
        return;
    }
    let tags = fields.get_or_insert_with(&Text::from_static(TAGS), || Value::Array(Vec::new()));
    match tags {
        Value::Array(items) => items.push(Value::String(tag)),
        other => {
            let previous = std::mem::replace(other, Value::Null);
            *other = Value::Array(vec![previous, Value::String(tag)]);
        }
    }
}

/// [`Event::insert`] below `root` (the fields or the metadata) along `path`.
fn insert_at(root: &mut Value, path: &[Text], value: Value) -> Option<Value> {
    let Some((last, parents)) = path.split_last() else {
        // Only `[@metadata]` itself has an empty path: it must stay an object.
        return match value {
            Value::Object(_) => Some(std::mem::replace(root, value)),
            _ => None,
        };
    };
    let mut node = root;
    for segment in parents {
        node = child_or_object(node, segment);
    }
    match node {
        Value::Array(items) => match array_index(items.len(), last) {
            Some(i) => Some(std::mem::replace(&mut items[i], value)),
            None => None,
        },
        other => {
            if !matches!(other, Value::Object(_)) {
                *other = Value::Object(Object::new());
            }
            other
                .as_object_mut()
                .and_then(|o| o.insert(last.clone(), value))
        }
    }
}

/// The metadata every span event starts with: its signal, so a pipeline can route spans
/// apart without reading (and so building) their fields.
fn span_metadata() -> Value {
    let mut metadata = Object::with_capacity(1);
    metadata.push_unchecked(
        Text::from_static(SIGNAL),
        Value::String(Text::from_static("traces")),
    );
    Value::Object(metadata)
}

/// The current time, truncated to microseconds so it round-trips through every output.
pub fn now() -> Timestamp {
    use chrono::{DurationRound, TimeDelta};
    let now = chrono::Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}

/// The position `segment` names in an array of `len` (negative counts from the end).
pub(crate) fn array_index(len: usize, segment: &str) -> Option<usize> {
    let i: i64 = segment.parse().ok()?;
    let i = if i < 0 { len as i64 + i } else { i };
    (0..len as i64).contains(&i).then_some(i as usize)
}

fn child<'a>(node: &'a Value, segment: &str) -> Option<&'a Value> {
    match node {
        Value::Object(o) => o.get(segment),
        Value::Array(items) => items.get(array_index(items.len(), segment)?),
        _ => None,
    }
}

fn child_mut<'a>(node: &'a mut Value, segment: &str) -> Option<&'a mut Value> {
    match node {
        Value::Object(o) => o.get_mut(segment),
        Value::Array(items) => {
            let i = array_index(items.len(), segment)?;
            items.get_mut(i)
        }
        _ => None,
    }
}

fn child_or_object<'a>(node: &'a mut Value, segment: &Text) -> &'a mut Value {
    let index = match &*node {
        Value::Array(items) => array_index(items.len(), segment),
        _ => None,
    };
    if let Some(i) = index {
        return match node {
            Value::Array(items) => &mut items[i],
            _ => unreachable!(),
        };
    }
    if !matches!(node, Value::Object(_)) {
        *node = Value::Object(Object::new());
    }
    match node {
        Value::Object(o) => o.get_or_insert_with(segment, || Value::Object(Object::new())),
        _ => unreachable!(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(s: &str) -> FieldRef {
        FieldRef::parse(s).unwrap()
    }

    #[test]
    fn nested_set_get_remove() {
        let mut e = Event::new(Object::new());
        assert!(e.timestamp().is_some());
        e.insert(&field("[log][file][path]"), "/var/log/a".into());
        assert_eq!(
            e.get(&field("[log][file][path]")).and_then(Value::as_str),
            Some("/var/log/a")
        );
        assert_eq!(
            e.remove(&field("[log][file][path]")),
            Some("/var/log/a".into())
        );
        assert!(e
            .get(&field("[log][file]"))
            .unwrap()
            .as_object()
            .unwrap()
            .is_empty());
        assert_eq!(e.remove(&field("[missing][x]")), None);
    }

    #[test]
    fn metadata_is_separate_from_fields() {
        let mut e = Event::new(Object::new());
        e.insert(&field("[@metadata][beat]"), "filebeat".into());
        assert!(!e.fields().contains_key("@metadata"));
        assert_eq!(e.metadata().get("beat"), Some(&"filebeat".into()));
        assert!(e.get(&field("[@metadata]")).unwrap().as_object().is_some());
    }

    #[test]
    fn array_indices_read_and_write() {
        let mut e = Event::new(Object::new());
        e.insert(
            &field("list"),
            Value::Array(vec![1.into(), 2.into(), 3.into()]),
        );
        assert_eq!(e.get(&field("[list][0]")), Some(&Value::Integer(1)));
        assert_eq!(e.get(&field("[list][-1]")), Some(&Value::Integer(3)));
        assert_eq!(e.get(&field("[list][3]")), None);
        e.insert(&field("[list][1]"), 20.into());
        assert_eq!(e.get(&field("[list][1]")), Some(&Value::Integer(20)));
    }

    #[test]
    fn tags_are_a_set_in_an_array() {
        let mut e = Event::new(Object::new());
        e.add_tag("error".into());
        e.add_tag("error".into());
        e.add_tag("multiline".into());
        assert_eq!(
            e.get(&field("tags")),
            Some(&Value::Array(vec!["error".into(), "multiline".into()]))
        );
        e.remove_tag("error");
        assert!(!e.has_tag("error"));
        assert!(e.has_tag("multiline"));
    }

    #[test]
    fn a_string_tags_field_becomes_an_array() {
        let mut e = Event::new(Object::new());
        e.insert(&field("tags"), "a".into());
        e.add_tag("b".into());
        assert_eq!(
            e.get(&field("tags")),
            Some(&Value::Array(vec!["a".into(), "b".into()]))
        );
    }

    #[test]
    fn writing_through_a_scalar_replaces_it() {
        let mut e = Event::new(Object::new());
        e.insert(&field("a"), "text".into());
        e.insert(&field("[a][b]"), 1.into());
        assert_eq!(e.get(&field("[a][b]")), Some(&Value::Integer(1)));
    }
}
