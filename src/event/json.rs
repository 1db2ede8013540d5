//! JSON for events: an encoder that writes straight from the tree (strings from their
//! `Bytes`, untouched by any intermediate value type), and a zero-copy decoder.
//!
//! The decoder validates the whole input as UTF-8 once, then hands out strings without
//! escapes as `Text` slices of the input buffer: decoding a typical log line allocates only
//! the vectors of its objects and arrays, plus one buffer per string that has escapes. It
//! runs in linear time (object keys are de-duplicated in O(n log n)), keeps its own stack
//! instead of recursing, and refuses nesting deeper than [`MAX_DEPTH`].

use super::{write_timestamp, Event, Object, Text, Value};
use bytes::Bytes;

/// Appends `event` as one JSON object: its fields, never its `@metadata`.
pub fn encode_event(event: &Event, out: &mut Vec<u8>) {
    encode_object(event.fields(), out);
}

pub fn encode_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Boolean(true) => out.extend_from_slice(b"true"),
        Value::Boolean(false) => out.extend_from_slice(b"false"),
        Value::Integer(i) => out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
        Value::Float(f) => encode_float(*f, out),
        Value::String(t) => encode_str(t, out),
        Value::Timestamp(ts) => {
            let mut s = String::with_capacity(30);
            write_timestamp(ts, &mut s);
            out.push(b'"');
            out.extend_from_slice(s.as_bytes());
            out.push(b'"');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                encode_value(item, out);
            }
            out.push(b']');
        }
        Value::Object(o) => encode_object(o, out),
    }
}

pub fn encode_object(object: &Object, out: &mut Vec<u8>) {
    out.push(b'{');
    for (i, (key, value)) in object.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        encode_str(key, out);
        out.push(b':');
        encode_value(value, out);
    }
    out.push(b'}');
}

/// JSON has no NaN or infinities; they are written as `null`, as serde_json does.
fn encode_float(f: f64, out: &mut Vec<u8>) {
    if f.is_finite() {
        super::value::float_text(f, |text| out.extend_from_slice(text.as_bytes()));
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Bytes that must be escaped inside a JSON string: controls, `"` and `\`.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = true;
        i += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Whether any byte of `word` is a control, `"` or `\\` (the bit tricks of "Bit Twiddling
/// Hacks": a byte less than n, a byte equal to zero after an XOR).
fn word_needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let less_than = |n: u64| word.wrapping_sub(ONES * n) & !word & HIGH;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    less_than(0x20) | zero(word ^ (ONES * u64::from(b'"'))) | zero(word ^ (ONES * u64::from(b'\\')))
        != 0
}

/// Writes `s` as a JSON string, copying runs that need no escaping in one go.
pub fn encode_str(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Eight bytes at a time while none needs escaping: most strings have no such byte.
        if let Some(word) = bytes.get(i..i + 8) {
            if !word_needs_escape(u64::from_le_bytes(word.try_into().expect("8 bytes"))) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        if NEEDS_ESCAPE[b as usize] {
            out.extend_from_slice(&bytes[start..i]);
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0c => out.extend_from_slice(b"\\f"),
                _ => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[(b >> 4) as usize]);
                    out.push(HEX[(b & 0xf) as usize]);
                }
            }
            start = i + 1;
        }
        i += 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// The deepest nesting of arrays and objects the decoder accepts. Real events nest a handful
/// of levels; the limit keeps hostile input from growing the decoder's stack without bound.
pub const MAX_DEPTH: usize = 128;

/// Why a document was refused, and the byte offset where the decoder noticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct JsonError {
    pub kind: JsonErrorKind,
    pub offset: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JsonErrorKind {
    #[error("invalid UTF-8")]
    InvalidUtf8,
    #[error("unexpected end of input")]
    UnexpectedEnd,
    #[error("expected a value")]
    ExpectedValue,
    #[error("expected an object")]
    ExpectedObject,
    #[error("expected a string as object key")]
    ExpectedKey,
    #[error("expected `:` after object key")]
    ExpectedColon,
    #[error("expected `,` or `}}` after object member")]
    ExpectedObjectCommaOrEnd,
    #[error("expected `,` or `]` after array element")]
    ExpectedArrayCommaOrEnd,
    #[error("invalid literal, expected `true`, `false` or `null`")]
    InvalidLiteral,
    #[error("unterminated string starting")]
    UnterminatedString,
    #[error("unescaped control character in string")]
    ControlCharacter,
    #[error("invalid escape")]
    InvalidEscape,
    #[error("lone surrogate in `\\u` escape")]
    LoneSurrogate,
    #[error("invalid number")]
    InvalidNumber,
    #[error("number out of range")]
    NumberOutOfRange,
    #[error("nesting deeper than 128 levels")]
    TooDeep,
    #[error("trailing characters")]
    TrailingCharacters,
}

