//! The `sluice` command line. Parsing only: every command's work lives in the library.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use sluice::app::{self, pipelines_yml, ConfigSource, PipelineSpec, RunOptions};
use sluice::dlq::{self, DlqConfig, StoragePolicy};
use sluice::inputs::beats::loadgen::{loadgen, LoadgenSettings};

/// mimalloc instead of the C library's allocator: events are trees of small vectors made on
/// one thread and freed on another, which glibc's malloc serves slowly and musl's (the static
/// container build) far more slowly still. Decoding a Filebeat window spent ~25 % of its time
/// in glibc's malloc and free (docs/PERFORMANCE.md, Beats).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Turns transparent huge pages off for this process. mimalloc gives memory back to the
/// kernel about a second after it was last used, and with THP the next touch of such a region
/// faults in a whole 2 MiB page that the kernel zeroes first. Traffic that comes in requests a
/// few hundred milliseconds apart paid that over and over: 11 % of Sluice's CPU in the traces
/// end-to-end benchmark was `clear_page` under huge-page faults (docs/PERFORMANCE.md). With
/// 4 KiB pages the same reuse costs a few hundred small faults.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes integers only; if it fails, THP stays as it was.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[derive(Parser)]
#[command(
    name = "sluice",
    version,
    about = "Logs and traces in, the Logstash pipeline language in the middle, Elasticsearch out."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a pipeline (the quick-start pipeline when no configuration is given).
    Run(Box<RunArgs>),
    /// Parse and compile a configuration, print its plan and warnings; exit 1 on errors.
    Check(ConfigArgs),
    /// Match lines from standard input with grok patterns; one JSON object per line out
    /// (the captures, or the failure tag). A grok debugger.
    Grok(GrokArgs),
    /// Read a pipeline's dead-letter queue.
    Dlq(DlqArgs),
    /// Send load to a running input and print events/s.
    #[command(subcommand)]
    Loadgen(LoadgenTarget),
    /// Ask a running Sluice's API whether it is ready (exit 0) or not (exit 1): a container
    /// health check that needs no shell or curl.
    Health(HealthArgs),
    /// A live view of a running Sluice: events/s per pipeline and plugin, queue fill, ACK
    /// latency, Elasticsearch and dead-letter queue state, spans per endpoint.
    Top(TopArgs),
    /// Print the version.
    Version,
}

/// Where a running Sluice's API answers.
#[derive(Args)]
struct ApiAddress {
    /// The API's address.
    #[arg(
        long = "api.http.address",
        value_name = "HOST:PORT",
        default_value = "127.0.0.1:9600"
    )]
    address: String,
}

#[derive(Args)]
struct HealthArgs {
    #[command(flatten)]
    api: ApiAddress,
    /// Ask `/live` (the process serves requests) instead of `/ready` (every pipeline takes
    /// input).
    #[arg(long)]
    live: bool,
    /// Seconds to wait for an answer.
    #[arg(long, default_value_t = 3)]
    timeout: u64,
}

#[derive(Args)]
struct TopArgs {
    #[command(flatten)]
    api: ApiAddress,
    /// Seconds between two scrapes of `/metrics`.
    #[arg(long, default_value_t = 1.0)]
    interval: f64,
}

#[derive(Args)]
struct GrokArgs {
    /// The pattern, e.g. `%{COMBINEDAPACHELOG}`.
    #[arg(long, conflicts_with = "match_file")]
    pattern: Option<String>,
    /// A file of patterns, one per line, tried in order.
    #[arg(long = "match-file", value_name = "FILE")]
    match_file: Option<PathBuf>,
    /// The pattern set: `disabled` (legacy names), `v1` or `v8` (ECS names; the default).
    #[arg(long = "ecs", value_name = "MODE")]
    ecs: Option<String>,
    /// Directories of extra pattern files.
    #[arg(long = "patterns-dir", value_name = "DIR")]
    patterns_dir: Vec<PathBuf>,
}

