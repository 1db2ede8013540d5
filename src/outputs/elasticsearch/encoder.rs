//! The bulk encoder: events → `_bulk` NDJSON, written straight from the event tree.
//!
//! Each item is an action line (`{"index":{"_index":…,"_id":…}}`) and, except for `delete`, a
//! source line produced by [`json::encode_event`] (never `@metadata`). Items are appended to
//! one reusable buffer; no intermediate JSON value is built and strings are copied once, from
//! their `Bytes` into the buffer. The buffer is then frozen and cut into request bodies of at
//! most the byte limit by slicing, so the first attempt of a batch sends the bytes it encoded
//! without copying them again; only items that are retried are copied into a new body.

use bytes::{Bytes, BytesMut};

use crate::event::{json, Event};

/// What a bulk item asks Elasticsearch to do (Logstash's `action`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Index,
    Create,
    /// A partial update: the event is sent as `{"doc": …}` (with `doc_as_upsert` when set).
    Update,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Index => "index",
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }

    /// Parses Logstash's action names.
    pub fn parse(name: &str) -> Option<Action> {
        match name {
            "index" => Some(Action::Index),
            "create" => Some(Action::Create),
            "update" => Some(Action::Update),
            "delete" => Some(Action::Delete),
            _ => None,
        }
    }
}

/// An item's `_id`.
#[derive(Clone, Copy, Debug, Default)]
pub enum Id<'a> {
    /// Elasticsearch picks one.
    #[default]
    Auto,
    Given(&'a str),
    /// A hash of the encoded source: the same event always gets the same `_id`, so a retry
    /// of a `create` that got through is answered 409 instead of writing a duplicate.
    ContentHash,
}

/// Where one item goes: the parts of its action line.
#[derive(Clone, Debug, Default)]
pub struct ItemTarget<'a> {
    pub index: &'a str,
    pub id: Id<'a>,
    pub routing: Option<&'a str>,
    pub pipeline: Option<&'a str>,
}

/// Appends one bulk item (action line, then source line unless `delete`) to `out`.
pub fn encode_item(
    out: &mut Vec<u8>,
    action: Action,
    doc_as_upsert: bool,
    target: &ItemTarget<'_>,
    event: &Event,
) {
    encode_item_with(out, action, doc_as_upsert, target, |out| {
        json::encode_event(event, out)
    });
}

/// [`encode_item`] with the source document written by `source` (a schema of its own, such as
/// Jaeger's span documents) instead of the event's fields.
pub fn encode_item_with(
    out: &mut Vec<u8>,
    action: Action,
    doc_as_upsert: bool,
    target: &ItemTarget<'_>,
    source: impl FnOnce(&mut Vec<u8>),
) {
    out.extend_from_slice(b"{\"");
    out.extend_from_slice(action.as_str().as_bytes());
    out.extend_from_slice(b"\":{\"_index\":");
    json::encode_str(target.index, out);
    // Where the content hash goes once the source it is taken over has been written.
    let mut hash_at = None;
    match target.id {
        Id::Auto => {}
        Id::Given(id) => {
            out.extend_from_slice(b",\"_id\":");
            json::encode_str(id, out);
        }
        Id::ContentHash => {
            out.extend_from_slice(b",\"_id\":\"");
            hash_at = Some(out.len());
            out.extend_from_slice(&[b'0'; 32]);
            out.push(b'"');
        }
    }
    if let Some(routing) = target.routing {
        out.extend_from_slice(b",\"routing\":");
        json::encode_str(routing, out);
    }
    if let Some(pipeline) = target.pipeline {
        out.extend_from_slice(b",\"pipeline\":");
        json::encode_str(pipeline, out);
    }
    out.extend_from_slice(b"}}\n");
    match action {
        Action::Delete => {}
        Action::Update => {
            out.extend_from_slice(b"{\"doc\":");
            source(out);
            if doc_as_upsert {
                out.extend_from_slice(b",\"doc_as_upsert\":true");
            }
            out.extend_from_slice(b"}\n");
        }
        Action::Index | Action::Create => {
            let start = out.len();
            source(out);
            if let Some(at) = hash_at {
                let hex = hash_hex(&out[start..]);
                out[at..at + 32].copy_from_slice(&hex);
            }
            out.push(b'\n');
        }
    }
}

