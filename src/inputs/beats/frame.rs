//! The Lumberjack v1/v2 frame decoder: socket bytes in, complete windows out.
//!
//! A window is a `W` frame announcing `count` data frames (`D` pairs in v1, `J` JSON in v2)
//! followed by exactly that many of them, some or all of which may sit inside `C` frames
//! (zlib). The decoder is incremental: [`Decoder::decode`] consumes what it can from the
//! socket buffer and returns `Ok(None)` when it needs more bytes, so any split of the byte
//! stream decodes the same.
//!
//! What it costs: payloads are `Bytes` slices of the socket buffer (plain frames) or of the
//! inflate buffer (compressed frames), never copied. `C` frames are inflated as their bytes
//! arrive, and frames are cut out of the inflated output as soon as they are whole, so memory
//! is bounded by one frame plus one inflate chunk, whatever the compressed frame declares.
//!
//! What it refuses (every refusal is fatal for the connection, since the protocol has no
//! resync marker): declared lengths over [`Limits::max_frame_bytes`], windows over
//! [`Limits::max_window_events`] events or [`Limits::max_window_bytes`] bytes, `C` inside
//! `C`, a `W` before the previous window is complete, and corrupt or truncated zlib.

use std::mem::MaybeUninit;

use bytes::{Buf, Bytes, BytesMut};
use flate2::{Decompress, FlushDecompress, Status};

use crate::event::Text;

/// Caps applied while decoding; each is a setting of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest declared length of one `J` payload, one `D` frame's pairs, or one `C` frame's
    /// compressed bytes.
    pub max_frame_bytes: usize,
    /// Largest event count a `W` frame may announce (go-lumber's default is 10 000; Filebeat
    /// sends 2048).
    pub max_window_events: u32,
    /// Largest total size of one window's data frames once inflated: the zlib-bomb cap.
    pub max_window_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_frame_bytes: 64 << 20,
            max_window_events: 10_000,
            max_window_bytes: 128 << 20,
        }
    }
}

/// The protocol version of a window; its ACK carries the same version byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

impl Version {
    /// The byte that opens every frame of this version.
    pub fn byte(self) -> u8 {
        match self {
            Version::V1 => b'1',
            Version::V2 => b'2',
        }
    }
}

/// One event's payload as it came off the wire.
#[derive(Clone, Debug, PartialEq)]
pub enum Payload {
    /// A v2 `J` frame: the bytes of one JSON object, not yet parsed.
    Json(Bytes),
    /// A v1 `D` frame: key/value strings (invalid UTF-8 replaced by U+FFFD).
    Pairs(Vec<(Text, Text)>),
}

/// One data frame of a window.
#[derive(Clone, Debug, PartialEq)]
pub struct DataFrame {
    pub seq: u32,
    pub payload: Payload,
}

/// A complete window: what one ACK answers.
#[derive(Debug, PartialEq)]
pub struct Window {
    pub version: Version,
    pub frames: Vec<DataFrame>,
    /// The sequence number of the last frame, which the ACK must carry; 0 for an empty window.
    pub last_seq: u32,
    /// Bytes of the window's data frames after inflation (headers included): what the window
    /// holds in memory, for budgets and metrics.
    pub inflated_bytes: usize,
}

/// Why a connection's byte stream was refused. Every variant is fatal for the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("TLS ClientHello received on a plain-text port (the client has TLS enabled; enable ssl_enabled here or disable it there)")]
    TlsOnPlainPort,
    #[error("HTTP request received on the Beats port (this port speaks the Lumberjack protocol, not HTTP)")]
    HttpOnBeatsPort,
    #[error("unknown protocol version byte 0x{0:02x} (expected '1' or '2')")]
    UnknownVersion(u8),
    #[error("unknown frame type 0x{0:02x} (expected 'W', 'D', 'J' or 'C')")]
    UnknownFrameType(u8),
    #[error("window announces {declared} events, over the limit of {limit} (max_window_events)")]
    WindowTooLarge { declared: u32, limit: u32 },
    #[error("window size frame received with {remaining} of the current window's {count} events still due")]
    WindowInsideWindow { remaining: u32, count: u32 },
    #[error("data frame received outside a window (no 'W' frame before it)")]
    DataOutsideWindow,
    #[error(
        "'{frame}' frame declares {declared} bytes, over the limit of {limit} (max_frame_bytes)"
    )]
    FrameTooLarge {
        frame: char,
        declared: u64,
        limit: usize,
    },
    #[error("'{0}' frame declares an empty payload")]
    EmptyFrame(char),
    #[error("compressed frame inside a compressed frame")]
    NestedCompression,
    #[error("window exceeds {limit} bytes once inflated (max_window_bytes)")]
    WindowBytesExceeded { limit: usize },
    #[error("corrupt zlib stream in compressed frame: {0}")]
    CorruptZlib(String),
    #[error("compressed frame ended before its zlib stream did")]
    TruncatedZlib,
    #[error("compressed frame has bytes after the end of its zlib stream")]
    TrailingZlibBytes,
    #[error("compressed frame's content ends in the middle of a frame")]
    PartialFrameInCompressed,
    #[error("connection closed in the middle of a frame or window")]
    UnexpectedEof,
}

