//! The fast path: a pattern compiled into a chain of small anchored automata, one per field,
//! evaluated left to right at the start of the line without a capture engine.
//!
//! A grok pattern is mostly a concatenation of fields and literals. Leftmost-first semantics
//! picks, at every choice point, the highest-priority option that still lets the rest of the
//! pattern match. The chain takes for each piece its *own* highest-priority match (the end an
//! anchored leftmost-first DFA of the piece alone reports, or the first alternative that
//! matches on its own) and moves on; if the rest then matches, that option is the one a
//! backtracker would have kept, because every higher-priority option was ruled out by the
//! piece alone. If the rest fails, the chain gives up and the caller falls back to the general
//! engine, so results are always those of the general engine. Lazy fields (`DATA`) are the
//! exception that needs the rest of the pattern: they take the shortest end from which an
//! automaton of the whole remainder matches, tried only where the remainder can begin.
//!
//! Look-arounds appear as marker groups and are checked where they stand; a one-character
//! look-ahead right after a field is folded into that field's automaton (`X(?:[^0-9]|\z)`),
//! so IPV4's and TIME's `(?![0-9])` pick the right end without backtracking.
//!
//! Cost: one short DFA scan per field plus a few lookups, no capture engine and no
//! allocation; a line the chain cannot decide costs the chain's partial work on top of the
//! general engine. Lazy repetitions around captures are not chained.

use std::panic::{RefUnwindSafe, UnwindSafe};

use regex_automata::dfa::{dense, Automaton as _, StartKind};
use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::nfa::thompson::{self, WhichCaptures};
use regex_automata::util::look::{Look, LookMatcher};
use regex_automata::util::pool::Pool;
use regex_automata::{Anchored, Input, MatchKind};
use regex_syntax::hir::{Class, Hir, HirKind};

use super::dialect::{LookAround, Translated};
use super::matcher::Assertion;
use super::native::{self, Native};

type MakeScratch = Box<dyn Fn() -> Scratch + Send + Sync + UnwindSafe + RefUnwindSafe>;

/// What one run needs besides the chain: lazy DFA caches (by automaton) and the capture
/// slots, pooled so a line allocates nothing.
struct Scratch {
    caches: Vec<Option<Cache>>,
    slots: Vec<Option<(usize, usize)>>,
}

/// The largest dense DFA built for one piece; bigger pieces use a lazy DFA.
const DENSE_LIMIT: usize = 256 << 10;

/// A piece's automaton: fully built when small (a table lookup per byte, no cache), lazily
/// built otherwise.
#[derive(Clone)]
enum Automaton {
    Dense(dense::DFA<Vec<u32>>),
    Lazy(DFA),
}

/// The most continuation checks one lazy field may make per line before the chain gives up
/// (keeping the chain linear; the general engine then decides).
const LAZY_CHECKS: usize = 64;

pub struct Chain {
    program: Box<[Op]>,
    dfas: Vec<Automaton>,
    /// Per automaton, the bytes a match can start with, when known: a piece is rejected
    /// without running its automaton when the next byte is not one of them.
    starts: Vec<Option<Box<[bool; 256]>>>,
    /// The named groups' slots a match may leave untouched, cleared before each run. The
    /// other named groups are set by top-level steps, which every match passes through;
    /// marker and unnamed groups' slots are never reported, so what they hold does not
    /// matter.
    unset: Box<[usize]>,
    scratch: Pool<Scratch, MakeScratch>,
    look_matcher: LookMatcher,
}

/// One step of a chain's program. A program is a flat sequence run by a loop; only
/// alternatives, optionals and repetitions hold sub-programs.
enum Op {
    Span(Span),
    /// A capture group whose body is one span: see [`Field`]. A node holding only this step
    /// (`(?:\[%{POSINT:pid}\])?`) runs it without a sub-program.
    Field(Field),
    /// Two or more fields in a row (NGINXACCESS's first eight), run by one loop rather than
    /// one dispatch each.
    Fields(Box<[Field]>),
    Look(Look),
    Marker(usize),
    /// A capture group begins here.
    Open(usize),
    /// The capture group opened last by this index ends here.
    Close(usize),
    /// SYSLOGPROG and the byte after it: see [`Tag`].
    Tag(Tag),
    /// Alternatives with an automaton each telling whether it matches on its own. With
    /// `by_first`, no two alternatives can start with the same byte (SYSLOGLINE's month
    /// against ISO 8601's year): the byte at hand names the only one to run, by index
    /// ([`NO_ALTERNATIVE`] when none can start with it).
    Alternation {
        alternatives: Box<[Tried]>,
        by_first: Option<Box<[u8; 256]>>,
    },
    Optional {
        greedy: bool,
        tried: Box<Tried>,
    },
    /// A greedy repetition around captures (`%{SYSLOGHOST:logsource}+`): another iteration
    /// whenever one matches on its own, the captures keeping the last iteration's spans.
    Repeat {
        min: u32,
        max: Option<u32>,
        tried: Box<Tried>,
    },
}

/// A capture group whose body is one span (`%{WORD:verb}`, most fields), between the
/// literals around it in the pattern (delimiters such as ` `, `[` or `] "`; empty when
/// none): one step instead of a literal, an open, the span, a close and a literal.
struct Field {
    before: Box<[u8]>,
    group: usize,
    span: Span,
    then: Box<[u8]>,
}

/// SYSLOGPROG's shape followed by a literal (`%{PROG:program}(?:\[%{POSINT:pid}\])?:`, in
/// both sets): a captured class run, an optional field between two literals whose opening
/// byte the class excludes, then a byte the class may contain (`sshd[4242]:`, `kernel:`).
/// One step, no sub-program: the bracket can only start where the run stops, and without it
/// the run's best end is just before the last `end` byte inside it, so nothing is tried and
/// undone.
struct Tag {
    before: Box<[u8]>,
    /// The run's capture group.
    name: usize,
    class: Box<[bool; 256]>,
    min: usize,
    /// The optional field, `before` its opening literal and `then` its closing one.
    id: Field,
    end: u8,
    /// The whole step is optional (SYSLOGLINE's `(?: %{SYSLOGPROG}:)?`): it decides "cannot
    /// match" exactly, so it needs no node around it.
    optional: bool,
}

/// [`Op::Alternation`]'s `by_first` entry for a byte no alternative starts with.
const NO_ALTERNATIVE: u8 = u8::MAX;

/// A step that reads a span of the line and sets no capture slot: the end of its own
/// leftmost-first match, or `None`.
enum Span {
    Literal(Box<[u8]>),
    /// A one-byte literal (a space, `[`, `"`): the most common delimiter.
    Byte(u8),
    /// A capture-free piece that is one of the library's common fields.
    Native(Native),
    /// A greedy `X*` or `X+` over an ASCII class (PROG, USERNAME, …): the longest run.
    Run {
        class: Box<[bool; 256]>,
        min: usize,
    },
    /// A capture-free piece: its own leftmost-first end. With `ahead`, the DFA also consumed
    /// one character checking a folded look-ahead (`negated` for `(?!…)`), given back here.
    Leaf {
        dfa: usize,
        ahead: Option<Ahead>,
    },
    /// `X*?`/`X+?` over one character class: the shortest end from which `rest` matches.
    Lazy {
        class: Class,
        min: u32,
        rest: usize,
        /// Bytes the remainder can start with (all true when unknown).
        first: Box<[bool; 256]>,
        /// When the class is every character (DATA's `.*?`) and the remainder can start with
        /// at most three bytes, those bytes: candidates are then found with `memchr`.
        needles: Option<Box<[u8]>>,
        /// When the remainder's leading run is a literal (`] `), it: a candidate is then
        /// checked by comparing bytes rather than running `rest`.
        literal: Option<Box<[u8]>>,
    },
}

