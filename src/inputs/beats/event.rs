//! From a data frame's payload to an [`Event`], the way logstash-input-beats shapes it.
//!
//! - The JSON object (v2) or the key/value pairs (v1) become the event's fields; strings are
//!   slices of the payload.
//! - The payload's `@metadata` object (Filebeat's `beat`, `type`, `version`, …) goes to the
//!   event's metadata, where `%{[@metadata][beat]}` index names find it.
//! - `@timestamp` is parsed as RFC 3339. An unparsable or non-string one is replaced by the
//!   ingest time, the original kept in `_@timestamp` and the event tagged
//!   `_timestampparsefailure`, as Logstash's own event constructor does. (logstash-input-beats
//!   only logs a warning on its codec path; a tag lets a pipeline route such events.)
//! - Events with a `message` (or, from logstash-forwarder, a `line`, which becomes `message`)
//!   are tagged `beats_input_codec_plain_applied`; the others `beats_input_raw_event`.
//! - The peer's IP goes to `[@metadata][ip_address]`, or to
//!   `[@metadata][input][beats][host][ip]` under `ecs_compatibility => v1`.
//! - `add_hostname` copies `[beat][hostname]` to `host` (or, under ECS,
//!   `[@metadata][input][beats][host][name]`) unless that is already set.

use std::net::SocketAddr;

use super::frame::Payload;
use crate::event::json::{decode_object, JsonError};
use crate::event::{Event, FieldRef, Object, Text, Value, TIMESTAMP};

const MESSAGE: &str = "message";
const LSF_LINE: &str = "line";
const METADATA: &str = "@metadata";
pub const CODEC_APPLIED_TAG: &str = "beats_input_codec_plain_applied";
/// The tag when the input's codec is `multiline` (Logstash names the codec in the tag).
pub const MULTILINE_CODEC_APPLIED_TAG: &str = "beats_input_codec_multiline_applied";
pub const RAW_EVENT_TAG: &str = "beats_input_raw_event";
pub const TIMESTAMP_FAILURE_TAG: &str = "_timestampparsefailure";
pub const TIMESTAMP_FAILURE_FIELD: &str = "_@timestamp";

/// Logstash's `ecs_compatibility` for this input (`v8` is an alias of `v1`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EcsCompatibility {
    #[default]
    Disabled,
    V1,
}

/// The settings that shape events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventOptions {
    pub ecs_compatibility: EcsCompatibility,
    /// `add_hostname` (deprecated in Logstash, default false).
    pub add_hostname: bool,
    /// `include_codec_tag` (default true): whether to add `codec_applied_tag`.
    pub include_codec_tag: bool,
    /// [`CODEC_APPLIED_TAG`], or [`MULTILINE_CODEC_APPLIED_TAG`] under the multiline codec.
    pub codec_applied_tag: &'static str,
}

impl Default for EventOptions {
    fn default() -> EventOptions {
        EventOptions {
            ecs_compatibility: EcsCompatibility::Disabled,
            add_hostname: false,
            include_codec_tag: true,
            codec_applied_tag: CODEC_APPLIED_TAG,
        }
    }
}

/// Builds the events of one connection; what depends only on the peer and the settings is
/// prepared once here rather than per event.
pub struct EventBuilder {
    options: EventOptions,
    ip: Text,
    ip_field: FieldRef,
    hostname_field: FieldRef,
    beat_hostname: FieldRef,
}

impl EventBuilder {
    pub fn new(peer: SocketAddr, options: EventOptions) -> EventBuilder {
        let (ip_field, hostname_field) = match options.ecs_compatibility {
            EcsCompatibility::Disabled => ("[@metadata][ip_address]", "[host]"),
            EcsCompatibility::V1 => (
                "[@metadata][input][beats][host][ip]",
                "[@metadata][input][beats][host][name]",
            ),
        };
        EventBuilder {
            options,
            ip: Text::from(peer.ip().to_string()),
            ip_field: field(ip_field),
            hostname_field: field(hostname_field),
            beat_hostname: field("[beat][hostname]"),
        }
    }

