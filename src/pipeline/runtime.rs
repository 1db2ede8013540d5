//! A pipeline at run time: inputs as async tasks, workers as OS threads (so a busy filter
//! never stalls an input's timers), outputs as async tasks, and the order things stop in.
//!
//! Shutdown drains: inputs stop accepting first; the queue closes and workers finish what it
//! holds; their output channels close and each output finishes what it was given. Only then
//! is the pipeline done.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::plan::Plan;
use super::queue::Queue;
use crate::dlq::SharedDlq;
use crate::event::Event;
use crate::inputs::{Decoration, Input, InputContext};
use crate::observe::metrics::{registry, Counter, Gauge, Histogram, LATENCY_BUCKETS};
use crate::outputs::{Output, OutputContext};

/// Logstash's `pipeline.*` settings.
#[derive(Clone, Debug)]
pub struct PipelineSettings {
    pub workers: usize,
    pub batch_size: usize,
    pub batch_delay: Duration,
    /// Events the queue holds before inputs wait.
    pub queue_capacity: usize,
}

impl Default for PipelineSettings {
    fn default() -> PipelineSettings {
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        PipelineSettings {
            workers,
            batch_size: 125,
            batch_delay: Duration::from_millis(50),
            queue_capacity: workers * 125,
        }
    }
}

pub struct InputNode {
    pub id: Arc<str>,
    pub input: Box<dyn Input>,
    pub decoration: Arc<Decoration>,
}

pub struct OutputNode {
    pub id: Arc<str>,
    pub output: Box<dyn Output>,
}

/// A compiled pipeline, ready to start.
pub struct Pipeline {
    pub id: Arc<str>,
    pub settings: PipelineSettings,
    pub inputs: Vec<InputNode>,
    pub plan: Plan,
    pub outputs: Vec<OutputNode>,
    /// Handed to every output (`dead_letter_queue.enable`); `None` when disabled.
    pub dead_letter_queue: Option<SharedDlq>,
}

impl Pipeline {
    /// Whether running the pipeline looks at every event's fields: its filters or output
    /// conditionals ([`Plan::reads_every_event`]) or one of its outputs
    /// ([`Output::reads_event_fields`]).
    pub fn reads_every_event(&self) -> bool {
        self.plan.reads_every_event() || self.outputs.iter().any(|n| n.output.reads_event_fields())
    }
}

/// A started pipeline.
pub struct RunningPipeline {
    pub id: Arc<str>,
    shutdown: CancellationToken,
    ready: Arc<AtomicBool>,
    done: tokio::task::JoinHandle<()>,
}

impl RunningPipeline {
    /// Begins a graceful shutdown: inputs stop, in-flight events drain through the outputs.
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    /// The token that [`RunningPipeline::shutdown`] cancels, for callers that wait meanwhile.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// True once every input is listening.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    pub fn ready_flag(&self) -> Arc<AtomicBool> {
        self.ready.clone()
    }

    /// Waits until the pipeline has drained and stopped (after shutdown, or when every input
    /// ended on its own).
    pub async fn wait(self) {
        let _ = self.done.await;
    }
}

struct WorkerMetrics {
    filtered: Counter,
    out: Counter,
    queue_depth: Gauge,
    batch_seconds: Histogram,
}

impl Pipeline {
    /// Starts every part; must be called inside a multi-threaded tokio runtime.
    pub fn start(self) -> RunningPipeline {
        let shutdown = CancellationToken::new();
        let ready = Arc::new(AtomicBool::new(false));
        let id = self.id.clone();
        let done = tokio::spawn(self.run(shutdown.clone(), ready.clone()));
        RunningPipeline {
            id,
            shutdown,
            ready,
            done,
        }
    }

