//! Translation of the Ruby/Oniguruma regex dialect that grok patterns are written in to the
//! syntax of the `regex` crates, which match in linear time.
//!
//! Logstash compiles every pattern with Joni in Ruby syntax and `Regexp::MULTILINE`. This
//! module reproduces that dialect: `.` matches `\n`, `^`/`$` are line anchors, `\w \d \s \h`
//! are ASCII while `\b` and POSIX brackets are Unicode, plain `(…)` groups never capture
//! (only named ones do), `{,n}` means `{0,n}`, and a `{` that starts no quantifier is literal.
//!
//! The constructs a finite automaton cannot express are rewritten, each as `docs/GROK.md`
//! lists with its reason:
//! - atomic groups `(?>…)` and possessive quantifiers become ordinary groups and quantifiers;
//! - a look-around becomes an empty marker group `()` plus a [`LookAround`] holding its body.
//!   The automaton then matches a superset of the Ruby pattern; the matcher checks each
//!   assertion where its marker matched and, only when one fails, reruns the line on an exact
//!   engine (see `matcher.rs`);
//! - a look-ahead whose body is a single named `.*` capture (SYSLOGPAMSESSION) becomes an empty
//!   group that the matcher widens to the end of the input.
//!
//! Backreferences, subexpression calls, conditionals and the other Oniguruma-only escapes are
//! refused with an error naming the construct. Translation runs once per pattern at compile
//! time; its cost is linear in the expanded pattern's length.

use std::fmt::Write;

/// A translated regex and what its capture groups stand for.
#[derive(Debug, Clone, PartialEq)]
pub struct Translated {
    /// Pattern text for `regex-automata`.
    pub regex: String,
    /// The named groups, in the order of their opening parentheses.
    pub groups: Vec<Group>,
    /// The look-around assertions, each standing where its marker group is.
    pub looks: Vec<LookAround>,
}

/// A look-around assertion replaced by the empty capture group `index`.
#[derive(Debug, Clone, PartialEq)]
pub struct LookAround {
    /// The marker's capture group index in `Translated::regex`.
    pub index: usize,
    /// `(?=…)`/`(?!…)` rather than `(?<=…)`/`(?<!…)`.
    pub ahead: bool,
    /// `(?!…)`/`(?<!…)`.
    pub negated: bool,
    /// The body, translated.
    pub body: String,
    /// The marker sits inside a repetition, so a match reports only its last position.
    pub repeated: bool,
}

/// One named capture group of the source pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The capture group index in `Translated::regex`.
    pub index: usize,
    /// The name as written, e.g. `NUMBER:bytes:int` or an inline `(?<name>…)`'s name.
    pub name: String,
    /// The group came from `(?=(?<name>.*))`: it captures from where it stands to the end of
    /// the input without consuming anything.
    pub to_end: bool,
}

/// Why a pattern cannot be translated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} at offset {offset} of the expanded regex")]
pub struct DialectError {
    pub offset: usize,
    pub reason: String,
}

/// Translates `source`, written in Ruby's dialect, into `regex-automata` syntax.
pub fn translate(source: &str) -> Result<Translated, DialectError> {
    let mut t = Translator {
        src: source.as_bytes(),
        text: source,
        pos: 0,
        out: String::with_capacity(source.len() + source.len() / 4),
        groups: Vec::new(),
        looks: Vec::new(),
        captures: 0,
        look_depth: 0,
    };
    // Ruby's MULTILINE: `.` matches `\n` everywhere unless a group turns it off again.
    t.out.push_str("(?s)");
    t.alternation()?;
    if t.pos < t.src.len() {
        return Err(t.error("an unmatched `)`"));
    }
    let mut looks = t.looks;
    if !looks.is_empty() {
        let hir = regex_syntax::parse(&t.out).map_err(|e| DialectError {
            offset: 0,
            reason: e.to_string(),
        })?;
        mark_repeated(&hir, false, &mut looks);
    }
    Ok(Translated {
        regex: t.out,
        groups: t.groups,
        looks,
    })
}

