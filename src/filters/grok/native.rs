//! Hand-written matchers for the library's most common fields, used by the fast path in
//! place of automata when a piece is exactly one of them.
//!
//! Each returns the end of the piece's own leftmost-first match anchored at a position, the
//! same answer its automata would give (the differential suite checks this against
//! Oniguruma), but scans with `memchr` or a tight byte loop instead of one table lookup per
//! byte. A piece is recognised by comparing its syntax tree with the tree of the library
//! definition, so a user pattern spelling the same regex differently, or a redefined
//! sub-pattern, simply keeps the automata. The composite fields (addresses, timestamps) contain
//! look-arounds, which appear as numbered marker groups; they are compared with each marker
//! replaced by a description of its assertion, so the numbering does not matter.

use std::sync::OnceLock;

use regex_automata::util::look::LookMatcher;
use regex_syntax::hir::{Hir, HirKind};

use super::dialect::{translate, LookAround};
use super::expand::expand;
use super::{address, timestamps, EcsCompatibility, PatternLibrary};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Native {
    /// `\S+`: NOTSPACE.
    NotSpace,
    /// `.*` in dot-all mode: GREEDYDATA.
    Rest,
    /// `\b\w+\b` with ASCII `\w` and Unicode `\b`: WORD.
    Word,
    /// `[+-]?[0-9]+`: INT.
    Int,
    /// `\b[1-9][0-9]*\b`: POSINT.
    PosInt,
    /// `\b[0-9]+\b`: NONNEGINT.
    NonNegInt,
    /// BASE10NUM (NUMBER) after its look-behind: `[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)`.
    Number,
    /// QUOTEDSTRING after its look-behind: `"…"`, `'…'` or `` `…` `` with `\` escapes.
    Quoted,
    /// `(?:[a-zA-Z$_][a-zA-Z$_0-9]*\.)*[a-zA-Z$_][a-zA-Z$_0-9]*`: JAVACLASS.
    JavaClass,
    /// LOGLEVEL: one of the library's level words, see [`LEVELS`].
    LogLevel,
    /// URIPATHPARAM: `(?:/[path chars]*)+`, then optionally `?` and query characters.
    UriPathParam,
    /// IPORHOST (and SYSLOGHOST).
    IpOrHost,
    /// HTTPDATE.
    HttpDate,
    /// TIMESTAMP_ISO8601.
    Iso8601,
    /// SYSLOGTIMESTAMP.
    SyslogTimestamp,
}

/// The library's definitions, as the dialect translates them, with their native matcher.
fn table() -> &'static [(Hir, Native)] {
    static TABLE: OnceLock<Vec<(Hir, Native)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        [
            (r"\S+", Native::NotSpace),
            (r".*", Native::Rest),
            (r"\b\w+\b", Native::Word),
            (r"(?:[+-]?(?:[0-9]+))", Native::Int),
            (r"\b[1-9][0-9]*\b", Native::PosInt),
            (r"\b[0-9]+\b", Native::NonNegInt),
            (
                r"(?>[+-]?(?:(?:[0-9]+(?:\.[0-9]+)?)|(?:\.[0-9]+)))",
                Native::Number,
            ),
            (
                r#"(?>"(?>\\.|[^\\"]+)+"|""|(?>'(?>\\.|[^\\']+)+')|''|(?>`(?>\\.|[^\\`]+)+`)|``)"#,
                Native::Quoted,
            ),
            (
                r"(?:[a-zA-Z$_][a-zA-Z$_0-9]*\.)*[a-zA-Z$_][a-zA-Z$_0-9]*",
                Native::JavaClass,
            ),
            (
                "[Ee]merg(?:ency)?|EMERG(?:ENCY)?|[Aa]lert|ALERT|[Cc]rit?(?:ical)?|CRIT?(?:ICAL)?|\
                 [Ff]atal|FATAL|[Ss]evere|SEVERE|[Ee]rr?(?:or)?|ERR?(?:OR)?|[Ww]arn?(?:ing)?|\
                 WARN?(?:ING)?|[Nn]otice|NOTICE|[Ii]nfo?(?:rmation)?|INFO?(?:RMATION)?|[Dd]ebug|\
                 DEBUG|[Tt]race|TRACE",
                Native::LogLevel,
            ),
            (
                r"(?:/[\w$.+!*'(){},~:;=@#%&-]*)+(?:\?[\w$.+!*'|(){},~@#%&/=:;?\[\]<>-]*)?",
                Native::UriPathParam,
            ),
        ]
        .into_iter()
        .filter_map(|(source, native)| {
            let regex = translate(source).ok()?.regex;
            Some((regex_syntax::parse(&regex).ok()?, native))
        })
        .collect()
    })
}

