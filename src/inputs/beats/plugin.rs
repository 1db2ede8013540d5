//! `input { beats { … } }` as a pipeline plugin: binds the server when the pipeline starts and
//! hands every window to the pipeline's queue.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::metrics::BeatsMetrics;
use super::{config, BeatsServer, BeatsSettings, WindowSink};
use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::event::Event;
use crate::inputs::{BoxFuture, EventSink, Input, InputContext, PluginError};

pub struct Beats {
    settings: BeatsSettings,
}

pub fn build(settings: &Settings) -> Result<Box<dyn Input>, ConfigError> {
    let beats = config::settings_from_plugin(settings.block())?;
    for name in config::setting_names() {
        settings.raw(name);
    }
    // Plain is the only codec a beats input applies (Logstash refuses multiline there too).
    settings.string("codec")?;
    Ok(Box::new(Beats { settings: beats }))
}

impl WindowSink for EventSink {
    fn submit(&self, events: Vec<Event>) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
        Box::pin(async move { self.enqueue(events).await.is_ok() })
    }
}

impl Input for Beats {
    fn run(self: Box<Self>, mut ctx: InputContext) -> BoxFuture<Result<(), PluginError>> {
        Box::pin(async move {
            let metrics = BeatsMetrics::registered(&ctx.pipeline, &ctx.id);
            let server =
                BeatsServer::bind_with_metrics(self.settings, Arc::new(ctx.sink()), metrics)
                    .await?;
            tracing::info!(pipeline = %ctx.pipeline, plugin = %ctx.id, address = %server.local_addr()?, "beats input listening");
            ctx.mark_ready();
            server.run(ctx.shutdown().clone()).await;
            Ok(())
        })
    }
}
