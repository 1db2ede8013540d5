//! `json`: decodes the JSON text of a field (`source`) into the event, or into `target`.
//!
//! Decoding shares the field's buffer: strings without escapes in the result are slices of
//! the source text, not copies. Without `target` the document must be an object; its keys
//! become fields (a key such as `[a][b]` is a field reference, as in Logstash), and an
//! `@timestamp` among them is read as ISO 8601; when it is not, the event gets the current
//! time, the text goes to `_@timestamp` and the event is tagged `_timestampparsefailure`.
//! Text that is not JSON tags the event `tag_on_failure` (`_jsonparsefailure`) and is
//! logged; `skip_on_invalid_json` only silences the log line: the current Logstash plugin
//! tags either way. A missing, `null` or `false` source is left alone.

use super::{Filter, Outcome};
use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::event::date_parse::{parse_iso8601, Zone};
use crate::event::json::decode_value;
use crate::event::{Event, FieldRef, Text, Value, TIMESTAMP};

pub struct Json {
    source: FieldRef,
    target: Option<FieldRef>,
    skip_on_invalid_json: bool,
    tag_on_failure: Vec<Text>,
}

pub fn build(settings: &Settings) -> Result<Box<dyn Filter>, ConfigError> {
    Ok(Box::new(compile(settings)?))
}

fn compile(settings: &Settings) -> Result<Json, ConfigError> {
    let field = |name: String| FieldRef::parse(&name).map_err(|e| settings.error(e.to_string()));
    let source = field(settings.required_string("source")?)?;
    let target = settings.string("target")?.map(field).transpose()?;
    let tag_on_failure = match settings.raw("tag_on_failure") {
        None => vec![Text::from_static("_jsonparsefailure")],
        Some(_) => settings
            .string_list("tag_on_failure")?
            .into_iter()
            .map(|t| Text::from(t.node))
            .collect(),
    };
    Ok(Json {
        source,
        target,
        skip_on_invalid_json: settings.boolean_or("skip_on_invalid_json", false)?,
        tag_on_failure,
    })
}

impl Filter for Json {
    fn filter(&self, event: &mut Event) -> Outcome {
        let source = match event.get(&self.source) {
            None | Some(Value::Null | Value::Boolean(false)) => return Outcome::Failed,
            Some(source) => source,
        };
        let parsed = match source {
            // Cloning a `Text` clones a reference to its buffer, not the bytes.
            Value::String(text) => decode_value(&text.clone().into_bytes()).ok(),
            _ => None,
        };
        let Some(parsed) = parsed else {
            if !self.skip_on_invalid_json {
                tracing::warn!(source = %self.source, "the json filter's source is not JSON");
            }
            self.tag(event);
            return Outcome::Failed;
        };
        if let Some(target) = &self.target {
            event.insert(target, parsed);
            return Outcome::Matched;
        }
        let Value::Object(fields) = parsed else {
            tracing::warn!(
                "json without `target` needs an object, not {}",
                parsed.kind()
            );
            self.tag(event);
            return Outcome::Failed;
        };
        for (key, value) in fields.iter() {
            if key.as_str() == TIMESTAMP {
                set_timestamp(event, value);
            } else {
                let field = FieldRef::parse(key).unwrap_or_else(|_| FieldRef::top(key));
                event.insert(&field, value.clone());
            }
        }
        Outcome::Matched
    }
}

impl Json {
    fn tag(&self, event: &mut Event) {
        for tag in &self.tag_on_failure {
            event.add_tag(tag.clone());
        }
    }
}

