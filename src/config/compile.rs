//! Compilation: from the syntax tree to a runnable [`Pipeline`], before any port opens.
//!
//! Every plugin is built from its settings (unknown plugins and settings are errors with
//! suggestions), every condition is compiled (field references parsed, regexes built,
//! constant comparisons folded), and all errors are collected so one `sluice check` run
//! reports every problem at once.

use std::collections::HashSet;
use std::sync::Arc;

use regex::Regex;

use super::ast::{self, Config, ConfigValue, Plugin, Rvalue, SectionKind, Spanned, Statement};
use super::error::{unknown_name_help, ConfigError};
use super::settings::Settings;
use super::source::Sources;
use crate::event::{FieldRef, Text, Value};
use crate::filters::CommonOptions;
use crate::inputs::Decoration;
use crate::observe::metrics::registry;
use crate::pipeline::condition::{Condition, Operand};
use crate::pipeline::plan::{Branch, FilterNode, FilterStep, IfStep, OutputStep, Plan};
use crate::pipeline::runtime::{InputNode, OutputNode};
use crate::pipeline::{Pipeline, PipelineSettings};

/// Compiles `config` into a pipeline named `id`; on failure, every error found.
pub fn compile(
    config: &Config,
    sources: &Sources,
    id: &str,
    settings: PipelineSettings,
) -> Result<Pipeline, Vec<ConfigError>> {
    let mut compiler = Compiler {
        sources,
        pipeline: Arc::from(id),
        errors: Vec::new(),
        ids: HashSet::new(),
        outputs: Vec::new(),
    };
    let mut inputs = Vec::new();
    let mut filters = Vec::new();
    let mut outputs = Vec::new();
    for section in &config.sections {
        match section.kind {
            SectionKind::Input => {
                for statement in &section.body {
                    match statement {
                        Statement::Plugin(p) => {
                            if let Some(node) = compiler.input(p) {
                                inputs.push(node);
                            }
                        }
                        Statement::If(chain) => compiler.errors.push(ConfigError::at(
                            chain.span,
                            "conditionals are not allowed in an input section",
                        )),
                    }
                }
            }
            SectionKind::Filter => filters.extend(compiler.filter_steps(&section.body)),
            SectionKind::Output => outputs.extend(compiler.output_steps(&section.body)),
        }
    }
    if inputs.is_empty() && compiler.errors.is_empty() {
        compiler.errors.push(ConfigError::general(
            "the pipeline has no input: add an `input { … }` section",
        ));
    }
    if compiler.outputs.is_empty() && compiler.errors.is_empty() {
        compiler.errors.push(ConfigError::general(
            "the pipeline has no output: add an `output { … }` section",
        ));
    }
    if !compiler.errors.is_empty() {
        return Err(compiler.errors);
    }
    let output_count = compiler.outputs.len();
    Ok(Pipeline {
        id: compiler.pipeline,
        settings,
        inputs,
        plan: Plan {
            filters,
            outputs,
            output_count,
        },
        outputs: compiler.outputs,
        dead_letter_queue: None,
    })
}

struct Compiler<'a> {
    sources: &'a Sources,
    pipeline: Arc<str>,
    errors: Vec<ConfigError>,
    ids: HashSet<String>,
    outputs: Vec<OutputNode>,
}

/// Looks `name` up in a registry; unknown names get a did-you-mean, Logstash plugins Sluice
/// lacks are named as missing.
fn lookup<T: Copy>(
    plugins: &[(&str, T)],
    not_yet: &[&str],
    kind: &str,
    plugin: &Plugin,
) -> Result<T, ConfigError> {
    if let Some((_, build)) = plugins.iter().find(|(n, _)| *n == plugin.name) {
        return Ok(*build);
    }
    if not_yet.contains(&plugin.name.as_str()) {
        return Err(ConfigError::at(
            plugin.span,
            format!(
                "{kind} plugin `{}` is not available in Sluice yet",
                plugin.name
            ),
        ));
    }
    let names: Vec<&str> = plugins
        .iter()
        .map(|(n, _)| *n)
        .chain(not_yet.iter().copied())
        .collect();
    Err(ConfigError::at(
        plugin.span,
        format!("unknown {kind} plugin `{}`", plugin.name),
    )
    .with_help(unknown_name_help(&plugin.name, &names)))
}

