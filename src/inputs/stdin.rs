//! `stdin`: one event per line of standard input; the input ends at end of file.

use tokio::io::{AsyncBufReadExt, BufReader};

use super::{BoxFuture, Input, InputContext, PluginError};
use crate::codecs::Decoder;
use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::event::{Object, Text, Value};

pub struct Stdin {
    decoder: Decoder,
}

pub fn build(settings: &Settings) -> Result<Box<dyn Input>, ConfigError> {
    let decoder = Decoder::from_settings(settings, "line")?;
    Ok(Box::new(Stdin { decoder }))
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
            let mut line = Vec::new();
            let mut eof = false;
            while !eof {
                let mut batch = Vec::new();
                // Wait for one line, then take whatever else is already buffered.
                loop {
                    line.clear();
                    let read = tokio::select! {
                        _ = ctx.shutdown().cancelled() => 0,
                        read = reader.read_until(b'\n', &mut line) => read?,
                    };
                    if read == 0 {
                        eof = true;
                        break;
                    }
                    let mut event = self.decoder.decode_line(&line);
                    event
                        .fields_mut()
                        .insert(Text::from_static("host"), host.clone());
                    batch.push(event);
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