fn set_timestamp(event: &mut Event, value: &Value) {
    let parsed = match value {
        Value::Timestamp(ts) => Some(*ts),
        Value::String(text) => parse_iso8601(text, Zone::UTC),
        _ => None,
    };
    match parsed {
        Some(ts) => event.set_timestamp(ts),
        None => {
            event.set_timestamp(crate::event::now());
            event.insert(&FieldRef::top("_@timestamp"), value.to_display().into());
            event.add_tag(Text::from_static("_timestampparsefailure"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Object;

    fn json(config: &str) -> Json {
        crate::filters::tests::compile_with("json", config, compile).unwrap()
    }

    fn event(message: &str) -> Event {
        Event::from_message(Text::from(message))
    }

    fn get(event: &Event, field: &str) -> Option<Value> {
        event.get(&FieldRef::parse(field).unwrap()).cloned()
    }

    #[test]
    fn object_fields_become_top_level_fields() {
        let mut e = event(r#"{"a": {"b": [1, "x"]}, "message": "inner"}"#);
        assert_eq!(
            json(r#"source => "message""#).filter(&mut e),
            Outcome::Matched
        );
        assert_eq!(get(&e, "[a][b][1]"), Some("x".into()));
        assert_eq!(get(&e, "message"), Some("inner".into()));
    }

    #[test]
    fn strings_share_the_source_buffer() {
        let message = Text::from(r#"{"k": "value"}"#);
        let mut e = Event::from_message(message.clone());
        json(r#"source => "message""#).filter(&mut e);
        let Some(Value::String(value)) = get(&e, "k") else {
            panic!("no string");
        };
        let range = message.as_bytes().as_ptr_range();
        assert!(range.contains(&value.as_bytes().as_ptr()));
    }

    #[test]
    fn target_takes_any_value() {
        let filter = json(r#"source => "message" target => "[doc]""#);
        let mut e = event("[1, 2]");
        assert_eq!(filter.filter(&mut e), Outcome::Matched);
        assert_eq!(
            get(&e, "doc"),
            Some(Value::Array(vec![Value::Integer(1), Value::Integer(2)]))
        );
        let mut e = event("{}");
        assert_eq!(filter.filter(&mut e), Outcome::Matched);
        assert_eq!(get(&e, "doc"), Some(Value::Object(Object::new())));
    }

    #[test]
    fn invalid_json_is_tagged_unless_skipped() {
        let mut e = event("{not json");
        assert_eq!(
            json(r#"source => "message""#).filter(&mut e),
            Outcome::Failed
        );
        assert!(e.has_tag("_jsonparsefailure"));
        let mut e = event("{not json");
        let filter = json(r#"source => "message" skip_on_invalid_json => true"#);
        assert_eq!(filter.filter(&mut e), Outcome::Failed);
        assert!(e.has_tag("_jsonparsefailure"));
        // A scalar cannot be spread over the event.
        let mut e = event("42");
        let filter = json(r#"source => "message" tag_on_failure => ["bad"]"#);
        assert_eq!(filter.filter(&mut e), Outcome::Failed);
        assert!(e.has_tag("bad"));
    }

    #[test]
    fn keys_are_field_references() {
        let mut e = event(r#"{"[a][b]": 1, "[bad": 2}"#);
        assert_eq!(
            json(r#"source => "message""#).filter(&mut e),
            Outcome::Matched
        );
        assert_eq!(get(&e, "[a][b]"), Some(Value::Integer(1)));
        assert_eq!(e.get(&FieldRef::top("[bad")), Some(&Value::Integer(2)));
    }

    #[test]
    fn missing_or_non_string_source() {
        let filter = json(r#"source => "other""#);
        let mut e = event("{}");
        assert_eq!(filter.filter(&mut e), Outcome::Failed);
        assert!(!e.has_tag("_jsonparsefailure"));
        let mut fields = Object::new();
        fields.insert(Text::from("other"), Value::Null);
        let mut e = Event::new(fields);
        assert_eq!(filter.filter(&mut e), Outcome::Failed);
        assert!(!e.has_tag("_jsonparsefailure"));
        let mut fields = Object::new();
        fields.insert(Text::from("other"), Value::Integer(1));
        let mut e = Event::new(fields);
        assert_eq!(filter.filter(&mut e), Outcome::Failed);
        assert!(e.has_tag("_jsonparsefailure"));
    }

    #[test]
    fn timestamp_is_parsed() {
        let filter = json(r#"source => "message""#);
        let mut e = event(r#"{"@timestamp": "2026-03-05T01:02:03.456Z"}"#);
        assert_eq!(filter.filter(&mut e), Outcome::Matched);
        assert_eq!(
            e.timestamp().map(|t| t.to_rfc3339()),
            Some("2026-03-05T01:02:03.456+00:00".to_owned())
        );
        let mut e = event(r#"{"@timestamp": 12}"#);
        let old = chrono::DateTime::from_timestamp(0, 0).unwrap();
        e.set_timestamp(old);
        assert_eq!(filter.filter(&mut e), Outcome::Matched);
        assert!(e.timestamp().is_some_and(|t| t > old));
        assert_eq!(get(&e, "_@timestamp"), Some("12".into()));
        assert!(e.has_tag("_timestampparsefailure"));
    }

    #[test]
    fn source_is_required() {
        let error = crate::filters::tests::compile_with("json", "", compile)
            .err()
            .unwrap();
        assert!(error.contains("needs the setting `source`"), "{error}");
    }
}
