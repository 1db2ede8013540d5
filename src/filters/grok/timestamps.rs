//! Native matchers for the library's timestamps: HTTPDATE, TIMESTAMP_ISO8601 and
//! SYSLOGTIMESTAMP, each giving the end of the definition's own leftmost-first match.
//!
//! Every sub-field of these definitions (MONTHDAY, MONTH, YEAR, HOUR, …) is followed by a
//! literal delimiter it cannot contain (`/`, `-`, `:`, a space), so its end is forced: the next
//! delimiter. The matcher reads up to it and checks the span against the sub-field's language
//! (a few byte comparisons) instead of running an automaton. The optional tails (seconds,
//! fractions, time zones) are resolved in the order a backtracking engine tries them.
//!
//! A matcher that meets a shape it does not resolve on its own (an ISO 8601 hour without a
//! colon, say) returns `None`; the fast path then lets the general engine decide, so `None`
//! costs time, never correctness.

use regex_automata::util::look::LookMatcher;

fn digits(bytes: &[u8], at: usize) -> usize {
    bytes.get(at..).map_or(0, |rest| {
        rest.iter().take_while(|b| b.is_ascii_digit()).count()
    })
}

fn is_digit(bytes: &[u8], at: usize) -> bool {
    bytes.get(at).is_some_and(u8::is_ascii_digit)
}

/// MONTHDAY: `0[1-9]|[12][0-9]|3[01]|[1-9]`.
fn month_day(d: &[u8]) -> bool {
    matches!(
        d,
        [b'1'..=b'9'] | [b'0', b'1'..=b'9'] | [b'1' | b'2', _] | [b'3', b'0' | b'1']
    )
}

/// MONTHNUM: `0?[1-9]|1[0-2]`.
fn month_num(d: &[u8]) -> bool {
    matches!(d, [b'1'..=b'9'] | [b'0', b'1'..=b'9'] | [b'1', b'0'..=b'2'])
}

/// HOUR: `2[0123]|[01]?[0-9]`.
fn hour(d: &[u8]) -> bool {
    matches!(d, [_] | [b'2', b'0'..=b'3'] | [b'0' | b'1', _])
}

/// MINUTE: `[0-5][0-9]`, at `at`.
fn minute(bytes: &[u8], at: usize) -> bool {
    matches!(bytes.get(at), Some(b'0'..=b'5')) && is_digit(bytes, at + 1)
}

/// MONTH's words (`[Jj]an(?:uary|uar)?`, `[Mm](?:a|ä)?r(?:ch|z)?`, …): a finite language
/// whose first letter alone may be upper or lower case.
pub(super) fn month_name(word: &[u8]) -> bool {
    let Some((&first, rest)) = word.split_first() else {
        return false;
    };
    let rests: &[&[u8]] = match first.to_ascii_lowercase() {
        b'j' => &[
            b"an", b"anuary", b"anuar", b"un", b"une", b"uni", b"ul", b"uly", b"uli",
        ],
        b'f' => &[b"eb", b"ebruary", b"ebruar"],
        b'm' => &[
            b"r",
            b"rch",
            b"rz",
            b"ar",
            b"arch",
            b"arz",
            "är".as_bytes(),
            "ärch".as_bytes(),
            "ärz".as_bytes(),
            b"a",
            b"ay",
            b"ai",
        ],
        b'a' => &[b"pr", b"pril", b"ug", b"ugust"],
        b's' => &[b"ep", b"eptember"],
        b'o' => &[b"t", b"tober", b"ct", b"ctober", b"kt", b"ktober"],
        b'n' => &[b"ov", b"ovember"],
        b'd' => &[b"ec", b"ecember", b"ez", b"ezember"],
        _ => return false,
    };
    // Compared byte by byte: these words are a few bytes long, shorter than a `memcmp` call.
    rests
        .iter()
        .any(|r| r.len() == rest.len() && super::native::has_prefix(rest, r))
}

/// MONTH at `at` followed by `delimiter`: the position of the delimiter. MONTH's words end in
/// an ASCII letter, so the `\b` after one holds before any delimiter that is not a word
/// character.
fn month(bytes: &[u8], at: usize, delimiter: u8) -> Option<usize> {
    // The longest word, `September`, has nine bytes.
    let window = bytes.get(at..(at + 10).min(bytes.len()))?;
    // A byte loop: the window is too short for `memchr` to pay for its call.
    let len = window.iter().position(|&b| b == delimiter)?;
    month_name(&window[..len]).then_some(at + len)
}

