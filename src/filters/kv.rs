//! `kv`: finds `key=value` pairs in a field's text (`source`, by default `message`) and sets
//! them as fields, at the top level or under `target`.
//!
//! `field_split` and `value_split` are sets of characters, as in Logstash: any one of them
//! separates. Values may be quoted with `"`, `'`, or (with `include_brackets`, the default)
//! wrapped in `()`, `[]` or `<>`, which are removed. A key seen twice becomes an array of its
//! values (without repeats unless `allow_duplicate_values`). Keys and values are slices of
//! the source text, not copies, unless trimming leaves nothing to share.
//!
//! After a pair is found, in Logstash's order: `trim_key`/`trim_value` take characters off
//! the ends, `remove_char_key`/`remove_char_value` take them out anywhere,
//! `transform_key`/`transform_value` change case, `include_keys`/`exclude_keys` filter,
//! `prefix` (a template) is prepended; empty values are dropped unless
//! `allow_empty_values`. `default_keys` fill in keys the text did not have.
//!
//! Not supported yet: `field_split_pattern`, `value_split_pattern` (they need look-ahead the
//! `regex` crate lacks), `recursive`, `whitespace => strict`, `timeout_millis`.

use regex::Regex;

use super::{Filter, Outcome};
use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::event::{Event, FieldRef, Object, Template, Text, Value};

pub struct Kv {
    source: FieldRef,
    target: Option<FieldRef>,
    prefix: Template,
    pairs: Regex,
    include_keys: Vec<String>,
    exclude_keys: Vec<String>,
    key: Cleanup,
    value: Cleanup,
    allow_duplicate_values: bool,
    allow_empty_values: bool,
    default_keys: Vec<(Text, Text)>,
}

/// What happens to a key, or to a value, once found.
struct Cleanup {
    trim: Vec<char>,
    remove: Vec<char>,
    transform: Option<Transform>,
}

#[derive(Clone, Copy)]
enum Transform {
    Lowercase,
    Uppercase,
    Capitalize,
}

impl Cleanup {
    fn read(settings: &Settings, what: &'static [&'static str; 3]) -> Result<Cleanup, ConfigError> {
        let [trim, remove, transform] = *what;
        Ok(Cleanup {
            trim: settings.string_or(trim, "")?.chars().collect(),
            remove: settings.string_or(remove, "")?.chars().collect(),
            transform: match settings.raw(transform) {
                None => None,
                Some(_) => Some(
                    match settings.choice(
                        transform,
                        &["lowercase", "uppercase", "capitalize"],
                        "lowercase",
                    )? {
                        "uppercase" => Transform::Uppercase,
                        "capitalize" => Transform::Capitalize,
                        _ => Transform::Lowercase,
                    },
                ),
            },
        })
    }

    /// `part` of `text` cleaned up; still a slice of `text` unless characters were removed
    /// or the case changed.
    fn apply(&self, text: &Text, part: &str) -> Text {
        let trimmed = part.trim_matches(&self.trim[..]);
        let removed = if self.remove.is_empty() || !trimmed.contains(&self.remove[..]) {
            None
        } else {
            Some(trimmed.replace(&self.remove[..], ""))
        };
        let current = removed.as_deref().unwrap_or(trimmed);
        let transformed = self.transform.map(|t| match t {
            Transform::Lowercase => current.to_lowercase(),
            Transform::Uppercase => current.to_uppercase(),
            Transform::Capitalize => {
                let mut chars = current.chars();
                match chars.next() {
                    Some(first) => first
                        .to_uppercase()
                        .chain(chars.flat_map(char::to_lowercase))
                        .collect(),
                    None => String::new(),
                }
            }
        });
        match (transformed, removed) {
            (Some(owned), _) if owned != trimmed => Text::from(owned),
            (_, Some(owned)) => Text::from(owned),
            _ => text.slice_ref(trimmed),
        }
    }
}

pub fn build(settings: &Settings) -> Result<Box<dyn Filter>, ConfigError> {
    Ok(Box::new(compile(settings)?))
}

/// A regex character class body matching any of `chars`.
fn class(chars: &str) -> String {
    chars
        .chars()
        .map(|c| regex::escape(&c.to_string()))
        .collect()
}

