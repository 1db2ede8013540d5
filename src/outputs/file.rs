//! `file`: appends events to files named by a template
//! (`data/%{[@metadata][beat]}-%{+YYYY.MM.dd}.ndjson`), one JSON document per line by
//! default. Sluice's embedded default output: it runs the main job with no Elasticsearch.
//!
//! Durability: events are finalized (and their senders acknowledged) only after the file they
//! went to has been flushed and, with `fsync => true` (the default), synced to disk. Flushes
//! happen every `flush_interval` seconds (0: after every batch).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::{BoxFuture, Output, OutputContext};
use crate::codecs::Encoder;
use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::event::{Event, Template};
use crate::pipeline::receipt::Delivery;

pub struct FileOutput {
    path: Template,
    encoder: Encoder,
    flush_interval: Duration,
    fsync: bool,
    truncate: bool,
    /// Where events go whose rendered path would escape with `..` (Logstash's
    /// `filename_failure`), inside the template's fixed leading directory.
    failure_path: PathBuf,
    stale_after: Duration,
}

pub fn build(settings: &Settings) -> Result<Box<dyn Output>, ConfigError> {
    let path_setting = settings.required_string("path")?;
    let path = Template::compile(&path_setting).map_err(|e| settings.error(e.to_string()))?;
    let encoder = Encoder::from_settings(settings, "json_lines")?;
    let flush_interval = settings.float("flush_interval")?.unwrap_or(2.0);
    if flush_interval < 0.0 {
        return Err(settings.error("`flush_interval` must not be negative"));
    }
    let fsync = settings.boolean_or("fsync", true)?;
    let truncate =
        settings.choice("write_behavior", &["append", "overwrite"], "append")? == "overwrite";
    let failure_name = settings.string_or("filename_failure", "_filepath_failures")?;
    let stale = settings.integer_in("stale_cleanup_interval", 1..=86_400, 10)?;
    settings.boolean("create_if_deleted")?;
    let fixed_dir = fixed_directory(&path_setting);
    Ok(Box::new(FileOutput {
        path,
        encoder,
        flush_interval: Duration::from_secs_f64(flush_interval),
        fsync,
        truncate,
        failure_path: fixed_dir.join(failure_name),
        stale_after: Duration::from_secs(stale as u64),
    }))
}

/// The directory part of `template` before its first `%{`, e.g. `data/` for
/// `data/%{+YYYY}/x.log`.
fn fixed_directory(template: &str) -> PathBuf {
    let fixed = &template[..template.find("%{").unwrap_or(template.len())];
    match fixed.rfind('/') {
        Some(i) => PathBuf::from(&fixed[..=i]),
        None => PathBuf::from("."),
    }
}

struct OpenFile {
    writer: BufWriter<File>,
    /// Written but not yet flushed: finalized by the next flush.
    unflushed: Vec<Event>,
    last_write: Instant,
}

impl Output for FileOutput {
    fn reads_event_fields(&self) -> bool {
        self.path.reads_fields() || self.encoder.reads_fields()
    }

    fn run(
        self: Box<Self>,
        mut batches: mpsc::Receiver<Vec<Event>>,
        ctx: OutputContext,
    ) -> BoxFuture<()> {
        Box::pin(async move {
            let runtime = tokio::runtime::Handle::current();
            // File I/O blocks: the whole loop lives on a blocking thread and waits for
            // batches through the runtime handle.
            let _ = tokio::task::spawn_blocking(move || {
                let mut files: HashMap<PathBuf, OpenFile> = HashMap::new();
                let mut last_flush = Instant::now();
                let tick = if self.flush_interval.is_zero() {
                    Duration::from_secs(1)
                } else {
                    self.flush_interval
                };
                loop {
                    let wait = tick.saturating_sub(last_flush.elapsed());
                    let next = runtime.block_on(tokio::time::timeout(wait, batches.recv()));
                    match next {
                        Ok(Some(batch)) => self.write_batch(&mut files, batch, &ctx),
                        Ok(None) => {
                            self.flush_all(&mut files, &ctx);
                            return;
                        }
                        Err(_elapsed) => {}
                    }
                    if self.flush_interval.is_zero() || last_flush.elapsed() >= self.flush_interval
                    {
                        self.flush_all(&mut files, &ctx);
                        files.retain(|_, f| f.last_write.elapsed() < self.stale_after);
                        last_flush = Instant::now();
                    }
                }
            })
            .await;
        })
    }
}

