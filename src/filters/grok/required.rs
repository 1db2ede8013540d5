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
//!
//! When the pattern's first item gives no literal worth searching (SYSLOGLINE's timestamp
//! starts with a month letter or any digit, and ISO 8601's colons are optional), the item
//! itself is searched: a small unanchored DFA of it, asked for its earliest match. A line
//! where it occurs nowhere cannot match, which decides a line without a timestamp in one
//! table lookup per byte instead of the general engine's scan of the whole pattern.

use aho_corasick::{AhoCorasick, Input, MatchKind};
use memchr::memmem;
use regex_automata::dfa::{dense, Automaton, StartKind};
use regex_automata::nfa::thompson::{self, WhichCaptures};
use regex_syntax::hir::literal::{ExtractKind, Extractor, Seq};
use regex_syntax::hir::{Hir, HirKind};

/// The most literals a set is searched with: Teddy's limit, beyond which Aho-Corasick falls
/// back to an automaton over every byte. A larger set is searched by its literals' prefixes.
const MAX_LITERALS: usize = 64;

/// The shortest literals searched as a set. Shorter ones (`+0`, `01/`, a digit pair) are
/// everywhere in a log line and cost a search without ruling anything out; their first bytes
/// are searched instead when there are few of them.
const MIN_SELECTIVE_LEN: usize = 4;

/// The largest head automaton built; a bigger head (IPORHOST, with IPv6) is not searched.
const HEAD_LIMIT: usize = 256 << 10;

pub struct Required {
    /// The searches, in the order a match contains their literals.
    steps: Vec<Step>,
    /// The first item that cannot be empty, when no literal step comes from it: every match
    /// contains one of its matches.
    head: Option<dense::DFA<Vec<u32>>>,
}

enum Step {
    /// One to three single bytes (a delimiter, the quote characters): `memchr`.
    Bytes(Box<[u8]>),
    /// One literal (`] "`, ` HTTP/`): `memmem`.
    Literal(Box<memmem::Finder<'static>>),
    /// A set of long literals sharing their first byte (` INFO `, ` ERROR `: the space before
    /// a level): see [`Led`].
    Led(Led),
    /// Any other set of long literals: Teddy or Aho-Corasick.
    Literals(AhoCorasick),
}

/// Literals that all start with one byte. Aho-Corasick searches such a set by that byte and
/// runs its automaton from every occurrence; in a log line, where the byte is a space, that
/// is most of the work. Here the byte is found a word (eight bytes) at a time, and at each
/// occurrence only the literals whose second byte follows it are compared.
struct Led {
    lead: u8,
    /// By second byte, the literals' remaining bytes; empty for most bytes.
    rests: Box<[Tails]>,
}

/// The bytes after the first two of the literals sharing those two.
type Tails = Box<[Box<[u8]>]>;

impl Led {
    /// `literals` all start with the same byte and are at least two bytes long.
    fn new(literals: &[&[u8]]) -> Led {
        let mut rests = vec![Vec::new(); 256];
        for literal in literals {
            rests[literal[1] as usize].push(Box::from(&literal[2..]));
        }
        Led {
            lead: literals[0][0],
            rests: rests.into_iter().map(Vec::into_boxed_slice).collect(),
        }
    }

    /// Whether a literal starts at `at`, where the lead byte is.
    fn starts_at(&self, hay: &[u8], at: usize) -> bool {
        hay.get(at + 1).is_some_and(|&second| {
            self.rests[second as usize]
                .iter()
                .any(|rest| super::native::has_prefix(&hay[at + 2..], rest))
        })
    }

    /// Where the leftmost literal in `hay` starts.
    fn find(&self, hay: &[u8]) -> Option<usize> {
        const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
        const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
        let splat = u64::from_ne_bytes([self.lead; 8]);
        let mut chunks = hay.chunks_exact(8);
        let mut base = 0;
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes")) ^ splat;
            // A high bit for every byte equal to the lead (and possibly for a byte just above
            // one, which the comparison below discards).
            let mut equal = word.wrapping_sub(ONES) & !word & HIGHS;
            while equal != 0 {
                let at = base + (equal.trailing_zeros() / 8) as usize;
                if hay[at] == self.lead && self.starts_at(hay, at) {
                    return Some(at);
                }
                equal &= equal - 1;
            }
            base += 8;
        }
        (base..hay.len()).find(|&at| hay[at] == self.lead && self.starts_at(hay, at))
    }
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
            Step::Led(led) => led.find(hay),
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
        let mut head = None;
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
            let first = previous.is_none();
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
            if first && previous.is_none() && head.is_none() {
                head = head_automaton(item);
            }
        }
        Required { steps, head }
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
        self.head.as_ref().is_none_or(|head| {
            // An error is the automaton giving up on a non-ASCII byte next to a `\b`: unknown.
            let input = regex_automata::Input::new(haystack).earliest(true);
            !matches!(head.try_search_fwd(&input), Ok(None))
        })
    }
}

