//! The exact engine for patterns with look-arounds: a backtracker over the pattern's
//! Thompson NFA that checks each assertion when it reaches the assertion's marker group.
//!
//! It explores in priority order, so the first match found is Oniguruma's leftmost-first
//! match. Whether a (state, position) pair can lead to a match does not depend on how it was
//! reached (assertions look only at the haystack), so each pair is explored at most once per
//! line: time and memory are O(states × line length), never exponential. Lines whose
//! bitmap would exceed [`MAX_VISITED_BITS`] are not rerun (the superset match stands; see
//! docs/GROK.md). Runs only when the superset match fails an assertion, which in real logs is
//! rare, so it favours simplicity over speed.

use std::ops::Range;
use std::panic::{RefUnwindSafe, UnwindSafe};

use regex_automata::nfa::thompson::{State, NFA};
use regex_automata::util::pool::Pool;
use regex_automata::util::primitives::StateID;

use super::matcher::Assertion;

/// The largest visited bitmap (states × positions) one line may use: 4 MiB.
const MAX_VISITED_BITS: usize = 32 << 20;

const NONE: usize = usize::MAX;

type MakeScratch = Box<dyn Fn() -> Scratch + Send + Sync + UnwindSafe + RefUnwindSafe>;

pub struct Exact {
    nfa: NFA,
    /// For each capture group index, the position in `looks` of the assertion its marker
    /// stands for.
    marker: Vec<Option<usize>>,
    scratch: Pool<Scratch, MakeScratch>,
}

/// One attempt: the line, the assertions, and where to start.
struct Line<'a> {
    haystack: &'a str,
    looks: &'a [Assertion],
    start: StateID,
    at: usize,
}

#[derive(Default)]
struct Scratch {
    visited: Vec<u64>,
    stack: Vec<Frame>,
    slots: Vec<usize>,
}

enum Frame {
    Explore(StateID, usize),
    Restore(usize, usize),
}

impl Exact {
    pub fn new(regex: &str, looks: &[Assertion]) -> Result<Exact, String> {
        let nfa = NFA::compiler()
            .configure(NFA::config().nfa_size_limit(Some(64 << 20)))
            .build(regex)
            .map_err(|e| e.to_string())?;
        let groups = nfa.group_info().group_len(regex_automata::PatternID::ZERO);
        let mut marker = vec![None; groups];
        for (position, look) in looks.iter().enumerate() {
            marker[look.index] = Some(position);
        }
        Ok(Exact {
            nfa,
            marker,
            scratch: Pool::new(Box::new(Scratch::default)),
        })
    }

    /// Finds the leftmost-first exact match starting at or after `from` and calls
    /// `each(group_index, span)` for every capture group. `looks` are the assertions given to
    /// [`Exact::new`]. Returns whether a match was found.
    pub fn captures(
        &self,
        haystack: &str,
        from: usize,
        looks: &[Assertion],
        mut each: impl FnMut(usize, Option<Range<usize>>),
    ) -> bool {
        let positions = haystack.len() + 1;
        let states = self.nfa.states().len();
        if states.saturating_mul(positions) > MAX_VISITED_BITS {
            return false;
        }
        let mut scratch = self.scratch.get();
        let Scratch {
            visited,
            stack,
            slots,
        } = &mut *scratch;
        visited.clear();
        visited.resize((states * positions).div_ceil(64), 0);
        slots.clear();
        slots.resize(self.marker.len() * 2, NONE);
        let start = self.nfa.start_anchored();
        for at in from..positions {
            if !haystack.is_char_boundary(at) {
                continue;
            }
            let line = Line {
                haystack,
                looks,
                start,
                at,
            };
            if self.run(&line, visited, stack, slots) {
                for group in 0..self.marker.len() {
                    let (s, e) = (slots[group * 2], slots[group * 2 + 1]);
                    each(group, (s != NONE && e != NONE).then_some(s..e));
                }
                return true;
            }
        }
        false
    }

    fn run(
        &self,
        line: &Line<'_>,
        visited: &mut [u64],
        stack: &mut Vec<Frame>,
        slots: &mut [usize],
    ) -> bool {
        let (haystack, bytes) = (line.haystack, line.haystack.as_bytes());
        let (start, at) = (line.start, line.at);
        let positions = bytes.len() + 1;
        stack.clear();
        stack.push(Frame::Explore(start, at));
        while let Some(frame) = stack.pop() {
            let (mut sid, mut pos) = match frame {
                Frame::Restore(slot, value) => {
                    slots[slot] = value;
                    continue;
                }
                Frame::Explore(sid, pos) => (sid, pos),
            };
            // Follow the chain of single successors without pushing frames.
            loop {
                let bit = sid.as_usize() * positions + pos;
                if visited[bit / 64] & (1 << (bit % 64)) != 0 {
                    break;
                }
                visited[bit / 64] |= 1 << (bit % 64);
                let next = match self.nfa.state(sid) {
                    State::ByteRange { trans } => {
                        (pos < bytes.len() && trans.matches_byte(bytes[pos])).then(|| {
                            pos += 1;
                            trans.next
                        })
                    }
                    State::Sparse(sparse) => bytes.get(pos).and_then(|&b| {
                        let next = sparse.matches_byte(b);
                        pos += 1;
                        next
                    }),
                    State::Dense(dense) => bytes.get(pos).and_then(|&b| {
                        let next = dense.matches_byte(b);
                        pos += 1;
                        next
                    }),
                    State::Look { look, next } => self
                        .nfa
                        .look_matcher()
                        .matches(*look, bytes, pos)
                        .then_some(*next),
                    State::Union { alternates } => {
                        for &alt in alternates.iter().skip(1).rev() {
                            stack.push(Frame::Explore(alt, pos));
                        }
                        alternates.first().copied()
                    }
                    State::BinaryUnion { alt1, alt2 } => {
                        stack.push(Frame::Explore(*alt2, pos));
                        Some(*alt1)
                    }
                    State::Capture {
                        next,
                        group_index,
                        slot,
                        ..
                    } => {
                        let group = group_index.as_usize();
                        match self.marker.get(group).copied().flatten() {
                            Some(look) if slot.as_usize() % 2 == 0 => {
                                line.looks[look].holds(haystack, pos).then_some(*next)
                            }
                            Some(_) => Some(*next),
                            None => {
                                let slot = slot.as_usize();
                                if slot < slots.len() {
                                    stack.push(Frame::Restore(slot, slots[slot]));
                                    slots[slot] = pos;
                                }
                                Some(*next)
                            }
                        }
                    }
                    State::Fail => None,
                    State::Match { .. } => return true,
                };
                match next {
                    Some(next) => sid = next,
                    None => break,
                }
            }
        }
        false
    }
}
