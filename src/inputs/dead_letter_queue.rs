//! `dead_letter_queue`: replays what an output dead-lettered (see [`crate::dlq`]), so a
//! pipeline can fix the events and send them again. Logstash's settings: `path`,
//! `pipeline_id`, `commit_offsets`, `clean_consumed`, `start_timestamp`, `sincedb_path`.
//!
//! Each event comes back as it was sent, its `@metadata` too, plus
//! `[@metadata][dead_letter_queue]`: `reason`, `plugin_id`, `plugin_type` and `entry_time`
//! as Logstash sets them, and `status`, `error_type`, `index` and `action` from
//! Elasticsearch's answer. The input follows the queue as records arrive until shutdown.
//!
//! With `commit_offsets` (the default) the position is committed to the sincedb file only
//! once the receipts of everything before it have resolved, in order: a crash mid-replay
//! replays again from the last commit (at least once) and a restart does not replay what was
//! delivered.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;

use super::{BoxFuture, Input, InputContext, PluginError};
use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::dlq::{remove_consumed, DeadLetter, Follower, Offsets, Position};
use crate::event::date_parse::{parse_iso8601, Zone};
use crate::event::json::{decode_object, JsonError};
use crate::event::{Event, Object, Text, Timestamp, Value, TIMESTAMP};
use crate::pipeline::receipt::{Delivery, Receipt};

/// How often a caught-up input looks for new records.
const POLL: Duration = Duration::from_millis(500);
/// Events per batch handed to the queue.
const BATCH: usize = 125;

pub struct DeadLetterQueue {
    path: PathBuf,
    pipeline_id: String,
    /// `None` without `commit_offsets`: every start replays the whole queue.
    offsets: Option<Offsets>,
    clean_consumed: bool,
    start_timestamp: Option<Timestamp>,
}

pub fn build(settings: &Settings) -> Result<Box<dyn Input>, ConfigError> {
    let path = PathBuf::from(settings.required_string("path")?);
    let pipeline_id = settings.string_or("pipeline_id", "main")?;
    let commit_offsets = settings.boolean_or("commit_offsets", true)?;
    let clean_consumed = settings.boolean_or("clean_consumed", false)?;
    if clean_consumed && !commit_offsets {
        return Err(settings.error(
            "`clean_consumed` needs `commit_offsets`: without a committed position nothing is known to be consumed",
        ));
    }
    let start_timestamp = match settings.raw("start_timestamp") {
        None => None,
        Some(setting) => {
            let text = settings.string("start_timestamp")?.unwrap_or_default();
            Some(parse_iso8601(&text, Zone::UTC).ok_or_else(|| {
                settings.invalid(setting, "expected a time such as `2026-11-24T21:00:00`")
            })?)
        }
    };
    let sincedb = settings
        .string("sincedb_path")?
        .map(PathBuf::from)
        .unwrap_or_else(|| path.join(&pipeline_id).join(".sincedb"));
    settings.string("codec")?;
    Ok(Box::new(DeadLetterQueue {
        offsets: commit_offsets.then(|| Offsets::new(sincedb)),
        path,
        pipeline_id,
        clean_consumed,
        start_timestamp,
    }))
}

impl DeadLetterQueue {
    /// Whether `record` was written at or after `start_timestamp`, if one is set.
    fn wanted(&self, record: &DeadLetter) -> bool {
        let written = entry_time(record);
        match (self.start_timestamp, written) {
            (Some(start), Some(written)) => written >= start,
            _ => true,
        }
    }
}

