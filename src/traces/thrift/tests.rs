//! Hand-built hostile inputs; `tests/jaeger_thrift_differential.rs` checks well-formed batches
//! against the `thrift` crate.

use bytes::Bytes;

use super::*;
use crate::traces::model::TagValue;

/// Compact message header for `name`, oneway, sequence id 0.
fn compact_header(name: &str) -> Vec<u8> {
    let mut out = vec![0x82, (4 << 5) | 1, 0, name.len() as u8];
    out.extend_from_slice(name.as_bytes());
    out
}

fn compact_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(s.len() as u8);
    out.extend_from_slice(s);
}

/// Compact zigzag varint of a small i64 field value.
fn compact_i64_field(out: &mut Vec<u8>, delta: u8, v: i64) {
    out.push((delta << 4) | 6);
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    loop {
        let b = (z & 0x7f) as u8;
        z >>= 7;
        if z == 0 {
            out.push(b);
            break;
        }
        out.push(b | 0x80);
    }
}

/// An `emitBatch` with one span whose operation name and one tag's string are `name`,
/// its Batch written by hand in the compact protocol.
fn compact_emit_batch(name: &[u8], duration: i64) -> Vec<u8> {
    let mut out = compact_header("emitBatch");
    out.push(0x1c); // field 1 (batch): struct
    out.push(0x1c); // Batch field 1 (process): struct
    out.push(0x18); // Process field 1 (serviceName): binary
    compact_string(&mut out, b"svc");
    out.push(0); // end of Process
    out.push(0x19); // Batch field 2 (spans): list
    out.push(0x1c); // one struct
    compact_i64_field(&mut out, 1, 5); // traceIdLow
    compact_i64_field(&mut out, 1, 0); // traceIdHigh
    compact_i64_field(&mut out, 1, 6); // spanId
    compact_i64_field(&mut out, 1, 0); // parentSpanId
    out.push(0x18); // operationName
    compact_string(&mut out, name);
    out.push(0x25); // field 7 (flags): i32
    out.push(4); // zigzag 2
    compact_i64_field(&mut out, 1, 1_700_000_000_000_000); // startTime
    compact_i64_field(&mut out, 1, duration); // duration
    out.push(0x19); // field 10 (tags): list
    out.push(0x1c);
    out.push(0x18); // key
    compact_string(&mut out, b"k");
    out.push(0x15); // vType
    out.push(0); // STRING
    out.push(0x18); // vStr
    compact_string(&mut out, name);
    out.push(0); // end of Tag
    out.push(0); // end of Span
    out.push(0); // end of Batch
    out.push(0); // end of args
    out
}

fn compact(bytes: Vec<u8>) -> Result<Decoded, DecodeError> {
    decode_compact_emit_batch(Bytes::from(bytes))
}

#[test]
fn a_hand_built_datagram_decodes() {
    let decoded = compact(compact_emit_batch(b"GET /", -3)).unwrap();
    let span = &decoded.spans[0];
    assert_eq!(span.trace_id, 5);
    assert_eq!(span.span_id, 6);
    assert_eq!(span.flags, 2);
    assert_eq!(span.operation_name, "GET /");
    assert_eq!(
        span.duration_us, -3,
        "the decoder reports; the input sanitises"
    );
    assert_eq!(span.process.service_name, "svc");
    assert_eq!(span.tags[0].value, TagValue::String("GET /".into()));
}

#[test]
fn invalid_utf8_is_replaced_and_counted() {
    let decoded = compact(compact_emit_batch(b"a\xffb", 1)).unwrap();
    assert_eq!(decoded.spans[0].operation_name, "a\u{fffd}b");
    assert_eq!(decoded.invalid_utf8, 2);
}

#[test]
fn garbage_is_refused() {
    for garbage in [
        &b"GET / HTTP/1.1\r\n\r\n"[..],
        b"",
        b"\x82",
        b"\x82\x21",
        b"\x82\x81\x00",
        &[0xff; 64],
    ] {
        let err = decode_compact_emit_batch(Bytes::copy_from_slice(garbage)).unwrap_err();
        assert!(
            matches!(err, DecodeError::Garbage(_) | DecodeError::Truncated(_)),
            "{err}"
        );
        assert!(decode_binary_emit_batch(Bytes::copy_from_slice(garbage)).is_err());
        assert!(decode_binary_batch(Bytes::copy_from_slice(garbage)).is_err());
    }
}

#[test]
fn other_methods_are_unsupported() {
    let mut bytes = compact_header("emitZipkinBatch");
    bytes.push(0);
    assert_eq!(
        compact(bytes).unwrap_err(),
        DecodeError::Unsupported("only Agent.emitBatch calls are accepted")
    );
}