impl FileOutput {
    fn target(&self, event: &Event) -> PathBuf {
        let rendered = PathBuf::from(self.path.render_to_string(event));
        if rendered.components().any(|c| c == Component::ParentDir) {
            self.failure_path.clone()
        } else {
            rendered
        }
    }

    fn open(&self, path: &Path) -> std::io::Result<File> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut options = OpenOptions::new();
        options.create(true);
        if self.truncate {
            options.write(true).truncate(true);
        } else {
            options.append(true);
        }
        options.open(path)
    }

    fn write_batch(
        &self,
        files: &mut HashMap<PathBuf, OpenFile>,
        batch: Vec<Event>,
        ctx: &OutputContext,
    ) {
        let mut buf = Vec::with_capacity(1024);
        for mut event in batch {
            let path = self.target(&event);
            if !files.contains_key(&path) {
                match self.open(&path) {
                    Ok(file) => {
                        files.insert(
                            path.clone(),
                            OpenFile {
                                writer: BufWriter::with_capacity(256 * 1024, file),
                                unflushed: Vec::new(),
                                last_write: Instant::now(),
                            },
                        );
                    }
                    Err(e) => {
                        tracing::error!(pipeline = %ctx.pipeline, plugin = %ctx.id, path = %path.display(), error = %e, "cannot open output file");
                        event.finalize(Delivery::Failed);
                        continue;
                    }
                }
            }
            let file = files.get_mut(&path).expect("opened above");
            buf.clear();
            self.encoder.encode(&event, &mut buf);
            match file.writer.write_all(&buf) {
                Ok(()) => {
                    file.last_write = Instant::now();
                    file.unflushed.push(event);
                }
                Err(e) => {
                    tracing::error!(pipeline = %ctx.pipeline, plugin = %ctx.id, path = %path.display(), error = %e, "cannot write output file");
                    event.finalize(Delivery::Failed);
                    fail_file(files.remove(&path).expect("present"));
                }
            }
        }
    }

    fn flush_all(&self, files: &mut HashMap<PathBuf, OpenFile>, ctx: &OutputContext) {
        let mut broken = Vec::new();
        for (path, file) in files.iter_mut() {
            if file.unflushed.is_empty() {
                continue;
            }
            let flushed = file.writer.flush().and_then(|_| {
                if self.fsync {
                    file.writer.get_ref().sync_data()
                } else {
                    Ok(())
                }
            });
            match flushed {
                Ok(()) => {
                    for mut event in file.unflushed.drain(..) {
                        event.finalize(Delivery::Delivered);
                    }
                }
                Err(e) => {
                    tracing::error!(pipeline = %ctx.pipeline, plugin = %ctx.id, path = %path.display(), error = %e, "cannot flush output file");
                    broken.push(path.clone());
                }
            }
        }
        for path in broken {
            fail_file(files.remove(&path).expect("present"));
        }
    }
}

/// Everything written to a file that failed is unconfirmed: fail it so senders resend.
fn fail_file(mut file: OpenFile) {
    for mut event in file.unflushed.drain(..) {
        event.finalize(Delivery::Failed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_path_stays_in_the_fixed_directory() {
        assert_eq!(
            fixed_directory("data/%{+YYYY}/x.log"),
            PathBuf::from("data/")
        );
        assert_eq!(
            fixed_directory("/var/log/%{type}.log"),
            PathBuf::from("/var/log/")
        );
        assert_eq!(fixed_directory("%{type}.log"), PathBuf::from("."));
    }
}
