//! The multiline codec's cost per line: the MangakAI backend log (`fixtures/mangakai/`,
//! 1306 lines, Java and Python traces) as Filebeat-shaped events from ten files interleaved,
//! stitched with the stack-trace rule `^%{TIMESTAMP_ISO8601} ` negated, `what => previous`.
//!
//! Reference, in the same run: the pattern test alone on every line (what any multiline
//! implementation must do), so the ratio is what keeping streams, joining messages and
//! merging receipts adds. Both sides clone the events they consume, on the clock.
//!
//! Besides criterion's report, prints lines/s of each and the ratio.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use sluice::codecs::multiline::stitch::{Rule, RuleSettings};
use sluice::codecs::multiline::streams::Streams;
use sluice::codecs::multiline::MultilineMetrics;
use sluice::event::{Event, FieldRef, Text, Value};
use sluice::filters::grok::{self, EcsCompatibility, Matcher, PatternLibrary};

const PATTERN: &str = "^%{TIMESTAMP_ISO8601} ";
const FILES: usize = 10;

/// The fixture's lines, each as an event of one of `FILES` files in turn (so consecutive lines
/// of one file are ten events apart, as interleaved as Filebeat's harvesters make them).
fn events() -> Vec<Event> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mangakai/backend.log"),
    )
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let host = FieldRef::parse("[host][name]").unwrap();
    let path = FieldRef::parse("[log][file][path]").unwrap();
    let mut out = Vec::with_capacity(lines.len() * FILES);
    for line in &lines {
        for file in 0..FILES {
            let mut event = Event::from_message(Text::from(*line));
            event.insert(&host, Value::String(Text::from("web-1")));
            event.insert(
                &path,
                Value::String(Text::from(format!("/var/log/app/{file}.log"))),
            );
            out.push(event);
        }
    }
    out
}

fn stitch(events: &[Event], rule: &Arc<Rule>, out: &mut Vec<Event>) -> usize {
    let mut streams = Streams::new(rule.clone(), 20_000, None, MultilineMetrics::default());
    out.clear();
    let now = Instant::now();
    for event in events {
        streams.push(event.clone(), now, out);
    }
    streams.flush_all(out);
    out.len()
}

fn pattern_only(events: &[Event], matcher: &Matcher) -> usize {
    let mut matched = 0;
    for event in events {
        let event = event.clone();
        let line = event
            .fields()
            .get("message")
            .and_then(Value::as_str)
            .unwrap();
        matched += matcher.is_match(line) as usize;
    }
    matched
}

/// Lines per second of `f` over about `span`.
fn rate(span: Duration, lines: usize, mut f: impl FnMut() -> usize) -> f64 {
    let start = Instant::now();
    let mut rounds = 0u64;
    while start.elapsed() < span {
        black_box(f());
        rounds += 1;
    }
    (rounds * lines as u64) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let events = events();
    let library = PatternLibrary::builtin(EcsCompatibility::default());
    let settings = RuleSettings {
        pattern: PATTERN,
        negate: true,
        ..RuleSettings::default()
    };
    let rule = Arc::new(Rule::new(settings, &library).unwrap());
    let matcher = grok::compile_pattern(PATTERN, &library).unwrap();
    let mut out = Vec::new();
    let records = stitch(&events, &rule, &mut out);
    assert!(records < events.len() && records > events.len() / 3);

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("multiline");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("stitch", |b| {
        b.iter(|| stitch(black_box(&events), &rule, &mut out))
    });
    group.bench_function("pattern_test_only", |b| {
        b.iter(|| pattern_only(black_box(&events), &matcher))
    });
    group.finish();

    // Under `cargo test --all-targets` (no `--bench`) criterion only checks the bench runs.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let span = Duration::from_secs(3);
    let r_stitch = rate(span, events.len(), || stitch(&events, &rule, &mut out));
    let r_pattern = rate(span, events.len(), || pattern_only(&events, &matcher));
    println!(
        "multiline: {} lines from {FILES} interleaved files into {records} events",
        events.len()
    );
    println!("multiline: stitch             {r_stitch:>12.0} lines/s");
    println!(
        "multiline: pattern test only  {r_pattern:>12.0} lines/s  (stitching costs {:.2}x the pattern test)",
        r_pattern / r_stitch
    );
}