#[test]
fn huge_declared_lengths_fail_before_allocating() {
    // A string declaring 4 GiB - 1.
    let mut bytes = compact_header("emitBatch");
    bytes.extend_from_slice(&[0x1c, 0x1c, 0x18, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    assert_eq!(compact(bytes).unwrap_err().kind(), "truncated");
    // A list declaring 2^32 - 1 spans.
    let mut bytes = compact_header("emitBatch");
    bytes.extend_from_slice(&[0x1c, 0x29, 0xfc, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    assert_eq!(compact(bytes).unwrap_err().kind(), "truncated");
    // Binary: a list of 2^31 - 1 structs, and a negative string length.
    let mut body = vec![15, 0, 2, 12, 0x7f, 0xff, 0xff, 0xff];
    assert_eq!(
        decode_binary_batch(Bytes::from(body.clone()))
            .unwrap_err()
            .kind(),
        "truncated"
    );
    body = vec![11, 0, 9, 0xff, 0xff, 0xff, 0xfe];
    assert_eq!(
        decode_binary_batch(Bytes::from(body)).unwrap_err().kind(),
        "garbage"
    );
}

#[test]
fn deep_nesting_is_refused() {
    let mut bytes = compact_header("emitBatch");
    // An unknown field 2 of nested structs, each holding field 1 as the next struct.
    bytes.push(0x2c);
    bytes.extend(std::iter::repeat_n(0x1c, 10_000));
    bytes.extend(std::iter::repeat_n(0, 10_001));
    assert_eq!(compact(bytes).unwrap_err(), DecodeError::TooDeep);
    // Nested lists, in the binary protocol: field 9 of a Batch, list of list of ….
    let mut body = vec![15, 0, 9];
    for _ in 0..10_000 {
        body.extend_from_slice(&[15, 0, 0, 0, 1]);
    }
    assert_eq!(
        decode_binary_batch(Bytes::from(body)).unwrap_err(),
        DecodeError::TooDeep
    );
}

#[test]
fn unknown_type_codes_are_garbage() {
    let mut bytes = compact_header("emitBatch");
    bytes.push(0x1e); // field 1 of type 14: no such compact type
    assert_eq!(compact(bytes).unwrap_err().kind(), "garbage");
    let body = vec![17, 0, 1];
    assert_eq!(
        decode_binary_batch(Bytes::from(body)).unwrap_err().kind(),
        "garbage"
    );
}

#[test]
fn overlong_varints_are_garbage() {
    let mut bytes = compact_header("emitBatch");
    bytes.extend_from_slice(&[0x1c, 0x1c, 0x18]);
    bytes.extend_from_slice(&[0x80; 11]);
    assert_eq!(
        compact(bytes).unwrap_err(),
        DecodeError::Garbage("varint too long")
    );
}

#[test]
fn required_fields_must_be_present() {
    let mut bytes = compact_header("emitBatch");
    // A batch with a process but no spans.
    bytes.extend_from_slice(&[0x1c, 0x1c, 0x18, 1, b's', 0, 0, 0]);
    assert_eq!(
        compact(bytes).unwrap_err(),
        DecodeError::MissingField("Batch.spans")
    );
    // A span with only a trace id.
    let mut bytes = compact_header("emitBatch");
    bytes.extend_from_slice(&[0x1c, 0x1c, 0x18, 1, b's', 0, 0x19, 0x1c, 0x16, 2, 0, 0, 0]);
    assert_eq!(
        compact(bytes).unwrap_err(),
        DecodeError::MissingField("Span.traceIdHigh")
    );
}

#[test]
fn binary_messages_strict_and_old() {
    // A strict oneway emitBatch with an empty batch (process "s", no spans).
    let batch = [
        12u8, 0, 1, // batch
        12, 0, 1, 11, 0, 1, 0, 0, 0, 1, b's', 0, // process { serviceName = "s" }
        15, 0, 2, 12, 0, 0, 0, 0, // spans = []
        0, // end of Batch
        0, // end of args
    ];
    let mut strict = vec![0x80, 0x01, 0x00, 0x04, 0, 0, 0, 9];
    strict.extend_from_slice(b"emitBatch");
    strict.extend_from_slice(&[0, 0, 0, 1]);
    strict.extend_from_slice(&batch);
    assert_eq!(
        decode_binary_emit_batch(Bytes::from(strict)).unwrap().spans,
        vec![]
    );
    let mut old = vec![0, 0, 0, 9];
    old.extend_from_slice(b"emitBatch");
    old.extend_from_slice(&[4, 0, 0, 0, 1]);
    old.extend_from_slice(&batch);
    assert_eq!(
        decode_binary_emit_batch(Bytes::from(old)).unwrap().spans,
        vec![]
    );
    let mut reply = vec![0x80, 0x01, 0x00, 0x02, 0, 0, 0, 9];
    reply.extend_from_slice(b"emitBatch");
    reply.extend_from_slice(&[0, 0, 0, 1]);
    reply.extend_from_slice(&batch);
    assert_eq!(
        decode_binary_emit_batch(Bytes::from(reply))
            .unwrap_err()
            .kind(),
        "unsupported"
    );
}
