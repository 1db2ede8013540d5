//! Output plugins and their registry.
//!
//! An output owns a task that takes batches from its channel until the channel closes
//! (shutdown), and finalizes every event it is given: `Delivered` once the event is durably
//! written, `Failed` when it gives up on it. Until then the batch's receipt stays open and
//! the sender stays unacknowledged.

pub mod elasticsearch;
mod email;
mod file;
mod null;
mod stdout;

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::dlq::SharedDlq;
use crate::event::Event;
pub use crate::inputs::BoxFuture;

/// Which output, for its metrics and logs, and what the pipeline gives its outputs.
#[derive(Clone)]
pub struct OutputContext {
    pub pipeline: Arc<str>,
    pub id: Arc<str>,
    /// The pipeline's dead-letter queue when `dead_letter_queue.enable` is on; one writer
    /// shared by all its outputs.
    pub dead_letter_queue: Option<SharedDlq>,
}

pub trait Output: Send {
    fn run(
        self: Box<Self>,
        batches: mpsc::Receiver<Vec<Event>>,
        ctx: OutputContext,
    ) -> BoxFuture<()>;

    /// Whether the output reads every event's fields (beyond `@timestamp` and `[@metadata]`)
    /// to write it: a field in a sprintf setting, an id derived from the content, a codec
    /// that prints the tree. An input that can defer building an event's fields (Beats keeps
    /// the JSON it received) builds them at once when some output will anyway, since
    /// deferring costs a check of the document on top of the build.
    fn reads_event_fields(&self) -> bool {
        true
    }
}

type Build = fn(&Settings) -> Result<Box<dyn Output>, ConfigError>;

/// Every output Sluice has, by its Logstash name.
pub const PLUGINS: &[(&str, Build)] = &[
    ("elasticsearch", elasticsearch::plugin::build),
    ("email", email::build),
    ("file", file::build),
    ("null", null::build),
    ("stdout", stdout::build),
];

/// Logstash outputs Sluice does not provide yet; named as such rather than as typos.
pub const NOT_YET: &[&str] = &["http", "kafka", "pipeline", "redis", "s3", "tcp", "udp"];
