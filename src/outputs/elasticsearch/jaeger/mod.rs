//! `elasticsearch { schema => "jaeger" }`: spans written as Jaeger's own Elasticsearch writer
//! writes them, so an unchanged Jaeger Query reads them (docs/TRACES.md).
//!
//! Each span event becomes a span document in `<p>jaeger-span-<date>` (auto `_id`,
//! [`span_json`]) and, once per service/operation pair and index date, a service document in
//! `<p>jaeger-service-<date>` ([`services`]). Dates and the start-time guard are [`index`]'s;
//! the two index templates are [`templates`]'. Everything else (bulk requests, per-item retry,
//! node failover, the DLQ, receipts) is the Elasticsearch output's, unchanged: this module only
//! decides what each item is and where it goes.

pub mod index;
pub mod services;
pub mod span_json;
pub mod templates;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Datelike;

use crate::event::{Event, Object, Text, Value};

use index::{prefixed, DateLayout, StartTimeWindow};
use services::{ServiceKey, WrittenServices};
pub use span_json::TagsAsFields;
pub use templates::IndexSettings;

/// The settings of the Jaeger schema (named after Jaeger's Elasticsearch options).
#[derive(Clone, Debug)]
pub struct JaegerConfig {
    /// `index_prefix`, applied by Jaeger's rule ([`index::prefixed`]).
    pub index_prefix: String,
    /// `date_layout`, or built from `index_date_separator` and `rollover_frequency`.
    pub date_layout: DateLayout,
    pub tags_as_fields: TagsAsFields,
    /// `max_span_age` and `max_clock_skew`.
    pub window: StartTimeWindow,
    /// `span_shards`, `span_replicas`, `span_priority`.
    pub span_index: IndexSettings,
    /// `service_shards`, `service_replicas`, `service_priority`.
    pub service_index: IndexSettings,
    /// Service/operation pairs remembered as written (Jaeger: 100 000).
    pub service_cache_size: usize,
    /// How long a written pair is remembered (Jaeger: 12 h).
    pub service_cache_ttl: Duration,
}

impl Default for JaegerConfig {
    fn default() -> JaegerConfig {
        JaegerConfig {
            index_prefix: String::new(),
            date_layout: DateLayout::from_separator("-", false).expect("Jaeger's layout"),
            tags_as_fields: TagsAsFields::default(),
            window: StartTimeWindow {
                max_span_age: Duration::from_secs(72 * 3600),
                max_clock_skew: Duration::from_secs(3600),
            },
            span_index: IndexSettings::default(),
            service_index: IndexSettings::default(),
            service_cache_size: 100_000,
            service_cache_ttl: Duration::from_secs(12 * 3600),
        }
    }
}

/// The tag a span gets when its start time was outside the window: the start time it came
/// with (µs), as its `startTime` is now the time it was written.
pub const ORIGINAL_START_TIME_TAG: &str = "sluice.original_start_time";

/// The schema at work: names, encoders and the memory of written service documents.
pub struct JaegerSchema {
    config: JaegerConfig,
    span_base: String,
    service_base: String,
    written: Mutex<WrittenServices>,
    /// The last index period named and its span index: consecutive spans mostly share one,
    /// and formatting a date costs more than encoding a small span.
    last_index: Mutex<(i64, String)>,
}

/// Where one span goes, and the service document it may need.
pub struct Placement {
    pub span_index: String,
    /// The index period of its date: with the service `_id`, the key of its service document.
    pub period: i64,
    time: chrono::DateTime<chrono::Utc>,
    /// Its start time was outside the window: it was dated now and tagged.
    pub clamped: bool,
}

/// A service document to write.
pub struct ServiceDoc {
    pub key: ServiceKey,
    pub id: String,
    pub index: String,
}

impl JaegerSchema {
    pub fn new(config: JaegerConfig) -> JaegerSchema {
        JaegerSchema {
            span_base: prefixed(&config.index_prefix, "jaeger-span-"),
            service_base: prefixed(&config.index_prefix, "jaeger-service-"),
            written: Mutex::new(WrittenServices::new(
                config.service_cache_size,
                config.service_cache_ttl,
            )),
            last_index: Mutex::new((i64::MIN, String::new())),
            config,
        }
    }

    /// The two index templates, as `(name, body)`: `<p>jaeger-span` and `<p>jaeger-service`.
    pub fn templates(&self) -> [(String, Vec<u8>); 2] {
        let name = |base: &str| base.trim_end_matches('-').to_owned();
        [
            (
                name(&self.span_base),
                templates::span_template(&self.span_base, self.config.span_index),
            ),
            (
                name(&self.service_base),
                templates::service_template(&self.service_base, self.config.service_index),
            ),
        ]
    }

