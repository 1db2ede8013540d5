//! From a data frame's payload to an [`Event`], the way logstash-input-beats shapes it.
//!
//! A JSON payload in the usual shape (a string `message`, an RFC 3339 `@timestamp`) becomes a
//! lazy event ([`RawJson`]): the payload is checked in one pass and kept as bytes with what
//! this input adds beside it, and its tree is built only if something reads a field. An
//! untouched event is written to Elasticsearch from its bytes. Everything else is built as a
//! tree right away ([`EventBuilder::build_tree`]); both give the same event.
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
//!   `[@metadata][input][beats][host][ip]` under `ecs_compatibility => v1` (`enrich`'s
//!   `source_metadata`, on by default).
//! - With `enrich => ssl_peer_metadata`, `[@metadata][tls_peer][status]` is `verified` or
//!   `unverified`; a verified peer adds `[@metadata][tls_peer][protocol|subject|cipher_suite]`
//!   (under ECS `[@metadata][input][beats][tls][version_protocol|client][subject]|cipher]`).
//! - `add_hostname` copies `[beat][hostname]` to `host` (or, under ECS,
//!   `[@metadata][input][beats][host][name]`) unless that is already set.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;

use super::frame::Payload;
use super::tls::TlsPeer;
use crate::event::json::{decode_object, JsonError};
use crate::event::json_check::{check_object, TopKey};
use crate::event::raw::parse_timestamp;
use crate::event::raw::{Overlay, RawJson};
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
    /// `include_codec_tag` (default true), or `codec_metadata` in `enrich`: whether to add
    /// `codec_applied_tag`.
    pub include_codec_tag: bool,
    /// `source_metadata` in `enrich` (default true): the peer's IP in the metadata.
    pub source_metadata: bool,
    /// `ssl_peer_metadata` in `enrich` (default false): the TLS session in the metadata.
    pub ssl_peer_metadata: bool,
    /// [`CODEC_APPLIED_TAG`], or [`MULTILINE_CODEC_APPLIED_TAG`] under the multiline codec.
    pub codec_applied_tag: &'static str,
    /// Keep events in the usual shape as their JSON until a field is read (default true).
    /// Off when the pipeline reads every event's fields anyway (filters, output
    /// conditionals, the multiline codec): the check pass that makes a lazy event would then
    /// only add to the decode that follows.
    pub lazy: bool,
}

impl Default for EventOptions {
    fn default() -> EventOptions {
        EventOptions {
            ecs_compatibility: EcsCompatibility::Disabled,
            add_hostname: false,
            include_codec_tag: true,
            source_metadata: true,
            ssl_peer_metadata: false,
            codec_applied_tag: CODEC_APPLIED_TAG,
            lazy: true,
        }
    }
}

/// Builds the events of one connection; what depends only on the peer and the settings is
/// prepared once here rather than per event.
pub struct EventBuilder {
    options: EventOptions,
    /// What this connection adds to every event's metadata (`enrich`).
    metadata: Vec<(FieldRef, Value)>,
    hostname_field: FieldRef,
    beat_hostname: FieldRef,
    /// What lazy events get added; `None` when events must be trees from the start
    /// (`add_hostname` reads a field to decide what to add).
    overlay: Option<Arc<Overlay>>,
}

impl EventBuilder {
    /// For a plain connection from `peer`.
    pub fn new(peer: SocketAddr, options: EventOptions) -> EventBuilder {
        EventBuilder::for_connection(peer, None, options)
    }

