//! Input plugins, their registry, and what every input is given to run: the
//! [`InputContext`].
//!
//! An input turns what it reads into events and hands them to the pipeline with
//! [`InputContext::send`], which waits while the queue is full and returns the batch's
//! [`Receipt`]. An input that acknowledges its senders does so from that receipt and
//! nothing else.

pub mod beats;
mod dead_letter_queue;
mod generator;
pub mod jaeger;
pub mod otlp;
mod stdin;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;

use crate::config::ast::Spanned;
use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::event::{Event, FieldRef, Template, Text, Value};
use crate::observe::metrics::{Counter, Histogram, LATENCY_BUCKETS};
use crate::pipeline::queue::{Closed, Queue};
use crate::pipeline::receipt::{receipt, Finalizers, Receipt};

pub type PluginError = Box<dyn std::error::Error + Send + Sync>;
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

pub trait Input: Send {
    /// Reads until the input is exhausted (a generator's count, stdin's end) or
    /// `ctx.shutdown()` is cancelled. The pipeline ends when every input has returned.
    fn run(self: Box<Self>, ctx: InputContext) -> BoxFuture<Result<(), PluginError>>;
}

type Build = fn(&Settings) -> Result<Box<dyn Input>, ConfigError>;

/// Every input Sluice has, by its Logstash name.
pub const PLUGINS: &[(&str, Build)] = &[
    ("beats", beats::plugin::build),
    ("dead_letter_queue", dead_letter_queue::build),
    ("generator", generator::build),
    ("jaeger", jaeger::build),
    ("otlp", otlp::plugin::build),
    ("stdin", stdin::build),
];

/// Logstash inputs Sluice does not provide yet; named as such rather than as typos.
pub const NOT_YET: &[&str] = &[
    "elastic_agent",
    "file",
    "http",
    "kafka",
    "redis",
    "s3",
    "syslog",
    "tcp",
    "udp",
];

/// What Logstash's `decorate` adds to every event an input makes: `type` (unless the event
/// has one), `tags` and `add_field`.
#[derive(Default)]
pub struct Decoration {
    kind: Option<Text>,
    tags: Vec<Text>,
    add_field: Vec<(FieldRef, Template)>,
}

impl Decoration {
    pub fn from_settings(settings: &Settings) -> Result<Decoration, ConfigError> {
        let field = |s: &Spanned<String>| {
            FieldRef::parse(&s.node).map_err(|e| ConfigError::at(s.span, e.to_string()))
        };
        let template = |s: &Spanned<String>| {
            Template::compile(&s.node).map_err(|e| ConfigError::at(s.span, e.to_string()))
        };
        let decoration = Decoration {
            kind: settings.string("type")?.map(Text::from),
            tags: settings
                .string_list("tags")?
                .into_iter()
                .map(|t| Text::from(t.node))
                .collect(),
            add_field: settings
                .string_pairs("add_field")?
                .iter()
                .map(|(k, v)| Ok((field(k)?, template(v)?)))
                .collect::<Result<_, ConfigError>>()?,
        };
        settings.boolean("enable_metric")?;
        Ok(decoration)
    }