#[derive(Args)]
struct DlqArgs {
    /// The dead-letter queue's directory, as given to `run`.
    #[arg(long = "path", default_value = "data/dead_letter_queue")]
    path: PathBuf,
    /// The pipeline whose queue to read.
    #[arg(long = "pipeline", default_value = "main")]
    pipeline: String,
    #[command(subcommand)]
    action: DlqAction,
}

#[derive(Subcommand)]
enum DlqAction {
    /// One line per record: time, output, index, action, status, error type and reason.
    List,
    /// Each record with its event, as a JSON line.
    Show,
}

#[derive(Subcommand)]
enum LoadgenTarget {
    /// Filebeat-like Lumberjack v2 windows to a `beats` input (loopback or your own hosts only).
    Beats(BeatsLoadArgs),
}

#[derive(Args)]
struct BeatsLoadArgs {
    /// The beats input's address.
    #[arg(value_name = "HOST:PORT", default_value = "127.0.0.1:5044", value_parser = socket_addr)]
    address: SocketAddr,
    /// Events to send in total.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Events per window (Filebeat's `bulk_max_size`).
    #[arg(long, default_value_t = 2048)]
    window_size: u32,
    /// Windows in flight per connection (Filebeat's `pipelining: 2` puts three on the wire).
    #[arg(long, default_value_t = 3)]
    pipelining: usize,
    /// zlib level 1–9, or 0 for uncompressed windows (Filebeat's default is 3).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=9))]
    compression_level: u32,
    /// Connections sending at once (Filebeat's `worker`).
    #[arg(long, default_value_t = 1)]
    connections: usize,
}

/// `host:port`, resolved (so `localhost:5044` works).
fn socket_addr(text: &str) -> Result<SocketAddr, String> {
    text.to_socket_addrs()
        .map_err(|e| format!("`{text}`: {e}"))?
        .next()
        .ok_or_else(|| format!("`{text}` resolves to no address"))
}

#[derive(Args, Default)]
struct ConfigArgs {
    /// A configuration file, a directory of them, or a glob.
    #[arg(short = 'f', long = "path.config", value_name = "PATH")]
    path: Option<PathBuf>,
    /// Configuration text, as Logstash's `-e`.
    #[arg(
        short = 'e',
        long = "config.string",
        value_name = "CONFIG",
        conflicts_with = "path"
    )]
    string: Option<String>,
    /// Process escape sequences (`\n`, `\t`, `\"`…) in quoted strings, as Logstash's
    /// `config.support_escapes`.
    #[arg(long = "config.support_escapes")]
    support_escapes: bool,
    /// Run the pipelines listed in this directory's `pipelines.yml` (or this file), each
    /// with its own queue, workers and metrics; their unset settings come from the flags.
    #[arg(long = "path.settings", value_name = "DIR", conflicts_with_all = ["path", "string"])]
    path_settings: Option<PathBuf>,
}

impl ConfigArgs {
    fn source(&self) -> ConfigSource {
        match (&self.path, &self.string) {
            (Some(path), _) => ConfigSource::Path(path.clone()),
            (None, Some(text)) => ConfigSource::Inline(text.clone()),
            (None, None) => ConfigSource::QuickStart,
        }
    }

    /// The pipelines to run: those of `pipelines.yml` over `defaults`, or `defaults` alone
    /// with the configuration given by `-f`/`-e` (or the quick start).
    fn pipelines(&self, mut defaults: PipelineSpec) -> Result<Vec<PipelineSpec>, String> {
        defaults.support_escapes = self.support_escapes;
        match &self.path_settings {
            Some(path) => pipelines_yml::load(path, &defaults),
            None => {
                defaults.config = self.source();
                Ok(vec![defaults])
            }
        }
    }
}

