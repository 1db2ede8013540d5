//! Differential tests: Sluice's grok engine on its own pattern library (`grok-patterns/`)
//! against Oniguruma (the `grok` crate with its onig backend) on logstash-patterns-core's text
//! of the same patterns (`fixtures/grok/upstream/`), so both the engine and our formulation of
//! every pattern are checked against the reference.
//!
//! The oracle gets the adjustments listed in `/docs/GROK.md`: every pattern is prefixed with
//! `(?m)` (Ruby's dot-all, which Logstash compiles with), inputs stay ASCII (Oniguruma's `\w`
//! is Unicode, Joni's is not), and repeated capture names are compared as the list of their
//! values. Each line is checked for the same match/no-match and the same captures; the known
//! deliberate differences are listed in `KNOWN` with the reason, and a line that differs only
//! because of one of them is counted, not failed.

use std::collections::BTreeMap;
use std::path::Path;

use sluice::filters::grok::dialect::translate;
use sluice::filters::grok::expand::expand;
use sluice::filters::grok::matcher::Matcher;
use sluice::filters::grok::{EcsCompatibility, PatternLibrary};

/// Captures as field name → values of the groups that took part, in group order.
type Fields = BTreeMap<String, Vec<String>>;

struct Ours {
    matcher: Matcher,
}

impl Ours {
    fn new(pattern: &str, library: &PatternLibrary) -> Ours {
        let expanded = expand(pattern, library, true).unwrap();
        let matcher = Matcher::new(&translate(&expanded).unwrap()).unwrap();
        Ours { matcher }
    }

    fn run(&self, line: &str) -> Option<Fields> {
        let mut fields = Fields::new();
        let groups = self.matcher.groups();
        let matched = self.matcher.captures(line, |index, span| {
            if let Some(span) = span {
                let name = &groups[index].name;
                let mut parts = name.split(':');
                let syntax = parts.next().unwrap();
                let field = parts.next().unwrap_or(syntax);
                fields
                    .entry(field.to_owned())
                    .or_default()
                    .push(line[span].to_owned());
            }
        });
        matched.then_some(fields)
    }

    /// Field names written both by an inline `(?<name>…)` group and by another group. The
    /// crate maps such a name to its last group only (`src/onig.rs`: the highest index wins),
    /// so Oniguruma's value for it is read from a group that may not have taken part.
    fn inline_names_written_twice(&self) -> Vec<&str> {
        let groups = self.matcher.groups();
        let field = |name: &str| -> String {
            let mut parts = name.split(':');
            let syntax = parts.next().unwrap();
            parts.next().unwrap_or(syntax).to_owned()
        };
        groups
            .iter()
            .filter(|g| !g.name.contains(':'))
            .map(|g| g.name.as_str())
            .filter(|name| groups.iter().filter(|g| field(&g.name) == *name).count() > 1)
            .collect()
    }
}

struct Oracle {
    pattern: grok::Pattern,
}

impl Oracle {
    fn new(pattern: &str, library: &grok::Grok) -> Option<Oracle> {
        library
            .compile(&format!("(?m){pattern}"), true)
            .ok()
            .map(|pattern| Oracle { pattern })
    }

    fn run(&self, line: &str) -> Option<Fields> {
        let matches = self.pattern.match_against(line)?;
        let mut indexed: BTreeMap<String, BTreeMap<usize, String>> = BTreeMap::new();
        for (name, value) in matches.iter() {
            // The crate names repeats `NAME`, `NAME[1]`, `NAME[2]`, …
            let (base, index) = match name.strip_suffix(']').and_then(|n| n.rsplit_once('[')) {
                Some((base, n)) if n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty() => {
                    (base, n.parse().unwrap())
                }
                _ => (name, 0),
            };
            indexed
                .entry(base.to_owned())
                .or_default()
                .insert(index, value.to_owned());
        }
        Some(
            indexed
                .into_iter()
                .map(|(k, v)| (k, v.into_values().collect()))
                .collect(),
        )
    }
}