impl ProtocolError {
    /// A short stable name for metric labels.
    pub fn kind(&self) -> &'static str {
        match self {
            ProtocolError::TlsOnPlainPort => "tls_on_plain_port",
            ProtocolError::HttpOnBeatsPort => "http_on_beats_port",
            ProtocolError::UnknownVersion(_) => "unknown_version",
            ProtocolError::UnknownFrameType(_) => "unknown_frame_type",
            ProtocolError::WindowTooLarge { .. } => "window_too_large",
            ProtocolError::WindowInsideWindow { .. } => "window_inside_window",
            ProtocolError::DataOutsideWindow => "data_outside_window",
            ProtocolError::FrameTooLarge { .. } => "frame_too_large",
            ProtocolError::EmptyFrame(_) => "empty_frame",
            ProtocolError::NestedCompression => "nested_compression",
            ProtocolError::WindowBytesExceeded { .. } => "window_bytes_exceeded",
            ProtocolError::CorruptZlib(_) => "corrupt_zlib",
            ProtocolError::TruncatedZlib => "truncated_zlib",
            ProtocolError::TrailingZlibBytes => "trailing_zlib_bytes",
            ProtocolError::PartialFrameInCompressed => "partial_frame_in_compressed",
            ProtocolError::UnexpectedEof => "unexpected_eof",
        }
    }
}

/// How much inflated output to make room for per inflate step: large enough that zlib's copy
/// of each step's last 32 KiB into its history window is a small share of the work (an
/// eighth; at 64 KiB it was half, 4 % of a compressed window's decode time), small enough to
/// bound the buffer.
const INFLATE_CHUNK: usize = 256 << 10;

/// At most this many frame slots are reserved up front for a window, so a `W` frame that
/// announces many events and sends none costs little.
const MAX_PREALLOCATED_FRAMES: usize = 4096;

/// A window being assembled.
struct Open {
    version: Version,
    count: u32,
    frames: Vec<DataFrame>,
    bytes: usize,
}

/// A `C` frame being inflated.
struct Inflating {
    /// Compressed bytes of this frame not yet taken from the socket buffer.
    remaining: usize,
    /// Inflated bytes not yet cut into frames.
    out: BytesMut,
    finished: bool,
    /// zlib's complaint, reported once the frames inflated before it have been cut, so the
    /// outcome does not depend on how the bytes were split into reads.
    corrupt: Option<String>,
}

/// One frame header parsed from a buffer, with its body already taken out.
enum Frame {
    Window(Version, u32),
    Data(DataFrame, usize),
    Compressed(usize),
}

/// The incremental decoder for one connection.
pub struct Decoder {
    limits: Limits,
    open: Option<Open>,
    inflating: Option<Inflating>,
    zlib: Decompress,
    /// Compressed bytes taken from the wire so far, for metrics.
    compressed_in: u64,
}

impl Decoder {
    pub fn new(limits: Limits) -> Decoder {
        Decoder {
            limits,
            open: None,
            inflating: None,
            zlib: Decompress::new(true),
            compressed_in: 0,
        }
    }

    /// Total bytes of `C` frame payloads consumed so far.
    pub fn compressed_bytes_in(&self) -> u64 {
        self.compressed_in
    }

    /// True when no window, frame or compressed payload is partly received: the connection is
    /// between windows (the state in which an idle timeout may close it).
    pub fn is_between_windows(&self, buf: &BytesMut) -> bool {
        self.open.is_none() && self.inflating.is_none() && buf.is_empty()
    }

