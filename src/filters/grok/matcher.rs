//! Matching: a compiled pattern finds its capture spans in a line, and a pattern list finds
//! which of its patterns applies in one pass.
//!
//! Both run on `regex-automata`'s meta engine: a lazy DFA finds whether and where a pattern
//! matches (one left-to-right pass, linear in the line), and only then a capture engine (the
//! bounded backtracker or the PikeVM, both linear) runs over the matched span. Capture slots
//! and engine caches come from pools, so after warm-up a line allocates nothing; each worker
//! thread gets its own slots, so the matcher is shared as `&self`.
//!
//! Patterns with look-arounds are matched as a superset with the assertions replaced by
//! marker groups (see `dialect.rs`). When every assertion holds where its marker matched, the
//! superset's leftmost-first match is also the exact one: any higher-priority exact match would
//! be a higher-priority superset match. Otherwise the line is rerun on [`exact`], a
//! backtracker that checks the assertions as it goes and memoises (state, position) pairs, so
//! it too stays linear.

use std::ops::Range;
use std::panic::{RefUnwindSafe, UnwindSafe};

use regex_automata::meta::{self, Regex};
use regex_automata::util::captures::Captures;
use regex_automata::util::pool::Pool;
use regex_automata::{Anchored, Input, MatchKind, PatternSet};

use super::chain::Chain;
use super::dialect::{Group, LookAround, Translated};
use super::exact::Exact;
use super::required::Required;

type MakeCaptures = Box<dyn Fn() -> Captures + Send + Sync + UnwindSafe + RefUnwindSafe>;
type MakeSet = Box<dyn Fn() -> PatternSet + Send + Sync + UnwindSafe + RefUnwindSafe>;

/// Limits on automaton size: generous enough for the library's largest expansions (IPv6
/// inside IPORHOST several times over), bounded so a hostile pattern fails to compile rather
/// than exhausting memory.
const NFA_SIZE_LIMIT: usize = 64 << 20;
const DFA_CACHE_CAPACITY: usize = 8 << 20;

fn config() -> meta::Config {
    meta::Config::new()
        .nfa_size_limit(Some(NFA_SIZE_LIMIT))
        .hybrid_cache_capacity(DFA_CACHE_CAPACITY)
}

/// One compiled pattern.
pub struct Matcher {
    regex: Regex,
    slots: Pool<Captures, MakeCaptures>,
    groups: Vec<Group>,
    /// Per named group, its slot and whether it runs to the end of the line: what the fast
    /// path's report reads, packed so that it walks one small array rather than the groups.
    slots_reported: Box<[(usize, bool)]>,
    looks: Vec<Assertion>,
    /// Present when the pattern has look-arounds.
    exact: Option<Exact>,
    /// The fast path, tried first when the pattern's shape allows it.
    chain: Option<Chain>,
    /// Rules out most lines the fast path does not decide before the general engine runs.
    required: Required,
}

/// A compiled look-around.
pub struct Assertion {
    /// The marker group's index.
    pub index: usize,
    ahead: bool,
    negated: bool,
    repeated: bool,
    /// The body, anchored where it is tried.
    body: Regex,
    /// A look-behind's body has one length in bytes, so it is tried at `at - len`.
    behind_len: usize,
    /// When the body is a fixed sequence of characters or classes (every look-around in the
    /// library but MONGO_QUERY's), the assertion compares neighbouring characters without
    /// running an automaton.
    chars: Option<Vec<CharSet>>,
}

/// The body as a sequence of one-character sets, when it is one: a class, a literal, or a
/// concatenation of those.
fn char_sequence(hir: &regex_syntax::hir::Hir) -> Option<Vec<CharSet>> {
    use regex_syntax::hir::{Class, ClassUnicode, ClassUnicodeRange, HirKind};
    match hir.kind() {
        HirKind::Class(class) => Some(vec![CharSet::new(class.clone())]),
        HirKind::Literal(literal) => Some(
            std::str::from_utf8(&literal.0)
                .ok()?
                .chars()
                .map(|c| {
                    CharSet::new(Class::Unicode(ClassUnicode::new([ClassUnicodeRange::new(
                        c, c,
                    )])))
                })
                .collect(),
        ),
        HirKind::Concat(items) => {
            let mut sets = Vec::new();
            for item in items {
                sets.extend(char_sequence(item)?);
            }
            Some(sets)
        }
        _ => None,
    }
}

/// A character class with a table for ASCII, the common case.
struct CharSet {
    ascii: [bool; 128],
    class: regex_syntax::hir::Class,
}

