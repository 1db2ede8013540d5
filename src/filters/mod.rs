//! Filter plugins and their registry.
//!
//! A filter looks at one event at a time and says whether it matched, failed or dropped it.
//! The options every Logstash filter has (`add_field`, `add_tag`, `remove_field`,
//! `remove_tag`, `id`) are applied by [`CommonOptions`] when the filter reports a match, so
//! no filter implements them itself.

mod common;
mod date;
mod drop;
pub mod grok;
mod json;
mod kv;
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
    ("date", date::build),
    ("drop", drop::build),
    ("grok", grok::plugin::build),
    ("json", json::build),
    ("kv", kv::build),
    ("mutate", mutate::build),
];

/// Logstash filters Sluice does not provide yet; named as such rather than as typos.
pub const NOT_YET: &[&str] = &[
    "aggregate",
    "cidr",
    "clone",
    "csv",
    "dissect",
    "dns",
    "elapsed",
    "fingerprint",
    "geoip",
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

#[cfg(test)]
pub(crate) mod tests {
    use crate::config::ast::{SectionKind, Statement};
    use crate::config::error::ConfigError;
    use crate::config::settings::Settings;
    use crate::config::source::FileId;

    /// Compiles `filter { name { settings } }` with `compile`, then reports unknown settings
    /// as the pipeline compiler does; errors as text.
    pub fn compile_with<T>(
        name: &str,
        settings: &str,
        compile: impl FnOnce(&Settings) -> Result<T, ConfigError>,
    ) -> Result<T, String> {
        let text = format!("filter {{ {name} {{ {settings} }} }}");
        let message = |e: ConfigError| format!("{} {}", e.message, e.help.unwrap_or_default());
        let sections = crate::config::grammar::parse(&text, FileId(0), false).map_err(message)?;
        let section = &sections[0];
        assert_eq!(section.kind, SectionKind::Filter);
        let Statement::Plugin(plugin) = &section.body[0] else {
            panic!("not a plugin: {text}");
        };
        let settings = Settings::new(plugin, "filter").map_err(message)?;
        let built = compile(&settings).map_err(message)?;
        super::CommonOptions::from_settings(&settings).map_err(message)?;
        settings.finish().map_err(message)?;
        Ok(built)
    }
}
