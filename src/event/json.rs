//! JSON for events: an encoder that writes straight from the tree (strings from their
//! `Bytes`, untouched by any intermediate value type), and a zero-copy decoder.
//!
//! The decoder hands out strings without escapes as `Text` slices of the input buffer, and
//! object keys that Beats and ECS use (`message`, `offset`, `agent`, …) as static `Text`s,
//! which cost no reference count. Strings with escapes are unescaped into a per-thread
//! arena and handed out as slices of it, so decoding a typical log line allocates only the
//! vectors of its objects and arrays. Strings are scanned eight bytes at a time for their
//! end, escapes and control characters in one pass; only strings holding non-ASCII bytes are
//! checked as UTF-8 (anywhere else a non-ASCII byte is a syntax error). The decoder runs in
//! linear time (object keys are de-duplicated in O(n log n)), keeps its own stack instead of
//! recursing, and refuses nesting deeper than [`MAX_DEPTH`].

use super::{write_timestamp, Event, Object, Text, Value};
use bytes::{Bytes, BytesMut};

/// Appends `event` as one JSON object: its fields, never its `@metadata`. An event still
/// standing for the JSON it was received as is written from those bytes, which are what the
/// tree would give ([`super::raw::RawJson::write_fields`]), without building the tree.
pub fn encode_event(event: &Event, out: &mut Vec<u8>) {
    if let Some(raw) = event.raw_json() {
        if raw.write_fields(out) {
            return;
        }
    }
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

/// Members the outermost object has room for beyond its own: a decoded object is most often
/// an event's fields, to which `@version` and `tags` are added right away.
const ROOM_FOR_EVENT_FIELDS: usize = 2;

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
    Decoder::new(input).document()
}

