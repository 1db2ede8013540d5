//! The dead-letter queue: events an output could never deliver, kept on disk with the reason.
//!
//! One directory per pipeline holds append-only segment files (`0000000001.dlq`, …), each
//! starting with a magic line and then records of `length (u32 LE) · crc32c (u32 LE) ·
//! payload`. A payload is three lines: a JSON header (when, which output, index, action,
//! status, ES error type and reason), the event's `@metadata` as JSON, and the event's
//! fields as JSON, as they would have been sent.
//!
//! [`DlqWriter::append`] returns only after the records are fsynced, so an event's receipt can
//! resolve on it. A writer never appends to a segment it did not create: after a crash it
//! starts a new one, so a record torn by the crash can only be the tail of an old segment.
//! The writer cuts such a tail off when it opens (with a log line) and the reader stops at
//! one (with a log line): records before it are never lost. The queue is bounded by
//! `max_bytes`; what happens when it is full is the [`StoragePolicy`].

pub mod cli;
mod follow;
mod reader;
mod writer;

pub use follow::{remove_consumed, Follower, Offsets, Position};
pub use reader::{decode_segment, DeadLetter, DlqReader, SegmentRead};
pub use writer::{Appended, DeadLetterEntry, DlqConfig, DlqWriter, StoragePolicy};

/// A pipeline's writer, shared by its outputs: a second writer on the same directory would
/// race for segment numbers.
pub type SharedDlq = std::sync::Arc<std::sync::Mutex<DlqWriter>>;

/// Parses a byte size as Logstash writes `dead_letter_queue.max_bytes`: a number of bytes,
/// or one followed by `kb`, `mb`, `gb` or `tb` (powers of 1024, any case).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let lower = text.trim().to_ascii_lowercase();
    let (number, unit) = match lower.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => lower.split_at(i),
        None => (lower.as_str(), ""),
    };
    let shift = match unit.trim() {
        "" | "b" => 0,
        "kb" => 10,
        "mb" => 20,
        "gb" => 30,
        "tb" => 40,
        _ => return Err(format!("`{text}` is not a size such as `1024mb`")),
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("`{text}` is not a size such as `1024mb`"))
}

/// The first bytes of every segment: format and version.
const MAGIC: &[u8; 10] = b"SLUICEDLQ1";
/// Records longer than this are taken for corruption.
const MAX_RECORD: u32 = 256 * 1024 * 1024;
const HEADER: usize = 8;

fn segment_name(seq: u64) -> String {
    format!("{seq:010}.dlq")
}

/// The segments of a pipeline's directory, oldest first.
fn segments(dir: &std::path::Path) -> std::io::Result<Vec<(u64, std::path::PathBuf)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let seq = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".dlq"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(seq) = seq {
            found.push((seq, path));
        }
    }
    found.sort();
    Ok(found)
}

/// Where the valid records of a segment end, and why reading stopped there if early.
struct Scan {
    valid_len: usize,
    torn: Option<&'static str>,
}

/// Walks the records of a segment whose bytes from offset `from` are `data` (`from` is 0 or
/// where an earlier record ended), calling `each` with each valid payload and the segment
/// offset just past it. `valid_len` is counted from the start of the segment.
fn scan(data: &[u8], from: usize, mut each: impl FnMut(&[u8], usize)) -> Scan {
    let mut at = 0;
    if from == 0 {
        if data.len() < MAGIC.len() || &data[..MAGIC.len()] != MAGIC {
            return Scan {
                valid_len: 0,
                torn: Some("no segment header"),
            };
        }
        at = MAGIC.len();
    }
    let torn = |at: usize, why| Scan {
        valid_len: from + at,
        torn: Some(why),
    };
    while at < data.len() {
        let rest = &data[at..];
        if rest.len() < HEADER {
            return torn(at, "a record header cut short");
        }
        let len = u32::from_le_bytes(rest[..4].try_into().unwrap());
        let crc = u32::from_le_bytes(rest[4..8].try_into().unwrap());
        if len > MAX_RECORD || rest.len() - HEADER < len as usize {
            return torn(at, "a record cut short");
        }
        let payload = &rest[HEADER..HEADER + len as usize];
        if crc32c::crc32c(payload) != crc {
            return torn(at, "a record whose checksum does not match");
        }
        at += HEADER + len as usize;
        each(payload, from + at);
    }
    Scan {
        valid_len: from + at,
        torn: None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_parse_like_logstash() {
        assert_eq!(super::parse_size("1024mb"), Ok(1 << 30));
        assert_eq!(super::parse_size("2GB"), Ok(2 << 30));
        assert_eq!(super::parse_size("4096"), Ok(4096));
        assert_eq!(super::parse_size("10 kb"), Ok(10 << 10));
        assert!(super::parse_size("ten mb").is_err());
        assert!(super::parse_size("1pb").is_err());
        assert!(super::parse_size("99999999999tb").is_err());
    }
}
