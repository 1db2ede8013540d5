//! Gzip of request bodies, with one deflate state kept per thread and reset between bodies.
//!
//! A new deflate state is ~300 KiB of window and hash tables, allocated and zeroed. A bulk
//! body of a hundred spans compresses in less time than that takes, and the allocator hands
//! such blocks back to the kernel between requests, so each one came back as fresh pages to
//! fault in and clear. Resetting a kept state clears only the hash table.

use std::cell::RefCell;

use bytes::Bytes;
use flate2::{Compress, Compression, Crc, FlushCompress, Status};

thread_local! {
    /// This thread's deflate state and the level it was made for.
    static DEFLATE: RefCell<Option<(u32, Compress)>> = const { RefCell::new(None) };
}

/// `body` as a gzip member (RFC 1952) compressed at `level` (1–9).
pub fn gzip(body: &[u8], level: u32) -> Bytes {
    DEFLATE.with_borrow_mut(|kept| {
        let deflate = match kept {
            Some((made_for, deflate)) if *made_for == level => {
                deflate.reset();
                deflate
            }
            _ => {
                let deflate = Compress::new(Compression::new(level), false);
                &mut kept.insert((level, deflate)).1
            }
        };
        let mut out = Vec::with_capacity(HEADER.len() + body.len() / 4 + TRAILER_LEN);
        out.extend_from_slice(&HEADER);
        out[8] = extra_flags(level);
        let mut offset = 0;
        loop {
            out.reserve((body.len() - offset) / 4 + 64);
            let before = deflate.total_in();
            let status = deflate
                .compress_vec(&body[offset..], &mut out, FlushCompress::Finish)
                .expect("deflate into memory cannot fail");
            offset += (deflate.total_in() - before) as usize;
            if status == Status::StreamEnd {
                break;
            }
        }
        let mut crc = Crc::new();
        crc.update(body);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        // ISIZE is the length modulo 2^32 by definition.
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        Bytes::from(out)
    })
}

/// Magic, deflate, no flags, no modification time, extra flags (set per level), unknown OS.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
/// CRC-32 and ISIZE.
const TRAILER_LEN: usize = 8;

/// XFL: 2 for the slowest level, 4 for the fastest, as gzip(1) writes it.
fn extra_flags(level: u32) -> u8 {
    match level {
        9.. => 2,
        0 | 1 => 4,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(gz: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(gz)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn round_trips_with_the_state_reused_across_bodies_and_levels() {
        let bodies: [&[u8]; 4] = [
            b"{\"a\":1}\n",
            b"",
            &b"{\"index\":{}}\n{\"n\":12345}\n".repeat(5000),
            // Incompressible: the output outgrows the first reservation.
            &(0..200_000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect::<Vec<u8>>(),
        ];
        for level in [1, 1, 6, 9, 1] {
            for body in bodies {
                let gz = gzip(body, level);
                assert_eq!(gunzip(&gz), body, "level {level}, {} bytes", body.len());
            }
        }
    }

    #[test]
    fn the_trailer_holds_the_crc_and_length() {
        let gz = gzip(b"hello", 1);
        let trailer = &gz[gz.len() - 8..];
        let mut crc = Crc::new();
        crc.update(b"hello");
        assert_eq!(trailer[..4], crc.sum().to_le_bytes());
        assert_eq!(trailer[4..], 5u32.to_le_bytes());
        assert_eq!(gz[..2], [0x1f, 0x8b]);
    }
}
