//! Consuming a queue as it grows: where a consumer has got to ([`Position`]), kept durably
//! in an [`Offsets`] file, and the records written after it ([`Follower`]).
//!
//! A record that is not whole at the end of the newest segment may still be being written,
//! so the follower waits for it. The same in an older segment can only be the tail a crash
//! tore (a writer never appends to a segment it did not create): it is skipped with a log
//! line and the follower goes on with the next segment.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::reader::read_segment;
use super::{segments, DeadLetter};

/// A place in the queue: segment `segment`, byte `offset` (0, or just past a record).
/// Everything before it has been consumed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub segment: u64,
    pub offset: u64,
}

impl Position {
    /// Just past `record`.
    pub fn after(record: &DeadLetter) -> Position {
        Position {
            segment: record.segment,
            offset: record.end,
        }
    }
}

/// Reads the records of a pipeline's queue after a position, as they arrive.
pub struct Follower {
    dir: PathBuf,
    at: Position,
}

impl Follower {
    /// Follows `<path>/<pipeline_id>/` from `from`. The directory need not exist yet.
    pub fn new(path: &Path, pipeline_id: &str, from: Position) -> Follower {
        Follower {
            dir: path.join(pipeline_id),
            at: from,
        }
    }

    /// The whole records written after the position, from one segment, and the position
    /// moved past them; empty when there is nothing new yet.
    pub fn poll(&mut self) -> io::Result<Vec<DeadLetter>> {
        let all = match segments(&self.dir) {
            Ok(all) => all,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let newest = all.last().map(|(seq, _)| *seq);
        for (seq, path) in all {
            if seq < self.at.segment {
                continue;
            }
            if seq > self.at.segment {
                // Finished with the earlier one, or it was removed (`drop_older`, cleaning).
                self.at = Position {
                    segment: seq,
                    offset: 0,
                };
            }
            let read = match read_segment(&path, seq, self.at.offset) {
                Ok(read) => read,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            self.at.offset = read.valid_len;
            if let Some(why) = read.torn {
                if Some(seq) != newest {
                    tracing::warn!(
                        segment = %path.display(),
                        offset = read.valid_len,
                        "dead-letter queue: {why}; the rest of this segment is skipped"
                    );
                    self.at = Position {
                        segment: seq + 1,
                        offset: 0,
                    };
                }
            }
            if !read.records.is_empty() {
                return Ok(read.records);
            }
        }
        Ok(Vec::new())
    }
}

/// The file a consumer's committed [`Position`] is kept in (Logstash's "sincedb"): one line,
/// `segment offset`, replaced atomically.
#[derive(Clone, Debug)]
pub struct Offsets {
    path: PathBuf,
}

impl Offsets {
    pub fn new(path: impl Into<PathBuf>) -> Offsets {
        Offsets { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The committed position; the queue's start when nothing was committed yet.
    pub fn load(&self) -> io::Result<Position> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Position::default()),
            Err(e) => return Err(e),
        };
        let mut numbers = text.split_whitespace().map(str::parse::<u64>);
        match (numbers.next(), numbers.next(), numbers.next()) {
            (Some(Ok(segment)), Some(Ok(offset)), None) => Ok(Position { segment, offset }),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} holds {text:?}, not `segment offset`",
                    self.path.display()
                ),
            )),
        }
    }

    /// Makes `position` the committed one, durably: written beside, fsynced, renamed over.
    pub fn commit(&self, position: Position) -> io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut temporary = self.path.clone().into_os_string();
        temporary.push(".tmp");
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temporary)?;
        writeln!(file, "{} {}", position.segment, position.offset)?;
        file.sync_all()?;
        std::fs::rename(&temporary, &self.path)?;
        File::open(dir)?.sync_all()
    }
}

