//! `filter { grok { … } }` as a pipeline plugin: Logstash's settings into a [`GrokConfig`].

use std::path::PathBuf;

use super::{EcsCompatibility, Grok, GrokConfig, GrokOutcome, TimeoutScope};
use crate::config::ast::ConfigValue;
use crate::config::error::ConfigError;
use crate::config::settings::{scalar_string, Settings};
use crate::event::Event;
use crate::filters::{Filter, Outcome};

pub fn build(settings: &Settings) -> Result<Box<dyn Filter>, ConfigError> {
    let mut matches = Vec::new();
    for (field, patterns) in settings.hash("match")? {
        let list: Option<Vec<String>> = match &patterns.node {
            ConfigValue::Array(items) => items.iter().map(scalar_string).collect(),
            _ => scalar_string(patterns).map(|p| vec![p]),
        };
        let list = list.ok_or_else(|| {
            ConfigError::at(
                patterns.span,
                "a grok pattern must be a string or a list of strings",
            )
        })?;
        matches.push((field.node, list));
    }
    if matches.is_empty() {
        return Err(settings.error("filter plugin `grok` needs `match`, e.g. match => { \"message\" => \"%{COMBINEDAPACHELOG}\" }"));
    }
    let defaults = GrokConfig::default();
    let tag_on_failure = match settings.raw("tag_on_failure") {
        Some(_) => settings
            .string_list("tag_on_failure")?
            .into_iter()
            .map(|t| t.node)
            .collect(),
        None => defaults.tag_on_failure,
    };
    let config = GrokConfig {
        matches,
        break_on_match: settings.boolean_or("break_on_match", defaults.break_on_match)?,
        named_captures_only: settings
            .boolean_or("named_captures_only", defaults.named_captures_only)?,
        keep_empty_captures: settings
            .boolean_or("keep_empty_captures", defaults.keep_empty_captures)?,
        overwrite: settings
            .string_list("overwrite")?
            .into_iter()
            .map(|o| o.node)
            .collect(),
        pattern_definitions: settings
            .string_pairs("pattern_definitions")?
            .into_iter()
            .map(|(name, regex)| (name.node, regex.node))
            .collect(),
        patterns_dir: settings
            .string_list("patterns_dir")?
            .into_iter()
            .map(|d| PathBuf::from(d.node))
            .collect(),
        patterns_files_glob: settings
            .string_or("patterns_files_glob", &defaults.patterns_files_glob)?,
        tag_on_failure,
        tag_on_timeout: settings.string_or("tag_on_timeout", &defaults.tag_on_timeout)?,
        timeout_millis: settings.integer_in(
            "timeout_millis",
            0..=i64::MAX,
            defaults.timeout_millis as i64,
        )? as u64,
        timeout_scope: match settings.choice("timeout_scope", &["pattern", "event"], "pattern")? {
            "event" => TimeoutScope::Event,
            _ => TimeoutScope::Pattern,
        },
        target: settings.string("target")?,
        ecs_compatibility: match settings.choice(
            "ecs_compatibility",
            &["disabled", "v1", "v8"],
            "v8",
        )? {
            "disabled" => EcsCompatibility::Disabled,
            "v1" => EcsCompatibility::V1,
            _ => EcsCompatibility::V8,
        },
    };
    let grok = Grok::new(config).map_err(|e| settings.error(e.to_string()))?;
    Ok(Box::new(grok))
}

impl Filter for Grok {
    fn filter(&self, event: &mut Event) -> Outcome {
        match Grok::filter(self, event) {
            GrokOutcome::Matched => Outcome::Matched,
            GrokOutcome::Failed => Outcome::Failed,
        }
    }
}