/// A node that is run before its automaton is asked whether it matches at all: when the
/// node matches, that is its own best match and the automaton's scan is saved.
struct Tried {
    dfa: usize,
    program: Box<[Op]>,
    /// The capture groups inside, put back as they were when the node fails.
    groups: Box<[usize]>,
    /// Whether those groups can hold an earlier repetition's spans when the node runs, so
    /// they are saved first; otherwise they are still unset and are cleared on failure.
    inside_repeat: bool,
}

/// What [`Run::attempt`] found.
enum Attempt {
    Matched(usize),
    /// The node cannot match here.
    NoMatch,
    /// The node matches but the chain cannot tell how: the general engine decides.
    Undecided,
}

/// The most capture groups [`Run::attempt`] saves on the stack; a node with more asks its
/// automaton first.
const SAVED_GROUPS: usize = 16;

struct Ahead {
    /// The character class the look-ahead tests.
    class: Class,
    negated: bool,
}

struct Builder<'a> {
    dfas: Vec<Automaton>,
    starts: Vec<Option<Box<[bool; 256]>>>,
    translated: &'a Translated,
    /// How many repetitions enclose the node being built.
    repeats: usize,
    /// Capture groups whose body is a composite library field with a native matcher, found
    /// before look-arounds are simplified away (the comparison needs them).
    native_fields: Vec<(usize, Native)>,
}

impl Chain {
    /// Compiles the chain for `translated`, or `None` when its shape is not supported.
    pub fn new(translated: &Translated) -> Option<Chain> {
        let hir = regex_syntax::parse(&translated.regex).ok()?;
        let mut native_fields = Vec::new();
        find_native_fields(&hir, &translated.looks, &mut native_fields);
        let mut builder = Builder {
            dfas: Vec::new(),
            starts: Vec::new(),
            translated,
            repeats: 0,
            native_fields,
        };
        let hir = builder.simplify(&hir, Before::Start, Some(&[]));
        let mut program = Vec::new();
        builder.emit(&hir, &[], &mut program)?;
        let program = fuse_fields(program);
        let dfas = builder.dfas;
        let starts = builder.starts;
        let for_caches = dfas.clone();
        let groups = translated
            .groups
            .iter()
            .map(|g| g.index)
            .chain(translated.looks.iter().map(|l| l.index))
            .max()
            .unwrap_or(0)
            + 1;
        let unset = translated
            .groups
            .iter()
            .map(|g| g.index)
            .filter(|&group| !always_set(&program, group))
            .collect();
        Some(Chain {
            program,
            unset,
            dfas,
            starts,
            scratch: Pool::new(Box::new(move || Scratch {
                caches: for_caches
                    .iter()
                    .map(|a| match a {
                        Automaton::Dense(_) => None,
                        Automaton::Lazy(dfa) => Some(dfa.create_cache()),
                    })
                    .collect(),
                slots: vec![None; groups],
            })),
            look_matcher: LookMatcher::new(),
        })
    }

    /// Matches at the start of `haystack`. On success calls `found` with the capture slots
    /// (start, end) by group index, and returns true; false means "not decided here", never
    /// "no match". Only the named groups' slots are meaningful.
    pub fn run(
        &self,
        haystack: &str,
        looks: &[Assertion],
        found: impl FnOnce(&[Option<(usize, usize)>]),
    ) -> bool {
        let mut scratch = self.scratch.get();
        let Scratch { caches, slots } = &mut *scratch;
        for &group in &self.unset {
            slots[group] = None;
        }
        let mut run = Run {
            chain: self,
            haystack,
            looks,
            caches,
            slots,
        };
        let matched = run.exec(&self.program, 0).is_some();
        if matched {
            found(slots);
        }
        matched
    }
}

struct Run<'a, 'c> {
    chain: &'a Chain,
    haystack: &'a str,
    looks: &'a [Assertion],
    caches: &'c mut Vec<Option<Cache>>,
    slots: &'c mut [Option<(usize, usize)>],
}

impl Run<'_, '_> {
    /// The end of the DFA's leftmost-first match anchored at `at` (with `earliest`, the end
    /// of the first match seen). The scan is written out rather than calling
    /// `try_search_fwd`, whose set-up per call costs more than the short fields it reads.
    fn search(&mut self, dfa: usize, at: usize, earliest: bool) -> Option<usize> {
        let bytes = self.haystack.as_bytes();
        if let Some(starts) = &self.chain.starts[dfa] {
            // No match can be empty or start with this byte.
            if !bytes.get(at).is_some_and(|&b| starts[b as usize]) {
                return None;
            }
        }
        let input = Input::new(bytes).range(at..).anchored(Anchored::Yes);
        let mut last = None;
        let automaton = match &self.chain.dfas[dfa] {
            Automaton::Dense(automaton) => automaton,
            Automaton::Lazy(automaton) => {
                let cache = self.caches[dfa].as_mut()?;
                let mut sid = automaton.start_state_forward(cache, &input).ok()?;
                for (pos, &b) in bytes.iter().enumerate().skip(at) {
                    sid = automaton.next_state(cache, sid, b).ok()?;
                    if sid.is_tagged() {
                        if sid.is_match() {
                            // Matches are reported one byte late: this one ended at `pos`.
                            last = Some(pos);
                            if earliest {
                                return last;
                            }
                        } else if sid.is_dead() {
                            return last;
                        } else if sid.is_quit() {
                            return None;
                        }
                    }
                }
                sid = automaton.next_eoi_state(cache, sid).ok()?;
                return if sid.is_match() {
                    Some(bytes.len())
                } else {
                    last
                };
            }
        };
        // Most pieces start the same whatever precedes them; skip working out the context.
        let mut sid = match automaton.universal_start_state(Anchored::Yes) {
            Some(sid) => sid,
            None => automaton.start_state_forward(&input).ok()?,
        };
        for (pos, &b) in bytes.iter().enumerate().skip(at) {
            sid = automaton.next_state(sid, b);
            if automaton.is_special_state(sid) {
                if automaton.is_match_state(sid) {
                    last = Some(pos);
                    if earliest {
                        return last;
                    }
                } else if automaton.is_dead_state(sid) {
                    return last;
                } else if automaton.is_quit_state(sid) {
                    return None;
                }
            }
        }
        sid = automaton.next_eoi_state(sid);
        if automaton.is_match_state(sid) {
            Some(bytes.len())
        } else {
            last
        }
    }

    /// Runs `program` from `at`; the end of its match, or `None` when a step fails.
    fn exec(&mut self, program: &[Op], mut at: usize) -> Option<usize> {
        for op in program {
            at = self.step(op, at)?;
        }
        Some(at)
    }

    /// Runs a node's `program`: a single field or span (NGINX's `-` alternatives) directly,
    /// anything else through [`Run::exec`].
    fn run_node(&mut self, program: &[Op], at: usize) -> Option<usize> {
        match program {
            [Op::Span(span)] => self.span(span, at),
            [Op::Field(field)] => self.field(field, at),
            [Op::Tag(tag)] => match self.tag(tag, at) {
                Attempt::Matched(end) => Some(end),
                Attempt::NoMatch | Attempt::Undecided => None,
            },
            _ => self.exec(program, at),
        }
    }

