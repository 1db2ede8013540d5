//! [`RawJson`]: an event's fields kept as the JSON object they arrived in, plus what the input
//! adds, until something reads them.
//!
//! Most Beats events go from the socket to Elasticsearch untouched. Building each one's tree
//! (two dozen members, ten allocations) only for the bulk encoder to walk it and free it is
//! most of what such an event costs. A `RawJson` holds the checked document
//! ([`super::json_check`]) and a small overlay: the parsed `@timestamp`, a tag, metadata
//! fields. The event builds its tree from it on first access, exactly as an eagerly built
//! event's; until then [`RawJson::write_fields`] writes the fields straight from the
//! document's bytes, the same bytes [`super::json::encode_object`] would write from the tree
//! (the document is written as is when it is canonical, with `@metadata` cut out, the
//! timestamp re-formatted if need be, and `@version` and `tags` appended).

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;

use super::json::{decode_object, encode_str, encode_value};
use super::json_check::{Checked, TopKey};
use super::{add_tag, insert_at, FieldRef, Object, Text, Timestamp, Value, TIMESTAMP, VERSION};

const METADATA: &str = "@metadata";

/// What an input adds to every JSON object it receives; shared by its events.
#[derive(Debug, Default)]
pub struct Overlay {
    /// Added to `tags` as [`super::Event::add_tag`] would.
    pub tag: Option<Text>,
    /// Set in the metadata, after the document's own `@metadata` object.
    pub metadata: Vec<(FieldRef, Value)>,
}

/// A JSON object standing for an event whose tree is not built yet; see the module doc.
#[derive(Clone, Debug)]
pub struct RawJson {
    document: Bytes,
    timestamp: Timestamp,
    /// The value of `@timestamp` in `document`, when it is not already what the encoder
    /// writes for `timestamp`.
    reformat_timestamp: Option<Range<usize>>,
    /// The `@metadata` member (key and value) and its value.
    metadata: Option<(Range<usize>, Range<usize>)>,
    has_version: bool,
    /// Whether `document` with the overlay is exactly what the encoder writes from the tree.
    writable: bool,
    overlay: Arc<Overlay>,
}

impl RawJson {
    /// The event `document` (checked as `checked`) stands for: its fields as
    /// [`decode_object`] reads them, `@metadata` moved to the metadata, `@timestamp` parsed,
    /// `@version` added unless present, then `overlay` applied. `None` when that takes the
    /// tree to say: `@timestamp` missing, not an RFC 3339 string without escapes, or any of
    /// the keys above repeated or spelled with escapes.
    pub fn new(document: &Bytes, checked: &Checked, overlay: Arc<Overlay>) -> Option<RawJson> {
        if checked.unlisted_top_key {
            return None;
        }
        let single = |key| match checked.member(key) {
            Some(m) if m.repeated() => Err(()),
            found => Ok(found),
        };
        let timestamp_at = single(TopKey::Timestamp).ok()??;
        let metadata = single(TopKey::Metadata).ok()?;
        let version = single(TopKey::Version).ok()?;
        let tags = single(TopKey::Tags).ok()?;
        let quoted = &document[timestamp_at.value()];
        let text = quoted.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
        if text.contains(&b'\\') {
            return None;
        }
        let text = std::str::from_utf8(text).ok()?;
        let timestamp = parse_timestamp(text)?;
        Some(RawJson {
            reformat_timestamp: (!written_as_is(text)).then(|| timestamp_at.value()),
            timestamp,
            metadata: metadata.map(|m| (m.member(), m.value())),
            has_version: version.is_some(),
            writable: checked.canonical && (overlay.tag.is_none() || tags.is_none()),
            overlay,
            document: document.clone(),
        })
    }

    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    /// The event's fields, as the eagerly built event has them.
    pub(super) fn fields(&self) -> Object {
        let mut fields = decode_object(&self.document).expect("checked when made");
        if self.metadata.is_some() {
            fields.remove(METADATA);
        }
        if let Some(slot) = fields.get_mut(TIMESTAMP) {
            *slot = Value::Timestamp(self.timestamp);
        }
        if !self.has_version {
            fields.push_unchecked(
                Text::from_static(VERSION),
                Value::String(Text::from_static("1")),
            );
        }
        if let Some(tag) = &self.overlay.tag {
            add_tag(&mut fields, tag.clone());
        }
        fields
    }

