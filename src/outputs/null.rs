//! `null`: takes every event and discards it, as Logstash's `null` output. For benchmarks and
//! for pipelines whose only job is a side effect in a filter.

use tokio::sync::mpsc;

use super::{BoxFuture, Output, OutputContext};
use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::event::Event;
use crate::pipeline::receipt::Delivery;

pub struct Null;

pub fn build(_settings: &Settings) -> Result<Box<dyn Output>, ConfigError> {
    Ok(Box::new(Null))
}

impl Output for Null {
    fn reads_event_fields(&self) -> bool {
        false
    }

    fn run(
        self: Box<Self>,
        mut batches: mpsc::Receiver<Vec<Event>>,
        _ctx: OutputContext,
    ) -> BoxFuture<()> {
        Box::pin(async move {
            while let Some(mut batch) = batches.recv().await {
                for event in &mut batch {
                    event.finalize(Delivery::Delivered);
                }
            }
        })
    }
}
