//! Jaeger's Thrift wire formats, decoded straight into [`Span`]s.
//!
//! Just enough of Apache Thrift to read what Jaeger clients send: the `Agent.emitBatch(Batch)`
//! message in the compact protocol (UDP 6831) and the binary protocol (UDP 6832), and a bare
//! binary `Batch` (HTTP `POST /api/traces`). We do not use the `thrift` crate here: it
//! allocates a `String` per string and trusts declared lengths.
//!
//! What the decoders promise, whatever the bytes:
//! - strings and binary tag values are [`Bytes`] slices of the input, never copies (invalid
//!   UTF-8 is the exception: it is replaced, copied, and counted in [`Decoded::invalid_utf8`]);
//! - a declared length or element count is checked against the bytes left before anything is
//!   allocated for it, and a list preallocates at most [`PREALLOCATE`] elements, so memory
//!   follows the input's real size;
//! - unknown fields of every type are skipped (clients newer than `jaeger.thrift` stay
//!   readable), nesting at most [`MAX_DEPTH`] deep;
//! - the fields `jaeger.thrift` marks `required` must be present, as Jaeger's own decoder
//!   insists.
//!
//! [`protocol`] holds the two protocols behind one [`protocol::Protocol`] trait; [`jaeger`]
//! reads `jaeger.thrift`'s structs through it.

mod binary;
mod compact;
mod jaeger;
mod protocol;

use bytes::Bytes;

pub use binary::BinaryReader;
pub use compact::CompactReader;

use crate::traces::model::Span;

/// How deep structs, lists and maps may nest, counted from the message; `jaeger.thrift`
/// itself needs four levels, the rest is room for extensions we skip.
pub const MAX_DEPTH: usize = 32;

/// The most elements a list reserves room for before they are read; a longer list grows as
/// its elements actually arrive.
pub const PREALLOCATE: usize = 256;

/// The spans of one Thrift `Batch`.
#[derive(Debug, Default, PartialEq)]
pub struct Decoded {
    pub spans: Vec<Span>,
    /// Strings that were not UTF-8 and were decoded lossily.
    pub invalid_utf8: usize,
}

/// Why bytes are not a Jaeger Thrift batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ends inside a value, or a declared length runs past its end.
    #[error("truncated: {0}")]
    Truncated(&'static str),
    /// Bytes no Thrift writer produces: unknown type codes, bad headers, overlong varints.
    #[error("not Thrift: {0}")]
    Garbage(&'static str),
    /// Thrift, but not a message we serve (e.g. `emitZipkinBatch`).
    #[error("unsupported message: {0}")]
    Unsupported(&'static str),
    #[error("nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("required field {0} is missing")]
    MissingField(&'static str),
}

impl DecodeError {
    /// A short label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            DecodeError::Truncated(_) => "truncated",
            DecodeError::Garbage(_) => "garbage",
            DecodeError::Unsupported(_) => "unsupported",
            DecodeError::TooDeep => "too_deep",
            DecodeError::MissingField(_) => "missing_field",
        }
    }
}

/// Decodes a compact-protocol `Agent.emitBatch` message: a UDP 6831 datagram.
pub fn decode_compact_emit_batch(datagram: Bytes) -> Result<Decoded, DecodeError> {
    jaeger::emit_batch(CompactReader::new(datagram))
}

/// Decodes a binary-protocol `Agent.emitBatch` message: a UDP 6832 datagram.
pub fn decode_binary_emit_batch(datagram: Bytes) -> Result<Decoded, DecodeError> {
    jaeger::emit_batch(BinaryReader::new(datagram))
}

/// Decodes a bare binary-protocol `Batch`: the body of `POST /api/traces`.
pub fn decode_binary_batch(body: Bytes) -> Result<Decoded, DecodeError> {
    jaeger::bare_batch(BinaryReader::new(body))
}

#[cfg(test)]
mod tests;
