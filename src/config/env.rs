//! `${VAR}` and `${VAR:default}` in configuration values, replaced by environment variables
//! before the configuration is compiled.
//!
//! The rules are Logstash's (`logstash-core/lib/logstash/util/substitution_variables.rb` for
//! plugin settings, `ExpressionSubstitution.java` for conditions):
//!
//! - A placeholder is `${NAME}` or `${NAME:default}`, where `NAME` is
//!   `[a-zA-Z_.][a-zA-Z0-9_.]*` and the default is any text without `}` (possibly empty).
//!   Anything else (`${}`, `${1X}`, a lone `$`) stays as written.
//! - In setting values (strings and barewords, inside arrays, hash values and plugins used as
//!   values, at any depth) every placeholder is replaced, so a value may mix several of them
//!   with text: `"%{host}-${ENV:dev}-${REGION}"`. A replacement is not expanded again.
//!   Hash keys are left alone, as Logstash leaves them.
//! - In conditions, a string operand is replaced only when it is one placeholder and nothing
//!   else; patterns after `=~`/`!~`, arrays and field references are never touched.
//! - A variable that is set (even to the empty string) wins over the default; one that is not
//!   set and has no default is an error at the value.

use super::ast::{Condition, Config, ConfigValue, Plugin, Rvalue, Spanned, Statement};
use super::error::ConfigError;
use super::source::Span;

/// Replaces the placeholders of every value in `config`, looking variables up with `lookup`
/// (`std::env::var` in production, a map in tests).
pub fn substitute(
    config: &mut Config,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    for section in &mut config.sections {
        statements(&mut section.body, lookup)?;
    }
    Ok(())
}

fn statements(
    body: &mut [Statement],
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    for statement in body {
        match statement {
            Statement::Plugin(plugin) => self::plugin(plugin, lookup)?,
            Statement::If(chain) => {
                for branch in &mut chain.branches {
                    condition(&mut branch.condition, lookup)?;
                    statements(&mut branch.body, lookup)?;
                }
                if let Some(otherwise) = &mut chain.otherwise {
                    statements(otherwise, lookup)?;
                }
            }
        }
    }
    Ok(())
}

fn plugin(plugin: &mut Plugin, lookup: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
    for setting in &mut plugin.settings {
        value(&mut setting.value, lookup)?;
    }
    Ok(())
}

fn value(
    value: &mut Spanned<ConfigValue>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    match &mut value.node {
        ConfigValue::String(text) | ConfigValue::Bareword(text) => {
            if let Some(expanded) = expand(text, value.span, lookup)? {
                *text = expanded;
            }
        }
        ConfigValue::Number(_) | ConfigValue::Boolean(_) => {}
        ConfigValue::Array(items) => {
            for item in items {
                self::value(item, lookup)?;
            }
        }
        ConfigValue::Hash(entries) => {
            for (_, entry) in entries {
                self::value(entry, lookup)?;
            }
        }
        ConfigValue::Plugin(inner) => plugin(inner, lookup)?,
    }
    Ok(())
}

fn condition(
    condition: &mut Condition,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    match condition {
        Condition::Bool(_, left, right) => {
            self::condition(left, lookup)?;
            self::condition(right, lookup)
        }
        Condition::Not(inner) => self::condition(inner, lookup),
        Condition::Compare(left, _, right) => {
            operand(left, lookup)?;
            operand(right, lookup)
        }
        Condition::Match { value, .. } => operand(value, lookup),
        Condition::In {
            needle, haystack, ..
        } => {
            operand(needle, lookup)?;
            operand(haystack, lookup)
        }
        Condition::Truthy(value) => operand(value, lookup),
    }
}

/// A string operand of a condition, replaced only when it is exactly one placeholder.
fn operand(
    operand: &mut Spanned<Rvalue>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    if let Rvalue::String(text) = &mut operand.node {
        if let Some(placeholder) = placeholder_at(text, 0) {
            if placeholder.end == text.len() {
                *text = resolve(&placeholder, text, operand.span, lookup)?;
            }
        }
    }
    Ok(())
}

