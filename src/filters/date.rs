//! `date`: reads a date from a field and stores it as a timestamp, by default in
//! `@timestamp`.
//!
//! `match => [field, format, …]` tries each format in turn: `ISO8601`, `UNIX`, `UNIX_MS`,
//! `TAI64N` or a Joda-Time pattern, compiled once here and parsed by
//! [`crate::event::date_parse`]. The first that reads the whole value wins; when none does,
//! the event is tagged `tag_on_failure` (`_dateparsefailure`). An event without the field
//! is left alone, as in Logstash.
//!
//! Differences from Logstash: `timezone` must be a fixed zone (an IANA name or an offset),
//! not a `%{field}` reference; `locale` must be English, the only language Sluice has month
//! and day names for; fractions of a second are kept to the nanosecond instead of being cut
//! to milliseconds.

use chrono::DateTime;

use super::{Filter, Outcome};
use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::event::date_parse::{self, JodaParser, Zone};
use crate::event::joda::JodaFormat;
use crate::event::{Event, FieldRef, Text, Timestamp, Value};

pub struct Date {
    source: FieldRef,
    formats: Vec<Format>,
    zone: Zone,
    target: FieldRef,
    tag_on_failure: Vec<Text>,
}

enum Format {
    Iso8601,
    Unix,
    UnixMs,
    Tai64n,
    Joda(JodaParser),
}

pub fn build(settings: &Settings) -> Result<Box<dyn Filter>, ConfigError> {
    Ok(Box::new(compile(settings)?))
}

fn compile(settings: &Settings) -> Result<Date, ConfigError> {
    let matches = settings.string_list("match")?;
    let Some((field, formats)) = matches.split_first().filter(|(_, f)| !f.is_empty()) else {
        return Err(settings.error(
            "filter plugin `date` needs `match => [field, format, …]` with at least one format",
        ));
    };
    let source =
        FieldRef::parse(&field.node).map_err(|e| ConfigError::at(field.span, e.to_string()))?;
    let formats = formats
        .iter()
        .map(|format| {
            Ok(match format.node.as_str() {
                "ISO8601" => Format::Iso8601,
                "UNIX" => Format::Unix,
                "UNIX_MS" => Format::UnixMs,
                "TAI64N" => Format::Tai64n,
                pattern => Format::Joda(
                    JodaFormat::compile(pattern)
                        .map_err(|e| e.to_string())
                        .and_then(|f| JodaParser::new(&f))
                        .map_err(|e| ConfigError::at(format.span, e))?,
                ),
            })
        })
        .collect::<Result<_, ConfigError>>()?;
    let zone = match settings.raw("timezone") {
        None => Zone::UTC,
        Some(setting) => {
            let name = settings.string("timezone")?.unwrap_or_default();
            Zone::parse(&name).ok_or_else(|| {
                settings.invalid(
                    setting,
                    format!("`{name}` is neither an IANA time zone (`Europe/Paris`) nor an offset (`+01:00`)"),
                )
            })?
        }
    };
    if let Some(setting) = settings.raw("locale") {
        let locale = settings.string("locale")?.unwrap_or_default();
        let language = locale.split(['-', '_']).next().unwrap_or_default();
        if !language.eq_ignore_ascii_case("en") {
            return Err(settings.invalid(
                setting,
                format!(
                    "`{locale}`: only English (`en`, `en-US`, …) month and day names are supported"
                ),
            ));
        }
    }
    let target = settings.string_or("target", "@timestamp")?;
    let target = FieldRef::parse(&target).map_err(|e| settings.error(e.to_string()))?;
    let tag_on_failure = match settings.raw("tag_on_failure") {
        None => vec![Text::from_static("_dateparsefailure")],
        Some(_) => settings
            .string_list("tag_on_failure")?
            .into_iter()
            .map(|t| Text::from(t.node))
            .collect(),
    };
    Ok(Date {
        source,
        formats,
        zone,
        target,
        tag_on_failure,
    })
}

impl Date {
    /// Text goes to every format; numbers only to `UNIX` and `UNIX_MS`, and nothing else
    /// (arrays, timestamps, objects) parses, as in Logstash.
    fn parse(&self, value: &Value, now: Timestamp) -> Option<Timestamp> {
        self.formats
            .iter()
            .find_map(|format| match (format, value) {
                (Format::Unix, Value::Integer(i)) => date_parse::unix_seconds(*i as f64),
                (Format::Unix, Value::Float(f)) => date_parse::unix_seconds(*f),
                (Format::UnixMs, Value::Integer(i)) => DateTime::from_timestamp_millis(*i),
                (Format::UnixMs, Value::Float(f)) if f.is_finite() => {
                    DateTime::from_timestamp_millis(*f as i64)
                }
                (_, Value::String(text)) => match format {
                    Format::Unix => date_parse::parse_unix(text),
                    Format::UnixMs => date_parse::parse_unix_ms(text),
                    Format::Tai64n => date_parse::parse_tai64n(text),
                    Format::Iso8601 => date_parse::parse_iso8601(text, self.zone),
                    Format::Joda(parser) => parser.parse(text, self.zone, now),
                },
                _ => None,
            })
    }

    fn filter_at(&self, event: &mut Event, now: Timestamp) -> Outcome {
        let Some(value) = event.get(&self.source) else {
            return Outcome::Failed;
        };
        match self.parse(value, now) {
            Some(ts) => {
                event.insert(&self.target, Value::Timestamp(ts));
                Outcome::Matched
            }
            None => {
                for tag in &self.tag_on_failure {
                    event.add_tag(tag.clone());
                }
                Outcome::Failed
            }
        }
    }
}