impl Compiler<'_> {
    /// The plugin's `id`, or `name@file:line`; ids must be unique in a pipeline.
    fn plugin_id(&mut self, plugin: &Plugin, settings: &Settings) -> Result<Arc<str>, ConfigError> {
        let id = match settings.string("id")? {
            Some(id) => id,
            None => plugin_default_id(self.sources, plugin),
        };
        if !self.ids.insert(id.clone()) {
            return Err(settings.error(format!(
                "two plugins have the id `{id}`; ids must be unique in a pipeline"
            )));
        }
        Ok(Arc::from(id))
    }

    fn input(&mut self, plugin: &Plugin) -> Option<InputNode> {
        let built = (|| {
            let build = lookup(
                crate::inputs::PLUGINS,
                crate::inputs::NOT_YET,
                "input",
                plugin,
            )?;
            let settings = Settings::new(plugin, "input")?;
            let input = build(&settings)?;
            let decoration = Decoration::from_settings(&settings)?;
            let id = self.plugin_id(plugin, &settings)?;
            settings.finish()?;
            Ok(InputNode {
                id,
                input,
                decoration: Arc::new(decoration),
            })
        })();
        built.map_err(|e| self.errors.push(e)).ok()
    }

    fn filter(&mut self, plugin: &Plugin) -> Option<FilterNode> {
        let built = (|| {
            let build = lookup(
                crate::filters::PLUGINS,
                crate::filters::NOT_YET,
                "filter",
                plugin,
            )?;
            let settings = Settings::new(plugin, "filter")?;
            let filter = build(&settings)?;
            let common = CommonOptions::from_settings(&settings)?;
            let id = self.plugin_id(plugin, &settings)?;
            settings.finish()?;
            let labels: &[(&str, &str)] = &[("pipeline", &self.pipeline), ("plugin", &id)];
            Ok(FilterNode {
                events_in: registry().counter(
                    "sluice_filter_events_in_total",
                    "Events a filter received.",
                    labels,
                ),
                events_out: registry().counter(
                    "sluice_filter_events_out_total",
                    "Events a filter passed on (dropped events are not counted).",
                    labels,
                ),
                failures: registry().counter(
                    "sluice_filter_failures_total",
                    "Events a filter did not apply to: grok without a match, a date or JSON it could not read (the event goes on, tagged).",
                    labels,
                ),
                id,
                filter,
                common,
            })
        })();
        built.map_err(|e| self.errors.push(e)).ok()
    }

    fn output(&mut self, plugin: &Plugin) -> Option<usize> {
        let built = (|| {
            let build = lookup(
                crate::outputs::PLUGINS,
                crate::outputs::NOT_YET,
                "output",
                plugin,
            )?;
            let settings = Settings::new(plugin, "output")?;
            let output = build(&settings)?;
            settings.boolean("enable_metric")?;
            let id = self.plugin_id(plugin, &settings)?;
            settings.finish()?;
            Ok(OutputNode { id, output })
        })();
        match built {
            Ok(node) => {
                self.outputs.push(node);
                Some(self.outputs.len() - 1)
            }
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    fn filter_steps(&mut self, body: &[Statement]) -> Vec<FilterStep> {
        let mut steps = Vec::new();
        for statement in body {
            match statement {
                Statement::Plugin(p) => steps.extend(self.filter(p).map(FilterStep::Filter)),
                Statement::If(chain) => {
                    let step = self.if_step(chain, "filter", |c, body| c.filter_steps(body));
                    steps.extend(step.map(FilterStep::If));
                }
            }
        }
        steps
    }

    fn output_steps(&mut self, body: &[Statement]) -> Vec<OutputStep> {
        let mut steps = Vec::new();
        for statement in body {
            match statement {
                Statement::Plugin(p) => steps.extend(self.output(p).map(OutputStep::Output)),
                Statement::If(chain) => {
                    let step = self.if_step(chain, "output", |c, body| c.output_steps(body));
                    steps.extend(step.map(OutputStep::If));
                }
            }
        }
        steps
    }

    fn if_step<S>(
        &mut self,
        chain: &ast::IfChain,
        section: &str,
        mut body: impl FnMut(&mut Self, &[Statement]) -> Vec<S>,
    ) -> Option<IfStep<S>> {
        let mut branches = Vec::new();
        for branch in &chain.branches {
            let condition = match condition(&branch.condition) {
                Ok(c) => Some(c),
                Err(e) => {
                    self.errors.push(e);
                    None
                }
            };
            let steps = body(self, &branch.body);
            let label = format!(
                "{section}@{}:{}",
                file_name(self.sources, branch.span),
                branch.span.line
            );
            let labels: &[(&str, &str)] = &[
                ("pipeline", &self.pipeline),
                ("branch", &label),
                ("condition", &branch.condition_text),
            ];
            if let Some(condition) = condition {
                branches.push(Branch {
                    condition,
                    body: steps,
                    evaluated: registry().counter(
                        "sluice_branch_evaluated_total",
                        "Events a conditional branch's condition was evaluated for.",
                        labels,
                    ),
                    matched: registry().counter(
                        "sluice_branch_matched_total",
                        "Events for which a conditional branch's condition held.",
                        labels,
                    ),
                });
            }
        }
        let otherwise = chain
            .otherwise
            .as_ref()
            .map(|b| body(self, b))
            .unwrap_or_default();
        (branches.len() == chain.branches.len()).then_some(IfStep {
            branches,
            otherwise,
        })
    }
}

fn file_name(sources: &Sources, span: super::source::Span) -> String {
    sources
        .path(span.file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config".to_owned())
}

/// `name@file:line`, the id of a plugin that sets none.
pub fn plugin_default_id(sources: &Sources, plugin: &Plugin) -> String {
    format!(
        "{}@{}:{}",
        plugin.name,
        file_name(sources, plugin.span),
        plugin.span.line
    )
}

/// Compiles one condition; literal-only comparisons are folded into constants.
pub fn condition(c: &ast::Condition) -> Result<Condition, ConfigError> {
    Ok(match c {
        ast::Condition::Bool(op, a, b) => {
            Condition::Bool(*op, Box::new(condition(a)?), Box::new(condition(b)?))
        }
        ast::Condition::Not(inner) => Condition::Not(Box::new(condition(inner)?)),
        ast::Condition::Compare(left, op, right) => {
            fold(Condition::Compare(operand(left)?, *op, operand(right)?))
        }
        ast::Condition::Match {
            value,
            pattern,
            negate,
        } => {
            let regex_source = match &pattern.node {
                Rvalue::Regex(s) | Rvalue::String(s) => s,
                _ => {
                    return Err(ConfigError::at(
                        pattern.span,
                        "the right side of `=~` and `!~` must be a /regex/ or a string",
                    ))
                }
            };
            let regex = Regex::new(regex_source).map_err(|e| {
                ConfigError::at(pattern.span, format!("invalid regular expression: {e}"))
            })?;
            let matched = fold(Condition::Match(operand(value)?, regex));
            if *negate {
                Condition::Not(Box::new(matched))
            } else {
                matched
            }
        }
        ast::Condition::In {
            needle,
            haystack,
            negate,
        } => {
            let contained = match (operand(needle)?, operand(haystack)?) {
                // Logstash compares a field with a literal list as text.
                (needle @ Operand::Field(_), Operand::Literal(Value::Array(items))) => {
                    Condition::InList {
                        needle,
                        items: items.iter().map(Value::to_display).collect(),
                    }
                }
                (needle, haystack) => fold(Condition::In { needle, haystack }),
            };
            if *negate {
                Condition::Not(Box::new(contained))
            } else {
                contained
            }
        }
        ast::Condition::Truthy(value) => fold(Condition::Truthy(operand(value)?)),
    })
}

/// A condition with no field in it has the same value for every event.
fn fold(c: Condition) -> Condition {
    let constant = matches!(
        &c,
        Condition::Compare(Operand::Literal(_), _, Operand::Literal(_))
            | Condition::Match(Operand::Literal(_), _)
            | Condition::In {
                needle: Operand::Literal(_),
                haystack: Operand::Literal(_),
            }
            | Condition::Truthy(Operand::Literal(_))
    );
    if constant {
        let empty = crate::event::Event::new(crate::event::Object::new());
        Condition::Constant(c.eval(&empty))
    } else {
        c
    }
}

fn operand(value: &Spanned<Rvalue>) -> Result<Operand, ConfigError> {
    match &value.node {
        Rvalue::Field(f) => FieldRef::parse(f)
            .map(Operand::Field)
            .map_err(|e| ConfigError::at(value.span, e.to_string())),
        other => literal(other, value.span).map(Operand::Literal),
    }
}

fn literal(value: &Rvalue, span: super::source::Span) -> Result<Value, ConfigError> {
    Ok(match value {
        Rvalue::String(s) => Value::String(Text::from(s.as_str())),
        Rvalue::Number(ast::Number::Integer(i)) => Value::Integer(*i),
        Rvalue::Number(ast::Number::Float(f)) => Value::Float(*f),
        Rvalue::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| literal(&i.node, i.span))
                .collect::<Result<_, _>>()?,
        ),
        Rvalue::Field(_) => {
            return Err(ConfigError::at(
                span,
                "a list in a condition may hold only literals, not field references",
            ))
        }
        Rvalue::Regex(_) => {
            return Err(ConfigError::at(
                span,
                "a /regex/ may only stand on the right of `=~` or `!~`",
            ))
        }
    })
}

