//! The grok filter: named patterns over a linear-time regex engine, with Logstash's
//! semantics for which patterns run and how captures become fields.
//!
//! Compilation (once per filter): [`library`] resolves `%{NAME}` references, [`expand`]
//! turns a pattern into one regex in Ruby's dialect, [`dialect`] rewrites that for
//! `regex-automata`, and [`matcher`] builds the automata. Per event, [`Grok::filter`] runs
//! one scan per pattern list to pick the pattern, one capture pass over the matched span,
//! and writes each capture as a zero-copy slice of the field it came from. See
//! `docs/GROK.md` for the design and every deliberate difference from Logstash.

mod address;
mod chain;
pub mod cli;
pub mod convert;
pub mod dialect;
mod exact;
pub mod expand;
pub mod library;
pub mod matcher;
mod native;
pub mod plugin;
mod required;
mod timestamps;

use std::path::PathBuf;

use crate::event::{Event, FieldRef, FieldRefError, Text, Value};

pub use library::{EcsCompatibility, PatternLibrary};
pub use matcher::Matcher;
use matcher::Prefilter;

/// Logstash's `timeout_scope`. See [`GrokConfig::timeout_millis`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeoutScope {
    #[default]
    Pattern,
    Event,
}

/// The grok filter's settings, with Logstash's names and defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct GrokConfig {
    /// `match`: field → patterns, tried in this order.
    pub matches: Vec<(String, Vec<String>)>,
    /// Stop at the first pattern that matches (and skip the remaining fields). Default true.
    pub break_on_match: bool,
    /// Only `%{SYNTAX:SEMANTIC}` and `(?<name>…)` capture; false also captures a bare
    /// `%{SYNTAX}` under the name `SYNTAX`. Default true.
    pub named_captures_only: bool,
    /// Also write empty strings and groups that took no part. Default false.
    pub keep_empty_captures: bool,
    /// Capture names (spelled as in the pattern) that replace an existing field instead of
    /// turning it into an array.
    pub overwrite: Vec<String>,
    /// Extra `NAME => regex` definitions, loaded last.
    pub pattern_definitions: Vec<(String, String)>,
    /// Directories (or files) of pattern files, loaded after the built-in set.
    pub patterns_dir: Vec<PathBuf>,
    /// Which files in `patterns_dir` to load. Default `*`.
    pub patterns_files_glob: String,
    /// Tags added when no pattern matched. Default `["_grokparsefailure"]`.
    pub tag_on_failure: Vec<String>,
    /// Tag for a timed-out match. Accepted for compatibility; never added, because matching
    /// is linear in the input and cannot run away (docs/GROK.md, "Timeouts").
    pub tag_on_timeout: String,
    /// Accepted for compatibility; see `tag_on_timeout`. Default 30000.
    pub timeout_millis: u64,
    /// Accepted for compatibility; see `tag_on_timeout`.
    pub timeout_scope: TimeoutScope,
    /// Write every capture under this field instead of at the top level.
    pub target: Option<String>,
    /// Which built-in pattern set to use. Default v8, as in Logstash 8.
    pub ecs_compatibility: EcsCompatibility,
}

impl Default for GrokConfig {
    fn default() -> GrokConfig {
        GrokConfig {
            matches: Vec::new(),
            break_on_match: true,
            named_captures_only: true,
            keep_empty_captures: false,
            overwrite: Vec::new(),
            pattern_definitions: Vec::new(),
            patterns_dir: Vec::new(),
            patterns_files_glob: "*".to_owned(),
            tag_on_failure: vec!["_grokparsefailure".to_owned()],
            tag_on_timeout: "_groktimeout".to_owned(),
            timeout_millis: 30_000,
            timeout_scope: TimeoutScope::Pattern,
            target: None,
            ecs_compatibility: EcsCompatibility::default(),
        }
    }
}

