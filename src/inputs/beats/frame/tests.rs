use super::encode;
use super::*;

const FILEBEAT: &[u8] =
    include_bytes!("../../../../fixtures/beats/filebeat-7.17.29-zlib3-5000.bin");
const PYLOGBEAT: &[u8] = include_bytes!("../../../../fixtures/beats/pylogbeat-2.1.0-2windows.bin");

/// Decodes `input` in one go, returning every window and the error that stopped it, if any.
fn decode_all(input: &[u8], limits: Limits) -> (Vec<Window>, Option<ProtocolError>) {
    let mut decoder = Decoder::new(limits);
    let mut buf = BytesMut::from(input);
    let mut windows = Vec::new();
    loop {
        match decoder.decode(&mut buf) {
            Ok(Some(w)) => windows.push(w),
            Ok(None) => {
                return (windows, decoder.finish(&buf).err());
            }
            Err(e) => return (windows, Some(e)),
        }
    }
}

fn decode_ok(input: &[u8]) -> Vec<Window> {
    let (windows, err) = decode_all(input, Limits::default());
    assert_eq!(err, None);
    windows
}

fn decode_err(input: &[u8], limits: Limits) -> ProtocolError {
    match decode_all(input, limits) {
        (_, Some(e)) => e,
        (windows, None) => panic!("decoded {} windows without error", windows.len()),
    }
}

/// Decodes `input` handed over in `chunks` (each a socket read), as a connection would.
fn decode_chunked<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<Window>, ProtocolError> {
    let mut decoder = Decoder::new(Limits::default());
    let mut buf = BytesMut::new();
    let mut windows = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        while let Some(w) = decoder.decode(&mut buf)? {
            windows.push(w);
        }
    }
    decoder.finish(&buf)?;
    Ok(windows)
}

