//! The Thrift binary decoders on arbitrary bytes: `emitBatch` messages (UDP 6832) and bare
//! `Batch` bodies (HTTP 14268). Neither may panic or allocate beyond what the input holds.
//!
//! Run with `cargo +nightly fuzz run jaeger_thrift_binary` from the repository root.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sluice::traces::thrift::{decode_binary_batch, decode_binary_emit_batch};

fuzz_target!(|data: &[u8]| {
    let input = Bytes::copy_from_slice(data);
    let _ = decode_binary_emit_batch(input.clone());
    let _ = decode_binary_batch(input);
});
