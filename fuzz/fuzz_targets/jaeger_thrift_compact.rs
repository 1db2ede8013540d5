//! The Thrift compact `emitBatch` decoder (UDP 6831) on arbitrary bytes: it must never panic,
//! and every string it returns must be a slice of the input or a lossy copy it counted.
//!
//! Run with `cargo +nightly fuzz run jaeger_thrift_compact` from the repository root.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sluice::traces::thrift::decode_compact_emit_batch;

fuzz_target!(|data: &[u8]| {
    let input = Bytes::copy_from_slice(data);
    let range = input.as_ptr_range();
    if let Ok(decoded) = decode_compact_emit_batch(input.clone()) {
        let copied = decoded
            .spans
            .iter()
            .filter(|s| !s.operation_name.is_empty())
            .filter(|s| !range.contains(&s.operation_name.as_bytes().as_ptr()))
            .count();
        assert!(copied <= decoded.invalid_utf8);
    }
});