/// The pattern sets one comparison needs.
struct Libraries {
    /// Sluice's library for the mode, as shipped.
    ours: PatternLibrary,
    /// Upstream's text of the same set read by Sluice, only to generate lines from upstream's
    /// formulation too: a branch our formulation lost would otherwise never be exercised.
    upstream: PatternLibrary,
    /// Oniguruma loaded with upstream's text plus Sluice's extras.
    oracle: grok::Grok,
}

/// Sluice's library for `mode`, and the oracle loaded with upstream's text of the same set
/// (`fixtures/grok/upstream/`) plus Sluice's extras: the suite checks that our files match
/// what upstream's match.
fn libraries(mode: EcsCompatibility) -> Libraries {
    let ours = PatternLibrary::builtin(mode);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/grok/upstream")
        .join(match mode {
            EcsCompatibility::Disabled => "legacy",
            _ => "ecs-v1",
        });
    let mut texts: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    assert!(texts.len() >= 21, "upstream's files in {}", dir.display());
    texts.extend(
        PatternLibrary::extra_files()
            .iter()
            .map(|(_, text)| (*text).to_owned()),
    );
    let mut upstream = PatternLibrary::empty();
    let mut oracle = grok::Grok::empty();
    for text in &texts {
        upstream.add_file_text(text);
        for line in text.lines() {
            let line = line.trim_start();
            if line.starts_with('#') {
                continue;
            }
            if let Some((name, regex)) = line.split_once(' ') {
                if !regex.trim().is_empty() {
                    oracle.add_pattern(name.to_owned(), regex.trim_start().to_owned());
                }
            }
        }
    }
    Libraries {
        ours,
        upstream,
        oracle,
    }
}

/// Patterns whose results may differ from Oniguruma by design, with the reason; see
/// docs/GROK.md. A difference on any other pattern fails the test.
const KNOWN: &[(&str, &str)] = &[(
    "CISCO_TAGGED_SYSLOG",
    "oracle quirk: the grok crate does not expand the `%{` in `%%{CISCOTAG:ciscotag}`, \
     so Oniguruma never matches; jls-grok and Sluice read a literal `%` then the reference",
)];

/// Lines that differ only in a field written both by an inline `(?<name>…)` group and by
/// another group (BACULA_LOGLINE's `berror`); see `Ours::inline_names_written_twice`.
const REPEATED_INLINE_NAME: &str =
    "oracle quirk: the crate reads a name written by several groups from its last group only";

// ---------------------------------------------------------------------------------------
// Line generation from the translated regex.

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Appends a random string that the HIR (mostly) matches. Look-around assertions are
/// ignored, so some strings do not match; both engines must still agree on them.
fn generate(hir: &regex_syntax::hir::Hir, rng: &mut Rng, out: &mut String) {
    use regex_syntax::hir::{Class, HirKind};
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(lit) => out.push_str(&String::from_utf8_lossy(&lit.0)),
        HirKind::Class(Class::Unicode(class)) => {
            // Prefer printable ASCII (see the module docs), else the class's first character.
            let ranges: Vec<(u32, u32)> = class
                .ranges()
                .iter()
                .filter_map(|r| {
                    let lo = (r.start() as u32).max(0x20);
                    let hi = (r.end() as u32).min(0x7e);
                    (lo <= hi).then_some((lo, hi))
                })
                .collect();
            let c = if ranges.is_empty() {
                class.ranges().first().map(|r| r.start()).unwrap_or('x')
            } else {
                let (lo, hi) = ranges[rng.below(ranges.len())];
                char::from_u32(lo + rng.below((hi - lo + 1) as usize) as u32).unwrap()
            };
            out.push(c);
        }
        HirKind::Class(Class::Bytes(class)) => {
            let r = class.ranges()[rng.below(class.ranges().len())];
            let b = r.start() + rng.below((r.end() - r.start()) as usize + 1) as u8;
            out.push(if b.is_ascii() { b as char } else { 'x' });
        }
        HirKind::Repetition(rep) => {
            let max = rep.max.unwrap_or(rep.min + 3).min(rep.min + 4);
            let n = rep.min as usize + rng.below((max - rep.min) as usize + 1);
            for _ in 0..n {
                generate(&rep.sub, rng, out);
            }
        }
        HirKind::Capture(cap) => generate(&cap.sub, rng, out),
        HirKind::Concat(items) => items.iter().for_each(|h| generate(h, rng, out)),
        HirKind::Alternation(items) => generate(&items[rng.below(items.len())], rng, out),
    }
}