impl GrokConfig {
    /// A configuration matching `field` against `patterns`, other settings at their defaults.
    pub fn matching(field: &str, patterns: &[&str]) -> GrokConfig {
        GrokConfig {
            matches: vec![(
                field.to_owned(),
                patterns.iter().map(|p| (*p).to_owned()).collect(),
            )],
            ..GrokConfig::default()
        }
    }
}

/// Why a grok filter could not be built.
#[derive(Debug, thiserror::Error)]
pub enum GrokError {
    #[error("grok pattern `{pattern}` refers to `%{{{name}}}`, which is not defined{}",
        suggestion.as_ref().map(|s| format!("; did you mean `%{{{s}}}`?")).unwrap_or_default())]
    UnknownPattern {
        pattern: String,
        name: String,
        suggestion: Option<String>,
    },
    #[error("grok pattern `{pattern}` expands more than 10000 references; is a pattern defined in terms of itself?")]
    Recursion { pattern: String },
    #[error("grok pattern `{pattern}` cannot be compiled: {reason}")]
    Regex { pattern: String, reason: String },
    #[error("grok pattern `{pattern}` captures into `{name}`: {source}")]
    Field {
        pattern: String,
        name: String,
        source: FieldRefError,
    },
    #[error("grok patterns_dir {path}: {reason}")]
    PatternDir { path: String, reason: String },
    #[error("grok `match` field `{field}`: {source}")]
    MatchField {
        field: String,
        source: FieldRefError,
    },
}

/// Compiles one grok pattern (`%{…}` references resolved in `library`) into a matcher, for
/// settings that only ask whether a line matches, such as the multiline codec's `pattern`.
pub fn compile_pattern(source: &str, library: &PatternLibrary) -> Result<Matcher, GrokError> {
    let expanded = expand::expand(source, library, true)?;
    let regex_error = |reason: String| GrokError::Regex {
        pattern: source.to_owned(),
        reason,
    };
    let translated = dialect::translate(&expanded).map_err(|e| regex_error(e.to_string()))?;
    Matcher::new(&translated).map_err(regex_error)
}

/// What [`Grok::filter`] did to an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrokOutcome {
    /// At least one pattern matched; its captures were written.
    Matched,
    /// Nothing matched; the `tag_on_failure` tags were added.
    Failed,
}

/// `%{…:int}` and `%{…:float}`; any other suffix leaves the string, as in Logstash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coerce {
    None,
    Int,
    Float,
}

/// Where one capture group goes.
#[derive(Debug)]
struct Capture {
    group: usize,
    field: FieldRef,
    overwrite: bool,
    coerce: Coerce,
}

/// One compiled pattern and its captures, in the order Logstash writes them.
#[derive(Debug)]
struct Pattern {
    matcher: Matcher,
    captures: Vec<Capture>,
}

/// The patterns of one `match` entry.
struct FieldPatterns {
    field: FieldRef,
    patterns: Vec<Pattern>,
    /// Present when there are several patterns.
    prefilter: Option<Prefilter>,
}

/// A compiled grok filter; share it across worker threads as `&Grok`.
pub struct Grok {
    fields: Vec<FieldPatterns>,
    break_on_match: bool,
    keep_empty_captures: bool,
    tag_on_failure: Vec<Text>,
}

impl std::fmt::Debug for Grok {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grok")
            .field("fields", &self.fields.len())
            .finish_non_exhaustive()
    }
}

impl Grok {
    /// Compiles `config` against the built-in library of its `ecs_compatibility`.
    pub fn new(config: GrokConfig) -> Result<Grok, GrokError> {
        let base = PatternLibrary::builtin(config.ecs_compatibility);
        Grok::with_library(config, base)
    }

