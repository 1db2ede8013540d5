//! One pass over a JSON object that builds nothing: is it valid, would re-encoding its tree
//! give back the same bytes, and where are the top-level members an event cares about.
//!
//! This is what lets an input keep a document as bytes ([`super::raw::RawJson`]) and build
//! its tree only when something reads a field. The pass accepts exactly what
//! [`super::json::decode_object`] accepts (same grammar, UTF-8 rules, surrogate rules, number
//! range, [`MAX_DEPTH`]); when it refuses, the caller asks the decoder for the error, so
//! error text and offsets come from one place. It allocates nothing: open containers are
//! bits of a `u128`, and the keys of open objects (to find repeats) wait in per-thread
//! stacks.
//!
//! "Canonical" means [`super::json::encode_value`] of the decoded tree writes these very
//! bytes: no whitespace outside strings, only the escapes the encoder writes, numbers in the
//! encoder's form, and no object with a repeated key (the tree keeps one of them). Objects
//! with more than [`MAX_KEYS_COMPARED`] members are called non-canonical rather than compared
//! key by key, which keeps the pass linear on hostile input.

use std::ops::Range;

use super::json::{scan_string_run, MAX_DEPTH};

/// Members of one object compared pairwise for repeats; a larger object counts as
/// non-canonical (its document is then written from the tree, which de-duplicates).
const MAX_KEYS_COMPARED: usize = 32;

/// The top-level keys event construction looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopKey {
    Timestamp,
    Metadata,
    Version,
    Tags,
    Message,
}

impl TopKey {
    #[inline(always)]
    fn of(name: &[u8]) -> Option<TopKey> {
        match name {
            b"@timestamp" => Some(TopKey::Timestamp),
            b"@metadata" => Some(TopKey::Metadata),
            b"@version" => Some(TopKey::Version),
            b"tags" => Some(TopKey::Tags),
            b"message" => Some(TopKey::Message),
            _ => None,
        }
    }
}

/// Where one top-level member is. Offsets are `u32`s so that [`Checked`] stays small enough
/// to be moved without a `memcpy` call (a Beats payload's length is a `u32`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    open: u32,
    value_start: u32,
    end: u32,
    repeated: bool,
}

impl Member {
    /// From the key's opening quote to the end of its value.
    pub fn member(&self) -> Range<usize> {
        self.open as usize..self.end as usize
    }

    pub fn value(&self) -> Range<usize> {
        self.value_start as usize..self.end as usize
    }

    /// The key occurs more than once (the ranges are the last occurrence's).
    pub fn repeated(&self) -> bool {
        self.repeated
    }
}

/// What the pass found in a valid object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    pub canonical: bool,
    /// A top-level key is written with escapes, or a member lies past 4 GiB: the members
    /// above may then miss one, so callers must not rely on them.
    pub unlisted_top_key: bool,
    members: [Option<Member>; 5],
}

impl Checked {
    pub fn member(&self, key: TopKey) -> Option<&Member> {
        self.members[key as usize].as_ref()
    }
}

/// Checks `bytes` as one JSON object (whitespace around it allowed); `None` when
/// [`super::json::decode_object`] would refuse it.
pub fn check_object(bytes: &[u8]) -> Option<Checked> {
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut scratch) => {
            scratch.keys.clear();
            scratch.objects.clear();
            Checker::new(bytes, &mut scratch).run()
        }
        Err(_) => Checker::new(bytes, &mut Scratch::default()).run(),
    })
}

/// A key of an open object: where it starts and how long it is, in the input, and its
/// first eight bytes (zero-padded), which tell most different keys apart without a `memcmp`.
type KeyAt = (u32, u32, u64);