/// A copy of `line` with one character deleted, replaced or inserted.
fn near_miss(line: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = line.chars().collect();
    let pick = b" .:-/[]\"0aZ9";
    let c = pick[rng.below(pick.len())] as char;
    if chars.is_empty() {
        return c.to_string();
    }
    let at = rng.below(chars.len());
    match rng.below(3) {
        0 => {
            chars.remove(at);
        }
        1 => chars[at] = c,
        _ => chars.insert(at, c),
    }
    chars.into_iter().collect()
}

/// Compares each of `patterns` on `generated` lines generated from it and on `lines`, every
/// prefix of them and every one-byte replacement by `replacements`.
fn compare_patterns(
    libraries: &Libraries,
    patterns: &[&str],
    generated: usize,
    seed: u64,
    lines: &[&str],
    replacements: &[u8],
) -> Tally {
    let mut tally = Tally::default();
    let mut rng = Rng(seed);
    for pattern in patterns {
        let oracle = Oracle::new(pattern, &libraries.oracle).unwrap();
        let ours = Ours::new(pattern, &libraries.ours);
        tally.compare_generated(
            pattern,
            &libraries.ours,
            generated,
            &mut rng,
            &ours,
            &oracle,
        );
        tally.compare_edits(pattern, lines, replacements, &ours, &oracle);
    }
    tally
}

#[derive(Default)]
struct Tally {
    lines: usize,
    matched: usize,
    fast: usize,
    /// Lines the required literals ruled out before the general engine.
    rejected: usize,
    known: BTreeMap<&'static str, usize>,
    failures: Vec<String>,
}

impl Tally {
    fn compare(&mut self, pattern: &str, line: &str, ours: &Ours, oracle: &Oracle) {
        self.lines += 1;
        let (a, b) = (ours.run(line), oracle.run(line));
        if a.is_some() {
            self.matched += 1;
        }
        let fast = ours.matcher.fast_path_decides(line);
        let rejected = !fast && ours.matcher.required_rejects(line);
        self.fast += usize::from(fast);
        self.rejected += usize::from(rejected);
        if fast || rejected {
            assert!(
                ours.matcher.shortcuts_agree(line),
                "{pattern} on {line:?}: a shortcut and the general engine differ"
            );
        }
        if a == b {
            return;
        }
        if let (Some(mut a), Some(mut b)) = (a.clone(), b.clone()) {
            let repeated = ours.inline_names_written_twice();
            for name in &repeated {
                a.remove(*name);
                b.remove(*name);
            }
            if !repeated.is_empty() && a == b {
                *self.known.entry(REPEATED_INLINE_NAME).or_default() += 1;
                return;
            }
        }
        if let Some((name, _)) = KNOWN.iter().find(|(name, _)| pattern.contains(name)) {
            *self.known.entry(name).or_default() += 1;
            return;
        }
        if self.failures.len() < 40 {
            self.failures.push(format!(
                "{pattern} on {line:?}\n   sluice: {a:?}\n   onig:   {b:?}"
            ));
        } else {
            self.failures.push(String::new());
        }
    }

    /// Compares `count` lines generated from `pattern` as `source` defines it, and a near
    /// miss of each.
    fn compare_generated(
        &mut self,
        pattern: &str,
        source: &PatternLibrary,
        count: usize,
        rng: &mut Rng,
        ours: &Ours,
        oracle: &Oracle,
    ) {
        let expanded = expand(pattern, source, true).unwrap();
        let hir = regex_syntax::parse(&translate(&expanded).unwrap().regex).unwrap();
        for _ in 0..count {
            let mut line = String::new();
            generate(&hir, rng, &mut line);
            self.compare(pattern, &line, ours, oracle);
            let miss = near_miss(&line, rng);
            self.compare(pattern, &miss, ours, oracle);
        }
    }