    /// Compiles `config` against `base` (instead of the built-in set), to which the
    /// `patterns_dir` files and `pattern_definitions` are added.
    pub fn with_library(config: GrokConfig, base: PatternLibrary) -> Result<Grok, GrokError> {
        let mut library = base;
        for dir in &config.patterns_dir {
            library.add_dir(dir, &config.patterns_files_glob)?;
        }
        for (name, regex) in &config.pattern_definitions {
            library.define(name.clone(), regex.clone());
        }
        let target = match &config.target {
            Some(target) => {
                Some(
                    FieldRef::parse(target).map_err(|source| GrokError::MatchField {
                        field: target.clone(),
                        source,
                    })?,
                )
            }
            None => None,
        };
        let mut fields = Vec::with_capacity(config.matches.len());
        for (field, sources) in &config.matches {
            let field_ref = FieldRef::parse(field).map_err(|source| GrokError::MatchField {
                field: field.clone(),
                source,
            })?;
            let mut translated = Vec::with_capacity(sources.len());
            for source in sources {
                let expanded = expand::expand(source, &library, config.named_captures_only)?;
                let t = dialect::translate(&expanded).map_err(|e| GrokError::Regex {
                    pattern: source.clone(),
                    reason: e.to_string(),
                })?;
                translated.push(t);
            }
            let mut patterns = Vec::with_capacity(sources.len());
            for (source, t) in sources.iter().zip(&translated) {
                let matcher = Matcher::new(t).map_err(|reason| GrokError::Regex {
                    pattern: source.clone(),
                    reason,
                })?;
                let captures = plan_captures(source, t, &config, target.as_ref())?;
                patterns.push(Pattern { matcher, captures });
            }
            let prefilter = if patterns.len() > 1 {
                let refs: Vec<_> = translated.iter().collect();
                Some(Prefilter::new(&refs).map_err(|reason| GrokError::Regex {
                    pattern: sources.join(" | "),
                    reason,
                })?)
            } else {
                None
            };
            fields.push(FieldPatterns {
                field: field_ref,
                patterns,
                prefilter,
            });
        }
        Ok(Grok {
            fields,
            break_on_match: config.break_on_match,
            keep_empty_captures: config.keep_empty_captures,
            tag_on_failure: config
                .tag_on_failure
                .iter()
                .map(|t| Text::from(t.as_str()))
                .collect(),
        })
    }

    /// Matches the configured fields of `event` and writes the captures; on failure adds the
    /// `tag_on_failure` tags.
    pub fn filter(&self, event: &mut Event) -> GrokOutcome {
        let mut matched = false;
        for entry in &self.fields {
            if self.match_field(entry, event) {
                matched = true;
                if self.break_on_match {
                    break;
                }
            }
        }
        if matched {
            GrokOutcome::Matched
        } else {
            for tag in &self.tag_on_failure {
                event.add_tag(tag.clone());
            }
            GrokOutcome::Failed
        }
    }

    /// Matches one field; an array is matched element by element, anything else as Ruby's
    /// `to_s` renders it (a missing field is the empty string).
    fn match_field(&self, entry: &FieldPatterns, event: &mut Event) -> bool {
        match event.get(&entry.field) {
            Some(Value::String(text)) => {
                let text = text.clone();
                self.match_text(entry, &text, event)
            }
            Some(Value::Array(items)) => {
                let texts: Vec<Text> = items.iter().map(to_text).collect();
                let mut any = false;
                for text in &texts {
                    any |= self.match_text(entry, text, event);
                }
                any
            }
            Some(other) => {
                let text = to_text(other);
                self.match_text(entry, &text, event)
            }
            None => self.match_text(entry, &Text::default(), event),
        }
    }

    fn match_text(&self, entry: &FieldPatterns, text: &Text, event: &mut Event) -> bool {
        let line = text.as_str();
        let mut matched = false;
        match &entry.prefilter {
            Some(prefilter) => prefilter.matching(line, |index| {
                matched |= self.apply(&entry.patterns[index], text, event);
                !(matched && self.break_on_match)
            }),
            None => {
                for pattern in &entry.patterns {
                    matched |= self.apply(pattern, text, event);
                    if matched && self.break_on_match {
                        break;
                    }
                }
            }
        }
        matched
    }