/// Flags the look-around markers that sit inside a repetition that can run more than once.
fn mark_repeated(hir: &regex_syntax::hir::Hir, repeated: bool, looks: &mut [LookAround]) {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Repetition(rep) => {
            mark_repeated(&rep.sub, repeated || rep.max != Some(1), looks);
        }
        HirKind::Capture(cap) => {
            if let Some(look) = looks.iter_mut().find(|l| l.index == cap.index as usize) {
                look.repeated = repeated;
            }
            mark_repeated(&cap.sub, repeated, looks);
        }
        HirKind::Concat(items) | HirKind::Alternation(items) => {
            for item in items {
                mark_repeated(item, repeated, looks);
            }
        }
        _ => {}
    }
}

struct Translator<'a> {
    src: &'a [u8],
    text: &'a str,
    pos: usize,
    out: String,
    groups: Vec<Group>,
    looks: Vec<LookAround>,
    /// Capture groups opened so far in the output.
    captures: usize,
    /// Above zero while translating a look-around's body: named groups there would capture
    /// nothing and nested look-arounds are not supported, so both are refused.
    look_depth: usize,
}

impl Translator<'_> {
    fn error(&self, reason: impl Into<String>) -> DialectError {
        DialectError {
            offset: self.pos,
            reason: reason.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn rest(&self) -> &[u8] {
        &self.src[self.pos..]
    }

    fn next_char(&mut self) -> Result<char, DialectError> {
        let c = self.text[self.pos..]
            .chars()
            .next()
            .ok_or_else(|| self.error("the pattern ends too early"))?;
        self.pos += c.len_utf8();
        Ok(c)
    }

    /// `a|b|…` up to an unmatched `)` or the end.
    fn alternation(&mut self) -> Result<(), DialectError> {
        loop {
            self.sequence()?;
            match self.peek() {
                Some(b'|') => {
                    self.pos += 1;
                    self.out.push('|');
                }
                _ => return Ok(()),
            }
        }
    }

    /// Atoms and their quantifiers up to `|`, `)` or the end.
    fn sequence(&mut self) -> Result<(), DialectError> {
        while let Some(b) = self.peek() {
            if b == b'|' || b == b')' {
                return Ok(());
            }
            let atom_start = self.out.len();
            let quantifiable = self.atom()?;
            self.quantifiers(atom_start, quantifiable)?;
        }
        Ok(())
    }

    /// Translates one atom; returns whether a quantifier may follow it.
    fn atom(&mut self) -> Result<bool, DialectError> {
        let b = self.peek().expect("sequence checked for more input");
        match b {
            b'(' => self.group(),
            b'[' => {
                self.class()?;
                Ok(true)
            }
            b'\\' => self.escape(),
            b'.' => {
                self.pos += 1;
                self.out.push('.');
                Ok(true)
            }
            b'^' => {
                self.pos += 1;
                self.out.push_str("(?m:^)");
                Ok(false)
            }
            b'$' => {
                self.pos += 1;
                self.out.push_str("(?m:$)");
                Ok(false)
            }
            b'*' | b'+' | b'?' => Err(self.error("a quantifier with nothing to repeat")),
            b'{' if self.repetition_at(self.pos).is_some() => {
                Err(self.error("a quantifier with nothing to repeat"))
            }
            _ => {
                let c = self.next_char()?;
                push_literal(&mut self.out, c);
                Ok(true)
            }
        }
    }

    /// Parses `{n}`, `{n,}`, `{n,m}` or `{,m}` at `at`: (text length, min, max).
    fn repetition_at(&self, at: usize) -> Option<(usize, u32, Option<u32>)> {
        let rest = &self.src[at..];
        if rest.first() != Some(&b'{') {
            return None;
        }
        let end = rest.iter().position(|&b| b == b'}')?;
        let body = std::str::from_utf8(&rest[1..end]).ok()?;
        let number = |s: &str| -> Option<u32> {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        let (min, max) = match body.split_once(',') {
            None => {
                let n = number(body)?;
                (n, Some(n))
            }
            Some(("", "")) => return None,
            Some((lo, "")) => (number(lo)?, None),
            Some(("", hi)) => (0, Some(number(hi)?)),
            Some((lo, hi)) => (number(lo)?, Some(number(hi)?)),
        };
        Some((end + 1, min, max))
    }

    fn quantifiers(&mut self, atom_start: usize, quantifiable: bool) -> Result<(), DialectError> {
        let mut quantified = false;
        loop {
            let (text_len, rendered) = match self.peek() {
                Some(b @ (b'*' | b'+' | b'?')) => (1, (b as char).to_string()),
                Some(b'{') => match self.repetition_at(self.pos) {
                    Some((len, min, max)) => (
                        len,
                        match max {
                            Some(max) if max == min => format!("{{{min}}}"),
                            Some(max) => format!("{{{min},{max}}}"),
                            None => format!("{{{min},}}"),
                        },
                    ),
                    None => return Ok(()),
                },
                _ => return Ok(()),
            };
            if !quantifiable {
                // Ruby allows `^*`; it repeats an empty-width assertion, so it means nothing.
                self.pos += text_len;
                continue;
            }
            if quantified {
                // Ruby reads `a{2}{3}` and `a*{2}` as a repeat of a repeat; Rust needs a group.
                self.out.insert_str(atom_start, "(?:");
                self.out.push(')');
            }
            self.pos += text_len;
            self.out.push_str(&rendered);
            quantified = true;
            let brace = rendered.starts_with('{');
            match self.peek() {
                Some(b'?') => {
                    self.pos += 1;
                    self.out.push('?');
                }
                // `*+`, `++`, `?+` are possessive in Ruby (`{n,m}+` is a repeat of a repeat,
                // handled by the loop). Possessive is treated as greedy: see docs/GROK.md.
                Some(b'+') if !brace => self.pos += 1,
                _ => {}
            }
        }
    }

    fn group(&mut self) -> Result<bool, DialectError> {
        let open = self.pos;
        self.pos += 1;
        let rest = self.rest();
        if rest.starts_with(b"?#") {
            let end = self.rest()[2..]
                .iter()
                .position(|&b| b == b')')
                .ok_or_else(|| self.error("an unterminated `(?#` comment"))?;
            self.pos += 2 + end + 1;
            return Ok(false);
        }
        if rest.starts_with(b"?<=") || rest.starts_with(b"?<!") {
            let negated = rest[2] == b'!';
            self.pos += 3;
            self.look_around(open, false, negated)?;
            return Ok(false);
        }
        if rest.starts_with(b"?=") || rest.starts_with(b"?!") {
            let negated = rest[1] == b'!';
            self.pos += 2;
            if !negated && self.look_depth == 0 {
                if let Some(name) = self.capture_to_end() {
                    self.captures += 1;
                    self.groups.push(Group {
                        index: self.captures,
                        name,
                        to_end: true,
                    });
                    self.out.push_str("()");
                    return Ok(false);
                }
            }
            self.look_around(open, true, negated)?;
            return Ok(false);
        }
        if rest.starts_with(b"?<") || rest.starts_with(b"?'") {
            let close = if rest[1] == b'<' { b'>' } else { b'\'' };
            self.pos += 2;
            let len = self
                .rest()
                .iter()
                .position(|&b| b == close)
                .ok_or_else(|| self.error("an unterminated group name"))?;
            let name = self.text[self.pos..self.pos + len].to_owned();
            if name.is_empty() {
                return Err(self.error("an empty group name"));
            }
            if self.look_depth > 0 {
                return Err(self.error(format!(
                    "the capture `{name}` inside a look-around (only `(?=(?<name>.*))` is supported)"
                )));
            }
            self.pos += len + 1;
            self.captures += 1;
            self.groups.push(Group {
                index: self.captures,
                name,
                to_end: false,
            });
            self.out.push('(');
            return self.group_body(open);
        }
        if rest.starts_with(b"?>") {
            // Atomic groups match like ordinary ones in every library use: see docs/GROK.md.
            self.pos += 2;
            self.out.push_str("(?:");
            return self.group_body(open);
        }
        if rest.first() == Some(&b'?') {
            return self.flag_group(open);
        }
        // Ruby's named-group syntax makes plain groups non-capturing.
        self.out.push_str("(?:");
        self.group_body(open)
    }

    fn group_body(&mut self, open: usize) -> Result<bool, DialectError> {
        self.alternation()?;
        if self.peek() != Some(b')') {
            self.pos = open;
            return Err(self.error("a `(` that is never closed"));
        }
        self.pos += 1;
        self.out.push(')');
        Ok(true)
    }

    /// Translates a look-around's body into a [`LookAround`] and leaves a marker group.
    fn look_around(&mut self, open: usize, ahead: bool, negated: bool) -> Result<(), DialectError> {
        if self.look_depth > 0 {
            self.pos = open;
            return Err(self.error("a look-around inside a look-around"));
        }
        let mark = self.out.len();
        self.look_depth += 1;
        let result = self.group_body(open);
        self.look_depth -= 1;
        result?;
        // `group_body` closed the body with `)`; the body is what lies between.
        let body = self.out[mark..self.out.len() - 1].to_owned();
        self.out.truncate(mark);
        self.captures += 1;
        self.looks.push(LookAround {
            index: self.captures,
            ahead,
            negated,
            body,
            repeated: false,
        });
        self.out.push_str("()");
        Ok(())
    }

    /// Recognises `(?<name>.*)` (dot-all, greedy) followed by the look-ahead's `)`.
    fn capture_to_end(&mut self) -> Option<String> {
        let rest = self.rest();
        let body = rest.strip_prefix(b"(?<")?;
        let len = body.iter().position(|&b| b == b'>')?;
        let tail = &body[len + 1..];
        if !tail.starts_with(b".*))") || tail.starts_with(b".*)?)") {
            return None;
        }
        let name = std::str::from_utf8(&body[..len]).ok()?.to_owned();
        self.pos += 3 + len + 1 + 4;
        Some(name)
    }

    /// `(?imx-imx)` and `(?imx-imx:…)`. Ruby's `m` is Rust's `s`.
    fn flag_group(&mut self, open: usize) -> Result<bool, DialectError> {
        self.pos += 1;
        let mut flags = String::new();
        loop {
            match self.peek() {
                Some(b'm') => flags.push('s'),
                Some(b'i') => flags.push('i'),
                Some(b'x') => flags.push('x'),
                Some(b'-') => flags.push('-'),
                Some(b')') => {
                    self.pos += 1;
                    if flags.is_empty() || flags == "-" {
                        return Ok(false);
                    }
                    let _ = write!(self.out, "(?{flags})");
                    return Ok(false);
                }
                Some(b':') => {
                    self.pos += 1;
                    if flags.is_empty() || flags == "-" {
                        self.out.push_str("(?:");
                    } else {
                        let _ = write!(self.out, "(?{flags}:");
                    }
                    return self.group_body(open);
                }
                _ => {
                    self.pos = open;
                    return Err(self.error(
                        "an Oniguruma group construct with no linear-time equivalent \
                         (conditionals, absent operators and flags other than i, m, x)",
                    ));
                }
            }
            self.pos += 1;
        }
    }

    /// An escape outside a class; returns whether a quantifier may follow it.
    fn escape(&mut self) -> Result<bool, DialectError> {
        self.pos += 1;
        let c = self.next_char()?;
        let simple = match c {
            'd' => "[0-9]",
            'D' => "[^0-9]",
            'w' => "[0-9A-Za-z_]",
            'W' => "[^0-9A-Za-z_]",
            's' => "[\\t\\n\\x0B\\x0C\\r ]",
            'S' => "[^\\t\\n\\x0B\\x0C\\r ]",
            'h' => "[0-9A-Fa-f]",
            'H' => "[^0-9A-Fa-f]",
            't' => "\\t",
            'n' => "\\n",
            'r' => "\\r",
            'f' => "\\x0C",
            'v' => "\\x0B",
            'a' => "\\x07",
            'e' => "\\x1B",
            'b' | 'B' | 'A' | 'z' => {
                let _ = write!(self.out, "\\{c}");
                return Ok(false);
            }
            'Z' => {
                // End of input, or just before a final newline: zero-width, so a look-ahead.
                if self.look_depth > 0 {
                    return Err(self.error("`\\Z` inside a look-around"));
                }
                self.captures += 1;
                self.looks.push(LookAround {
                    index: self.captures,
                    ahead: true,
                    negated: false,
                    body: "\\n?\\z".to_owned(),
                    repeated: false,
                });
                self.out.push_str("()");
                return Ok(false);
            }
            'x' | 'u' | 'p' | 'P' => {
                let escaped = self.hex_or_property(c)?;
                self.out.push_str(&escaped);
                return Ok(true);
            }
            '0' => {
                let value = self.octal(0)?;
                push_literal(&mut self.out, value);
                return Ok(true);
            }
            _ if c.is_ascii_alphanumeric() => {
                self.pos -= 1;
                return Err(self.error(format!(
                    "`\\{c}` (backreferences, subexpression calls and Oniguruma-only escapes \
                     have no linear-time equivalent)"
                )));
            }
            _ => {
                push_literal(&mut self.out, c);
                return Ok(true);
            }
        };
        self.out.push_str(simple);
        Ok(true)
    }

    /// `\xHH`, `\x{H…}`, `\uHHHH`, `\p{…}`, `\P{…}`, `\p{^…}` after the letter.
    fn hex_or_property(&mut self, letter: char) -> Result<String, DialectError> {
        match letter {
            'p' | 'P' => {
                if self.peek() != Some(b'{') {
                    return Err(self.error("`\\p` needs a `{Property}`"));
                }
                let end = self
                    .rest()
                    .iter()
                    .position(|&b| b == b'}')
                    .ok_or_else(|| self.error("an unterminated `\\p{`"))?;
                let mut name = &self.text[self.pos + 1..self.pos + end];
                self.pos += end + 1;
                let mut negated = letter == 'P';
                if let Some(inner) = name.strip_prefix('^') {
                    negated = !negated;
                    name = inner;
                }
                Ok(format!("\\{}{{{name}}}", if negated { 'P' } else { 'p' }))
            }
            _ => {
                let digits = if self.peek() == Some(b'{') {
                    let end = self
                        .rest()
                        .iter()
                        .position(|&b| b == b'}')
                        .ok_or_else(|| self.error("an unterminated `\\x{`"))?;
                    let digits = &self.text[self.pos + 1..self.pos + end];
                    self.pos += end + 1;
                    digits
                } else {
                    let max = if letter == 'u' { 4 } else { 2 };
                    let len = self
                        .rest()
                        .iter()
                        .take(max)
                        .take_while(|b| b.is_ascii_hexdigit())
                        .count();
                    if len == 0 || (letter == 'u' && len != 4) {
                        return Err(self.error(format!("`\\{letter}` without hex digits")));
                    }
                    let digits = &self.text[self.pos..self.pos + len];
                    self.pos += len;
                    digits
                };
                let value = u32::from_str_radix(digits, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| self.error(format!("`{digits}` is not a character")))?;
                let mut s = String::new();
                push_literal(&mut s, value);
                Ok(s)
            }
        }
    }

    /// Up to two more octal digits after a `\0`.
    fn octal(&mut self, first: u32) -> Result<char, DialectError> {
        let mut value = first;
        for _ in 0..2 {
            match self.peek() {
                Some(b @ b'0'..=b'7') => {
                    value = value * 8 + u32::from(b - b'0');
                    self.pos += 1;
                }
                _ => break,
            }
        }
        char::from_u32(value).ok_or_else(|| self.error("a bad octal escape"))
    }

    /// A bracketed class, which may nest classes and POSIX brackets and use `&&`.
    fn class(&mut self) -> Result<(), DialectError> {
        let open = self.pos;
        self.pos += 1;
        self.out.push('[');
        if self.peek() == Some(b'^') {
            self.pos += 1;
            self.out.push('^');
        }
        let mut first = true;
        loop {
            let Some(b) = self.peek() else {
                self.pos = open;
                return Err(self.error("a `[` that is never closed"));
            };
            match b {
                b']' if !first => {
                    self.pos += 1;
                    self.out.push(']');
                    return Ok(());
                }
                b'[' if self.rest().starts_with(b"[:") && self.posix_class()? => {}
                b'[' => self.class()?,
                b'&' if self.rest().starts_with(b"&&") => {
                    self.pos += 2;
                    self.out.push_str("&&");
                }
                _ => self.class_range()?,
            }
            first = false;
        }
    }

    /// A class member that may start a range: a character or an escape.
    fn class_range(&mut self) -> Result<(), DialectError> {
        let Some(lo) = self.class_char()? else {
            return Ok(());
        };
        let is_range =
            self.peek() == Some(b'-') && self.src.get(self.pos + 1).is_some_and(|&b| b != b']');
        if !is_range {
            push_literal(&mut self.out, lo);
            return Ok(());
        }
        let dash = self.pos;
        self.pos += 1;
        match self.class_char()? {
            Some(hi) => {
                if hi < lo {
                    self.pos = dash;
                    return Err(self.error(format!("an empty range `{lo}-{hi}`")));
                }
                push_literal(&mut self.out, lo);
                self.out.push('-');
                push_literal(&mut self.out, hi);
            }
            None => {
                // `a-\d`: the `-` is literal; `class_char` already wrote the class.
                push_literal(&mut self.out, lo);
                self.out.push_str("\\-");
            }
        }
        Ok(())
    }

    /// One class member: `Some(char)` for a single character, or `None` when it was a class
    /// escape such as `\d`, written straight to the output.
    fn class_char(&mut self) -> Result<Option<char>, DialectError> {
        if self.peek() != Some(b'\\') {
            return self.next_char().map(Some);
        }
        self.pos += 1;
        let c = self.next_char()?;
        let members = match c {
            'd' => "0-9",
            'w' => "0-9A-Za-z_",
            's' => "\\t\\n\\x0B\\x0C\\r ",
            'h' => "0-9A-Fa-f",
            'D' => "[^0-9]",
            'W' => "[^0-9A-Za-z_]",
            'S' => "[^\\t\\n\\x0B\\x0C\\r ]",
            'H' => "[^0-9A-Fa-f]",
            't' => return Ok(Some('\t')),
            'n' => return Ok(Some('\n')),
            'r' => return Ok(Some('\r')),
            'f' => return Ok(Some('\x0C')),
            'v' => return Ok(Some('\x0B')),
            'a' => return Ok(Some('\x07')),
            'e' => return Ok(Some('\x1B')),
            'b' => return Ok(Some('\x08')),
            '0' => return self.octal(0).map(Some),
            'x' | 'u' => {
                let literal = self.hex_or_property(c)?;
                let value = literal
                    .strip_prefix('\\')
                    .unwrap_or(&literal)
                    .chars()
                    .next()
                    .ok_or_else(|| self.error("an empty escape"))?;
                return Ok(Some(value));
            }
            'p' | 'P' => {
                let property = self.hex_or_property(c)?;
                self.out.push_str(&property);
                return Ok(None);
            }
            _ if c.is_ascii_alphanumeric() => {
                self.pos -= 1;
                return Err(self.error(format!("`\\{c}` inside a character class")));
            }
            _ => return Ok(Some(c)),
        };
        self.out.push_str(members);
        Ok(None)
    }

    /// `[:name:]` or `[:^name:]` inside a class, with Joni's Unicode meaning. Returns false
    /// (consuming nothing) when the text is not a POSIX bracket after all.
    fn posix_class(&mut self) -> Result<bool, DialectError> {
        let rest = &self.rest()[2..];
        let Some(end) = rest.windows(2).position(|w| w == b":]") else {
            return Ok(false);
        };
        let raw = std::str::from_utf8(&rest[..end]).unwrap_or("");
        let (negated, name) = match raw.strip_prefix('^') {
            Some(name) => (true, name),
            None => (false, raw),
        };
        let members = match name {
            "alnum" => "\\p{Alphabetic}\\p{Nd}",
            "alpha" => "\\p{Alphabetic}",
            "ascii" => "\\x00-\\x7F",
            "blank" => "\\p{Zs}\\t",
            "cntrl" => "\\p{Cc}",
            "digit" => "\\p{Nd}",
            "lower" => "\\p{Lowercase}",
            "upper" => "\\p{Uppercase}",
            "punct" => "\\p{P}$+<=>\\^`|\\~",
            "space" => "\\p{White_Space}",
            "word" => "\\w",
            "xdigit" => "0-9A-Fa-f",
            "graph" => "[^\\p{White_Space}\\p{Cc}\\p{Cn}\\p{Cs}]",
            "print" => "[^\\p{Cc}\\p{Cn}\\p{Cs}\\p{Zl}\\p{Zp}]",
            _ => {
                return Err(self.error(format!("an unknown POSIX bracket `[:{raw}:]`")));
            }
        };
        self.pos += 2 + end + 2;
        if negated {
            let _ = write!(self.out, "[^{members}]");
        } else {
            self.out.push_str(members);
        }
        Ok(true)
    }
}

fn push_literal(out: &mut String, c: char) {
    if c.is_ascii() && regex_syntax::is_meta_character(c) {
        out.push('\\');
        out.push(c);
    } else if c.is_ascii_control() || c == ' ' {
        // Spaces and controls are written as escapes so `(?x)` groups keep them.
        let _ = write!(out, "\\x{:02X}", c as u32);
    } else {
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regex(source: &str) -> String {
        translate(source).unwrap().regex
    }

    #[test]
    fn ruby_classes_are_ascii_and_dot_matches_newline() {
        assert_eq!(
            regex(r"\w+\d\s"),
            r"(?s)[0-9A-Za-z_]+[0-9][\t\n\x0B\x0C\r ]"
        );
        assert_eq!(regex(r"[\h.]"), r"(?s)[0-9A-Fa-f\.]");
        assert_eq!(regex("^a$"), "(?s)(?m:^)a(?m:$)");
        assert_eq!(regex("(?m:.)"), "(?s)(?s:.)");
    }

    #[test]
    fn only_named_groups_capture() {
        let t = translate(r"(a)(?<x:y:int>b)(?'z'c)").unwrap();
        assert_eq!(t.regex, "(?s)(?:a)(b)(c)");
        let names: Vec<_> = t.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["x:y:int", "z"]);
    }

    #[test]
    fn lookarounds_and_atomic_groups_are_rewritten() {
        let t = translate(r"(?<![0-9.+-])(?>[+-]?[0-9]+)(?<n>(?![0-9]))").unwrap();
        assert_eq!(t.regex, r"(?s)()(?:[\+\-]?[0-9]+)(())");
        assert_eq!(t.looks.len(), 2);
        assert_eq!(
            (t.looks[0].index, t.looks[0].ahead, t.looks[0].negated),
            (1, false, true)
        );
        assert_eq!(t.looks[0].body, r"[0-9\.\+\-]");
        assert_eq!((t.looks[1].index, t.looks[1].ahead), (3, true));
        assert_eq!(t.groups[0].index, 2);
        assert!(translate("(?:(?<= )a)*").unwrap().looks[0].repeated);
        assert!(!translate("(?:(?<= )a)?").unwrap().looks[0].repeated);
        let pam = translate(r"x (?=(?<GREEDYDATA:message>.*))y").unwrap();
        assert_eq!(pam.regex, "(?s)x\\x20()y");
        assert!(pam.groups[0].to_end);
    }

    #[test]
    fn end_before_final_newline_is_a_look_ahead() {
        let t = translate(r"a\Z").unwrap();
        assert_eq!(t.regex, "(?s)a()");
        assert_eq!(t.looks[0].body, r"\n?\z");
    }

    #[test]
    fn quantifier_forms() {
        assert_eq!(regex("a{,3}b{2}+c*+"), "(?s)a{0,3}(?:b{2})+c*");
        assert_eq!(regex("a{x}"), r"(?s)a\{x\}");
        assert_eq!(regex("a+?"), "(?s)a+?");
    }

    #[test]
    fn posix_brackets_are_unicode_and_ranges_keep_their_meaning() {
        assert_eq!(
            regex("[[[:alnum:]]_+-=]"),
            r"(?s)[[\p{Alphabetic}\p{Nd}]_\+-=]"
        );
        assert_eq!(regex(r"[\x21-\x5a\]]"), r"(?s)[!-Z\]]");
        assert_eq!(regex("[]a-]"), r"(?s)[\]a\-]");
    }

    #[test]
    fn unsupported_constructs_are_named() {
        for bad in [r"(a)\1", r"\k<x>", "(?(1)a|b)", "(?=(?<x>a))", "(?=a(?!b))"] {
            let e = translate(bad).unwrap_err();
            assert!(!e.reason.is_empty(), "{bad}");
        }
        assert!(translate("(a").is_err());
        assert!(translate("a)").is_err());
        assert!(translate("[a").is_err());
    }

    #[test]
    fn every_translation_compiles() {
        for source in [
            r"\w+\d\s",
            "(?<x>a)|b",
            "[[[:alnum:]]_%!$@:.,+~-]*",
            r"\x{1F600}\u00e9",
        ] {
            let t = translate(source).unwrap();
            regex_automata::meta::Regex::new(&t.regex).unwrap();
        }
    }
}