    /// Checks that the peer closed the connection at a window boundary.
    pub fn finish(&self, buf: &BytesMut) -> Result<(), ProtocolError> {
        if self.is_between_windows(buf) {
            Ok(())
        } else {
            Err(ProtocolError::UnexpectedEof)
        }
    }

    /// Decodes from `buf` until one window is complete (`Ok(Some)`) or more bytes are needed
    /// (`Ok(None)`; whatever was consumed is remembered). After an error the decoder must not
    /// be used again.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Window>, ProtocolError> {
        loop {
            if let Some(inflating) = &mut self.inflating {
                // Frames already inflated come first: they precede whatever is still compressed.
                while let Some(frame) = parse_frame(&mut inflating.out, &self.limits, false)? {
                    if let Some(window) = accept(&mut self.open, frame, &self.limits)? {
                        return Ok(Some(window));
                    }
                }
                if let Some(reason) = inflating.corrupt.take() {
                    return Err(ProtocolError::CorruptZlib(reason));
                }
                if inflating.finished {
                    if inflating.remaining > 0 {
                        return Err(ProtocolError::TrailingZlibBytes);
                    }
                    if !inflating.out.is_empty() {
                        return Err(ProtocolError::PartialFrameInCompressed);
                    }
                    self.inflating = None;
                    continue;
                }
                if !self.inflate_step(buf)? {
                    return Ok(None);
                }
                continue;
            }
            let Some(frame) = parse_frame(buf, &self.limits, true)? else {
                return Ok(None);
            };
            if let Frame::Compressed(len) = frame {
                self.zlib.reset(true);
                self.inflating = Some(Inflating {
                    remaining: len,
                    out: BytesMut::new(),
                    finished: false,
                    corrupt: None,
                });
                continue;
            }
            if let Some(window) = accept(&mut self.open, frame, &self.limits)? {
                return Ok(Some(window));
            }
        }
    }

    /// Feeds the compressed bytes available in `buf` to zlib, producing at most one chunk.
    /// Returns false when nothing could be done until more bytes arrive.
    fn inflate_step(&mut self, buf: &mut BytesMut) -> Result<bool, ProtocolError> {
        let Some(inflating) = &mut self.inflating else {
            return Ok(false);
        };
        // The inflated bytes waiting to be cut into frames, plus those the open window already
        // holds, may not exceed the window cap: this is what stops a zlib bomb.
        let held = self.open.as_ref().map_or(0, |w| w.bytes) + inflating.out.len();
        let room = self.limits.max_window_bytes.saturating_sub(held);
        if room == 0 {
            return Err(ProtocolError::WindowBytesExceeded {
                limit: self.limits.max_window_bytes,
            });
        }
        let input_len = inflating.remaining.min(buf.len());
        inflating.out.reserve(INFLATE_CHUNK.min(room));
        let spare = inflating.out.spare_capacity_mut();
        let spare_len = spare.len().min(room);
        let spare: &mut [MaybeUninit<u8>] = &mut spare[..spare_len];
        let before_in = self.zlib.total_in();
        let before_out = self.zlib.total_out();
        let flush = if input_len == inflating.remaining {
            FlushDecompress::Finish
        } else {
            FlushDecompress::None
        };
        let result = self.zlib.decompress_uninit(&buf[..input_len], spare, flush);
        // zlib's counters advance on failure too: what it wrote before the corrupt spot is kept.
        let consumed = (self.zlib.total_in() - before_in) as usize;
        let produced = (self.zlib.total_out() - before_out) as usize;
        // SAFETY: zlib initialised the first `produced` bytes of the spare capacity.
        unsafe { inflating.out.set_len(inflating.out.len() + produced) };
        buf.advance(consumed);
        inflating.remaining -= consumed;
        self.compressed_in += consumed as u64;
        match result {
            Err(e) => inflating.corrupt = Some(e.to_string()),
            Ok(Status::StreamEnd) => inflating.finished = true,
            Ok(Status::Ok | Status::BufError) => {
                if inflating.remaining == 0 && consumed == 0 && produced == 0 {
                    return Err(ProtocolError::TruncatedZlib);
                }
            }
        }
        Ok(consumed > 0 || produced > 0 || inflating.finished || inflating.corrupt.is_some())
    }
}