    /// A [`Tag`] at `at`: decided exactly without an automaton, except when the bracket is
    /// there but what it holds does not match (`foo[bar]:`), which is left undecided.
    fn tag(&mut self, tag: &Tag, at: usize) -> Attempt {
        let bytes = self.haystack.as_bytes();
        if !native::has_prefix(&bytes[at..], &tag.before) {
            return Attempt::NoMatch;
        }
        let start = at + tag.before.len();
        let stop = start
            + bytes[start..]
                .iter()
                .take_while(|&&b| tag.class[b as usize])
                .count();
        if stop - start < tag.min {
            return Attempt::NoMatch;
        }
        if native::has_prefix(&bytes[stop..], &tag.id.before) {
            // The run is at its longest, and the bracket is tried before leaving it out.
            // Should it fail, a backtracker would try the field's other ends and then
            // shorter runs: the general engine's job.
            return match self.field(&tag.id, stop) {
                Some(end) if bytes.get(end) == Some(&tag.end) => {
                    self.slots[tag.name] = Some((start, stop));
                    Attempt::Matched(end + 1)
                }
                _ => Attempt::Undecided,
            };
        }
        // Without the bracket the run gives back bytes until `end` follows it: the last
        // `end` that leaves the run `min` long. The bracket's slot is left as it was, as a
        // group that took no part.
        let last = if bytes.get(stop) == Some(&tag.end) {
            Some(stop)
        } else {
            memchr::memrchr(tag.end, &bytes[start + tag.min..stop]).map(|i| start + tag.min + i)
        };
        match last {
            Some(last) => {
                self.slots[tag.name] = Some((start, last));
                Attempt::Matched(last + 1)
            }
            None => Attempt::NoMatch,
        }
    }

    /// A field step: `before`, the span (captured), then `then`.
    #[inline(always)]
    fn field(&mut self, field: &Field, at: usize) -> Option<usize> {
        let Field {
            before,
            group,
            span,
            then,
        } = field;
        let bytes = self.haystack.as_bytes();
        let start = match &**before {
            [] => at,
            _ => native::has_prefix(&bytes[at..], before).then_some(at + before.len())?,
        };
        let end = self.span(span, start)?;
        self.slots[*group] = Some((start, end));
        native::has_prefix(&bytes[end..], then).then_some(end + then.len())
    }

    fn step(&mut self, op: &Op, at: usize) -> Option<usize> {
        let bytes = self.haystack.as_bytes();
        match op {
            Op::Span(span) => self.span(span, at),
            Op::Field(field) => self.field(field, at),
            Op::Fields(fields) => {
                let mut at = at;
                for field in fields {
                    at = self.field(field, at)?;
                }
                Some(at)
            }
            Op::Look(look) => self
                .chain
                .look_matcher
                .matches(*look, bytes, at)
                .then_some(at),
            Op::Marker(look) => self.looks[*look].holds(self.haystack, at).then_some(at),
            Op::Open(group) => {
                self.slots[*group] = Some((at, at));
                Some(at)
            }
            Op::Close(group) => {
                if let Some((_, end)) = &mut self.slots[*group] {
                    *end = at;
                }
                Some(at)
            }
            Op::Tag(tag) => match self.tag(tag, at) {
                Attempt::Matched(end) => Some(end),
                Attempt::NoMatch if tag.optional => Some(at),
                Attempt::NoMatch | Attempt::Undecided => None,
            },
            Op::Alternation {
                alternatives,
                by_first: Some(by_first),
            } => {
                // Every other alternative is ruled out by this byte, so this one's failure
                // is the alternation's: no automaton is asked and no slot put back.
                let only = by_first[*bytes.get(at)? as usize];
                self.run_node(&alternatives.get(usize::from(only))?.program, at)
            }
            Op::Alternation {
                alternatives,
                by_first: None,
            } => {
                let (last, earlier) = alternatives.split_last()?;
                // The best match lies in the first alternative that matches at all.
                for alternative in earlier {
                    match self.attempt(alternative, at) {
                        Attempt::Matched(end) => return Some(end),
                        Attempt::Undecided => return None,
                        Attempt::NoMatch => {}
                    }
                }
                // Only the last is left: no need to ask first.
                self.run_node(&last.program, at)
            }
            Op::Optional { greedy, tried } => {
                if !*greedy || !self.may_start(tried.dfa, at) {
                    return Some(at);
                }
                match self.attempt(tried, at) {
                    Attempt::Matched(end) => Some(end),
                    Attempt::Undecided => None,
                    Attempt::NoMatch => Some(at),
                }
            }
            Op::Repeat { min, max, tried } => {
                let mut at = at;
                let mut count = 0u32;
                while max.is_none_or(|max| count < max) {
                    // The last iteration usually fails on its first byte: settled here,
                    // without a call.
                    if count > 0 && !self.may_start(tried.dfa, at) {
                        break;
                    }
                    match self.attempt(tried, at) {
                        // Empty iterations are where engines disagree; let the general one decide.
                        Attempt::Matched(end) if end == at => return None,
                        Attempt::Matched(end) => at = end,
                        Attempt::Undecided => return None,
                        Attempt::NoMatch => break,
                    }
                    count += 1;
                }
                (count >= *min).then_some(at)
            }
        }
    }

    /// The end of `span`'s own match at `at`. Inlined into both callers, so the common
    /// steps cost no call.
    #[inline(always)]
    fn span(&mut self, span: &Span, at: usize) -> Option<usize> {
        let bytes = self.haystack.as_bytes();
        match span {
            Span::Byte(b) => (bytes.get(at) == Some(b)).then_some(at + 1),
            Span::Literal(lit) => native::has_prefix(&bytes[at..], lit).then_some(at + lit.len()),
            Span::Native(native) => native.end(self.haystack, at, &self.chain.look_matcher),
            Span::Run { class, min } => {
                let len = bytes[at..]
                    .iter()
                    .take_while(|&&b| class[b as usize])
                    .count();
                (len >= *min).then_some(at + len)
            }
            Span::Leaf { dfa, ahead } => {
                let end = self.search(*dfa, at, false)?;
                match ahead {
                    None => Some(end),
                    Some(ahead) => self.give_back(ahead, at, end),
                }
            }
            Span::Lazy {
                min,
                rest,
                needles: Some(needles),
                literal,
                ..
            } => {
                let mut from = at;
                if *min == 1 {
                    from += self.haystack[at..].chars().next()?.len_utf8();
                }
                let find = |from: usize| {
                    let hay = &bytes[from..];
                    let found = match **needles {
                        [a] => memchr::memchr(a, hay),
                        [a, b] => memchr::memchr2(a, b, hay),
                        [a, b, c] => memchr::memchr3(a, b, c, hay),
                        _ => None,
                    };
                    found.map(|i| from + i)
                };
                let mut checks = 0;
                while let Some(candidate) = find(from) {
                    checks += 1;
                    if checks > LAZY_CHECKS {
                        return None;
                    }
                    let continues = match literal {
                        Some(literal) => native::has_prefix(&bytes[candidate..], literal),
                        None => self.search(*rest, candidate, true).is_some(),
                    };
                    if continues {
                        return Some(candidate);
                    }
                    from = candidate + 1;
                }
                // The remainder cannot match the empty string (its literals are not empty).
                None
            }
            Span::Lazy {
                class,
                min,
                rest,
                first,
                needles: None,
                ..
            } => {
                let mut end = at;
                let mut taken = 0u32;
                let mut checks = 0;
                loop {
                    if taken >= *min && bytes.get(end).is_none_or(|&b| first[b as usize]) {
                        checks += 1;
                        if checks > LAZY_CHECKS {
                            return None;
                        }
                        if self.search(*rest, end, true).is_some() {
                            return Some(end);
                        }
                    }
                    let c = self.haystack[end..].chars().next()?;
                    if !class_contains(class, c) {
                        return None;
                    }
                    end += c.len_utf8();
                    taken = taken.saturating_add(1);
                }
            }
        }
    }