    /// Compares each of `lines`, every prefix of it and every copy with one byte replaced by
    /// one of `replacements`.
    fn compare_edits(
        &mut self,
        pattern: &str,
        lines: &[&str],
        replacements: &[u8],
        ours: &Ours,
        oracle: &Oracle,
    ) {
        for line in lines {
            for end in (0..=line.len()).filter(|&end| line.is_char_boundary(end)) {
                self.compare(pattern, &line[..end], ours, oracle);
            }
            for at in 0..line.len() {
                for &replacement in replacements {
                    let mut bytes = line.as_bytes().to_vec();
                    bytes[at] = replacement;
                    if let Ok(changed) = String::from_utf8(bytes) {
                        self.compare(pattern, &changed, ours, oracle);
                    }
                }
            }
        }
    }

    fn check(self, what: &str) {
        eprintln!(
            "{what}: {} lines, {} matched, {} decided by the fast path, {} ruled out by the \
             required literals, known differences {:?}",
            self.lines, self.matched, self.fast, self.rejected, self.known
        );
        if !self.failures.is_empty() {
            panic!(
                "{} differences from Oniguruma:\n{}",
                self.failures.len(),
                self.failures.join("\n")
            );
        }
    }
}

#[test]
fn every_library_pattern_agrees_with_oniguruma_on_generated_lines() {
    for mode in [EcsCompatibility::Disabled, EcsCompatibility::V1] {
        let Libraries {
            ours: library,
            upstream,
            oracle: oracle_library,
        } = libraries(mode);
        let mut names: Vec<&str> = library.names().collect();
        names.sort();
        let mut tally = Tally::default();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for name in names {
            let pattern = format!("%{{{name}}}");
            let Some(oracle) = Oracle::new(&pattern, &oracle_library) else {
                // The crate's reference grammar cannot read a few ECS names (e.g. `@`);
                // those patterns are covered by the fixture tests instead.
                continue;
            };
            let ours = Ours::new(&pattern, &library);
            // Lines from our formulation and from upstream's, so that neither has a branch
            // the other's lines never reach.
            for source in [&library, &upstream] {
                tally.compare_generated(&pattern, source, 12, &mut rng, &ours, &oracle);
            }
        }
        tally.check(&format!("{mode:?}"));
    }
}

/// The composite fields the fast path matches with hand-written code
/// (`src/filters/grok/address.rs`, `timestamps.rs`, `native.rs`), captured, alone and followed
/// by more pattern, on many generated lines, their near misses and edge cases picked by hand.
#[test]
fn native_fields_agree_with_oniguruma() {
    const FIELDS: &[&str] = &[
        "IPORHOST",
        "SYSLOGHOST",
        "HTTPDATE",
        "TIMESTAMP_ISO8601",
        "SYSLOGTIMESTAMP",
        "JAVACLASS",
        "LOGLEVEL",
        "URIPATHPARAM",
    ];
    // Non-ASCII only where `\w` is not involved (MONTH's `ä`).
    const EDGES: &[&str] = &[
        "10.0.0.255 x",
        "1.2.3.4.5 x",
        "1.2.3.256 x",
        "001.02.3.099",
        "fe80::1 x",
        "abcd:ef x",
        "example.com. x",
        "a.-b x",
        "Nov 24 16:25:60 x",
        "Nov 24 16:25:61 x",
        "Nov  4 6:25:56.5 x",
        "M\u{e4}rz 4 16:25:56 x",
        "Mr 4 16:25:56 x",
        "Sept 4 16:25:56 x",
        "17/May/2015:10:05:60 +0000 x",
        "17/Mai/15:10:05:03,5 -12 x",
        "7/Oct/2015:24:05:03 +0000 x",
        "2026-11-24T16:25:56.123Z x",
        "2026-11-24 16:25:56,789 x",
        "2026-11-24T16:25:60+05:30 x",
        "2026-11-24T16:25:56+2360 x",
        "2026-11-24T16:25:56+0 x",
        "2026-11-24T1625 x",
        "26-1-4T9:05 x",
        "2026-11-24T16:25: x",
        "INFORMATION x",
        "Informational x",
        "Critical x",
        "CRITICAL x",
        "Crical x",
        "ERRORS x",
        "Err x",
        "warnings x",
        "emergency x",
        "Trace x",
        "/ x",
        "/a//b.c/?q=1&r=[2]?s x",
        "/a?b?/c x",
        "//x",
        "/a b",
    ];
    for mode in [EcsCompatibility::Disabled, EcsCompatibility::V1] {
        let Libraries {
            ours: library,
            oracle: oracle_library,
            ..
        } = libraries(mode);
        let mut tally = Tally::default();
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for field in FIELDS {
            for pattern in [
                format!("%{{{field}:f}}"),
                format!("%{{{field}:f}} %{{NOTSPACE:after}}"),
                format!("%{{{field}:f}}$"),
            ] {
                let oracle = Oracle::new(&pattern, &oracle_library).unwrap();
                let ours = Ours::new(&pattern, &library);
                tally.compare_generated(&pattern, &library, 150, &mut rng, &ours, &oracle);
                for line in EDGES {
                    tally.compare(&pattern, line, &ours, &oracle);
                }
            }
        }
        assert!(
            tally.fast * 2 > tally.matched,
            "the fast path decides most matches"
        );
        tally.check(&format!("native fields {mode:?}"));
    }
}

