//! The Thrift binary protocol (`TBinaryProtocol`): big-endian fixed-width values, 32-bit
//! lengths. The encoding of UDP port 6832 and of `POST /api/traces` bodies.

use bytes::Bytes;

use super::protocol::{bounded_count, MessageHeader, Protocol, Ty};
use super::DecodeError;

const VERSION_1: u32 = 0x8001_0000;
const VERSION_MASK: u32 = 0xffff_0000;
const TYPE_CALL: u8 = 1;
const TYPE_ONEWAY: u8 = 4;

/// Reads binary-protocol values from one buffer.
pub struct BinaryReader {
    buf: Bytes,
    pos: usize,
}

impl BinaryReader {
    pub fn new(buf: Bytes) -> BinaryReader {
        BinaryReader { buf, pos: 0 }
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let bytes = self
            .buf
            .get(self.pos..self.pos + N)
            .ok_or(DecodeError::Truncated("input ends inside a value"))?;
        self.pos += N;
        Ok(bytes.try_into().expect("N bytes"))
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take::<1>()?[0])
    }

    fn length(&mut self) -> Result<usize, DecodeError> {
        usize::try_from(self.read_i32()?).map_err(|_| DecodeError::Garbage("negative length"))
    }

    fn slice(&mut self, len: usize) -> Result<Bytes, DecodeError> {
        if len > self.remaining() {
            return Err(DecodeError::Truncated("a string runs past the end"));
        }
        let value = self.buf.slice(self.pos..self.pos + len);
        self.pos += len;
        Ok(value)
    }

    fn value_type(code: u8) -> Result<Ty, DecodeError> {
        Ok(match code {
            2 => Ty::Bool,
            3 => Ty::Byte,
            4 => Ty::Double,
            6 => Ty::I16,
            8 => Ty::I32,
            10 => Ty::I64,
            11 => Ty::Binary,
            12 => Ty::Struct,
            13 => Ty::Map,
            14 => Ty::Set,
            15 => Ty::List,
            16 => Ty::Uuid,
            _ => return Err(DecodeError::Garbage("unknown binary type code")),
        })
    }
}

impl Protocol for BinaryReader {
    fn message_begin(&mut self) -> Result<MessageHeader, DecodeError> {
        let first = self.read_i32()?;
        let (name, kind) = if first < 0 {
            // Strict: version and type, then the name, then the sequence id.
            let word = first as u32;
            if word & VERSION_MASK != VERSION_1 {
                return Err(DecodeError::Garbage("unknown binary protocol version"));
            }
            let name = self.read_binary()?;
            (name, (word & 0xff) as u8)
        } else {
            // Old clients: the name's length first, then the name, then the type.
            let name = self.slice(first as usize)?;
            (name, self.u8()?)
        };
        let _sequence_id = self.read_i32()?;
        Ok(MessageHeader {
            name,
            is_call: kind == TYPE_CALL || kind == TYPE_ONEWAY,
        })
    }

    fn field_begin(&mut self, _last_id: &mut i16) -> Result<Option<(Ty, i16)>, DecodeError> {
        let code = self.u8()?;
        if code == 0 {
            return Ok(None);
        }
        let ty = Self::value_type(code)?;
        Ok(Some((ty, self.read_i16()?)))
    }

    fn read_bool(&mut self) -> Result<bool, DecodeError> {
        Ok(self.u8()? != 0)
    }

    fn read_byte(&mut self) -> Result<i8, DecodeError> {
        Ok(self.u8()? as i8)
    }

    fn read_i16(&mut self) -> Result<i16, DecodeError> {
        Ok(i16::from_be_bytes(self.take()?))
    }

    fn read_i32(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.take()?))
    }

    fn read_i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.take()?))
    }

    fn read_double(&mut self) -> Result<f64, DecodeError> {
        Ok(f64::from_be_bytes(self.take()?))
    }

    fn read_binary(&mut self) -> Result<Bytes, DecodeError> {
        let len = self.length()?;
        self.slice(len)
    }

    fn read_uuid(&mut self) -> Result<(), DecodeError> {
        self.take::<16>().map(drop)
    }

    fn list_begin(&mut self) -> Result<(Ty, usize), DecodeError> {
        let elem = Self::value_type(self.u8()?)?;
        let n = self.length()?;
        Ok((elem, bounded_count(n, self.remaining())?))
    }

    fn map_begin(&mut self) -> Result<(Ty, Ty, usize), DecodeError> {
        let key = Self::value_type(self.u8()?)?;
        let value = Self::value_type(self.u8()?)?;
        let n = self.length()?;
        Ok((key, value, bounded_count(n, self.remaining())?))
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
}