    /// Runs `tried` at `at`. Its automaton is asked only when the node fails, to tell "cannot
    /// match" (slots put back as they were) from "undecided". A node matching on its own is
    /// its own best match: the automaton would have said it matches, and the node then run.
    fn attempt(&mut self, tried: &Tried, at: usize) -> Attempt {
        // Nothing the node matches starts with this byte: no need to run it (the common case
        // for optionals and for a repetition's last, failing iteration).
        if !self.may_start(tried.dfa, at) {
            return Attempt::NoMatch;
        }
        if let [Op::Tag(tag)] = &*tried.program {
            // Decided exactly, and touches no slot unless it matches.
            return self.tag(tag, at);
        }
        if let [Op::Field(field)] = &*tried.program {
            // One field: only its own slot can change (its span sets none), whether or not
            // an earlier iteration set it.
            let saved = self.slots[field.group];
            if let Some(end) = self.field(field, at) {
                return Attempt::Matched(end);
            }
            if self.search(tried.dfa, at, true).is_some() {
                return Attempt::Undecided;
            }
            self.slots[field.group] = saved;
            return Attempt::NoMatch;
        }
        if !tried.inside_repeat {
            if let Some(end) = self.exec(&tried.program, at) {
                return Attempt::Matched(end);
            }
            if self.search(tried.dfa, at, true).is_some() {
                return Attempt::Undecided;
            }
            for &group in &tried.groups {
                self.slots[group] = None;
            }
            return Attempt::NoMatch;
        }
        if tried.groups.len() > SAVED_GROUPS {
            return if self.search(tried.dfa, at, true).is_none() {
                Attempt::NoMatch
            } else {
                self.exec(&tried.program, at)
                    .map_or(Attempt::Undecided, Attempt::Matched)
            };
        }
        let mut saved = [None; SAVED_GROUPS];
        for (slot, &group) in saved.iter_mut().zip(&tried.groups) {
            *slot = self.slots[group];
        }
        if let Some(end) = self.exec(&tried.program, at) {
            return Attempt::Matched(end);
        }
        if self.search(tried.dfa, at, true).is_some() {
            return Attempt::Undecided;
        }
        for (slot, &group) in saved.iter().zip(&tried.groups) {
            self.slots[group] = *slot;
        }
        Attempt::NoMatch
    }

    /// Whether a match of automaton `dfa` may start at `at`, by its first bytes.
    #[inline(always)]
    fn may_start(&self, dfa: usize, at: usize) -> bool {
        match &self.chain.starts[dfa] {
            Some(starts) => self
                .haystack
                .as_bytes()
                .get(at)
                .is_some_and(|&b| starts[b as usize]),
            None => true,
        }
    }

    /// A leaf with a folded one-character look-ahead reported `end` after the character it
    /// tested (or at the end of input, where `(?!…)` also holds). Returns the leaf's own end,
    /// or `None` when the two readings cannot be told apart.
    fn give_back(&self, ahead: &Ahead, start: usize, end: usize) -> Option<usize> {
        let last = self.haystack[start..end].chars().next_back();
        let consumed = |c: char| class_contains(&ahead.class, c) != ahead.negated;
        match last {
            Some(c) if end < self.haystack.len() => consumed(c).then(|| end - c.len_utf8()),
            // At the end of input only `(?!…)` can hold without consuming; if the last
            // character could also have been the tested one, leave it to the general engine.
            Some(c) if ahead.negated => (!consumed(c)).then_some(end),
            Some(c) => consumed(c).then(|| end - c.len_utf8()),
            None => ahead.negated.then_some(end),
        }
    }
}

