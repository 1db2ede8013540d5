//! The multiline codec's streams on arbitrary lines: whatever the lines, settings and
//! interleaving, every line comes out exactly once, in its stream's order, inside an event
//! within the limits, no more streams stay open than allowed, and every line's receipt
//! resolves once the events it went into are output.
//!
//! Run with `cargo +nightly fuzz run multiline` from the repository root.

#![no_main]

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use sluice::codecs::multiline::stitch::{Rule, RuleSettings, What};
use sluice::codecs::multiline::streams::Streams;
use sluice::codecs::multiline::MultilineMetrics;
use sluice::event::{Event, FieldRef, Text, Value};
use sluice::filters::grok::{EcsCompatibility, PatternLibrary};
use sluice::pipeline::receipt::{receipt, Delivery, Finalizers, Receipt};

const PATTERNS: [&str; 4] = ["^%{TIMESTAMP_ISO8601} ", r"^\s", r"\\$", "^$"];
const STREAMS: usize = 6;

/// The rule `choice` selects, compiled once: compiling the pattern dominates a run otherwise.
fn rule_for(choice: u8) -> Arc<Rule> {
    static RULES: OnceLock<Mutex<HashMap<u8, Arc<Rule>>>> = OnceLock::new();
    let mut rules = RULES.get_or_init(Default::default).lock().unwrap();
    rules
        .entry(choice)
        .or_insert_with(|| {
            let settings = RuleSettings {
                pattern: PATTERNS[choice as usize % PATTERNS.len()],
                negate: choice & 16 != 0,
                what: if choice & 32 != 0 {
                    What::Next
                } else {
                    What::Previous
                },
                max_lines: max_lines(choice),
                max_bytes: max_bytes(choice),
                ..RuleSettings::default()
            };
            let library = PatternLibrary::builtin(EcsCompatibility::default());
            Arc::new(Rule::new(settings, &library).unwrap())
        })
        .clone()
}

fn max_lines(choice: u8) -> usize {
    1 + (choice as usize & 7)
}

fn max_bytes(choice: u8) -> usize {
    8 + (choice as usize >> 3 & 7) * 16
}

fn resolved(receipt: &mut Receipt) -> Option<Delivery> {
    match Pin::new(receipt).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(d) => Some(d),
        Poll::Pending => None,
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&choice, data)) = input.split_first() else {
        return;
    };
    let (max_lines, max_bytes) = (max_lines(choice), max_bytes(choice));
    let max_streams = 1 + (choice as usize >> 6 & 3);
    let rule = rule_for(choice);
    let mut streams = Streams::new(
        rule,
        max_streams,
        Some(Duration::from_secs(1)),
        MultilineMetrics::default(),
    );
    let path = FieldRef::parse("[log][file][path]").unwrap();
    let mut now = Instant::now();
    let mut sent: Vec<Vec<String>> = vec![Vec::new(); STREAMS];
    let mut receipts = Vec::new();
    let mut out = Vec::new();
    // Each line: its first byte picks the stream and how much time passes before it.
    for raw in data.split(|&b| b == b'\n') {
        let Some((&which, line)) = raw.split_first() else {
            continue;
        };
        let stream = which as usize % STREAMS;
        let line = String::from_utf8_lossy(line).into_owned();
        now += Duration::from_millis((which as u64 >> 4) * 100);
        let (r, batch) = receipt();
        let mut event = Event::from_message(Text::from(line.as_str()));
        event.insert(&path, Value::String(Text::from(stream.to_string())));
        event.set_finalizers(Finalizers::new(&batch));
        receipts.push(r);
        sent[stream].push(line);
        streams.flush_idle(now, &mut out);
        streams.push(event, now, &mut out);
        assert!(streams.open_streams() <= max_streams);
    }
    streams.flush_all(&mut out);
    assert_eq!(streams.open_streams(), 0);

    let mut got: Vec<Vec<String>> = vec![Vec::new(); STREAMS];
    for event in &mut out {
        let message = event
            .fields()
            .get("message")
            .and_then(Value::as_str)
            .unwrap();
        let lines: Vec<&str> = message.split('\n').collect();
        assert!(lines.len() <= max_lines, "{} lines", lines.len());
        assert!(lines.len() == 1 || message.len() <= max_bytes);
        let stream: usize = event
            .get(&path)
            .and_then(Value::as_str)
            .unwrap()
            .parse()
            .unwrap();
        got[stream].extend(lines.iter().map(|l| l.to_string()));
        event.finalize(Delivery::Delivered);
    }
    assert_eq!(got, sent);
    drop(out);
    for r in &mut receipts {
        assert_eq!(resolved(r), Some(Delivery::Delivered));
    }
});