/// Decodes a JSON document that must be an object, such as one event.
pub fn decode_object(input: &Bytes) -> Result<Object, JsonError> {
    let mut decoder = Decoder::new(input);
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

/// Members of open containers, the open containers themselves, and unescaped strings;
/// reused by every decode on a thread, so decoding allocates nothing but the finished
/// containers (and, now and then, a new arena chunk).
#[derive(Default)]
struct Scratch {
    frames: Vec<Frame>,
    items: Vec<Value>,
    entries: Vec<(Text, Value)>,
    unescaped: Arena,
}

/// Where strings with escapes are unescaped: each finished string is split off as a shared
/// slice of the current chunk, so a string costs no allocation of its own. A chunk is freed
/// when the last string in it is; a new one is started when it is full.
#[derive(Default)]
struct Arena(BytesMut);

/// Large enough that a chunk serves dozens of escaped log lines, small enough that the one a
/// surviving string pins is no burden.
const ARENA_CHUNK: usize = 16 << 10;

impl Arena {
    fn push(&mut self, part: &[u8]) {
        if self.0.capacity() - self.0.len() < part.len() {
            // Past the first chunk `reserve` reuses the chunk when every string split from it
            // is gone, else starts another of at least the first one's size.
            self.0.reserve(part.len().max(ARENA_CHUNK));
        }
        self.0.extend_from_slice(part);
    }

    fn push_char(&mut self, c: char) {
        self.push(c.encode_utf8(&mut [0; 4]).as_bytes());
    }

    /// The string pushed since the last one was taken.
    fn take(&mut self) -> Text {
        // SAFETY: the arena only receives whole UTF-8 runs of the input (checked by the
        // decoder) and encoded `char`s, and is emptied after an error.
        unsafe { Text::from_utf8_unchecked(self.0.split().freeze()) }
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

struct Decoder<'a> {
    /// The input, for slicing strings out of; only the strings' bytes are checked as UTF-8.
    input: &'a Bytes,
    bytes: &'a [u8],
    pos: usize,
}

/// A string as the scanner found it.
enum Scanned {
    /// Without escapes: these bytes of the input, already checked as UTF-8.
    Raw(std::ops::Range<usize>),
    Unescaped(Text),
}

impl<'a> Decoder<'a> {
    fn new(input: &'a Bytes) -> Decoder<'a> {
        Decoder {
            input,
            bytes: input,
            pos: 0,
        }
    }

    /// The input's bytes in `range`, which the scanner has checked are UTF-8.
    fn slice(&self, range: std::ops::Range<usize>) -> Text {
        if range.is_empty() {
            return Text::default();
        }
        // SAFETY: `Scanned::Raw` ranges are checked UTF-8 and numbers are ASCII.
        unsafe { Text::from_utf8_unchecked(self.input.slice(range)) }
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
                scratch.unescaped.clear();
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
                Some(b'"') => Value::String(match self.string(&mut scratch.unescaped)? {
                    Scanned::Raw(range) => self.slice(range),
                    Scanned::Unescaped(text) => text,
                }),
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
                        let key = self.key(&mut scratch.unescaped)?;
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
                                *key = self.key(&mut scratch.unescaped)?;
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
                    Some(Frame::Object { start, .. }) => {
                        let room = if scratch.frames.len() == base {
                            ROOM_FOR_EVENT_FIELDS
                        } else {
                            0
                        };
                        let mut entries = Vec::with_capacity(scratch.entries.len() - start + room);
                        entries.extend(scratch.entries.drain(start..));
                        Value::Object(Object::from_entries(entries))
                    }
                    None => unreachable!("the frame was just looked at"),
                };
            }
        }
    }

    /// An object key and the `:` after it; the decoder stands on the key's opening quote.
    fn key(&mut self, arena: &mut Arena) -> Result<Text, JsonError> {
        match self.peek() {
            Some(b'"') => {}
            None => return Err(self.error(JsonErrorKind::UnexpectedEnd)),
            Some(_) => return Err(self.error(JsonErrorKind::ExpectedKey)),
        }
        let key = match self.string(arena)? {
            Scanned::Raw(range) => match known_key(&self.bytes[range.clone()]) {
                Some(known) => Text::from_static(known),
                None => self.slice(range),
            },
            Scanned::Unescaped(text) => text,
        };
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
    /// range of the input; with them, the string is unescaped into `arena`.
    fn string(&mut self, arena: &mut Arena) -> Result<Scanned, JsonError> {
        let open = self.pos;
        let start = open + 1;
        let mut run_start = start;
        let mut escaped = false;
        loop {
            let (len, non_ascii) = scan_string_run(&self.bytes[run_start..]);
            let end = run_start + len;
            let Some(&stop) = self.bytes.get(end) else {
                return Err(self.error_at(JsonErrorKind::UnterminatedString, open));
            };
            if non_ascii {
                // No character straddles `"` or `\`: each run is whole UTF-8 on its own.
                if let Err(e) = std::str::from_utf8(&self.bytes[run_start..end]) {
                    let offset = run_start + e.valid_up_to();
                    return Err(self.error_at(JsonErrorKind::InvalidUtf8, offset));
                }
            }
            match stop {
                b'"' => {
                    self.pos = end + 1;
                    if !escaped {
                        return Ok(Scanned::Raw(start..end));
                    }
                    arena.push(&self.bytes[run_start..end]);
                    return Ok(Scanned::Unescaped(arena.take()));
                }
                b'\\' => {
                    escaped = true;
                    arena.push(&self.bytes[run_start..end]);
                    run_start = self.escape(end, arena, open)?;
                }
                _ => return Err(self.error_at(JsonErrorKind::ControlCharacter, end)),
            }
        }
    }

    /// Appends the character of the escape at `at` (a backslash) to `arena`; returns the
    /// offset just after it.
    fn escape(&self, at: usize, arena: &mut Arena, open: usize) -> Result<usize, JsonError> {
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
                arena.push_char(c.unwrap_or(char::REPLACEMENT_CHARACTER));
                return Ok(end);
            }
            _ => return Err(self.error_at(JsonErrorKind::InvalidEscape, at)),
        };
        arena.push_char(c);
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
        let parsed: f64 = self
            .slice(start..self.pos)
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

/// The length of the run of `bytes` before the first `"`, `\` or control character (all of
/// `bytes` if there is none), and whether that run holds a non-ASCII byte.
///
/// Sixteen bytes at a time with SSE2 (part of every x86-64 CPU), the rest with
/// [`scan_words`]: most strings of an event, keys included, end within one load.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn scan_string_run(bytes: &[u8]) -> (usize, bool) {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    let mut high = 0;
    let mut offset = 0;
    // SAFETY: SSE2 is part of the x86-64 baseline; each load reads the 16 bytes of `block`
    // and has no alignment requirement.
    unsafe {
        let quote = _mm_set1_epi8(b'"' as i8);
        let backslash = _mm_set1_epi8(b'\\' as i8);
        let last_control = _mm_set1_epi8(0x1f);
        while let Some(block) = bytes.get(offset..offset + 16) {
            let v = _mm_loadu_si128(block.as_ptr().cast());
            // A byte is a control when the unsigned minimum with 0x1f leaves it unchanged.
            let control = _mm_cmpeq_epi8(_mm_min_epu8(v, last_control), v);
            let stops = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                control,
            );
            let stops = _mm_movemask_epi8(stops) as u32;
            let non_ascii = _mm_movemask_epi8(v) as u32;
            if stops != 0 {
                let at = stops.trailing_zeros();
                high |= non_ascii & ((1 << at) - 1);
                return (offset + at as usize, high != 0);
            }
            high |= non_ascii;
            offset += 16;
        }
    }
    let (len, tail_high) = scan_words(&bytes[offset..]);
    (offset + len, high != 0 || tail_high)
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) fn scan_string_run(bytes: &[u8]) -> (usize, bool) {
    scan_words(bytes)
}

