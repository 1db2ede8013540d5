//! Matching: a compiled pattern finds its capture spans in a line, and a pattern list finds
//! which of its patterns applies in one pass.
//!
//! Both run on `regex-automata`'s meta engine: a lazy DFA finds whether and where a pattern
//! matches (one left-to-right pass, linear in the line), and only then a capture engine (the
//! bounded backtracker or the PikeVM, both linear) runs over the matched span. Capture slots
//! and engine caches come from pools, so after warm-up a line allocates nothing; each worker
//! thread gets its own slots, so the matcher is shared as `&self`.

use std::ops::Range;
use std::panic::{RefUnwindSafe, UnwindSafe};

use regex_automata::meta::{self, Regex};
use regex_automata::util::captures::Captures;
use regex_automata::util::pool::Pool;
use regex_automata::{Input, MatchKind, PatternSet};

use super::dialect::{Group, Translated};

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
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher")
            .field("groups", &self.groups)
            .finish_non_exhaustive()
    }
}

impl Matcher {
    pub fn new(translated: &Translated) -> Result<Matcher, Box<meta::BuildError>> {
        let regex = Regex::builder()
            .configure(config())
            .build(&translated.regex)
            .map_err(Box::new)?;
        let for_slots = regex.clone();
        Ok(Matcher {
            slots: Pool::new(Box::new(move || for_slots.create_captures())),
            regex,
            groups: translated.groups.clone(),
        })
    }

    /// The named groups; `captures` reports them by their index in this list.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    pub fn is_match(&self, haystack: &str) -> bool {
        self.regex.is_match(haystack)
    }

    /// Finds the leftmost-first match and calls `each(group, span)` for every named group
    /// in order (`None` for a group that took no part). Returns whether the line matched.
    pub fn captures(
        &self,
        haystack: &str,
        mut each: impl FnMut(usize, Option<Range<usize>>),
    ) -> bool {
        let mut slots = self.slots.get();
        self.regex.captures(haystack, &mut slots);
        if !slots.is_match() {
            return false;
        }
        for (index, group) in self.groups.iter().enumerate() {
            let span = slots.get_group(index + 1).map(|span| {
                if group.to_end {
                    span.start..haystack.len()
                } else {
                    span.range()
                }
            });
            each(index, span);
        }
        true
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
    pub fn new(patterns: &[&Translated]) -> Result<Prefilter, Box<meta::BuildError>> {
        let sources: Vec<&str> = patterns.iter().map(|t| t.regex.as_str()).collect();
        let regex = Regex::builder()
            .configure(
                config()
                    .match_kind(MatchKind::All)
                    .which_captures(regex_automata::nfa::thompson::WhichCaptures::None),
            )
            .build_many(&sources)
            .map_err(Box::new)?;
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
    fn capture_to_end_spans_the_rest() {
        let m = Matcher::new(&translate(r"a (?=(?<m>.*))(?<w>\w+)").unwrap()).unwrap();
        assert_eq!(
            spans(&m, "a bc d\ne"),
            Some(vec![Some("bc d\ne".to_owned()), Some("bc".to_owned())])
        );
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