#[derive(Args, Default)]
struct RunArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// The pipeline's id (metrics label).
    #[arg(long = "pipeline.id", default_value = "main")]
    pipeline_id: String,
    /// Worker threads running filters and routing (default: one per core).
    #[arg(short = 'w', long = "pipeline.workers")]
    workers: Option<usize>,
    /// Events a worker takes at once.
    #[arg(short = 'b', long = "pipeline.batch.size", default_value_t = 125)]
    batch_size: usize,
    /// Milliseconds a worker waits for a batch to fill.
    #[arg(short = 'u', long = "pipeline.batch.delay", default_value_t = 50)]
    batch_delay_ms: u64,
    /// Events the queue holds before inputs wait (default: workers × batch size).
    #[arg(long = "queue.max_events")]
    queue_events: Option<usize>,
    /// Address of the HTTP API.
    #[arg(long = "api.http.host", default_value = "127.0.0.1")]
    api_host: String,
    /// Port of the HTTP API, or a range to try in order.
    #[arg(long = "api.http.port", default_value = "9600-9700")]
    api_port: String,
    /// Serve the HTTP API.
    #[arg(long = "api.enabled", default_value_t = true, action = clap::ArgAction::Set)]
    api_enabled: bool,
    /// Keep events an output can never deliver (e.g. a mapping conflict) in the
    /// dead-letter queue instead of failing their batch.
    #[arg(long = "dead_letter_queue.enable", default_value_t = false, action = clap::ArgAction::Set)]
    dlq_enable: bool,
    /// The dead-letter queue's directory; each pipeline has a subdirectory.
    #[arg(
        long = "path.dead_letter_queue",
        default_value = "data/dead_letter_queue"
    )]
    dlq_path: PathBuf,
    /// The queue's size limit, e.g. `1024mb`.
    #[arg(long = "dead_letter_queue.max_bytes", default_value = "1024mb", value_parser = sluice::dlq::parse_size)]
    dlq_max_bytes: u64,
    /// When the queue is full: `block` (wait for room; nothing is lost), `drop_newer` or
    /// `drop_older`.
    #[arg(long = "dead_letter_queue.storage_policy", default_value = "block", value_parser = ["block", "drop_newer", "drop_older"])]
    dlq_storage_policy: String,
    /// Log level (or RUST_LOG).
    #[arg(long = "log.level", default_value = "info")]
    log_level: String,
    /// Log lines as `plain` text or `json`.
    #[arg(long = "log.format", default_value = "plain", value_parser = ["plain", "json"])]
    log_format: String,
}

fn port_range(text: &str) -> Result<std::ops::RangeInclusive<u16>, String> {
    let parse = |s: &str| {
        s.trim()
            .parse::<u16>()
            .map_err(|_| format!("invalid port `{s}`"))
    };
    match text.split_once('-') {
        Some((a, b)) => Ok(parse(a)?..=parse(b)?),
        None => {
            let p = parse(text)?;
            Ok(p..=p)
        }
    }
}