/// Deletes the segments wholly before `position` (`clean_consumed`).
pub fn remove_consumed(path: &Path, pipeline_id: &str, position: Position) -> io::Result<usize> {
    let mut removed = 0;
    for (seq, file) in segments(&path.join(pipeline_id))? {
        if seq >= position.segment {
            break;
        }
        match std::fs::remove_file(&file) {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::*;
    use crate::event::{Event, Object, Text, Value};

    fn append(writer: &mut DlqWriter, range: std::ops::Range<i64>) {
        let events: Vec<Event> = range
            .map(|n| {
                let mut fields = Object::new();
                fields.insert(Text::from("n"), Value::Integer(n));
                Event::new(fields)
            })
            .collect();
        let entries: Vec<_> = events
            .iter()
            .map(|event| DeadLetterEntry {
                plugin: "es",
                plugin_type: "elasticsearch",
                index: "logs",
                action: "index",
                status: 400,
                error_type: "document_parsing_exception",
                reason: "bad",
                event,
            })
            .collect();
        assert_eq!(writer.append(&entries).unwrap().written, entries.len());
    }

    fn ns(records: &[DeadLetter]) -> Vec<i64> {
        records
            .iter()
            .map(|r| {
                let v: serde_json::Value = serde_json::from_slice(&r.event).unwrap();
                v["n"].as_i64().unwrap()
            })
            .collect()
    }

    /// Polls until nothing new comes; the numbers read.
    fn drain(follower: &mut Follower) -> Vec<i64> {
        let mut all = Vec::new();
        loop {
            let records = follower.poll().unwrap();
            if records.is_empty() {
                return all;
            }
            all.extend(ns(&records));
        }
    }

    #[test]
    fn follows_appends_and_new_segments_and_resumes_from_a_position() {
        let dir = tempfile::tempdir().unwrap();
        let mut follower = Follower::new(dir.path(), "main", Position::default());
        assert_eq!(drain(&mut follower), Vec::<i64>::new(), "no queue yet");

        let mut config = DlqConfig::new(dir.path(), "main");
        config.segment_bytes = 700;
        let mut writer = DlqWriter::open(config.clone()).unwrap();
        append(&mut writer, 0..3);
        assert_eq!(drain(&mut follower), vec![0, 1, 2]);
        append(&mut writer, 3..8);
        let records = follower.poll().unwrap();
        let resume = Position::after(&records[0]);
        let mut rest = ns(&records);
        rest.extend(drain(&mut follower));
        assert_eq!(rest, vec![3, 4, 5, 6, 7]);

        // A second writer (a restart) starts a new segment; the follower moves on to it.
        drop(writer);
        append(&mut DlqWriter::open(config).unwrap(), 8..9);
        assert_eq!(drain(&mut follower), vec![8]);

        let mut again = Follower::new(dir.path(), "main", resume);
        assert_eq!(drain(&mut again), (4..9).collect::<Vec<_>>());
    }

    #[test]
    fn a_half_written_record_is_waited_for_in_the_newest_segment_and_skipped_in_an_older_one() {
        let dir = tempfile::tempdir().unwrap();
        let config = DlqConfig::new(dir.path(), "main");
        append(&mut DlqWriter::open(config.clone()).unwrap(), 0..2);
        let segment = segments(&dir.path().join("main")).unwrap()[0].1.clone();
        let whole = std::fs::read(&segment).unwrap();
        // The writer has put down the first half of the second record so far.
        let mut ends = Vec::new();
        scan(&whole, 0, |_, end| ends.push(end));
        let half = ends[0] + (ends[1] - ends[0]) / 2;
        std::fs::write(&segment, &whole[..half]).unwrap();

        let mut follower = Follower::new(dir.path(), "main", Position::default());
        assert_eq!(drain(&mut follower), vec![0]);
        std::fs::write(&segment, &whole).unwrap();
        assert_eq!(
            drain(&mut follower),
            vec![1],
            "the rest of the record arrived"
        );

        // Torn for good: the process died there, and a restarted writer began a new segment
        // holding one record (without repairing the old one: the follower copes on its own).
        let mut torn = whole.clone();
        torn.extend_from_slice(&whole[ends[0]..(ends[0] + ends[1]) / 2]);
        std::fs::write(&segment, &torn).unwrap();
        let next = dir.path().join("main").join(segment_name(2));
        let mut second = MAGIC.to_vec();
        second.extend_from_slice(&whole[ends[0]..ends[1]]);
        std::fs::write(&next, &second).unwrap();
        assert_eq!(drain(&mut follower), vec![1]);
    }

    #[test]
    fn offsets_commit_durably_and_reject_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let offsets = Offsets::new(dir.path().join("main/.sincedb"));
        assert_eq!(offsets.load().unwrap(), Position::default());
        let position = Position {
            segment: 3,
            offset: 1234,
        };
        offsets.commit(position).unwrap();
        assert_eq!(offsets.load().unwrap(), position);
        for garbage in ["", "3", "3 x", "3 4 5", "-1 2"] {
            std::fs::write(offsets.path(), garbage).unwrap();
            let e = offsets.load().unwrap_err();
            assert!(e.to_string().contains(".sincedb"), "{e}");
        }
    }

    #[test]
    fn consumed_segments_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let config = DlqConfig::new(dir.path(), "main");
        for n in 0..3 {
            append(&mut DlqWriter::open(config.clone()).unwrap(), n..n + 1);
        }
        let at = Position {
            segment: 3,
            offset: 0,
        };
        assert_eq!(remove_consumed(dir.path(), "main", at).unwrap(), 2);
        let mut follower = Follower::new(dir.path(), "main", Position::default());
        assert_eq!(drain(&mut follower), vec![2]);
    }
}
