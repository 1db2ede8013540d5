//! A decoded Thrift batch to pipeline events: what every endpoint does between decoding and
//! queueing. Spans no Jaeger reader could use are left out (and counted); spans that are only
//! slightly wrong are repaired (and counted) as Jaeger's sanitizers repair them.

use super::metrics::EndpointMetrics;
use crate::event::Event;
use crate::traces::thrift::Decoded;

/// The events of `decoded`'s acceptable spans.
pub fn to_events(decoded: Decoded, metrics: &EndpointMetrics) -> Vec<Event> {
    if decoded.invalid_utf8 > 0 {
        metrics.spans_sanitized("invalid_utf8", decoded.invalid_utf8);
    }
    let (mut zero_trace, mut zero_span, mut negative) = (0, 0, 0);
    let mut events = Vec::with_capacity(decoded.spans.len());
    for mut span in decoded.spans {
        // A zero id is "no trace" to every Jaeger reader: the span could never be found.
        if span.trace_id == 0 {
            zero_trace += 1;
            continue;
        }
        if span.span_id == 0 {
            zero_span += 1;
            continue;
        }
        if span.duration_us < 0 {
            negative += 1;
            span.duration_us = 0;
        }
        events.push(Event::from_span(span));
    }
    for (reason, n) in [("zero_trace_id", zero_trace), ("zero_span_id", zero_span)] {
        if n > 0 {
            metrics.spans_rejected(reason, n);
        }
    }
    if negative > 0 {
        metrics.spans_sanitized("negative_duration", negative);
    }
    metrics.spans_received(events.len());
    events
}