/// Warnings about configurations that are valid but likely do not do what they say.
pub fn warnings(config: &Config) -> Vec<ConfigError> {
    let mut found = Vec::new();
    for section in &config.sections {
        walk_plugins(&section.body, &mut |plugin| {
            if plugin.name == "grok" {
                grok_capture_into_source(plugin, &mut found);
            }
        });
    }
    let beats_input = config.sections.iter().any(|section| {
        section.kind == SectionKind::Input
            && section
                .body
                .iter()
                .any(|s| matches!(s, Statement::Plugin(p) if p.name == "beats"))
    });
    if beats_input {
        for section in &config.sections {
            walk_branches(&section.body, &mut |branch| {
                beats_fields_condition(branch, &mut found)
            });
        }
    }
    found
}

fn walk_branches(body: &[Statement], visit: &mut impl FnMut(&ast::Branch)) {
    for statement in body {
        if let Statement::If(chain) = statement {
            for branch in &chain.branches {
                visit(branch);
                walk_branches(&branch.body, visit);
            }
            if let Some(otherwise) = &chain.otherwise {
                walk_branches(otherwise, visit);
            }
        }
    }
}

/// A condition on `[fields][…]` behind a beats input: Filebeat puts its custom `fields` there
/// only without `fields_under_root: true`; with it (as in the MangakAI guide's filebeat.yml)
/// they sit at the root and the branch silently never matches.
fn beats_fields_condition(branch: &ast::Branch, found: &mut Vec<ConfigError>) {
    if !branch.condition_text.contains("[fields][") {
        return;
    }
    found.push(
        ConfigError::at(
            branch.span,
            "this condition reads Filebeat's `fields` under `[fields]`; a Filebeat with `fields_under_root: true` puts them at the event's root, and then this branch never matches",
        )
        .with_help("once events flow, `sluice_branch_matched_total` for this branch on /metrics shows whether it ever matched"),
    );
}

