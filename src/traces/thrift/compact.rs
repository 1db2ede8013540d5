//! The Thrift compact protocol (`TCompactProtocol`): zigzag varints, field-id deltas, booleans
//! folded into field headers. The encoding of UDP port 6831.

use bytes::Bytes;

use super::protocol::{bounded_count, MessageHeader, Protocol, Ty};
use super::DecodeError;

const PROTOCOL_ID: u8 = 0x82;
const VERSION: u8 = 1;
const TYPE_CALL: u8 = 1;
const TYPE_ONEWAY: u8 = 4;

/// Reads compact-protocol values from one buffer.
pub struct CompactReader {
    buf: Bytes,
    pos: usize,
    /// A boolean field carries its value in its header; it waits here for `read_bool`.
    pending_bool: Option<bool>,
}

impl CompactReader {
    pub fn new(buf: Bytes) -> CompactReader {
        CompactReader {
            buf,
            pos: 0,
            pending_bool: None,
        }
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or(DecodeError::Truncated("input ends inside a value"))?;
        self.pos += 1;
        Ok(b)
    }

    /// An unsigned LEB128 varint of at most `max_bytes` bytes.
    fn varint(&mut self, max_bytes: u32) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for i in 0..max_bytes {
            let b = self.u8()?;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::Garbage("varint too long"))
    }

    fn zigzag(&mut self, max_bytes: u32) -> Result<i64, DecodeError> {
        let n = self.varint(max_bytes)?;
        Ok((n >> 1) as i64 ^ -((n & 1) as i64))
    }

    fn length(&mut self) -> Result<usize, DecodeError> {
        let n = self.varint(5)?;
        usize::try_from(n).map_err(|_| DecodeError::Garbage("length too large"))
    }

    fn element_type(code: u8) -> Result<Ty, DecodeError> {
        Ok(match code {
            // In collections both codes mean "bool"; each element is then one byte.
            1 | 2 => Ty::Bool,
            3 => Ty::Byte,
            4 => Ty::I16,
            5 => Ty::I32,
            6 => Ty::I64,
            7 => Ty::Double,
            8 => Ty::Binary,
            9 => Ty::List,
            10 => Ty::Set,
            11 => Ty::Map,
            12 => Ty::Struct,
            13 => Ty::Uuid,
            _ => return Err(DecodeError::Garbage("unknown compact type code")),
        })
    }
}

impl Protocol for CompactReader {
    fn message_begin(&mut self) -> Result<MessageHeader, DecodeError> {
        if self.u8()? != PROTOCOL_ID {
            return Err(DecodeError::Garbage("not a compact protocol message"));
        }
        let version_and_type = self.u8()?;
        if version_and_type & 0x1f != VERSION {
            return Err(DecodeError::Garbage("unknown compact protocol version"));
        }
        let kind = version_and_type >> 5;
        let _sequence_id = self.varint(5)?;
        let name = self.read_binary()?;
        Ok(MessageHeader {
            name,
            is_call: kind == TYPE_CALL || kind == TYPE_ONEWAY,
        })
    }

    fn field_begin(&mut self, last_id: &mut i16) -> Result<Option<(Ty, i16)>, DecodeError> {
        let header = self.u8()?;
        if header == 0 {
            return Ok(None);
        }
        let code = header & 0x0f;
        let delta = header >> 4;
        let id = if delta == 0 {
            i16::try_from(self.zigzag(3)?).map_err(|_| DecodeError::Garbage("field id"))?
        } else {
            last_id
                .checked_add(i16::from(delta))
                .ok_or(DecodeError::Garbage("field id"))?
        };
        *last_id = id;
        let ty = match code {
            1 | 2 => {
                self.pending_bool = Some(code == 1);
                Ty::Bool
            }
            _ => Self::element_type(code)?,
        };
        Ok(Some((ty, id)))
    }

    fn read_bool(&mut self) -> Result<bool, DecodeError> {
        if let Some(value) = self.pending_bool.take() {
            return Ok(value);
        }
        match self.u8()? {
            1 => Ok(true),
            0 | 2 => Ok(false),
            _ => Err(DecodeError::Garbage("bool element")),
        }
    }

    fn read_byte(&mut self) -> Result<i8, DecodeError> {
        Ok(self.u8()? as i8)
    }

    fn read_i16(&mut self) -> Result<i16, DecodeError> {
        i16::try_from(self.zigzag(3)?).map_err(|_| DecodeError::Garbage("i16 out of range"))
    }

    fn read_i32(&mut self) -> Result<i32, DecodeError> {
        i32::try_from(self.zigzag(5)?).map_err(|_| DecodeError::Garbage("i32 out of range"))
    }

    fn read_i64(&mut self) -> Result<i64, DecodeError> {
        self.zigzag(10)
    }

    fn read_double(&mut self) -> Result<f64, DecodeError> {
        let bytes = self
            .buf
            .get(self.pos..self.pos + 8)
            .ok_or(DecodeError::Truncated("input ends inside a double"))?;
        self.pos += 8;
        Ok(f64::from_le_bytes(bytes.try_into().expect("8 bytes")))
    }

    fn read_binary(&mut self) -> Result<Bytes, DecodeError> {
        let len = self.length()?;
        if len > self.remaining() {
            return Err(DecodeError::Truncated("a string runs past the end"));
        }
        let value = self.buf.slice(self.pos..self.pos + len);
        self.pos += len;
        Ok(value)
    }

    fn read_uuid(&mut self) -> Result<(), DecodeError> {
        if self.remaining() < 16 {
            return Err(DecodeError::Truncated("input ends inside a uuid"));
        }
        self.pos += 16;
        Ok(())
    }

    fn list_begin(&mut self) -> Result<(Ty, usize), DecodeError> {
        let header = self.u8()?;
        let elem = Self::element_type(header & 0x0f)?;
        let short = usize::from(header >> 4);
        let n = if short == 15 { self.length()? } else { short };
        Ok((elem, bounded_count(n, self.remaining())?))
    }

    fn map_begin(&mut self) -> Result<(Ty, Ty, usize), DecodeError> {
        let n = self.length()?;
        if n == 0 {
            return Ok((Ty::Bool, Ty::Bool, 0));
        }
        let types = self.u8()?;
        let key = Self::element_type(types >> 4)?;
        let value = Self::element_type(types & 0x0f)?;
        Ok((key, value, bounded_count(n, self.remaining())?))
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
}
