//! `stdout`: writes events to standard output with a codec (`rubydebug` by default).

use std::io::Write;

use tokio::sync::mpsc;

use super::{BoxFuture, Output, OutputContext};
use crate::codecs::Encoder;
use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::event::Event;
use crate::pipeline::receipt::Delivery;

pub struct Stdout {
    encoder: Encoder,
}

pub fn build(settings: &Settings) -> Result<Box<dyn Output>, ConfigError> {
    Ok(Box::new(Stdout {
        encoder: Encoder::from_settings(settings, "rubydebug")?,
    }))
}

impl Output for Stdout {
    fn reads_event_fields(&self) -> bool {
        self.encoder.reads_fields()
    }

    fn run(
        self: Box<Self>,
        mut batches: mpsc::Receiver<Vec<Event>>,
        ctx: OutputContext,
    ) -> BoxFuture<()> {
        Box::pin(async move {
            let runtime = tokio::runtime::Handle::current();
            // Writing to a pipe or terminal blocks: do it on a blocking thread.
            let _ = tokio::task::spawn_blocking(move || {
                let mut buf = Vec::with_capacity(64 * 1024);
                let mut reported = false;
                while let Some(mut batch) = runtime.block_on(batches.recv()) {
                    buf.clear();
                    for event in &batch {
                        self.encoder.encode(event, &mut buf);
                    }
                    let mut out = std::io::stdout().lock();
                    let outcome = match out.write_all(&buf).and_then(|_| out.flush()) {
                        Ok(()) => Delivery::Delivered,
                        Err(e) => {
                            if !reported {
                                tracing::error!(pipeline = %ctx.pipeline, plugin = %ctx.id, error = %e, "cannot write to standard output");
                                reported = true;
                            }
                            Delivery::Failed
                        }
                    };
                    for event in &mut batch {
                        event.finalize(outcome);
                    }
                }
            })
            .await;
        })
    }
}
