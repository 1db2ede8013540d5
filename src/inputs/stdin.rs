//! `stdin`: one event per line of standard input (or per record, with the multiline codec);
//! the input ends at end of file, flushing any unfinished record.

use std::time::Instant;

use tokio::io::{AsyncBufReadExt, BufReader};

use super::{BoxFuture, Input, InputContext, PluginError};
use crate::codecs::multiline::MultilineMetrics;
use crate::codecs::Decoder;
use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::event::{Object, Text, Value};

pub struct Stdin {
    decoder: Decoder,
}

pub fn build(settings: &Settings) -> Result<Box<dyn Input>, ConfigError> {
    let decoder = Decoder::from_settings(settings, "line", None)?;
    Ok(Box::new(Stdin { decoder }))
}

/// Sleeps until `deadline`; the caller only polls it when there is one.
async fn sleep_until(deadline: Option<Instant>) {
    if let Some(at) = deadline {
        tokio::time::sleep_until(at.into()).await;
    }
}

/// The most lines gathered into one batch when more are already buffered.
const MAX_BATCH: usize = 125;

impl Input for Stdin {
    fn run(self: Box<Self>, mut ctx: InputContext) -> BoxFuture<Result<(), PluginError>> {
        Box::pin(async move {
            ctx.mark_ready();
            let mut reader = BufReader::with_capacity(64 * 1024, tokio::io::stdin());
            let host = {
                let mut host = Object::with_capacity(1);
                host.push_unchecked(
                    Text::from_static("hostname"),
                    Value::String(super::hostname()),
                );
                Value::Object(host)
            };
            let mut streams = self
                .decoder
                .multiline()
                .map(|m| m.streams(MultilineMetrics::registered(&ctx.pipeline, &ctx.id)));
            let mut line = Vec::new();
            let mut eof = false;
            while !eof {
                let mut batch = Vec::new();
                // Wait for one line (or an idle record's auto flush), then take whatever else
                // is already buffered.
                loop {
                    let deadline = streams.as_ref().and_then(|s| s.next_deadline());
                    let read = tokio::select! {
                        _ = ctx.shutdown().cancelled() => 0,
                        read = reader.read_until(b'\n', &mut line) => read?,
                        _ = sleep_until(deadline), if deadline.is_some() => {
                            if let Some(streams) = &mut streams {
                                streams.flush_idle(Instant::now(), &mut batch);
                            }
                            break;
                        }
                    };
                    if read == 0 {
                        eof = true;
                        if let Some(streams) = &mut streams {
                            streams.flush_all(&mut batch);
                        }
                        break;
                    }
                    let mut event = self.decoder.decode_line(&line);
                    // Cleared only once used: a read cut short by the timer left its part here.
                    line.clear();
                    event
                        .fields_mut()
                        .insert(Text::from_static("host"), host.clone());
                    match &mut streams {
                        Some(streams) => streams.push(event, Instant::now(), &mut batch),
                        None => batch.push(event),
                    }
                    if batch.len() >= MAX_BATCH || reader.buffer().is_empty() {
                        break;
                    }
                }
                if !batch.is_empty() && ctx.send(batch).await.is_err() {
                    break;
                }
            }
            Ok(())
        })
    }
}