    /// The event for one data frame; fails only when a JSON payload is not a JSON object.
    pub fn build(&self, payload: Payload) -> Result<Event, JsonError> {
        let mut fields = match payload {
            Payload::Json(bytes) => decode_object(&bytes)?,
            Payload::Pairs(pairs) => {
                let mut o = Object::with_capacity(pairs.len());
                for (k, v) in pairs {
                    o.push_unchecked(k, Value::String(v));
                }
                o.dedup_keys();
                o
            }
        };
        let metadata = fields.remove(METADATA);
        let bad_timestamp = take_unparsable_timestamp(&mut fields);
        let has_message = normalize_message(&mut fields);

        let mut event = Event::new(fields);
        if let Some(Value::Object(metadata)) = metadata {
            // A new event's metadata is empty: the payload's object takes its place whole.
            *event.metadata_mut() = metadata;
        }
        if let Some(original) = bad_timestamp {
            event
                .fields_mut()
                .insert(Text::from_static(TIMESTAMP_FAILURE_FIELD), original);
            event.add_tag(Text::from_static(TIMESTAMP_FAILURE_TAG));
        }
        if !has_message {
            event.add_tag(Text::from_static(RAW_EVENT_TAG));
        } else if self.options.include_codec_tag {
            event.add_tag(Text::from_static(self.options.codec_applied_tag));
        }
        event.insert(&self.ip_field, Value::String(self.ip.clone()));
        if self.options.add_hostname && !event.contains(&self.hostname_field) {
            if let Some(host) = event.get(&self.beat_hostname).cloned() {
                event.insert(&self.hostname_field, host);
            }
        }
        Ok(event)
    }
}

fn field(reference: &str) -> FieldRef {
    FieldRef::parse(reference).expect("the input's own field references are valid")
}

/// Parses `@timestamp` in place; removes and returns it when it cannot be parsed.
fn take_unparsable_timestamp(fields: &mut Object) -> Option<Value> {
    let slot = fields.get_mut(TIMESTAMP)?;
    let parsed = match slot {
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s).ok(),
        Value::Timestamp(_) => return None,
        _ => None,
    };
    match parsed {
        Some(ts) => {
            *slot = Value::Timestamp(ts.to_utc());
            None
        }
        None => fields.remove(TIMESTAMP),
    }
}