/// The keys of the open objects, innermost last, and the enclosing objects'
/// [`Checker::keys_from`] and [`Checker::seen`]. Reused by every check on a thread.
#[derive(Default)]
struct Scratch {
    keys: Vec<KeyAt>,
    objects: Vec<(u32, u64)>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// The pass over one document. Its steps are `#[inline(always)]`, so that the whole pass
/// is one loop in [`Checker::run`]: where a token ends is what the next token waits for,
/// and a call boundary makes the position (and the other fields) take a trip through
/// memory on that chain (10 % of the check on a Filebeat event). Only the rare paths,
/// escapes and floats, stay calls.
struct Checker<'a, 'k> {
    bytes: &'a [u8],
    pos: usize,
    checked: Checked,
    scratch: &'k mut Scratch,
    /// Bit `d` set: the container at depth `d` (1-based) is an object.
    objects: u128,
    depth: usize,
    /// The top-level member whose value is being read.
    top: Option<(TopKey, usize, usize)>,
    /// The innermost open object's first key in [`Scratch::keys`], and a one-bit hash of
    /// each of its keys (only a key whose bit is already set is compared with the others).
    /// Kept here rather than on the stack of open objects, which holds the enclosing
    /// objects' while one is open.
    keys_from: u32,
    seen: u64,
}

impl<'a, 'k> Checker<'a, 'k> {
    fn new(bytes: &'a [u8], scratch: &'k mut Scratch) -> Checker<'a, 'k> {
        Checker {
            bytes,
            pos: 0,
            checked: Checked {
                canonical: true,
                ..Checked::default()
            },
            scratch,
            objects: 0,
            depth: 0,
            top: None,
            keys_from: 0,
            seen: 0,
        }
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips whitespace; the byte the checker then stands on. Loads that byte once when
    /// there is no whitespace (a canonical document has none).
    #[inline(always)]
    fn significant(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        if b > b' ' {
            return Some(b);
        }
        self.whitespace();
        self.peek()
    }

    #[inline(always)]
    fn whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
            self.checked.canonical = false;
        }
    }

    fn run(mut self) -> Option<Checked> {
        if u32::try_from(self.bytes.len()).is_err() {
            // Key positions are kept as `u32`; a Beats payload never needs more (its length
            // is a `u32`), and a larger document is simply written from its tree.
            self.checked.canonical = false;
        }
        self.whitespace();
        if self.peek() != Some(b'{') {
            return None;
        }
        self.values()?;
        self.whitespace();
        (self.pos == self.bytes.len()).then_some(self.checked)
    }

    #[inline(always)]
    fn in_object(&self) -> bool {
        self.objects & (1 << (self.depth - 1)) != 0
    }

