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
//! `allow_empty_values`. `default_keys` fill in keys the text did not have. Keys are field
//! references (`[a][b]=1` nests). An event where nothing was found (no source, no pairs,
//! no defaults) is not a match, so the common options do not apply, as in Logstash.
//!
//! `field_split_pattern` and `value_split_pattern` replace the character sets with regular
//! expressions; Logstash builds one Ruby regex with look-ahead from them, which Rust's
//! engine lacks, so [`PatternScanner`] walks the text instead, with the same result: a key
//! runs until a separator, a value until the next field separator.
//!
//! Not supported yet: `recursive`, `whitespace => strict`, `timeout_millis`.

use regex::Regex;

use super::{Filter, Outcome};
use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::event::{Event, FieldRef, Object, Template, Text, Value};

pub struct Kv {
    source: FieldRef,
    target: Option<FieldRef>,
    prefix: Template,
    pairs: Pairs,
    include_keys: Vec<String>,
    exclude_keys: Vec<String>,
    key: Cleanup,
    value: Cleanup,
    allow_duplicate_values: bool,
    allow_empty_values: bool,
    default_keys: Vec<(Text, Text)>,
}

/// How pairs are found.
enum Pairs {
    /// Character sets: one regex finds every pair.
    Chars(Regex),
    Patterns(PatternScanner),
}

/// Finds pairs separated by regular expressions.
struct PatternScanner {
    /// Anchored (`^`): they are tried at one position at a time.
    field_split: Regex,
    value_split: Regex,
    include_brackets: bool,
}

impl PatternScanner {
    fn pairs<'t>(&self, text: &'t str) -> Vec<(&'t str, &'t str)> {
        let mut pairs = Vec::new();
        let mut at = 0;
        while at < text.len() {
            // Skip field separators, then read a key up to the first separator of either kind.
            if let Some(len) = separator_at(&self.field_split, text, at) {
                at += len;
                continue;
            }
            let key_start = at;
            let mut split = None;
            while at < text.len() {
                split = separator_at(&self.value_split, text, at);
                if split.is_some() || separator_at(&self.field_split, text, at).is_some() {
                    break;
                }
                at += next_char_len(text, at);
            }
            let Some(split_len) = split else {
                continue;
            };
            let key = &text[key_start..at];
            at += split_len;
            let (value, end) = self.value(text, at);
            at = end;
            if !key.is_empty() && !value.is_empty() {
                pairs.push((key, value));
            }
        }
        pairs
    }

    /// The value starting at `at` and where it ends: quoted or bracketed, or up to the next
    /// field separator.
    fn value<'t>(&self, text: &'t str, at: usize) -> (&'t str, usize) {
        let rest = &text[at..];
        let closers: &[(char, char)] = if self.include_brackets {
            &[('"', '"'), ('\'', '\''), ('(', ')'), ('[', ']'), ('<', '>')]
        } else {
            &[('"', '"'), ('\'', '\'')]
        };
        for &(open, close) in closers {
            if let Some(inner) = rest.strip_prefix(open) {
                if let Some(len) = inner.find(close) {
                    let start = at + open.len_utf8();
                    return (&text[start..start + len], start + len + close.len_utf8());
                }
            }
        }
        let mut end = at;
        while end < text.len() && separator_at(&self.field_split, text, end).is_none() {
            end += next_char_len(text, end);
        }
        (&text[at..end], end)
    }
}

/// The length of the separator `regex` (anchored) matches at `at`; an empty match is no
/// separator, or a pattern such as `\s*` would split everywhere.
fn separator_at(regex: &Regex, text: &str, at: usize) -> Option<usize> {
    regex
        .find(&text[at..])
        .map(|m| m.end())
        .filter(|&len| len > 0)
}

