//! `sluice dlq list|show`: what is in a pipeline's dead-letter queue, oldest first.
//!
//! `list` prints one line per record, for a person: when, which output, index, action, status,
//! Elasticsearch's error type and reason. `show` prints one JSON object per line, for tools:
//! the same header fields plus the event's `@metadata` and fields as they would have been
//! sent, so they can be fixed and replayed.

use std::io::{self, Write};
use std::path::Path;

use super::{DeadLetter, DlqReader};

/// Writes one line per record; returns how many.
pub fn list(path: &Path, pipeline: &str, out: &mut impl Write) -> io::Result<usize> {
    each(path, pipeline, |record| {
        writeln!(
            out,
            "{}  {}  {}  {}  {}  {}: {}",
            record.time,
            record.plugin,
            record.index,
            record.action,
            record.status,
            record.error_type,
            record.reason
        )
    })
}

/// Writes each record with its event as a JSON line; returns how many.
pub fn show(path: &Path, pipeline: &str, out: &mut impl Write) -> io::Result<usize> {
    each(path, pipeline, |record| {
        let text = |s: &str| serde_json::to_string(s).expect("a string serializes");
        write!(
            out,
            r#"{{"time":{},"plugin":{},"index":{},"action":{},"status":{},"error_type":{},"reason":{},"@metadata":"#,
            text(&record.time),
            text(&record.plugin),
            text(&record.index),
            text(&record.action),
            record.status,
            text(&record.error_type),
            text(&record.reason),
        )?;
        // Both were written as JSON objects by the writer and checksummed since.
        out.write_all(&record.metadata)?;
        out.write_all(br#","event":"#)?;
        out.write_all(&record.event)?;
        out.write_all(b"}\n")
    })
}

fn each(
    path: &Path,
    pipeline: &str,
    mut write: impl FnMut(&DeadLetter) -> io::Result<()>,
) -> io::Result<usize> {
    let reader = DlqReader::open(path, pipeline).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "cannot read the dead-letter queue {}: {e}",
                path.join(pipeline).display()
            ),
        )
    })?;
    let mut count = 0;
    for record in reader {
        write(&record?)?;
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dlq::{DeadLetterEntry, DlqConfig, DlqWriter};
    use crate::event::{Event, FieldRef};

    #[test]
    fn list_and_show_every_record() {
        let dir = tempfile::tempdir().unwrap();
        let mut event = Event::from_message("a \"quoted\" line".into());
        event.insert(&FieldRef::parse("[@metadata][beat]").unwrap(), "fb".into());
        let entry = |reason| DeadLetterEntry {
            plugin: "es-1",
            plugin_type: "elasticsearch",
            index: "logs-2026.11.24",
            action: "index",
            status: 400,
            error_type: "document_parsing_exception",
            reason,
            event: &event,
        };
        let mut writer = DlqWriter::open(DlqConfig::new(dir.path(), "main")).unwrap();
        writer
            .append(&[entry("failed to parse [n]"), entry("second")])
            .unwrap();

        let mut listed = Vec::new();
        assert_eq!(list(dir.path(), "main", &mut listed).unwrap(), 2);
        let listed = String::from_utf8(listed).unwrap();
        let first = listed.lines().next().unwrap();
        assert!(
            first.ends_with(
                "  es-1  logs-2026.11.24  index  400  document_parsing_exception: failed to parse [n]"
            ),
            "{first}"
        );

        let mut shown = Vec::new();
        assert_eq!(show(dir.path(), "main", &mut shown).unwrap(), 2);
        let line = String::from_utf8(shown).unwrap();
        let record: serde_json::Value = serde_json::from_str(line.lines().nth(1).unwrap()).unwrap();
        assert_eq!(record["reason"], "second");
        assert_eq!(record["status"], 400);
        assert_eq!(record["@metadata"]["beat"], "fb");
        assert_eq!(record["event"]["message"], "a \"quoted\" line");

        let missing = list(dir.path(), "other", &mut Vec::new()).unwrap_err();
        assert!(missing.to_string().contains("other"), "{missing}");
    }
}