    /// The document's one value and everything nested in it, without recursion.
    #[inline(always)]
    fn values(&mut self) -> Option<()> {
        'value: loop {
            match self.significant()? {
                b'"' => {
                    self.string()?;
                }
                b'-' | b'0'..=b'9' => self.number()?,
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                open @ (b'[' | b'{') => {
                    if self.depth >= MAX_DEPTH {
                        return None;
                    }
                    self.pos += 1;
                    self.depth += 1;
                    let close = if open == b'[' { b']' } else { b'}' };
                    if self.significant() == Some(close) {
                        self.pos += 1;
                        self.depth -= 1;
                    } else if open == b'[' {
                        self.objects &= !(1 << (self.depth - 1));
                        continue 'value;
                    } else {
                        self.objects |= 1 << (self.depth - 1);
                        let base = self.scratch.keys.len() as u32;
                        self.scratch.objects.push((self.keys_from, self.seen));
                        (self.keys_from, self.seen) = (base, 0);
                        self.key()?;
                        continue 'value;
                    }
                }
                _ => return None,
            }
            // A value is complete: what follows it closes containers or starts the next one.
            loop {
                if self.depth == 0 {
                    return Some(());
                }
                if self.depth == 1 {
                    self.end_top_member();
                }
                let object = self.in_object();
                match self.significant()? {
                    b',' => {
                        self.pos += 1;
                        if object {
                            self.key()?;
                        }
                        continue 'value;
                    }
                    b']' if !object => {}
                    b'}' if object => {
                        self.scratch.keys.truncate(self.keys_from as usize);
                        (self.keys_from, self.seen) =
                            self.scratch.objects.pop().expect("an open object");
                    }
                    _ => return None,
                }
                self.pos += 1;
                self.depth -= 1;
            }
        }
    }

    /// An object key and its `:`; notes repeats and the top-level keys of interest.
    #[inline(always)]
    fn key(&mut self) -> Option<()> {
        if self.significant()? != b'"' {
            return None;
        }
        let open = self.pos;
        let escaped = self.string()?;
        let key = open + 1..self.pos - 1;
        if self.checked.canonical {
            self.note_key(&key);
        }
        if self.significant()? != b':' {
            return None;
        }
        self.pos += 1;
        if self.depth == 1 {
            self.whitespace();
            self.start_top_member(open, &key, escaped);
        }
        Some(())
    }

    /// Compares a key of the innermost object with its earlier keys.
    #[inline(always)]
    fn note_key(&mut self, key: &Range<usize>) {
        let keys = &mut self.scratch.keys;
        let seen = &mut self.seen;
        let base = self.keys_from as usize;
        if keys.len() - base >= MAX_KEYS_COMPARED {
            self.checked.canonical = false;
            return;
        }
        let name = &self.bytes[key.clone()];
        let head = head(self.bytes, key);
        let hash = (head ^ name.len() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let bit = 1 << (hash >> 58);
        let maybe_seen = *seen & bit != 0;
        *seen |= bit;
        let repeated = maybe_seen
            && keys[base..].iter().any(|&(start, len, other)| {
                other == head
                    && len as usize == name.len()
                    && (name.len() <= 8 || &self.bytes[start as usize..][..len as usize] == name)
            });
        if repeated {
            self.checked.canonical = false;
        }
        keys.push((key.start as u32, name.len() as u32, head));
    }

    /// Called on the first byte of the value of the top-level member whose key opens at
    /// `open`.
    #[inline(always)]
    fn start_top_member(&mut self, open: usize, key: &Range<usize>, escaped: bool) {
        self.top = None;
        if escaped {
            self.checked.unlisted_top_key = true;
            return;
        }
        if let Some(which) = TopKey::of(&self.bytes[key.clone()]) {
            self.top = Some((which, open, self.pos));
        }
    }

    /// Called when a top-level value has just ended at `self.pos`.
    #[inline(always)]
    fn end_top_member(&mut self) {
        let Some((which, open, value_start)) = self.top.take() else {
            return;
        };
        let (Ok(open), Ok(value_start), Ok(end)) = (
            u32::try_from(open),
            u32::try_from(value_start),
            u32::try_from(self.pos),
        ) else {
            self.checked.unlisted_top_key = true;
            return;
        };
        let slot = &mut self.checked.members[which as usize];
        let repeated = slot.is_some();
        *slot = Some(Member {
            open,
            value_start,
            end,
            repeated,
        });
    }

    /// A string; the checker stands on its opening quote. Returns whether it has escapes.
    #[inline(always)]
    fn string(&mut self) -> Option<bool> {
        let mut run_start = self.pos + 1;
        let mut escaped = false;
        loop {
            let (len, non_ascii) = scan_string_run(&self.bytes[run_start..]);
            let end = run_start + len;
            if non_ascii {
                std::str::from_utf8(&self.bytes[run_start..end]).ok()?;
            }
            match *self.bytes.get(end)? {
                b'"' => {
                    self.pos = end + 1;
                    return Some(escaped);
                }
                b'\\' => {
                    escaped = true;
                    run_start = self.escape(end)?;
                }
                _ => return None,
            }
        }
    }

    /// The escape at `at` (a backslash); returns the offset after it.
    fn escape(&mut self, at: usize) -> Option<usize> {
        match *self.bytes.get(at + 1)? {
            b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => Some(at + 2),
            b'/' => {
                self.checked.canonical = false;
                Some(at + 2)
            }
            b'u' => {
                let code = hex4(self.bytes.get(at + 2..at + 6)?)?;
                match code {
                    0xD800..=0xDBFF => {
                        if self.bytes.get(at + 6..at + 8)? != b"\\u" {
                            return None;
                        }
                        let low = hex4(self.bytes.get(at + 8..at + 12)?)?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return None;
                        }
                        self.checked.canonical = false;
                        Some(at + 12)
                    }
                    0xDC00..=0xDFFF => None,
                    _ => {
                        if !is_encoder_escape(code, &self.bytes[at + 2..at + 6]) {
                            self.checked.canonical = false;
                        }
                        Some(at + 6)
                    }
                }
            }
            _ => None,
        }
    }

    #[inline(always)]
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.bytes.get(self.pos..self.pos + word.len())? != word {
            return None;
        }
        self.pos += word.len();
        Some(())
    }

    /// A number, by the decoder's grammar; notes whether the tree would write it back as is.
    #[inline(always)]
    fn number(&mut self) -> Option<()> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek()? {
            b'0' => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return None;
                }
            }
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        let integral_end = self.pos;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.required_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.required_digits()?;
        }
        let text = &self.bytes[start..self.pos];
        if self.pos == integral_end {
            // An integer the tree holds as an `i64` is written back as these digits, except
            // `-0`, which becomes `0`.
            let negative = text[0] == b'-';
            let digits = &text[usize::from(negative)..];
            if digits.len() < 19 && text != b"-0" {
                return Some(());
            }
            if text != b"-0" {
                let fits = std::str::from_utf8(text)
                    .ok()
                    .and_then(|t| t.parse::<i64>().ok())
                    .is_some();
                if fits {
                    return Some(());
                }
            }
        }
        // A float (or an integer too large for an `i64`, which the tree keeps as one).
        let parsed: f64 = std::str::from_utf8(text).ok()?.parse().ok()?;
        if parsed.is_infinite() {
            return None;
        }
        if self.checked.canonical && !writes_as(parsed, text) {
            self.checked.canonical = false;
        }
        Some(())
    }

    #[inline(always)]
    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn required_digits(&mut self) -> Option<()> {
        let start = self.pos;
        self.digits();
        (self.pos > start).then_some(())
    }
}

