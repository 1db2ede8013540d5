//! The output's metrics: Prometheus series in the process registry, labelled with the
//! pipeline and the plugin id, once the pipeline has attached the output
//! ([`Metrics::registered`]). An output used on its own (tests, benches) counts in handles of
//! its own ([`Metrics::default`]), readable the same way.

use std::collections::HashMap;

use crate::observe::metrics::{registry, Counter, Gauge, Histogram, LATENCY_BUCKETS};

#[derive(Debug)]
pub struct Metrics {
    /// `(pipeline, plugin)`, for the series created as errors appear; `None` when detached.
    labels: Option<(String, String)>,
    pub events_in: Counter,
    /// Events Elasticsearch took (2xx, or 409 on `create`).
    pub events_taken: Counter,
    /// Of those, `create`s answered 409: the document was already there (resends that
    /// idempotent ids kept from becoming duplicates).
    pub events_already_present: Counter,
    /// Item answers that asked for a retry (429, 5xx, rejected execution…).
    pub items_retried: Counter,
    pub events_dead_lettered: Counter,
    /// Dead letters refused by a full DLQ under `drop_newer`.
    pub events_dlq_dropped: Counter,
    /// Permanently refused events without a DLQ: their batches fail.
    pub events_failed: Counter,
    pub bulk_requests: Counter,
    /// Requests no node answered (unreachable, timeout on every node tried), or whose answer
    /// was unreadable.
    pub bulk_requests_unanswered: Counter,
    /// Requests answered with anything but 200 (a whole-request 429 or 5xx, mostly).
    pub bulk_requests_refused: Counter,
    /// Request bodies before compression.
    pub bulk_bytes: Counter,
    /// From sending a request to its whole answer, failover included.
    pub bulk_seconds: Histogram,
    pub events_timestamp_guarded: Counter,
    /// Spans whose start time was outside `[now − max_span_age, now + max_clock_skew]`:
    /// dated and started now (schema `jaeger`).
    pub events_start_time_clamped: Counter,
    /// Jaeger service documents Elasticsearch took, and refused for good.
    pub service_documents_written: Counter,
    pub service_documents_refused: Counter,
    /// Encoded bytes of the batches in flight.
    pub in_flight_bytes: Gauge,
    /// Bytes of the pipeline's dead-letter queue on disk, as last written.
    pub dlq_bytes: Gauge,
    /// Per node, in configuration order: 1 when it answers, 0 while set aside.
    pub nodes_up: Vec<Gauge>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            labels: None,
            events_in: Counter::default(),
            events_taken: Counter::default(),
            events_already_present: Counter::default(),
            items_retried: Counter::default(),
            events_dead_lettered: Counter::default(),
            events_dlq_dropped: Counter::default(),
            events_failed: Counter::default(),
            bulk_requests: Counter::default(),
            bulk_requests_unanswered: Counter::default(),
            bulk_requests_refused: Counter::default(),
            bulk_bytes: Counter::default(),
            bulk_seconds: Histogram::new(LATENCY_BUCKETS),
            events_timestamp_guarded: Counter::default(),
            events_start_time_clamped: Counter::default(),
            service_documents_written: Counter::default(),
            service_documents_refused: Counter::default(),
            in_flight_bytes: Gauge::default(),
            dlq_bytes: Gauge::default(),
            nodes_up: Vec::new(),
        }
    }
}

