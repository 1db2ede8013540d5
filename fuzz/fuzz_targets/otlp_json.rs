//! The OTLP/JSON decoder on arbitrary bytes: it must refuse or decode, never panic (hostile
//! nesting included), and what it decodes must map to spans and log events.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice::inputs::otlp::logs;
use sluice::traces::otlp::{json, spans};

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = json::decode_traces(data) {
        spans::map_request(request);
    }
    if let Ok(request) = json::decode_logs(data) {
        logs::map_request(request);
    }
});
