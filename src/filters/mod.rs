//! Filter plugins and their registry.
//!
//! A filter looks at one event at a time and says whether it matched, failed or dropped it.
//! The options every Logstash filter has (`add_field`, `add_tag`, `remove_field`,
//! `remove_tag`, `id`) are applied by [`CommonOptions`] when the filter reports a match, so
//! no filter implements them itself.

mod common;
mod drop;
pub mod grok;
mod mutate;

pub use common::CommonOptions;

use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::event::Event;

/// What a filter did to one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The filter applied; the common options run.
    Matched,
    /// The filter did not apply (it may have tagged the event, e.g. `_grokparsefailure`).
    Failed,
    /// The event leaves the pipeline deliberately; its receipt counts it as delivered.
    Dropped,
}

pub trait Filter: Send + Sync {
    fn filter(&self, event: &mut Event) -> Outcome;
}

type Build = fn(&Settings) -> Result<Box<dyn Filter>, ConfigError>;

/// Every filter Sluice has, by its Logstash name.
pub const PLUGINS: &[(&str, Build)] = &[
    ("drop", drop::build),
    ("grok", grok::plugin::build),
    ("mutate", mutate::build),
];

/// Logstash filters Sluice does not provide yet; named as such rather than as typos.
pub const NOT_YET: &[&str] = &[
    "aggregate",
    "cidr",
    "clone",
    "csv",
    "date",
    "dissect",
    "dns",
    "elapsed",
    "fingerprint",
    "geoip",
    "json",
    "kv",
    "multiline",
    "prune",
    "ruby",
    "split",
    "syslog_pri",
    "throttle",
    "translate",
    "truncate",
    "urldecode",
    "useragent",
    "uuid",
    "xml",
];