/// Alternations, optionals and repetitions whose body is one field between literals, which
/// the fast path runs without a sub-program (`src/filters/grok/chain.rs`): on generated lines,
/// on hand-picked lines (bodies empty, repeated, at the line end) and on every prefix of those
/// and every line with one byte of them replaced.
#[test]
fn single_field_nodes_agree_with_oniguruma() {
    const PATTERNS: &[&str] = &[
        r"%{PROG:program}(?:\[%{POSINT:pid}\])?:",
        r"%{WORD:a}(?:\[%{DATA:d}\])? %{WORD:b}",
        r"x(?: %{WORD:w})+",
        r"x(?: %{WORD:w})+$",
        r"(?:<%{INT:n}>)*%{WORD:w}",
        r#"(?:"%{NOTSPACE:a}"|%{QS:b}|-) %{INT:n}"#,
        r#"(?:"(?:%{URI:r}|-)"|%{QS:r}) %{QS:agent}"#,
        r"(?:%{SYSLOGTIMESTAMP:t}|%{TIMESTAMP_ISO8601:t8601}) %{SYSLOGHOST:h}+(?: %{SYSLOGPROG}:)?",
        r"(?:x%{GREEDYDATA:g})?$",
        r"(?:\[%{NUMBER:n}\]|\[%{WORD:w}\])+ %{GREEDYDATA:m}",
        r"(?:%{NUMBER:b}|-) %{QS:q}",
    ];
    const LINES: &[&str] = &[
        "sshd[4242]: x",
        "sshd[]: x",
        "sshd[0]: x",
        "sshd[42:",
        "a[] b",
        "a[x] b",
        "a b",
        "x a b c",
        "x a b c ",
        "x",
        "<1><22>abc",
        "<>abc",
        "\"a\" 12",
        "\"a b\" 12",
        "- 12",
        "\"-\" \"agent\"",
        "\"http://a.b/c?d=1\" \"agent\"",
        "'q' \"agent\"",
        "Nov 24 16:25:56 web-01 sshd[4242]: Accepted",
        "Nov 24 16:25:56 web-01web-02 sshd:",
        "2026-11-24T16:25:56Z 10.1.2.3 cron[1]:",
        "xyz",
        "[1][a][2.5] rest",
        "[1][a b] rest",
        "- \"q\"",
        "-1 \"q\"",
        "-x \"q\"",
        "1.5x \"q\"",
    ];
    let libraries = libraries(EcsCompatibility::Disabled);
    let tally = compare_patterns(
        &libraries,
        PATTERNS,
        150,
        0x6a09_e667_f3bc_c909,
        LINES,
        b" x1\"]",
    );
    assert!(
        tally.fast * 3 > tally.matched,
        "the fast path decides many matches"
    );
    tally.check("single-field nodes");
}