/// Decodes one JSON value; the input may have whitespace around it and nothing else.
///
/// Strings without escapes share `input`'s buffer. Integers that fit an `i64` become
/// [`Value::Integer`], every other number a [`Value::Float`]. Repeated object keys keep the
/// last value (at the first key's position).
///
/// Choices where JSON leaves room, made as serde_json makes them: a `\u` escape naming a lone
/// surrogate is an error (not U+FFFD), and a number too large for an `f64` (`1e400`) is an
/// error (not infinity); one too small for an `f64` (`1e-400`) becomes `0.0`. Unlike
/// serde_json, `-0` is the integer `0` (as Logstash's Jackson reads it) and nesting may go
/// [`MAX_DEPTH`] levels deep (serde_json stops at 127).
pub fn decode_value(input: &Bytes) -> Result<Value, JsonError> {
    Decoder::new(input)?.document()
}

/// Decodes a JSON document that must be an object, such as one event.
pub fn decode_object(input: &Bytes) -> Result<Object, JsonError> {
    let mut decoder = Decoder::new(input)?;
    decoder.skip_whitespace();
    match decoder.peek() {
        Some(b'{') => {}
        Some(_) => return Err(decoder.error(JsonErrorKind::ExpectedObject)),
        None => return Err(decoder.error(JsonErrorKind::UnexpectedEnd)),
    }
    match decoder.document()? {
        Value::Object(object) => Ok(object),
        _ => unreachable!("a document starting with `{{` is an object"),
    }
}

/// An array or object whose members are still being read.
/// An open container. Its members so far wait in the thread's [`Scratch`], from `start` on,
/// so each container is allocated once, at its exact size, when it closes.
enum Frame {
    Array {
        start: usize,
    },
    /// The key whose value is being read.
    Object {
        start: usize,
        key: Text,
    },
}

/// Members of open containers, and the open containers themselves; reused by every decode
/// on a thread, so decoding allocates nothing but the finished containers.
#[derive(Default)]
struct Scratch {
    frames: Vec<Frame>,
    items: Vec<Value>,
    entries: Vec<(Text, Value)>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

struct Decoder<'a> {
    /// The whole input, checked to be UTF-8 once, up front: any slice of it between ASCII
    /// delimiters is then a valid `Text` without checking again.
    whole: Text,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    fn new(input: &'a Bytes) -> Result<Decoder<'a>, JsonError> {
        let whole = Text::from_utf8(input.clone()).map_err(|e| JsonError {
            kind: JsonErrorKind::InvalidUtf8,
            offset: e.valid_up_to(),
        })?;
        Ok(Decoder {
            whole,
            bytes: input,
            pos: 0,
        })
    }

    fn error(&self, kind: JsonErrorKind) -> JsonError {
        self.error_at(kind, self.pos)
    }

    fn error_at(&self, kind: JsonErrorKind, offset: usize) -> JsonError {
        JsonError { kind, offset }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    /// One value and nothing after it but whitespace.
    fn document(&mut self) -> Result<Value, JsonError> {
        let value = self.value()?;
        self.skip_whitespace();
        if self.pos < self.bytes.len() {
            return Err(self.error(JsonErrorKind::TrailingCharacters));
        }
        Ok(value)
    }

    /// Reads one value, nested ones included, with an explicit stack so that depth costs
    /// heap (bounded by `MAX_DEPTH`), never the thread's stack.
    fn value(&mut self) -> Result<Value, JsonError> {
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => {
                let result = self.value_with(&mut scratch);
                // After an error, members of unclosed containers are left: release them now
                // rather than hold their buffers until the next decode.
                scratch.frames.clear();
                scratch.items.clear();
                scratch.entries.clear();
                result
            }
            // Only reachable if decoding were re-entered on this thread; stay correct anyway.
            Err(_) => self.value_with(&mut Scratch::default()),
        })
    }