/// The first eight bytes of the key at `key`, zero-padded: one unaligned load (a key is
/// followed by at least `":0}`, so the load rarely runs past the input), not a byte copy,
/// whose narrow stores the wide load would wait on.
#[inline(always)]
fn head(bytes: &[u8], key: &Range<usize>) -> u64 {
    let word = match bytes.get(key.start..key.start + 8) {
        Some(word) => u64::from_le_bytes(word.try_into().expect("eight bytes")),
        None => bytes[key.start..]
            .iter()
            .rev()
            .fold(0, |word, &b| word << 8 | u64::from(b)),
    };
    match key.len() {
        0 => 0,
        len @ 1..=7 => word & ((1 << (len * 8)) - 1),
        _ => word,
    }
}

fn hex4(digits: &[u8]) -> Option<u32> {
    digits
        .iter()
        .try_fold(0, |code, &d| Some(code * 16 + (d as char).to_digit(16)?))
}

/// Whether `\uXXXX` (`digits`, naming `code`) is how [`super::json::encode_str`] writes
/// `code`: only controls without a short escape, in lowercase hex.
fn is_encoder_escape(code: u32, digits: &[u8]) -> bool {
    code < 0x20
        && !matches!(code, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d)
        && !digits.iter().any(u8::is_ascii_uppercase)
}