impl CharSet {
    fn new(class: regex_syntax::hir::Class) -> CharSet {
        let mut ascii = [false; 128];
        for (b, slot) in ascii.iter_mut().enumerate() {
            *slot = super::chain::class_contains(&class, b as u8 as char);
        }
        CharSet { ascii, class }
    }

    fn contains(&self, c: char) -> bool {
        match self.ascii.get(c as usize) {
            Some(&hit) => hit,
            None => super::chain::class_contains(&self.class, c),
        }
    }
}

impl Assertion {
    fn new(look: &LookAround) -> Result<Assertion, String> {
        let body = Regex::builder()
            .configure(config())
            .build(&look.body)
            .map_err(|e| e.to_string())?;
        let hir = regex_syntax::parse(&look.body).map_err(|e| e.to_string())?;
        let chars = char_sequence(&hir);
        let behind_len = if look.ahead || chars.is_some() {
            0
        } else {
            let props = hir.properties();
            match (props.minimum_len(), props.maximum_len()) {
                (Some(min), Some(max)) if min == max => min,
                _ => {
                    return Err(format!(
                        "the look-behind `{}` can match texts of different lengths",
                        look.body
                    ))
                }
            }
        };
        Ok(Assertion {
            index: look.index,
            ahead: look.ahead,
            negated: look.negated,
            repeated: look.repeated,
            body,
            behind_len,
            chars,
        })
    }

    /// Whether the assertion holds at byte offset `at` of `haystack`.
    pub fn holds(&self, haystack: &str, at: usize) -> bool {
        if let Some(sets) = &self.chars {
            let found = if self.ahead {
                let mut chars = haystack[at..].chars();
                sets.iter()
                    .all(|set| chars.next().is_some_and(|c| set.contains(c)))
            } else {
                let mut chars = haystack[..at].chars().rev();
                sets.iter()
                    .rev()
                    .all(|set| chars.next().is_some_and(|c| set.contains(c)))
            };
            return found != self.negated;
        }
        let found = if self.ahead {
            let input = Input::new(haystack)
                .range(at..)
                .anchored(Anchored::Yes)
                .earliest(true);
            self.body.search_half(&input).is_some()
        } else if at < self.behind_len {
            false
        } else {
            let input = Input::new(haystack.as_bytes())
                .range(at - self.behind_len..at)
                .anchored(Anchored::Yes);
            self.body.search(&input).is_some_and(|m| m.end() == at)
        };
        found != self.negated
    }
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher")
            .field("groups", &self.groups)
            .finish_non_exhaustive()
    }
}

impl Matcher {
    pub fn new(translated: &Translated) -> Result<Matcher, String> {
        let regex = Regex::builder()
            .configure(config())
            .build(&translated.regex)
            .map_err(|e| e.to_string())?;
        let looks = translated
            .looks
            .iter()
            .map(Assertion::new)
            .collect::<Result<Vec<_>, _>>()?;
        let exact = if looks.is_empty() {
            None
        } else {
            Some(Exact::new(&translated.regex, &looks)?)
        };
        let required =
            Required::new(&regex_syntax::parse(&translated.regex).map_err(|e| e.to_string())?);
        let for_slots = regex.clone();
        Ok(Matcher {
            slots: Pool::new(Box::new(move || for_slots.create_captures())),
            regex,
            groups: translated.groups.clone(),
            slots_reported: translated
                .groups
                .iter()
                .map(|g| (g.index, g.to_end))
                .collect(),
            looks,
            exact,
            chain: Chain::new(translated),
            required,
        })
    }

    /// Whether the pattern matches anywhere in `haystack`, without reporting captures.
    pub fn is_match(&self, haystack: &str) -> bool {
        match self.exact {
            None => self.regex.is_match(haystack),
            // A superset match may fail an assertion; the capture path settles it.
            Some(_) => self.captures(haystack, |_, _| {}),
        }
    }

    /// The named groups; `captures` reports them by their position in this list.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// Finds the leftmost-first match and calls `each(group, span)` for every named group
    /// in order (`None` for a group that took no part). Returns whether the line matched.
    pub fn captures(
        &self,
        haystack: &str,
        mut each: impl FnMut(usize, Option<Range<usize>>),
    ) -> bool {
        if let Some(chain) = &self.chain {
            let decided = chain.run(haystack, &self.looks, |spans| {
                for (position, &(slot, to_end)) in self.slots_reported.iter().enumerate() {
                    let span = spans[slot]
                        .map(|(start, end)| start..if to_end { haystack.len() } else { end });
                    each(position, span);
                }
            });
            if decided {
                return true;
            }
        }
        self.required.may_match(haystack.as_bytes()) && self.general(haystack, each)
    }