pub(super) fn class_contains(class: &Class, c: char) -> bool {
    match class {
        Class::Unicode(u) => u
            .ranges()
            .binary_search_by(|r| {
                if r.end() < c {
                    std::cmp::Ordering::Less
                } else if r.start() > c {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok(),
        Class::Bytes(b) => {
            c.is_ascii()
                && b.ranges()
                    .iter()
                    .any(|r| (r.start()..=r.end()).contains(&(c as u8)))
        }
    }
}

/// The bytes a match of `hir` can start with, when no match is empty: a superset, with
/// look-arounds read as matching anywhere.
fn first_bytes(hir: &Hir) -> Option<Box<[bool; 256]>> {
    let mut table = Box::new([false; 256]);
    (!first_set(hir, &mut table)).then_some(table)
}

/// Adds the bytes a match of `hir` can start with to `set`; returns whether it can be empty.
fn first_set(hir: &Hir, set: &mut [bool; 256]) -> bool {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => true,
        HirKind::Literal(literal) => {
            set[literal.0[0] as usize] = true;
            false
        }
        HirKind::Class(Class::Bytes(class)) => {
            for range in class.ranges() {
                set[range.start() as usize..=range.end() as usize].fill(true);
            }
            false
        }
        HirKind::Class(Class::Unicode(class)) => {
            // UTF-8 lead bytes grow with the code point, so a range's lead bytes are those
            // between its ends' (ASCII and the rest taken apart).
            let lead = |c: char| {
                let mut buffer = [0; 4];
                c.encode_utf8(&mut buffer).as_bytes()[0] as usize
            };
            for range in class.ranges() {
                let (start, end) = (range.start(), range.end());
                if start.is_ascii() {
                    set[start as usize..=(end as usize).min(0x7f)].fill(true);
                }
                if !end.is_ascii() {
                    set[lead(start.max('\u{80}'))..=lead(end)].fill(true);
                }
            }
            false
        }
        HirKind::Repetition(rep) => first_set(&rep.sub, set) || rep.min == 0,
        HirKind::Capture(cap) => first_set(&cap.sub, set),
        HirKind::Concat(items) => items.iter().all(|item| first_set(item, set)),
        HirKind::Alternation(items) => {
            // Every alternative adds its bytes, so no short-circuit.
            let mut empty = false;
            for item in items {
                empty |= first_set(item, set);
            }
            empty
        }
    }
}

/// A greedy, unbounded repetition of at most one required ASCII-only class, as a run.
fn ascii_run(rep: &regex_syntax::hir::Repetition) -> Option<Span> {
    if !rep.greedy || rep.max.is_some() || rep.min > 1 {
        return None;
    }
    let HirKind::Class(class) = rep.sub.kind() else {
        return None;
    };
    let ascii = match class {
        Class::Unicode(u) => u.ranges().iter().all(|r| r.end().is_ascii()),
        Class::Bytes(b) => b.ranges().iter().all(|r| r.end().is_ascii()),
    };
    if !ascii {
        return None;
    }
    let mut table = Box::new([false; 256]);
    for b in 0..0x80u8 {
        table[b as usize] = class_contains(class, b as char);
    }
    Some(Span::Run {
        class: table,
        min: rep.min as usize,
    })
}

/// A run of capture-free items as one step each, when every item needs no automaton (a
/// literal, or a class run that stops where the next item starts: log4j's `\s+\[`). Each
/// step then reaches the run's own leftmost-first end without a scan of the whole run.
fn split_run(items: &[Hir]) -> Option<Vec<Op>> {
    if items.len() < 2 {
        return None;
    }
    let mut steps = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item.kind() {
            HirKind::Literal(lit) => steps.push(Op::Span(literal(&lit.0))),
            HirKind::Repetition(rep) => {
                let run = ascii_run(rep)?;
                // The run's longest end must be the only one the next item can follow.
                if let (Span::Run { class, .. }, Some(next)) = (&run, items.get(i + 1)) {
                    let next = first_bytes(next)?;
                    if (0..256).any(|b| class[b] && next[b]) {
                        return None;
                    }
                }
                steps.push(Op::Span(run));
            }
            _ => return None,
        }
    }
    Some(steps)
}

/// Appends `op` to `out`, folding a literal into the field before it, and a field (or a
/// SYSLOGPROG tag) into the literal before it.
fn push(out: &mut Vec<Op>, mut op: Op) {
    // Not into an optional tag: the literal is required whether or not the tag matches.
    if let Op::Field(Field { before, .. })
    | Op::Tag(Tag {
        before,
        optional: false,
        ..
    }) = &mut op
    {
        if before.is_empty() {
            match out.last() {
                Some(Op::Span(Span::Byte(b))) => *before = Box::new([*b]),
                Some(Op::Span(Span::Literal(literal))) => *before = literal.clone(),
                _ => {}
            }
            if !before.is_empty() {
                out.pop();
            }
        }
        out.push(op);
        return;
    }
    if let (Some(Op::Alternation { alternatives, .. }), Op::Span(span)) = (out.last_mut(), &op) {
        // `(?:A|-) ` is `(?:A |- )`, in the same order: the literal is checked by each
        // alternative's field or literal rather than by a step of its own. An alternative that
        // matches but is not followed by it is left undecided (its automaton, which does not
        // read the literal, says it matches), as the separate step would have been.
        let takes_literal = |tried: &Tried| match &*tried.program {
            [Op::Field(field)] => field.then.is_empty(),
            [Op::Span(span)] => literal_bytes(span).is_some(),
            _ => false,
        };
        if let Some(literal) = literal_bytes(span) {
            if alternatives.iter().all(takes_literal) {
                for alternative in alternatives.iter_mut() {
                    match &mut *alternative.program {
                        [Op::Field(field)] => field.then = literal.clone(),
                        [Op::Span(span)] => {
                            let before = literal_bytes(span).unwrap_or_default();
                            *span = Span::Literal([&before[..], &literal[..]].concat().into());
                        }
                        _ => {}
                    }
                }
                return;
            }
        }
    }
    if let Some(Op::Field(Field { then, .. })) = out.last_mut() {
        if then.is_empty() {
            match op {
                Op::Span(Span::Byte(b)) => {
                    *then = Box::new([b]);
                    return;
                }
                Op::Span(Span::Literal(literal)) => {
                    *then = literal;
                    return;
                }
                _ => {}
            }
        }
    }
    out.push(op);
}

/// Whether a top-level step of `program` sets `group`'s slot, so that every match sets it.
fn always_set(program: &[Op], group: usize) -> bool {
    program.iter().any(|op| match op {
        Op::Field(field) => field.group == group,
        Op::Fields(fields) => fields.iter().any(|field| field.group == group),
        Op::Tag(tag) => !tag.optional && tag.name == group,
        Op::Open(open) => *open == group,
        _ => false,
    })
}

/// The finished `program` with each run of consecutive fields made one [`Op::Fields`] step.
/// Done once a program is complete, because [`push`] still folds a literal into the last
/// field while it is being built.
fn fuse_fields(program: Vec<Op>) -> Box<[Op]> {
    let mut fused = Vec::with_capacity(program.len());
    let mut run = Vec::new();
    let flush = |run: &mut Vec<Field>, fused: &mut Vec<Op>| match run.len() {
        0 => {}
        1 => fused.push(Op::Field(run.pop().expect("one field"))),
        _ => fused.push(Op::Fields(std::mem::take(run).into_boxed_slice())),
    };
    for op in program {
        match op {
            Op::Field(field) => run.push(field),
            op => {
                flush(&mut run, &mut fused);
                fused.push(op);
            }
        }
    }
    flush(&mut run, &mut fused);
    fused.into_boxed_slice()
}

/// The bytes of a literal span.
fn literal_bytes(span: &Span) -> Option<Box<[u8]>> {
    match span {
        Span::Byte(b) => Some(Box::new([*b])),
        Span::Literal(literal) => Some(literal.clone()),
        _ => None,
    }
}

fn literal(bytes: &[u8]) -> Span {
    match *bytes {
        [b] => Span::Byte(b),
        _ => Span::Literal(bytes.into()),
    }
}

fn capture_indices(hir: &Hir, found: &mut Vec<usize>) {
    match hir.kind() {
        HirKind::Capture(cap) => {
            found.push(cap.index as usize);
            capture_indices(&cap.sub, found);
        }
        HirKind::Concat(items) | HirKind::Alternation(items) => {
            for item in items {
                capture_indices(item, found);
            }
        }
        HirKind::Repetition(rep) => capture_indices(&rep.sub, found),
        _ => {}
    }
}

/// The capture groups of `hir` whose body is a composite field `native` recognises.
fn find_native_fields(hir: &Hir, looks: &[LookAround], found: &mut Vec<(usize, Native)>) {
    match hir.kind() {
        HirKind::Capture(cap) => match native::recognise_field(&cap.sub, looks) {
            Some(native) => found.push((cap.index as usize, native)),
            None => find_native_fields(&cap.sub, looks, found),
        },
        HirKind::Concat(items) | HirKind::Alternation(items) => {
            for item in items {
                find_native_fields(item, looks, found);
            }
        }
        HirKind::Repetition(rep) => find_native_fields(&rep.sub, looks, found),
        _ => {}
    }
}

/// `X*?`/`X+?` over a class, which [`Builder::lazy`] handles with the rest of the pattern.
fn is_lazy(hir: &Hir) -> bool {
    matches!(hir.kind(), HirKind::Repetition(rep)
        if !rep.greedy && rep.max.is_none() && rep.min <= 1
            && matches!(rep.sub.kind(), HirKind::Class(_)))
}

fn has_capture(hir: &Hir) -> bool {
    hir.properties().explicit_captures_len() > 0
}

/// What precedes a piece, for deciding look-behinds statically.
#[derive(Clone, Copy)]
enum Before {
    /// The start of the line: the chain always starts there.
    Start,
    Char(char),
    Unknown,
}

impl Builder<'_> {
    /// Removes the look-around markers that hold wherever they can be reached: a `(?<!…)`
    /// after a literal character outside its class (IPV4 after a space, NUMBER after
    /// `HTTP/`), a `(?!…)` right after a literal that nothing following can start (TIME's
    /// `(?!<[0-9])` before HOUR). What remains has fewer pieces, and often none with markers,
    /// so fields become single automata or native matchers. `after` is `None` when unknown
    /// (inside repetitions).
    fn simplify(&self, hir: &Hir, before: Before, after: Option<&[&Hir]>) -> Hir {
        match hir.kind() {
            HirKind::Concat(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let before = match i.checked_sub(1).map(|p| items[p].kind()) {
                        None => before,
                        Some(HirKind::Literal(lit)) => std::str::from_utf8(&lit.0)
                            .ok()
                            .and_then(|s| s.chars().next_back())
                            .map_or(Before::Unknown, Before::Char),
                        Some(_) => Before::Unknown,
                    };
                    let rest: Option<Vec<&Hir>> = after
                        .map(|after| items[i + 1..].iter().chain(after.iter().copied()).collect());
                    out.push(self.simplify(item, before, rest.as_deref()));
                }
                Hir::concat(out)
            }
            HirKind::Capture(cap) => {
                let index = cap.index as usize;
                match self.translated.looks.iter().find(|l| l.index == index) {
                    Some(look) if self.always_holds(look, before, after) => Hir::empty(),
                    Some(_) => hir.clone(),
                    None => Hir::capture(regex_syntax::hir::Capture {
                        index: cap.index,
                        name: cap.name.clone(),
                        sub: Box::new(self.simplify(&cap.sub, before, after)),
                    }),
                }
            }
            HirKind::Alternation(alternatives) => Hir::alternation(
                alternatives
                    .iter()
                    .map(|a| self.simplify(a, before, after))
                    .collect(),
            ),
            HirKind::Repetition(rep) => Hir::repetition(regex_syntax::hir::Repetition {
                sub: Box::new(self.simplify(&rep.sub, Before::Unknown, None)),
                ..rep.clone()
            }),
            _ => hir.clone(),
        }
    }

    fn always_holds(
        &self,
        look: &super::dialect::LookAround,
        before: Before,
        after: Option<&[&Hir]>,
    ) -> bool {
        let Ok(body) = regex_syntax::parse(&look.body) else {
            return false;
        };
        let first = match body.kind() {
            HirKind::Class(class) => class.clone(),
            HirKind::Concat(items) => match items.first().map(Hir::kind) {
                Some(HirKind::Class(class)) if look.ahead => class.clone(),
                Some(HirKind::Literal(lit)) if look.ahead => {
                    let Some(c) = std::str::from_utf8(&lit.0)
                        .ok()
                        .and_then(|s| s.chars().next())
                    else {
                        return false;
                    };
                    Class::Unicode(regex_syntax::hir::ClassUnicode::new([
                        regex_syntax::hir::ClassUnicodeRange::new(c, c),
                    ]))
                }
                _ => return false,
            },
            HirKind::Literal(lit) => {
                let Some(c) = std::str::from_utf8(&lit.0)
                    .ok()
                    .and_then(|s| s.chars().next())
                else {
                    return false;
                };
                Class::Unicode(regex_syntax::hir::ClassUnicode::new([
                    regex_syntax::hir::ClassUnicodeRange::new(c, c),
                ]))
            }
            _ => return false,
        };
        // Only `(?!…)`/`(?<!…)` are decided: they hold when no neighbour can start the body.
        if !look.negated {
            return false;
        }
        if !look.ahead {
            // QUOTEDSTRING's `(?<!\\)` is a one-character literal.
            let single = match body.kind() {
                HirKind::Class(_) => true,
                HirKind::Literal(lit) => {
                    std::str::from_utf8(&lit.0).is_ok_and(|s| s.chars().count() == 1)
                }
                _ => false,
            };
            return single
                && match before {
                    Before::Start => true,
                    Before::Char(c) => !class_contains(&first, c),
                    Before::Unknown => false,
                };
        }
        // A look-ahead right after a field of varying length decides where that field ends
        // (IPV4's last octet), so it stays for `fold_ahead`; only one at a fixed place goes.
        let (Some(after), Before::Start | Before::Char(_)) = (after, before) else {
            return false;
        };
        let rest = Hir::concat(after.iter().map(|h| (*h).clone()).collect());
        let prefixes = regex_syntax::hir::literal::Extractor::new().extract(&rest);
        let Some(literals) = prefixes.literals() else {
            return false;
        };
        literals.iter().all(|l| {
            l.as_bytes()
                .first()
                .is_some_and(|&b| b.is_ascii() && !class_contains(&first, b as char))
        })
    }

    fn dfa(&mut self, hir: &Hir) -> Option<usize> {
        let nfa = thompson::Compiler::new()
            .configure(thompson::Config::new().which_captures(WhichCaptures::None))
            .build_from_hir(hir)
            .ok()?;
        let dense = dense::Builder::new()
            .configure(
                dense::Config::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .start_kind(StartKind::Anchored)
                    .minimize(true)
                    .unicode_word_boundary(true)
                    .determinize_size_limit(Some(DENSE_LIMIT))
                    .dfa_size_limit(Some(DENSE_LIMIT)),
            )
            .build_from_nfa(&nfa);
        let automaton = match dense {
            Ok(dense) => Automaton::Dense(dense),
            Err(_) => Automaton::Lazy(
                DFA::builder()
                    .configure(
                        DFA::config()
                            .match_kind(MatchKind::LeftmostFirst)
                            .unicode_word_boundary(true)
                            .cache_capacity(1 << 20),
                    )
                    .build_from_nfa(nfa)
                    .ok()?,
            ),
        };
        self.dfas.push(automaton);
        self.starts.push(first_bytes(hir));
        Some(self.dfas.len() - 1)
    }

    /// Appends the steps matching `hir` to `out`; `None` when its shape is not supported.
    /// `after` is what follows `hir` in the whole pattern, outermost last.
    fn emit(&mut self, hir: &Hir, after: &[&Hir], out: &mut Vec<Op>) -> Option<()> {
        if !has_capture(hir) {
            match hir.kind() {
                HirKind::Look(look) => out.push(Op::Look(look_of(*look))),
                HirKind::Empty => {}
                _ => push(out, Op::Span(self.span(hir, after)?)),
            }
            return Some(());
        }
        match hir.kind() {
            HirKind::Capture(cap) => {
                let index = cap.index as usize;
                if let Some(look) = self.translated.looks.iter().position(|l| l.index == index) {
                    out.push(Op::Marker(look));
                    return Some(());
                }
                let span = match self.native_fields.iter().find(|(i, _)| *i == index) {
                    Some(&(_, native)) => Span::Native(native),
                    None if !has_capture(&cap.sub)
                        && !matches!(cap.sub.kind(), HirKind::Look(_) | HirKind::Empty) =>
                    {
                        self.span(&cap.sub, after)?
                    }
                    None => {
                        out.push(Op::Open(index));
                        self.emit(&cap.sub, after, out)?;
                        out.push(Op::Close(index));
                        return Some(());
                    }
                };
                push(
                    out,
                    Op::Field(Field {
                        before: Box::default(),
                        group: index,
                        span,
                        then: Box::default(),
                    }),
                );
            }
            HirKind::Concat(items) => {
                let mut i = 0;
                while i < items.len() {
                    // A run of capture-free items is one piece: one automaton instead of one
                    // per item, and its own best match already accounts for all of them.
                    let start = i;
                    while i < items.len() && !has_capture(&items[i]) && !is_lazy(&items[i]) {
                        i += 1;
                    }
                    if i == start {
                        if let Some((tag, rest)) = self.tag(&items[i..]) {
                            push(out, Op::Tag(tag));
                            if !rest.is_empty() {
                                push(out, Op::Span(literal(rest)));
                            }
                            i += 3;
                            continue;
                        }
                    }
                    let (piece, next) = if i > start {
                        (Hir::concat(items[start..i].to_vec()), i)
                    } else {
                        (items[i].clone(), i + 1)
                    };
                    let mut rest: Vec<&Hir> = items[next..].iter().collect();
                    rest.extend_from_slice(after);
                    if let Some(steps) = split_run(&items[start..i]) {
                        for step in steps {
                            push(out, step);
                        }
                    } else {
                        match self.fold_ahead(&piece, items.get(next)) {
                            Some(folded) => out.push(Op::Span(folded)),
                            None => self.emit(&piece, &rest, out)?,
                        }
                    }
                    i = next;
                }
            }
            HirKind::Alternation(alternatives) => {
                let mut tried = Vec::with_capacity(alternatives.len());
                for alternative in alternatives {
                    tried.push(self.tried(alternative, after)?);
                }
                let by_first = self.by_first(&tried);
                out.push(Op::Alternation {
                    alternatives: tried.into_boxed_slice(),
                    by_first,
                });
            }
            HirKind::Repetition(rep) if rep.min == 0 && rep.max == Some(1) => {
                if let Some(tag) = self.optional_tag(rep) {
                    push(out, Op::Tag(tag));
                    return Some(());
                }
                out.push(Op::Optional {
                    greedy: rep.greedy,
                    tried: Box::new(self.tried(&rep.sub, after)?),
                });
            }
            HirKind::Repetition(rep) if rep.greedy => {
                // What follows an iteration is another iteration or the rest.
                let repeated = Hir::repetition(regex_syntax::hir::Repetition {
                    min: 0,
                    max: rep.max.map(|m| m.saturating_sub(1)),
                    greedy: true,
                    sub: rep.sub.clone(),
                });
                let mut inner_after: Vec<&Hir> = vec![&repeated];
                inner_after.extend_from_slice(after);
                self.repeats += 1;
                let tried = self.tried(&rep.sub, &inner_after);
                self.repeats -= 1;
                let mut tried = tried?;
                // Each iteration after the first overwrites the one before.
                tried.inside_repeat = true;
                out.push(Op::Repeat {
                    min: rep.min,
                    max: rep.max,
                    tried: Box::new(tried),
                });
            }
            _ => return None,
        }
        Some(())
    }

    /// The step for a capture-free `hir` that reads a span: a native matcher or a byte loop
    /// when one applies, an automaton otherwise.
    fn span(&mut self, hir: &Hir, after: &[&Hir]) -> Option<Span> {
        if let Some(lazy) = self.lazy(hir, after) {
            return Some(lazy);
        }
        Some(match hir.kind() {
            HirKind::Literal(lit) => literal(&lit.0),
            HirKind::Repetition(rep) if ascii_run(rep).is_some() => ascii_run(rep)?,
            _ => match native::recognise(hir) {
                Some(native) => Span::Native(native),
                None => Span::Leaf {
                    dfa: self.dfa(hir)?,
                    ahead: None,
                },
            },
        })
    }

    fn tried(&mut self, hir: &Hir, after: &[&Hir]) -> Option<Tried> {
        let mut groups = Vec::new();
        capture_indices(hir, &mut groups);
        Some(Tried {
            dfa: self.dfa(hir)?,
            program: {
                let mut program = Vec::new();
                self.emit(hir, after, &mut program)?;
                fuse_fields(program)
            },
            groups: groups.into_boxed_slice(),
            inside_repeat: self.repeats > 0,
        })
    }

    /// `items` starting with SYSLOGPROG's shape and a literal, as a [`Tag`] and what is left
    /// of the literal after its first byte. The shape is checked, not the definition: a
    /// captured greedy class run, an optional (literal, captured span, literal) whose opening
    /// byte the class excludes, and a literal.
    fn tag<'h>(&mut self, items: &'h [Hir]) -> Option<(Tag, &'h [u8])> {
        let [name, bracket, HirKind::Literal(next), ..] =
            items.get(..3)?.iter().map(Hir::kind).collect::<Vec<_>>()[..]
        else {
            return None;
        };
        let HirKind::Capture(name) = name else {
            return None;
        };
        let HirKind::Repetition(bracket) = bracket else {
            return None;
        };
        if (bracket.min, bracket.max, bracket.greedy) != (0, Some(1), true) {
            return None;
        }
        let HirKind::Concat(parts) = bracket.sub.kind() else {
            return None;
        };
        let [open, id, close] = &parts[..] else {
            return None;
        };
        let (HirKind::Literal(open), HirKind::Capture(id), HirKind::Literal(close)) =
            (open.kind(), id.kind(), close.kind())
        else {
            return None;
        };
        let is_marker = |index: u32| {
            self.translated
                .looks
                .iter()
                .any(|l| l.index == index as usize)
        };
        if is_marker(name.index) || is_marker(id.index) || has_capture(&id.sub) || is_lazy(&id.sub)
        {
            return None;
        }
        if matches!(id.sub.kind(), HirKind::Look(_) | HirKind::Empty) {
            return None;
        }
        let HirKind::Repetition(run) = name.sub.kind() else {
            return None;
        };
        let Some(Span::Run { class, min }) = ascii_run(run) else {
            return None;
        };
        if class[usize::from(open.0[0])] {
            return None;
        }
        let id = Field {
            before: open.0.clone(),
            group: id.index as usize,
            span: match self
                .native_fields
                .iter()
                .find(|(i, _)| *i == id.index as usize)
            {
                Some(&(_, native)) => Span::Native(native),
                // Not lazy, so what follows does not matter.
                None => self.span(&id.sub, &[])?,
            },
            then: close.0.clone(),
        };
        Some((
            Tag {
                before: Box::default(),
                name: name.index as usize,
                class,
                min,
                id,
                end: next.0[0],
                optional: false,
            },
            &next.0[1..],
        ))
    }

    /// `(?: %{SYSLOGPROG}:)?` (a literal, if any, then the shape [`Builder::tag`] reads, the
    /// literal after it one byte) as one optional [`Tag`].
    fn optional_tag(&mut self, rep: &regex_syntax::hir::Repetition) -> Option<Tag> {
        let HirKind::Concat(items) = rep.sub.kind() else {
            return None;
        };
        let (before, shape) = match items.split_first()? {
            (first, rest) if rest.len() == 3 => match first.kind() {
                HirKind::Literal(literal) => (literal.0.clone(), rest),
                _ => return None,
            },
            _ if items.len() == 3 => (Box::default(), &items[..]),
            _ => return None,
        };
        let one_byte = matches!(shape[2].kind(), HirKind::Literal(l) if l.0.len() == 1);
        if !rep.greedy || !one_byte {
            return None;
        }
        let (tag, _) = self.tag(shape)?;
        Some(Tag {
            before,
            optional: true,
            ..tag
        })
    }

    /// For alternatives that cannot start with the same byte, which one each byte selects;
    /// `None` when some alternative's first bytes are unknown (it can be empty) or overlap
    /// another's.
    fn by_first(&self, alternatives: &[Tried]) -> Option<Box<[u8; 256]>> {
        if alternatives.len() >= usize::from(NO_ALTERNATIVE) {
            return None;
        }
        let mut table = Box::new([NO_ALTERNATIVE; 256]);
        for (i, alternative) in alternatives.iter().enumerate() {
            let starts = self.starts[alternative.dfa].as_ref()?;
            for (entry, _) in table.iter_mut().zip(starts.iter()).filter(|(_, &s)| s) {
                if *entry != NO_ALTERNATIVE {
                    return None;
                }
                *entry = i as u8;
            }
        }
        Some(table)
    }

    /// `X*?` or `X+?` over one character class, with an automaton for what follows.
    fn lazy(&mut self, hir: &Hir, after: &[&Hir]) -> Option<Span> {
        let HirKind::Repetition(rep) = hir.kind() else {
            return None;
        };
        let HirKind::Class(class) = rep.sub.kind() else {
            return None;
        };
        if rep.greedy || rep.max.is_some() || rep.min > 1 {
            return None;
        }
        // The shortest end from which the whole remainder matches is also the shortest from
        // which its leading capture-free run matches, provided the chain then completes
        // (otherwise it gives up). Checking only the run is much cheaper: usually it is a
        // literal such as `] ` or a space.
        let mut run = Vec::new();
        'outer: for h in after {
            let items: Vec<&Hir> = match h.kind() {
                HirKind::Concat(items) => items.iter().collect(),
                _ => vec![*h],
            };
            for item in items {
                if has_capture(item) || is_lazy(item) {
                    break 'outer;
                }
                run.push(item.clone());
            }
        }
        let rest = if run.is_empty() {
            Hir::concat(after.iter().map(|h| (*h).clone()).collect())
        } else {
            Hir::concat(run)
        };
        let mut first = Box::new([true; 256]);
        let prefixes = regex_syntax::hir::literal::Extractor::new().extract(&rest);
        if let Some(literals) = prefixes.literals() {
            if literals.iter().all(|l| !l.as_bytes().is_empty()) {
                first.fill(false);
                for literal in literals {
                    first[literal.as_bytes()[0] as usize] = true;
                }
            }
        }
        let any = match class {
            Class::Unicode(u) => {
                let covered: u32 = u
                    .ranges()
                    .iter()
                    .map(|r| r.end() as u32 - r.start() as u32 + 1)
                    .sum();
                // Every scalar value; surrogates are not characters.
                covered >= 0x11_0000 - 0x800
            }
            Class::Bytes(_) => false,
        };
        let needles: Vec<u8> = (0..=255u8).filter(|&b| first[b as usize]).collect();
        let needles = (any && (1..=3).contains(&needles.len())).then(|| needles.into_boxed_slice());
        let literal = match rest.kind() {
            HirKind::Literal(literal) => Some(literal.0.clone()),
            _ => None,
        };
        Some(Span::Lazy {
            class: class.clone(),
            min: rep.min,
            rest: self.dfa(&rest)?,
            first,
            needles,
            literal,
        })
    }

    /// A capture-free `item` followed by a one-character look-ahead marker becomes one leaf
    /// whose automaton also reads the tested character.
    fn fold_ahead(&mut self, item: &Hir, next: Option<&Hir>) -> Option<Span> {
        if has_capture(item) || matches!(item.kind(), HirKind::Look(_) | HirKind::Literal(_)) {
            return None;
        }
        let HirKind::Capture(cap) = next?.kind() else {
            return None;
        };
        let look = self
            .translated
            .looks
            .iter()
            .find(|l| l.index == cap.index as usize && l.ahead)?;
        let body = regex_syntax::parse(&look.body).ok()?;
        let HirKind::Class(class) = body.kind() else {
            return None;
        };
        let tested = if look.negated {
            let mut negated = class.clone();
            negated.negate();
            Hir::alternation(vec![
                Hir::class(negated),
                Hir::look(regex_syntax::hir::Look::End),
            ])
        } else {
            Hir::class(class.clone())
        };
        let dfa = self.dfa(&Hir::concat(vec![item.clone(), tested]))?;
        Some(Span::Leaf {
            dfa,
            ahead: Some(Ahead {
                class: class.clone(),
                negated: look.negated,
            }),
        })
    }
}