fn next_char_len(text: &str, at: usize) -> usize {
    text[at..].chars().next().map_or(1, char::len_utf8)
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
    let pattern = |name| -> Result<Option<Regex>, ConfigError> {
        let Some(source) = settings.string(name)? else {
            return Ok(None);
        };
        Regex::new(&format!("^(?:{source})"))
            .map(Some)
            .map_err(|e| settings.error(format!("invalid `{name}`: {e}")))
    };
    let field_split_pattern = pattern("field_split_pattern")?;
    let value_split_pattern = pattern("value_split_pattern")?;
    let pairs = if field_split_pattern.is_some() || value_split_pattern.is_some() {
        let or_chars = |regex: Option<Regex>, chars: &str| {
            regex.unwrap_or_else(|| {
                Regex::new(&format!("^[{}]", class(chars))).expect("an escaped class compiles")
            })
        };
        // Whitespace around the value separator belongs to it, as in lenient mode.
        let value_split = or_chars(value_split_pattern, &value_split);
        let value_split = Regex::new(&format!(r"^\s*(?:{})\s*", &value_split.as_str()[1..]))
            .map_err(|e| settings.error(e.to_string()))?;
        Pairs::Patterns(PatternScanner {
            field_split: or_chars(field_split_pattern, &field_split),
            value_split,
            include_brackets,
        })
    } else {
        let (fs, vs) = (class(&field_split), class(&value_split));
        // A key is anything up to a value separator (a backslash-escaped space included); the
        // value is quoted, bracketed, or runs to the next field separator.
        let mut value = String::from(r#"(?:"([^"]*)"|'([^']*)'"#);
        if include_brackets {
            value.push_str(r"|\(([^)]*)\)|\[([^\]]*)\]|<([^>]*)>");
        }
        value.push_str(&format!(r"|((?:\\ |[^{fs}])+))"));
        let pattern = format!(r"((?:\\ |[^{fs}{vs}])+)\s*[{vs}]\s*{value}");
        Pairs::Chars(Regex::new(&pattern).map_err(|e| settings.error(e.to_string()))?)
    };
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
            // Nothing to scan; `default_keys` may still apply, as in Logstash.
            _ => Vec::new(),
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
        // Finding nothing is not a match: the common options do not apply.
        if found.is_empty() {
            return Outcome::Failed;
        }
        match &self.target {
            Some(target) => {
                event.insert(target, Value::Object(found));
            }
            None => {
                for (key, value) in found.iter() {
                    // Keys are field references (`[a][b]=1` nests), as in Logstash.
                    let field = FieldRef::parse(key).unwrap_or_else(|_| FieldRef::top(key));
                    event.insert(&field, value.clone());
                }
            }
        }
        Outcome::Matched
    }
}

impl Kv {
    fn scan(&self, text: &Text, prefix: &str, found: &mut Object) {
        let pairs = match &self.pairs {
            Pairs::Chars(regex) => regex
                .captures_iter(text)
                .filter_map(|c| {
                    Some((
                        c.get(1)?.as_str(),
                        c.iter().skip(2).flatten().next()?.as_str(),
                    ))
                })
                .collect(),
            Pairs::Patterns(scanner) => scanner.pairs(text),
        };
        for (key, value) in pairs {
            let key = self.key.apply(text, key);
            let value = self.value.apply(text, value);
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
    fn split_patterns() {
        let e = run(
            r#"field_split_pattern => ", *|;;" value_split_pattern => ":=""#,
            r#"a:=1, b := "x, y";;c:=[z] ,  d:=4 e"#,
        );
        assert_eq!(get(&e, "a"), Some("1".into()));
        assert_eq!(get(&e, "b"), Some("x, y".into()));
        assert_eq!(get(&e, "c"), Some("z".into()));
        assert_eq!(get(&e, "d"), Some("4 e".into()));
        // One pattern given, the other split stays a character set.
        let e = run(r#"field_split_pattern => "\|\|""#, "a=1 2||b=3||=4||c");
        assert_eq!(get(&e, "a"), Some("1 2".into()));
        assert_eq!(get(&e, "b"), Some("3".into()));
        assert_eq!(get(&e, "c"), None);
        let error =
            crate::filters::tests::compile_with("kv", r#"value_split_pattern => "(""#, compile)
                .err()
                .unwrap();
        assert!(error.contains("invalid `value_split_pattern`"), "{error}");
        // A separator that can match nothing only splits where it matches something.
        let e = run(r#"field_split_pattern => "\s*""#, "a=1  b=2");
        assert_eq!(get(&e, "a"), Some("1".into()));
        assert_eq!(get(&e, "b"), Some("2".into()));
    }

    #[test]
    fn finding_nothing_does_not_match() {
        let mut e = Event::from_message(Text::from("a=1"));
        assert_eq!(kv(r#"source => "other""#).filter(&mut e), Outcome::Failed);
        assert_eq!(get(&e, "a"), None);
        let mut e = Event::from_message(Text::from("no pairs here"));
        assert_eq!(kv("").filter(&mut e), Outcome::Failed);
        // Defaults apply even without a source.
        let mut e = Event::from_message(Text::from("a=1"));
        let filter = kv(r#"source => "other" default_keys => { "d" => "x" }"#);
        assert_eq!(filter.filter(&mut e), Outcome::Matched);
        assert_eq!(get(&e, "d"), Some("x".into()));
    }

    #[test]
    fn keys_are_field_references() {
        let e = run("", "[a][b]=1 [c=2");
        assert_eq!(get(&e, "[a][b]"), Some("1".into()));
        assert_eq!(e.get(&FieldRef::top("[c")), Some(&"2".into()));
    }
}
