//! `sluice health`: asks a running Sluice's API whether it is ready (or alive), for container
//! health checks and probes where there is no shell and no curl. Exit 0 means yes. Its
//! one-request HTTP/1.0 client also fetches the `/metrics` page `sluice top` shows.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// What the probe asks: `/ready` (taking traffic) or `/live` (the process serves requests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    Ready,
    Live,
}

impl Check {
    fn path(self) -> &'static str {
        match self {
            Check::Ready => "/ready",
            Check::Live => "/live",
        }
    }
}

/// The answer is read up to this size; the API's answers are a few bytes.
const MAX_ANSWER: u64 = 64 * 1024;

/// Sends `GET /ready` or `GET /live` to the API at `address` and returns `Ok` on a 200, or
/// why not.
pub fn probe(address: &str, check: Check, timeout: Duration) -> Result<(), String> {
    fetch(address, check.path(), timeout, MAX_ANSWER).map(drop)
}

/// `GET path` from the API at `address`: the body of a 200 answer of at most `limit` bytes,
/// or why not.
pub fn fetch(address: &str, path: &str, timeout: Duration, limit: u64) -> Result<Vec<u8>, String> {
    let addr = resolve(address)?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("cannot reach the API at {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| e.to_string())?;
    // One write: a request split over several segments lets a fast peer answer and close
    // before the rest is sent.
    let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("cannot ask the API at {addr}: {e}"))?;
    let mut answer = Vec::new();
    // Headers come on top of the body: read a little past the limit to tell a body that
    // fits from one that does not.
    stream
        .take(limit + MAX_ANSWER)
        .read_to_end(&mut answer)
        .map_err(|e| format!("no answer from the API at {addr}: {e}"))?;
    match status(&answer) {
        Some(200) => {}
        Some(code) => return Err(format!("{path} answered {code}")),
        None => return Err(format!("the API at {addr} did not answer HTTP")),
    }
    let body = memchr::memmem::find(&answer, b"\r\n\r\n")
        .map(|end| answer.split_off(end + 4))
        .ok_or_else(|| format!("{path}: the answer ends inside its headers"))?;
    if body.len() as u64 > limit {
        return Err(format!("{path}: the answer is larger than {limit} bytes"));
    }
    Ok(body)
}

fn resolve(address: &str) -> Result<SocketAddr, String> {
    address
        .to_socket_addrs()
        .map_err(|e| format!("`{address}`: {e}"))?
        .next()
        .ok_or_else(|| format!("`{address}` resolves to no address"))
}

/// The status code of an HTTP/1.x answer's first line.
fn status(answer: &[u8]) -> Option<u16> {
    let line = answer.split(|&b| b == b'\n').next()?;
    let mut parts = std::str::from_utf8(line).ok()?.split_whitespace();
    parts.next().filter(|v| v.starts_with("HTTP/1."))?;
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_status_line_and_nothing_else() {
        assert_eq!(status(b"HTTP/1.1 200 OK\r\n\r\nready\n"), Some(200));
        assert_eq!(status(b"HTTP/1.0 503 Service Unavailable\r\n"), Some(503));
        assert_eq!(status(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(status(b""), None);
        assert_eq!(status(b"HTTP/1.1 abc\r\n"), None);
        assert_eq!(status(&[0xff, 0xfe, b'\n']), None);
    }

    #[test]
    fn a_closed_port_is_a_clear_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        drop(listener);
        let error = probe(&addr, Check::Ready, Duration::from_secs(1)).unwrap_err();
        assert!(error.starts_with("cannot reach the API at"), "{error}");
    }

    #[test]
    fn a_peer_that_is_not_http_is_named() {
        let addr = serve(b"SSH-2.0-OpenSSH_9.2\r\n".to_vec());
        let error = probe(&addr, Check::Live, Duration::from_secs(2)).unwrap_err();
        assert!(error.contains("did not answer HTTP"), "{error}");
    }

    /// A peer that answers every connection with `answer` after reading the request.
    fn serve(answer: Vec<u8>) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            for mut conn in listener.incoming().map_while(Result::ok) {
                let mut request = Vec::new();
                let mut buf = [0; 1024];
                while !request.ends_with(b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = conn.write_all(&answer);
            }
        });
        addr
    }

    #[test]
    fn fetch_returns_the_body_within_its_limit_and_refuses_the_rest() {
        let timeout = Duration::from_secs(2);
        let addr = serve(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello".to_vec());
        assert_eq!(fetch(&addr, "/metrics", timeout, 5).unwrap(), b"hello");
        let error = fetch(&addr, "/metrics", timeout, 4).unwrap_err();
        assert!(error.contains("larger than 4 bytes"), "{error}");

        let mut huge = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        huge.resize(8 << 20, b'x');
        let addr = serve(huge);
        let error = fetch(&addr, "/metrics", timeout, 1 << 20).unwrap_err();
        assert!(error.contains("larger than"), "{error}");

        let addr = serve(b"HTTP/1.1 200 OK\r\ncontent-le".to_vec());
        let error = fetch(&addr, "/metrics", timeout, 1 << 20).unwrap_err();
        assert!(error.contains("inside its headers"), "{error}");

        let addr = serve(b"HTTP/1.1 404 Not Found\r\n\r\n".to_vec());
        let error = fetch(&addr, "/nowhere", timeout, 1 << 20).unwrap_err();
        assert_eq!(error, "/nowhere answered 404");
    }
}