fn compile(settings: &Settings) -> Result<Kv, ConfigError> {
    let field = |name: String| FieldRef::parse(&name).map_err(|e| settings.error(e.to_string()));
    let field_split = settings.string_or("field_split", " ")?;
    let value_split = settings.string_or("value_split", "=")?;
    for (name, value) in [("field_split", &field_split), ("value_split", &value_split)] {
        if value.is_empty() {
            return Err(settings.error(format!("`{name}` needs at least one character")));
        }
    }
    let include_brackets = settings.boolean_or("include_brackets", true)?;
    let (fs, vs) = (class(&field_split), class(&value_split));
    // A key is anything up to a value separator (a backslash-escaped space included); the
    // value is quoted, bracketed, or runs to the next field separator.
    let mut value = String::from(r#"(?:"([^"]*)"|'([^']*)'"#);
    if include_brackets {
        value.push_str(r"|\(([^)]*)\)|\[([^\]]*)\]|<([^>]*)>");
    }
    value.push_str(&format!(r"|((?:\\ |[^{fs}])+))"));
    let pattern = format!(r"((?:\\ |[^{fs}{vs}])+)\s*[{vs}]\s*{value}");
    let pairs = Regex::new(&pattern).map_err(|e| settings.error(e.to_string()))?;
    let strings = |name| -> Result<Vec<String>, ConfigError> {
        Ok(settings
            .string_list(name)?
            .into_iter()
            .map(|s| s.node)
            .collect())
    };
    Ok(Kv {
        source: field(settings.string_or("source", "message")?)?,
        target: settings.string("target")?.map(field).transpose()?,
        prefix: Template::compile(&settings.string_or("prefix", "")?)
            .map_err(|e| settings.error(e.to_string()))?,
        pairs,
        include_keys: strings("include_keys")?,
        exclude_keys: strings("exclude_keys")?,
        key: Cleanup::read(settings, &["trim_key", "remove_char_key", "transform_key"])?,
        value: Cleanup::read(
            settings,
            &["trim_value", "remove_char_value", "transform_value"],
        )?,
        allow_duplicate_values: settings.boolean_or("allow_duplicate_values", true)?,
        allow_empty_values: settings.boolean_or("allow_empty_values", false)?,
        default_keys: settings
            .string_pairs("default_keys")?
            .into_iter()
            .map(|(k, v)| (Text::from(k.node), Text::from(v.node)))
            .collect(),
    })
}

impl Filter for Kv {
    fn filter(&self, event: &mut Event) -> Outcome {
        let texts: Vec<Text> = match event.get(&self.source) {
            Some(Value::String(text)) => vec![text.clone()],
            Some(Value::Array(items)) => {
                items.iter().filter_map(|v| v.as_text().cloned()).collect()
            }
            _ => return Outcome::Failed,
        };
        let prefix = self.prefix.render_to_string(event);
        let mut found = Object::new();
        for text in &texts {
            self.scan(text, &prefix, &mut found);
        }
        for (key, value) in &self.default_keys {
            if !found.contains_key(key) {
                found.insert(key.clone(), Value::String(value.clone()));
            }
        }
        match &self.target {
            Some(target) => {
                event.insert(target, Value::Object(found));
            }
            None => {
                for (key, value) in found.iter() {
                    event.insert(&FieldRef::top(key), value.clone());
                }
            }
        }
        Outcome::Matched
    }
}

impl Kv {
    fn scan(&self, text: &Text, prefix: &str, found: &mut Object) {
        for captures in self.pairs.captures_iter(text) {
            let Some(value) = captures.iter().skip(2).flatten().next() else {
                continue;
            };
            let key = self.key.apply(text, &captures[1]);
            let value = self.value.apply(text, value.as_str());
            if key.is_empty()
                || (value.is_empty() && !self.allow_empty_values)
                || (!self.include_keys.is_empty() && !self.include_keys.iter().any(|k| **k == *key))
                || self.exclude_keys.iter().any(|k| **k == *key)
            {
                continue;
            }
            let key = if prefix.is_empty() {
                key
            } else {
                Text::from(format!("{prefix}{key}"))
            };
            let value = Value::String(value);
            match found.get_mut(&key) {
                None => {
                    found.insert(key, value);
                }
                Some(Value::Array(values)) => {
                    if self.allow_duplicate_values || !values.contains(&value) {
                        values.push(value);
                    }
                }
                Some(existing) => {
                    if self.allow_duplicate_values || *existing != value {
                        let first = std::mem::replace(existing, Value::Null);
                        *existing = Value::Array(vec![first, value]);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(config: &str) -> Kv {
        crate::filters::tests::compile_with("kv", config, compile).unwrap()
    }

    fn run(config: &str, message: &str) -> Event {
        let mut e = Event::from_message(Text::from(message));
        assert_eq!(kv(config).filter(&mut e), Outcome::Matched);
        e
    }

    fn get(event: &Event, field: &str) -> Option<Value> {
        event.get(&FieldRef::parse(field).unwrap()).cloned()
    }

    #[test]
    fn default_splits_quotes_and_brackets() {
        let e = run(
            "",
            r#"a=1 b="two words" c='x y' d=(p q) e=[r] f=<s> g = spaced h=a\ b"#,
        );
        for (key, value) in [
            ("a", "1"),
            ("b", "two words"),
            ("c", "x y"),
            ("d", "p q"),
            ("e", "r"),
            ("f", "s"),
            ("g", "spaced"),
            ("h", r"a\ b"),
        ] {
            assert_eq!(get(&e, key), Some(value.into()), "{key}");
        }
    }

    #[test]
    fn values_are_slices_of_the_source() {
        let message = Text::from("user=alice");
        let mut e = Event::from_message(message.clone());
        kv("").filter(&mut e);
        let Some(Value::String(user)) = get(&e, "user") else {
            panic!("no user");
        };
        assert!(message
            .as_bytes()
            .as_ptr_range()
            .contains(&user.as_bytes().as_ptr()));
    }

    #[test]
    fn custom_splits_target_prefix_and_trims() {
        let e = run(
            r#"field_split => "&?" value_split => ":" target => "[q]" prefix => "p_" trim_key => "<>" trim_value => "." include_brackets => false"#,
            "?<a>:1.&b:[2]&c:3",
        );
        assert_eq!(get(&e, "[q][p_a]"), Some("1".into()));
        assert_eq!(get(&e, "[q][p_b]"), Some("[2]".into()));
        assert_eq!(get(&e, "[q][p_c]"), Some("3".into()));
        assert_eq!(get(&e, "p_a"), None);
    }

    #[test]
    fn include_exclude_and_duplicates() {
        let e = run(
            r#"include_keys => ["a", "b"] exclude_keys => ["b"]"#,
            "a=1 b=2 c=3 a=1 a=4",
        );
        assert_eq!(
            get(&e, "a"),
            Some(Value::Array(vec!["1".into(), "1".into(), "4".into()]))
        );
        assert_eq!(get(&e, "b"), None);
        assert_eq!(get(&e, "c"), None);
        let e = run(r#"allow_duplicate_values => false"#, "a=1 a=1 a=2 a=2");
        assert_eq!(
            get(&e, "a"),
            Some(Value::Array(vec!["1".into(), "2".into()]))
        );
    }

    #[test]
    fn cleanup_transform_defaults_and_empty_values() {
        let e = run(
            r#"remove_char_key => "-" remove_char_value => "'" transform_key => "uppercase"
               transform_value => "capitalize" default_keys => { "D" => "dflt" "AB" => "unused" }"#,
            "a-b=it's e=\"\" c=",
        );
        assert_eq!(get(&e, "AB"), Some("Its".into()));
        assert_eq!(get(&e, "C"), None);
        assert_eq!(get(&e, "E"), None);
        assert_eq!(get(&e, "D"), Some("dflt".into()));
        let e = run(r#"allow_empty_values => true"#, r#"e="" c=1"#);
        assert_eq!(get(&e, "e"), Some("".into()));
        assert_eq!(get(&e, "c"), Some("1".into()));
    }

    #[test]
    fn missing_source_does_not_match() {
        let mut e = Event::from_message(Text::from("a=1"));
        assert_eq!(kv(r#"source => "other""#).filter(&mut e), Outcome::Failed);
        assert_eq!(get(&e, "a"), None);
    }
}