/// SECOND (`(?:[0-5]?[0-9]|60)(?:[:.,][0-9]+)?`) at `at` with its greedy fraction. With
/// `not_before_digit`, TIME's `(?![0-9])` must hold after it, which can make a later option
/// the first that matches (`60`).
fn second(bytes: &[u8], at: usize, not_before_digit: bool) -> Option<usize> {
    let first = *bytes.get(at)?;
    let two_digits = is_digit(bytes, at + 1);
    let options = [
        (matches!(first, b'0'..=b'5') && two_digits).then_some(at + 2),
        first.is_ascii_digit().then_some(at + 1),
        (first == b'6' && bytes.get(at + 1) == Some(&b'0')).then_some(at + 2),
    ];
    options.into_iter().flatten().find_map(|end| {
        let end = match bytes.get(end) {
            Some(b':' | b'.' | b',') if is_digit(bytes, end + 1) => {
                end + 1 + digits(bytes, end + 1)
            }
            _ => end,
        };
        (!not_before_digit || !is_digit(bytes, end)).then_some(end)
    })
}

/// A 1–2 digit field that `delimiter` ends, valid by `valid`: the delimiter's position.
fn field(bytes: &[u8], at: usize, valid: fn(&[u8]) -> bool, delimiter: &[u8]) -> Option<usize> {
    let len = digits(bytes, at);
    let end = at + len;
    (len <= 2 && valid(&bytes[at..end]) && bytes.get(end).is_some_and(|b| delimiter.contains(b)))
        .then_some(end)
}

/// TIME: `(?!<[0-9])%{HOUR}:%{MINUTE}(?::%{SECOND})(?![0-9])`. The first look-ahead always
/// holds before HOUR's digit.
fn time(bytes: &[u8], at: usize) -> Option<usize> {
    // The usual `HH:MM:SS` followed by neither a digit nor a fraction's separator is read in
    // one go: each option below would take it first and stop there.
    if let Some(&[h1, h2, b':', m1, m2, b':', s1, s2]) = bytes.get(at..at + 8) {
        let digit = |b: u8| b.is_ascii_digit();
        let ends = !matches!(bytes.get(at + 8), Some(b'0'..=b'9' | b':' | b'.' | b','));
        if ends
            && digit(h1)
            && digit(h2)
            && hour(&[h1, h2])
            && matches!(m1, b'0'..=b'5')
            && digit(m2)
            && matches!(s1, b'0'..=b'5')
            && digit(s2)
        {
            return Some(at + 8);
        }
    }
    let colon = field(bytes, at, hour, b":")?;
    if !minute(bytes, colon + 1) || bytes.get(colon + 3) != Some(&b':') {
        return None;
    }
    second(bytes, colon + 4, true)
}

/// YEAR (`(?>\d\d){1,2}`) ended by `delimiter`.
fn year(bytes: &[u8], at: usize, delimiter: u8) -> Option<usize> {
    let len = digits(bytes, at);
    ((len == 2 || len == 4) && bytes.get(at + len) == Some(&delimiter)).then_some(at + len)
}

/// HTTPDATE: `%{MONTHDAY}/%{MONTH}/%{YEAR}:%{TIME} %{INT}`.
pub fn http_date(bytes: &[u8], at: usize) -> Option<usize> {
    let slash = field(bytes, at, month_day, b"/")?;
    let slash = month(bytes, slash + 1, b'/')?;
    let colon = year(bytes, slash + 1, b':')?;
    let end = time(bytes, colon + 1)?;
    if bytes.get(end) != Some(&b' ') {
        return None;
    }
    let sign = usize::from(matches!(bytes.get(end + 1), Some(b'+' | b'-')));
    let len = digits(bytes, end + 1 + sign);
    (len > 0).then_some(end + 1 + sign + len)
}

/// TIMESTAMP_ISO8601: `%{YEAR}-%{MONTHNUM}-%{MONTHDAY}[T ]%{HOUR}:?%{MINUTE}(?::?%{SECOND})?
/// %{ISO8601_TIMEZONE}?`. Only an hour followed by a colon is resolved here.
pub fn iso8601(bytes: &[u8], at: usize) -> Option<usize> {
    let dash = year(bytes, at, b'-')?;
    let dash = field(bytes, dash + 1, month_num, b"-")?;
    let t = field(bytes, dash + 1, month_day, b"T ")?;
    let colon = field(bytes, t + 1, hour, b":")?;
    if !minute(bytes, colon + 1) {
        return None;
    }
    let mut end = colon + 3;
    // `(?::?%{SECOND})?`: with the colon if a second follows it, else without.
    let seconds_at = if bytes.get(end) == Some(&b':') && is_digit(bytes, end + 1) {
        end + 1
    } else {
        end
    };
    if is_digit(bytes, seconds_at) {
        end = second(bytes, seconds_at, false)?;
    }
    Some(time_zone(bytes, end).unwrap_or(end))
}