/// 128 bits of xxh3 as 32 lowercase hex digits: a stable, well-spread `_id`.
pub fn hash_hex(bytes: &[u8]) -> [u8; 32] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let h = xxhash_rust::xxh3::xxh3_128(bytes);
    let mut out = [0u8; 32];
    for (i, b) in h.to_be_bytes().iter().enumerate() {
        out[2 * i] = HEX[(b >> 4) as usize];
        out[2 * i + 1] = HEX[(b & 0xf) as usize];
    }
    out
}

/// A buffer that collects encoded items and hands out each item's bytes.
///
/// Reuse one per batch task: [`BulkBuffer::finish`] leaves the allocation behind when every
/// slice of the previous batch has been dropped.
#[derive(Default)]
pub struct BulkBuffer {
    buf: Vec<u8>,
    ends: Vec<usize>,
    /// The size of the last batch: each batch's bytes leave with it (as `Bytes`), so the next
    /// one reserves this much up front instead of growing by doubling and copying.
    last_len: usize,
}

impl BulkBuffer {
    /// Appends one item; returns its encoded length.
    pub fn push(
        &mut self,
        action: Action,
        doc_as_upsert: bool,
        target: &ItemTarget<'_>,
        event: &Event,
    ) -> usize {
        self.push_with(action, doc_as_upsert, target, |out| {
            json::encode_event(event, out)
        })
    }

    /// Appends one item whose source `source` writes; returns its encoded length.
    pub fn push_with(
        &mut self,
        action: Action,
        doc_as_upsert: bool,
        target: &ItemTarget<'_>,
        source: impl FnOnce(&mut Vec<u8>),
    ) -> usize {
        if self.buf.capacity() == 0 {
            self.buf.reserve(self.last_len);
        }
        let start = self.buf.len();
        encode_item_with(&mut self.buf, action, doc_as_upsert, target, source);
        self.ends.push(self.buf.len());
        self.buf.len() - start
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Freezes what was pushed into one shared buffer with the items' bounds.
    pub fn finish(&mut self) -> Encoded {
        self.last_len = self.buf.len();
        let all = Bytes::from(std::mem::take(&mut self.buf));
        Encoded {
            all,
            ends: std::mem::take(&mut self.ends),
        }
    }
}

/// A batch's encoded items, one allocation shared by every request body cut from it.
pub struct Encoded {
    all: Bytes,
    ends: Vec<usize>,
}

impl Encoded {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// All items' bytes together.
    pub fn size_total(&self) -> usize {
        self.all.len()
    }

    fn bounds(&self, i: usize) -> (usize, usize) {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        (start, self.ends[i])
    }

    /// The encoded size of item `i`.
    pub fn size(&self, i: usize) -> usize {
        let (start, end) = self.bounds(i);
        end - start
    }