/// regex-syntax's look-around kinds as regex-automata's.
fn look_of(look: regex_syntax::hir::Look) -> Look {
    use regex_syntax::hir::Look as L;
    match look {
        L::Start => Look::Start,
        L::End => Look::End,
        L::StartLF => Look::StartLF,
        L::EndLF => Look::EndLF,
        L::StartCRLF => Look::StartCRLF,
        L::EndCRLF => Look::EndCRLF,
        L::WordAscii => Look::WordAscii,
        L::WordAsciiNegate => Look::WordAsciiNegate,
        L::WordUnicode => Look::WordUnicode,
        L::WordUnicodeNegate => Look::WordUnicodeNegate,
        L::WordStartAscii => Look::WordStartAscii,
        L::WordEndAscii => Look::WordEndAscii,
        L::WordStartUnicode => Look::WordStartUnicode,
        L::WordEndUnicode => Look::WordEndUnicode,
        L::WordStartHalfAscii => Look::WordStartHalfAscii,
        L::WordEndHalfAscii => Look::WordEndHalfAscii,
        L::WordStartHalfUnicode => Look::WordStartHalfUnicode,
        L::WordEndHalfUnicode => Look::WordEndHalfUnicode,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::filters::grok::dialect::translate;
    use crate::filters::grok::expand::expand;
    use crate::filters::grok::{EcsCompatibility, PatternLibrary};

    /// Whether `program` or a node inside it has the step `wanted` picks.
    fn has_step(program: &[Op], wanted: &impl Fn(&Op) -> bool) -> bool {
        program.iter().any(|op| {
            wanted(op)
                || match op {
                    Op::Alternation { alternatives, .. } => {
                        alternatives.iter().any(|t| has_step(&t.program, wanted))
                    }
                    Op::Optional { tried, .. } | Op::Repeat { tried, .. } => {
                        has_step(&tried.program, wanted)
                    }
                    _ => false,
                }
        })
    }

    fn library_chains(mode: EcsCompatibility) -> Vec<(String, Chain)> {
        let library = PatternLibrary::builtin(mode);
        library
            .names()
            .filter_map(|name| {
                let expanded = expand(&format!("%{{{name}}}"), &library, true).ok()?;
                let chain = Chain::new(&translate(&expanded).ok()?)?;
                Some((name.to_owned(), chain))
            })
            .collect()
    }

    /// Which library patterns read SYSLOGPROG and its colon as one [`Tag`] step (every one
    /// that has the colon right after it), and that the syslog and nginx lines' alternations
    /// pick their alternative by the first byte: a rewrite that loses either shows up here.
    #[test]
    fn library_patterns_keep_their_tag_and_dispatch_steps() {
        let tag = |op: &Op| matches!(op, Op::Tag(_));
        let dispatch = |op: &Op| {
            matches!(
                op,
                Op::Alternation {
                    by_first: Some(_),
                    ..
                }
            )
        };
        for mode in [EcsCompatibility::Disabled, EcsCompatibility::V1] {
            let chains = library_chains(mode);
            let with = |wanted: &dyn Fn(&Op) -> bool| -> BTreeSet<&str> {
                chains
                    .iter()
                    .filter(|(_, chain)| has_step(&chain.program, &wanted))
                    .map(|(name, _)| name.as_str())
                    .collect()
            };
            let tagged = BTreeSet::from([
                "CRONLOG",
                "HAPROXYHTTP",
                "HAPROXYTCP",
                "SYSLOGBASE",
                "SYSLOGBASE2",
                "SYSLOGLINE",
                "SYSLOGPAMSESSION",
            ]);
            assert_eq!(with(&tag), tagged, "{mode:?}");
            let dispatched = with(&dispatch);
            for name in ["SYSLOGBASE2", "SYSLOGLINE", "NGINXACCESS", "HAPROXYHTTP"] {
                assert!(dispatched.contains(name), "{mode:?} {name}");
            }
        }
    }

    /// Which library patterns, captured after a space, run as one native matcher. Natives
    /// are recognised by comparing syntax trees with the definitions they were written for,
    /// so a rewrite of a library pattern that loses (or gains) one shows up here.
    #[test]
    fn library_fields_keep_their_native_matchers() {
        let both = [
            ("BASE10NUM", Native::Number),
            ("GREEDYDATA", Native::Rest),
            ("HTTPDATE", Native::HttpDate),
            ("INT", Native::Int),
            ("IPORHOST", Native::IpOrHost),
            ("JAVACLASS", Native::JavaClass),
            ("JAVALOGMESSAGE", Native::Rest),
            ("LOGLEVEL", Native::LogLevel),
            ("NONNEGINT", Native::NonNegInt),
            ("NOTSPACE", Native::NotSpace),
            ("NUMBER", Native::Number),
            ("POSINT", Native::PosInt),
            ("QS", Native::Quoted),
            ("QUOTEDSTRING", Native::Quoted),
            ("SYSLOGHOST", Native::IpOrHost),
            ("SYSLOGTIMESTAMP", Native::SyslogTimestamp),
            ("TIMESTAMP_ISO8601", Native::Iso8601),
            ("URIPATHPARAM", Native::UriPathParam),
            ("WORD", Native::Word),
        ];
        for (mode, only) in [
            (EcsCompatibility::Disabled, &[][..]),
            (
                EcsCompatibility::V1,
                &[("MONGO3_COMPONENT", Native::Word)][..],
            ),
        ] {
            let expected: BTreeMap<&str, Native> = both.iter().chain(only).copied().collect();
            let library = PatternLibrary::builtin(mode);
            let mut found = BTreeMap::new();
            for name in library.names() {
                let expanded = expand(&format!(" %{{{name}:f}}"), &library, true).unwrap();
                let Some(chain) = translate(&expanded).ok().and_then(|t| Chain::new(&t)) else {
                    continue;
                };
                if let [Op::Field(Field {
                    before,
                    span: Span::Native(native),
                    ..
                })] = &*chain.program
                {
                    assert_eq!(&**before, b" ", "{name}");
                    found.insert(name, *native);
                }
            }
            assert_eq!(found, expected, "{mode:?}");
        }
    }
}
