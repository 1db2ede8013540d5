//! The options every filter accepts, applied after the filter matched (Logstash's
//! `filter_matched`): `add_field`, then `remove_field`, then `add_tag`, then `remove_tag`.

use std::borrow::Cow;

use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::event::{Event, FieldRef, Template, Value};

#[derive(Default)]
pub struct CommonOptions {
    add_field: Vec<(FieldTemplate, Template)>,
    remove_field: Vec<FieldTemplate>,
    add_tag: Vec<Template>,
    remove_tag: Vec<Template>,
}

/// A field name that may itself be a template (`remove_field => ["%{kind}_raw"]`); constant
/// names are parsed once.
pub enum FieldTemplate {
    Fixed(FieldRef),
    Dynamic(Template),
}

impl FieldTemplate {
    pub fn compile(source: &str) -> Result<FieldTemplate, String> {
        let template = Template::compile(source).map_err(|e| e.to_string())?;
        if template.is_constant() {
            FieldRef::parse(source)
                .map(FieldTemplate::Fixed)
                .map_err(|e| e.to_string())
        } else {
            Ok(FieldTemplate::Dynamic(template))
        }
    }

    /// The field this names for `event`; `None` when a rendered name is not a valid reference.
    pub fn resolve(&self, event: &Event) -> Option<Cow<'_, FieldRef>> {
        match self {
            // Borrowed: a constant name costs nothing per event.
            FieldTemplate::Fixed(f) => Some(Cow::Borrowed(f)),
            FieldTemplate::Dynamic(t) => FieldRef::parse(&t.render_to_string(event))
                .ok()
                .map(Cow::Owned),
        }
    }
}

impl CommonOptions {
    /// Reads the common settings of `settings`' plugin block.
    pub fn from_settings(settings: &Settings) -> Result<CommonOptions, ConfigError> {
        let template = |s: &crate::config::ast::Spanned<String>| {
            Template::compile(&s.node).map_err(|e| ConfigError::at(s.span, e.to_string()))
        };
        let field = |s: &crate::config::ast::Spanned<String>| {
            FieldTemplate::compile(&s.node).map_err(|e| ConfigError::at(s.span, e))
        };
        let options = CommonOptions {
            add_field: settings
                .string_pairs("add_field")?
                .iter()
                .map(|(k, v)| Ok((field(k)?, template(v)?)))
                .collect::<Result<_, ConfigError>>()?,
            remove_field: settings
                .string_list("remove_field")?
                .iter()
                .map(field)
                .collect::<Result<_, _>>()?,
            add_tag: settings
                .string_list("add_tag")?
                .iter()
                .map(template)
                .collect::<Result<_, _>>()?,
            remove_tag: settings
                .string_list("remove_tag")?
                .iter()
                .map(template)
                .collect::<Result<_, _>>()?,
        };
        // Accepted for compatibility; Sluice always counts and has no periodic flush to turn off.
        settings.boolean("enable_metric")?;
        settings.boolean("periodic_flush")?;
        Ok(options)
    }

    pub fn is_empty(&self) -> bool {
        self.add_field.is_empty()
            && self.remove_field.is_empty()
            && self.add_tag.is_empty()
            && self.remove_tag.is_empty()
    }

    pub fn apply(&self, event: &mut Event) {
        for (name, value) in &self.add_field {
            let Some(field) = name.resolve(event) else {
                continue;
            };
            let value = Value::from(value.render_to_string(event));
            // An existing field becomes an array with the new value appended, as in Logstash.
            match event.get_mut(&field) {
                Some(Value::Array(items)) => items.push(value),
                Some(existing) => {
                    let previous = std::mem::replace(existing, Value::Null);
                    *existing = Value::Array(vec![previous, value]);
                }
                None => {
                    event.insert(&field, value);
                }
            }
        }
        for field in &self.remove_field {
            if let Some(field) = field.resolve(event) {
                event.remove(&field);
            }
        }
        for tag in &self.add_tag {
            let tag = tag.render_to_string(event);
            event.add_tag(tag.into());
        }
        for tag in &self.remove_tag {
            let tag = tag.render_to_string(event);
            event.remove_tag(&tag);
        }
    }
}