fn main() -> ExitCode {
    no_transparent_huge_pages();
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Run(Box::new(RunArgs {
        pipeline_id: "main".into(),
        batch_size: 125,
        batch_delay_ms: 50,
        api_host: "127.0.0.1".into(),
        api_port: "9600-9700".into(),
        api_enabled: true,
        log_level: "info".into(),
        log_format: "plain".into(),
        dlq_path: "data/dead_letter_queue".into(),
        dlq_max_bytes: 1 << 30,
        dlq_storage_policy: "block".into(),
        ..RunArgs::default()
    }))) {
        Command::Version => {
            println!("sluice {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Check(args) => match args
            .pipelines(PipelineSpec::new("main", ConfigSource::QuickStart))
            .and_then(|pipelines| app::check(&pipelines))
        {
            Ok(report) => {
                println!("{report}");
                println!("Configuration OK");
                ExitCode::SUCCESS
            }
            Err(report) => {
                eprintln!("{report}");
                ExitCode::FAILURE
            }
        },
        Command::Run(args) => run(*args),
        Command::Dlq(args) => {
            // Damage the reader skips over is reported as a warning on stderr.
            sluice::observe::logging::init("warn", false);
            let mut out = std::io::stdout().lock();
            let read = match args.action {
                DlqAction::List => dlq::cli::list(&args.path, &args.pipeline, &mut out),
                DlqAction::Show => dlq::cli::show(&args.path, &args.pipeline, &mut out),
            };
            match read {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Grok(args) => grok(args),
        Command::Health(args) => health(args),
        Command::Top(args) => top(args),
        Command::Loadgen(LoadgenTarget::Beats(args)) => loadgen_beats(args),
    }
}

fn health(args: HealthArgs) -> ExitCode {
    use sluice::observe::probe::{probe, Check};
    let check = if args.live { Check::Live } else { Check::Ready };
    match probe(
        &args.api.address,
        check,
        Duration::from_secs(args.timeout.max(1)),
    ) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("unhealthy: {e}");
            ExitCode::FAILURE
        }
    }
}

fn top(args: TopArgs) -> ExitCode {
    let interval = Duration::from_secs_f64(args.interval.clamp(0.1, 3600.0));
    match sluice::observe::top::run(&args.api.address, interval) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: sluice top: {e}");
            ExitCode::FAILURE
        }
    }
}

fn grok(args: GrokArgs) -> ExitCode {
    use sluice::filters::grok::cli;
    let result = cli::CliOptions::from_args(
        args.pattern,
        args.match_file.as_deref(),
        args.ecs.as_deref(),
        args.patterns_dir,
    )
    .and_then(|options| cli::run_cli(&options, std::io::stdin().lock(), std::io::stdout().lock()));
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn loadgen_beats(args: BeatsLoadArgs) -> ExitCode {
    let settings = LoadgenSettings {
        events: args.events,
        window_size: args.window_size,
        pipelining: args.pipelining,
        compression_level: args.compression_level,
        connections: args.connections,
        ..LoadgenSettings::new(args.address)
    };
    let runtime = tokio::runtime::Runtime::new().expect("building the tokio runtime");
    match runtime.block_on(loadgen(&settings)) {
        Ok(report) => {
            println!(
                "{} events in {} windows over {} connection(s), {:.3} s, {:.0} events/s, {} keep-alives, {} bytes sent",
                report.events,
                report.windows,
                settings.connections,
                report.elapsed.as_secs_f64(),
                report.events_per_second(),
                report.keepalives,
                report.bytes_sent
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: loadgen beats {}: {e}", settings.address);
            ExitCode::FAILURE
        }
    }
}

fn run(args: RunArgs) -> ExitCode {
    sluice::observe::logging::init(&args.log_level, args.log_format == "json");
    let api_ports = match port_range(&args.api_port) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: --api.http.port: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut defaults = PipelineSpec::new(&args.pipeline_id, ConfigSource::QuickStart);
    if let Some(workers) = args.workers {
        defaults.workers = workers.max(1);
    }
    defaults.batch_size = args.batch_size.max(1);
    defaults.batch_delay = Duration::from_millis(args.batch_delay_ms);
    defaults.queue_max_events = args.queue_events.map(|n| n.max(1));
    defaults.dead_letter_queue_enabled = args.dlq_enable;
    defaults.dead_letter_queue = DlqConfig {
        max_bytes: args.dlq_max_bytes,
        storage_policy: StoragePolicy::parse(&args.dlq_storage_policy)
            .expect("clap allows only the policies"),
        ..DlqConfig::new(&args.dlq_path, &args.pipeline_id)
    };
    let pipelines = match args.config.pipelines(defaults) {
        Ok(pipelines) => pipelines,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let options = RunOptions {
        pipelines,
        api_enabled: args.api_enabled,
        api_host: args.api_host,
        api_ports,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("sluice-io")
        .build()
        .expect("building the tokio runtime");
    match runtime.block_on(app::run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) => {
            eprintln!("{report}");
            ExitCode::FAILURE
        }
    }
}