/// `text` with every placeholder replaced, or `None` when it has none.
fn expand(
    text: &str,
    span: Span,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, ConfigError> {
    // Past the last `}` nothing can be a placeholder; knowing where that is keeps a long
    // run of unclosed `${a:` linear.
    let Some(last_brace) = text.rfind('}') else {
        return Ok(None);
    };
    let mut out = String::new();
    let mut replaced = false;
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = text[search..].find("${") {
        let start = search + found;
        if start > last_brace {
            break;
        }
        match placeholder_at(text, start) {
            Some(placeholder) => {
                out.push_str(&text[copied..start]);
                out.push_str(&resolve(&placeholder, text, span, lookup)?);
                replaced = true;
                copied = placeholder.end;
                search = placeholder.end;
            }
            None => search = start + 2,
        }
    }
    if !replaced {
        return Ok(None);
    }
    out.push_str(&text[copied..]);
    Ok(Some(out))
}

/// A placeholder found in a value, as byte ranges into it.
struct Placeholder {
    start: usize,
    name: std::ops::Range<usize>,
    default: Option<std::ops::Range<usize>>,
    end: usize,
}

/// The placeholder starting at `start` (at a `${`), if the text there is one.
fn placeholder_at(text: &str, start: usize) -> Option<Placeholder> {
    let rest = text[start..].strip_prefix("${")?;
    let name_len = rest
        .char_indices()
        .find(|&(i, c)| {
            let allowed =
                c.is_ascii_alphabetic() || c == '_' || c == '.' || (i > 0 && c.is_ascii_digit());
            !allowed
        })
        .map_or(rest.len(), |(i, _)| i);
    if name_len == 0 {
        return None;
    }
    let name = start + 2..start + 2 + name_len;
    let after_name = &rest[name_len..];
    if after_name.starts_with('}') {
        return Some(Placeholder {
            start,
            name: name.clone(),
            default: None,
            end: name.end + 1,
        });
    }
    let default_text = after_name.strip_prefix(':')?;
    let default_len = default_text.find('}')?;
    let default = name.end + 1..name.end + 1 + default_len;
    Some(Placeholder {
        start,
        end: default.end + 1,
        name,
        default: Some(default),
    })
}

fn resolve(
    placeholder: &Placeholder,
    text: &str,
    span: Span,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ConfigError> {
    let name = &text[placeholder.name.clone()];
    if let Some(value) = lookup(name) {
        return Ok(value);
    }
    match &placeholder.default {
        Some(default) => Ok(text[default.clone()].to_string()),
        None => Err(ConfigError::at(
            span,
            format!(
                "cannot evaluate `{}`: the environment variable `{name}` is not set and no default is given",
                &text[placeholder.start..placeholder.end]
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::config::grammar::parse;
    use crate::config::source::{FileId, Sources};

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn substituted(text: &str, vars: &[(&str, &str)]) -> Result<Config, String> {
        let mut config = Config {
            sections: parse(text, FileId(0), false).expect("parses"),
        };
        let lookup = env(vars);
        match substitute(&mut config, &lookup) {
            Ok(()) => Ok(config),
            Err(e) => {
                let mut sources = Sources::default();
                sources.add("env.conf", text.to_string());
                Err(e.render(&sources))
            }
        }
    }

    fn settings(config: &Config) -> Vec<ConfigValue> {
        let Statement::Plugin(plugin) = &config.sections[0].body[0] else {
            panic!("not a plugin")
        };
        plugin
            .settings
            .iter()
            .map(|s| s.value.node.clone())
            .collect()
    }

    fn s(text: &str) -> ConfigValue {
        ConfigValue::String(text.to_string())
    }

    #[test]
    fn defaults_and_set_variables() {
        let config = substituted(
            r#"output { es { a => "${HOST}" b => "${PORT:9200}" c => "${EMPTY:fallback}" d => "${COLON:a:b}" e => "${NONE:}" } }"#,
            &[("HOST", "es.local"), ("EMPTY", "")],
        )
        .unwrap();
        assert_eq!(
            settings(&config),
            [s("es.local"), s("9200"), s(""), s("a:b"), s("")]
        );
    }

    #[test]
    fn several_placeholders_mixed_with_text() {
        let config = substituted(
            r#"output { es { index => "${PREFIX:logs}-%{[@metadata][beat]}-${ENV}-%{+YYYY.MM.dd}" } }"#,
            &[("ENV", "prod")],
        )
        .unwrap();
        assert_eq!(
            settings(&config),
            [s("logs-%{[@metadata][beat]}-prod-%{+YYYY.MM.dd}")]
        );
    }

    #[test]
    fn things_that_are_not_placeholders_stay() {
        let config = substituted(
            r#"filter { p { a => "${} ${1X} $X ${X" b => "$${X}" c => "${A:${B}" d => "${A.b_1}" } }"#,
            &[("X", "x"), ("A.b_1", "dotted")],
        )
        .unwrap();
        // `${A:${B}` is `A` with the default `${B` (a default runs to the first `}`).
        assert_eq!(
            settings(&config),
            [s("${} ${1X} $X ${X"), s("$x"), s("${B"), s("dotted")]
        );
    }

    #[test]
    fn replacements_are_not_expanded_again() {
        let config = substituted(r#"filter { p { a => "${A}" } }"#, &[("A", "${B}")]).unwrap();
        assert_eq!(settings(&config), [s("${B}")]);
    }

    #[test]
    fn nested_values_and_plugins_are_substituted_but_not_hash_keys() {
        let config = substituted(
            r#"input { beats { codec => multiline { pattern => "${PAT}" } hosts => ["${H1}", ["${H2:b}"]] add_field => { "${KEY}" => "${VAL}" } } }"#,
            &[("PAT", "^\\s"), ("H1", "a"), ("VAL", "v"), ("KEY", "k")],
        )
        .unwrap();
        let values = settings(&config);
        let ConfigValue::Plugin(codec) = &values[0] else {
            panic!()
        };
        assert_eq!(codec.settings[0].value.node, s("^\\s"));
        let ConfigValue::Array(hosts) = &values[1] else {
            panic!()
        };
        assert_eq!(hosts[0].node, s("a"));
        let ConfigValue::Array(inner) = &hosts[1].node else {
            panic!()
        };
        assert_eq!(inner[0].node, s("b"));
        let ConfigValue::Hash(entries) = &values[2] else {
            panic!()
        };
        assert_eq!(entries[0].0.node, s("${KEY}"));
        assert_eq!(entries[0].1.node, s("v"));
    }

    #[test]
    fn conditions_replace_whole_string_operands_only() {
        let config = substituted(
            r#"filter { if [env] == "${ENV}" and "${ENV}-x" in [tags] and [m] =~ "${ENV}" { drop {} } else if [a] { p { x => "${ENV}" } } }"#,
            &[("ENV", "prod")],
        )
        .unwrap();
        let Statement::If(chain) = &config.sections[0].body[0] else {
            panic!()
        };
        let Condition::Bool(_, compare, _) = &chain.branches[0].condition else {
            panic!()
        };
        let Condition::Compare(_, _, rhs) = compare.as_ref() else {
            panic!("{compare:?}")
        };
        assert_eq!(rhs.node, Rvalue::String("prod".into()));
        let text = format!("{:?}", chain.branches[0].condition);
        assert!(text.contains(r#"String("${ENV}-x")"#), "{text}");
        assert!(
            text.contains(r#"pattern: Spanned { node: String("${ENV}")"#),
            "{text}"
        );
        let Statement::Plugin(p) = &chain.branches[1].body[0] else {
            panic!()
        };
        assert_eq!(p.settings[0].value.node, s("prod"));
    }

    #[test]
    fn a_missing_variable_without_default_is_an_error_at_the_value() {
        let error = substituted(
            "output {\n  es {\n    hosts => [\"a\", \"http://${ES_HOST}:${ES_PORT:9200}\"]\n  }\n}\n",
            &[],
        )
        .unwrap_err();
        assert_eq!(
            error,
            "env.conf:3:20: cannot evaluate `${ES_HOST}`: the environment variable `ES_HOST` is not set and no default is given\n  |\n3 |     hosts => [\"a\", \"http://${ES_HOST}:${ES_PORT:9200}\"]\n  |                    ^"
        );
        let error =
            substituted("filter {\n  if [a] == \"${NOPE}\" { drop {} }\n}", &[]).unwrap_err();
        assert!(
            error.starts_with("env.conf:2:13: cannot evaluate `${NOPE}`"),
            "{error}"
        );
    }

    #[test]
    fn long_runs_of_almost_placeholders_stay_linear() {
        let value = format!("{}}}", "${ ${a:".repeat(50_000));
        let text = format!("filter {{ p {{ a => \"{value}\" }} }}");
        let config = substituted(&text, &[]).unwrap();
        // `${ ` is no placeholder; the first `${a:` takes everything up to the `}` as default.
        assert_eq!(
            settings(&config),
            [s(&value[..value.len() - 1].replacen("${a:", "", 1))]
        );
    }
}