/// Whether the encoder writes `f` as exactly `text`.
fn writes_as(f: f64, text: &[u8]) -> bool {
    let mut rest = text;
    let mut same = true;
    super::value::float_text(f, |part| match rest.strip_prefix(part.as_bytes()) {
        Some(tail) if same => rest = tail,
        _ => same = false,
    });
    same && rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::json::{decode_object, encode_object};
    use bytes::Bytes;

    fn canonical(doc: &str) -> bool {
        check_object(doc.as_bytes()).unwrap().canonical
    }

    #[test]
    fn accepts_and_refuses_what_the_decoder_does() {
        for doc in [
            r#"{}"#,
            r#" { "a" : [ 1 , -2.5e3 , true , null , { } , [ ] ] } "#,
            r#"{"s":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}"#,
            r#"{"a":1,"a":2}"#,
            "{\"é\":\"😀\"}",
        ] {
            assert!(decode_object(&Bytes::from(doc)).is_ok(), "{doc}");
            assert!(check_object(doc.as_bytes()).is_some(), "{doc}");
        }
        for doc in [
            "",
            "[]",
            "1",
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":1e400}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\udc00"}"#,
            r#"{"a":"\x"}"#,
            "{\"a\":\"\t\"}",
            "{\"a\":\"\u{1}\"}",
            r#"{"a":tru}"#,
            r#"{"a":[1}"#,
            r#"{"a":{]}"#,
            r#"{"a":1} x"#,
            r#"{"a":1"#,
            r#"{"a":"b"#,
            // Bytes below a space between tokens that are not JSON whitespace.
            "{\"a\":\u{b}1}",
            "{\u{1}\"a\":1}",
            "{\"a\":1\u{c},\"b\":2}",
        ] {
            assert!(decode_object(&Bytes::from(doc)).is_err(), "{doc}");
            assert!(check_object(doc.as_bytes()).is_none(), "{doc}");
        }
        assert!(check_object(b"{\"a\":\"\xff\"}").is_none());
        let deep = |n: usize| format!("{{\"a\":{}{}}}", "[".repeat(n), "]".repeat(n));
        assert!(check_object(deep(MAX_DEPTH - 1).as_bytes()).is_some());
        assert!(check_object(deep(MAX_DEPTH).as_bytes()).is_none());
        assert!(check_object("[".repeat(100_000).as_bytes()).is_none());
    }

    #[test]
    fn canonical_means_the_encoder_writes_the_same_bytes() {
        for doc in [
            r#"{"a":1,"b":-7,"c":0.5,"d":[true,false,null],"e":{"f":"x\"y\\z\n\u0001"}}"#,
            r#"{"n":9223372036854775807,"m":-9223372036854775808,"f":1.0,"g":1e16}"#,
            "{\"é\":\"😀\"}",
        ] {
            let decoded = decode_object(&Bytes::from(doc)).unwrap();
            let mut out = Vec::new();
            encode_object(&decoded, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), doc);
            assert!(canonical(doc), "{doc}");
        }
        for doc in [
            r#"{ "a":1}"#,
            r#"{"a":-0}"#,
            r#"{"a":9223372036854775808}"#,
            r#"{"a":1.50}"#,
            r#"{"a":1E2}"#,
            r#"{"a":1e+16}"#,
            r#"{"a":"\/"}"#,
            r#"{"a":"\u00e9"}"#,
            r#"{"a":"\u001F"}"#,
            r#"{"a":"\u000a"}"#,
            r#"{"a":"\ud83d\ude00"}"#,
            r#"{"a":{"b":1,"b":2}}"#,
        ] {
            assert!(!canonical(doc), "{doc}");
        }
        let many: Vec<String> = (0..MAX_KEYS_COMPARED + 1)
            .map(|i| format!("\"k{i}\":{i}"))
            .collect();
        assert!(!canonical(&format!("{{{}}}", many.join(","))));
    }

    #[test]
    fn repeats_are_looked_for_in_each_object_across_nested_ones() {
        // An object's keys are compared with its own, before and after a nested object
        // closes, and never with those of the objects around or inside it.
        for doc in [
            r#"{"a":{"b":1},"a":2}"#,
            r#"{"a":{"b":1,"c":{"b":1},"b":2}}"#,
            r#"{"a":[{"b":1},{"c":{"d":1},"c":2}]}"#,
            r#"{"a":{"b":{"c":{}}},"x":1,"a":1}"#,
        ] {
            assert!(!canonical(doc), "{doc}");
        }
        for doc in [
            r#"{"a":{"a":{"a":1}},"b":{"a":2}}"#,
            r#"{"a":{"b":1},"b":{"b":{"b":1},"c":1}}"#,
            r#"{"a":[{"a":1},{"a":2}],"b":[{"a":[{"a":1}]}]}"#,
        ] {
            assert!(canonical(doc), "{doc}");
        }
    }

    #[test]
    fn finds_the_top_level_members() {
        let doc = r#"{"@timestamp":"t","a":{"@timestamp":1},"@metadata":{"beat":"fb"},"message": "m","message":"n"}"#;
        let checked = check_object(doc.as_bytes()).unwrap();
        let at = |key| {
            let m = checked.member(key).unwrap();
            (&doc[m.member()], &doc[m.value()], m.repeated())
        };
        assert_eq!(
            at(TopKey::Timestamp),
            (r#""@timestamp":"t""#, r#""t""#, false)
        );
        assert_eq!(
            at(TopKey::Metadata),
            (r#""@metadata":{"beat":"fb"}"#, r#"{"beat":"fb"}"#, false)
        );
        assert_eq!(at(TopKey::Message), (r#""message":"n""#, r#""n""#, true));
        assert!(checked.member(TopKey::Tags).is_none());
        assert!(!checked.unlisted_top_key);
        let escaped = check_object(br#"{"\u0040timestamp":1}"#).unwrap();
        assert!(escaped.unlisted_top_key && escaped.member(TopKey::Timestamp).is_none());
    }
}
