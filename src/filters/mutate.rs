//! `mutate`: renames, replaces, converts and rewrites fields, in Logstash's fixed order of
//! operations whatever order the settings are written in: coerce, rename, update, replace,
//! convert, gsub, uppercase, capitalize, lowercase, strip, split, join, merge, copy. Then
//! the common options (`add_field`, `add_tag`, …).
//!
//! A conversion Logstash would raise an exception on (`convert => { f => "float" }` on
//! `"abc"`) stops the operations there and tags the event `tag_on_failure`
//! (`_mutate_error`), without the common options, as in Logstash.

mod convert;
mod gsub;

use super::common::FieldTemplate;
use super::{Filter, Outcome};
use crate::config::ast::{ConfigValue, Spanned};
use crate::config::error::{unknown_name_help, ConfigError};
use crate::config::settings::{scalar_string, Settings};
use crate::event::{Event, FieldRef, Template, Text, Value};
use convert::Conversion;
use gsub::Gsub;

pub struct Mutate {
    coerce: Vec<(FieldRef, Template)>,
    rename: Vec<(FieldTemplate, FieldTemplate)>,
    update: Vec<(FieldRef, Template)>,
    replace: Vec<(FieldRef, Template)>,
    convert: Vec<(FieldRef, Conversion)>,
    gsub: Vec<(FieldRef, Gsub)>,
    uppercase: Vec<FieldRef>,
    capitalize: Vec<FieldRef>,
    lowercase: Vec<FieldRef>,
    strip: Vec<FieldRef>,
    split: Vec<(FieldRef, String)>,
    join: Vec<(FieldRef, String)>,
    merge: Vec<(FieldRef, Vec<FieldRef>)>,
    copy: Vec<(FieldRef, FieldRef)>,
    tag_on_failure: Text,
}

type SpannedStr = Spanned<String>;

pub fn build(settings: &Settings) -> Result<Box<dyn Filter>, ConfigError> {
    Ok(Box::new(compile(settings)?))
}

fn compile(settings: &Settings) -> Result<Mutate, ConfigError> {
    let field = |s: &SpannedStr| {
        FieldRef::parse(&s.node).map_err(|e| ConfigError::at(s.span, e.to_string()))
    };
    let template = |s: &SpannedStr| {
        Template::compile(&s.node).map_err(|e| ConfigError::at(s.span, e.to_string()))
    };
    let field_template =
        |s: &SpannedStr| FieldTemplate::compile(&s.node).map_err(|e| ConfigError::at(s.span, e));
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
    let field_strings = |name| -> Result<Vec<(FieldRef, String)>, ConfigError> {
        settings
            .string_pairs(name)?
            .into_iter()
            .map(|(a, b)| Ok((field(&a)?, b.node)))
            .collect()
    };
    let fields = |name| -> Result<Vec<FieldRef>, ConfigError> {
        settings.string_list(name)?.iter().map(field).collect()
    };
    let convert = settings
        .string_pairs("convert")?
        .iter()
        .map(|(f, kind)| {
            let conversion = Conversion::from_name(&kind.node).ok_or_else(|| {
                ConfigError::at(
                    kind.span,
                    format!("invalid conversion type `{}`", kind.node),
                )
                .with_help(unknown_name_help(&kind.node, &convert::NAMES))
            })?;
            Ok((field(f)?, conversion))
        })
        .collect::<Result<_, ConfigError>>()?;
    let gsub_items = settings.string_list("gsub")?;
    if gsub_items.len() % 3 != 0 {
        let setting = settings.raw("gsub").expect("gsub was given");
        return Err(settings.invalid(
            setting,
            "expected [field, pattern, replacement, …]: a multiple of three strings",
        ));
    }
    let gsub = gsub_items
        .chunks(3)
        .map(|item| {
            let gsub = Gsub::compile(&item[1].node, &item[2].node)
                .map_err(|e| ConfigError::at(item[1].span, e))?;
            Ok((field(&item[0])?, gsub))
        })
        .collect::<Result<_, ConfigError>>()?;
    let merge = settings
        .hash("merge")?
        .into_iter()
        .map(|(dest, added)| {
            let added = merge_sources(added)
                .ok_or_else(|| ConfigError::at(added.span, "expected a field or a list of fields"))?
                .iter()
                .map(field)
                .collect::<Result<_, _>>()?;
            Ok((field(&dest)?, added))
        })
        .collect::<Result<_, ConfigError>>()?;
    Ok(Mutate {
        coerce: field_templates("coerce")?,
        rename: settings
            .string_pairs("rename")?
            .iter()
            .map(|(a, b)| Ok((field_template(a)?, field_template(b)?)))
            .collect::<Result<_, ConfigError>>()?,
        update: field_templates("update")?,
        replace: field_templates("replace")?,
        convert,
        gsub,
        uppercase: fields("uppercase")?,
        capitalize: fields("capitalize")?,
        lowercase: fields("lowercase")?,
        strip: fields("strip")?,
        split: field_strings("split")?,
        join: field_strings("join")?,
        merge,
        copy: field_pairs("copy")?,
        tag_on_failure: settings
            .string_or("tag_on_failure", "_mutate_error")?
            .into(),
    })
}

