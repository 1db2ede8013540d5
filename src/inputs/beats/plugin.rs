//! `input { beats { … } }` as a pipeline plugin: binds the server when the pipeline starts and
//! hands every window to the pipeline's queue, through the multiline codec when it has one.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use super::event::MULTILINE_CODEC_APPLIED_TAG;
use super::metrics::BeatsMetrics;
use super::{config, BeatsServer, BeatsSettings, WindowSink};
use crate::codecs::multiline::sink::StitchingSink;
use crate::codecs::multiline::MultilineMetrics;
use crate::codecs::{Decoder, Multiline};
use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::event::Event;
use crate::inputs::{BoxFuture, EventSink, Input, InputContext, PluginError};

pub struct Beats {
    settings: BeatsSettings,
    multiline: Option<Multiline>,
}

/// The multiline codec's `auto_flush_interval` on this input when it sets none: a buffered
/// line holds its window's ACK, so without a timer the last record of a quiet file would keep
/// the client waiting. Five seconds is Filebeat's own `multiline.timeout`.
const MULTILINE_AUTO_FLUSH: Duration = Duration::from_secs(5);

pub fn build(settings: &Settings) -> Result<Box<dyn Input>, ConfigError> {
    let mut beats = config::settings_from_plugin(settings.block())?;
    for name in config::setting_names() {
        settings.raw(name);
    }
    // Logstash's beats input refuses the multiline codec because its one codec instance
    // would mix streams; ours keeps a state per stream (see codecs::multiline::streams).
    let multiline = match Decoder::from_settings(settings, "plain", Some(MULTILINE_AUTO_FLUSH))? {
        Decoder::Line => None,
        Decoder::Multiline(multiline) => Some(multiline),
    };
    if multiline.is_some() {
        beats.connection.events.codec_applied_tag = MULTILINE_CODEC_APPLIED_TAG;
    }
    Ok(Box::new(Beats {
        settings: beats,
        multiline,
    }))
}

impl WindowSink for EventSink {
    fn submit(&self, events: Vec<Event>) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
        Box::pin(async move { self.enqueue(events).await.is_ok() })
    }
}

impl WindowSink for StitchingSink {
    fn submit(&self, events: Vec<Event>) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
        Box::pin(self.submit(events))
    }
}

impl Input for Beats {
    fn run(self: Box<Self>, mut ctx: InputContext) -> BoxFuture<Result<(), PluginError>> {
        Box::pin(async move {
            let mut settings = self.settings;
            // The multiline codec reads every `message`.
            settings.connection.events.lazy &= !ctx.reads_every_event && self.multiline.is_none();
            let metrics = BeatsMetrics::registered(&ctx.pipeline, &ctx.id);
            let stitching = self.multiline.map(|multiline| {
                let metrics = MultilineMetrics::registered(&ctx.pipeline, &ctx.id);
                Arc::new(StitchingSink::new(multiline.streams(metrics), ctx.sink()))
            });
            let sink: Arc<dyn WindowSink> = match &stitching {
                Some(stitching) => stitching.clone(),
                None => Arc::new(ctx.sink()),
            };
            let server = BeatsServer::bind_with_metrics(settings, sink, metrics).await?;
            tracing::info!(pipeline = %ctx.pipeline, plugin = %ctx.id, address = %server.local_addr()?, "beats input listening");
            ctx.mark_ready();
            let shutdown = ctx.shutdown().clone();
            match stitching {
                // The timer drains the streams when shutdown begins, which lets the
                // connections' last ACKs go out and the server return.
                Some(stitching) => {
                    tokio::join!(server.run(shutdown.clone()), stitching.run_timer(shutdown));
                }
                None => server.run(shutdown).await,
            }
            Ok(())
        })
    }
}