    /// For a connection from `peer`, over the TLS session `tls_peer` when `enrich` includes
    /// `ssl_peer_metadata`.
    pub fn for_connection(
        peer: SocketAddr,
        tls_peer: Option<&TlsPeer>,
        options: EventOptions,
    ) -> EventBuilder {
        let ecs = options.ecs_compatibility == EcsCompatibility::V1;
        let pick = |disabled: &str, v1: &str| field(if ecs { v1 } else { disabled });
        let text = |s: &str| Value::String(Text::from(s.to_owned()));
        let mut metadata = Vec::new();
        if options.source_metadata {
            metadata.push((
                pick(
                    "[@metadata][ip_address]",
                    "[@metadata][input][beats][host][ip]",
                ),
                text(&peer.ip().to_string()),
            ));
        }
        match tls_peer {
            None => {}
            Some(TlsPeer::Unverified) => {
                metadata.push((field("[@metadata][tls_peer][status]"), text("unverified")))
            }
            Some(TlsPeer::Verified {
                protocol,
                subject,
                cipher_suite,
            }) => metadata.extend([
                (field("[@metadata][tls_peer][status]"), text("verified")),
                (
                    pick(
                        "[@metadata][tls_peer][protocol]",
                        "[@metadata][input][beats][tls][version_protocol]",
                    ),
                    text(protocol),
                ),
                (
                    pick(
                        "[@metadata][tls_peer][subject]",
                        "[@metadata][input][beats][tls][client][subject]",
                    ),
                    text(subject),
                ),
                (
                    pick(
                        "[@metadata][tls_peer][cipher_suite]",
                        "[@metadata][input][beats][tls][cipher]",
                    ),
                    text(cipher_suite),
                ),
            ]),
        }
        let overlay = (options.lazy && !options.add_hostname).then(|| {
            Arc::new(Overlay {
                tag: options
                    .include_codec_tag
                    .then(|| Text::from_static(options.codec_applied_tag)),
                metadata: metadata.clone(),
            })
        });
        EventBuilder {
            options,
            metadata,
            hostname_field: pick("[host]", "[@metadata][input][beats][host][name]"),
            beat_hostname: field("[beat][hostname]"),
            overlay,
        }
    }

    /// The event for one data frame; fails only when a JSON payload is not a JSON object.
    pub fn build(&self, payload: Payload) -> Result<Event, JsonError> {
        match payload {
            Payload::Json(bytes) => match self.lazy(&bytes) {
                Some(event) => Ok(event),
                // Refused by the check: the decoder says why.
                None => self.build_tree(Payload::Json(bytes)),
            },
            pairs => self.build_tree(pairs),
        }
    }

    /// The lazy event for a JSON payload in the usual shape.
    fn lazy(&self, bytes: &Bytes) -> Option<Event> {
        let overlay = self.overlay.as_ref()?;
        let checked = check_object(bytes)?;
        // Without a string `message` the event is tagged differently, or gets one made.
        let message = checked.member(TopKey::Message)?;
        if message.repeated() || bytes[message.value().start] != b'"' {
            return None;
        }
        RawJson::new(bytes, &checked, overlay.clone()).map(Event::from_raw_json)
    }