    /// Dates `event` by its start time, or now when it has none or one outside the window;
    /// in the latter case the span's start becomes now and its own goes into a tag, so what
    /// the document says and the index it is in agree. `now_us` is µs since the epoch.
    pub fn place(&self, event: &mut Event, now_us: i64) -> Placement {
        let start = match event.span() {
            Some(span) => Some(span.start_time_us),
            None => match event.fields().get("startTime") {
                Some(Value::Integer(start)) => Some(*start),
                _ => None,
            },
        };
        let datable = |start: i64| {
            let time = chrono::DateTime::from_timestamp_micros(start);
            // Beyond year 9999 an index name would no longer sort, nor parse as a date.
            time.filter(|t| self.config.window.accepts(start, now_us) && t.year() <= 9999)
        };
        let now = chrono::DateTime::from_timestamp_micros(now_us).expect("now is a time");
        let (dated, time, clamped) = match start {
            Some(start) => match datable(start) {
                Some(time) => (start, time, false),
                None => {
                    restart(event, start, now_us);
                    (now_us, now, true)
                }
            },
            None => (now_us, now, false),
        };
        let period = dated.div_euclid(self.config.date_layout.period_seconds() * 1_000_000);
        let mut last = self.last_index.lock().unwrap();
        if last.0 != period {
            let mut name = self.span_base.clone();
            self.config.date_layout.format(time, &mut name);
            *last = (period, name);
        }
        Placement {
            span_index: last.1.clone(),
            period,
            time,
            clamped,
        }
    }

    /// The service document `event` needs in `placement`'s index, unless it is known to be
    /// written or the event names no service and operation.
    pub fn service_doc(
        &self,
        event: &Event,
        placement: &Placement,
        now: Instant,
    ) -> Option<(ServiceDoc, Vec<u8>)> {
        let (service, operation) = match event.span() {
            Some(span) => (
                span.process.service_name.as_str(),
                span.operation_name.as_str(),
            ),
            None => {
                let fields = event.fields();
                let service = fields
                    .get("process")
                    .and_then(Value::as_object)
                    .and_then(|p| p.get("serviceName"))
                    .and_then(Value::as_str)?;
                (
                    service,
                    fields.get("operationName").and_then(Value::as_str)?,
                )
            }
        };
        let id = services::service_id(service, operation);
        let key = (id, placement.period);
        if self.written.lock().unwrap().contains(key, now) {
            return None;
        }
        let mut body = Vec::with_capacity(service.len() + operation.len() + 40);
        span_json::encode_service(service, operation, &mut body);
        let mut index = self.service_base.clone();
        self.config.date_layout.format(placement.time, &mut index);
        Some((
            ServiceDoc {
                key,
                id: services::service_id_hex(id),
                index,
            },
            body,
        ))
    }

    /// Records that Elasticsearch took these service documents.
    pub fn written(&self, keys: impl IntoIterator<Item = ServiceKey>, now: Instant) {
        let mut written = self.written.lock().unwrap();
        for key in keys {
            written.insert(key, now);
        }
    }

    /// Appends the span document of `event`: from its span while it has one, else from its
    /// fields.
    pub fn encode(&self, event: &Event, out: &mut Vec<u8>) {
        match event.span() {
            Some(span) => span_json::encode_span(span, &self.config.tags_as_fields, out),
            None => span_json::encode_tree(event.fields(), &self.config.tags_as_fields, out),
        }
    }
}