    fn value_with(&mut self, scratch: &mut Scratch) -> Result<Value, JsonError> {
        let base = scratch.frames.len();
        'value: loop {
            self.skip_whitespace();
            let mut value = match self.peek() {
                None => return Err(self.error(JsonErrorKind::UnexpectedEnd)),
                Some(b'"') => Value::String(self.string()?),
                Some(b'-' | b'0'..=b'9') => self.number()?,
                Some(b't') => self.literal("true", Value::Boolean(true))?,
                Some(b'f') => self.literal("false", Value::Boolean(false))?,
                Some(b'n') => self.literal("null", Value::Null)?,
                Some(open @ (b'[' | b'{')) => {
                    if scratch.frames.len() - base >= MAX_DEPTH {
                        return Err(self.error(JsonErrorKind::TooDeep));
                    }
                    self.pos += 1;
                    self.skip_whitespace();
                    if open == b'[' {
                        if self.peek() == Some(b']') {
                            self.pos += 1;
                            Value::Array(Vec::new())
                        } else {
                            let start = scratch.items.len();
                            scratch.frames.push(Frame::Array { start });
                            continue 'value;
                        }
                    } else if self.peek() == Some(b'}') {
                        self.pos += 1;
                        Value::Object(Object::new())
                    } else {
                        let key = self.key()?;
                        let start = scratch.entries.len();
                        scratch.frames.push(Frame::Object { start, key });
                        continue 'value;
                    }
                }
                Some(_) => return Err(self.error(JsonErrorKind::ExpectedValue)),
            };
            // `value` is complete: hand it to its container, closing every container that
            // ends right after it.
            loop {
                if scratch.frames.len() == base {
                    return Ok(value);
                }
                self.skip_whitespace();
                let next = self.peek();
                let frame = scratch.frames.last_mut().expect("above base");
                match frame {
                    Frame::Array { .. } => {
                        scratch.items.push(value);
                        match next {
                            Some(b',') => {
                                self.pos += 1;
                                continue 'value;
                            }
                            Some(b']') => {}
                            None => return Err(self.error(JsonErrorKind::UnexpectedEnd)),
                            Some(_) => {
                                return Err(self.error(JsonErrorKind::ExpectedArrayCommaOrEnd))
                            }
                        }
                    }
                    Frame::Object { key, .. } => {
                        scratch.entries.push((std::mem::take(key), value));
                        match next {
                            Some(b',') => {
                                self.pos += 1;
                                self.skip_whitespace();
                                *key = self.key()?;
                                continue 'value;
                            }
                            Some(b'}') => {}
                            None => return Err(self.error(JsonErrorKind::UnexpectedEnd)),
                            Some(_) => {
                                return Err(self.error(JsonErrorKind::ExpectedObjectCommaOrEnd))
                            }
                        }
                    }
                }
                self.pos += 1;
                value = match scratch.frames.pop() {
                    Some(Frame::Array { start }) => {
                        Value::Array(scratch.items.drain(start..).collect())
                    }
                    // Collecting de-duplicates the keys.
                    Some(Frame::Object { start, .. }) => {
                        Value::Object(scratch.entries.drain(start..).collect())
                    }
                    None => unreachable!("the frame was just looked at"),
                };
            }
        }
    }

    /// An object key and the `:` after it; the decoder stands on the key's opening quote.
    fn key(&mut self) -> Result<Text, JsonError> {
        match self.peek() {
            Some(b'"') => {}
            None => return Err(self.error(JsonErrorKind::UnexpectedEnd)),
            Some(_) => return Err(self.error(JsonErrorKind::ExpectedKey)),
        }
        let key = self.string()?;
        self.skip_whitespace();
        match self.peek() {
            Some(b':') => {
                self.pos += 1;
                Ok(key)
            }
            None => Err(self.error(JsonErrorKind::UnexpectedEnd)),
            Some(_) => Err(self.error(JsonErrorKind::ExpectedColon)),
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, JsonError> {
        let end = self.pos + word.len();
        match self.bytes.get(self.pos..end) {
            Some(found) if found == word.as_bytes() => {
                self.pos = end;
                Ok(value)
            }
            // A prefix of the word running into the end of input is a truncation.
            _ if word.as_bytes().starts_with(&self.bytes[self.pos..]) => {
                Err(self.error_at(JsonErrorKind::UnexpectedEnd, self.bytes.len()))
            }
            _ => Err(self.error(JsonErrorKind::InvalidLiteral)),
        }
    }

    /// A string; the decoder stands on its opening quote. Without escapes the result is a
    /// slice of the input; with them, the string is unescaped into a new buffer.
    fn string(&mut self) -> Result<Text, JsonError> {
        let open = self.pos;
        let start = open + 1;
        let mut run_start = start;
        let mut unescaped: Option<String> = None;
        loop {
            let Some(found) = memchr::memchr2(b'"', b'\\', &self.bytes[run_start..]) else {
                return Err(self.error_at(JsonErrorKind::UnterminatedString, open));
            };
            let end = run_start + found;
            if let Some(bad) = first_control(&self.bytes[run_start..end]) {
                return Err(self.error_at(JsonErrorKind::ControlCharacter, run_start + bad));
            }
            if self.bytes[end] == b'"' {
                self.pos = end + 1;
                return Ok(match unescaped {
                    None => self.whole.slice_ref(&self.whole[start..end]),
                    Some(mut buf) => {
                        buf.push_str(&self.whole[run_start..end]);
                        Text::from(buf)
                    }
                });
            }
            let buf = unescaped.get_or_insert_with(|| String::with_capacity(end - start + 16));
            buf.push_str(&self.whole[run_start..end]);
            run_start = self.escape(end, buf, open)?;
        }
    }

    /// Appends the character of the escape at `at` (a backslash) to `buf`; returns the
    /// offset just after it.
    fn escape(&self, at: usize, buf: &mut String, open: usize) -> Result<usize, JsonError> {
        let Some(&kind) = self.bytes.get(at + 1) else {
            return Err(self.error_at(JsonErrorKind::UnterminatedString, open));
        };
        let c = match kind {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4(at + 2, open)?;
                let (c, end) = match first {
                    0xD800..=0xDBFF => {
                        let rest = &self.bytes[(at + 6).min(self.bytes.len())..];
                        if !rest.starts_with(b"\\u") {
                            // Input ending inside what could still be the low half is a
                            // truncation, anything else a lone high surrogate.
                            return Err(if b"\\u".starts_with(rest) {
                                self.error_at(JsonErrorKind::UnterminatedString, open)
                            } else {
                                self.error_at(JsonErrorKind::LoneSurrogate, at)
                            });
                        }
                        let second = self.hex4(at + 8, open)?;
                        if !(0xDC00..=0xDFFF).contains(&second) {
                            return Err(self.error_at(JsonErrorKind::LoneSurrogate, at));
                        }
                        let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                        (char::from_u32(code), at + 12)
                    }
                    0xDC00..=0xDFFF => {
                        return Err(self.error_at(JsonErrorKind::LoneSurrogate, at));
                    }
                    _ => (char::from_u32(first), at + 6),
                };
                // Every code point outside the surrogate range is a `char`.
                buf.push(c.unwrap_or(char::REPLACEMENT_CHARACTER));
                return Ok(end);
            }
            _ => return Err(self.error_at(JsonErrorKind::InvalidEscape, at)),
        };
        buf.push(c);
        Ok(at + 2)
    }

    /// The four hex digits at `at`, as a number.
    fn hex4(&self, at: usize, open: usize) -> Result<u32, JsonError> {
        let Some(digits) = self.bytes.get(at..at + 4) else {
            // Either the escape is cut short by the end of input, or a closing quote comes
            // early (`"\u12"`): both are judged by the first byte that is not a hex digit.
            return match self.bytes[at.min(self.bytes.len())..]
                .iter()
                .position(|b| !b.is_ascii_hexdigit())
            {
                Some(i) => Err(self.error_at(JsonErrorKind::InvalidEscape, at + i)),
                None => Err(self.error_at(JsonErrorKind::UnterminatedString, open)),
            };
        };
        let mut code = 0;
        for (i, &d) in digits.iter().enumerate() {
            let Some(v) = (d as char).to_digit(16) else {
                return Err(self.error_at(JsonErrorKind::InvalidEscape, at + i));
            };
            code = code * 16 + v;
        }
        Ok(code)
    }

    /// A number, checked against JSON's grammar before anything converts it, so that the
    /// float parser only ever sees `-?int(.frac)?(e[+-]?exp)?`.
    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        // The magnitude, while it fits: enough to tell whether an integer fits an i64.
        let mut magnitude: u64 = 0;
        let mut overflow = false;
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.error(JsonErrorKind::InvalidNumber));
                }
            }
            Some(b'1'..=b'9') => {
                while let Some(d @ b'0'..=b'9') = self.peek() {
                    match magnitude
                        .checked_mul(10)
                        .and_then(|m| m.checked_add(u64::from(d - b'0')))
                    {
                        Some(m) => magnitude = m,
                        None => overflow = true,
                    }
                    self.pos += 1;
                }
            }
            None => return Err(self.error(JsonErrorKind::UnexpectedEnd)),
            Some(_) => return Err(self.error(JsonErrorKind::InvalidNumber)),
        }
        let mut integral = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            integral = false;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            integral = false;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.digits()?;
        }
        if integral && !overflow {
            if !negative && magnitude <= i64::MAX as u64 {
                return Ok(Value::Integer(magnitude as i64));
            }
            if negative && magnitude <= i64::MIN.unsigned_abs() {
                return Ok(Value::Integer(0i64.wrapping_sub_unsigned(magnitude)));
            }
        }
        let parsed: f64 = self.whole[start..self.pos]
            .parse()
            .map_err(|_| self.error_at(JsonErrorKind::InvalidNumber, start))?;
        if parsed.is_infinite() {
            return Err(self.error_at(JsonErrorKind::NumberOutOfRange, start));
        }
        Ok(Value::Float(parsed))
    }

    /// One or more decimal digits.
    fn digits(&mut self) -> Result<(), JsonError> {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(match self.peek() {
                None => self.error(JsonErrorKind::UnexpectedEnd),
                Some(_) => self.error(JsonErrorKind::InvalidNumber),
            });
        }
        Ok(())
    }
}