    /// A request body holding `items` (indices in ascending order): a slice of the shared
    /// buffer when they are consecutive, as on a first attempt; a copy otherwise (a retry of
    /// some items only).
    pub fn body(&self, items: &[usize]) -> Bytes {
        let (Some(&first), Some(&last)) = (items.first(), items.last()) else {
            return Bytes::new();
        };
        if last - first + 1 == items.len() {
            return self.all.slice(self.bounds(first).0..self.bounds(last).1);
        }
        let total = items.iter().map(|&i| self.size(i)).sum();
        let mut body = BytesMut::with_capacity(total);
        for &i in items {
            let (start, end) = self.bounds(i);
            body.extend_from_slice(&self.all[start..end]);
        }
        body.freeze()
    }
}

/// Groups items into request bodies of at most `limit` bytes (an item larger than the limit
/// travels alone). Returns, per request, the range of positions in `sizes`.
pub fn split(sizes: impl Iterator<Item = usize>, limit: usize) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    let mut i = 0;
    for size in sizes {
        if i > start && bytes + size > limit {
            ranges.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += size;
        i += 1;
    }
    if i > start {
        ranges.push(start..i);
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{FieldRef, Object, Text, Value};

    fn event(message: &str) -> Event {
        let mut fields = Object::new();
        fields.insert(Text::from("message"), Value::from(message));
        let mut e = Event::new(fields);
        e.insert(&FieldRef::parse("[@metadata][beat]").unwrap(), "fb".into());
        e
    }

    fn text(b: &[u8]) -> String {
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[test]
    fn index_item_has_action_and_source_without_metadata() {
        let mut out = Vec::new();
        let target = ItemTarget {
            index: "logs-2026.11.24",
            id: Id::Given("a\"b"),
            routing: Some("r"),
            pipeline: None,
        };
        encode_item(&mut out, Action::Index, false, &target, &event("hi\n"));
        let s = text(&out);
        let mut lines = s.split_terminator('\n');
        assert_eq!(
            lines.next().unwrap(),
            r#"{"index":{"_index":"logs-2026.11.24","_id":"a\"b","routing":"r"}}"#
        );
        let source = lines.next().unwrap();
        assert!(
            source.starts_with(r#"{"message":"hi\n","@timestamp":""#),
            "{source}"
        );
        assert!(!s.contains("@metadata") && !s.contains("fb"));
        assert!(lines.next().is_none());
    }

    #[test]
    fn delete_has_no_source_and_update_wraps_doc() {
        let target = ItemTarget {
            index: "i",
            id: Id::Given("1"),
            ..Default::default()
        };
        let mut out = Vec::new();
        encode_item(&mut out, Action::Delete, false, &target, &event("x"));
        assert_eq!(
            text(&out),
            "{\"delete\":{\"_index\":\"i\",\"_id\":\"1\"}}\n"
        );
        out.clear();
        encode_item(&mut out, Action::Update, true, &target, &event("x"));
        let s = text(&out);
        let source = s.lines().nth(1).unwrap();
        assert!(source.starts_with(r#"{"doc":{"message":"x""#));
        assert!(source.ends_with(r#"},"doc_as_upsert":true}"#));
    }

    #[test]
    fn content_hash_ids_are_deterministic_and_follow_the_source() {
        let target = ItemTarget {
            index: "i",
            id: Id::ContentHash,
            ..Default::default()
        };
        let a = event("same");
        let mut b = event("same");
        b.set_timestamp(a.timestamp().unwrap());
        let (mut x, mut y, mut z) = (Vec::new(), Vec::new(), Vec::new());
        encode_item(&mut x, Action::Create, false, &target, &a);
        encode_item(&mut y, Action::Create, false, &target, &b);
        encode_item(&mut z, Action::Create, false, &target, &event("other"));
        assert_eq!(x, y);
        let id = |v: &[u8]| text(v).split('"').nth(9).unwrap().to_owned();
        assert_eq!(id(&x).len(), 32);
        assert_ne!(id(&x), "0".repeat(32));
        assert_ne!(id(&x), id(&z));
        let source = text(&x).lines().nth(1).unwrap().to_owned();
        assert_eq!(id(&x).as_bytes(), hash_hex(source.as_bytes()));
    }

    #[test]
    fn split_respects_the_limit_and_sends_a_huge_item_alone() {
        assert_eq!(split([4, 4, 4].into_iter(), 8), vec![0..2, 2..3]);
        assert_eq!(split([2, 20, 2].into_iter(), 8), vec![0..1, 1..2, 2..3]);
        assert_eq!(
            split(std::iter::empty(), 8),
            Vec::<std::ops::Range<usize>>::new()
        );
        assert_eq!(split([8, 8].into_iter(), 8), vec![0..1, 1..2]);
    }

    #[test]
    fn buffer_hands_out_items_and_pops() {
        let mut b = BulkBuffer::default();
        let t = ItemTarget {
            index: "i",
            ..Default::default()
        };
        let n1 = b.push(Action::Create, false, &t, &event("a"));
        b.push(Action::Create, false, &t, &event("c"));
        b.push(Action::Create, false, &t, &event("d"));
        let items = b.finish();
        assert!(b.is_empty());
        assert_eq!(items.len(), 3);
        assert_eq!(items.size(0), n1);
        let whole = items.body(&[0, 1, 2]);
        let sparse = items.body(&[0, 2]);
        assert!(text(&whole).contains("\"c\""));
        assert_eq!(sparse.len(), whole.len() - items.size(1));
        assert!(text(&sparse).contains("\"d\"") && !text(&sparse).contains("\"c\""));
        // Consecutive items are a slice of the shared buffer, not a copy.
        let tail = items.body(&[1, 2]);
        assert_eq!(tail.as_ptr(), whole[items.size(0)..].as_ptr());
    }
}
