//! What the `sluice` commands do: load and compile configuration, start pipelines and the
//! HTTP API, and stop gracefully on a signal. `main.rs` only parses the command line.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::config::ast::Config;
use crate::config::error::ConfigError;
use crate::config::source::Sources;
use crate::config::{compile, load};
use crate::dlq::{DlqConfig, DlqWriter};
use crate::observe::api;
use crate::pipeline::PipelineSettings;

/// The quick-start pipeline, built in so `sluice run` works from any directory.
pub const QUICKSTART: &str = include_str!("../pipelines/quickstart.conf");
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

#[derive(Clone, Debug)]
pub struct RunOptions {
    pub config: ConfigSource,
    pub pipeline_id: String,
    pub settings: PipelineSettings,
    pub support_escapes: bool,
    pub api_enabled: bool,
    pub api_host: String,
    pub api_ports: std::ops::RangeInclusive<u16>,
    /// `dead_letter_queue.enable` and the queue's settings; `None` when disabled.
    pub dead_letter_queue: Option<DlqConfig>,
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

/// `sluice check`: parse and compile, print the plan and warnings; `Err` holds the report of
/// every error.
pub fn check(source: &ConfigSource, support_escapes: bool) -> Result<String, String> {
    let (sources, config) = load_config(source, support_escapes)?;
    let mut report = crate::config::outline::outline(&config, &sources);
    for warning in compile::warnings(&config) {
        report.push_str(&format!("\nwarning: {}\n", warning.render(&sources)));
    }
    match compile::compile(&config, &sources, "main", PipelineSettings::default()) {
        Ok(_) => Ok(report),
        Err(errors) => Err(format!("{report}\n{}", render_all(&errors, &sources))),
    }
}

/// `sluice run`: runs the pipeline until its inputs end or a signal stops it.
pub async fn run(options: RunOptions) -> Result<(), String> {
    let mut signals = ShutdownSignals::install()?;
    let (sources, config) = load_config(&options.config, options.support_escapes)?;
    for warning in compile::warnings(&config) {
        tracing::warn!("{}", warning.render(&sources));
    }
    let mut pipeline = compile::compile(
        &config,
        &sources,
        &options.pipeline_id,
        options.settings.clone(),
    )
    .map_err(|errors| render_all(&errors, &sources))?;
    if let Some(dlq) = options.dead_letter_queue.clone() {
        let path = dlq.path.join(&dlq.pipeline_id);
        let writer = DlqWriter::open(dlq)
            .map_err(|e| format!("cannot open the dead-letter queue {}: {e}", path.display()))?;
        pipeline.dead_letter_queue = Some(Arc::new(Mutex::new(writer)));
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

    let running = pipeline.start();
    tracing::info!(pipeline = %running.id, workers = options.settings.workers, "pipeline started");
    let health = api::Health::new(vec![(running.id.clone(), running.ready_flag())]);
    if let Some(listener) = api {
        let health = health.clone();
        tokio::spawn(async move {
            if let Err(e) = api::serve(listener, health).await {
                tracing::error!(error = %e, "HTTP API stopped");
            }
        });
    }

    let stop = running.shutdown_token();
    let waiting = running.wait();
    tokio::pin!(waiting);
    tokio::select! {
        () = &mut waiting => return Ok(()),
        () = signals.next() => {}
    }
    tracing::info!("signal received: draining in-flight events (signal again to exit at once)");
    health.set_stopping();
    stop.cancel();
    tokio::select! {
        () = &mut waiting => Ok(()),
        () = signals.next() => {
            tracing::warn!("second signal: exiting without draining");
            std::process::exit(130);
        }
    }
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