    /// The general engine alone: the meta regex, then `exact.rs` if an assertion failed.
    fn general(&self, haystack: &str, mut each: impl FnMut(usize, Option<Range<usize>>)) -> bool {
        let mut slots = self.slots.get();
        self.regex.captures(haystack, &mut slots);
        let Some(found) = slots.get_match() else {
            return false;
        };
        if let Some(exact) = &self.exact {
            if !self.assertions_hold(haystack, &slots) {
                // The exact match cannot start before the superset's.
                return exact.captures(haystack, found.start(), &self.looks, |group, span| {
                    self.report(haystack, group, span, &mut each)
                });
            }
        }
        for (position, group) in self.groups.iter().enumerate() {
            let span = slots.get_group(group.index).map(|s| s.range());
            each(position, self.widen(haystack, group, span));
        }
        true
    }

    /// Whether the fast path (`chain.rs`) decides `haystack` on its own, for tests and
    /// benchmarks that want to know which engine ran.
    pub fn fast_path_decides(&self, haystack: &str) -> bool {
        self.chain
            .as_ref()
            .is_some_and(|chain| chain.run(haystack, &self.looks, |_| {}))
    }

    /// Whether the required literals alone rule `haystack` out, for tests and benchmarks that
    /// want to know which engine decided.
    pub fn required_rejects(&self, haystack: &str) -> bool {
        !self.required.may_match(haystack.as_bytes())
    }

    /// Whether the shortcuts agree with the general engine on `haystack`: the fast path, when
    /// it decides, finds the same spans, and the required literals rule out only lines the
    /// general engine does not match. For the fuzz target and the differential tests.
    pub fn shortcuts_agree(&self, haystack: &str) -> bool {
        let mut general = Vec::new();
        let matched = self.general(haystack, |_, span| general.push(span));
        if matched && self.required_rejects(haystack) {
            return false;
        }
        let Some(chain) = &self.chain else {
            return true;
        };
        let mut fast = Vec::new();
        let decided = chain.run(haystack, &self.looks, |spans| {
            fast = self
                .groups
                .iter()
                .map(|g| self.widen(haystack, g, spans[g.index].map(|(s, e)| s..e)))
                .collect();
        });
        !decided || (matched && fast == general)
    }

    /// Maps an exact-engine capture (by group index) to `each`'s numbering.
    fn report(
        &self,
        haystack: &str,
        index: usize,
        span: Option<Range<usize>>,
        each: &mut impl FnMut(usize, Option<Range<usize>>),
    ) {
        if let Some(position) = self.groups.iter().position(|g| g.index == index) {
            each(position, self.widen(haystack, &self.groups[position], span));
        }
    }

    fn widen(
        &self,
        haystack: &str,
        group: &Group,
        span: Option<Range<usize>>,
    ) -> Option<Range<usize>> {
        span.map(|span| {
            if group.to_end {
                span.start..haystack.len()
            } else {
                span
            }
        })
    }

    /// Whether every assertion holds where its marker matched. A marker inside a repetition
    /// reports only its last position, so it cannot vouch for the others.
    fn assertions_hold(&self, haystack: &str, slots: &Captures) -> bool {
        self.looks
            .iter()
            .all(|look| match slots.get_group(look.index) {
                None => true,
                Some(span) => !look.repeated && look.holds(haystack, span.start),
            })
    }
}

/// The patterns of one `match` entry with a combined automaton that tells in a single pass
/// which of them match anywhere in a line, so a fall-through list costs one scan rather than
/// one per pattern.
pub struct Prefilter {
    regex: Regex,
    sets: Pool<PatternSet, MakeSet>,
}

impl Prefilter {
    pub fn new(patterns: &[&Translated]) -> Result<Prefilter, String> {
        let sources: Vec<&str> = patterns.iter().map(|t| t.regex.as_str()).collect();
        let regex = Regex::builder()
            .configure(
                config()
                    .match_kind(MatchKind::All)
                    .which_captures(regex_automata::nfa::thompson::WhichCaptures::None),
            )
            .build_many(&sources)
            .map_err(|e| e.to_string())?;
        let len = regex.pattern_len();
        Ok(Prefilter {
            regex,
            sets: Pool::new(Box::new(move || PatternSet::new(len))),
        })
    }

