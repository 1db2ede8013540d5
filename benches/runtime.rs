//! Runtime overhead per event: generator → mutate → null, through the real queue, worker
//! threads, plan and receipts. Prints events/s and heap allocations per event.
//!
//! cargo bench --bench runtime

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sluice::config::{compile, load};
use sluice::pipeline::PipelineSettings;

#[path = "support/counting_allocator.rs"]
mod counting_allocator;

#[global_allocator]
static GLOBAL: counting_allocator::Counting = counting_allocator::Counting;

const EVENTS: u64 = 200_000;

fn config(events: u64) -> String {
    format!(
        r#"input {{ generator {{ count => {events} lines => ["2026-11-24 16:17:54,123 ERROR com.mangakai.render.PageRenderer Failed to render page 42"] }} }}
filter {{
  if [message] =~ /ERROR/ {{ mutate {{ add_tag => ["error"] }} }}
  mutate {{ rename => {{ "[event][sequence]" => "sequence" }} replace => {{ "[service]" => "mangakai" }} }}
}}
output {{ null {{}} }}"#
    )
}

/// Runs one whole pipeline of `events` events and returns how long it took.
fn run_pipeline(runtime: &tokio::runtime::Runtime, events: u64) -> Duration {
    let (sources, parsed) =
        load::load_str("bench.conf", &config(events), false).expect("bench config parses");
    let settings = PipelineSettings {
        workers: 1,
        ..PipelineSettings::default()
    };
    let pipeline =
        compile::compile(&parsed, &sources, "bench", settings).unwrap_or_else(|e| panic!("{e:?}"));
    let started = Instant::now();
    runtime.block_on(async { pipeline.start().wait().await });
    started.elapsed()
}

fn runtime_overhead(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();

    let before = counting_allocator::allocations();
    let elapsed = run_pipeline(&runtime, EVENTS);
    let allocations = counting_allocator::allocations() - before;
    println!(
        "runtime: {EVENTS} events in {elapsed:?}: {:.0} events/s, {:.2} allocations per event (1 worker)",
        EVENTS as f64 / elapsed.as_secs_f64(),
        allocations as f64 / EVENTS as f64
    );

    let mut group = c.benchmark_group("runtime");
    group.throughput(Throughput::Elements(EVENTS));
    group.sample_size(10);
    group.bench_function("generator_mutate_null", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| run_pipeline(&runtime, EVENTS)).sum())
    });
    group.finish();
}

criterion_group!(benches, runtime_overhead);
criterion_main!(benches);
