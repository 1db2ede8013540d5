//! What the `sluice` commands do: load and compile configuration, start pipelines and the
//! HTTP API, and stop gracefully on a signal. `main.rs` only parses the command line.

pub mod pipelines_yml;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::ast::Config;
use crate::config::error::ConfigError;
use crate::config::source::Sources;
use crate::config::{compile, load};
use crate::dlq::{DlqConfig, DlqWriter};
use crate::observe::api;
use crate::pipeline::PipelineSettings;

/// The quick-start pipeline, built in so `sluice run` works from any directory.
pub const QUICKSTART: &str = include_str!("../../pipelines/quickstart.conf");
pub const QUICKSTART_PATH: &str = "pipelines/quickstart.conf";

/// Where a pipeline's configuration comes from.
#[derive(Clone, Debug)]
pub enum ConfigSource {
    /// `-f`: a file, a directory of files, or a glob.
    Path(PathBuf),
    /// `-e`: configuration text on the command line.
    Inline(String),
    /// Neither: `pipelines/quickstart.conf` if present here, else the built-in copy.
    QuickStart,
}

/// One pipeline to run: its id, its configuration and its settings (from the command line,
/// or an entry of `pipelines.yml` over the command line's values).
#[derive(Clone, Debug)]
pub struct PipelineSpec {
    pub id: String,
    pub config: ConfigSource,
    pub support_escapes: bool,
    pub workers: usize,
    pub batch_size: usize,
    pub batch_delay: Duration,
    /// `queue.max_events`; workers × batch size when unset.
    pub queue_max_events: Option<usize>,
    pub dead_letter_queue_enabled: bool,
    pub dead_letter_queue: DlqConfig,
}

impl PipelineSpec {
    /// A pipeline with Logstash's default settings and the dead-letter queue off.
    pub fn new(id: &str, config: ConfigSource) -> PipelineSpec {
        let defaults = PipelineSettings::default();
        PipelineSpec {
            id: id.to_owned(),
            config,
            support_escapes: false,
            workers: defaults.workers,
            batch_size: defaults.batch_size,
            batch_delay: defaults.batch_delay,
            queue_max_events: None,
            dead_letter_queue_enabled: false,
            dead_letter_queue: DlqConfig::new("data/dead_letter_queue", id),
        }
    }

    pub fn settings(&self) -> PipelineSettings {
        PipelineSettings {
            workers: self.workers,
            batch_size: self.batch_size,
            batch_delay: self.batch_delay,
            queue_capacity: self
                .queue_max_events
                .unwrap_or(self.workers * self.batch_size),
        }
    }

    /// The queue's settings when `dead_letter_queue.enable` is on.
    pub fn dead_letter_queue(&self) -> Option<&DlqConfig> {
        self.dead_letter_queue_enabled
            .then_some(&self.dead_letter_queue)
    }
}

#[derive(Clone, Debug)]
pub struct RunOptions {
    pub pipelines: Vec<PipelineSpec>,
    pub api_enabled: bool,
    pub api_host: String,
    pub api_ports: std::ops::RangeInclusive<u16>,
}

/// Reads and parses the configuration; errors come back rendered.
pub fn load_config(
    source: &ConfigSource,
    support_escapes: bool,
) -> Result<(Sources, Config), String> {
    let loaded = match source {
        ConfigSource::Path(path) => load::load(path, support_escapes),
        ConfigSource::Inline(text) => load::load_str("config string", text, support_escapes),
        ConfigSource::QuickStart if Path::new(QUICKSTART_PATH).is_file() => {
            load::load(Path::new(QUICKSTART_PATH), support_escapes)
        }
        ConfigSource::QuickStart => load::load_str(QUICKSTART_PATH, QUICKSTART, support_escapes),
    };
    loaded.map_err(|(sources, error)| error.render(&sources))
}