/// SYSLOGPROG with the colon after it, which the fast path reads as one step that works out
/// the program's end from where its run stops (`src/filters/grok/chain.rs`, `Tag`), and
/// alternations that pick their alternative by the first byte (the syslog timestamp): in both
/// sets, with the program's `[pid]` present, absent, empty, malformed or cut off, colons
/// inside the program, the step inside a repetition and at the line end, on generated lines,
/// hand-picked ones, every prefix of those and every one-byte replacement.
#[test]
fn syslog_tags_and_first_byte_alternations_agree_with_oniguruma() {
    const PATTERNS: &[&str] = &[
        "%{SYSLOGLINE}",
        "%{SYSLOGBASE} %{GREEDYDATA:rest}",
        "%{SYSLOGPROG}: %{WORD:w}",
        "x(?: %{SYSLOGPROG}:)+ %{GREEDYDATA:m}",
        r"%{PROG:p}(?:\[%{POSINT:i}\])? x",
        r"%{PROG:p}(?:\[%{WORD:i}\])?:$",
        r"(?:\[%{INT:a}\]|<%{WORD:b}>|%{QS:q})+ %{GREEDYDATA:m}",
        r"x(?:%{PROG:p}(?:\[%{POSINT:i}\])?:)? %{WORD:w}",
    ];
    const LINES: &[&str] = &[
        "Nov 24 16:25:56 web-01 sshd[4242]: Accepted publickey",
        "xa[1]: b",
        "x b",
        "Nov 24 16:25:56 web-01 kernel: [ 0.1] x",
        "Nov  4 16:25:56 10.0.0.1 foo:bar: baz",
        "Nov 24 16:25:56 web-01 foo:bar:",
        "Nov 24 16:25:56 web-01 sshd[42]x: y",
        "Nov 24 16:25:56 web-01 sshd[ab]: y",
        "Nov 24 16:25:56 web-01 sshd[]: y",
        "Nov 24 16:25:56 web-01 sshd[42]",
        "Nov 24 16:25:56 <13.6> web-01 su[1]:",
        "2026-11-24T16:25:56.123+01:00 web-01web-02 cron[1]: (root) CMD",
        "Nov 24 16:25:56 web-01 : x",
        "x a[1]: b: c[2]: m",
        "a:b[7] x",
        "[1]<a>'q' m",
    ];
    for mode in [EcsCompatibility::Disabled, EcsCompatibility::V1] {
        let libraries = libraries(mode);
        let tally = compare_patterns(
            &libraries,
            PATTERNS,
            150,
            0xbb67_ae85_84ca_a73b,
            LINES,
            b" x1:[]",
        );
        // Most patterns here are unanchored and many lines match them only further in, where
        // the fast path (which runs from the line's start) never decides.
        assert!(
            tally.fast * 3 > tally.matched,
            "the fast path decides many matches"
        );
        tally.check(&format!("syslog tags {mode:?}"));
    }
}

