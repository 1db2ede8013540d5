//! OTLP protobuf bodies as the `otlp` input takes them: arbitrary bytes decoded as a trace
//! and as a logs export request, mapped to spans (and their Jaeger documents) and to log
//! events. Nothing may panic; every span kept has usable ids, and kept plus rejected spans
//! account for every span decoded.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use prost::Message;
use sluice::inputs::otlp::logs;
use sluice::traces::document::span_document;
use sluice::traces::otlp::{spans, wire};

fuzz_target!(|data: &[u8]| {
    let body = Bytes::copy_from_slice(data);
    if let Ok(request) = wire::ExportTraceServiceRequest::decode(body.clone()) {
        let decoded: usize = request
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum();
        let mapped = spans::map_request(request);
        assert_eq!(mapped.spans.len() as u64 + mapped.rejected.total(), decoded as u64);
        for span in &mapped.spans {
            assert!(span.trace_id != 0 && span.span_id != 0);
            assert!(span.duration_us >= 0 && span.start_time_us >= 0);
            span_document(span);
        }
    }
    if let Ok(request) = wire::ExportLogsServiceRequest::decode(body) {
        logs::map_request(request);
    }
});