impl Input for DeadLetterQueue {
    fn run(self: Box<Self>, mut ctx: InputContext) -> BoxFuture<Result<(), PluginError>> {
        Box::pin(async move {
            let start = match &self.offsets {
                Some(offsets) => offsets.load()?,
                None => Position::default(),
            };
            tracing::info!(pipeline = %ctx.pipeline, plugin = %ctx.id, queue = %self.path.join(&self.pipeline_id).display(), ?start, "dead_letter_queue input reading");
            ctx.mark_ready();
            let (committing, committed) = match self.offsets.clone() {
                Some(offsets) => {
                    let (tx, rx) = mpsc::unbounded_channel();
                    let clean = self
                        .clean_consumed
                        .then(|| (self.path.clone(), self.pipeline_id.clone()));
                    (
                        Some(tx),
                        Some(tokio::spawn(commit_in_order(rx, offsets, clean))),
                    )
                }
                None => (None, None),
            };
            let mut follower = Follower::new(&self.path, &self.pipeline_id, start);
            'reading: loop {
                let (returned, records) = tokio::task::spawn_blocking(move || {
                    let records = follower.poll();
                    (follower, records)
                })
                .await?;
                follower = returned;
                let records = records?;
                if records.is_empty() {
                    tokio::select! {
                        _ = ctx.shutdown().cancelled() => break,
                        _ = tokio::time::sleep(POLL) => continue,
                    }
                }
                for chunk in records.chunks(BATCH) {
                    let events: Vec<Event> = chunk
                        .iter()
                        .filter(|r| self.wanted(r))
                        .filter_map(|r| match replayed(r) {
                            Ok(event) => Some(event),
                            Err(e) => {
                                tracing::error!(plugin = %ctx.id, segment = r.segment, offset = r.end, error = %e, "dead letter whose event is not a JSON object; skipped");
                                None
                            }
                        })
                        .collect();
                    if events.is_empty() {
                        continue;
                    }
                    let position = Position::after(chunk.last().expect("chunks are not empty"));
                    let receipt = tokio::select! {
                        biased;
                        _ = ctx.shutdown().cancelled() => break 'reading,
                        sent = ctx.send(events) => match sent {
                            Ok(receipt) => receipt,
                            Err(_) => break 'reading,
                        },
                    };
                    if let Some(tx) = &committing {
                        let _ = tx.send((receipt, position));
                    }
                }
            }
            // What was sent drains through the outputs; commit it before returning.
            drop(committing);
            if let Some(task) = committed {
                task.await?;
            }
            Ok(())
        })
    }
}

/// Commits each batch's position once its receipt and every earlier one have resolved. A
/// failed batch stops committing: what follows it is replayed on the next start.
async fn commit_in_order(
    mut sent: mpsc::UnboundedReceiver<(Receipt, Position)>,
    offsets: Offsets,
    clean: Option<(PathBuf, String)>,
) {
    while let Some((receipt, position)) = sent.recv().await {
        if receipt.await != Delivery::Delivered {
            tracing::warn!(sincedb = %offsets.path().display(), ?position, "replayed events were not delivered; the position stays before them, so they are replayed on the next start");
            return;
        }
        let commit = {
            let offsets = offsets.clone();
            tokio::task::spawn_blocking(move || offsets.commit(position)).await
        };
        if let Err(e) = commit.map_err(std::io::Error::other).and_then(|r| r) {
            tracing::error!(sincedb = %offsets.path().display(), error = %e, "cannot commit the dead-letter queue position; it will be replayed from the last one");
            continue;
        }
        if let Some((path, pipeline_id)) = &clean {
            match remove_consumed(path, pipeline_id, position) {
                Ok(0) => {}
                Ok(n) => tracing::info!(segments = n, "consumed dead-letter segments removed"),
                Err(e) => tracing::warn!(error = %e, "cannot remove consumed dead-letter segments"),
            }
        }
    }
}

fn entry_time(record: &DeadLetter) -> Option<Timestamp> {
    parse_iso8601(&record.time, Zone::UTC)
}