/// An unanchored automaton finding where `item` occurs, when it is small enough.
fn head_automaton(item: &Hir) -> Option<dense::DFA<Vec<u32>>> {
    let nfa = thompson::Compiler::new()
        .configure(thompson::Config::new().which_captures(WhichCaptures::None))
        .build_from_hir(item)
        .ok()?;
    dense::Builder::new()
        .configure(
            dense::Config::new()
                .start_kind(StartKind::Unanchored)
                .minimize(true)
                .unicode_word_boundary(true)
                .determinize_size_limit(Some(HEAD_LIMIT))
                .dfa_size_limit(Some(HEAD_LIMIT)),
        )
        .build_from_nfa(&nfa)
        .ok()
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
/// (cut to their longest prefixes that fit Teddy) with [`Led`] when they share their first
/// byte and with Teddy otherwise, and otherwise their first bytes
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
        if prefixes.iter().all(|p| p[0] == prefixes[0][0]) {
            return Some((Step::Led(Led::new(&prefixes)), searched));
        }
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
    fn literals_sharing_a_lead_byte_are_found_leftmost() {
        let literals: [&[u8]; 4] = [b" INFO ", b" INF ", b" ERROR ", b" E "];
        let led = Led::new(&literals);
        let naive = |hay: &[u8]| {
            (0..hay.len()).find(|&at| literals.iter().any(|l| hay[at..].starts_with(l)))
        };
        // Every offset, so each literal starts and ends in every lane of a word and in the
        // tail; near misses (a byte cut or changed) around it.
        for filler in ["", "x", " I", "  INF", " INFO", " ERR ", "\u{80} "] {
            for at in 0..20 {
                for literal in literals.iter().chain(&[&b" INFX "[..], b" EROR ", b"  "]) {
                    let mut hay = filler.repeat(at / filler.len().max(1) + 1).into_bytes();
                    hay.truncate(at);
                    hay.extend_from_slice(literal);
                    hay.extend_from_slice(b"tail");
                    assert_eq!(
                        led.find(&hay),
                        naive(&hay),
                        "{:?}",
                        String::from_utf8_lossy(&hay)
                    );
                    hay.truncate(at + literal.len() - 1);
                    assert_eq!(
                        led.find(&hay),
                        naive(&hay),
                        "{:?}",
                        String::from_utf8_lossy(&hay)
                    );
                }
            }
        }
        assert_eq!(led.find(b""), None);
        let spaces = " ".repeat(100_000);
        assert_eq!(led.find(spaces.as_bytes()), None);
        let seed = required(r"(?<t>\d+) (?:INFO|ERROR|WARN) (?<m>.*)");
        assert!(
            matches!(seed.steps[..], [Step::Led(_), ..]),
            "the level set is led by a space"
        );
        assert!(!seed.may_match(b"12 VERBOSE Fetched chapter in 18 ms"));
        assert!(seed.may_match(b"x 12 WARN x"));
    }

    #[test]
    fn a_first_item_without_literals_is_searched_itself() {
        let stamped = required(r"(?<t>\b(?:Jan|Feb)\b +\d+|\d{4}-\d\d) (?<m>.*)");
        assert!(stamped.head.is_some());
        assert!(!stamped.may_match(b"web-01 sshd[4242]: Accepted"));
        assert!(!stamped.may_match(b"Janx 3 202-11 Ja 3"), "near misses");
        assert!(!stamped.may_match(b""));
        assert!(stamped.may_match(b"x Jan   3 y"));
        assert!(stamped.may_match(b"x 2026-11 y"));
        // A non-ASCII byte next to the `\b` stops the automaton: undecided, never ruled out.
        assert!(stamped.may_match("é Jan 3 y".as_bytes()));
        let hostile = "Jan x2026-1".repeat(20_000);
        assert!(!stamped.may_match(hostile.as_bytes()));
        // A first item with a literal to search needs no automaton.
        assert!(required(r"(?<a>x\d+) (?<m>.*)").head.is_none());
    }

    #[test]
    fn hostile_lines_finish() {
        let r = required(r#"(?<a>\w+) "(?<b>[^"]*)" (?<c>"[^"]*")"#);
        let line = "a \" \"".repeat(50_000);
        assert!(r.may_match(line.as_bytes()));
        let line = "\" ".repeat(50_000);
        assert!(!r.may_match(line.as_bytes()), "no word for the first field");
        let line = "a".repeat(100_000);
        assert!(!r.may_match(line.as_bytes()));
    }
}
