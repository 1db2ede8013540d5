//! The native matcher for IPORHOST (`(?:%{IP}|%{HOSTNAME})`, also SYSLOGHOST's body): the
//! end of the definition's own leftmost-first match, read with byte comparisons.
//!
//! IP tries IPV6 first. Every IPV6 alternative starts with 1–4 hex digits and a colon, or
//! with a colon; where that may start the matcher returns `None` and the automata decide (so
//! `None` costs time, never correctness). Otherwise an IPV4 match, if any, wins, and else a
//! HOSTNAME match.

use regex_automata::util::look::LookMatcher;

/// IPORHOST at `at`.
pub fn ip_or_host(bytes: &[u8], at: usize, looks: &LookMatcher) -> Option<usize> {
    if may_start_ipv6(bytes, at) {
        return None;
    }
    ipv4(bytes, at).or_else(|| hostname(bytes, at, looks))
}

fn may_start_ipv6(bytes: &[u8], at: usize) -> bool {
    let hex = bytes[at..]
        .iter()
        .take(5)
        .take_while(|b| b.is_ascii_hexdigit())
        .count();
    hex <= 4 && bytes.get(at + hex) == Some(&b':')
}

/// IPV4: `(?<![0-9])` four octets `(?:[0-1]?[0-9]{1,2}|2[0-4][0-9]|25[0-5])` joined by dots,
/// then `(?![0-9])`. Each octet is followed by a dot or the look-ahead, so it is a whole run
/// of digits.
fn ipv4(bytes: &[u8], at: usize) -> Option<usize> {
    if at > 0 && bytes[at - 1].is_ascii_digit() {
        return None;
    }
    let mut end = at;
    for octet in 0..4 {
        if octet > 0 {
            if bytes.get(end) != Some(&b'.') {
                return None;
            }
            end += 1;
        }
        let len = bytes[end..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let valid = matches!(
            bytes[end..end + len],
            [_] | [_, _] | [b'0' | b'1', _, _] | [b'2', b'0'..=b'4', _] | [b'2', b'5', b'0'..=b'5']
        );
        if !valid {
            return None;
        }
        end += len;
    }
    Some(end)
}

/// HOSTNAME: `\b(?:[0-9A-Za-z][0-9A-Za-z-]{0,62})(?:\.(?:[0-9A-Za-z][0-9A-Za-z-]{0,62}))*
/// (\.?|\b)`. Nothing after the labels can fail (`\.?` matches anyway), so the first match
/// takes every quantifier greedily.
fn hostname(bytes: &[u8], at: usize, looks: &LookMatcher) -> Option<usize> {
    if !super::native::word_boundary(bytes, at, looks)? {
        return None;
    }
    let label = |from: usize| -> usize {
        match bytes.get(from) {
            Some(b) if b.is_ascii_alphanumeric() => {
                1 + bytes[from + 1..]
                    .iter()
                    .take(62)
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
                    .count()
            }
            _ => 0,
        }
    };
    let mut end = at + label(at);
    if end == at {
        return None;
    }
    while bytes.get(end) == Some(&b'.') {
        match label(end + 1) {
            // The dot ends the name: `\.?` takes it.
            0 => return Some(end + 1),
            len => end += 1 + len,
        }
    }
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(s: &str, at: usize) -> Option<usize> {
        ip_or_host(s.as_bytes(), at, &LookMatcher::new())
    }

    #[test]
    fn addresses_and_names() {
        assert_eq!(end("83.149.9.216 - -", 0), Some(12));
        assert_eq!(end("10.0.0.255", 0), Some(10));
        assert_eq!(end("1.2.3.4.5 x", 0), Some(7));
        assert_eq!(end("1.2.3.256 x", 0), Some(9), "not IPV4, so HOSTNAME");
        assert_eq!(end("web-01 sshd", 0), Some(6));
        assert_eq!(end("example.com. x", 0), Some(12));
        assert_eq!(end("a.-b", 0), Some(2));
        assert_eq!(end("-a", 0), None);
        assert_eq!(end("19.1.1.1", 1), None, "look-behind and \\b both fail");
        assert_eq!(end("fe80::1", 0), None, "left to the automata");
        assert_eq!(end("abcde:1", 0), Some(5));
        assert_eq!(end("\u{e9}abc", 2), None, "é is a word character");
        let long = "a".repeat(70);
        assert_eq!(end(&long, 0), Some(63));
    }
}