/// Lines ruled out because the pattern's first item (SYSLOGLINE's timestamp, which gives no
/// literal to search) occurs nowhere in them (`src/filters/grok/required.rs`, the head): no
/// timestamp at all, timestamps at odd offsets and after other candidates, near misses of
/// both shapes, non-ASCII bytes next to a month name; every prefix and one-byte replacement.
#[test]
fn lines_without_the_first_item_agree_with_oniguruma() {
    const PATTERNS: &[&str] = &[
        "%{SYSLOGLINE}",
        "%{SYSLOGTIMESTAMP:t} %{NOTSPACE:w}",
        "(?:%{MONTH:m}|%{YEAR:y})-%{INT:i} %{GREEDYDATA:rest}",
    ];
    const LINES: &[&str] = &[
        "web-01 sshd[4242]: Accepted publickey for deploy from 10.1.2.3 port 52144 ssh2",
        "x Nov 24 16:25:56 web-01 sshd[4242]: Accepted",
        "0123456 Nov 24 16:25:56 h p: m",
        "Nov 24 16:25 Dec 3 16:25:56 h m",
        "Nov 24 1625:56 h x",
        "Novv 24 16:25:56 h x",
        "Nov 2416:25:56 h x",
        "Jan Feb Mar 1 2 3 12:3 h",
        "2026-11-24T16:25 h m",
        "2026-11-2416:25:56 h m",
        "26-11-24 16:2556 h m",
        "x 2026-1-24T16:25:56Z h m",
        "é Nov 24 16:25:56 é p: m",
        "Nové 24 16:25:56 h m",
        "May-12 m",
        "2026-7 x",
    ];
    for mode in [EcsCompatibility::Disabled, EcsCompatibility::V1] {
        let libraries = libraries(mode);
        let tally = compare_patterns(
            &libraries,
            PATTERNS,
            100,
            0x3c6e_f372_fe94_f82b,
            LINES,
            b" x1:-J",
        );
        let syslog = Ours::new(PATTERNS[0], &libraries.ours);
        assert!(
            syslog.matcher.required_rejects(LINES[0]),
            "a syslog line without a timestamp is ruled out"
        );
        assert!(
            tally.rejected * 4 > tally.lines - tally.matched,
            "the head rules out many misses"
        );
        tally.check(&format!("lines without the first item {mode:?}"));
    }
}

/// Each fixture file with the pattern list a configuration would use for it.
const FIXTURES: &[(&str, &[&str])] = &[
    (
        "httpd_access.log",
        &["%{HTTPD_COMBINEDLOG}", "%{HTTPD_COMMONLOG}"],
    ),
    ("nginx_access.log", &["%{NGINXACCESS}"]),
    ("httpd_error.log", &["%{HTTPD_ERRORLOG}"]),
    ("syslog.log", &["%{SYSLOGLINE}"]),
    (
        "java.log",
        &[
            r"%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level}\s+\[%{DATA:thread}\] %{JAVACLASS:class}:%{INT:line} - %{GREEDYDATA:message}",
        ],
    ),
    (
        "seed.log",
        &["%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} %{DATA:logger} %{GREEDYDATA:message}"],
    ),
    ("tomcat.log", &["%{CATALINALOG}", "%{TOMCATLOG}"]),
    ("tomcat8.log", &["%{CATALINA8_LOG}"]),
    ("stacktrace.log", &["%{JAVASTACKTRACEPART}"]),
    ("haproxy.log", &["%{HAPROXYHTTP}", "%{HAPROXYTCP}"]),
    (
        "firewall.log",
        &["%{CISCOFW106023}", "%{CISCOFW302013_302014_302015_302016}"],
    ),
    ("iptables.log", &["%{IPTABLES}"]),
    ("redis.log", &["%{REDISLOG}", "%{REDISMONLOG}"]),
    (
        "mongodb.log",
        &["%{MONGO3_LOG}", "%{MONGO_SLOWQUERY}", "%{MONGO_LOG}"],
    ),
    ("bro.log", &["%{BRO_HTTP}"]),
    (
        "misc.log",
        &[
            "%{NAGIOSLOGLINE}",
            "%{SQUID3}",
            "%{RUBY_LOGGER}",
            "%{EXIM_MESSAGE_ARRIVAL}",
        ],
    ),
];

