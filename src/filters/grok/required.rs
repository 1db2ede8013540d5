//! A cheap, exact "no match anywhere" for lines the fast path does not decide: the literals
//! every match must contain, in the order a match contains them.
//!
//! A pattern is mostly a concatenation of fields and delimiters. For each item of that
//! concatenation that cannot be empty, every match contains, where the item starts, one of
//! the literals the rest of the pattern can begin with (`] "`, ` INFO `, `:4`…), and, when the
//! item is at least two bytes long, one of the bytes it can end with just before the next item
//! (a closing quote). These occurrences start at strictly increasing offsets. Searching each
//! set leftmost from one byte past the previous find therefore finds an occurrence no later
//! than the match's own, so a set not found proves that no match exists. A missing closing
//! quote, an unknown log level or a missing `:line` is then found by a few `memchr`-like
//! scans instead of a lazy DFA over the whole line.
//!
//! The literals come from the pattern with its look-arounds read as always true (the superset
//! the general engine matches), so they are necessary for exact matches too. Cost: one
//! leftmost search per step, each starting where the last one found its literal, so the
//! steps together read the line about once.

use aho_corasick::{AhoCorasick, Input, MatchKind};
use memchr::memmem;
use regex_syntax::hir::literal::{ExtractKind, Extractor, Seq};
use regex_syntax::hir::{Hir, HirKind};

/// The most literals a set is searched with: Teddy's limit, beyond which Aho-Corasick falls
/// back to an automaton over every byte. A larger set is searched by its literals' prefixes.
const MAX_LITERALS: usize = 64;

/// The shortest literals searched as a set. Shorter ones (`+0`, `01/`, a digit pair) are
/// everywhere in a log line and cost a search without ruling anything out; their first bytes
/// are searched instead when there are few of them.
const MIN_SELECTIVE_LEN: usize = 4;

pub struct Required {
    /// The searches, in the order a match contains their literals.
    steps: Vec<Step>,
}

enum Step {
    /// One to three single bytes (a delimiter, the quote characters): `memchr`.
    Bytes(Box<[u8]>),
    /// One literal (`] "`, ` HTTP/`): `memmem`.
    Literal(Box<memmem::Finder<'static>>),
    /// A set of long literals (the ` LEVEL ` words): Teddy.
    Literals(AhoCorasick),
}

impl Step {
    /// Where the leftmost literal starting at or after `from` starts.
    fn find(&self, haystack: &[u8], from: usize) -> Option<usize> {
        let hay = &haystack[from..];
        let found = match self {
            Step::Bytes(bytes) => match **bytes {
                [a] => memchr::memchr(a, hay),
                [a, b] => memchr::memchr2(a, b, hay),
                [a, b, c] => memchr::memchr3(a, b, c, hay),
                _ => unreachable!("built with one to three bytes"),
            },
            Step::Literal(finder) => finder.find(hay),
            Step::Literals(searcher) => searcher.find(Input::new(hay)).map(|m| m.start()),
        };
        found.map(|at| from + at)
    }
}

impl Required {
    pub fn new(hir: &Hir) -> Required {
        let mut items = Vec::new();
        flatten(hir, &mut items);
        let mut steps = Vec::new();
        // The literals the last step searches.
        let mut previous: Option<Vec<Vec<u8>>> = None;
        let push = |steps: &mut Vec<Step>, previous: &mut Option<_>, found| {
            if let Some((step, searched)) = found {
                steps.push(step);
                *previous = Some(searched);
            }
        };
        for (i, item) in items.iter().enumerate() {
            if item.properties().minimum_len().unwrap_or(0) == 0 {
                // It may start where the next item starts: no strictly later occurrence.
                continue;
            }
            let rest = Hir::concat(items[i..].iter().map(|h| (*h).clone()).collect());
            if let Some(starts) = needles(&literals(&rest, ExtractKind::Prefix), |l| l) {
                // Found one byte past the previous find whenever that is found (` INFO `, then
                // `INFO `): a search that cannot fail.
                let implied = previous.as_ref().is_some_and(|previous| {
                    previous
                        .iter()
                        .all(|p| p.len() >= 2 && starts.iter().any(|s| p[1..].starts_with(s)))
                });
                if !implied {
                    push(&mut steps, &mut previous, searcher(&starts));
                }
            }
            if item.properties().minimum_len().unwrap_or(0) >= 2 {
                if let Some(ends) = needles(&literals(item, ExtractKind::Suffix), last_byte) {
                    push(&mut steps, &mut previous, searcher(&ends));
                }
            }
        }
        Required { steps }
    }

    /// False only when no match of the pattern exists in `haystack`.
    pub fn may_match(&self, haystack: &[u8]) -> bool {
        let mut from = 0;
        for step in &self.steps {
            match step.find(haystack, from) {
                // The next item starts at least one byte later.
                Some(found) => from = found + 1,
                None => return false,
            }
        }
        true
    }
}

fn last_byte(literal: &[u8]) -> &[u8] {
    &literal[literal.len() - 1..]
}

/// The items of the top-level concatenation. A capture group (a named field; the translation
/// leaves no other groups capturing) stays one item: the literals inside it (a timestamp's
/// digits and colons) are common and would cost a search each.
fn flatten<'h>(hir: &'h Hir, items: &mut Vec<&'h Hir>) {
    match hir.kind() {
        HirKind::Concat(children) => {
            for child in children {
                flatten(child, items);
            }
        }
        _ => items.push(hir),
    }
}

