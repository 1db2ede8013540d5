//! Reading dead letters back, oldest first: for `sluice dlq` and the `dead_letter_queue` input.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde::Deserialize;

use super::{scan, segments};

/// One record as written, with the event still as the JSON it would have been sent as.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct DeadLetter {
    /// When the record was written (RFC 3339, UTC).
    pub time: String,
    /// The id of the output that gave up.
    pub plugin: String,
    /// What kind of output that is (absent from records of the first format: empty).
    #[serde(default)]
    pub plugin_type: String,
    pub index: String,
    pub action: String,
    pub status: u16,
    pub error_type: String,
    pub reason: String,
    /// The event's `@metadata` as a JSON object.
    #[serde(skip)]
    pub metadata: Bytes,
    /// The event's fields as a JSON object.
    #[serde(skip)]
    pub event: Bytes,
    /// The segment the record came from (its sequence number).
    #[serde(skip)]
    pub segment: u64,
    /// The offset in that segment just past this record: where a reader resumes after it.
    #[serde(skip)]
    pub end: u64,
}

/// The whole records of one segment from some offset on.
pub struct SegmentRead {
    pub records: Vec<DeadLetter>,
    /// The offset just past the last whole record (or the segment header).
    pub valid_len: u64,
    /// Why reading stopped before the end of the file, if it did: a torn or corrupt record,
    /// or (in a segment still being written) one not complete yet.
    pub torn: Option<&'static str>,
}

/// Reads segment `seq` at `path` from offset `from`: 0, or the `end` of one of its records.
/// A record whose checksum holds but whose payload is not what the writer writes is an error.
pub(super) fn read_segment(path: &Path, seq: u64, from: u64) -> io::Result<SegmentRead> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(from))?;
    let mut data = Vec::new();
    file.read_to_end(&mut data)?;
    decode_segment(&Bytes::from(data), seq, from).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", path.display()),
        )
    })
}

/// The records in `data`, the bytes of segment `seq` from offset `from` on.
pub fn decode_segment(data: &Bytes, seq: u64, from: u64) -> Result<SegmentRead, String> {
    let mut records = Vec::new();
    let mut bad = None;
    let found = scan(data, from as usize, |payload, end| {
        if bad.is_some() {
            return;
        }
        match decode(data, payload, seq, end as u64) {
            Ok(r) => records.push(r),
            Err(e) => bad = Some(e),
        }
    });
    if let Some(e) = bad {
        return Err(e);
    }
    Ok(SegmentRead {
        records,
        valid_len: found.valid_len as u64,
        torn: found.torn,
    })
}

/// Iterates over the records of one pipeline's queue; a segment is read whole when reached.
pub struct DlqReader {
    pending: std::vec::IntoIter<(u64, PathBuf)>,
    current: std::vec::IntoIter<DeadLetter>,
    skipped: usize,
}

impl DlqReader {
    /// Opens `<path>/<pipeline_id>/`.
    pub fn open(path: &Path, pipeline_id: &str) -> io::Result<DlqReader> {
        let dir = path.join(pipeline_id);
        Ok(DlqReader {
            pending: segments(&dir)?.into_iter(),
            current: Vec::new().into_iter(),
            skipped: 0,
        })
    }

    /// How many segment tails were skipped as torn or corrupt so far.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    fn load(&mut self, seq: u64, path: &Path) -> io::Result<()> {
        let read = read_segment(path, seq, 0)?;
        if let Some(why) = read.torn {
            self.skipped += 1;
            tracing::warn!(
                segment = %path.display(),
                offset = read.valid_len,
                "dead-letter queue: {why}; the rest of this segment is skipped"
            );
        }
        self.current = read.records.into_iter();
        Ok(())
    }
}

fn decode(data: &Bytes, payload: &[u8], seq: u64, end: u64) -> Result<DeadLetter, String> {
    let mut lines = payload.splitn(3, |&b| b == b'\n');
    let (Some(header), Some(metadata), Some(event)) = (lines.next(), lines.next(), lines.next())
    else {
        return Err("a record without its three lines".into());
    };
    let mut record: DeadLetter =
        serde_json::from_slice(header).map_err(|e| format!("record header: {e}"))?;
    record.metadata = data.slice_ref(metadata);
    record.event = data.slice_ref(event);
    record.segment = seq;
    record.end = end;
    Ok(record)
}

impl Iterator for DlqReader {
    type Item = io::Result<DeadLetter>;

