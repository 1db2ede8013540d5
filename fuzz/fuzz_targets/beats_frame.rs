//! The Lumberjack frame decoder on arbitrary bytes: it must never panic, never allocate past
//! its limits, and decode the same windows (or fail the same way) however the bytes are split
//! into reads.
//!
//! Run with `cargo +nightly fuzz run beats_frame` from the repository root.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sluice::inputs::beats::event::{EventBuilder, EventOptions};
use sluice::inputs::beats::frame::{Decoder, Limits, ProtocolError, Window};

/// Small limits so the fuzzer reaches the caps instead of waiting for gigabytes.
const LIMITS: Limits = Limits {
    max_frame_bytes: 1 << 16,
    max_window_events: 256,
    max_window_bytes: 1 << 20,
};

/// Decodes `data` fed in reads of `chunk` bytes; the windows, then the error if any.
fn decode(data: &[u8], chunk: usize) -> (Vec<Window>, Option<ProtocolError>) {
    let mut decoder = Decoder::new(LIMITS);
    let mut buf = BytesMut::new();
    let mut windows = Vec::new();
    for part in data.chunks(chunk.max(1)) {
        buf.extend_from_slice(part);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(w)) => windows.push(w),
                Ok(None) => break,
                Err(e) => return (windows, Some(e)),
            }
        }
    }
    let end = decoder.finish(&buf).err();
    (windows, end)
}

fuzz_target!(|input: &[u8]| {
    let Some((&split, data)) = input.split_first() else {
        return;
    };
    let (whole, whole_err) = decode(data, data.len());
    let (split_windows, split_err) = decode(data, split as usize);
    assert_eq!(whole, split_windows);
    // Kinds, not messages: zlib may word the same corruption differently at another offset.
    assert_eq!(
        whole_err.as_ref().map(ProtocolError::kind),
        split_err.as_ref().map(ProtocolError::kind)
    );
    let builder = EventBuilder::new("127.0.0.1:1".parse().unwrap(), EventOptions::default());
    for window in whole {
        for frame in window.frames {
            let _ = builder.build(frame.payload);
        }
    }
});