fn literals(hir: &Hir, kind: ExtractKind) -> Seq {
    let mut extractor = Extractor::new();
    extractor.kind(kind).limit_literal_len(16);
    extractor.extract(hir)
}

/// `seq`'s literals, each mapped by `pick`, sorted and deduplicated, when the set is finite
/// and has no empty literal (which would be found everywhere).
fn needles(seq: &Seq, pick: fn(&[u8]) -> &[u8]) -> Option<Vec<Vec<u8>>> {
    let literals = seq.literals()?;
    if literals.is_empty() || literals.iter().any(|l| l.as_bytes().is_empty()) {
        return None;
    }
    let mut needles: Vec<Vec<u8>> = literals
        .iter()
        .map(|l| pick(l.as_bytes()).to_vec())
        .collect();
    needles.sort_unstable();
    needles.dedup();
    Some(needles)
}

/// The cheapest search worth making for `needles` and the literals it searches, or `None`
/// when none is: one or a few bytes with `memchr`, one literal with `memmem`, long literals
/// with Teddy (cut to their longest prefixes that fit it), and otherwise their first bytes
/// when there are at most three. Each is implied by the set, so a miss still proves there is
/// no match.
fn searcher(needles: &[Vec<u8>]) -> Option<(Step, Vec<Vec<u8>>)> {
    if let [needle] = needles {
        let step = match needle[..] {
            [b] => Step::Bytes(Box::new([b])),
            _ => Step::Literal(Box::new(memmem::Finder::new(needle).into_owned())),
        };
        return Some((step, needles.to_vec()));
    }
    let prefixes = |len: usize| {
        let mut prefixes: Vec<&[u8]> = needles.iter().map(|n| &n[..n.len().min(len)]).collect();
        prefixes.dedup();
        prefixes
    };
    let shortest = needles.iter().map(Vec::len).min()?;
    // A common prefix long enough to be selective is one `memmem` (NGINX's ` HTTP/`).
    if let Some(len) = (MIN_SELECTIVE_LEN..=shortest)
        .rev()
        .find(|&len| prefixes(len).len() == 1)
    {
        return searcher(&[needles[0][..len].to_vec()]);
    }
    let longest = needles.iter().map(Vec::len).max()?;
    for len in (MIN_SELECTIVE_LEN..=longest).rev() {
        let prefixes = prefixes(len);
        if prefixes.len() > MAX_LITERALS {
            continue;
        }
        if prefixes.iter().any(|p| p.len() < MIN_SELECTIVE_LEN) {
            break;
        }
        let searched = prefixes.iter().map(|p| p.to_vec()).collect();
        return AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(prefixes)
            .ok()
            .map(|searcher| (Step::Literals(searcher), searched));
    }
    let mut firsts: Vec<u8> = needles.iter().map(|n| n[0]).collect();
    firsts.dedup();
    let searched = firsts.iter().map(|&b| vec![b]).collect();
    (firsts.len() <= 3).then(|| (Step::Bytes(firsts.into_boxed_slice()), searched))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filters::grok::dialect::translate;

    fn required(pattern: &str) -> Required {
        Required::new(&regex_syntax::parse(&translate(pattern).unwrap().regex).unwrap())
    }

    #[test]
    fn missing_delimiters_rule_lines_out() {
        let quoted = required(r#"(?<a>\w+) "(?<b>[^"]*)" (?<c>"[^"]*")"#);
        assert!(quoted.may_match(br#"x "y" "z""#));
        assert!(quoted.may_match(br#"junk x "y" "z" junk"#));
        assert!(!quoted.may_match(br#"x "y" "z"#), "no closing quote");
        assert!(!quoted.may_match(br#"x "y""z""#), "no space between");
        assert!(!quoted.may_match(b""));
        let level = required(r"(?<t>\d+) (?:INFO|WARN) (?<m>.*)");
        assert!(level.may_match(b"12 WARN x"));
        assert!(
            !level.may_match(b"12 VERBOSE x INFO"),
            "a level needs a space after it"
        );
    }

    #[test]
    fn optional_and_unbounded_items_add_nothing() {
        let loose = required(r"a?.*(?:x|y+)?");
        assert!(loose.steps.is_empty());
        assert!(loose.may_match(b""));
    }

    #[test]
    fn hostile_lines_finish() {
        let r = required(r#"(?<a>\w+) "(?<b>[^"]*)" (?<c>"[^"]*")"#);
        let line = "\" ".repeat(50_000);
        assert!(r.may_match(line.as_bytes()));
        let line = "a".repeat(100_000);
        assert!(!r.may_match(line.as_bytes()));
    }
}