    fn next(&mut self) -> Option<io::Result<DeadLetter>> {
        loop {
            if let Some(record) = self.current.next() {
                return Some(Ok(record));
            }
            let (seq, path) = self.pending.next()?;
            match self.load(seq, &path) {
                Ok(()) => {}
                // Deleted by `drop_older` since we listed it: nothing to read there.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use crate::event::{Event, FieldRef, Object, Text, Value};
    use std::io::Write;

    fn event(n: i64) -> Event {
        let mut fields = Object::new();
        fields.insert(Text::from("n"), Value::Integer(n));
        fields.insert(Text::from("message"), Value::from("line \"quoted\"\n"));
        let mut e = Event::new(fields);
        e.insert(
            &FieldRef::parse("[@metadata][beat]").unwrap(),
            "filebeat".into(),
        );
        e
    }

    fn entry(e: &Event) -> DeadLetterEntry<'_> {
        DeadLetterEntry {
            plugin: "es-main",
            plugin_type: "elasticsearch",
            index: "logs-2026.11.24",
            action: "index",
            status: 400,
            error_type: "document_parsing_exception",
            reason: "failed to parse field [n] of type [long]",
            event: e,
        }
    }

    fn write(config: &DlqConfig, range: std::ops::Range<i64>) -> Appended {
        let events: Vec<Event> = range.map(event).collect();
        let entries: Vec<_> = events.iter().map(entry).collect();
        let mut w = DlqWriter::open(config.clone()).unwrap();
        w.append(&entries).unwrap()
    }

    fn read_ns(config: &DlqConfig) -> (Vec<i64>, usize) {
        let mut r = DlqReader::open(&config.path, &config.pipeline_id).unwrap();
        let ns = r
            .by_ref()
            .map(|rec| {
                let rec = rec.unwrap();
                let v: serde_json::Value = serde_json::from_slice(&rec.event).unwrap();
                v["n"].as_i64().unwrap()
            })
            .collect();
        (ns, r.skipped())
    }

    fn segment_files(config: &DlqConfig) -> Vec<std::path::PathBuf> {
        segments(&config.path.join(&config.pipeline_id))
            .unwrap()
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    }

    #[test]
    fn records_round_trip_with_their_reason_and_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let config = DlqConfig::new(dir.path(), "main");
        assert_eq!(
            write(&config, 0..3),
            Appended {
                written: 3,
                dropped: 0
            }
        );
        let records: Vec<_> = DlqReader::open(dir.path(), "main")
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(records.len(), 3);
        let r = &records[1];
        assert_eq!(r.status, 400);
        assert_eq!(r.error_type, "document_parsing_exception");
        assert_eq!(r.reason, "failed to parse field [n] of type [long]");
        assert_eq!(r.index, "logs-2026.11.24");
        assert_eq!(&r.metadata[..], br#"{"beat":"filebeat"}"#);
        let fields: serde_json::Value = serde_json::from_slice(&r.event).unwrap();
        assert_eq!(fields["n"], 1);
        assert_eq!(fields["message"], "line \"quoted\"\n");
        assert!(fields.get("@metadata").is_none());
    }

    #[test]
    fn a_new_writer_starts_a_new_segment_and_segments_rotate() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = DlqConfig::new(dir.path(), "main");
        config.segment_bytes = 600;
        write(&config, 0..4);
        let first = segment_files(&config).len();
        assert!(first >= 2, "{first} segments");
        write(&config, 4..6);
        assert!(segment_files(&config).len() > first);
        assert_eq!(read_ns(&config).0, (0..6).collect::<Vec<_>>());
    }

    #[test]
    fn a_torn_last_record_is_skipped_and_earlier_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let config = DlqConfig::new(dir.path(), "main");
        write(&config, 0..3);
        let seg = segment_files(&config).pop().unwrap();
        // A crash in the middle of the fourth record: its header and part of its payload.
        let mut f = std::fs::OpenOptions::new().append(true).open(&seg).unwrap();
        f.write_all(&500u32.to_le_bytes()).unwrap();
        f.write_all(&[1, 2, 3, 4]).unwrap();
        f.write_all(b"{\"time\":").unwrap();
        drop(f);
        assert_eq!(read_ns(&config), (vec![0, 1, 2], 1));
        // The next writer cuts the tail off and carries on in a new segment.
        write(&config, 3..4);
        assert_eq!(read_ns(&config), (vec![0, 1, 2, 3], 0));
    }

    #[test]
    fn a_kill_9_truncation_anywhere_keeps_every_whole_record() {
        let dir = tempfile::tempdir().unwrap();
        let config = DlqConfig::new(dir.path(), "main");
        write(&config, 0..5);
        let seg = segment_files(&config).pop().unwrap();
        let whole = std::fs::read(&seg).unwrap();
        let mut ends = Vec::new();
        scan(&whole, 0, |_, end| ends.push(end));
        for cut in (0..whole.len()).step_by(7) {
            std::fs::write(&seg, &whole[..cut]).unwrap();
            let complete = ends.iter().filter(|&&e| e <= cut).count() as i64;
            let (ns, _) = read_ns(&config);
            assert_eq!(ns, (0..complete).collect::<Vec<_>>(), "cut at {cut}");
        }
    }

    #[test]
    fn a_flipped_bit_fails_the_checksum() {
        let dir = tempfile::tempdir().unwrap();
        let config = DlqConfig::new(dir.path(), "main");
        write(&config, 0..3);
        let seg = segment_files(&config).pop().unwrap();
        let mut data = std::fs::read(&seg).unwrap();
        let last = data.len() - 3;
        data[last] ^= 0x20;
        std::fs::write(&seg, &data).unwrap();
        assert_eq!(read_ns(&config), (vec![0, 1], 1));
    }

    #[test]
    fn storage_policies_when_full() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = DlqConfig::new(dir.path(), "main");
        config.segment_bytes = 400;
        config.max_bytes = 1200;

        config.storage_policy = StoragePolicy::Block;
        let a = write(&config, 0..10);
        assert!(a.written > 0 && a.written < 10 && a.dropped == 0, "{a:?}");
        let kept = a.written as i64;
        assert_eq!(read_ns(&config).0, (0..kept).collect::<Vec<_>>());

        config.storage_policy = StoragePolicy::DropNewer;
        assert_eq!(
            write(&config, 10..12),
            Appended {
                written: 0,
                dropped: 2
            }
        );
        assert_eq!(read_ns(&config).0, (0..kept).collect::<Vec<_>>());

        config.storage_policy = StoragePolicy::DropOlder;
        assert_eq!(
            write(&config, 20..22),
            Appended {
                written: 2,
                dropped: 0
            }
        );
        let (ns, _) = read_ns(&config);
        assert!(ns.ends_with(&[20, 21]), "{ns:?}");
        assert!(ns[0] > 0, "the oldest records made room: {ns:?}");
        let size: u64 = segment_files(&config)
            .iter()
            .map(|p| std::fs::metadata(p).unwrap().len())
            .sum();
        assert!(size <= config.max_bytes + config.segment_bytes, "{size}");
    }
}