/// ISO8601_TIMEZONE: `Z|[+-]%{HOUR}(?::?%{MINUTE})`, when one starts at `at`.
fn time_zone(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'Z' => Some(at + 1),
        b'+' | b'-' => {
            let h = at + 1;
            let first = *bytes.get(h)?;
            // HOUR's options in the order they are tried.
            let hours = [
                (first == b'2' && matches!(bytes.get(h + 1), Some(b'0'..=b'3'))).then_some(h + 2),
                (matches!(first, b'0' | b'1') && is_digit(bytes, h + 1)).then_some(h + 2),
                first.is_ascii_digit().then_some(h + 1),
            ];
            hours.into_iter().flatten().find_map(|end| {
                if bytes.get(end) == Some(&b':') && minute(bytes, end + 1) {
                    Some(end + 3)
                } else {
                    minute(bytes, end).then_some(end + 2)
                }
            })
        }
        _ => None,
    }
}

/// SYSLOGTIMESTAMP: `%{MONTH} +%{MONTHDAY} %{TIME}`, MONTH starting with `\b`.
pub fn syslog_timestamp(bytes: &[u8], at: usize, looks: &LookMatcher) -> Option<usize> {
    if !super::native::word_boundary(bytes, at, looks)? {
        return None;
    }
    let space = month(bytes, at, b' ')?;
    let day = space + bytes[space..].iter().take_while(|&&b| b == b' ').count();
    let space = field(bytes, day, month_day, b" ")?;
    time(bytes, space + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_follow_the_order_options_are_tried_in() {
        assert_eq!(second(b"56 ", 0, true), Some(2));
        assert_eq!(
            second(b"60 ", 0, true),
            Some(2),
            "`60` after `6` fails the look-ahead"
        );
        assert_eq!(second(b"60 ", 0, false), Some(1), "without it `6` is first");
        assert_eq!(second(b"7 ", 0, true), Some(1));
        assert_eq!(second(b"567", 0, true), None);
        assert_eq!(second(b"56.123Z", 0, true), Some(6));
        assert_eq!(second(b"56.x", 0, false), Some(2));
    }

    #[test]
    fn plain_times_read_at_once_end_where_the_options_do() {
        assert_eq!(time(b"16:25:56 x", 0), Some(8));
        assert_eq!(time(b"16:25:56", 0), Some(8));
        assert_eq!(time(b"16:25:56.123 x", 0), Some(12), "a fraction is read");
        assert_eq!(time(b"16:25:56:7", 0), Some(10));
        assert_eq!(time(b"16:25:567", 0), None, "the look-ahead fails");
        assert_eq!(time(b"1 :25:56", 0), None);
        assert_eq!(time(b"1]:25:56", 0), None);
        assert_eq!(time(b"24:25:56", 0), None);
        assert_eq!(time(b"16:65:56", 0), None);
        assert_eq!(
            time(b"16:25:60 x", 0),
            Some(8),
            "`60` is SECOND's last option"
        );
        assert_eq!(time(b"6:25:56 x", 0), Some(7));
    }

    #[test]
    fn timestamps() {
        let date = b"17/May/2015:10:05:03 +0000] x";
        assert_eq!(http_date(date, 0), Some(26));
        assert_eq!(http_date(b"17/Mai/15:10:05:03.5 -12", 0), Some(24));
        assert_eq!(http_date(b"32/May/2015:10:05:03 +0000", 0), None);
        assert_eq!(http_date(b"17/Mayo/2015:10:05:03 +0000", 0), None);
        assert_eq!(http_date(b"17/May/2015:24:05:03 +0000", 0), None);
        let iso = b"2026-11-24T16:25:56.123Z INFO";
        assert_eq!(iso8601(iso, 0), Some(24));
        assert_eq!(iso8601(b"2026-11-24 16:25:56,789 ERROR", 0), Some(23));
        assert_eq!(iso8601(b"2026-11-24T16:25+05:30", 0), Some(22));
        assert_eq!(
            iso8601(b"2026-11-24T16:25:56+0", 0),
            Some(19),
            "no zone minute"
        );
        assert_eq!(iso8601(b"2026-11-24T16:25:", 0), Some(16));
        assert_eq!(iso8601(b"2026-13-24T16:25", 0), None);
        assert_eq!(iso8601(b"2026-11-24T1625", 0), None, "left to the automata");
        let looks = LookMatcher::new();
        assert_eq!(syslog_timestamp(b"Nov  4 16:25:56 h", 0, &looks), Some(15));
        assert_eq!(
            syslog_timestamp("M\u{e4}rz 4 1:25:56".as_bytes(), 0, &looks),
            Some(15)
        );
        assert_eq!(syslog_timestamp(b"Nov 4 16:25 h", 0, &looks), None);
        assert_eq!(syslog_timestamp(b"xNov 4 16:25:56", 1, &looks), None, "\\b");
    }

    #[test]
    fn month_names_are_the_definitions_words() {
        for word in [
            "Jan", "january", "Mr", "März", "Ot", "oktober", "Dez", "Mai", "Sep",
        ] {
            assert!(month_name(word.as_bytes()), "{word}");
        }
        for word in ["JAN", "Janu", "Mä", "O", "Decem", "", "Sept"] {
            assert!(!month_name(word.as_bytes()), "{word}");
        }
    }
}