    /// The event for one data frame, built as a tree right away: what [`EventBuilder::build`]
    /// gives for any payload, and how it builds the payloads a lazy event cannot stand for.
    pub fn build_tree(&self, payload: Payload) -> Result<Event, JsonError> {
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
        for (field, value) in &self.metadata {
            event.insert(field, value.clone());
        }
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
        Value::String(s) => parse_timestamp(s),
        Value::Timestamp(_) => return None,
        _ => None,
    };
    match parsed {
        Some(ts) => {
            *slot = Value::Timestamp(ts);
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

    /// Everything a consumer can see of an event: its fields, its metadata, its JSON as the
    /// json codecs and the DLQ write it, its bulk item (with a content-hash `_id`, which
    /// hashes the source bytes), and the codecs' output.
    fn observed(event: &Event) -> (Object, Object, Vec<u8>, Vec<u8>, Vec<u8>) {
        use crate::codecs::Encoder;
        use crate::outputs::elasticsearch::encoder::{encode_item, Action, Id, ItemTarget};
        let mut json = Vec::new();
        crate::event::json::encode_event(event, &mut json);
        let mut bulk = Vec::new();
        let target = ItemTarget {
            index: "filebeat",
            id: Id::ContentHash,
            ..ItemTarget::default()
        };
        encode_item(&mut bulk, Action::Create, false, &target, event);
        let mut codecs = Vec::new();
        for codec in [
            Encoder::JsonLines,
            Encoder::Json,
            Encoder::Rubydebug { metadata: true },
        ] {
            codec.encode(event, &mut codecs);
        }
        (
            event.fields().clone(),
            event.metadata().clone(),
            json,
            bulk,
            codecs,
        )
    }

    /// Builds `doc` both ways and checks every consumer sees the same event; returns whether
    /// `build` made it lazy.
    fn assert_same_both_ways(b: &EventBuilder, doc: &[u8]) -> bool {
        let shown = String::from_utf8_lossy(doc);
        let payload = || Payload::Json(Bytes::copy_from_slice(doc));
        let (lazy, eager) = match (b.build(payload()), b.build_tree(payload())) {
            (Ok(lazy), Ok(eager)) => (lazy, eager),
            (Err(a), Err(b)) => {
                assert_eq!(a.to_string(), b.to_string(), "{shown}");
                return false;
            }
            (a, b) => panic!("{shown}: lazy {:?}, tree {:?}", a.err(), b.err()),
        };
        let is_lazy = lazy.raw_json().is_some();
        if !is_lazy {
            // Both are trees, each stamped with its own ingest time when the payload had no
            // usable one: nothing lazy to compare.
            return false;
        }
        // The bytes first, while the lazy event has no tree: they must come from the raw path.
        let mut from_bytes = Vec::new();
        crate::event::json::encode_event(&lazy, &mut from_bytes);
        let lazy_seen = observed(&lazy);
        let eager_seen = observed(&eager);
        assert_eq!(lazy_seen.0, eager_seen.0, "fields of {shown}");
        assert_eq!(lazy_seen.1, eager_seen.1, "metadata of {shown}");
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        assert_eq!(text(&from_bytes), text(&eager_seen.2), "json of {shown}");
        assert_eq!(text(&lazy_seen.2), text(&eager_seen.2), "json of {shown}");
        assert_eq!(
            text(&lazy_seen.3),
            text(&eager_seen.3),
            "bulk item of {shown}"
        );
        assert_eq!(text(&lazy_seen.4), text(&eager_seen.4), "codecs of {shown}");
        assert!(lazy.fields_built());
        true
    }

    #[test]
    fn enrich_adds_the_source_and_tls_peer_to_lazy_and_tree_events_alike() {
        let doc = br#"{"@timestamp":"2026-11-24T16:17:54.123Z","@metadata":{"beat":"filebeat"},"message":"hello"}"#;
        let verified = TlsPeer::Verified {
            protocol: "TLSv1.3",
            subject: "CN=filebeat,O=Example".into(),
            cipher_suite: "TLS_AES_256_GCM_SHA384".into(),
        };
        let enriched = EventOptions {
            ssl_peer_metadata: true,
            ..EventOptions::default()
        };
        let b = EventBuilder::for_connection(peer(), Some(&verified), enriched);
        assert!(assert_same_both_ways(&b, doc));
        let e = b.build(Payload::Json(Bytes::from_static(doc))).unwrap();
        for (path, value) in [
            ("[@metadata][ip_address]", "192.0.2.7"),
            ("[@metadata][tls_peer][status]", "verified"),
            ("[@metadata][tls_peer][protocol]", "TLSv1.3"),
            ("[@metadata][tls_peer][subject]", "CN=filebeat,O=Example"),
            (
                "[@metadata][tls_peer][cipher_suite]",
                "TLS_AES_256_GCM_SHA384",
            ),
            ("[@metadata][beat]", "filebeat"),
        ] {
            assert_eq!(get(&e, path), Some(&value.into()), "{path}");
        }

        let ecs = EventOptions {
            ecs_compatibility: EcsCompatibility::V1,
            ..enriched
        };
        let b = EventBuilder::for_connection(peer(), Some(&verified), ecs);
        assert!(assert_same_both_ways(&b, doc));
        let e = b
            .build_tree(Payload::Json(Bytes::from_static(doc)))
            .unwrap();
        for (path, value) in [
            ("[@metadata][input][beats][host][ip]", "192.0.2.7"),
            ("[@metadata][tls_peer][status]", "verified"),
            (
                "[@metadata][input][beats][tls][version_protocol]",
                "TLSv1.3",
            ),
            (
                "[@metadata][input][beats][tls][client][subject]",
                "CN=filebeat,O=Example",
            ),
            (
                "[@metadata][input][beats][tls][cipher]",
                "TLS_AES_256_GCM_SHA384",
            ),
        ] {
            assert_eq!(get(&e, path), Some(&value.into()), "{path}");
        }

        // No client certificate: the status only. No `source_metadata`: no address.
        let quiet = EventOptions {
            source_metadata: false,
            ..enriched
        };
        let b = EventBuilder::for_connection(peer(), Some(&TlsPeer::Unverified), quiet);
        assert!(assert_same_both_ways(&b, doc));
        let e = b.build(Payload::Json(Bytes::from_static(doc))).unwrap();
        assert_eq!(
            get(&e, "[@metadata][tls_peer]"),
            Some(&Value::Object(Object::from_iter([(
                Text::from_static("status"),
                Value::from("unverified")
            )])))
        );
        assert_eq!(get(&e, "[@metadata][ip_address]"), None);
    }

    #[test]
    fn lazy_and_tree_events_of_the_filebeat_capture_are_the_same() {
        let capture = include_bytes!("../../../fixtures/beats/filebeat-7.17.29-zlib3-5000.bin");
        let mut decoder = Decoder::new(Limits::default());
        let mut buf = BytesMut::from(&capture[..]);
        let ecs = EventOptions {
            ecs_compatibility: EcsCompatibility::V1,
            ..EventOptions::default()
        };
        let builders = [
            EventBuilder::new(peer(), EventOptions::default()),
            EventBuilder::new(peer(), ecs),
        ];
        let mut count = 0;
        while let Some(window) = decoder.decode(&mut buf).unwrap() {
            for frame in window.frames {
                let Payload::Json(doc) = frame.payload else {
                    panic!("Filebeat sends JSON")
                };
                for b in &builders {
                    assert!(assert_same_both_ways(b, &doc), "lazy");
                }
                count += 1;
            }
        }
        assert_eq!(count, 5000);
    }

    #[test]
    fn an_untouched_lazy_event_is_written_without_its_tree() {
        let b = EventBuilder::new(peer(), EventOptions::default());
        let e = b
            .build(json(
                r#"{"@timestamp":"2026-11-24T16:17:54.123Z","@metadata":{"beat":"filebeat"},"message":"hi"}"#,
            ))
            .unwrap();
        assert_eq!(e.timestamp().unwrap().timestamp_millis(), 1_795_537_074_123);
        assert_eq!(get(&e, "[@metadata][beat]"), Some(&"filebeat".into()));
        let mut out = Vec::new();
        crate::event::json::encode_event(&e, &mut out);
        assert!(
            !e.fields_built(),
            "neither the timestamp, the metadata nor the JSON build it"
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"@timestamp":"2026-11-24T16:17:54.123Z","message":"hi","@version":"1","tags":["beats_input_codec_plain_applied"]}"#
        );
    }

    #[test]
    fn events_are_trees_when_the_pipeline_reads_them_all() {
        let payload = r#"{"@timestamp":"2026-11-24T16:17:54.123Z","message":"hi"}"#;
        let lazy = EventBuilder::new(peer(), EventOptions::default());
        assert!(lazy.build(json(payload)).unwrap().raw_json().is_some());
        let options = EventOptions {
            lazy: false,
            ..EventOptions::default()
        };
        let eager = EventBuilder::new(peer(), options)
            .build(json(payload))
            .unwrap();
        assert!(eager.raw_json().is_none() && eager.fields_built());
    }

    #[test]
    fn a_lazy_event_changed_by_a_filter_is_a_tree() {
        let b = EventBuilder::new(peer(), EventOptions::default());
        let mut e = b
            .build(json(
                r#"{"@timestamp":"2026-11-24T16:17:54.123Z","@metadata":{"beat":"fb"},"message":"hi"}"#,
            ))
            .unwrap();
        assert_eq!(get(&e, "message"), Some(&"hi".into()));
        assert!(e.raw_json().is_some(), "a read changes nothing");
        e.insert(&field("message"), "changed".into());
        assert!(e.raw_json().is_none());
        assert_eq!(get(&e, "[@metadata][beat]"), Some(&"fb".into()));
        assert_eq!(
            get(&e, "[@metadata][ip_address]"),
            Some(&"192.0.2.7".into())
        );
        let mut out = Vec::new();
        crate::event::json::encode_event(&e, &mut out);
        assert!(String::from_utf8(out)
            .unwrap()
            .contains(r#""message":"changed""#));
    }

    #[test]
    fn lazy_and_tree_events_of_hostile_documents_are_the_same() {
        const TS: &str = r#""@timestamp":"2026-11-24T16:17:54.123Z""#;
        let with_ts = |rest: &str| format!("{{{TS},{rest}}}");
        let mut docs: Vec<String> = [
            // Where `@metadata` stands, and what it is.
            r#"{"@metadata":{"beat":"fb","ip_address":"x"},"@timestamp":"2026-11-24T16:17:54.123Z","message":"m"}"#,
            r#"{"message":"m","@timestamp":"2026-11-24T16:17:54.123Z","@metadata":{}}"#,
            r#"{"@timestamp":"2026-11-24T16:17:54.123Z","@metadata":"not an object","message":"m"}"#,
            r#"{"@timestamp":"2026-11-24T16:17:54.123Z","@metadata":[1],"message":"m"}"#,
            r#"{"@timestamp":"2026-11-24T16:17:54.123Z","@metadata":null,"message":"m"}"#,
            r#"{"@metadata":{"beat":"a"},"@metadata":{"beat":"b"},"@timestamp":"2026-11-24T16:17:54.123Z","message":"m"}"#,
            // `@timestamp`: missing, unparsable, not a string, escaped, other forms.
            r#"{"message":"m"}"#,
            r#"{"@timestamp":"yesterday","message":"m"}"#,
            r#"{"@timestamp":12,"message":"m"}"#,
            r#"{"@timestamp":{"a":1},"message":"m"}"#,
            r#"{"@timestamp":null,"message":"m"}"#,
            r#"{"@timestamp":"2026-11-24T16:17:54.123\u005a","message":"m"}"#,
            r#"{"@timestamp":"2026-11-24T17:17:54.123+01:00","message":"m"}"#,
            r#"{"@timestamp":"2026-11-24T16:17:54Z","message":"m"}"#,
            r#"{"@timestamp":"2026-11-24T16:17:54.123456Z","message":"m"}"#,
            r#"{"@timestamp":"2026-11-24T16:17:54.123456789Z","message":"m"}"#,
            r#"{"@timestamp":"2016-12-31T23:59:60.500Z","message":"m"}"#,
            r#"{"@timestamp":"2026-11-24t16:17:54.123z","message":"m"}"#,
            r#"{"@timestamp":"2026-11-24 16:17:54.123Z","message":"m"}"#,
            r#"{"@timestamp":"2026-11-24T16:17:54.123Z","@timestamp":"2026-11-25T16:17:54.123Z","message":"m"}"#,
            r#"{"\u0040timestamp":"2026-11-24T16:17:54.123Z","message":"m"}"#,
            // `message`: missing, null, not a string, repeated, escaped, `line`.
            r#"{"@timestamp":"2026-11-24T16:17:54.123Z"}"#,
            r#"{"@timestamp":"2026-11-24T16:17:54.123Z","message":null}"#,
            r#"{"@timestamp":"2026-11-24T16:17:54.123Z","message":42}"#,
            r#"{"@timestamp":"2026-11-24T16:17:54.123Z","message":{"a":[1]}}"#,
            r#"{"@timestamp":"2026-11-24T16:17:54.123Z","message":"a","message":"b"}"#,
            r#"{"@timestamp":"2026-11-24T16:17:54.123Z","message":1,"message":"b"}"#,
            r#"{"@timestamp":"2026-11-24T16:17:54.123Z","mess\u0061ge":"m"}"#,
            r#"{"@timestamp":"2026-11-24T16:17:54.123Z","line":"l"}"#,
            r#"{"@timestamp":"2026-11-24T16:17:54.123Z","line":"l","message":"m"}"#,
            // Whitespace around and inside.
            " {\n \"@timestamp\" : \"2026-11-24T16:17:54.123Z\" ,\t\"message\":\"m\" , \"@metadata\" : { \"beat\" : \"fb\" } } \r\n",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for rest in [
            // `tags` and `@version` already there.
            r#""message":"m","tags":["app"]"#,
            r#""message":"m","tags":"app""#,
            r#""message":"m","tags":["beats_input_codec_plain_applied"]"#,
            r#""message":"m","tags":7"#,
            r#""message":"m","tags":[],"tags":null"#,
            r#""message":"m","@version":"2""#,
            r#""@version":1,"message":"m","@version":"3""#,
            // Repeated keys, at the top and below.
            r#""message":"m","a":1,"a":2"#,
            r#""message":"m","a":{"b":1,"c":{"d":1,"d":[2]},"b":3}"#,
            // Escapes, unicode, numbers at the edges.
            r#""message":"tab\tquote\"back\\slash\/\u00e9\u001f\u001F\u000a\ud83d\ude00é😀\u0000""#,
            r#""message":"m","\"odd key\\":"v","é":"ü""#,
            r#""message":"m","n":[0,-0,-1,9223372036854775807,-9223372036854775808,9223372036854775808]"#,
            r#""message":"m","f":[0.5,1.0,1.50,1e2,1E2,2.5e-3,1e-400,123456.789,1e16,1e+16,-0.0]"#,
            r#""message":"m","deep":[[[[{"a":[{"b":{}}]}]]]],"e":[],"o":{}"#,
            // Invalid documents: both refuse, with the same error.
            r#""message":"m","a":1e400"#,
            r#""message":"m","a":"\ud800""#,
            r#""message":"m","a":01"#,
            r#""message":"m","a":[1,]"#,
        ] {
            docs.push(with_ts(rest));
        }
        let keys: Vec<String> = (0..40).map(|i| format!("\"k{}\":{i}", i % 39)).collect();
        docs.push(with_ts(&format!("\"message\":\"m\",{}", keys.join(","))));
        let deep = |n: usize| format!("\"message\":\"m\",\"d\":{}{}", "[".repeat(n), "]".repeat(n));
        docs.push(with_ts(&deep(crate::event::json::MAX_DEPTH - 1)));
        docs.push(with_ts(&deep(crate::event::json::MAX_DEPTH)));
        docs.extend(["{", "", "[]", "{\"message\":\"m\"} x"].map(String::from));

        let options = [
            EventOptions::default(),
            EventOptions {
                ecs_compatibility: EcsCompatibility::V1,
                ..EventOptions::default()
            },
            EventOptions {
                include_codec_tag: false,
                ..EventOptions::default()
            },
            EventOptions {
                add_hostname: true,
                ..EventOptions::default()
            },
        ];
        let mut lazy = 0;
        for options in options {
            let b = EventBuilder::new(peer(), options);
            for doc in &docs {
                lazy += usize::from(assert_same_both_ways(&b, doc.as_bytes()));
            }
            assert!(!assert_same_both_ways(&b, b"{\"message\":\"\xff\"}"));
        }
        // Most of the documents have the usual shape (not under `add_hostname`).
        assert!(lazy > 80, "{lazy} lazy");
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