impl Metrics {
    /// The output's series in the process registry; `nodes` are the client's base URLs.
    pub fn registered(pipeline: &str, plugin: &str, nodes: &[&str]) -> Metrics {
        let r = registry();
        let labels: &[(&str, &str)] = &[("pipeline", pipeline), ("plugin", plugin)];
        let events = |result: &str| {
            r.counter(
                "sluice_elasticsearch_events_total",
                "Events of the Elasticsearch output by what became of them: in (received), taken, already_present (taken: a create found the document an earlier attempt wrote), dead_lettered, dlq_dropped, failed, timestamp_guarded (indexed by ingest time), start_time_clamped (a span dated now: its start was outside the window).",
                &[("pipeline", pipeline), ("plugin", plugin), ("result", result)],
            )
        };
        let failed = |reason: &str| {
            r.counter(
                "sluice_elasticsearch_bulk_requests_failed_total",
                "Bulk requests whose items were all sent again: unanswered (no node answered, or the answer was unreadable) or refused (429, 5xx, other non-200).",
                &[("pipeline", pipeline), ("plugin", plugin), ("reason", reason)],
            )
        };
        let service_documents = |result: &str| {
            r.counter(
                "sluice_elasticsearch_jaeger_service_documents_total",
                "Jaeger service documents (schema jaeger) by result: written (Elasticsearch took them), refused (for good; tried again with a later span).",
                &[("pipeline", pipeline), ("plugin", plugin), ("result", result)],
            )
        };
        Metrics {
            labels: Some((pipeline.to_owned(), plugin.to_owned())),
            events_in: events("in"),
            events_taken: events("taken"),
            events_already_present: events("already_present"),
            events_dead_lettered: events("dead_lettered"),
            events_dlq_dropped: events("dlq_dropped"),
            events_failed: events("failed"),
            events_timestamp_guarded: events("timestamp_guarded"),
            events_start_time_clamped: events("start_time_clamped"),
            service_documents_written: service_documents("written"),
            service_documents_refused: service_documents("refused"),
            items_retried: r.counter(
                "sluice_elasticsearch_item_retries_total",
                "Bulk items Elasticsearch asked to send again (429, 5xx, rejected execution).",
                labels,
            ),
            bulk_requests: r.counter(
                "sluice_elasticsearch_bulk_requests_total",
                "Bulk requests sent.",
                labels,
            ),
            bulk_requests_unanswered: failed("unanswered"),
            bulk_requests_refused: failed("refused"),
            bulk_bytes: r.counter(
                "sluice_elasticsearch_bulk_bytes_total",
                "Bulk request bodies, before compression.",
                labels,
            ),
            bulk_seconds: r.histogram(
                "sluice_elasticsearch_bulk_duration_seconds",
                "From sending a bulk request to its whole answer, failover included.",
                labels,
                LATENCY_BUCKETS,
            ),
            in_flight_bytes: r.gauge(
                "sluice_elasticsearch_in_flight_bytes",
                "Encoded bytes of the batches the Elasticsearch output is delivering.",
                labels,
            ),
            dlq_bytes: r.gauge(
                "sluice_dead_letter_queue_bytes",
                "Bytes of the pipeline's dead-letter queue on disk.",
                &[("pipeline", pipeline)],
            ),
            nodes_up: nodes
                .iter()
                .map(|host| {
                    let up = r.gauge(
                        "sluice_elasticsearch_node_up",
                        "1 while an Elasticsearch node answers, 0 while it is set aside.",
                        &[("pipeline", pipeline), ("plugin", plugin), ("host", host)],
                    );
                    up.set(1);
                    up
                })
                .collect(),
        }
    }

    /// Counts item errors by HTTP status and Elasticsearch error type. Called once per
    /// answer with its tally, so the registry is consulted per distinct error, not per item.
    pub fn item_errors(&self, tally: &HashMap<(u16, String), u64>) {
        let Some((pipeline, plugin)) = &self.labels else {
            return;
        };
        for ((status, kind), n) in tally {
            registry()
                .counter(
                    "sluice_elasticsearch_item_errors_total",
                    "Bulk items Elasticsearch did not take, by status and error type (retried or dead).",
                    &[
                        ("pipeline", pipeline),
                        ("plugin", plugin),
                        ("status", itoa::Buffer::new().format(*status)),
                        ("type", kind),
                    ],
                )
                .add(*n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_series_are_in_the_registry() {
        let metrics = Metrics::registered("metrics-test", "es-1", &["http://a:9200"]);
        metrics.events_taken.add(3);
        metrics.bulk_seconds.observe(0.02);
        let mut tally = HashMap::new();
        tally.insert((400, "document_parsing_exception".to_owned()), 2);
        metrics.item_errors(&tally);
        let text = registry().render();
        for line in [
            r#"sluice_elasticsearch_events_total{pipeline="metrics-test",plugin="es-1",result="taken"} 3"#,
            r#"sluice_elasticsearch_item_errors_total{pipeline="metrics-test",plugin="es-1",status="400",type="document_parsing_exception"} 2"#,
            r#"sluice_elasticsearch_bulk_duration_seconds_count{pipeline="metrics-test",plugin="es-1"} 1"#,
            r#"sluice_elasticsearch_node_up{pipeline="metrics-test",plugin="es-1",host="http://a:9200"} 1"#,
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }
}
