//! Typed access to a plugin block's settings, as Logstash validates them.
//!
//! A plugin asks for each setting it knows by name and type while it is built. Whatever the
//! block contains that no one asked for is an unknown setting: [`Settings::finish`] reports it
//! with the names that were asked for, so the list of valid names can never drift from the
//! code that reads them.

use std::cell::RefCell;

use super::ast::{ConfigValue, Number, Plugin, Setting, Spanned};
use super::error::{unknown_name_help, ConfigError};
use super::source::Span;

/// A hash setting's entries: each key with its place in the file, and its value.
pub type StringPairs = Vec<(Spanned<String>, Spanned<String>)>;
pub type HashEntries<'a> = Vec<(Spanned<String>, &'a Spanned<ConfigValue>)>;

pub struct Settings<'a> {
    plugin: &'a Plugin,
    /// `input`, `filter`, `output` or `codec`, for messages.
    kind: &'static str,
    requested: RefCell<Vec<&'static str>>,
}

impl<'a> Settings<'a> {
    /// Wraps `plugin`'s settings; a setting given twice is an error.
    pub fn new(plugin: &'a Plugin, kind: &'static str) -> Result<Settings<'a>, ConfigError> {
        for (i, setting) in plugin.settings.iter().enumerate() {
            if let Some(first) = plugin.settings[..i].iter().find(|s| s.name == setting.name) {
                return Err(ConfigError::at(
                    setting.span,
                    format!(
                        "setting `{}` is given twice in {kind} plugin `{}` (first at line {})",
                        setting.name, plugin.name, first.span.line
                    ),
                ));
            }
        }
        Ok(Settings {
            plugin,
            kind,
            requested: RefCell::new(Vec::new()),
        })
    }

    /// The plugin block itself, for plugins that read their block directly.
    pub fn block(&self) -> &'a Plugin {
        self.plugin
    }

    pub fn plugin_name(&self) -> &str {
        &self.plugin.name
    }

    pub fn span(&self) -> Span {
        self.plugin.span
    }

    /// The raw value of `name`, marking the name as known.
    pub fn raw(&self, name: &'static str) -> Option<&'a Setting> {
        self.requested.borrow_mut().push(name);
        self.plugin.settings.iter().find(|s| s.name == name)
    }

    /// An error pointing at `setting`'s value.
    pub fn invalid(&self, setting: &Setting, problem: impl std::fmt::Display) -> ConfigError {
        ConfigError::at(
            setting.value.span,
            format!(
                "invalid value for setting `{}` of {} plugin `{}`: {problem}",
                setting.name, self.kind, self.plugin.name
            ),
        )
    }

    /// An error pointing at the plugin block itself (e.g. a required setting is missing).
    pub fn error(&self, message: impl Into<String>) -> ConfigError {
        ConfigError::at(self.plugin.span, message)
    }

    pub fn string(&self, name: &'static str) -> Result<Option<String>, ConfigError> {
        let Some(setting) = self.raw(name) else {
            return Ok(None);
        };
        scalar_string(&setting.value)
            .map(Some)
            .ok_or_else(|| self.invalid(setting, "expected a string"))
    }

    pub fn string_or(&self, name: &'static str, default: &str) -> Result<String, ConfigError> {
        Ok(self.string(name)?.unwrap_or_else(|| default.to_owned()))
    }

    pub fn required_string(&self, name: &'static str) -> Result<String, ConfigError> {
        self.string(name)?.ok_or_else(|| {
            self.error(format!(
                "{} plugin `{}` needs the setting `{name}`",
                self.kind, self.plugin.name
            ))
        })
    }

    /// One of `choices`; the default when absent.
    pub fn choice(
        &self,
        name: &'static str,
        choices: &[&'static str],
        default: &'static str,
    ) -> Result<&'static str, ConfigError> {
        let Some(setting) = self.raw(name) else {
            return Ok(default);
        };
        let given = scalar_string(&setting.value)
            .ok_or_else(|| self.invalid(setting, "expected a string"))?;
        choices
            .iter()
            .find(|c| **c == given)
            .copied()
            .ok_or_else(|| {
                self.invalid(setting, format!("`{given}` is not one of the choices"))
                    .with_help(unknown_name_help(&given, choices))
            })
    }

    pub fn integer(&self, name: &'static str) -> Result<Option<i64>, ConfigError> {
        let Some(setting) = self.raw(name) else {
            return Ok(None);
        };
        let value = match &setting.value.node {
            ConfigValue::Number(Number::Integer(i)) => Some(*i),
            ConfigValue::String(s) | ConfigValue::Bareword(s) => s.trim().parse().ok(),
            _ => None,
        };
        value
            .map(Some)
            .ok_or_else(|| self.invalid(setting, "expected an integer"))
    }

    pub fn integer_or(&self, name: &'static str, default: i64) -> Result<i64, ConfigError> {
        Ok(self.integer(name)?.unwrap_or(default))
    }

    /// An integer within `range`, e.g. a port.
    pub fn integer_in(
        &self,
        name: &'static str,
        range: std::ops::RangeInclusive<i64>,
        default: i64,
    ) -> Result<i64, ConfigError> {
        let value = self.integer_or(name, default)?;
        if range.contains(&value) {
            return Ok(value);
        }
        let setting = self.raw(name).expect("a value outside the range was given");
        Err(self.invalid(
            setting,
            format!("{value} is outside {}..={}", range.start(), range.end()),
        ))
    }

    pub fn float(&self, name: &'static str) -> Result<Option<f64>, ConfigError> {
        let Some(setting) = self.raw(name) else {
            return Ok(None);
        };
        let value = match &setting.value.node {
            ConfigValue::Number(Number::Integer(i)) => Some(*i as f64),
            ConfigValue::Number(Number::Float(f)) => Some(*f),
            ConfigValue::String(s) | ConfigValue::Bareword(s) => s.trim().parse().ok(),
            _ => None,
        };
        value
            .map(Some)
            .ok_or_else(|| self.invalid(setting, "expected a number"))
    }

    pub fn boolean(&self, name: &'static str) -> Result<Option<bool>, ConfigError> {
        let Some(setting) = self.raw(name) else {
            return Ok(None);
        };
        let value = match &setting.value.node {
            ConfigValue::Boolean(b) => Some(*b),
            ConfigValue::String(s) | ConfigValue::Bareword(s) => match s.as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            _ => None,
        };
        value
            .map(Some)
            .ok_or_else(|| self.invalid(setting, "expected `true` or `false`"))
    }

    pub fn boolean_or(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        Ok(self.boolean(name)?.unwrap_or(default))
    }

    /// A list of strings; a single string counts as a list of one, as in Logstash.
    pub fn string_list(&self, name: &'static str) -> Result<Vec<Spanned<String>>, ConfigError> {
        let Some(setting) = self.raw(name) else {
            return Ok(Vec::new());
        };
        let items: Vec<&Spanned<ConfigValue>> = match &setting.value.node {
            ConfigValue::Array(items) => items.iter().collect(),
            _ => vec![&setting.value],
        };
        items
            .into_iter()
            .map(|item| {
                scalar_string(item)
                    .map(|node| Spanned {
                        node,
                        span: item.span,
                    })
                    .ok_or_else(|| self.invalid(setting, "expected a string or a list of strings"))
            })
            .collect()
    }

    /// A hash of string keys to string values. Logstash also accepts a flat list of
    /// alternating keys and values (`add_field => ["key", "value"]`).
    pub fn string_pairs(&self, name: &'static str) -> Result<StringPairs, ConfigError> {
        let Some(setting) = self.raw(name) else {
            return Ok(Vec::new());
        };
        let bad = || {
            self.invalid(
                setting,
                "expected a hash of strings, e.g. { \"key\" => \"value\" }",
            )
        };
        let spanned =
            |v: &Spanned<ConfigValue>| scalar_string(v).map(|node| Spanned { node, span: v.span });
        match &setting.value.node {
            ConfigValue::Hash(entries) => entries
                .iter()
                .map(|(k, v)| Ok((spanned(k).ok_or_else(bad)?, spanned(v).ok_or_else(bad)?)))
                .collect(),
            ConfigValue::Array(items) if items.len() % 2 == 0 => items
                .chunks(2)
                .map(|pair| {
                    Ok((
                        spanned(&pair[0]).ok_or_else(bad)?,
                        spanned(&pair[1]).ok_or_else(bad)?,
                    ))
                })
                .collect(),
            _ => Err(bad()),
        }
    }

    /// A hash whose values may be strings or lists of strings (e.g. grok's `match`).
    pub fn hash(&self, name: &'static str) -> Result<HashEntries<'a>, ConfigError> {
        let Some(setting) = self.raw(name) else {
            return Ok(Vec::new());
        };
        let bad = || self.invalid(setting, "expected a hash, e.g. { \"key\" => \"value\" }");
        let key =
            |v: &Spanned<ConfigValue>| scalar_string(v).map(|node| Spanned { node, span: v.span });
        match &setting.value.node {
            ConfigValue::Hash(entries) => entries
                .iter()
                .map(|(k, v)| Ok((key(k).ok_or_else(bad)?, v)))
                .collect(),
            ConfigValue::Array(items) if items.len() % 2 == 0 => items
                .chunks(2)
                .map(|pair| Ok((key(&pair[0]).ok_or_else(bad)?, &pair[1])))
                .collect(),
            _ => Err(bad()),
        }
    }

    /// A nested plugin such as `codec => json_lines` or `codec => multiline { … }`.
    /// A bareword or string names a plugin with no settings.
    pub fn plugin(&self, name: &'static str) -> Result<Option<Plugin>, ConfigError> {
        let Some(setting) = self.raw(name) else {
            return Ok(None);
        };
        match &setting.value.node {
            ConfigValue::Plugin(p) => Ok(Some(p.clone())),
            ConfigValue::Bareword(n) | ConfigValue::String(n) => Ok(Some(Plugin {
                name: n.clone(),
                settings: Vec::new(),
                span: setting.value.span,
            })),
            _ => Err(self.invalid(setting, "expected a plugin name, e.g. `json_lines`")),
        }
    }

    /// Fails on any setting in the block that the plugin did not ask for.
    pub fn finish(self) -> Result<(), ConfigError> {
        let requested = self.requested.into_inner();
        for setting in &self.plugin.settings {
            if !requested.contains(&setting.name.as_str()) {
                return Err(ConfigError::at(
                    setting.span,
                    format!(
                        "unknown setting `{}` for {} plugin `{}`",
                        setting.name, self.kind, self.plugin.name
                    ),
                )
                .with_help(unknown_name_help(&setting.name, &requested)));
            }
        }
        Ok(())
    }
}

/// A string, bareword, number or boolean as text, as Logstash coerces scalars for string
/// settings.
pub fn scalar_string(value: &Spanned<ConfigValue>) -> Option<String> {
    match &value.node {
        ConfigValue::String(s) | ConfigValue::Bareword(s) => Some(s.clone()),
        ConfigValue::Number(Number::Integer(i)) => Some(i.to_string()),
        ConfigValue::Number(Number::Float(f)) => Some(f.to_string()),
        ConfigValue::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}