/// Makes sure the line a Beat shipped is a string in `message` (logstash-forwarder's `line`
/// is renamed, a non-string is rendered as text, as the plain codec does); false when the
/// event has no line at all.
fn normalize_message(fields: &mut Object) -> bool {
    let present = |v: Option<&Value>| v.is_some_and(|v| !matches!(v, Value::Null));
    if !present(fields.get(MESSAGE)) {
        if !present(fields.get(LSF_LINE)) {
            return false;
        }
        if let Some(line) = fields.remove(LSF_LINE) {
            fields.insert(Text::from_static(MESSAGE), line);
        }
    }
    if let Some(message) = fields.get_mut(MESSAGE) {
        if !matches!(message, Value::String(_)) {
            *message = Value::String(Text::from(message.to_display()));
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::beats::frame::{Decoder, Limits};
    use bytes::{Bytes, BytesMut};

    fn peer() -> SocketAddr {
        "192.0.2.7:51234".parse().unwrap()
    }

    fn json(s: &'static str) -> Payload {
        Payload::Json(Bytes::from_static(s.as_bytes()))
    }

    fn get<'e>(event: &'e Event, reference: &str) -> Option<&'e Value> {
        event.get(&field(reference))
    }

    fn tags(event: &Event) -> Vec<&str> {
        match get(event, "tags") {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn a_filebeat_event_gets_its_timestamp_metadata_and_tag() {
        let b = EventBuilder::new(peer(), EventOptions::default());
        let e = b
            .build(json(
                r#"{"@timestamp":"2026-11-24T16:17:54.123Z","@metadata":{"beat":"filebeat","type":"_doc","version":"7.17.29"},"message":"hello","tags":["app"],"log":{"offset":7}}"#,
            ))
            .unwrap();
        assert_eq!(
            e.timestamp().unwrap().to_rfc3339(),
            "2026-11-24T16:17:54.123+00:00"
        );
        assert_eq!(get(&e, "[@metadata][beat]"), Some(&"filebeat".into()));
        assert_eq!(get(&e, "[@metadata][version]"), Some(&"7.17.29".into()));
        assert_eq!(
            get(&e, "[@metadata][ip_address]"),
            Some(&"192.0.2.7".into())
        );
        assert!(!e.fields().contains_key("@metadata"));
        assert_eq!(tags(&e), ["app", CODEC_APPLIED_TAG]);
        assert_eq!(get(&e, "[log][offset]"), Some(&Value::Integer(7)));
    }

    #[test]
    fn an_event_without_message_is_raw() {
        let b = EventBuilder::new(peer(), EventOptions::default());
        let e = b.build(json(r#"{"metric":1}"#)).unwrap();
        assert_eq!(tags(&e), [RAW_EVENT_TAG]);
        let e = b.build(json(r#"{"message":null}"#)).unwrap();
        assert_eq!(tags(&e), [RAW_EVENT_TAG]);
    }

    #[test]
    fn the_codec_tag_can_be_switched_off() {
        let options = EventOptions {
            include_codec_tag: false,
            ..EventOptions::default()
        };
        let e = EventBuilder::new(peer(), options)
            .build(json(r#"{"message":"x"}"#))
            .unwrap();
        assert!(tags(&e).is_empty());
    }

    #[test]
    fn an_unparsable_timestamp_becomes_ingest_time_with_a_tag() {
        let b = EventBuilder::new(peer(), EventOptions::default());
        let before = crate::event::now();
        for (payload, original) in [
            (
                r#"{"@timestamp":"yesterday","message":"x"}"#,
                Value::from("yesterday"),
            ),
            (r#"{"@timestamp":12,"message":"x"}"#, Value::Integer(12)),
        ] {
            let e = b.build(json(payload)).unwrap();
            assert!(e.timestamp().unwrap() >= before);
            assert_eq!(get(&e, TIMESTAMP_FAILURE_FIELD), Some(&original));
            assert_eq!(tags(&e), [TIMESTAMP_FAILURE_TAG, CODEC_APPLIED_TAG]);
        }
    }

    #[test]
    fn ecs_mode_moves_the_peer_address_and_hostname() {
        let options = EventOptions {
            ecs_compatibility: EcsCompatibility::V1,
            add_hostname: true,
            ..EventOptions::default()
        };
        let e = EventBuilder::new(peer(), options)
            .build(json(r#"{"message":"x","beat":{"hostname":"web-1"}}"#))
            .unwrap();
        assert_eq!(
            get(&e, "[@metadata][input][beats][host][ip]"),
            Some(&"192.0.2.7".into())
        );
        assert_eq!(
            get(&e, "[@metadata][input][beats][host][name]"),
            Some(&"web-1".into())
        );
        assert_eq!(get(&e, "[@metadata][ip_address]"), None);
    }

    #[test]
    fn add_hostname_fills_host_only_when_asked_and_absent() {
        let payload = r#"{"message":"x","beat":{"hostname":"web-1"}}"#;
        let plain = EventBuilder::new(peer(), EventOptions::default());
        assert_eq!(get(&plain.build(json(payload)).unwrap(), "host"), None);
        let options = EventOptions {
            add_hostname: true,
            ..EventOptions::default()
        };
        let adding = EventBuilder::new(peer(), options);
        assert_eq!(
            get(&adding.build(json(payload)).unwrap(), "host"),
            Some(&"web-1".into())
        );
        let e = adding
            .build(json(
                r#"{"message":"x","host":"h","beat":{"hostname":"web-1"}}"#,
            ))
            .unwrap();
        assert_eq!(get(&e, "host"), Some(&"h".into()));
    }

    #[test]
    fn v1_pairs_become_fields_and_line_becomes_message() {
        let b = EventBuilder::new("[2001:db8::1]:1".parse().unwrap(), EventOptions::default());
        let e = b
            .build(Payload::Pairs(vec![
                ("line".into(), "hello".into()),
                ("file".into(), "/var/log/x".into()),
            ]))
            .unwrap();
        assert_eq!(get(&e, "message"), Some(&"hello".into()));
        assert_eq!(get(&e, "line"), None);
        assert_eq!(get(&e, "file"), Some(&"/var/log/x".into()));
        assert_eq!(
            get(&e, "[@metadata][ip_address]"),
            Some(&"2001:db8::1".into())
        );
        assert_eq!(tags(&e), [CODEC_APPLIED_TAG]);
    }

    #[test]
    fn a_non_object_payload_is_an_error() {
        let b = EventBuilder::new(peer(), EventOptions::default());
        assert!(b.build(json("[]")).is_err());
        assert!(b.build(json("{\"message\":")).is_err());
    }

    #[test]
    fn message_strings_are_slices_of_the_payload() {
        let payload = Bytes::from_static(br#"{"message":"zero copy"}"#);
        let range = payload.as_ptr() as usize..payload.as_ptr() as usize + payload.len();
        let e = EventBuilder::new(peer(), EventOptions::default())
            .build(Payload::Json(payload.clone()))
            .unwrap();
        let message = get(&e, "message").unwrap().as_text().unwrap();
        assert!(range.contains(&(message.as_bytes().as_ptr() as usize)));
    }

    #[test]
    fn every_event_of_the_filebeat_capture_builds() {
        let capture = include_bytes!("../../../fixtures/beats/filebeat-7.17.29-zlib3-5000.bin");
        let mut decoder = Decoder::new(Limits::default());
        let mut buf = BytesMut::from(&capture[..]);
        let b = EventBuilder::new(peer(), EventOptions::default());
        let mut count = 0;
        while let Some(window) = decoder.decode(&mut buf).unwrap() {
            for frame in window.frames {
                let e = b.build(frame.payload).unwrap();
                assert_eq!(get(&e, "[@metadata][beat]"), Some(&"filebeat".into()));
                assert_eq!(get(&e, "service"), Some(&"mangakai-backend".into()));
                assert_eq!(tags(&e), [CODEC_APPLIED_TAG]);
                assert!(!e.has_tag(TIMESTAMP_FAILURE_TAG));
                count += 1;
            }
        }
        assert_eq!(count, 5000);
    }
}