fn render_all(errors: &[ConfigError], sources: &Sources) -> String {
    errors
        .iter()
        .map(|e| format!("error: {}", e.render(sources)))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// `sluice check`: parse and compile every pipeline, print each plan and its warnings; `Err`
/// holds the report of every error.
pub fn check(pipelines: &[PipelineSpec]) -> Result<String, String> {
    let mut report = String::new();
    let mut failed = false;
    for spec in pipelines {
        if pipelines.len() > 1 {
            report.push_str(&format!("== pipeline `{}`\n", spec.id));
        }
        match check_one(spec) {
            Ok(text) => report.push_str(&text),
            Err(text) => {
                report.push_str(&text);
                failed = true;
            }
        }
    }
    if failed {
        Err(report)
    } else {
        Ok(report)
    }
}

fn check_one(spec: &PipelineSpec) -> Result<String, String> {
    let (sources, config) = load_config(&spec.config, spec.support_escapes)?;
    let mut report = crate::config::outline::outline(&config, &sources);
    for warning in compile::warnings(&config) {
        report.push_str(&format!("\nwarning: {}\n", warning.render(&sources)));
    }
    match compile::compile(&config, &sources, &spec.id, spec.settings()) {
        Ok(_) => Ok(report),
        Err(errors) => Err(format!("{report}\n{}", render_all(&errors, &sources))),
    }
}

/// Loads and compiles one pipeline, with its dead-letter queue opened.
fn build(spec: &PipelineSpec) -> Result<crate::pipeline::Pipeline, String> {
    let (sources, config) = load_config(&spec.config, spec.support_escapes)?;
    for warning in compile::warnings(&config) {
        tracing::warn!(pipeline = %spec.id, "{}", warning.render(&sources));
    }
    let mut pipeline = compile::compile(&config, &sources, &spec.id, spec.settings())
        .map_err(|errors| render_all(&errors, &sources))?;
    if let Some(dlq) = spec.dead_letter_queue() {
        let path = dlq.path.join(&dlq.pipeline_id);
        let writer = DlqWriter::open(dlq.clone())
            .map_err(|e| format!("cannot open the dead-letter queue {}: {e}", path.display()))?;
        pipeline.dead_letter_queue = Some(Arc::new(Mutex::new(writer)));
    }
    Ok(pipeline)
}

/// `sluice run`: runs the pipelines until their inputs end or a signal stops them. Every
/// pipeline is compiled before any starts, so one bad configuration starts nothing.
pub async fn run(options: RunOptions) -> Result<(), String> {
    let mut signals = ShutdownSignals::install()?;
    let mut compiled = Vec::with_capacity(options.pipelines.len());
    let mut errors = Vec::new();
    for spec in &options.pipelines {
        match build(spec) {
            Ok(pipeline) => compiled.push((pipeline, spec.workers)),
            Err(e) if options.pipelines.len() > 1 => {
                errors.push(format!("pipeline `{}`:\n{e}", spec.id))
            }
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors.join("\n\n"));
    }

    let api = if options.api_enabled {
        let listener = api::bind(&options.api_host, options.api_ports.clone())
            .await
            .map_err(|e| {
                format!(
                    "cannot bind the HTTP API on {}:{:?}: {e}",
                    options.api_host, options.api_ports
                )
            })?;
        if let Some(addr) = api::local_addr(&listener) {
            tracing::info!(%addr, "HTTP API listening");
        }
        Some(listener)
    } else {
        None
    };

    let running: Vec<_> = compiled
        .into_iter()
        .map(|(pipeline, workers)| {
            let running = pipeline.start();
            tracing::info!(pipeline = %running.id, workers, "pipeline started");
            running
        })
        .collect();
    let health = api::Health::new(
        running
            .iter()
            .map(|p| (p.id.clone(), p.ready_flag()))
            .collect(),
    );
    if let Some(listener) = api {
        let health = health.clone();
        tokio::spawn(async move {
            if let Err(e) = api::serve(listener, health).await {
                tracing::error!(error = %e, "HTTP API stopped");
            }
        });
    }

    let stops: Vec<_> = running.iter().map(|p| p.shutdown_token()).collect();
    let waiting = wait_all(running);
    tokio::pin!(waiting);
    tokio::select! {
        () = &mut waiting => return Ok(()),
        () = signals.next() => {}
    }
    tracing::info!("signal received: draining in-flight events (signal again to exit at once)");
    health.set_stopping();
    for stop in &stops {
        stop.cancel();
    }
    tokio::select! {
        () = &mut waiting => Ok(()),
        () = signals.next() => {
            tracing::warn!("second signal: exiting without draining");
            std::process::exit(130);
        }
    }
}

/// Waits until every pipeline has stopped: each drains on its own, and the process ends when
/// the last one has.
async fn wait_all(pipelines: Vec<crate::pipeline::RunningPipeline>) {
    let mut waiting = tokio::task::JoinSet::new();
    for pipeline in pipelines {
        waiting.spawn(pipeline.wait());
    }
    while waiting.join_next().await.is_some() {}
}

/// SIGINT and SIGTERM, caught from the moment this is created: a signal that arrives while
/// pipelines are still starting must drain them too, not kill the process.
struct ShutdownSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn install() -> Result<ShutdownSignals, String> {
        use tokio::signal::unix::{signal, SignalKind};
        let install = |kind| signal(kind).map_err(|e| format!("cannot handle signals: {e}"));
        Ok(ShutdownSignals {
            interrupt: install(SignalKind::interrupt())?,
            terminate: install(SignalKind::terminate())?,
        })
    }

    /// Resolves on the next SIGINT or SIGTERM.
    async fn next(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