fn json_frames(seqs: std::ops::RangeInclusive<u32>) -> BytesMut {
    let mut out = BytesMut::new();
    for seq in seqs {
        encode::json(
            &mut out,
            seq,
            format!(r#"{{"message":"line {seq}"}}"#).as_bytes(),
        );
    }
    out
}

fn json_of(frame: &DataFrame) -> &[u8] {
    match &frame.payload {
        Payload::Json(b) => b,
        Payload::Pairs(_) => panic!("expected a JSON payload"),
    }
}

fn seqs(window: &Window) -> Vec<u32> {
    window.frames.iter().map(|f| f.seq).collect()
}

/// A stream touching every frame type and arrangement: a v1 window, a plain v2 window, an
/// empty window, a compressed window, and one `C` holding a whole window and half of the next,
/// whose other half is in a second `C`.
fn mixed_stream() -> BytesMut {
    let mut s = BytesMut::new();
    encode::window(&mut s, b'1', 2);
    encode::pairs(&mut s, 1, &[("line", "hello"), ("host", "a")]);
    encode::pairs(&mut s, 2, &[("line", "world")]);
    encode::window(&mut s, b'2', 2);
    s.extend_from_slice(&json_frames(1..=2));
    encode::window(&mut s, b'2', 0);
    encode::window(&mut s, b'2', 3);
    encode::compressed(&mut s, b'2', &json_frames(1..=3), 3);
    let mut inner = BytesMut::new();
    encode::window(&mut inner, b'2', 2);
    inner.extend_from_slice(&json_frames(7..=8));
    encode::window(&mut inner, b'2', 4);
    inner.extend_from_slice(&json_frames(9..=10));
    encode::compressed(&mut s, b'2', &inner, 6);
    encode::compressed(&mut s, b'2', &json_frames(11..=12), 1);
    s
}

#[test]
fn every_frame_type_decodes() {
    let windows = decode_ok(&mixed_stream());
    let shape: Vec<_> = windows
        .iter()
        .map(|w| (w.version, seqs(w), w.last_seq))
        .collect();
    assert_eq!(
        shape,
        vec![
            (Version::V1, vec![1, 2], 2),
            (Version::V2, vec![1, 2], 2),
            (Version::V2, vec![], 0),
            (Version::V2, vec![1, 2, 3], 3),
            (Version::V2, vec![7, 8], 8),
            (Version::V2, vec![9, 10, 11, 12], 12),
        ]
    );
    assert_eq!(
        windows[0].frames[0].payload,
        Payload::Pairs(vec![
            ("line".into(), "hello".into()),
            ("host".into(), "a".into())
        ])
    );
    assert_eq!(json_of(&windows[3].frames[2]), br#"{"message":"line 3"}"#);
    assert_eq!(json_of(&windows[5].frames[3]), br#"{"message":"line 12"}"#);
}

#[test]
fn inflated_bytes_count_headers_and_payloads() {
    let windows = decode_ok(&mixed_stream());
    // Two `J` frames of 10 header bytes plus `{"message":"line N"}` (20 bytes each).
    assert_eq!(windows[1].inflated_bytes, 60);
}

#[test]
fn every_split_point_decodes_the_same() {
    let stream = mixed_stream();
    let whole = decode_ok(&stream);
    for at in 0..=stream.len() {
        let (a, b) = stream.split_at(at);
        assert_eq!(decode_chunked([a, b]).unwrap(), whole, "split at {at}");
    }
    let bytes = decode_chunked(stream.chunks(1)).unwrap();
    assert_eq!(bytes, whole, "one byte at a time");
}

#[test]
fn every_split_point_of_a_three_way_split_decodes_the_same() {
    // Two split points catch a frame header split and its body split in the same run.
    let mut stream = BytesMut::new();
    encode::window(&mut stream, b'2', 2);
    encode::compressed(&mut stream, b'2', &json_frames(1..=2), 3);
    let whole = decode_ok(&stream);
    for i in 0..=stream.len() {
        for j in i..=stream.len() {
            let parts = [&stream[..i], &stream[i..j], &stream[j..]];
            assert_eq!(decode_chunked(parts).unwrap(), whole, "split at {i}, {j}");
        }
    }
}

#[test]
fn window_zero_is_a_window_with_last_seq_zero() {
    let mut s = BytesMut::new();
    encode::window(&mut s, b'2', 0);
    let windows = decode_ok(&s);
    assert_eq!(windows.len(), 1);
    assert!(windows[0].frames.is_empty());
    assert_eq!(windows[0].last_seq, 0);
}

#[test]
fn window_frame_before_the_window_is_complete_is_refused() {
    let mut s = BytesMut::new();
    encode::window(&mut s, b'2', 3);
    s.extend_from_slice(&json_frames(1..=1));
    encode::window(&mut s, b'2', 1);
    assert_eq!(
        decode_err(&s, Limits::default()),
        ProtocolError::WindowInsideWindow {
            remaining: 2,
            count: 3
        }
    );

    let mut inner = json_frames(1..=1);
    encode::window(&mut inner, b'2', 1);
    let mut s = BytesMut::new();
    encode::window(&mut s, b'2', 2);
    encode::compressed(&mut s, b'2', &inner, 3);
    assert!(matches!(
        decode_err(&s, Limits::default()),
        ProtocolError::WindowInsideWindow { .. }
    ));
}

#[test]
fn nested_compression_is_refused() {
    let mut inner = BytesMut::new();
    encode::compressed(&mut inner, b'2', &json_frames(1..=1), 3);
    let mut s = BytesMut::new();
    encode::window(&mut s, b'2', 1);
    encode::compressed(&mut s, b'2', &inner, 3);
    assert_eq!(
        decode_err(&s, Limits::default()),
        ProtocolError::NestedCompression
    );
}

#[test]
fn huge_declared_lengths_are_refused_before_allocating() {
    for declared in [1u32 << 31, u32::MAX] {
        let mut json = BytesMut::from(&b"2W\0\0\0\x012J\0\0\0\x01"[..]);
        json.extend_from_slice(&declared.to_be_bytes());
        assert_eq!(
            decode_err(&json, Limits::default()),
            ProtocolError::FrameTooLarge {
                frame: 'J',
                declared: declared.into(),
                limit: Limits::default().max_frame_bytes
            }
        );

        let mut comp = BytesMut::from(&b"2W\0\0\0\x012C"[..]);
        comp.extend_from_slice(&declared.to_be_bytes());
        assert!(matches!(
            decode_err(&comp, Limits::default()),
            ProtocolError::FrameTooLarge { frame: 'C', .. }
        ));

        let mut pairs = BytesMut::from(&b"1W\0\0\0\x011D\0\0\0\x01\0\0\0\x01"[..]);
        pairs.extend_from_slice(&declared.to_be_bytes());
        assert!(matches!(
            decode_err(&pairs, Limits::default()),
            ProtocolError::FrameTooLarge { frame: 'D', .. }
        ));

        let mut pair_count = BytesMut::from(&b"1W\0\0\0\x011D\0\0\0\x01"[..]);
        pair_count.extend_from_slice(&declared.to_be_bytes());
        assert!(matches!(
            decode_err(&pair_count, Limits::default()),
            ProtocolError::FrameTooLarge { frame: 'D', .. }
        ));

        let mut window = BytesMut::from(&b"2W"[..]);
        window.extend_from_slice(&declared.to_be_bytes());
        assert_eq!(
            decode_err(&window, Limits::default()),
            ProtocolError::WindowTooLarge {
                declared,
                limit: 10_000
            }
        );
    }
}

#[test]
fn a_zlib_bomb_stops_at_the_window_cap() {
    // One `J` frame declaring 16 MiB of zeros: 16 KiB on the wire.
    let mut frame = BytesMut::new();
    encode::json(&mut frame, 1, &vec![0u8; 16 << 20]);
    let mut s = BytesMut::new();
    encode::window(&mut s, b'2', 1);
    encode::compressed(&mut s, b'2', &frame, 9);
    assert!(s.len() < 64 << 10);
    let limits = Limits {
        max_window_bytes: 1 << 20,
        ..Limits::default()
    };
    let mut decoder = Decoder::new(limits);
    let mut buf = s;
    assert_eq!(
        decoder.decode(&mut buf),
        Err(ProtocolError::WindowBytesExceeded { limit: 1 << 20 })
    );
    // The inflate buffer never grew past the cap plus one chunk.
    let held = decoder.inflating.as_ref().map_or(0, |i| i.out.capacity());
    assert!(held <= (1 << 20) + INFLATE_CHUNK, "held {held} bytes");
}

#[test]
fn a_window_over_the_byte_cap_is_refused_uncompressed_too() {
    let mut s = BytesMut::new();
    encode::window(&mut s, b'2', 2);
    s.extend_from_slice(&json_frames(1..=2));
    let limits = Limits {
        max_window_bytes: 40,
        ..Limits::default()
    };
    assert_eq!(
        decode_err(&s, limits),
        ProtocolError::WindowBytesExceeded { limit: 40 }
    );
}

fn compressed_body(frames: &[u8]) -> Vec<u8> {
    let mut c = BytesMut::new();
    encode::compressed(&mut c, b'2', frames, 3);
    c[6..].to_vec()
}

fn c_frame(body: &[u8]) -> BytesMut {
    let mut s = BytesMut::new();
    encode::window(&mut s, b'2', 2);
    s.extend_from_slice(b"2C");
    s.extend_from_slice(&(body.len() as u32).to_be_bytes());
    s.extend_from_slice(body);
    s
}

#[test]
fn truncated_zlib_is_refused() {
    let body = compressed_body(&json_frames(1..=2));
    let half = &body[..body.len() / 2];
    assert_eq!(
        decode_err(&c_frame(half), Limits::default()),
        ProtocolError::TruncatedZlib
    );
    // Cut just before the Adler-32 trailer: every frame inflated, the stream still open.
    let no_trailer = &body[..body.len() - 4];
    assert_eq!(
        decode_err(&c_frame(no_trailer), Limits::default()),
        ProtocolError::TruncatedZlib
    );
}

#[test]
fn corrupt_zlib_is_refused() {
    let mut body = compressed_body(&json_frames(1..=2));
    body[0] = 0x00; // not a zlib header
    assert!(matches!(
        decode_err(&c_frame(&body), Limits::default()),
        ProtocolError::CorruptZlib(_)
    ));
}

#[test]
fn bytes_after_the_zlib_stream_are_refused() {
    let mut body = compressed_body(&json_frames(1..=2));
    body.extend_from_slice(b"junk");
    assert_eq!(
        decode_err(&c_frame(&body), Limits::default()),
        ProtocolError::TrailingZlibBytes
    );
}

#[test]
fn a_compressed_frame_ending_inside_a_frame_is_refused() {
    let frames = json_frames(1..=2);
    let body = compressed_body(&frames[..frames.len() - 3]);
    assert_eq!(
        decode_err(&c_frame(&body), Limits::default()),
        ProtocolError::PartialFrameInCompressed
    );
}

#[test]
fn empty_payloads_and_windowless_data_are_refused() {
    assert_eq!(
        decode_err(b"2W\0\0\0\x012J\0\0\0\x01\0\0\0\0", Limits::default()),
        ProtocolError::EmptyFrame('J')
    );
    assert_eq!(
        decode_err(b"1W\0\0\0\x011D\0\0\0\x01\0\0\0\0", Limits::default()),
        ProtocolError::EmptyFrame('D')
    );
    assert_eq!(
        decode_err(b"2W\0\0\0\x012C\0\0\0\0", Limits::default()),
        ProtocolError::EmptyFrame('C')
    );
    assert_eq!(
        decode_err(&json_frames(1..=1), Limits::default()),
        ProtocolError::DataOutsideWindow
    );
}

#[test]
fn an_ack_frame_from_the_client_is_an_unknown_type() {
    let mut s = BytesMut::new();
    encode::ack(&mut s, b'2', 1);
    assert_eq!(
        decode_err(&s, Limits::default()),
        ProtocolError::UnknownFrameType(b'A')
    );
}

#[test]
fn eof_inside_a_window_or_frame_is_reported() {
    let mut s = BytesMut::new();
    encode::window(&mut s, b'2', 2);
    s.extend_from_slice(&json_frames(1..=1));
    assert_eq!(
        decode_err(&s, Limits::default()),
        ProtocolError::UnexpectedEof
    );
    assert_eq!(
        decode_err(b"2W\0\0", Limits::default()),
        ProtocolError::UnexpectedEof
    );
}

#[test]
fn foreign_protocols_are_named() {
    assert_eq!(
        decode_err(
            b"GET / HTTP/1.1\r\nHost: localhost:5044\r\n\r\n",
            Limits::default()
        ),
        ProtocolError::HttpOnBeatsPort
    );
    assert_eq!(
        decode_err(b"POST /_bulk HTTP/1.1\r\n", Limits::default()),
        ProtocolError::HttpOnBeatsPort
    );
    // The start of a TLS 1.2 ClientHello record.
    assert_eq!(
        decode_err(
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
            Limits::default()
        ),
        ProtocolError::TlsOnPlainPort
    );
    assert_eq!(
        decode_err(b"\"hello\"", Limits::default()),
        ProtocolError::UnknownVersion(b'"')
    );
    assert_eq!(
        decode_err(b"2X", Limits::default()),
        ProtocolError::UnknownFrameType(b'X')
    );
}

#[test]
fn random_garbage_is_refused_without_panicking() {
    // xorshift64: deterministic garbage, some of it starting like a real frame.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let limits = Limits {
        max_frame_bytes: 1 << 16,
        max_window_events: 64,
        max_window_bytes: 1 << 20,
    };
    for round in 0..200 {
        let mut garbage: Vec<u8> = (0..10_240).map(|_| next() as u8).collect();
        if round % 2 == 1 {
            garbage[..2].copy_from_slice(b"2W");
        }
        let (_, err) = decode_all(&garbage, limits);
        assert!(err.is_some(), "round {round} decoded garbage cleanly");
    }
}

#[test]
fn json_payloads_are_slices_of_the_socket_buffer() {
    let mut s = BytesMut::new();
    encode::window(&mut s, b'2', 1);
    s.extend_from_slice(&json_frames(1..=1));
    let range = s.as_ptr() as usize..s.as_ptr() as usize + s.len();
    let mut decoder = Decoder::new(Limits::default());
    let window = decoder.decode(&mut s).unwrap().unwrap();
    let payload = json_of(&window.frames[0]);
    assert!(range.contains(&(payload.as_ptr() as usize)));
}

#[test]
fn filebeat_capture_decodes_to_three_windows() {
    let windows = decode_ok(FILEBEAT);
    let shape: Vec<_> = windows
        .iter()
        .map(|w| (w.version, w.frames.len(), w.last_seq))
        .collect();
    assert_eq!(
        shape,
        vec![
            (Version::V2, 2048, 2048),
            (Version::V2, 2048, 2048),
            (Version::V2, 904, 904)
        ]
    );
    for w in &windows {
        // Filebeat numbers 1..n in every window.
        assert!(seqs(w).into_iter().eq(1..=w.frames.len() as u32));
        for f in &w.frames {
            let json = json_of(f);
            assert!(json.starts_with(b"{\"@timestamp\":") && json.ends_with(b"}"));
        }
    }
}

#[test]
fn filebeat_capture_decodes_in_socket_sized_reads() {
    let windows = decode_chunked(FILEBEAT.chunks(1460)).unwrap();
    assert_eq!(windows, decode_ok(FILEBEAT));
}

#[test]
fn pylogbeat_capture_keeps_counting_across_windows() {
    let windows = decode_ok(PYLOGBEAT);
    assert_eq!(windows.len(), 2);
    assert_eq!(seqs(&windows[0]), vec![1, 2, 3]);
    assert_eq!(windows[0].last_seq, 3);
    assert_eq!(seqs(&windows[1]), vec![4, 5, 6]);
    assert_eq!(windows[1].last_seq, 6);
}

#[test]
fn pylogbeat_capture_decodes_at_every_split_point() {
    let whole = decode_ok(PYLOGBEAT);
    for at in 0..=PYLOGBEAT.len() {
        let (a, b) = PYLOGBEAT.split_at(at);
        assert_eq!(decode_chunked([a, b]).unwrap(), whole, "split at {at}");
    }
}

#[test]
fn compressed_bytes_are_counted() {
    let mut decoder = Decoder::new(Limits::default());
    let mut buf = BytesMut::from(PYLOGBEAT);
    while decoder.decode(&mut buf).unwrap().is_some() {}
    // Two `C` frames of 0x5d bytes each.
    assert_eq!(decoder.compressed_bytes_in(), 2 * 0x5d);
}

#[test]
fn corrupt_zlib_fails_the_same_way_at_every_split_point() {
    // Window 1 is one 60 kB frame, so at level 0 (stored blocks of just under 64 KiB) it ends
    // in the first block and window 2 runs into the second, whose header we break: zlib fails
    // right after the bytes that complete window 1, in the same inflate call when the reads
    // are large.
    let mut inner = BytesMut::new();
    encode::window(&mut inner, b'2', 1);
    let big = format!(r#"{{"message":"{}"}}"#, "a".repeat(60_000));
    encode::json(&mut inner, 1, big.as_bytes());
    encode::window(&mut inner, b'2', 2);
    let medium = format!(r#"{{"message":"{}"}}"#, "b".repeat(4_000));
    encode::json(&mut inner, 1, medium.as_bytes());
    encode::json(&mut inner, 2, medium.as_bytes());
    let mut s = BytesMut::new();
    encode::compressed(&mut s, b'2', &inner, 0);
    // 6 bytes of `C` header, 2 of zlib header, then the first stored block's header:
    // BFINAL/BTYPE, LEN (little-endian), NLEN.
    let first_len = u16::from_le_bytes([s[9], s[10]]) as usize;
    let second_nlen = 8 + 5 + first_len + 3;
    s[second_nlen] ^= 0xff;

    let outcome = |windows: Vec<Window>, err: Option<ProtocolError>| {
        (windows, err.as_ref().map(ProtocolError::kind))
    };
    let (windows, err) = decode_all(&s, Limits::default());
    let whole = outcome(windows, err);
    assert_eq!(whole.0.len(), 1);
    assert_eq!(whole.1, Some("corrupt_zlib"));
    let near = second_nlen.saturating_sub(200)..(second_nlen + 200).min(s.len());
    for at in (0..=s.len()).step_by(997).chain(near) {
        let mut decoder = Decoder::new(Limits::default());
        let mut buf = BytesMut::new();
        let mut windows = Vec::new();
        let mut err = None;
        'feed: for part in [&s[..at], &s[at..]] {
            buf.extend_from_slice(part);
            loop {
                match decoder.decode(&mut buf) {
                    Ok(Some(w)) => windows.push(w),
                    Ok(None) => break,
                    Err(e) => {
                        err = Some(e);
                        break 'feed;
                    }
                }
            }
        }
        if err.is_none() {
            err = decoder.finish(&buf).err();
        }
        assert_eq!(outcome(windows, err), whole, "split at {at}");
    }
}

#[test]
fn http_is_recognised_however_the_request_line_is_split() {
    let request = b"POST /_bulk HTTP/1.1\r\n";
    for at in 0..=request.len() {
        let (a, b) = request.split_at(at);
        assert_eq!(
            decode_chunked([a, b]),
            Err(ProtocolError::HttpOnBeatsPort),
            "split at {at}"
        );
    }
    // Garbage that starts like a method but is not one.
    assert_eq!(
        decode_chunked([&b"P"[..], b"XYZ"]),
        Err(ProtocolError::UnknownVersion(b'P'))
    );
    assert_eq!(
        decode_err(b"GE", Limits::default()),
        ProtocolError::UnexpectedEof
    );
}