    async fn run(self, shutdown: CancellationToken, ready: Arc<AtomicBool>) {
        let reads_every_event = self.reads_every_event();
        let Pipeline {
            id,
            settings,
            inputs,
            plan,
            outputs,
            dead_letter_queue,
        } = self;
        let labels: &[(&str, &str)] = &[("pipeline", &id)];
        let metrics = registry();
        let worker_metrics = Arc::new(WorkerMetrics {
            filtered: metrics.counter("sluice_pipeline_events_filtered_total", "Events that left the filter stage.", labels),
            out: metrics.counter("sluice_pipeline_events_out_total", "Events handed to outputs (counted once per output).", labels),
            queue_depth: metrics.gauge("sluice_pipeline_queue_events", "Events waiting in the pipeline's queue.", labels),
            batch_seconds: metrics.histogram("sluice_pipeline_batch_duration_seconds", "Time a worker spends on one batch, from taking it off the queue until every output accepted it.", labels, LATENCY_BUCKETS),
        });
        metrics
            .gauge(
                "sluice_pipeline_queue_capacity_events",
                "Events the pipeline's queue holds before inputs wait.",
                labels,
            )
            .set(settings.queue_capacity as i64);
        let queue = Arc::new(Queue::new(settings.queue_capacity));

        let mut output_tasks = Vec::new();
        let mut senders = Vec::new();
        for node in outputs {
            let (tx, rx) = mpsc::channel::<Vec<Event>>(settings.workers.max(1));
            let ctx = OutputContext {
                pipeline: id.clone(),
                id: node.id.clone(),
                dead_letter_queue: dead_letter_queue.clone(),
            };
            let events_in = metrics.counter(
                "sluice_output_events_total",
                "Events handed to an output.",
                &[("pipeline", &id), ("plugin", &node.id)],
            );
            senders.push((tx, events_in));
            output_tasks.push(tokio::spawn(node.output.run(rx, ctx)));
        }

        let plan = Arc::new(plan);
        let senders = Arc::new(senders);
        let mut workers = Vec::new();
        for n in 0..settings.workers.max(1) {
            let (queue, plan, senders, metrics) = (
                queue.clone(),
                plan.clone(),
                senders.clone(),
                worker_metrics.clone(),
            );
            let settings = settings.clone();
            let name = format!("{id}-worker-{n}");
            let worker = std::thread::Builder::new()
                .name(name)
                .spawn(move || work(&queue, &plan, &senders, &settings, &metrics))
                .expect("spawning a pipeline worker thread");
            workers.push(worker);
        }
        drop(senders);

        let mut input_tasks = Vec::new();
        let mut ready_signals = Vec::new();
        for node in inputs {
            let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
            ready_signals.push(ready_rx);
            let ctx = InputContext::new(
                id.clone(),
                node.id.clone(),
                queue.clone(),
                shutdown.clone(),
                node.decoration,
                reads_every_event,
                ready_tx,
            );
            let input_id = node.id.clone();
            let pipeline = id.clone();
            input_tasks.push(tokio::spawn(async move {
                if let Err(e) = node.input.run(ctx).await {
                    tracing::error!(pipeline = %pipeline, plugin = %input_id, error = %e, "input stopped with an error");
                }
            }));
        }
        tokio::spawn(async move {
            for signal in ready_signals {
                // An input that ended before saying so is not holding readiness back.
                let _ = signal.await;
            }
            ready.store(true, Ordering::Relaxed);
        });

        for task in input_tasks {
            let _ = task.await;
        }
        tracing::info!(pipeline = %id, "inputs stopped; draining the queue through the outputs");
        queue.close();
        let _ = tokio::task::spawn_blocking(move || {
            for worker in workers {
                let _ = worker.join();
            }
        })
        .await;
        for task in output_tasks {
            let _ = task.await;
        }
        tracing::info!(pipeline = %id, "pipeline stopped");
    }
}

fn work(
    queue: &Queue,
    plan: &Plan,
    senders: &[(mpsc::Sender<Vec<Event>>, Counter)],
    settings: &PipelineSettings,
    metrics: &WorkerMetrics,
) {
    while let Some(mut batch) = queue.pop_batch(settings.batch_size, settings.batch_delay) {
        let started = Instant::now();
        metrics.queue_depth.set(queue.len() as i64);
        plan.run_filters(&mut batch);
        metrics.filtered.add(batch.len() as u64);
        for (batch, (sender, events_in)) in plan.route(batch).into_iter().zip(senders) {
            if batch.is_empty() {
                continue;
            }
            let n = batch.len() as u64;
            // Waiting here is the back-pressure from a slow output. If the output is gone,
            // the events are dropped unfinalized and their receipts fail.
            if sender.blocking_send(batch).is_ok() {
                events_in.add(n);
                metrics.out.add(n);
            }
        }
        metrics
            .batch_seconds
            .observe(started.elapsed().as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{compile::compile, load::load_str};
    use crate::pipeline::PipelineSettings;

    fn reads_every_event(config: &str) -> bool {
        let (sources, config) = load_str("test", config, false).unwrap();
        let pipeline = compile(&config, &sources, "main", PipelineSettings::default())
            .unwrap_or_else(|e| panic!("compiles: {e:?}"));
        pipeline.reads_every_event()
    }

    #[test]
    fn filters_output_conditionals_and_field_reading_outputs_read_every_event() {
        let input = "input { beats { port => 0 } }";
        assert!(!reads_every_event(&format!(
            "{input} output {{ null {{}} }}"
        )));
        assert!(reads_every_event(&format!(
            "{input} filter {{ mutate {{ add_tag => [\"x\"] }} }} output {{ null {{}} }}"
        )));
        assert!(reads_every_event(&format!(
            "{input} output {{ if [level] == \"error\" {{ null {{}} }} }}"
        )));
        // Outputs that write the JSON as received, naming only the date or `[@metadata]`.
        for output in [
            r#"elasticsearch { index => "%{[@metadata][beat]}-%{+YYYY.MM.dd}" manage_template => false }"#,
            r#"file { path => "/tmp/out-%{+YYYY}.log" }"#,
            r#"stdout { codec => json_lines }"#,
        ] {
            assert!(
                !reads_every_event(&format!("{input} output {{ {output} }}")),
                "{output}"
            );
        }
        // Outputs that read fields to write an event.
        for output in [
            r#"elasticsearch { index => "logs-%{[fields][service]}" }"#,
            r#"elasticsearch { document_id => "%{id}" }"#,
            r#"elasticsearch { idempotent_ids => true }"#,
            r#"file { path => "/tmp/%{host}.log" }"#,
            r#"stdout {}"#,
            r#"email { to => "a@b" }"#,
        ] {
            assert!(
                reads_every_event(&format!("{input} output {{ {output} }}")),
                "{output}"
            );
        }
    }
}