/// Every fixture line matches one of its patterns in both modes, and the first matching
/// pattern and its captures are Oniguruma's.
#[test]
fn fixture_corpus_matches_and_agrees_with_oniguruma() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/grok");
    for mode in [EcsCompatibility::Disabled, EcsCompatibility::V1] {
        let Libraries {
            ours: library,
            oracle: oracle_library,
            ..
        } = libraries(mode);
        let mut tally = Tally::default();
        let mut unmatched = Vec::new();
        for (file, patterns) in FIXTURES {
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            // Tomcat 8 and iptables patterns exist only in the ECS set.
            let ecs_only = ["tomcat8.log", "iptables.log"].contains(file);
            if ecs_only && mode == EcsCompatibility::Disabled {
                continue;
            }
            let engines: Vec<_> = patterns
                .iter()
                .map(|p| (*p, Ours::new(p, &library), Oracle::new(p, &oracle_library)))
                .collect();
            for line in text.lines() {
                let ours = engines.iter().find(|(_, o, _)| o.run(line).is_some());
                let Some((pattern, ours, oracle)) = ours else {
                    unmatched.push(format!("{mode:?} {file}: {line}"));
                    continue;
                };
                // Patterns the crate cannot read (see `libraries`) are checked for matching only.
                let Some(oracle) = oracle else { continue };
                let theirs = engines
                    .iter()
                    .find(|(_, _, o)| o.as_ref().is_some_and(|o| o.run(line).is_some()));
                match theirs {
                    Some((q, ..)) if q == pattern => tally.compare(pattern, line, ours, oracle),
                    other => tally.failures.push(format!(
                        "{file}: {line:?}\n   sluice picks {pattern}, onig picks {:?}",
                        other.map(|o| o.0)
                    )),
                }
            }
        }
        assert!(
            unmatched.is_empty(),
            "fixture lines that match nothing:\n{}",
            unmatched.join("\n")
        );
        tally.check(&format!("fixtures {mode:?}"));
    }
}

/// The expected fields of our own examples (`fixtures/grok/examples/`, which `grok_spec.rs`
/// runs through the filter) are what Oniguruma captures on upstream's patterns: each expected
/// value, flattened to the field reference the pattern writes (`[log][level]`, or a plain name),
/// is the text Oniguruma captured there (numbers compared as their text, so the examples write
/// them as the log does). Upstream's spec cases are not held to this: they also expect event
/// fields such as `message` and floats printed by Ruby (`-1.0` for `-1`).
#[test]
fn example_fields_are_oniguruma_captures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/grok/examples");
    let modes = [
        ("legacy", libraries(EcsCompatibility::Disabled)),
        ("ecs-v1", libraries(EcsCompatibility::V1)),
    ];
    let (mut checked, mut failures) = (0, Vec::new());
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    for file in files {
        let cases: Vec<serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for case in cases.iter().filter(|c| c.get("expect").is_some()) {
            let message = case["message"].as_str().unwrap();
            let (_, libraries) = modes.iter().find(|(m, _)| *m == case["mode"]).unwrap();
            let pattern = format!("%{{{}}}", case["pattern"].as_str().unwrap());
            // Our examples stay ASCII and use names the crate can read (see the module docs).
            let oracle = Oracle::new(&pattern, &libraries.oracle).unwrap();
            assert!(message.is_ascii(), "{message:?}");
            checked += 1;
            let captured = oracle.run(message).unwrap_or_default();
            let mut expected = Fields::new();
            flatten(&case["expect"], &mut Vec::new(), &mut expected);
            for (field, values) in &expected {
                if captured.get(field) != Some(values) {
                    failures.push(format!(
                        "{} {pattern} ({}) on {message:?}: {field} expected {values:?}, \
                             Oniguruma captured {:?}",
                        file.display(),
                        case["mode"],
                        captured.get(field)
                    ));
                }
            }
        }
    }
    assert!(checked >= 20, "{checked} examples checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `expect`'s leaves as field reference → values: top-level names stay plain, nested ones
/// become `[a][b]`, arrays are the values of a repeated name.
fn flatten<'a>(value: &'a serde_json::Value, path: &mut Vec<&'a str>, out: &mut Fields) {
    use serde_json::Value;
    let reference = |path: &[&str]| match path {
        [name] => (*name).to_owned(),
        _ => path.iter().map(|key| format!("[{key}]")).collect(),
    };
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                path.push(key);
                flatten(inner, path, out);
                path.pop();
            }
        }
        Value::Array(items) => items.iter().for_each(|item| flatten(item, path, out)),
        Value::String(s) => out.entry(reference(path)).or_default().push(s.clone()),
        other => out
            .entry(reference(path))
            .or_default()
            .push(other.to_string()),
    }
}
