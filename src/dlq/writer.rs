//! Appending dead letters durably, within a byte budget.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{scan, segment_name, segments, HEADER, MAGIC};
use crate::event::json::{encode_object, encode_str};
use crate::event::{write_timestamp, Event};

/// What to do when the queue holds `max_bytes` (Logstash's `dead_letter_queue.storage_policy`,
/// plus `block`, our default: nothing is lost, the pipeline waits for room).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum StoragePolicy {
    /// Keep the event's batch unresolved until room is made (by `sluice dlq` or an operator).
    #[default]
    Block,
    /// Refuse new records (they are dropped and counted).
    DropNewer,
    /// Delete the oldest segments to make room.
    DropOlder,
}

impl StoragePolicy {
    /// Parses the setting's values: `block`, `drop_newer`, `drop_older`.
    pub fn parse(name: &str) -> Option<StoragePolicy> {
        match name {
            "block" => Some(StoragePolicy::Block),
            "drop_newer" => Some(StoragePolicy::DropNewer),
            "drop_older" => Some(StoragePolicy::DropOlder),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct DlqConfig {
    /// `path.dead_letter_queue`: the pipeline's records go to `<path>/<pipeline_id>/`.
    pub path: PathBuf,
    pub pipeline_id: String,
    /// `dead_letter_queue.max_bytes` (default 1 GiB).
    pub max_bytes: u64,
    /// A segment is closed and a new one started past this size (default 10 MiB).
    pub segment_bytes: u64,
    pub storage_policy: StoragePolicy,
}

impl DlqConfig {
    pub fn new(path: impl Into<PathBuf>, pipeline_id: impl Into<String>) -> DlqConfig {
        DlqConfig {
            path: path.into(),
            pipeline_id: pipeline_id.into(),
            max_bytes: 1024 * 1024 * 1024,
            segment_bytes: 10 * 1024 * 1024,
            storage_policy: StoragePolicy::Block,
        }
    }
}

/// One undeliverable event and why.
#[derive(Clone, Copy, Debug)]
pub struct DeadLetterEntry<'a> {
    /// Which output gave up (its plugin id).
    pub plugin: &'a str,
    /// What kind of output that is (`elasticsearch`).
    pub plugin_type: &'a str,
    pub index: &'a str,
    pub action: &'a str,
    pub status: u16,
    pub error_type: &'a str,
    pub reason: &'a str,
    pub event: &'a Event,
}

/// What [`DlqWriter::append`] did with the entries, in order: the first `written` are
/// durable; the next `dropped` were refused by `drop_newer`; the rest found the queue full
/// under `block` and should be offered again later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    pub written: usize,
    pub dropped: usize,
}

pub struct DlqWriter {
    dir: PathBuf,
    config: DlqConfig,
    current: Option<(u64, File, u64)>,
    next_seq: u64,
    /// Bytes of all segments in the directory, as last measured plus what we wrote since.
    total: u64,
    buf: Vec<u8>,
}

impl DlqWriter {
    /// Opens the pipeline's directory, cutting a torn tail off its newest segment.
    pub fn open(config: DlqConfig) -> io::Result<DlqWriter> {
        let dir = config.path.join(&config.pipeline_id);
        std::fs::create_dir_all(&dir)?;
        let existing = segments(&dir)?;
        if let Some((_, last)) = existing.last() {
            repair_tail(last)?;
        }
        let next_seq = existing.last().map_or(1, |(seq, _)| seq + 1);
        let mut writer = DlqWriter {
            dir,
            config,
            current: None,
            next_seq,
            total: 0,
            buf: Vec::new(),
        };
        writer.total = writer.measure()?;
        Ok(writer)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bytes on disk, as the writer counts them.
    pub fn size(&self) -> u64 {
        self.total
    }

    fn measure(&self) -> io::Result<u64> {
        let mut total = 0;
        for (_, path) in segments(&self.dir)? {
            // A segment deleted between listing and stat (a consumer cleaning up) is no size.
            total += std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        }
        Ok(total)
    }

    /// Writes the entries and fsyncs them before returning.
    pub fn append(&mut self, entries: &[DeadLetterEntry<'_>]) -> io::Result<Appended> {
        let mut written = 0;
        let mut dropped = 0;
        let mut rescanned = false;
        for entry in entries {
            self.buf.clear();
            self.buf.extend_from_slice(&[0; HEADER]);
            encode_payload(entry, &mut self.buf);
            let len = (self.buf.len() - HEADER) as u32;
            let crc = crc32c::crc32c(&self.buf[HEADER..]);
            self.buf[..4].copy_from_slice(&len.to_le_bytes());
            self.buf[4..8].copy_from_slice(&crc.to_le_bytes());
            let need = self.buf.len() as u64;
            if self.total + need > self.config.max_bytes {
                if !rescanned {
                    // Someone may have removed segments since we last looked.
                    self.total = self.measure()?;
                    rescanned = true;
                }
                if self.total + need > self.config.max_bytes {
                    match self.config.storage_policy {
                        StoragePolicy::Block => break,
                        StoragePolicy::DropNewer => {
                            if written > 0 {
                                // Keep the answer's shape: written first, then dropped.
                                self.sync()?;
                                return Ok(Appended {
                                    written,
                                    dropped: entries.len() - written,
                                });
                            }
                            dropped = entries.len();
                            break;
                        }
                        StoragePolicy::DropOlder => self.drop_oldest(need)?,
                    }
                }
            }
            self.write_record()?;
            written += 1;
        }
        self.sync()?;
        Ok(Appended { written, dropped })
    }

    fn write_record(&mut self) -> io::Result<()> {
        let need = self.buf.len() as u64;
        let rotate = match &self.current {
            None => true,
            Some((_, _, size)) => {
                *size > MAGIC.len() as u64 && size + need > self.config.segment_bytes
            }
        };
        if rotate {
            self.sync()?;
            let seq = self.next_seq;
            self.next_seq += 1;
            let path = self.dir.join(segment_name(seq));
            let mut file = OpenOptions::new()
                .create_new(true)
                .append(true)
                .open(&path)?;
            file.write_all(MAGIC)?;
            // The new name must survive a crash as well as its contents.
            File::open(&self.dir)?.sync_all()?;
            self.total += MAGIC.len() as u64;
            self.current = Some((seq, file, MAGIC.len() as u64));
        }
        let (_, file, size) = self.current.as_mut().expect("a segment is open");
        file.write_all(&self.buf)?;
        *size += need;
        self.total += need;
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        if let Some((_, file, _)) = &self.current {
            file.sync_data()?;
        }
        Ok(())
    }

    /// Deletes closed segments, oldest first, until `need` more bytes fit (or none is left).
    fn drop_oldest(&mut self, need: u64) -> io::Result<()> {
        let current = self.current.as_ref().map(|(seq, _, _)| *seq);
        for (seq, path) in segments(&self.dir)? {
            if self.total + need <= self.config.max_bytes {
                break;
            }
            if Some(seq) == current {
                continue;
            }
            let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            std::fs::remove_file(&path)?;
            self.total = self.total.saturating_sub(len);
            tracing::warn!(segment = %path.display(), "dead-letter queue full: oldest segment dropped");
        }
        Ok(())
    }
}

/// Truncates `path` after its last whole record, saying so when there was anything to cut.
fn repair_tail(path: &Path) -> io::Result<()> {
    let data = std::fs::read(path)?;
    let found = scan(&data, 0, |_, _| {});
    if let Some(why) = found.torn {
        tracing::warn!(
            segment = %path.display(),
            offset = found.valid_len,
            cut = data.len() - found.valid_len,
            "dead-letter queue: {why} at the end of a segment (an interrupted write); skipping it"
        );
        if found.valid_len < MAGIC.len() {
            // Not even the header made it to disk: the segment held nothing.
            std::fs::remove_file(path)?;
        } else {
            let file = OpenOptions::new().write(true).open(path)?;
            file.set_len(found.valid_len as u64)?;
            file.sync_all()?;
        }
    }
    Ok(())
}

fn encode_payload(entry: &DeadLetterEntry<'_>, out: &mut Vec<u8>) {
    let mut time = String::with_capacity(30);
    write_timestamp(&crate::event::now(), &mut time);
    out.extend_from_slice(b"{\"time\":");
    encode_str(&time, out);
    out.extend_from_slice(b",\"plugin\":");
    encode_str(entry.plugin, out);
    out.extend_from_slice(b",\"plugin_type\":");
    encode_str(entry.plugin_type, out);
    out.extend_from_slice(b",\"index\":");
    encode_str(entry.index, out);
    out.extend_from_slice(b",\"action\":");
    encode_str(entry.action, out);
    out.extend_from_slice(b",\"status\":");
    out.extend_from_slice(itoa::Buffer::new().format(entry.status).as_bytes());
    out.extend_from_slice(b",\"error_type\":");
    encode_str(entry.error_type, out);
    out.extend_from_slice(b",\"reason\":");
    encode_str(entry.reason, out);
    out.extend_from_slice(b"}\n");
    encode_object(entry.event.metadata(), out);
    out.push(b'\n');
    crate::event::json::encode_event(entry.event, out);
}