/// Moves a span's start to `now_us`, keeping the one it came with in a tag.
fn restart(event: &mut Event, original: i64, now_us: i64) {
    let fields = event.fields_mut();
    fields.insert(Text::from_static("startTime"), Value::Integer(now_us));
    fields.insert(
        Text::from_static("startTimeMillis"),
        Value::Integer(now_us.div_euclid(1000)),
    );
    let mut tag = Object::with_capacity(3);
    tag.push_unchecked(
        Text::from_static("key"),
        Value::String(Text::from_static(ORIGINAL_START_TIME_TAG)),
    );
    tag.push_unchecked(
        Text::from_static("type"),
        Value::String(Text::from_static("int64")),
    );
    tag.push_unchecked(Text::from_static("value"), Value::Integer(original));
    // A tree whose `tags` a filter made something else keeps it: the tag is then left out.
    if let Value::Array(tags) =
        fields.get_or_insert_with(&Text::from_static("tags"), || Value::Array(Vec::new()))
    {
        tags.push(Value::Object(tag));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::event::FieldRef;
    use crate::traces::model::{KeyValue, Process, Span, TagValue};

    fn span(start_time_us: i64) -> Span {
        Span {
            trace_id: 1,
            span_id: 2,
            parent_span_id: 0,
            operation_name: "op".into(),
            references: vec![],
            flags: 0,
            start_time_us,
            duration_us: 5,
            tags: vec![KeyValue::new("k", TagValue::Bool(true))],
            logs: vec![],
            process: Arc::new(Process {
                service_name: "svc".into(),
                tags: vec![],
            }),
        }
    }

    const NOW: i64 = 1_764_000_000_000_000; // 2025-11-24T16:00:00Z
    const HOUR: i64 = 3_600_000_000;

    fn schema(prefix: &str) -> JaegerSchema {
        JaegerSchema::new(JaegerConfig {
            index_prefix: prefix.into(),
            ..JaegerConfig::default()
        })
    }

    #[test]
    fn a_span_is_dated_by_its_start_in_utc() {
        let schema = schema("prod");
        let mut event = Event::from_span(span(NOW - 20 * HOUR));
        let placed = schema.place(&mut event, NOW);
        assert_eq!(placed.span_index, "prod-jaeger-span-2025-11-23");
        let (doc, _) = schema.service_doc(&event, &placed, Instant::now()).unwrap();
        assert_eq!(doc.index, "prod-jaeger-service-2025-11-23");
        let mut next_day = Event::from_span(span(NOW - 2 * HOUR));
        assert_eq!(
            schema.place(&mut next_day, NOW).span_index,
            "prod-jaeger-span-2025-11-24"
        );
        assert!(!placed.clamped);
        assert!(event.span().is_some(), "untouched: still the fast path");
        assert_eq!(
            schema.templates().map(|(name, _)| name),
            ["prod-jaeger-span", "prod-jaeger-service"]
        );
    }

    #[test]
    fn a_start_outside_the_window_is_dated_now_and_tagged() {
        let schema = schema("");
        for start in [
            NOW - 73 * HOUR,
            NOW + 2 * HOUR,
            i64::MIN,
            193_000_000_000_000_000,
        ] {
            let mut event = Event::from_span(span(start));
            let placed = schema.place(&mut event, NOW);
            assert!(placed.clamped);
            assert_eq!(placed.span_index, "jaeger-span-2025-11-24");
            let get = |f: &str| event.get(&FieldRef::parse(f).unwrap()).cloned();
            assert_eq!(get("startTime"), Some(Value::Integer(NOW)));
            assert_eq!(get("startTimeMillis"), Some(Value::Integer(NOW / 1000)));
            assert_eq!(get("[tags][1][key]"), Some(ORIGINAL_START_TIME_TAG.into()));
            assert_eq!(get("[tags][1][value]"), Some(Value::Integer(start)));
        }
    }

    #[test]
    fn an_event_without_a_start_time_is_dated_now() {
        let schema = schema("");
        let mut event = Event::from_message("not a span".into());
        let placed = schema.place(&mut event, NOW);
        assert!(!placed.clamped);
        assert_eq!(placed.span_index, "jaeger-span-2025-11-24");
        assert!(schema
            .service_doc(&event, &placed, Instant::now())
            .is_none());
    }

    #[test]
    fn a_service_document_is_wanted_until_written_per_index_date() {
        let schema = schema("");
        let now = Instant::now();
        let mut event = Event::from_span(span(NOW));
        let placed = schema.place(&mut event, NOW);
        let (doc, body) = schema.service_doc(&event, &placed, now).unwrap();
        assert_eq!(doc.id, "beeb439ca26071e2");
        assert_eq!(doc.index, "jaeger-service-2025-11-24");
        assert_eq!(body, br#"{"serviceName":"svc","operationName":"op"}"#);
        assert!(
            schema.service_doc(&event, &placed, now).is_some(),
            "not written yet"
        );
        schema.written([doc.key], now);
        assert!(schema.service_doc(&event, &placed, now).is_none());
        let mut yesterday = Event::from_span(span(NOW - 24 * HOUR));
        let placed = schema.place(&mut yesterday, NOW);
        assert!(schema.service_doc(&yesterday, &placed, now).is_some());
    }

    #[test]
    fn a_changed_span_is_encoded_from_its_fields() {
        let schema = schema("");
        let mut event = Event::from_span(span(NOW));
        event.insert(&FieldRef::parse("operationName").unwrap(), "renamed".into());
        let placed = schema.place(&mut event, NOW);
        let (doc, body) = schema.service_doc(&event, &placed, Instant::now()).unwrap();
        assert_eq!(
            doc.id,
            services::service_id_hex(services::service_id("svc", "renamed"))
        );
        assert!(String::from_utf8(body).unwrap().contains("renamed"));
        let mut out = Vec::new();
        schema.encode(&event, &mut out);
        assert!(String::from_utf8(out)
            .unwrap()
            .contains("\"operationName\":\"renamed\""));
    }
}
