//! `Template`: Logstash's sprintf format (`%{[host][name]}`, `logs-%{+YYYY.MM.dd}`), as used
//! for index names, paths, e-mail subjects and `mutate`'s values.
//!
//! A template is split once, at compile time, into literal text and references: field
//! references become [`FieldRef`]s and date patterns [`JodaFormat`]s, so rendering only walks
//! the parts and appends to a `String`. A template without references renders with one
//! `push_str`.
//!
//! The syntax is that of Logstash's `StringInterpolation`:
//!
//! * `%{field}` or `%{[a][b]}`: the field's value as Logstash's `to_s` prints it (see
//!   [`Value::write_display`]). A missing field, or one holding `null`, leaves the reference
//!   as written.
//! * `%{+FORMAT}`: `@timestamp` in UTC through a Joda-Time pattern; `%{+%s}`: `@timestamp`
//!   in whole seconds since the epoch.
//! * `%{{FORMAT}}`: `@timestamp` in UTC through a java.time pattern (Logstash 8), see
//!   [`JodaFormat::compile_java`]; `%{{TIME_NOW}}` is the current time.
//! * A `%{` with no `}` after it is literal text, and so is everything after it.
//!
//! Where Sluice differs: when `@timestamp` is missing or not a timestamp, date references
//! are left as written, where Logstash would print nothing. Logstash takes `%{}`, `%{+}` and
//! `%{+%}` for `%{+%s}` (it compares prefixes); here they are errors, as are malformed field
//! references and date patterns, which Logstash only reports when an event reaches them.

use std::ops::Range;

use super::joda::{JodaError, JodaFormat};
use super::{write_timestamp, Event, FieldRef, FieldRefError, Timestamp, Value};

/// A compiled sprintf template.
#[derive(Debug, Clone)]
pub struct Template {
    source: Box<str>,
    parts: Vec<Part>,
}

/// A piece of a template. Literals and the text of references are ranges into the source.
#[derive(Debug, Clone)]
enum Part {
    Literal(Range<usize>),
    Field {
        field: FieldRef,
        raw: Range<usize>,
    },
    Date {
        format: JodaFormat,
        raw: Range<usize>,
    },
    EpochSeconds {
        raw: Range<usize>,
    },
    Now,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("in template `{template}`: {source}")]
    Field {
        template: String,
        source: FieldRefError,
    },
    #[error("in template `{template}`: {source}")]
    Date { template: String, source: JodaError },
}

impl Template {
    pub fn compile(source: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut pos = 0;
        while let Some(open) = source[pos..].find("%{").map(|i| pos + i) {
            // The first `}` closes the reference, as in Logstash: no nesting, no escapes.
            let Some(mut close) = source[open + 2..].find('}').map(|i| open + 2 + i) else {
                break;
            };
            if open > pos {
                parts.push(Part::Literal(pos..open));
            }
            let inner = &source[open + 2..close];
            let part = if inner == "+%s" {
                Part::EpochSeconds {
                    raw: open..close + 1,
                }
            } else if let (Some(pattern), Some('}')) =
                (inner.strip_prefix('{'), source[close + 1..].chars().next())
            {
                close += 1;
                if pattern == "TIME_NOW" {
                    Part::Now
                } else {
                    Part::Date {
                        format: JodaFormat::compile_java(pattern).map_err(|e| {
                            TemplateError::Date {
                                template: source.to_owned(),
                                source: e,
                            }
                        })?,
                        raw: open..close + 1,
                    }
                }
            } else if let Some(pattern) = inner.strip_prefix('+') {
                Part::Date {
                    format: JodaFormat::compile(pattern).map_err(|e| TemplateError::Date {
                        template: source.to_owned(),
                        source: e,
                    })?,
                    raw: open..close + 1,
                }
            } else {
                Part::Field {
                    field: FieldRef::parse(inner).map_err(|e| TemplateError::Field {
                        template: source.to_owned(),
                        source: e,
                    })?,
                    raw: open..close + 1,
                }
            };
            parts.push(part);
            pos = close + 1;
        }
        if pos < source.len() {
            parts.push(Part::Literal(pos..source.len()));
        }
        Ok(Template {
            source: source.into(),
            parts,
        })
    }