/// The native matcher for `hir`, if it is one of the recognised definitions.
pub fn recognise(hir: &Hir) -> Option<Native> {
    table()
        .iter()
        .find(|(known, _)| known == hir)
        .map(|(_, native)| *native)
}

/// The composite definitions as both built-in sets expand them, markers described.
fn field_table() -> &'static [(Hir, Native)] {
    static TABLE: OnceLock<Vec<(Hir, Native)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = Vec::new();
        for mode in [EcsCompatibility::Disabled, EcsCompatibility::V1] {
            let library = PatternLibrary::builtin(mode);
            for (name, native) in [
                ("IPORHOST", Native::IpOrHost),
                ("HTTPDATE", Native::HttpDate),
                ("TIMESTAMP_ISO8601", Native::Iso8601),
                ("SYSLOGTIMESTAMP", Native::SyslogTimestamp),
            ] {
                let Ok(expanded) = expand(&format!("%{{{name}}}"), &library, true) else {
                    continue;
                };
                let Ok(translated) = translate(&expanded) else {
                    continue;
                };
                let Ok(hir) = regex_syntax::parse(&translated.regex) else {
                    continue;
                };
                let hir = describe_markers(&hir, &translated.looks);
                if !table.contains(&(hir.clone(), native)) {
                    table.push((hir, native));
                }
            }
        }
        table
    })
}

/// The native matcher for a capture group's body `hir` (in a pattern whose look-arounds are
/// `looks`), if it is one of the recognised composite definitions.
pub fn recognise_field(hir: &Hir, looks: &[LookAround]) -> Option<Native> {
    let described = describe_markers(hir, looks);
    field_table()
        .iter()
        .find(|(known, _)| *known == described)
        .map(|(_, native)| *native)
}

/// `hir` with every look-around marker group replaced by a literal naming its assertion.
fn describe_markers(hir: &Hir, looks: &[LookAround]) -> Hir {
    match hir.kind() {
        HirKind::Capture(cap) => match looks.iter().find(|l| l.index == cap.index as usize) {
            // U+FFFF is a noncharacter: no real pattern spells this literal.
            Some(look) => Hir::literal(
                format!("\u{ffff}{}{}{}", look.ahead, look.negated, look.body).into_bytes(),
            ),
            None => Hir::capture(regex_syntax::hir::Capture {
                index: cap.index,
                name: cap.name.clone(),
                sub: Box::new(describe_markers(&cap.sub, looks)),
            }),
        },
        HirKind::Concat(items) => {
            Hir::concat(items.iter().map(|h| describe_markers(h, looks)).collect())
        }
        HirKind::Alternation(items) => {
            Hir::alternation(items.iter().map(|h| describe_markers(h, looks)).collect())
        }
        HirKind::Repetition(rep) => Hir::repetition(regex_syntax::hir::Repetition {
            sub: Box::new(describe_markers(&rep.sub, looks)),
            ..rep.clone()
        }),
        _ => hir.clone(),
    }
}

/// Unicode `\b` at `at`, decided from the neighbouring bytes when both are ASCII (the
/// common case, much cheaper than the Unicode tables).
pub(super) fn word_boundary(bytes: &[u8], at: usize, looks: &LookMatcher) -> Option<bool> {
    let before = at.checked_sub(1).map(|i| bytes[i]);
    let after = bytes.get(at).copied();
    if before.is_none_or(|b| b.is_ascii()) && after.is_none_or(|b| b.is_ascii()) {
        let word = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
        return Some(word(before) != word(after));
    }
    looks.is_word_unicode(bytes, at).ok()
}