impl Filter for Date {
    fn filter(&self, event: &mut Event) -> Outcome {
        self.filter_at(event, crate::event::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Object;

    fn date(config: &str) -> Result<Date, String> {
        super::super::tests::compile_with("date", config, compile)
    }

    fn utc(text: &str) -> Timestamp {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&chrono::Utc)
    }

    fn event_with(field: &str, value: Value) -> Event {
        let mut fields = Object::new();
        fields.insert(Text::from(field), value);
        Event::new(fields)
    }

    const NOW: &str = "2026-11-24T16:07:04Z";

    #[test]
    fn tries_formats_in_order() {
        let filter = date(
            r#"match => ["logdate", "MMM dd yyyy HH:mm:ss", "MMM  d yyyy HH:mm:ss", "ISO8601"]"#,
        )
        .unwrap();
        for (input, expected) in [
            ("Mar 05 2026 01:02:03", "2026-03-05T01:02:03Z"),
            ("Mar  5 2026 01:02:03", "2026-03-05T01:02:03Z"),
            ("2026-03-05T01:02:03.5+01:00", "2026-03-05T00:02:03.5Z"),
        ] {
            let mut event = event_with("logdate", Value::from(input));
            assert_eq!(filter.filter_at(&mut event, utc(NOW)), Outcome::Matched);
            assert_eq!(event.timestamp(), Some(utc(expected)), "{input}");
            assert!(!event.has_tag("_dateparsefailure"));
        }
    }

    #[test]
    fn failure_tags_and_leaves_the_timestamp() {
        let filter = date(r#"match => ["logdate", "ISO8601"]"#).unwrap();
        let mut event = event_with("logdate", Value::from("yesterday"));
        let before = event.timestamp();
        assert_eq!(filter.filter_at(&mut event, utc(NOW)), Outcome::Failed);
        assert!(event.has_tag("_dateparsefailure"));
        assert_eq!(event.timestamp(), before);

        let filter =
            date(r#"match => ["logdate", "ISO8601"] tag_on_failure => ["bad", "date"]"#).unwrap();
        let mut event = event_with("logdate", Value::Integer(5));
        assert_eq!(filter.filter_at(&mut event, utc(NOW)), Outcome::Failed);
        assert!(event.has_tag("bad") && event.has_tag("date"));
        assert!(!event.has_tag("_dateparsefailure"));
    }

    #[test]
    fn missing_field_is_not_a_failure() {
        let filter = date(r#"match => ["logdate", "ISO8601"]"#).unwrap();
        let mut event = event_with("other", Value::from("2026-03-05"));
        assert_eq!(filter.filter_at(&mut event, utc(NOW)), Outcome::Failed);
        assert!(!event.has_tag("_dateparsefailure"));
    }

    #[test]
    fn epochs_from_numbers_and_text() {
        let filter = date(r#"match => ["t", "UNIX"]"#).unwrap();
        for value in [
            Value::Integer(1772672523),
            Value::Float(1772672523.0),
            Value::from("1772672523"),
        ] {
            let mut event = event_with("t", value);
            assert_eq!(filter.filter_at(&mut event, utc(NOW)), Outcome::Matched);
            assert_eq!(event.timestamp(), Some(utc("2026-03-05T01:02:03Z")));
        }
        let filter = date(r#"match => ["t", "UNIX_MS"] target => "[parsed][at]""#).unwrap();
        let mut event = event_with("t", Value::Integer(1772672523456));
        assert_eq!(filter.filter_at(&mut event, utc(NOW)), Outcome::Matched);
        assert_eq!(
            event.get(&FieldRef::parse("[parsed][at]").unwrap()),
            Some(&Value::Timestamp(utc("2026-03-05T01:02:03.456Z")))
        );
    }

    #[test]
    fn timezone_and_year_guessing() {
        let filter = date(
            r#"match => ["logdate", "MMM dd HH:mm:ss"] timezone => "America/New_York" locale => "en-US""#,
        )
        .unwrap();
        let mut event = event_with("logdate", Value::from("Dec 31 23:00:00"));
        assert_eq!(
            filter.filter_at(&mut event, utc("2027-01-01T05:00:00Z")),
            Outcome::Matched
        );
        assert_eq!(event.timestamp(), Some(utc("2027-01-01T04:00:00Z")));
    }

    #[test]
    fn only_text_and_epoch_numbers_parse() {
        let filter = date(r#"match => ["t", "ISO8601", "TAI64N"]"#).unwrap();
        for value in [
            Value::Array(vec![Value::from("2026-03-05T01:02:03Z")]),
            Value::Timestamp(utc("2026-03-05T01:02:03Z")),
            Value::Integer(1772672523),
        ] {
            let mut event = event_with("t", value.clone());
            assert_eq!(
                filter.filter_at(&mut event, utc(NOW)),
                Outcome::Failed,
                "{value:?}"
            );
            assert!(event.has_tag("_dateparsefailure"));
        }
    }

    #[test]
    fn bad_settings_are_refused() {
        let error = |config| date(config).err().unwrap();
        assert!(error(r#"match => ["t"]"#).contains("at least one format"));
        assert!(error(r#"match => ["t", "yyyy-qq"]"#).contains("not a Joda-Time pattern letter"));
        assert!(error(r#"match => ["t", "CC yyyy"]"#).contains("cannot be parsed"));
        assert!(
            error(r#"match => ["t", "ISO8601"] timezone => "Mars/Base""#)
                .contains("neither an IANA time zone")
        );
        assert!(error(r#"match => ["t", "ISO8601"] locale => "fr-FR""#).contains("English"));
        assert!(error(r#"match => ["t", "ISO8601"] tagrget => "x""#).contains("unknown setting"));
    }
}