/// Adds a parsed frame to the window being assembled; returns the window once complete.
fn accept(
    open: &mut Option<Open>,
    frame: Frame,
    limits: &Limits,
) -> Result<Option<Window>, ProtocolError> {
    match frame {
        Frame::Window(version, count) => {
            if let Some(w) = open {
                return Err(ProtocolError::WindowInsideWindow {
                    remaining: w.count - w.frames.len() as u32,
                    count: w.count,
                });
            }
            if count > limits.max_window_events {
                return Err(ProtocolError::WindowTooLarge {
                    declared: count,
                    limit: limits.max_window_events,
                });
            }
            if count == 0 {
                return Ok(Some(Window {
                    version,
                    frames: Vec::new(),
                    last_seq: 0,
                    inflated_bytes: 0,
                }));
            }
            *open = Some(Open {
                version,
                count,
                frames: Vec::with_capacity((count as usize).min(MAX_PREALLOCATED_FRAMES)),
                bytes: 0,
            });
            Ok(None)
        }
        Frame::Data(data, size) => {
            let Some(w) = open else {
                return Err(ProtocolError::DataOutsideWindow);
            };
            w.bytes += size;
            if w.bytes > limits.max_window_bytes {
                return Err(ProtocolError::WindowBytesExceeded {
                    limit: limits.max_window_bytes,
                });
            }
            w.frames.push(data);
            if w.frames.len() as u32 == w.count {
                let Some(done) = open.take() else {
                    unreachable!("checked above")
                };
                let last_seq = done.frames.last().map_or(0, |f| f.seq);
                return Ok(Some(Window {
                    version: done.version,
                    frames: done.frames,
                    last_seq,
                    inflated_bytes: done.bytes,
                }));
            }
            Ok(None)
        }
        Frame::Compressed(_) => Err(ProtocolError::NestedCompression),
    }
}

fn read_u32(buf: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]])
}

/// The first four bytes of every HTTP request line.
const HTTP_METHODS: [&[u8; 4]; 9] = [
    b"GET ", b"POST", b"PUT ", b"HEAD", b"DELE", b"OPTI", b"PATC", b"CONN", b"TRAC",
];

/// Names the bytes of a connection that is not speaking Lumberjack at all; `None` while too
/// few bytes have arrived to tell an HTTP request from other garbage (so the verdict does not
/// depend on how the bytes were split into reads).
fn foreign_protocol(start: &[u8]) -> Option<ProtocolError> {
    if start[0] == 0x16 {
        return Some(ProtocolError::TlsOnPlainPort);
    }
    if start.len() < 4 {
        return HTTP_METHODS
            .iter()
            .all(|m| !m.starts_with(start))
            .then_some(ProtocolError::UnknownVersion(start[0]));
    }
    if HTTP_METHODS.iter().any(|m| &start[..4] == *m) {
        return Some(ProtocolError::HttpOnBeatsPort);
    }
    Some(ProtocolError::UnknownVersion(start[0]))
}

/// Parses one frame from the front of `buf` if it is whole; leaves `buf` untouched otherwise.
/// Every declared length is checked against the limits before anything is reserved.
fn parse_frame(
    buf: &mut BytesMut,
    limits: &Limits,
    compressed_allowed: bool,
) -> Result<Option<Frame>, ProtocolError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let version = match first {
        b'1' => Version::V1,
        b'2' => Version::V2,
        _ => {
            return match foreign_protocol(&buf[..buf.len().min(4)]) {
                Some(e) => Err(e),
                None => Ok(None),
            }
        }
    };
    if buf.len() < 2 {
        return Ok(None);
    }
    let kind = buf[1];
    match kind {
        b'W' => {
            if buf.len() < 6 {
                return Ok(None);
            }
            let count = read_u32(buf, 2);
            buf.advance(6);
            Ok(Some(Frame::Window(version, count)))
        }
        b'J' => {
            if buf.len() < 10 {
                return Ok(None);
            }
            let seq = read_u32(buf, 2);
            let len = read_u32(buf, 6);
            check_len('J', len as u64, limits)?;
            if len == 0 {
                return Err(ProtocolError::EmptyFrame('J'));
            }
            let total = 10 + len as usize;
            if buf.len() < total {
                return Ok(None);
            }
            buf.advance(10);
            let payload = Payload::Json(buf.split_to(len as usize).freeze());
            Ok(Some(Frame::Data(DataFrame { seq, payload }, total)))
        }
        b'D' => parse_pairs(buf, limits),
        b'C' => {
            if !compressed_allowed {
                return Err(ProtocolError::NestedCompression);
            }
            if buf.len() < 6 {
                return Ok(None);
            }
            let len = read_u32(buf, 2);
            check_len('C', len as u64, limits)?;
            if len == 0 {
                return Err(ProtocolError::EmptyFrame('C'));
            }
            buf.advance(6);
            Ok(Some(Frame::Compressed(len as usize)))
        }
        other => Err(ProtocolError::UnknownFrameType(other)),
    }
}

