//! `codec => multiline { … }`: joins the lines of one record (a stack trace, a wrapped
//! message) into one event, on the `stdin` and `beats` inputs.
//!
//! - [`stitch`]: one stream's state machine (Logstash's `pattern`/`negate`/`what` rule and
//!   the `max_lines`/`max_bytes` cuts).
//! - [`streams`]: the streams of one input, keyed by host and file, with `auto_flush_interval`
//!   and a bound on how many are open.
//! - [`sink`]: the streams shared by every connection of a server input, the timer that
//!   flushes idle ones, and the drain at shutdown.
//!
//! Receipts: a merged event carries the finalizers of every line in it, so a sender is
//! acknowledged for a line only once the event holding it has been output; a line still
//! waiting for its neighbour holds its window's ACK. See `docs/MULTILINE.md`.

pub mod sink;
pub mod stitch;
pub mod streams;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::filters::grok::{EcsCompatibility, PatternLibrary};
use crate::observe::metrics::{registry, Counter, Gauge};
use stitch::{Flush, Rule, RuleSettings, What};
use streams::Streams;

/// As Logstash's beats identity map (`max_identities`).
const DEFAULT_MAX_STREAMS: i64 = 20_000;

/// A configured multiline codec: the rule and the limits each input's [`Streams`] use.
pub struct Multiline {
    rule: Arc<Rule>,
    auto_flush_interval: Option<Duration>,
    max_streams: usize,
}

impl Multiline {
    /// Reads the codec block. `default_auto_flush` applies when `auto_flush_interval` is not
    /// set (the beats input needs one; see `docs/MULTILINE.md`).
    pub fn from_settings(
        codec: &Settings,
        default_auto_flush: Option<Duration>,
    ) -> Result<Multiline, ConfigError> {
        let source = codec.required_string("pattern")?;
        let negate = codec.boolean_or("negate", false)?;
        let what = match codec.choice("what", &["previous", "next"], "previous")? {
            "next" => What::Next,
            _ => What::Previous,
        };
        let defaults = RuleSettings::default();
        let max_lines =
            codec.integer_in("max_lines", 1..=i64::MAX, defaults.max_lines as i64)? as usize;
        let max_bytes =
            codec.integer_in("max_bytes", 1..=i64::MAX, defaults.max_bytes as i64)? as usize;
        let max_streams =
            codec.integer_in("max_streams", 1..=i64::MAX, DEFAULT_MAX_STREAMS)? as usize;
        let auto_flush_interval = match codec.float("auto_flush_interval")? {
            None => default_auto_flush,
            Some(seconds) if seconds > 0.0 && seconds.is_finite() => {
                Some(Duration::from_secs_f64(seconds))
            }
            Some(_) => {
                let setting = codec.raw("auto_flush_interval").expect("it was given");
                return Err(codec.invalid(setting, "expected a positive number of seconds"));
            }
        };
        let tag = codec.string_or("multiline_tag", defaults.tag)?;
        let charset = codec.string_or("charset", "UTF-8")?;
        if !charset.eq_ignore_ascii_case("UTF-8") {
            let setting = codec.raw("charset").expect("it was given");
            return Err(codec.invalid(
                setting,
                "only UTF-8 is supported (invalid bytes become U+FFFD)",
            ));
        }
        let mut library = PatternLibrary::builtin(EcsCompatibility::default());
        for dir in codec.string_list("patterns_dir")? {
            library
                .add_dir(&PathBuf::from(&dir.node), "*")
                .map_err(|e| ConfigError::at(dir.span, e.to_string()))?;
        }
        let settings = RuleSettings {
            pattern: &source,
            negate,
            what,
            max_lines,
            max_bytes,
            tag: &tag,
        };
        let rule = Rule::new(settings, &library).map_err(|e| {
            let setting = codec.raw("pattern").expect("it is required");
            codec.invalid(setting, e)
        })?;
        Ok(Multiline {
            rule: Arc::new(rule),
            auto_flush_interval,
            max_streams,
        })
    }

    /// Empty streams for one input, counting into `metrics`.
    pub fn streams(&self, metrics: MultilineMetrics) -> Streams {
        Streams::new(
            self.rule.clone(),
            self.max_streams,
            self.auto_flush_interval,
            metrics,
        )
    }
}

/// What the codec counts, per input.
#[derive(Clone, Default)]
pub struct MultilineMetrics {
    streams_open: Gauge,
    events_merged: Counter,
    /// Indexed as [`Flush::ALL`].
    flushes: [Counter; 6],
}

impl MultilineMetrics {
    /// Exported in the process registry under the input's `pipeline` and `plugin` labels.
    pub fn registered(pipeline: &str, plugin: &str) -> MultilineMetrics {
        let r = registry();
        let labels: &[(&str, &str)] = &[("pipeline", pipeline), ("plugin", plugin)];
        MultilineMetrics {
            streams_open: r.gauge(
                "sluice_multiline_streams_open",
                "Streams (one file on one host) with an unfinished multiline event.",
                labels,
            ),
            events_merged: r.counter(
                "sluice_multiline_events_merged_total",
                "Events the multiline codec made from more than one line.",
                labels,
            ),
            flushes: Flush::ALL.map(|reason| {
                r.counter(
                    "sluice_multiline_flushes_total",
                    "Events the multiline codec completed, by why: pattern, max_lines, max_bytes, auto_flush, evicted, shutdown.",
                    &[("pipeline", pipeline), ("plugin", plugin), ("reason", reason.label())],
                )
            }),
        }
    }

    fn flushed(&self, reason: Flush, lines: usize) {
        self.flushes[reason as usize].inc();
        if lines > 1 {
            self.events_merged.inc();
        }
    }

    pub fn streams_open(&self) -> i64 {
        self.streams_open.get()
    }

    pub fn events_merged(&self) -> u64 {
        self.events_merged.get()
    }

    pub fn flushes(&self, reason: Flush) -> u64 {
        self.flushes[reason as usize].get()
    }
}

#[cfg(test)]
mod tests;