    fn apply(&self, pattern: &Pattern, text: &Text, event: &mut Event) -> bool {
        // Spans are collected first: the capture pass borrows the matcher's slots, and
        // writing fields needs the event. Patterns have few groups, so this stays on the
        // stack.
        let mut spans: smallvec::SmallVec<[Option<(u32, u32)>; 24]> = smallvec::SmallVec::new();
        let matched = pattern.matcher.captures(text.as_str(), |_, span| {
            spans.push(span.map(|r| (r.start as u32, r.end as u32)));
        });
        if !matched {
            return false;
        }
        for capture in &pattern.captures {
            let value = spans[capture.group].map(|(start, end)| {
                let s = &text.as_str()[start as usize..end as usize];
                match capture.coerce {
                    Coerce::None => Value::String(text.slice_ref(s)),
                    Coerce::Int => Value::Integer(convert::ruby_to_i(s)),
                    Coerce::Float => Value::Float(convert::ruby_to_f(s)),
                }
            });
            self.write(capture, value, event);
        }
        true
    }

    /// Logstash's `handle`: drop empties unless kept, then set, append or promote to an
    /// array.
    fn write(&self, capture: &Capture, value: Option<Value>, event: &mut Event) {
        let empty = match &value {
            None => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(_) => false,
        };
        if empty && !self.keep_empty_captures {
            return;
        }
        let value = value.unwrap_or(Value::Null);
        if capture.overwrite {
            event.insert(&capture.field, value);
            return;
        }
        match event.get_mut(&capture.field) {
            None | Some(Value::Null) => {
                event.insert(&capture.field, value);
            }
            Some(Value::Array(items)) => items.push(value),
            Some(existing @ Value::String(_)) => {
                let old = std::mem::replace(existing, Value::Null);
                *existing = Value::Array(vec![old, value]);
            }
            // Logstash leaves a number, boolean or object in place and drops the capture.
            Some(_) => {}
        }
    }
}

fn to_text(value: &Value) -> Text {
    match value {
        Value::String(t) => t.clone(),
        other => Text::from(other.to_display()),
    }
}

/// Splits each group's name (`SYNTAX:SEMANTIC:type`, or an inline group's name) as Ruby's
/// `split(":")` does, and orders the captures as jls-grok yields them: by distinct group name
/// in order of first appearance, then each occurrence of that name.
fn plan_captures(
    source: &str,
    translated: &dialect::Translated,
    config: &GrokConfig,
    target: Option<&FieldRef>,
) -> Result<Vec<Capture>, GrokError> {
    let mut order: Vec<&str> = Vec::new();
    for group in &translated.groups {
        if !order.contains(&group.name.as_str()) {
            order.push(&group.name);
        }
    }
    let mut captures = Vec::with_capacity(translated.groups.len());
    for name in order {
        let mut parts = name.split(':');
        let syntax = parts.next().unwrap_or("");
        let semantic = parts.next().unwrap_or(syntax);
        let coerce = match parts.next() {
            Some("int") => Coerce::Int,
            Some("float") => Coerce::Float,
            _ => Coerce::None,
        };
        let field_name = if semantic.is_empty() {
            syntax
        } else {
            semantic
        };
        let field_error = |e| GrokError::Field {
            pattern: source.to_owned(),
            name: field_name.to_owned(),
            source: e,
        };
        // ecs-v1 CISCOFW302013_302014_302015_302016 says `%{DATA:[source][user][name?]}`,
        // which names the unclosed `[source][user][name`; close it (docs/GROK.md).
        let parsed = FieldRef::parse(field_name)
            .or_else(|e| FieldRef::parse(&format!("{field_name}]")).map_err(|_| e))
            .map_err(field_error)?;
        let field = match target {
            // `[target][a][b]`: both render in bracket form, so the joined text parses.
            Some(target) => FieldRef::parse(&format!("{target}{parsed}")).map_err(field_error)?,
            None => parsed,
        };
        let overwrite = config.overwrite.iter().any(|o| o == field_name);
        for (group, _) in translated
            .groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.name == name)
        {
            captures.push(Capture {
                group,
                field: field.clone(),
                overwrite,
                coerce,
            });
        }
    }
    Ok(captures)
}

#[cfg(test)]
mod tests;