fn check_len(frame: char, declared: u64, limits: &Limits) -> Result<(), ProtocolError> {
    if declared > limits.max_frame_bytes as u64 {
        return Err(ProtocolError::FrameTooLarge {
            frame,
            declared,
            limit: limits.max_frame_bytes,
        });
    }
    Ok(())
}

/// A v1 `D` frame: seq, pair count, then length-prefixed keys and values. Its length is known
/// only by walking the pairs, so the walk checks completeness before anything is taken.
fn parse_pairs(buf: &mut BytesMut, limits: &Limits) -> Result<Option<Frame>, ProtocolError> {
    if buf.len() < 10 {
        return Ok(None);
    }
    let seq = read_u32(buf, 2);
    let count = read_u32(buf, 6);
    if count == 0 {
        return Err(ProtocolError::EmptyFrame('D'));
    }
    // Each pair takes at least 8 bytes of lengths.
    check_len('D', count as u64 * 8, limits)?;
    let mut at = 10usize;
    for _ in 0..u64::from(count) * 2 {
        if buf.len() < at + 4 {
            return Ok(None);
        }
        let len = read_u32(buf, at) as u64;
        check_len('D', (at - 10) as u64 + 4 + len, limits)?;
        at += 4 + len as usize;
        if buf.len() < at {
            return Ok(None);
        }
    }
    let total = at;
    buf.advance(10);
    let mut body = buf.split_to(total - 10).freeze();
    let mut pairs = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let key = take_string(&mut body);
        let value = take_string(&mut body);
        pairs.push((key, value));
    }
    Ok(Some(Frame::Data(
        DataFrame {
            seq,
            payload: Payload::Pairs(pairs),
        },
        total,
    )))
}

/// Takes one length-prefixed string whose bounds were already checked.
fn take_string(body: &mut Bytes) -> Text {
    let len = body.get_u32() as usize;
    Text::from_utf8_lossy(body.split_to(len))
}

/// Frame writers, used by tests, benches, the fuzz target and the load generator.
pub mod encode {
    use bytes::{BufMut, BytesMut};

    /// Appends a `W` frame.
    pub fn window(out: &mut BytesMut, version: u8, count: u32) {
        out.put_u8(version);
        out.put_u8(b'W');
        out.put_u32(count);
    }

    /// Appends a v2 `J` frame.
    pub fn json(out: &mut BytesMut, seq: u32, payload: &[u8]) {
        out.put_u8(b'2');
        out.put_u8(b'J');
        out.put_u32(seq);
        out.put_u32(payload.len() as u32);
        out.put_slice(payload);
    }

    /// Appends a v1 `D` frame.
    pub fn pairs(out: &mut BytesMut, seq: u32, pairs: &[(&str, &str)]) {
        out.put_u8(b'1');
        out.put_u8(b'D');
        out.put_u32(seq);
        out.put_u32(pairs.len() as u32);
        for (k, v) in pairs {
            out.put_u32(k.len() as u32);
            out.put_slice(k.as_bytes());
            out.put_u32(v.len() as u32);
            out.put_slice(v.as_bytes());
        }
    }

    /// Appends a `C` frame holding `frames` compressed at `level` (0–9).
    pub fn compressed(out: &mut BytesMut, version: u8, frames: &[u8], level: u32) {
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(level));
        z.write_all(frames).expect("writing to a Vec cannot fail");
        let body = z.finish().expect("writing to a Vec cannot fail");
        out.put_u8(version);
        out.put_u8(b'C');
        out.put_u32(body.len() as u32);
        out.put_slice(&body);
    }

    /// Appends an `A` frame.
    pub fn ack(out: &mut BytesMut, version: u8, seq: u32) {
        out.put_u8(version);
        out.put_u8(b'A');
        out.put_u32(seq);
    }
}

#[cfg(test)]
mod tests;