    /// Calls `each` with the index of every pattern that matches `haystack`, in list order,
    /// until it returns false.
    pub fn matching(&self, haystack: &str, mut each: impl FnMut(usize) -> bool) {
        let mut set = self.sets.get();
        set.clear();
        self.regex
            .which_overlapping_matches(&Input::new(haystack), &mut set);
        for pattern in set.iter() {
            if !each(pattern.as_usize()) {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filters::grok::dialect::translate;

    fn spans(m: &Matcher, line: &str) -> Option<Vec<Option<String>>> {
        let mut out = Vec::new();
        m.captures(line, |_, span| out.push(span.map(|r| line[r].to_owned())))
            .then_some(out)
    }

    #[test]
    fn captures_named_groups_only() {
        let m = Matcher::new(&translate(r"(?<a>\d+)(x)?(?<b>y)?").unwrap()).unwrap();
        assert_eq!(spans(&m, "ab 12z"), Some(vec![Some("12".to_owned()), None]));
        assert_eq!(spans(&m, "none"), None);
    }

    #[test]
    fn optional_groups_do_not_keep_an_earlier_lines_spans() {
        // The fast path clears only the slots a match may leave untouched; the pooled
        // slots are reused by the next line.
        let m = Matcher::new(
            &translate(r"(?<a>\w+)(?: (?<b>\d+))?(?:-(?<c>x)|(?<d>y))?(?<e>(?:z)?)").unwrap(),
        )
        .unwrap();
        assert!(["w 12-xz", "w", "v 3y"]
            .iter()
            .all(|line| m.fast_path_decides(line)));
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            spans(&m, "w 12-xz"),
            Some(vec![some("w"), some("12"), some("x"), None, some("z")])
        );
        assert_eq!(
            spans(&m, "w"),
            Some(vec![some("w"), None, None, None, some("")])
        );
        assert_eq!(
            spans(&m, "v 3y"),
            Some(vec![some("v"), some("3"), None, some("y"), some("")])
        );
    }

    #[test]
    fn capture_to_end_spans_the_rest() {
        let m = Matcher::new(&translate(r"a (?=(?<m>.*))(?<w>\w+)").unwrap()).unwrap();
        assert_eq!(
            spans(&m, "a bc d\ne"),
            Some(vec![Some("bc d\ne".to_owned()), Some("bc".to_owned())])
        );
    }

    #[test]
    fn look_arounds_are_exact() {
        // The superset would stop at "10.0.0.25"; the look-ahead forces the longer octet.
        let m = Matcher::new(
            &translate(r"to (?<ip>(?:25[0-5]|[0-9]{1,2})(?:\.(?:[0-9]{1,2}|25[0-5])){3})(?![0-9])")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            spans(&m, "to 10.0.0.255"),
            Some(vec![Some("10.0.0.255".to_owned())])
        );
        assert_eq!(
            spans(&m, "to 1.2.3.4x"),
            Some(vec![Some("1.2.3.4".to_owned())])
        );
        assert_eq!(spans(&m, "to 1.2.3.456"), None);
        let behind = Matcher::new(&translate(r"(?<![0-9.])(?<n>[0-9]+)").unwrap()).unwrap();
        assert_eq!(spans(&behind, "v.25 7"), Some(vec![Some("7".to_owned())]));
        let unicode = Matcher::new(&translate(r"(?<![^\\])(?<q>x)").unwrap()).unwrap();
        assert_eq!(
            spans(&unicode, "éx"),
            None,
            "é is a character other than `\\`"
        );
        assert_eq!(spans(&unicode, "\\x"), Some(vec![Some("x".to_owned())]));
        let repeated = Matcher::new(&translate(r"^x(?:(?<= )(?<f>CE|DF))*").unwrap()).unwrap();
        assert_eq!(spans(&repeated, "xCE"), Some(vec![None]));
    }

    #[test]
    fn prefilter_reports_every_matching_pattern_in_order() {
        let a = translate(r"^\d+$").unwrap();
        let b = translate(r"x").unwrap();
        let c = translate(r"\d").unwrap();
        let p = Prefilter::new(&[&a, &b, &c]).unwrap();
        let mut seen = Vec::new();
        p.matching("12", |i| {
            seen.push(i);
            true
        });
        assert_eq!(seen, [0, 2]);
        seen.clear();
        p.matching("x1", |i| {
            seen.push(i);
            false
        });
        assert_eq!(seen, [1]);
    }
}