/// One of LOGLEVEL's alternatives: first bytes, the rest of the word, optional suffixes.
type Level = (&'static [u8], &'static [u8], &'static [&'static [u8]]);

/// LOGLEVEL's alternatives in the definition's order: the first byte (either case where the
/// definition has `[Ee]`), the rest of the word, then the optional suffixes, each taken when
/// present. The first alternative whose required part matches is the leftmost-first choice,
/// and its optional parts are greedy, so its end is the definition's.
const LEVELS: &[Level] = &[
    (b"Ee", b"merg", &[b"ency"]),
    (b"E", b"MERG", &[b"ENCY"]),
    (b"Aa", b"lert", &[]),
    (b"A", b"LERT", &[]),
    (b"Cc", b"ri", &[b"t", b"ical"]),
    (b"C", b"RI", &[b"T", b"ICAL"]),
    (b"Ff", b"atal", &[]),
    (b"F", b"ATAL", &[]),
    (b"Ss", b"evere", &[]),
    (b"S", b"EVERE", &[]),
    (b"Ee", b"r", &[b"r", b"or"]),
    (b"E", b"R", &[b"R", b"OR"]),
    (b"Ww", b"ar", &[b"n", b"ing"]),
    (b"W", b"AR", &[b"N", b"ING"]),
    (b"Nn", b"otice", &[]),
    (b"N", b"OTICE", &[]),
    (b"Ii", b"nf", &[b"o", b"rmation"]),
    (b"I", b"NF", &[b"O", b"RMATION"]),
    (b"Dd", b"ebug", &[]),
    (b"D", b"EBUG", &[]),
    (b"Tt", b"race", &[]),
    (b"T", b"RACE", &[]),
];

/// Per first byte, the [`LEVELS`] it can start, one bit each: most bytes start none, a
/// letter at most four.
static LEVEL_STARTS: [u32; 256] = {
    let mut table = [0; 256];
    let mut i = 0;
    while i < LEVELS.len() {
        let firsts = LEVELS[i].0;
        let mut j = 0;
        while j < firsts.len() {
            table[firsts[j] as usize] |= 1 << i;
            j += 1;
        }
        i += 1;
    }
    table
};

fn log_level(bytes: &[u8], at: usize) -> Option<usize> {
    let mut candidates = LEVEL_STARTS[*bytes.get(at)? as usize];
    while candidates != 0 {
        let (_, rest, optional) = LEVELS[candidates.trailing_zeros() as usize];
        candidates &= candidates - 1;
        if !has_prefix(&bytes[at + 1..], rest) {
            continue;
        }
        let mut end = at + 1 + rest.len();
        for suffix in optional {
            if has_prefix(&bytes[end..], suffix) {
                end += suffix.len();
            }
        }
        return Some(end);
    }
    None
}

/// `haystack.starts_with(prefix)` for short literals: a byte loop, where the slice method
/// calls `memcmp`.
pub(super) fn has_prefix(haystack: &[u8], prefix: &[u8]) -> bool {
    haystack.len() >= prefix.len() && prefix.iter().zip(haystack).all(|(a, b)| a == b)
}

/// A 256-entry membership table for the ASCII bytes in `members` and every ASCII letter,
/// digit and `_` (`\w`).
const fn word_and(members: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 128 {
        table[b] = (b as u8).is_ascii_alphanumeric() || b == b'_' as usize;
        b += 1;
    }
    let mut i = 0;
    while i < members.len() {
        table[members[i] as usize] = true;
        i += 1;
    }
    table
}

/// URIPATH's characters and the `/` that starts each segment: a segment's characters never
/// include `/`, so the repetition's greedy end is the end of this run.
static URI_PATH: [bool; 256] = word_and(b"$.+!*'(){},~:;=@#%&-/");
/// URIPARAM's characters after its `?`.
static URI_QUERY: [bool; 256] = word_and(b"$.+!*'|(){},~@#%&/=:;?[]<>-");