/// `merge`'s value: one field, or several.
fn merge_sources(value: &Spanned<ConfigValue>) -> Option<Vec<SpannedStr>> {
    let one =
        |v: &Spanned<ConfigValue>| scalar_string(v).map(|node| Spanned { node, span: v.span });
    match &value.node {
        ConfigValue::Array(items) => items.iter().map(one).collect(),
        _ => one(value).map(|v| vec![v]),
    }
}

impl Filter for Mutate {
    fn filter(&self, event: &mut Event) -> Outcome {
        match self.apply(event) {
            Ok(()) => Outcome::Matched,
            Err(reason) => {
                tracing::warn!(%reason, "mutate failed");
                event.add_tag(self.tag_on_failure.clone());
                Outcome::Failed
            }
        }
    }
}

impl Mutate {
    fn apply(&self, event: &mut Event) -> Result<(), String> {
        for (field, template) in &self.coerce {
            if matches!(event.get(field), Some(Value::Null)) {
                let value = template.render_to_string(event);
                event.insert(field, value.into());
            }
        }
        for (from, to) in &self.rename {
            let (Some(from), Some(to)) = (from.resolve(event), to.resolve(event)) else {
                continue;
            };
            if let Some(value) = event.remove(&from) {
                event.insert(&to, value);
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
        for (field, conversion) in &self.convert {
            if let Some(value) = event.get_mut(field) {
                convert_value(value, *conversion)?;
            }
        }
        for (field, gsub) in &self.gsub {
            let Some(value) = event.get(field) else {
                continue;
            };
            let replaced = match value {
                Value::String(text) => gsub.apply(event, text).map(Value::from),
                Value::Array(items) => {
                    let mut changed = false;
                    let items = items
                        .iter()
                        .map(|item| match item {
                            Value::String(text) => match gsub.apply(event, text) {
                                Some(new) => {
                                    changed = true;
                                    Value::from(new)
                                }
                                None => item.clone(),
                            },
                            other => other.clone(),
                        })
                        .collect();
                    changed.then_some(Value::Array(items))
                }
                _ => None,
            };
            if let Some(replaced) = replaced {
                event.insert(field, replaced);
            }
        }
        map_strings(event, &self.uppercase, |s| s.to_uppercase());
        map_strings(event, &self.capitalize, capitalize);
        map_strings(event, &self.lowercase, |s| s.to_lowercase());
        for field in &self.strip {
            // Stripping only narrows the string: keep a slice of the same buffer.
            if let Some(value) = event.get_mut(field) {
                for_each_string(value, &mut |t: &mut Text| {
                    let trimmed = ruby_strip(t);
                    if trimmed.len() != t.len() {
                        *t = t.slice_ref(trimmed);
                    }
                });
            }
        }
        for (field, separator) in &self.split {
            if let Some(value @ Value::String(_)) = event.get_mut(field) {
                let Value::String(text) = std::mem::replace(value, Value::Null) else {
                    unreachable!("matched a string above");
                };
                *value = Value::Array(split(&text, separator));
            }
        }
        for (field, separator) in &self.join {
            if let Some(value @ Value::Array(_)) = event.get_mut(field) {
                let mut joined = String::new();
                join(value, separator, &mut joined, &mut true);
                *value = Value::from(joined);
            }
        }
        for (dest, added) in &self.merge {
            for added in added {
                merge(event, dest, added);
            }
        }
        for (from, to) in &self.copy {
            match event.get(from) {
                None | Some(Value::Null) => {}
                Some(value) => {
                    let value = value.clone();
                    event.insert(to, value);
                }
            }
        }
        Ok(())
    }
}

/// Converts a value, or each element of an array; objects and nulls are left alone.
fn convert_value(value: &mut Value, conversion: Conversion) -> Result<(), String> {
    match value {
        Value::Null | Value::Object(_) => {}
        Value::Array(items) => {
            for item in items.iter_mut().filter(|v| !matches!(v, Value::Null)) {
                *item = conversion.apply(item)?;
            }
        }
        other => *other = conversion.apply(other)?,
    }
    Ok(())
}

/// Ruby's `String#split` with a string: `" "` splits on runs of whitespace ignoring the
/// leading ones, `""` into characters, and trailing empty strings are dropped. The parts
/// are slices of the original text.
fn split(text: &Text, separator: &str) -> Vec<Value> {
    let parts: Vec<&str> = match separator {
        " " => text.split_whitespace().collect(),
        "" => text
            .char_indices()
            .map(|(i, c)| &text[i..i + c.len_utf8()])
            .collect(),
        separator => {
            let mut parts: Vec<&str> = text.split(separator).collect();
            while parts.last().is_some_and(|p| p.is_empty()) {
                parts.pop();
            }
            parts
        }
    };
    parts
        .into_iter()
        .map(|part| Value::String(text.slice_ref(part)))
        .collect()
}

/// Ruby's `Array#join`: nested arrays are joined in place, nulls are empty.
fn join(value: &Value, separator: &str, out: &mut String, first: &mut bool) {
    match value {
        Value::Array(items) => {
            for item in items {
                join(item, separator, out, first);
            }
        }
        other => {
            if !*first {
                out.push_str(separator);
            }
            *first = false;
            other.write_display(out);
        }
    }
}

/// Logstash's `merge`: two objects merge key by key (the added field's values win);
/// anything else becomes an array of both, scalars wrapped; an object and a non-object are
/// left alone.
fn merge(event: &mut Event, dest: &FieldRef, added: &FieldRef) {
    let added_value = event.get(added).cloned();
    let dest_is_object = matches!(event.get(dest), Some(Value::Object(_)));
    let added_is_object = matches!(added_value, Some(Value::Object(_)));
    if dest_is_object != added_is_object {
        return;
    }
    if let (Some(Value::Object(target)), Some(Value::Object(source))) =
        (event.get_mut(dest), added_value.as_ref())
    {
        for (key, value) in source.iter() {
            target.insert(key.clone(), value.clone());
        }
        return;
    }
    let mut merged = into_array(event.remove(dest));
    merged.extend(into_array(added_value));
    event.insert(dest, Value::Array(merged));
}

/// Ruby's `Array()`: nothing is empty, an array is itself, anything else a list of one.
fn into_array(value: Option<Value>) -> Vec<Value> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => vec![other],
    }
}

/// Ruby's `String#strip`: only ASCII whitespace and NUL count, not Unicode spaces such as
/// U+00A0, which Rust's `trim` would also take.
fn ruby_strip(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, '\0' | '\t' | '\n' | '\x0b' | '\x0c' | '\r' | ' '))
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

#[cfg(test)]
mod tests;
