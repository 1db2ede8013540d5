//! What the Jaeger struct reader needs from a Thrift protocol, and skipping values of any type.

use bytes::Bytes;

use super::{DecodeError, MAX_DEPTH};

/// A Thrift value type, whichever protocol's code it was written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Bool,
    Byte,
    I16,
    I32,
    I64,
    Double,
    Binary,
    Struct,
    Map,
    Set,
    List,
    Uuid,
}

/// A message header: its name and whether it is a call.
pub struct MessageHeader {
    pub name: Bytes,
    /// `CALL` or `ONEWAY`; replies and exceptions are not sent to a collector.
    pub is_call: bool,
}

/// A reader of one protocol over one input buffer.
pub trait Protocol {
    fn message_begin(&mut self) -> Result<MessageHeader, DecodeError>;
    /// The next field's type and id, or `None` at the struct's end. `last_id` is the previous
    /// field id of the same struct (the compact protocol writes ids as deltas).
    fn field_begin(&mut self, last_id: &mut i16) -> Result<Option<(Ty, i16)>, DecodeError>;
    fn read_bool(&mut self) -> Result<bool, DecodeError>;
    fn read_byte(&mut self) -> Result<i8, DecodeError>;
    fn read_i16(&mut self) -> Result<i16, DecodeError>;
    fn read_i32(&mut self) -> Result<i32, DecodeError>;
    fn read_i64(&mut self) -> Result<i64, DecodeError>;
    fn read_double(&mut self) -> Result<f64, DecodeError>;
    /// A string or binary value: a slice of the input.
    fn read_binary(&mut self) -> Result<Bytes, DecodeError>;
    fn read_uuid(&mut self) -> Result<(), DecodeError>;
    /// A list's or set's element type and length; the length is at most the bytes left, as
    /// every element takes at least one byte.
    fn list_begin(&mut self) -> Result<(Ty, usize), DecodeError>;
    /// A map's key and value types and length, bounded as for lists.
    fn map_begin(&mut self) -> Result<(Ty, Ty, usize), DecodeError>;
    /// Bytes not read yet.
    fn remaining(&self) -> usize;
}

/// Checks a declared element count against the bytes left (each element takes at least one).
pub fn bounded_count(count: usize, remaining: usize) -> Result<usize, DecodeError> {
    if count > remaining {
        return Err(DecodeError::Truncated(
            "a collection declares more elements than bytes remain",
        ));
    }
    Ok(count)
}

/// Reads past one value of type `ty` found `depth` levels down.
pub fn skip<P: Protocol>(p: &mut P, ty: Ty, depth: usize) -> Result<(), DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError::TooDeep);
    }
    match ty {
        Ty::Bool => p.read_bool().map(drop),
        Ty::Byte => p.read_byte().map(drop),
        Ty::I16 => p.read_i16().map(drop),
        Ty::I32 => p.read_i32().map(drop),
        Ty::I64 => p.read_i64().map(drop),
        Ty::Double => p.read_double().map(drop),
        Ty::Binary => p.read_binary().map(drop),
        Ty::Uuid => p.read_uuid(),
        Ty::Struct => {
            let mut last = 0;
            while let Some((ty, _)) = p.field_begin(&mut last)? {
                skip(p, ty, depth + 1)?;
            }
            Ok(())
        }
        Ty::List | Ty::Set => {
            let (elem, n) = p.list_begin()?;
            for _ in 0..n {
                skip(p, elem, depth + 1)?;
            }
            Ok(())
        }
        Ty::Map => {
            let (key, value, n) = p.map_begin()?;
            for _ in 0..n {
                skip(p, key, depth + 1)?;
                skip(p, value, depth + 1)?;
            }
            Ok(())
        }
    }
}