    /// The text the template was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the template renders the same for every event (it has no references).
    pub fn is_constant(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Literal(_)))
    }

    /// Whether rendering reads the event's fields: a reference outside `[@metadata]`. Date
    /// references read only `@timestamp`, which every event answers without its fields.
    pub fn reads_fields(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Field { field, .. } if !field.is_metadata()))
    }

    /// The literal text before the first reference: `logs-` for `logs-%{+YYYY.MM.dd}`, the
    /// whole source for a constant template.
    pub fn literal_prefix(&self) -> &str {
        match self.parts.first() {
            Some(Part::Literal(range)) => &self.source[range.clone()],
            Some(_) => "",
            None => &self.source,
        }
    }

    /// Appends the template rendered against `event`.
    pub fn render(&self, event: &Event, out: &mut String) {
        self.render_dated(event, event.timestamp(), out);
    }

    /// Appends the template rendered against `event`, with its date parts (`%{+…}`,
    /// `%{{…}}`, `%{+%s}`) taken from `ts` instead of the event's `@timestamp`: the
    /// Elasticsearch output names an index by the ingest time when it does not trust the
    /// event's own.
    pub fn render_at(&self, event: &Event, ts: Timestamp, out: &mut String) {
        self.render_dated(event, Some(ts), out);
    }

    fn render_dated(&self, event: &Event, ts: Option<Timestamp>, out: &mut String) {
        if self.is_constant() {
            // The literals of a template without references are its whole source.
            out.push_str(&self.source);
            return;
        }
        for part in &self.parts {
            match part {
                Part::Literal(range) => out.push_str(&self.source[range.clone()]),
                Part::Field { field, raw } => match event.read(field).as_deref() {
                    None | Some(Value::Null) => out.push_str(&self.source[raw.clone()]),
                    Some(value) => value.write_display(out),
                },
                Part::Date { format, raw } => match ts {
                    Some(ts) => format.format(&ts, out),
                    None => out.push_str(&self.source[raw.clone()]),
                },
                Part::EpochSeconds { raw } => match ts {
                    Some(ts) => out.push_str(itoa::Buffer::new().format(ts.timestamp())),
                    None => out.push_str(&self.source[raw.clone()]),
                },
                Part::Now => write_timestamp(&super::now(), out),
            }
        }
    }

    /// The template rendered against `event`, as a new string.
    pub fn render_to_string(&self, event: &Event) -> String {
        let mut out = String::with_capacity(self.source.len() + 16);
        self.render(event, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Object, Text, Timestamp, TIMESTAMP};
    use chrono::TimeZone;

    fn ts() -> Timestamp {
        chrono::Utc
            .with_ymd_and_hms(2026, 11, 24, 16, 7, 4)
            .unwrap()
            + chrono::TimeDelta::microseconds(123_456)
    }

    fn event() -> Event {
        let mut event = Event::from_message("hello world".into());
        event.set_timestamp(ts());
        let set = |e: &mut Event, f: &str, v: Value| {
            e.insert(&FieldRef::parse(f).unwrap(), v);
        };
        set(&mut event, "[host][name]", "web-1".into());
        set(&mut event, "count", 42.into());
        set(&mut event, "ratio", 2.0.into());
        set(&mut event, "flag", true.into());
        set(&mut event, "nothing", Value::Null);
        set(
            &mut event,
            "tags",
            Value::Array(vec!["a".into(), "b".into(), 3.into()]),
        );
        set(&mut event, "[@metadata][index]", "logs".into());
        event
    }

    fn render(template: &str) -> String {
        Template::compile(template)
            .unwrap()
            .render_to_string(&event())
    }

    #[test]
    fn fields_render_like_logstash() {
        assert_eq!(render("%{message}"), "hello world");
        assert_eq!(render("host=%{[host][name]} n=%{count}"), "host=web-1 n=42");
        assert_eq!(render("%{ratio} %{flag}"), "2.0 true");
        assert_eq!(render("%{tags}"), "a,b,3");
        assert_eq!(render("%{host}"), r#"{"name":"web-1"}"#);
        assert_eq!(render("%{[@metadata][index]}-x"), "logs-x");
        assert_eq!(render("%{[tags][0]}%{[tags][-1]}"), "a3");
        assert_eq!(render("%{@timestamp}"), "2026-11-24T16:07:04.123456Z");
    }

    #[test]
    fn missing_and_null_fields_stay_as_written() {
        assert_eq!(render("%{missing} %{[a][b]}!"), "%{missing} %{[a][b]}!");
        assert_eq!(render("x%{nothing}y"), "x%{nothing}y");
    }

    #[test]
    fn dates_render_from_the_timestamp_in_utc() {
        assert_eq!(render("logs-%{+YYYY.MM.dd}"), "logs-2026.11.24");
        assert_eq!(render("%{+HH:mm:ss.SSSSSS}"), "16:07:04.123000");
        assert_eq!(render("%{+%s}"), ts().timestamp().to_string());
        assert_eq!(
            render("%{{yyyy-MM-dd'T'HH:mm:ss.SSSSSS}}"),
            "2026-11-24T16:07:04.123456"
        );
        assert_eq!(render("w%{{YYYY-'W'ww}}w"), "w2026-W48w");
        let now = render("%{{TIME_NOW}}");
        assert!(now.ends_with('Z') && now.len() >= 24, "{now}");
    }

    #[test]
    fn render_at_takes_dates_from_the_given_time() {
        let template = Template::compile("%{message} %{+YYYY.MM.dd} %{+%s}").unwrap();
        let other = chrono::Utc.with_ymd_and_hms(2001, 2, 3, 4, 5, 6).unwrap();
        let mut out = String::new();
        template.render_at(&event(), other, &mut out);
        assert_eq!(out, format!("hello world 2001.02.03 {}", other.timestamp()));
        let mut without = event();
        without.fields_mut().remove(TIMESTAMP);
        out.clear();
        template.render_at(&without, other, &mut out);
        assert!(out.ends_with("2001.02.03 981173106"), "{out}");
    }

    #[test]
    fn literal_prefixes() {
        let prefix = |t: &str| Template::compile(t).unwrap().literal_prefix().to_owned();
        assert_eq!(prefix("mangakai-logs-%{+YYYY.MM.dd}"), "mangakai-logs-");
        assert_eq!(prefix("%{[@metadata][beat]}-x"), "");
        assert_eq!(prefix("fixed"), "fixed");
        assert_eq!(prefix(""), "");
    }

    #[test]
    fn dates_without_a_timestamp_stay_as_written() {
        let mut event = event();
        event.fields_mut().remove(TIMESTAMP);
        let template = Template::compile("i-%{+YYYY} %{+%s} %{{yyyy}}").unwrap();
        assert_eq!(
            template.render_to_string(&event),
            "i-%{+YYYY} %{+%s} %{{yyyy}}"
        );
        event
            .fields_mut()
            .insert(Text::from(TIMESTAMP), "not a timestamp".into());
        assert_eq!(
            template.render_to_string(&event),
            "i-%{+YYYY} %{+%s} %{{yyyy}}"
        );
    }

    #[test]
    fn unclosed_and_stray_braces_are_literal() {
        assert_eq!(render("a %{message"), "a %{message");
        assert_eq!(render("%{message} %{count"), "hello world %{count");
        assert_eq!(render("} { % %% {message}"), "} { % %% {message}");
        assert_eq!(render("%%{count}"), "%42");
        // `{x` is not a java pattern without its second `}`: it is a (missing) field.
        assert_eq!(render("%{{x}"), "%{{x}");
    }

    #[test]
    fn constant_templates() {
        let template = Template::compile("plain text, 100% {literal}").unwrap();
        assert!(template.is_constant());
        assert_eq!(template.source(), "plain text, 100% {literal}");
        let mut out = String::from(">");
        template.render(&Event::new(Object::new()), &mut out);
        assert_eq!(out, ">plain text, 100% {literal}");
        assert!(!Template::compile("%{a}").unwrap().is_constant());
        assert!(!Template::compile("%{{TIME_NOW}}").unwrap().is_constant());
        assert!(Template::compile("").unwrap().is_constant());
    }

    #[test]
    fn malformed_references_are_compile_errors() {
        let error = |t: &str| Template::compile(t).unwrap_err().to_string();
        assert_eq!(
            error("%{[a]b}"),
            "in template `%{[a]b}`: invalid field reference `[a]b`: text outside brackets after a `]`"
        );
        assert_eq!(
            error("x-%{+yyyy-qq}"),
            "in template `x-%{+yyyy-qq}`: invalid date pattern `yyyy-qq`: `q` is not a Joda-Time pattern letter (at character 5)"
        );
        assert!(error("%{{yyyy-ee}}").contains("depends on the JVM's locale"));
        assert!(error("%{}").contains("it is empty"));
        assert!(error("%{+}").contains("the pattern is empty"));
    }
}
