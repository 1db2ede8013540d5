//! Every open stream of one input: its unfinished event, when it last got a line, and which
//! stream to give up first when there are too many.
//!
//! A stream is one file on one host, named by the first of `[agent][id]`, `[host][name]`,
//! `[beat][hostname]` or a string `[host]`, with the first of `[log][file][path]` or
//! `[source]`, and the container input's `[stream]` (stdout and stderr interleave in one
//! file). That is what Logstash's beats input keyed its identity map on, so two files, or
//! one file on two hosts, never share an event, whichever connections their lines arrive on.
//!
//! Only streams with an unfinished event are kept. They are ordered by their last line, so
//! the oldest is both the next to reach `auto_flush_interval` and the one evicted (its event
//! flushed) when `max_streams` are open and a new one starts: memory stays bounded by
//! `max_streams × max_bytes` whatever the senders do. Each operation costs O(log n).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::stitch::{line_of, Flush, Pending, Rule};
use super::MultilineMetrics;
use crate::event::{Event, FieldRef, Text, Value};

/// What names one stream; absent parts are `None`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StreamKey {
    host: Option<Text>,
    path: Option<Text>,
    stream: Option<Text>,
}

struct KeyFields {
    host: [FieldRef; 4],
    path: [FieldRef; 2],
    stream: FieldRef,
}

fn key_fields() -> &'static KeyFields {
    static FIELDS: OnceLock<KeyFields> = OnceLock::new();
    FIELDS.get_or_init(|| {
        let f = |r: &str| FieldRef::parse(r).expect("valid references");
        KeyFields {
            host: [
                f("[agent][id]"),
                f("[host][name]"),
                f("[beat][hostname]"),
                f("[host]"),
            ],
            path: [f("[log][file][path]"), f("[source]")],
            stream: f("[stream]"),
        }
    })
}

impl StreamKey {
    pub fn of(event: &Event) -> StreamKey {
        let string = |field: &FieldRef| match event.get(field) {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        let fields = key_fields();
        StreamKey {
            host: fields.host.iter().find_map(string),
            path: fields.path.iter().find_map(string),
            stream: string(&fields.stream),
        }
    }
}

struct Open {
    pending: Pending,
    /// Position in `by_age`.
    age: u64,
    last_line: Instant,
}

/// The open streams of one input.
pub struct Streams {
    rule: Arc<Rule>,
    open: HashMap<StreamKey, Open>,
    /// Streams by the order of their last line (oldest first).
    by_age: BTreeMap<u64, StreamKey>,
    next_age: u64,
    max_streams: usize,
    auto_flush: Option<Duration>,
    metrics: MultilineMetrics,
}

impl Streams {
    pub fn new(
        rule: Arc<Rule>,
        max_streams: usize,
        auto_flush: Option<Duration>,
        metrics: MultilineMetrics,
    ) -> Streams {
        Streams {
            rule,
            open: HashMap::new(),
            by_age: BTreeMap::new(),
            next_age: 0,
            max_streams: max_streams.max(1),
            auto_flush,
            metrics,
        }
    }

    /// Feeds one line's event to its stream; events it completes are pushed to `out`.
    /// An event without a string `message` has no line to join and passes straight to `out`.
    pub fn push(&mut self, event: Event, now: Instant, out: &mut Vec<Event>) {
        if line_of(&event).is_none() {
            return out.push(event);
        }
        let key = StreamKey::of(&event);
        let mut pending = match self.open.remove(&key) {
            Some(open) => {
                self.by_age.remove(&open.age);
                Some(open.pending)
            }
            None => None,
        };
        let metrics = &self.metrics;
        self.rule
            .feed(&mut pending, event, &mut |event, reason, lines| {
                metrics.flushed(reason, lines);
                out.push(event);
            });
        if let Some(pending) = pending {
            if self.open.len() >= self.max_streams {
                self.flush_oldest(Flush::Evicted, out);
            }
            let age = self.next_age;
            self.next_age += 1;
            self.by_age.insert(age, key.clone());
            self.open.insert(
                key,
                Open {
                    pending,
                    age,
                    last_line: now,
                },
            );
        }
        self.metrics.streams_open.set(self.open.len() as i64);
    }

    /// When the oldest stream reaches `auto_flush_interval`; `None` when nothing is open or
    /// there is no such interval.
    pub fn next_deadline(&self) -> Option<Instant> {
        let interval = self.auto_flush?;
        let (_, key) = self.by_age.first_key_value()?;
        Some(self.open[key].last_line + interval)
    }

    /// Flushes every stream that has had no line for `auto_flush_interval` by `now`.
    pub fn flush_idle(&mut self, now: Instant, out: &mut Vec<Event>) {
        while self.next_deadline().is_some_and(|deadline| deadline <= now) {
            self.flush_oldest(Flush::AutoFlush, out);
        }
        self.metrics.streams_open.set(self.open.len() as i64);
    }

    /// Flushes every stream, oldest first.
    pub fn flush_all(&mut self, out: &mut Vec<Event>) {
        while !self.open.is_empty() {
            self.flush_oldest(Flush::Shutdown, out);
        }
        self.metrics.streams_open.set(0);
    }

    pub fn open_streams(&self) -> usize {
        self.open.len()
    }

    fn flush_oldest(&mut self, reason: Flush, out: &mut Vec<Event>) {
        let Some((_, key)) = self.by_age.pop_first() else {
            return;
        };
        let open = self.open.remove(&key).expect("by_age and open agree");
        self.metrics.flushed(reason, open.pending.lines());
        let event = self.rule.finish(open.pending, reason);
        out.push(event);
    }
}