fn uri_path_param(bytes: &[u8], at: usize) -> Option<usize> {
    if bytes.get(at) != Some(&b'/') {
        return None;
    }
    let run = |from: usize, table: &[bool; 256]| {
        from + bytes[from..]
            .iter()
            .take_while(|&&b| table[b as usize])
            .count()
    };
    let end = run(at + 1, &URI_PATH);
    Some(match bytes.get(end) {
        Some(b'?') => run(end + 1, &URI_QUERY),
        _ => end,
    })
}

/// The end of a Java identifier (`[a-zA-Z$_][a-zA-Z$_0-9]*`) starting at `at`.
fn java_identifier(bytes: &[u8], at: usize) -> Option<usize> {
    let first = *bytes.get(at)?;
    if !JAVA_IDENTIFIER[first as usize] || first.is_ascii_digit() {
        return None;
    }
    let len = bytes[at + 1..]
        .iter()
        .take_while(|&&b| JAVA_IDENTIFIER[b as usize])
        .count();
    Some(at + 1 + len)
}

/// `[a-zA-Z$_0-9]`, looked up rather than compared: class names are long.
static JAVA_IDENTIFIER: [bool; 256] = word_and(b"$");

/// Every byte but `\s`'s six.
static NOT_SPACE: [bool; 256] = {
    let mut table = [true; 256];
    let mut i = 0;
    let spaces = b"\t\n\x0b\x0c\r ";
    while i < spaces.len() {
        table[spaces[i] as usize] = false;
        i += 1;
    }
    table
};