    /// The event's metadata: the document's `@metadata` object, then the overlay's fields.
    pub(super) fn metadata(&self) -> Value {
        let own = match &self.metadata {
            Some((_, value)) if self.document[value.start] == b'{' => {
                decode_object(&self.document.slice(value.clone())).expect("checked when made")
            }
            _ => Object::new(),
        };
        let mut metadata = Value::Object(own);
        for (field, value) in &self.overlay.metadata {
            insert_at(&mut metadata, field.path(), value.clone());
        }
        metadata
    }

    /// Appends the fields as [`super::json::encode_object`] writes them from the tree; false,
    /// with nothing written, when only the tree can say (a document that is not canonical, or
    /// `tags` to merge a tag into).
    pub fn write_fields(&self, out: &mut Vec<u8>) -> bool {
        if !self.writable {
            return false;
        }
        let doc = &self.document[..];
        // Canonical: no whitespace, so the braces are the first and last bytes and commas
        // sit right next to the members they separate.
        let body_end = doc.len() - 1;
        let cut = self.metadata.as_ref().map(|(member, _)| {
            if doc[member.start - 1] == b',' {
                member.start - 1..member.end
            } else if member.end < body_end {
                member.start..member.end + 1
            } else {
                member.clone()
            }
        });
        let open = out.len();
        out.push(b'{');
        let mut from = 1;
        let mut edits = [
            cut.map(|c| (c, false)),
            self.reformat_timestamp.clone().map(|t| (t, true)),
        ];
        edits.sort_by_key(|e| e.as_ref().map(|(range, _)| range.start));
        for (range, is_timestamp) in edits.into_iter().flatten() {
            out.extend_from_slice(&doc[from..range.start]);
            if is_timestamp {
                encode_value(&Value::Timestamp(self.timestamp), out);
            }
            from = range.end;
        }
        out.extend_from_slice(&doc[from..body_end]);
        let mut empty = out.len() == open + 1;
        if !self.has_version {
            out.extend_from_slice(if empty {
                b"\"@version\":\"1\""
            } else {
                b",\"@version\":\"1\""
            });
            empty = false;
        }
        if let Some(tag) = &self.overlay.tag {
            out.extend_from_slice(if empty { b"\"tags\":[" } else { b",\"tags\":[" });
            encode_str(tag, out);
            out.push(b']');
        }
        out.push(b'}');
        true
    }
}

/// `@timestamp` as RFC 3339, the form Beats send read directly (chrono's general parser
/// costs more than the rest of an event's overlay). Lazy and tree-built Beats events both
/// read it here, so they agree.
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    if written_as_is(text) {
        if let Some(ts) = parse_utc_millis(text.as_bytes()) {
            return Some(ts);
        }
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|ts| ts.to_utc())
}

/// `YYYY-MM-DDTHH:MM:SS.fffZ` (length and `T`, `.`, `Z` already checked); `None` for anything
/// else, which the general parser then judges.
fn parse_utc_millis(b: &[u8]) -> Option<Timestamp> {
    use chrono::{NaiveDate, NaiveTime};
    if b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let number = |at: Range<usize>| {
        b[at].iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, number(8..10)?)?;
    let time = NaiveTime::from_hms_milli_opt(
        number(11..13)?,
        number(14..16)?,
        number(17..19)?,
        number(20..23)?,
    )?;
    Some(date.and_time(time).and_utc())
}

/// Whether the encoder writes the timestamp parsed from `text` as `text` itself: UTC with
/// milliseconds, as Beats send it (`2026-11-24T16:17:54.123Z`). A leap second (`:60`) is
/// parsed into the second before, so it is written differently.
fn written_as_is(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 24 && b[10] == b'T' && b[19] == b'.' && b[23] == b'Z' && &b[17..19] != b"60"
}
