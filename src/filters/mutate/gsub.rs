//! mutate's `gsub`: Ruby's `String#gsub` with a regular expression, on Rust's `regex`.
//!
//! Ruby patterns and replacements are translated where the two differ: `^` and `$` match
//! at every line, as they always do in Ruby; `\h` is a hexadecimal digit; in the
//! replacement `\1`, `\k<name>` and `\0`/`\&` name groups and `$` is an ordinary character.
//! Ruby features Rust's engine lacks (look-around, back-references in the pattern) are
//! refused when the configuration is read.

use regex::{Regex, RegexBuilder};

use crate::event::{Event, Template, Text};

pub struct Gsub {
    needle: Needle,
    replacement: Replacement,
}

enum Needle {
    Fixed(Regex),
    /// A pattern with `%{field}` references, compiled for each event as Logstash does.
    Dynamic(Template),
}

enum Replacement {
    Fixed(String),
    Dynamic(Template),
}

impl Gsub {
    pub fn compile(needle: &str, replacement: &str) -> Result<Gsub, String> {
        let needle = if needle.contains("%{") {
            Needle::Dynamic(Template::compile(needle).map_err(|e| e.to_string())?)
        } else {
            Needle::Fixed(ruby_regex(needle)?)
        };
        let template = Template::compile(replacement).map_err(|e| e.to_string())?;
        let replacement = if template.is_constant() {
            Replacement::Fixed(rust_replacement(replacement))
        } else {
            Replacement::Dynamic(template)
        };
        Ok(Gsub {
            needle,
            replacement,
        })
    }

    /// `text` with every match replaced; `None` when nothing matched (or a per-event pattern
    /// does not compile), so the original is kept without copying.
    pub fn apply(&self, event: &Event, text: &Text) -> Option<String> {
        let dynamic;
        let regex = match &self.needle {
            Needle::Fixed(regex) => regex,
            Needle::Dynamic(template) => {
                dynamic = ruby_regex(&template.render_to_string(event)).ok()?;
                &dynamic
            }
        };
        if !regex.is_match(text) {
            return None;
        }
        let rendered;
        let replacement = match &self.replacement {
            Replacement::Fixed(r) => r.as_str(),
            Replacement::Dynamic(template) => {
                rendered = rust_replacement(&template.render_to_string(event));
                &rendered
            }
        };
        Some(regex.replace_all(text, replacement).into_owned())
    }
}

fn ruby_regex(pattern: &str) -> Result<Regex, String> {
    let mut translated = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            translated.push(c);
            continue;
        }
        match chars.next() {
            Some('h') => translated.push_str("[0-9a-fA-F]"),
            Some('H') => translated.push_str("[^0-9a-fA-F]"),
            Some(other) => {
                translated.push('\\');
                translated.push(other);
            }
            None => translated.push('\\'),
        }
    }
    RegexBuilder::new(&translated)
        .multi_line(true)
        .build()
        .map_err(|e| format!("invalid regular expression `{pattern}`: {e}"))
}

/// A Ruby replacement string in `regex`'s syntax.
fn rust_replacement(ruby: &str) -> String {
    let mut out = String::with_capacity(ruby.len());
    let mut chars = ruby.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.peek().copied() {
                Some(d @ '0'..='9') => {
                    chars.next();
                    out.push_str("${");
                    out.push(d);
                    out.push('}');
                }
                Some('&') => {
                    chars.next();
                    out.push_str("${0}");
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                Some('k') => {
                    chars.next();
                    let name: String = if chars.next_if_eq(&'<').is_some() {
                        chars.by_ref().take_while(|&c| c != '>').collect()
                    } else {
                        String::new()
                    };
                    if name.is_empty() {
                        out.push_str("\\k");
                    } else {
                        out.push_str("${");
                        out.push_str(&name);
                        out.push('}');
                    }
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Object;

    fn gsub(needle: &str, replacement: &str, text: &str) -> String {
        let event = Event::new(Object::new());
        Gsub::compile(needle, replacement)
            .unwrap()
            .apply(&event, &Text::from(text))
            .unwrap_or_else(|| text.to_owned())
    }

    #[test]
    fn replaces_every_match() {
        assert_eq!(gsub("/", "_", "a/b/c"), "a_b_c");
        assert_eq!(gsub("[\\\\?#-]", ".", "a\\b?c#d-e"), "a.b.c.d.e");
        assert_eq!(gsub("x", "y", "abc"), "abc");
    }

    #[test]
    fn ruby_replacements() {
        assert_eq!(gsub("(\\w+)@(\\w+)", "\\2 at \\1", "me@host"), "host at me");
        assert_eq!(
            gsub("(?<user>\\w+)@", "\\k<user> AT ", "me@host"),
            "me AT host"
        );
        assert_eq!(gsub("\\d+", "<\\0>", "a1b22"), "a<1>b<22>");
        assert_eq!(gsub("\\d+", "[\\&]", "a1"), "a[1]");
        assert_eq!(gsub("a", "$1 \\\\", "a"), "$1 \\");
    }

    #[test]
    fn ruby_patterns() {
        // `^` and `$` are line anchors in Ruby.
        assert_eq!(gsub("^\\s+", "", "  a\n  b"), "a\nb");
        assert_eq!(gsub("\\h+", "#", "id=beef;"), "i#=#;");
        assert!(Gsub::compile("(?<=a)b", "").is_err());
    }

    #[test]
    fn dynamic_patterns_and_replacements() {
        let mut fields = Object::new();
        fields.insert(Text::from("sep"), "-".into());
        fields.insert(Text::from("with"), "+".into());
        let event = Event::new(fields);
        let gsub = Gsub::compile("%{sep}", "%{with}").unwrap();
        assert_eq!(
            gsub.apply(&event, &Text::from("a-b")).as_deref(),
            Some("a+b")
        );
    }
}