fn digits(bytes: &[u8], at: usize) -> usize {
    bytes[at.min(bytes.len())..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count()
}

impl Native {
    /// The end of this field's leftmost-first match anchored at `at`. Inlined into the
    /// fast path's span step, so a field costs one dispatch on its matcher rather than a
    /// call and a second jump table (log4j match 103 -> 86 ns, SYSLOGLINE 103 -> 98).
    #[inline(always)]
    pub fn end(self, haystack: &str, at: usize, looks: &LookMatcher) -> Option<usize> {
        let bytes = haystack.as_bytes();
        match self {
            Native::NotSpace => {
                let len = bytes[at..]
                    .iter()
                    .take_while(|&&b| NOT_SPACE[b as usize])
                    .count();
                (len > 0).then_some(at + len)
            }
            Native::Rest => Some(bytes.len()),
            Native::Word => {
                if !word_boundary(bytes, at, looks)? {
                    return None;
                }
                let len = bytes[at..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
                // Every position inside the run lies between two word characters, so if the
                // run's end is not a boundary no shorter run ends at one either.
                (len > 0 && word_boundary(bytes, at + len, looks)?).then_some(at + len)
            }
            Native::Int => {
                let sign = usize::from(matches!(bytes.get(at), Some(b'+' | b'-')));
                let len = digits(bytes, at + sign);
                (len > 0).then_some(at + sign + len)
            }
            Native::PosInt | Native::NonNegInt => {
                if self == Native::PosInt && bytes.get(at) == Some(&b'0') {
                    return None;
                }
                // No boundary lies between two digits, so only the whole run can end at one.
                let len = digits(bytes, at);
                (len > 0
                    && word_boundary(bytes, at, looks)?
                    && word_boundary(bytes, at + len, looks)?)
                .then_some(at + len)
            }
            Native::Number => {
                let start = at + usize::from(matches!(bytes.get(at), Some(b'+' | b'-')));
                let int = digits(bytes, start);
                let fraction = |from: usize| match bytes.get(from) {
                    Some(b'.') => Some(digits(bytes, from + 1)).filter(|&n| n > 0),
                    _ => None,
                };
                if int > 0 {
                    let end = start + int;
                    Some(fraction(end).map_or(end, |n| end + 1 + n))
                } else {
                    fraction(start).map(|n| start + 1 + n)
                }
            }
            Native::JavaClass => {
                // The repetition takes every `identifier.` it can; an identifier can never
                // contain a dot, so each iteration's end is forced and the last identifier
                // is the one not followed by `.identifier`.
                let mut end = java_identifier(bytes, at)?;
                while bytes.get(end) == Some(&b'.') {
                    match java_identifier(bytes, end + 1) {
                        Some(next) => end = next,
                        None => break,
                    }
                }
                Some(end)
            }
            Native::LogLevel => log_level(bytes, at),
            Native::UriPathParam => uri_path_param(bytes, at),
            Native::IpOrHost => address::ip_or_host(bytes, at, looks),
            Native::HttpDate => timestamps::http_date(bytes, at),
            Native::Iso8601 => timestamps::iso8601(bytes, at),
            Native::SyslogTimestamp => timestamps::syslog_timestamp(bytes, at, looks),
            Native::Quoted => {
                let quote = *bytes.get(at)?;
                if !matches!(quote, b'"' | b'\'' | b'`') {
                    return None;
                }
                let mut i = at + 1;
                if bytes.get(i) == Some(&quote) {
                    return Some(i + 1);
                }
                loop {
                    let found = i + memchr::memchr2(quote, b'\\', &bytes[i..])?;
                    if bytes[found] == quote {
                        return Some(found + 1);
                    }
                    // `\\.`: the backslash and whatever character follows it.
                    let escaped = haystack[found + 1..].chars().next()?;
                    i = found + 1 + escaped.len_utf8();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(native: Native, s: &str) -> Option<usize> {
        native.end(s, 0, &LookMatcher::new())
    }

    #[test]
    fn library_definitions_are_recognised() {
        for (source, native) in [
            (r"\S+", Native::NotSpace),
            (r"\b\w+\b", Native::Word),
            (r"(?:[+-]?(?:[0-9]+))", Native::Int),
        ] {
            let hir = regex_syntax::parse(&translate(source).unwrap().regex).unwrap();
            assert_eq!(recognise(&hir), Some(native), "{source}");
        }
        assert_eq!(table().len(), 11, "every definition translates and parses");
        let other = regex_syntax::parse(&translate(r"\S*").unwrap().regex).unwrap();
        assert_eq!(recognise(&other), None);
    }

    #[test]
    fn ends_follow_leftmost_first() {
        assert_eq!(end(Native::NotSpace, "ab\u{e9}c d"), Some(5));
        assert_eq!(end(Native::NotSpace, " x"), None);
        assert_eq!(end(Native::Word, "abc def"), Some(3));
        assert_eq!(
            end(Native::Word, "abc\u{e9}"),
            None,
            "é is a Unicode word character"
        );
        assert_eq!(end(Native::Int, "-12x"), Some(3));
        assert_eq!(end(Native::Int, "-x"), None);
        assert_eq!(end(Native::PosInt, "4242]"), Some(4));
        assert_eq!(end(Native::PosInt, "0242]"), None);
        assert_eq!(end(Native::PosInt, "42a"), None);
        assert_eq!(end(Native::NonNegInt, "0242 "), Some(4));
        assert_eq!(end(Native::Number, "1.5.2"), Some(3));
        assert_eq!(end(Native::Number, "1."), Some(1));
        assert_eq!(end(Native::Number, "-.5"), Some(3));
        assert_eq!(end(Native::Number, "+"), None);
        assert_eq!(end(Native::Quoted, r#""a\"b" c"#), Some(6));
        assert_eq!(end(Native::Quoted, r#""" x"#), Some(2));
        assert_eq!(end(Native::Quoted, r#""abc"#), None);
        assert_eq!(end(Native::Quoted, r"'a\"), None);
        assert_eq!(end(Native::Quoted, "`a\\\u{e9}`"), Some(6));
        assert_eq!(end(Native::JavaClass, "org.a$1.B_c:175"), Some(11));
        assert_eq!(
            end(Native::JavaClass, "a.b.:1"),
            Some(3),
            "a trailing dot is left"
        );
        assert_eq!(end(Native::JavaClass, "a.1b"), Some(1));
        assert_eq!(end(Native::JavaClass, "1a"), None);
        assert_eq!(end(Native::JavaClass, "x\u{e9}"), Some(1));
    }
}