fn walk_plugins(body: &[Statement], visit: &mut impl FnMut(&Plugin)) {
    for statement in body {
        match statement {
            Statement::Plugin(p) => visit(p),
            Statement::If(chain) => {
                for branch in &chain.branches {
                    walk_plugins(&branch.body, visit);
                }
                if let Some(otherwise) = &chain.otherwise {
                    walk_plugins(otherwise, visit);
                }
            }
        }
    }
}

/// `grok { match => { "message" => "… %{GREEDYDATA:message}" } }` without
/// `overwrite => ["message"]` turns `message` into an array of the old and new values.
fn grok_capture_into_source(plugin: &Plugin, found: &mut Vec<ConfigError>) {
    let setting = |name: &str| plugin.settings.iter().find(|s| s.name == name);
    let overwritten: Vec<String> = setting("overwrite")
        .map(|s| match &s.value.node {
            ConfigValue::Array(items) => items
                .iter()
                .filter_map(super::settings::scalar_string)
                .collect(),
            _ => super::settings::scalar_string(&s.value)
                .into_iter()
                .collect(),
        })
        .unwrap_or_default();
    let Some(matches) = setting("match") else {
        return;
    };
    let ConfigValue::Hash(entries) = &matches.value.node else {
        return;
    };
    for (field, patterns) in entries {
        let Some(field) = super::settings::scalar_string(field) else {
            continue;
        };
        let pattern_texts: Vec<String> = match &patterns.node {
            ConfigValue::Array(items) => items
                .iter()
                .filter_map(super::settings::scalar_string)
                .collect(),
            _ => super::settings::scalar_string(patterns)
                .into_iter()
                .collect(),
        };
        let bare = field.trim_start_matches('[').trim_end_matches(']');
        let captures_source = pattern_texts.iter().any(|p| {
            p.contains(&format!(":{field}}}"))
                || p.contains(&format!(":{field}:"))
                || p.contains(&format!("(?<{field}>"))
                || p.contains(&format!(":{bare}}}"))
        });
        if captures_source && !overwritten.iter().any(|o| o == &field || o == bare) {
            found.push(
                ConfigError::at(
                    patterns.span,
                    format!("grok captures into `{field}`, the field it matches, without `overwrite`: `{field}` will become an array of the original and the capture"),
                )
                .with_help(format!("add `overwrite => [\"{field}\"]` to the grok filter if the capture should replace the original")),
            );
        }
    }
}
