//! `mutate`: renames, replaces and rewrites fields, in Logstash's fixed order of operations
//! (whatever order the settings are written in): rename, update, replace, uppercase,
//! capitalize, lowercase, strip, copy. Then the common options (`add_field`, `add_tag`, …).

use super::{Filter, Outcome};
use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::event::{Event, FieldRef, Template, Text, Value};

pub struct Mutate {
    rename: Vec<(FieldRef, FieldRef)>,
    update: Vec<(FieldRef, Template)>,
    replace: Vec<(FieldRef, Template)>,
    uppercase: Vec<FieldRef>,
    capitalize: Vec<FieldRef>,
    lowercase: Vec<FieldRef>,
    strip: Vec<FieldRef>,
    copy: Vec<(FieldRef, FieldRef)>,
}

pub fn build(settings: &Settings) -> Result<Box<dyn Filter>, ConfigError> {
    let field = |s: &crate::config::ast::Spanned<String>| {
        FieldRef::parse(&s.node).map_err(|e| ConfigError::at(s.span, e.to_string()))
    };
    let template = |s: &crate::config::ast::Spanned<String>| {
        Template::compile(&s.node).map_err(|e| ConfigError::at(s.span, e.to_string()))
    };
    let field_pairs = |name| -> Result<Vec<(FieldRef, FieldRef)>, ConfigError> {
        settings
            .string_pairs(name)?
            .iter()
            .map(|(a, b)| Ok((field(a)?, field(b)?)))
            .collect()
    };
    let field_templates = |name| -> Result<Vec<(FieldRef, Template)>, ConfigError> {
        settings
            .string_pairs(name)?
            .iter()
            .map(|(a, b)| Ok((field(a)?, template(b)?)))
            .collect()
    };
    let fields = |name| -> Result<Vec<FieldRef>, ConfigError> {
        settings.string_list(name)?.iter().map(field).collect()
    };
    Ok(Box::new(Mutate {
        rename: field_pairs("rename")?,
        update: field_templates("update")?,
        replace: field_templates("replace")?,
        uppercase: fields("uppercase")?,
        capitalize: fields("capitalize")?,
        lowercase: fields("lowercase")?,
        strip: fields("strip")?,
        copy: field_pairs("copy")?,
    }))
}

impl Filter for Mutate {
    fn filter(&self, event: &mut Event) -> Outcome {
        for (from, to) in &self.rename {
            if let Some(value) = event.remove(from) {
                event.insert(to, value);
            }
        }
        for (field, template) in &self.update {
            if event.contains(field) {
                let value = template.render_to_string(event);
                event.insert(field, value.into());
            }
        }
        for (field, template) in &self.replace {
            let value = template.render_to_string(event);
            event.insert(field, value.into());
        }
        map_strings(event, &self.uppercase, |s| s.to_uppercase());
        map_strings(event, &self.capitalize, capitalize);
        map_strings(event, &self.lowercase, |s| s.to_lowercase());
        for field in &self.strip {
            // Stripping only narrows the string: keep a slice of the same buffer.
            if let Some(value) = event.get_mut(field) {
                for_each_string(value, &mut |t: &mut Text| {
                    let trimmed = t.trim();
                    if trimmed.len() != t.len() {
                        *t = t.slice_ref(trimmed);
                    }
                });
            }
        }
        for (from, to) in &self.copy {
            if let Some(value) = event.get(from).cloned() {
                event.insert(to, value);
            }
        }
        Outcome::Matched
    }
}

/// Ruby's `String#capitalize`: the first character upper case, the rest lower case.
fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

fn map_strings(event: &mut Event, fields: &[FieldRef], f: impl Fn(&str) -> String) {
    for field in fields {
        if let Some(value) = event.get_mut(field) {
            for_each_string(value, &mut |t: &mut Text| {
                let mapped = f(t);
                if mapped != t.as_str() {
                    *t = Text::from(mapped);
                }
            });
        }
    }
}

/// Applies `f` to a string or to every string of an array, as mutate's string operations do.
fn for_each_string(value: &mut Value, f: &mut impl FnMut(&mut Text)) {
    match value {
        Value::String(t) => f(t),
        Value::Array(items) => {
            for item in items {
                if let Value::String(t) = item {
                    f(t);
                }
            }
        }
        _ => {}
    }
}