    fn apply(&self, event: &mut Event) {
        if let Some(kind) = &self.kind {
            if !event.fields().contains_key("type") {
                event
                    .fields_mut()
                    .insert(Text::from_static("type"), Value::String(kind.clone()));
            }
        }
        for tag in &self.tags {
            event.add_tag(tag.clone());
        }
        for (field, template) in &self.add_field {
            if !event.contains(field) {
                let value = template.render_to_string(event);
                event.insert(field, value.into());
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.kind.is_none() && self.tags.is_empty() && self.add_field.is_empty()
    }
}

/// Where an input's events go: the pipeline's queue, decorated on the way in. Cheap to clone
/// into every connection of a server input.
#[derive(Clone)]
pub struct EventSink {
    queue: Arc<Queue>,
    decoration: Arc<Decoration>,
    events_out: Counter,
    /// How long each hand-over waited for room: the back-pressure this input's senders feel.
    queue_wait: Histogram,
}

impl EventSink {
    /// Queues `events`, which already carry the finalizers of the receipt their input holds;
    /// waits while the queue is full. After shutdown has begun they are refused.
    pub async fn enqueue(&self, mut events: Vec<Event>) -> Result<(), Closed> {
        if !self.decoration.is_empty() {
            for event in &mut events {
                self.decoration.apply(event);
            }
        }
        let n = events.len() as u64;
        let started = std::time::Instant::now();
        self.queue.push(events).await?;
        self.queue_wait.observe(started.elapsed().as_secs_f64());
        self.events_out.add(n);
        Ok(())
    }

    /// A sink straight into `queue`, undecorated and unexported, for unit tests of inputs.
    #[cfg(test)]
    pub(crate) fn to_queue(queue: Arc<Queue>) -> EventSink {
        EventSink {
            queue,
            decoration: Arc::default(),
            events_out: Counter::default(),
            queue_wait: Histogram::default(),
        }
    }

    /// Queues `events` as one batch under a new receipt, which it returns.
    pub async fn send(&self, mut events: Vec<Event>) -> Result<Receipt, Closed> {
        let (receipt, batch) = receipt();
        for event in &mut events {
            event.set_finalizers(Finalizers::new(&batch));
        }
        drop(batch);
        self.enqueue(events).await?;
        Ok(receipt)
    }
}

/// An input's handle on its pipeline.
pub struct InputContext {
    pub pipeline: Arc<str>,
    pub id: Arc<str>,
    /// The pipeline's filters, output conditionals or outputs
    /// ([`crate::outputs::Output::reads_event_fields`]), or this input's own `type`, `tags` or
    /// `add_field`, look at every event's fields, so an input that can defer building them
    /// (Beats) gains nothing by it.
    pub reads_every_event: bool,
    sink: EventSink,
    shutdown: CancellationToken,
    ready: Option<tokio::sync::oneshot::Sender<()>>,
}

impl InputContext {
    pub(crate) fn new(
        pipeline: Arc<str>,
        id: Arc<str>,
        queue: Arc<Queue>,
        shutdown: CancellationToken,
        decoration: Arc<Decoration>,
        pipeline_reads_every_event: bool,
        ready: tokio::sync::oneshot::Sender<()>,
    ) -> InputContext {
        let labels: &[(&str, &str)] = &[("pipeline", &pipeline), ("plugin", &id)];
        let metrics = crate::observe::metrics::registry();
        let events_out = metrics.counter(
            "sluice_input_events_total",
            "Events an input handed to its pipeline.",
            labels,
        );
        let queue_wait = metrics.histogram(
            "sluice_input_queue_wait_seconds",
            "Time an input waited for room in its pipeline's queue per hand-over; its rate of \
             sum is the share of time the input was back-pressured.",
            labels,
            LATENCY_BUCKETS,
        );
        InputContext {
            pipeline,
            id,
            reads_every_event: pipeline_reads_every_event || !decoration.is_empty(),
            sink: EventSink {
                queue,
                decoration,
                events_out,
                queue_wait,
            },
            shutdown,
            ready: Some(ready),
        }
    }

    /// Queues `events` as one batch and returns its receipt; waits while the queue is full.
    /// After shutdown has begun the events are refused and their receipt fails.
    pub async fn send(&self, events: Vec<Event>) -> Result<Receipt, Closed> {
        self.sink.send(events).await
    }

    /// The queue's entrance, for inputs that hand events over from many tasks.
    pub fn sink(&self) -> EventSink {
        self.sink.clone()
    }

    /// Cancelled when the pipeline begins to shut down: stop accepting, finish, return.
    pub fn shutdown(&self) -> &CancellationToken {
        &self.shutdown
    }

    /// Tells the pipeline this input is listening (for `/ready`). Inputs that do not call it
    /// count as ready once they start running.
    pub fn mark_ready(&mut self) {
        if let Some(ready) = self.ready.take() {
            let _ = ready.send(());
        }
    }
}

/// This machine's host name, read once.
pub fn hostname() -> Text {
    static HOSTNAME: OnceLock<Text> = OnceLock::new();
    HOSTNAME
        .get_or_init(|| {
            let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .or_else(|_| std::fs::read_to_string("/etc/hostname"))
                .unwrap_or_default();
            let name = name.trim();
            Text::from(if name.is_empty() { "localhost" } else { name })
        })
        .clone()
}