/// The index of the first byte below 0x20 (which JSON strings must escape). Checks 16 bytes
/// at a time without branching so the compiler can vectorise the common, clean case.
fn first_control(run: &[u8]) -> Option<usize> {
    let mut chunks = run.chunks_exact(16);
    let mut offset = 0;
    for chunk in &mut chunks {
        if chunk.iter().fold(false, |any, &b| any | (b < 0x20)) {
            break;
        }
        offset += 16;
    }
    run[offset..]
        .iter()
        .position(|&b| b < 0x20)
        .map(|i| offset + i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::FieldRef;

    #[test]
    fn the_word_at_a_time_scan_escapes_exactly_what_the_byte_table_does() {
        // Every byte value at every position of a 17-byte string (two words and a tail),
        // against serde_json, which escapes the same set the same way.
        for special in 0..=255u8 {
            let Ok(c) = std::str::from_utf8(&[special]).map(str::to_owned) else {
                continue;
            };
            for at in 0..17 {
                let mut s: String = "abcdefghijklmnopq".into();
                s.replace_range(at..at + 1, &c);
                let mut out = Vec::new();
                encode_str(&s, &mut out);
                let expected = serde_json::to_string(&s).unwrap();
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    expected,
                    "{special:#x} at {at}"
                );
            }
        }
        let multibyte = "añ€😀\u{7f}\u{80}ÿ".repeat(3);
        let mut out = Vec::new();
        encode_str(&multibyte, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string(&multibyte).unwrap()
        );
    }

    #[test]
    fn escapes_what_json_requires() {
        let mut out = Vec::new();
        encode_str("a\"b\\c\nd\u{1}é", &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), r#""a\"b\\c\nd\u0001é""#);
    }

    #[test]
    fn metadata_is_never_encoded() {
        let mut fields = Object::new();
        fields.insert(Text::from("message"), "hi".into());
        fields.insert(Text::from("n"), Value::Float(2.0));
        let mut event = Event::new(fields);
        event.insert(&FieldRef::parse("[@metadata][secret]").unwrap(), "x".into());
        let ts = event.timestamp().unwrap();
        event.set_timestamp(ts);
        let mut out = Vec::new();
        encode_event(&event, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(r#"{"message":"hi","n":2.0,"@timestamp":""#),
            "{text}"
        );
        assert!(!text.contains("secret"));
    }

    fn decode(s: &str) -> Result<Value, JsonError> {
        decode_value(&Bytes::copy_from_slice(s.as_bytes()))
    }

    fn error(s: &[u8]) -> String {
        decode_value(&Bytes::copy_from_slice(s))
            .unwrap_err()
            .to_string()
    }

    fn roundtrip(value: &Value) -> Value {
        let mut out = Vec::new();
        encode_value(value, &mut out);
        decode_value(&Bytes::from(out)).unwrap()
    }

    #[test]
    fn decodes_every_kind_of_value() {
        let value =
            decode(r#" {"a": [1, -2.5, true, false, null, "x"], "b": {"c": {}} , "d": []} "#)
                .unwrap();
        let object = value.as_object().unwrap();
        assert_eq!(
            object.get("a").unwrap().as_array().unwrap(),
            [
                Value::Integer(1),
                Value::Float(-2.5),
                Value::Boolean(true),
                Value::Boolean(false),
                Value::Null,
                "x".into()
            ]
        );
        let b = object.get("b").unwrap().as_object().unwrap();
        assert!(b.get("c").unwrap().as_object().unwrap().is_empty());
        assert_eq!(object.get("d"), Some(&Value::Array(Vec::new())));
    }

    #[test]
    fn strings_without_escapes_share_the_input() {
        let input = Bytes::from_static(br#"{"message":"hello","k\u0065y":"a\nb"}"#);
        let object = decode_object(&input).unwrap();
        let range = input.as_ptr_range();
        let inside = |t: &Text| range.contains(&t.as_bytes().as_ptr());
        let (key, message) = object.iter().next().unwrap();
        assert!(inside(key));
        assert!(inside(message.as_text().unwrap()));
        let (key, value) = object.iter().nth(1).unwrap();
        assert_eq!(key, "key");
        assert_eq!(value.as_str(), Some("a\nb"));
        assert!(!inside(key));
    }

    #[test]
    fn round_trips_through_the_encoder() {
        let mut inner = Object::new();
        inner.insert("quote\"back\\slash".into(), "tab\tnl\nnul\u{0}é😀".into());
        inner.insert(
            "".into(),
            Value::Array(vec![Value::Null, Value::Float(0.1)]),
        );
        let mut object = Object::new();
        object.insert("inner".into(), Value::Object(inner));
        for n in [0, i64::MIN, i64::MAX, -1] {
            object.insert(format!("i{n}").into(), n.into());
        }
        for (i, f) in [1.0, -2.5, 1e300, 5e-324, 1e16, 123456.789, f64::MAX]
            .into_iter()
            .enumerate()
        {
            object.insert(format!("f{i}").into(), f.into());
        }
        let value = Value::Object(object);
        assert_eq!(roundtrip(&value), value);
    }

    #[test]
    fn unescapes_every_escape() {
        assert_eq!(
            decode(r#""\"\\\/\b\f\n\r\t\u00e9\u20AC\ud83d\ude00x""#).unwrap(),
            Value::from("\"\\/\u{8}\u{c}\n\r\té€😀x")
        );
        assert_eq!(decode(r#""\u0000""#).unwrap(), Value::from("\u{0}"));
        assert_eq!(decode("\"é😀\"").unwrap(), Value::from("é😀"));
    }

    #[test]
    fn lone_surrogates_are_errors() {
        assert_eq!(
            error(br#"["\ud800"]"#),
            "lone surrogate in `\\u` escape at byte 2"
        );
        assert_eq!(
            error(br#""ab\ud800\u0041""#),
            "lone surrogate in `\\u` escape at byte 3"
        );
        assert_eq!(
            error(br#""\udc00""#),
            "lone surrogate in `\\u` escape at byte 1"
        );
        assert_eq!(
            error(br#""\ud800"#),
            "unterminated string starting at byte 0"
        );
        assert_eq!(
            error(br#""\ud800\"#),
            "unterminated string starting at byte 0"
        );
        assert_eq!(error(br#""\x""#), "invalid escape at byte 1");
        assert_eq!(error(br#""\u12""#), "invalid escape at byte 5");
        assert_eq!(error(br#""\u12g4""#), "invalid escape at byte 5");
    }

    #[test]
    fn numbers_at_the_edges() {
        let int = |s: &str| decode(s).unwrap();
        assert_eq!(int("0"), Value::Integer(0));
        assert_eq!(int("-0"), Value::Integer(0));
        assert_eq!(int("9223372036854775807"), Value::Integer(i64::MAX));
        assert_eq!(int("-9223372036854775808"), Value::Integer(i64::MIN));
        assert_eq!(
            int("9223372036854775808"),
            Value::Float(9223372036854775808.0)
        );
        assert_eq!(
            int("-9223372036854775809"),
            Value::Float(-9223372036854775808.0)
        );
        assert_eq!(
            int("184467440737095516150"),
            Value::Float(184467440737095516150.0)
        );
        assert_eq!(int("1.0"), Value::Float(1.0));
        assert_eq!(int("-0.0"), Value::Float(-0.0));
        assert_eq!(int("2.5E+3"), Value::Float(2500.0));
        assert_eq!(int("1e-400"), Value::Float(0.0));
        assert_eq!(int("1.7976931348623157e308"), Value::Float(f64::MAX));
        assert_eq!(int("0.1"), Value::Float(0.1));
        assert_eq!(error(b"1e400"), "number out of range at byte 0");
        assert_eq!(error(b"[-1e400]"), "number out of range at byte 1");
        for bad in [
            "01", "-01", "1.", ".5", "+1", "1e", "1e+", "1.e5", "-", "--1", "0x10",
        ] {
            assert!(decode(bad).is_err(), "{bad} should be refused");
        }
        assert_eq!(error(b"01"), "invalid number at byte 1");
        assert_eq!(error(b"1."), "unexpected end of input at byte 2");
    }

    #[test]
    fn errors_say_what_and_where() {
        assert_eq!(
            error(br#"{"message": "x", "a" 1}"#),
            "expected `:` after object key at byte 21"
        );
        assert_eq!(
            error(br#"{"a":"unterminated"#),
            "unterminated string starting at byte 5"
        );
        assert_eq!(error(br#"{"a":1} x"#), "trailing characters at byte 8");
        assert_eq!(
            error(br#"[1 2]"#),
            "expected `,` or `]` after array element at byte 3"
        );
        assert_eq!(
            error(br#"{"a":1 "b":2}"#),
            "expected `,` or `}` after object member at byte 7"
        );
        assert_eq!(
            error(br#"{1:2}"#),
            "expected a string as object key at byte 1"
        );
        assert_eq!(
            error(br#"{"a":1,}"#),
            "expected a string as object key at byte 7"
        );
        assert_eq!(error(br#"[1,]"#), "expected a value at byte 3");
        assert_eq!(
            error(b"[tru]"),
            "invalid literal, expected `true`, `false` or `null` at byte 1"
        );
        assert_eq!(error(b"nul"), "unexpected end of input at byte 3");
        assert_eq!(error(b"\"a\xffb\""), "invalid UTF-8 at byte 2");
        assert_eq!(
            error(b"\"a\tb\""),
            "unescaped control character in string at byte 2"
        );
        assert_eq!(error(b""), "unexpected end of input at byte 0");
        assert_eq!(error(b"  "), "unexpected end of input at byte 2");
        assert_eq!(
            decode_object(&Bytes::from_static(b" [1]"))
                .unwrap_err()
                .to_string(),
            "expected an object at byte 1"
        );
    }

    #[test]
    fn nesting_is_bounded_without_recursion() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(decode(&nested(MAX_DEPTH)).is_ok());
        assert_eq!(
            error(nested(MAX_DEPTH + 1).as_bytes()),
            "nesting deeper than 128 levels at byte 128"
        );
        let hostile = "[".repeat(100_000);
        assert_eq!(
            error(hostile.as_bytes()),
            "nesting deeper than 128 levels at byte 128"
        );
        let objects = format!("{}1{}", r#"{"a":"#.repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
        assert!(decode(&objects).is_ok());
    }

    #[test]
    fn large_inputs_decode_in_linear_time() {
        let huge = format!("\"{}\"", "x".repeat(8 << 20));
        assert_eq!(decode(&huge).unwrap().as_str().unwrap().len(), 8 << 20);
        let escaped = format!("\"{}\"", "\\n".repeat(1 << 20));
        assert_eq!(decode(&escaped).unwrap().as_str().unwrap().len(), 1 << 20);
        let members: Vec<String> = (0..50_000)
            .map(|i| format!("\"k{}\":{i}", i % 1000))
            .collect();
        let object = decode(&format!("{{{}}}", members.join(","))).unwrap();
        let object = object.as_object().unwrap();
        assert_eq!(object.len(), 1000);
        assert_eq!(object.get("k7"), Some(&Value::Integer(49_007)));
        let array = format!("[{}]", vec!["{}"; 100_000].join(","));
        assert_eq!(decode(&array).unwrap().as_array().unwrap().len(), 100_000);
    }

    #[test]
    fn duplicate_keys_keep_the_last_value() {
        let object = decode(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        let object = object.as_object().unwrap();
        assert_eq!(
            object.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(object.get("a"), Some(&Value::Integer(3)));
    }

    #[test]
    fn every_prefix_of_a_document_fails_cleanly() {
        let doc =
            r#" {"a":[1,-2.5e3,true,false,null,"x\"\u00e9\ud83d\ude00y"],"b":{"c":{}},"d":"é"} "#;
        assert!(decode(doc).is_ok());
        let trimmed = doc.trim_end();
        for end in 0..trimmed.len() {
            let prefix = &trimmed.as_bytes()[..end];
            let err = decode_value(&Bytes::copy_from_slice(prefix)).unwrap_err();
            assert!(err.offset <= end, "{end}: {err}");
        }
    }

    /// Generates JSON text (with odd whitespace, escapes, surrogate pairs, numbers at the
    /// edges) from a seeded xorshift generator, so failures can be replayed.
    struct Generator(u64);

    impl Generator {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len() as u64) as usize]
        }

        fn whitespace(&mut self, out: &mut String) {
            if self.below(4) == 0 {
                out.push_str(self.pick(&[" ", "\n", "\t ", "\r\n  "]));
            }
        }

        fn string(&mut self, out: &mut String) {
            out.push('"');
            for _ in 0..self.below(8) {
                let part = self.pick(&[
                    "a",
                    "key",
                    "é",
                    "😀",
                    "\\n",
                    "\\\"",
                    "\\\\",
                    "\\/",
                    "\\u00e9",
                    "\\u0000",
                    "\\uD83D\\uDE00",
                    "\\u20ac",
                    "\\t",
                    " ",
                    "ab cd",
                ]);
                out.push_str(part);
            }
            out.push('"');
        }

        fn number(&mut self, out: &mut String) {
            let n = match self.below(8) {
                0 => self
                    .pick(&["0", "-0", "9223372036854775807", "-9223372036854775808"])
                    .to_owned(),
                1 => self
                    .pick(&["9223372036854775808", "1e308", "1e-320", "-0.0", "1E+2"])
                    .to_owned(),
                2 => format!("{}.{}", self.next() as i64 % 100_000, self.below(1000)),
                3 => format!("{}e{}", self.below(1000), self.below(40) as i64 - 20),
                4 => format!("{}", self.next()),
                _ => format!("{}", self.next() as i64 >> self.below(64)),
            };
            out.push_str(&n);
        }

        fn value(&mut self, depth: usize, out: &mut String) {
            self.whitespace(out);
            let kind = if depth >= 6 {
                self.below(4)
            } else {
                self.below(6)
            };
            match kind {
                0 => self.string(out),
                1 => self.number(out),
                2 => out.push_str(self.pick(&["true", "false", "null"])),
                3 => self.number(out),
                4 => {
                    out.push('[');
                    for i in 0..self.below(5) {
                        if i > 0 {
                            out.push(',');
                        }
                        self.value(depth + 1, out);
                    }
                    self.whitespace(out);
                    out.push(']');
                }
                _ => {
                    out.push('{');
                    for i in 0..self.below(5) {
                        if i > 0 {
                            out.push(',');
                        }
                        self.whitespace(out);
                        self.string(out);
                        self.whitespace(out);
                        out.push(':');
                        self.value(depth + 1, out);
                    }
                    self.whitespace(out);
                    out.push('}');
                }
            }
            self.whitespace(out);
        }

        /// A few random edits, biased towards bytes that matter to JSON's grammar.
        fn mutate(&mut self, doc: &mut Vec<u8>) {
            const INTERESTING: &[u8] = b"\"\\{}[],:0-+eE.tfnu \x00\x1f\xff\xc3";
            for _ in 0..1 + self.below(3) {
                let at = self.below(doc.len() as u64 + 1) as usize;
                let byte = INTERESTING[self.below(INTERESTING.len() as u64) as usize];
                match self.below(3) {
                    0 if at < doc.len() => {
                        doc.remove(at);
                    }
                    1 if at < doc.len() => doc[at] = byte,
                    _ => doc.insert(at, byte),
                }
            }
        }
    }

    /// Whether our tree says what serde_json's does (serde_json reads `-0` as a float and
    /// integers above `i64::MAX` as `u64`, where we have an integer and a float).
    fn same(ours: &Value, theirs: &serde_json::Value) -> bool {
        use serde_json::Value as J;
        match (ours, theirs) {
            (Value::Null, J::Null) => true,
            (Value::Boolean(a), J::Bool(b)) => a == b,
            (Value::Integer(a), J::Number(n)) => {
                n.as_i64() == Some(*a) || n.as_f64() == Some(*a as f64)
            }
            (Value::Float(a), J::Number(n)) => n.as_f64() == Some(*a) && n.as_i64().is_none(),
            (Value::String(a), J::String(b)) => a.as_str() == b,
            (Value::Array(a), J::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
            }
            (Value::Object(a), J::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, v)| b.get(k.as_str()).is_some_and(|w| same(v, w)))
            }
            _ => false,
        }
    }

    #[test]
    fn agrees_with_serde_json_on_generated_documents() {
        let mut generator = Generator(0x9E37_79B9_7F4A_7C15);
        let (mut accepted, mut refused) = (0, 0);
        for case in 0..3000 {
            let mut doc = String::new();
            generator.value(0, &mut doc);
            let mut bytes = doc.into_bytes();
            if case % 2 == 1 {
                generator.mutate(&mut bytes);
            }
            let ours = decode_value(&Bytes::copy_from_slice(&bytes));
            let theirs = serde_json::from_slice::<serde_json::Value>(&bytes);
            let shown = String::from_utf8_lossy(&bytes);
            match (&ours, &theirs) {
                (Ok(a), Ok(b)) => {
                    assert!(same(a, b), "case {case}: {shown}\nours {a:?}\ntheirs {b:?}");
                    assert_eq!(&roundtrip(a), a, "case {case}: {shown}");
                    accepted += 1;
                }
                (Err(_), Err(_)) => refused += 1,
                _ => panic!("case {case}: {shown}\nours {ours:?}\ntheirs {theirs:?}"),
            }
        }
        assert!(
            accepted > 1500 && refused > 500,
            "{accepted} accepted, {refused} refused"
        );
    }
}