/// The event as it was sent, with where it has been in `[@metadata][dead_letter_queue]`.
fn replayed(record: &DeadLetter) -> Result<Event, JsonError> {
    let fields = decode_object(&record.event)?;
    let timestamp = match fields.get(TIMESTAMP) {
        Some(Value::String(text)) => parse_iso8601(text, Zone::UTC),
        _ => None,
    };
    let mut event = Event::new(fields);
    if let Some(timestamp) = timestamp {
        event.set_timestamp(timestamp);
    }
    *event.metadata_mut() = decode_object(&record.metadata)?;
    let text = |s: &str| Value::String(Text::from(s));
    let mut about = Object::with_capacity(8);
    about.insert(Text::from_static("reason"), text(&record.reason));
    about.insert(Text::from_static("plugin_id"), text(&record.plugin));
    about.insert(Text::from_static("plugin_type"), text(&record.plugin_type));
    about.insert(
        Text::from_static("entry_time"),
        entry_time(record).map_or_else(|| text(&record.time), Value::Timestamp),
    );
    about.insert(
        Text::from_static("status"),
        Value::Integer(record.status.into()),
    );
    about.insert(Text::from_static("error_type"), text(&record.error_type));
    about.insert(Text::from_static("index"), text(&record.index));
    about.insert(Text::from_static("action"), text(&record.action));
    event
        .metadata_mut()
        .insert(Text::from_static("dead_letter_queue"), Value::Object(about));
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dlq::{DeadLetterEntry, DlqConfig, DlqReader, DlqWriter};
    use crate::event::FieldRef;

    fn build_error(settings: &str) -> String {
        crate::filters::tests::compile_with("dead_letter_queue", settings, build)
            .err()
            .expect("settings refused")
    }

    #[test]
    fn settings_that_cannot_work_are_refused() {
        assert!(build_error("").contains("needs the setting `path`"));
        assert!(
            build_error(r#"path => "/q" commit_offsets => false clean_consumed => true"#)
                .contains("`clean_consumed` needs `commit_offsets`")
        );
        assert!(
            build_error(r#"path => "/q" start_timestamp => "yesterday""#)
                .contains("expected a time")
        );
    }

    #[test]
    fn start_timestamp_skips_older_records() {
        let input = DeadLetterQueue {
            path: PathBuf::from("/q"),
            pipeline_id: "main".into(),
            offsets: None,
            clean_consumed: false,
            start_timestamp: parse_iso8601("2026-11-24T12:00:00", Zone::UTC),
        };
        let written = |time: &str| DeadLetter {
            time: time.into(),
            plugin: "es".into(),
            plugin_type: "elasticsearch".into(),
            index: "logs".into(),
            action: "index".into(),
            status: 400,
            error_type: "e".into(),
            reason: "r".into(),
            metadata: Default::default(),
            event: Default::default(),
            segment: 1,
            end: 100,
        };
        assert!(!input.wanted(&written("2026-11-24T11:59:59.999999Z")));
        assert!(input.wanted(&written("2026-11-24T12:00:00Z")));
        assert!(input.wanted(&written("2026-11-25T00:00:00Z")));
    }

    #[test]
    fn the_event_comes_back_as_sent_with_where_it_has_been() {
        let dir = tempfile::tempdir().unwrap();
        let field = |f: &str| FieldRef::parse(f).unwrap();
        let mut sent = Event::from_message(Text::from("a line"));
        let stamp = parse_iso8601("2026-11-24T10:00:00.123Z", Zone::UTC).unwrap();
        sent.set_timestamp(stamp);
        sent.insert(&field("[@metadata][beat]"), "filebeat".into());
        let mut writer = DlqWriter::open(DlqConfig::new(dir.path(), "main")).unwrap();
        writer
            .append(&[DeadLetterEntry {
                plugin: "to-es",
                plugin_type: "elasticsearch",
                index: "logs-2026.11.24",
                action: "create",
                status: 400,
                error_type: "document_parsing_exception",
                reason: "failed to parse field [message] of type [long]",
                event: &sent,
            }])
            .unwrap();
        let record = DlqReader::open(dir.path(), "main")
            .unwrap()
            .next()
            .unwrap()
            .unwrap();

        let event = replayed(&record).unwrap();
        assert_eq!(event.timestamp(), Some(stamp));
        assert_eq!(event.get(&field("message")), Some(&"a line".into()));
        assert_eq!(
            event.get(&field("[@metadata][beat]")),
            Some(&"filebeat".into())
        );
        let about = |name: &str| {
            event
                .get(&field(&format!("[@metadata][dead_letter_queue][{name}]")))
                .cloned()
        };
        assert_eq!(
            about("reason"),
            Some("failed to parse field [message] of type [long]".into())
        );
        assert_eq!(about("plugin_id"), Some("to-es".into()));
        assert_eq!(about("plugin_type"), Some("elasticsearch".into()));
        assert_eq!(about("status"), Some(Value::Integer(400)));
        assert_eq!(about("action"), Some("create".into()));
        assert!(
            matches!(about("entry_time"), Some(Value::Timestamp(t)) if t > stamp),
            "{:?}",
            about("entry_time")
        );
    }
}