/// [`scan_string_run`] eight bytes at a time, with the usual bit tricks: for each byte `b` of a word, the high
/// bit of `(b - k) & !b & 0x80` is set when `b < k` (`k <= 0x80`) and `b ^ c < 1` finds `c`.
/// A borrow can set a bit above a genuine hit but never below one, so the lowest set bit is
/// exact.
fn scan_words(bytes: &[u8]) -> (usize, bool) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |w: u64, k: u8| w.wrapping_sub(ONES * u64::from(k)) & !w & HIGH;
    let mut high = 0;
    let mut words = bytes.chunks_exact(8);
    let mut offset = 0;
    for word in &mut words {
        let w = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let hits = below(w, 0x20)
            | below(w ^ (ONES * u64::from(b'"')), 1)
            | below(w ^ (ONES * u64::from(b'\\')), 1);
        if hits != 0 {
            let len = offset + (hits.trailing_zeros() / 8) as usize;
            // Only the bytes before the hit count (a mask of the bits below it).
            high |= w & HIGH & ((hits & hits.wrapping_neg()) - 1);
            return (len, high != 0);
        }
        high |= w & HIGH;
        offset += 8;
    }
    for (i, &b) in words.remainder().iter().enumerate() {
        if b < 0x20 || b == b'"' || b == b'\\' {
            return (offset + i, high != 0);
        }
        high |= u64::from(b & 0x80);
    }
    (bytes.len(), high != 0)
}

/// Object keys that Beats and ECS documents repeat in every event. Handing them out as
/// static `Text`s saves a reference-count increment and decrement per key.
fn known_key(key: &[u8]) -> Option<&'static str> {
    let candidates: &[&'static str] = match key.len() {
        2 => &["id", "ip", "os"],
        3 => &["log", "ecs", "mac"],
        4 => &[
            "host", "file", "path", "type", "name", "beat", "tags", "kind",
        ],
        5 => &["input", "agent", "cloud", "event", "level", "flags"],
        6 => &["offset", "fields", "module", "kernel", "family", "source"],
        7 => &["message", "version", "service", "dataset", "created"],
        8 => &["hostname", "platform", "provider", "original", "timezone"],
        9 => &["@metadata", "container", "namespace"],
        10 => &["@timestamp"],
        12 => &["ephemeral_id", "architecture"],
        _ => return None,
    };
    candidates.iter().copied().find(|c| c.as_bytes() == key)
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
        let input = Bytes::from_static(br#"{"msg":"hello","k\u0065y":"a\nb","message":"x"}"#);
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
        // A key every Beats event has is a static string, not a slice.
        let (key, value) = object.iter().nth(2).unwrap();
        assert_eq!(key, "message");
        assert!(!inside(key));
        assert!(inside(value.as_text().unwrap()));
    }

    #[test]
    fn unescaped_strings_are_independent_slices_of_the_arena() {
        // More escaped text than one arena chunk, so strings span chunks.
        let line = format!("{}\\n", "é".repeat(3000));
        let doc = format!(r#"{{"a":"{line}","b":["{line}","{line}","x\ty"]}}"#);
        for _ in 0..3 {
            let value = decode(&doc).unwrap();
            let expected = format!("{}\n", "é".repeat(3000));
            let object = value.as_object().unwrap();
            assert_eq!(object.get("a").and_then(Value::as_str), Some(&*expected));
            let items = object.get("b").and_then(Value::as_array).unwrap();
            assert_eq!(items[0].as_str(), Some(&*expected));
            assert_eq!(items[1].as_str(), Some(&*expected));
            assert_eq!(items[2].as_str(), Some("x\ty"));
        }
        // A failed document leaves nothing behind for the next one.
        assert!(decode(r#"["a\nb", "c\n"#).is_err());
        assert_eq!(decode(r#""d\ne""#).unwrap(), Value::from("d\ne"));
    }

    #[test]
    fn the_string_scanner_finds_the_first_stop_at_every_position() {
        for at in 0..40 {
            for stop in [b'"', b'\\', b'\n', 0x00, 0x1f] {
                // Bytes that must not stop the scan or count as before it come after it.
                let mut run = vec![b'a'; at];
                run.push(stop);
                run.extend_from_slice(b"\x7f\xc3\xa9 \"aaaaaaaaa");
                assert_eq!(scan_string_run(&run), (at, false), "stop {stop} at {at}");
            }
            let mut high = vec![b'a'; at];
            high.extend_from_slice("é".as_bytes());
            high.extend_from_slice(&[b'a'; 9]);
            high.push(b'"');
            assert_eq!(scan_string_run(&high), (at + 11, true), "at {at}");
            assert_eq!(scan_string_run(&high[..at]), (at, false), "at {at}");
            assert_eq!(scan_words(&high), (at + 11, true), "at {at}");
        }
        // A non-ASCII byte after the stop is not reported.
        assert_eq!(scan_string_run(b"abcdefg\"\xff"), (7, false));
        assert_eq!(scan_string_run(b"ab\"\xffefgh"), (2, false));
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
