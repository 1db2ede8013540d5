//! The grammar of the Logstash pipeline language: configuration text in, [`Section`]s out.
//!
//! It follows Logstash's own treetop grammar (`logstash-core/lib/logstash/compiler/lscl/
//! lscl_grammar.treetop`) and the way `lscl.rb` turns its parse tree into values, so a
//! configuration that Logstash accepts parses here to the same meaning, and one it rejects is
//! rejected here too, with an error that points at the exact place:
//!
//! - Settings and hash entries are separated by whitespace (commas are an error); array
//!   elements by commas (a trailing comma is an error).
//! - Barewords are `[A-Za-z_][A-Za-z0-9_]+` (two characters at least). `true` and `false` are
//!   barewords, as in Logstash, which hands them to the plugin as strings; a plugin's boolean
//!   setting coerces them, so the parser never produces [`ConfigValue::Boolean`].
//! - Numbers are `-?[0-9]+(\.[0-9]*)?`. As in Logstash (Ruby's `Integer()`), an integer with a
//!   leading zero is octal (`010` is 8, `08` is an error), and `1.` is an error (`Float()`).
//! - In a quoted string a backslash followed by the quote does not end it. With
//!   `support_escapes` off (Logstash's default) the text is kept verbatim, backslashes
//!   included; with it on, `\\ \" \' \n \r \t \0` are processed and any other backslash pair
//!   is kept as written (Logstash's `StringEscape`). Setting names and quoted plugin names are
//!   never unescaped; hash keys are, as in Logstash.
//! - A selector (`[a][b]`) is tried before an array in conditions, so `["x"]` there is the
//!   field `x`, exactly as in Logstash.
//! - A bare operand of a condition must be a field reference (Logstash fails to compile any
//!   other); `!` applies to a field reference or a parenthesised condition.
//!
//! # Boolean operator precedence
//!
//! Logstash resolves `and`/`or`/`xor`/`nand` in `Condition#join_conditions` of
//! `logstash-core/lib/logstash/compiler/lscl.rb` (the compiler of the Java execution engine,
//! the only one since 7.x) with a shunting-yard variant: `and` has precedence 2, `or` 1, and
//! `xor`/`nand` none at all — `precedence` raises for them. This parser reproduces it:
//!
//! - An operator pops at most one operator (the one on top of the stack, and only if its
//!   precedence is strictly higher) before being pushed; the rest are popped at the end. So
//!   `a or b and c` is `a or (b and c)`, `a and b or c` is `(a and b) or c`, chains of one
//!   operator group to the right (`a or (b or c)`), and — a quirk kept on purpose so that
//!   conditions mean what they mean in Logstash — `a and b and c or d` is
//!   `a and ((b and c) or d)`.
//! - `xor` and `nand` work alone (`a xor b`) or inside parentheses; combined with any other
//!   operator at the same level Logstash refuses the pipeline, and so do we.
//!
//! # Cost
//!
//! One pass, no backtracking beyond a bounded look-ahead (whitespace and comments before a
//! `{`, `else` or an operator), so time is linear in the input. Nesting (blocks, arrays,
//! hashes, plugins as values, parentheses) is limited to [`MAX_DEPTH`] levels so that the
//! recursion cannot exhaust the stack.

use std::cell::Cell;

use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, digit1};
use nom::combinator::{opt, recognize};
use nom::error::{ErrorKind, ParseError};
use nom::multi::many1_count;
use nom::{IResult, Parser};

use super::ast::{
    BoolOp, Branch, CompareOp, Condition, ConfigValue, IfChain, Number, Plugin, Rvalue, Section,
    SectionKind, Setting, Spanned, Statement,
};
use super::error::{unknown_name_help, ConfigError};
use super::source::{FileId, Span};

/// How deeply blocks, values and parentheses may nest.
pub const MAX_DEPTH: u32 = 100;

const SECTION_NAMES: [&str; 3] = ["input", "filter", "output"];

/// Parses the text of one configuration file.
pub fn parse(text: &str, file: FileId, support_escapes: bool) -> Result<Vec<Section>, ConfigError> {
    let cx = Cx {
        text,
        file,
        support_escapes,
        lines: LineIndex::new(text),
        depth: Cell::new(0),
    };
    match cx.config(text) {
        Ok((_, sections)) => Ok(sections),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(cx.error(e)),
        // Only streaming parsers report `Incomplete`; every parser here is a complete one.
        Err(nom::Err::Incomplete(_)) => Err(ConfigError::at(
            cx.span(&text[text.len()..]),
            "unexpected end of file",
        )),
    }
}

/// A parse failure: where (the rest of the input from that point) and what was expected.
/// An empty message means a nom primitive failed without a committed explanation.
#[derive(Debug)]
struct PErr<'a> {
    at: &'a str,
    message: String,
    help: Option<String>,
}

impl<'a> ParseError<&'a str> for PErr<'a> {
    fn from_error_kind(at: &'a str, _: ErrorKind) -> Self {
        PErr {
            at,
            message: String::new(),
            help: None,
        }
    }

    fn append(_: &'a str, _: ErrorKind, other: Self) -> Self {
        other
    }
}

type PResult<'a, T> = IResult<&'a str, T, PErr<'a>>;

/// A condition's first operand, then each operator (with where it is) and its right operand.
type Chain<'a> = (Condition, Vec<(BoolOp, &'a str, Condition)>);

/// A committed failure: alternatives are not tried after it.
fn failure(at: &str, message: impl Into<String>) -> nom::Err<PErr<'_>> {
    nom::Err::Failure(PErr {
        at,
        message: message.into(),
        help: None,
    })
}

fn fail<T>(at: &str, message: impl Into<String>) -> PResult<'_, T> {
    Err(failure(at, message))
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Whitespace and `#` comments (treetop's `cs`); never fails.
fn cs(i: &str) -> &str {
    let comment = recognize((char('#'), take_while(|c| c != '\n'), opt(char('\n'))));
    let skipped: PResult<'_, usize> =
        nom::multi::many0_count(nom::branch::alt((take_while1(is_ws), comment))).parse(i);
    match skipped {
        Ok((rest, _)) => rest,
        Err(_) => i,
    }
}

/// `word` at the start of `i` as a whole word; the input after it.
fn keyword<'a>(i: &'a str, word: &str) -> Option<&'a str> {
    let rest = i.strip_prefix(word)?;
    match rest.chars().next() {
        Some(c) if is_name_char(c) => None,
        _ => Some(rest),
    }
}

/// `[A-Za-z0-9_-]+`: plugin and setting names (treetop's `name`, unquoted).
fn name(i: &str) -> PResult<'_, &str> {
    take_while1(is_name_char).parse(i)
}

/// `[A-Za-z_][A-Za-z0-9_]+`, treetop's `bareword`.
fn bareword(i: &str) -> PResult<'_, &str> {
    recognize((
        take_while1(|c: char| c.is_ascii_alphabetic() || c == '_').map(|_| ()),
        take_while(is_word_char),
    ))
    .parse(i)
    .and_then(|(rest, word)| {
        // The first `take_while1` may take several letters; only the total length matters.
        if word.len() >= 2 {
            Ok((rest, word))
        } else {
            Err(nom::Err::Error(PErr::from_error_kind(i, ErrorKind::Verify)))
        }
    })
}

/// `-?[0-9]+(\.[0-9]*)?`, treetop's `number`, as written.
fn number_text(i: &str) -> PResult<'_, &str> {
    recognize((
        opt(char('-')),
        digit1,
        opt((char('.'), take_while(|c: char| c.is_ascii_digit()))),
    ))
    .parse(i)
}

/// `([^\][,]+)` in brackets, one or more: a field reference as written.
fn selector(i: &str) -> PResult<'_, &str> {
    recognize(many1_count((
        char('['),
        take_while1(|c| !matches!(c, '[' | ']' | ',')),
        char(']'),
    )))
    .parse(i)
}

/// After `r`, optional whitespace and then `{`: the input after the brace.
fn brace_follows(r: &str) -> Option<&str> {
    cs(r).strip_prefix('{')
}

/// What was found at `i`, for "expected …, found …" messages.
fn found(i: &str) -> String {
    match i.chars().next() {
        None => "end of file".to_string(),
        Some('\n' | '\r') => "end of line".to_string(),
        Some(c) if is_name_char(c) => {
            let word: String = i
                .chars()
                .take_while(|&c| is_name_char(c))
                .take(40)
                .collect();
            format!("`{word}`")
        }
        Some(c) => format!("`{c}`"),
    }
}

/// Byte offsets to 1-based lines and character columns, in O(log n + 64) per lookup.
struct LineIndex {
    /// Byte offset at which each line starts.
    line_starts: Vec<usize>,
    /// Number of characters before each 64-byte block.
    block_chars: Vec<usize>,
}

const BLOCK: usize = 64;

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1));
        let mut block_chars = Vec::with_capacity(bytes.len() / BLOCK + 1);
        let mut chars = 0;
        for block in bytes.chunks(BLOCK) {
            block_chars.push(chars);
            chars += count_chars(block);
        }
        block_chars.push(chars);
        LineIndex {
            line_starts,
            block_chars,
        }
    }

    /// Characters in `bytes[..offset]`.
    fn chars_before(&self, bytes: &[u8], offset: usize) -> usize {
        let block = offset / BLOCK;
        self.block_chars[block] + count_chars(&bytes[block * BLOCK..offset])
    }

    fn locate(&self, text: &str, offset: usize) -> (u32, u32) {
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        let bytes = text.as_bytes();
        let column = self.chars_before(bytes, offset) - self.chars_before(bytes, start) + 1;
        (line as u32, column as u32)
    }
}

/// UTF-8 characters in a byte slice: every byte that is not a continuation byte starts one.
fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b as i8) >= -0x40).count()
}

/// The parser's context: the whole text (to turn positions into spans) and the settings.
struct Cx<'a> {
    text: &'a str,
    file: FileId,
    support_escapes: bool,
    lines: LineIndex,
    depth: Cell<u32>,
}

impl<'a> Cx<'a> {
    /// The span of the position where `at` (a suffix of the text) begins.
    fn span(&self, at: &str) -> Span {
        let offset = self.text.len() - at.len();
        let (line, column) = self.lines.locate(self.text, offset);
        Span {
            file: self.file,
            line,
            column,
        }
    }

    fn line_of(&self, at: &str) -> u32 {
        self.span(at).line
    }

    fn error(&self, e: PErr<'a>) -> ConfigError {
        let message = if e.message.is_empty() {
            format!("unexpected {}", found(e.at))
        } else {
            e.message
        };
        let error = ConfigError::at(self.span(e.at), message);
        match e.help {
            Some(help) => error.with_help(help),
            None => error,
        }
    }

    /// Runs `f` one nesting level deeper, refusing to go past [`MAX_DEPTH`].
    fn nested<T>(&self, at: &'a str, f: impl FnOnce() -> PResult<'a, T>) -> PResult<'a, T> {
        let depth = self.depth.get();
        if depth >= MAX_DEPTH {
            return fail(
                at,
                format!("nesting too deep: more than {MAX_DEPTH} levels of blocks, values or parentheses"),
            );
        }
        self.depth.set(depth + 1);
        let result = f();
        self.depth.set(depth);
        result
    }

    // ---- sections and blocks ----

    fn config(&self, mut i: &'a str) -> PResult<'a, Vec<Section>> {
        let mut sections = Vec::new();
        loop {
            i = cs(i);
            if i.is_empty() {
                return Ok((i, sections));
            }
            let (rest, section) = self.section(i)?;
            sections.push(section);
            i = rest;
        }
    }

    fn section(&self, i: &'a str) -> PResult<'a, Section> {
        let Ok((rest, word)) = name(i) else {
            if i.starts_with('}') {
                return fail(i, "unexpected `}`: there is no open block to close");
            }
            return fail(
                i,
                format!("expected `input`, `filter` or `output`, found {}", found(i)),
            );
        };
        let kind = match word {
            "input" => SectionKind::Input,
            "filter" => SectionKind::Filter,
            "output" => SectionKind::Output,
            _ => {
                return Err(nom::Err::Failure(PErr {
                    at: i,
                    message: format!("unknown section `{word}`"),
                    help: Some(unknown_name_help(word, &SECTION_NAMES)),
                }))
            }
        };
        let after = cs(rest);
        let Some(body_start) = after.strip_prefix('{') else {
            return fail(
                after,
                format!(
                    "expected `{{` after section name `{word}`, found {}",
                    found(after)
                ),
            );
        };
        let what = format!("`{word}` section");
        let (rest, body) = self.block(body_start, kind, i, &what)?;
        Ok((
            rest,
            Section {
                kind,
                body,
                span: self.span(i),
            },
        ))
    }

    /// Statements up to and including the closing `}`; `i` is just after the `{`.
    fn block(
        &self,
        mut i: &'a str,
        kind: SectionKind,
        opened: &'a str,
        what: &str,
    ) -> PResult<'a, Vec<Statement>> {
        let mut body = Vec::new();
        loop {
            i = cs(i);
            if let Some(rest) = i.strip_prefix('}') {
                return Ok((rest, body));
            }
            if i.is_empty() {
                return fail(
                    i,
                    format!(
                        "expected `}}` to close the {what} opened on line {}, found end of file",
                        self.line_of(opened)
                    ),
                );
            }
            let (rest, statement) = self.statement(i, kind)?;
            body.push(statement);
            i = rest;
        }
    }

    fn statement(&self, i: &'a str, kind: SectionKind) -> PResult<'a, Statement> {
        if let Some(after_if) = keyword(i, "if") {
            if kind == SectionKind::Input {
                return fail(i, "conditionals (`if`) are not allowed in an input section");
            }
            let (rest, chain) = self.if_chain(i, after_if, kind)?;
            return Ok((rest, Statement::If(chain)));
        }
        if keyword(i, "else").is_some() {
            return fail(i, "`else` without a preceding `if` block");
        }
        match self.plugin_name(i) {
            Ok((rest, name)) => {
                let (rest, plugin) = self.plugin(i, rest, name)?;
                Ok((rest, Statement::Plugin(plugin)))
            }
            Err(nom::Err::Error(_)) => {
                let expected = match kind {
                    SectionKind::Input => "a plugin name or `}`",
                    _ => "a plugin name, `if` or `}`",
                };
                fail(i, format!("expected {expected}, found {}", found(i)))
            }
            Err(e) => Err(e),
        }
    }

    // ---- plugins and settings ----

    /// A plugin or setting name: `[A-Za-z0-9_-]+` or a quoted string (taken without its quotes
    /// and without escape processing, as Logstash does).
    fn plugin_name(&self, i: &'a str) -> PResult<'a, String> {
        if i.starts_with(['"', '\'']) {
            let (rest, raw) = self.quoted(i)?;
            return Ok((rest, raw.to_string()));
        }
        let (rest, word) = name(i)?;
        Ok((rest, word.to_string()))
    }

    /// The rest of a plugin after its name: `{ setting => value … }`. `start` is at the name.
    fn plugin(&self, start: &'a str, after_name: &'a str, name: String) -> PResult<'a, Plugin> {
        let after = cs(after_name);
        let Some(body) = after.strip_prefix('{') else {
            return fail(
                after,
                format!(
                    "expected `{{` after plugin name `{name}`, found {}",
                    found(after)
                ),
            );
        };
        self.nested(start, || {
            let mut settings = Vec::new();
            let mut i = cs(body);
            loop {
                if let Some(rest) = i.strip_prefix('}') {
                    let plugin = Plugin {
                        name,
                        settings,
                        span: self.span(start),
                    };
                    return Ok((rest, plugin));
                }
                if i.is_empty() {
                    return fail(
                        i,
                        format!(
                            "expected `}}` to close plugin `{name}` opened on line {}, found end of file",
                            self.line_of(start)
                        ),
                    );
                }
                let (rest, setting) = self.setting(i, &name)?;
                i = self.separator(rest, "settings", &setting.name)?;
                settings.push(setting);
            }
        })
    }

    /// Between settings or hash entries: whitespace, or nothing before the closing `}`
    /// (treetop's `attribute (whitespace cs attribute)*`). Returns the input at the next
    /// entry or `}`.
    fn separator(
        &self,
        after_value: &'a str,
        things: &str,
        owner: &str,
    ) -> Result<&'a str, nom::Err<PErr<'a>>> {
        let next = cs(after_value);
        if after_value.starts_with(is_ws) || next.starts_with('}') || next.is_empty() {
            return Ok(next);
        }
        if after_value.starts_with(',') {
            return Err(failure(
                after_value,
                format!("{things} are separated by whitespace, not `,`"),
            ));
        }
        Err(failure(
            after_value,
            format!(
                "expected whitespace or `}}` after the value of `{owner}`, found {}",
                found(after_value)
            ),
        ))
    }

    fn setting(&self, i: &'a str, plugin: &str) -> PResult<'a, Setting> {
        let (rest, name) = match self.plugin_name(i) {
            Ok(ok) => ok,
            Err(nom::Err::Error(_)) => {
                return fail(
                    i,
                    format!(
                        "expected a setting name or `}}` in plugin `{plugin}`, found {}",
                        found(i)
                    ),
                )
            }
            Err(e) => return Err(e),
        };
        let arrow = cs(rest);
        let Some(after_arrow) = arrow.strip_prefix("=>") else {
            return fail(
                arrow,
                format!(
                    "expected `=>` after setting name `{name}`, found {}",
                    found(arrow)
                ),
            );
        };
        let (rest, value) = self.value(cs(after_arrow), &format!("setting `{name}`"))?;
        Ok((
            rest,
            Setting {
                name,
                value,
                span: self.span(i),
            },
        ))
    }

    // ---- values ----

    /// treetop's `value`: plugin / bareword / string / number / array / hash.
    fn value(&self, i: &'a str, owner: &str) -> PResult<'a, Spanned<ConfigValue>> {
        let (rest, node) = match i.chars().next() {
            Some('"' | '\'') => {
                let (rest, raw) = self.quoted(i)?;
                if brace_follows(rest).is_some() {
                    let (rest, plugin) = self.plugin(i, rest, raw.to_string())?;
                    (rest, ConfigValue::Plugin(plugin))
                } else {
                    (rest, ConfigValue::String(self.unescape(raw)))
                }
            }
            Some('[') => self.nested(i, || self.array(i))?,
            Some('{') => self.nested(i, || self.hash(i))?,
            Some(c) if is_name_char(c) => {
                let (after_name, word) = name(i)?;
                if brace_follows(after_name).is_some() {
                    let (rest, plugin) = self.plugin(i, after_name, word.to_string())?;
                    (rest, ConfigValue::Plugin(plugin))
                } else if c == '-' || c.is_ascii_digit() {
                    let (rest, number) = self.number(i)?;
                    (rest, ConfigValue::Number(number))
                } else {
                    match bareword(i) {
                        Ok((rest, word)) => (rest, ConfigValue::Bareword(word.to_string())),
                        Err(_) => {
                            return fail(
                                i,
                                format!(
                                    "expected a value for {owner}, found `{c}`: a bareword needs at least two characters, quote it as \"{c}\""
                                ),
                            )
                        }
                    }
                }
            }
            _ => {
                return fail(
                    i,
                    format!(
                        "expected a value for {owner} (a string, number, bareword, array, hash or plugin), found {}",
                        found(i)
                    ),
                )
            }
        };
        Ok((
            rest,
            Spanned {
                node,
                span: self.span(i),
            },
        ))
    }

    /// `[ value, … ]`; `i` is at the `[`.
    fn array(&self, i: &'a str) -> PResult<'a, ConfigValue> {
        let mut items = Vec::new();
        let mut at = cs(&i[1..]);
        if let Some(rest) = at.strip_prefix(']') {
            return Ok((rest, ConfigValue::Array(items)));
        }
        loop {
            let (rest, item) = self.value(at, "an array element")?;
            items.push(item);
            let next = cs(rest);
            if let Some(rest) = next.strip_prefix(']') {
                return Ok((rest, ConfigValue::Array(items)));
            }
            if let Some(rest) = next.strip_prefix(',') {
                at = cs(rest);
                if at.starts_with(']') {
                    return fail(
                        at,
                        "expected a value after `,`: a trailing comma is not allowed in an array",
                    );
                }
                continue;
            }
            if next.is_empty() {
                return fail(
                    next,
                    format!(
                        "expected `]` to close the array opened on line {}, found end of file",
                        self.line_of(i)
                    ),
                );
            }
            return fail(
                next,
                format!("expected `,` or `]` in an array, found {}", found(next)),
            );
        }
    }

    /// `{ key => value … }`; `i` is at the `{`.
    fn hash(&self, i: &'a str) -> PResult<'a, ConfigValue> {
        let mut entries = Vec::new();
        let mut at = cs(&i[1..]);
        loop {
            if let Some(rest) = at.strip_prefix('}') {
                return Ok((rest, ConfigValue::Hash(entries)));
            }
            if at.is_empty() {
                return fail(
                    at,
                    format!(
                        "expected `}}` to close the hash opened on line {}, found end of file",
                        self.line_of(i)
                    ),
                );
            }
            let (rest, key) = self.hash_key(at)?;
            let key_text = &at[..at.len() - rest.len()];
            let arrow = cs(rest);
            let Some(after_arrow) = arrow.strip_prefix("=>") else {
                return fail(
                    arrow,
                    format!(
                        "expected `=>` after hash key {key_text}, found {}",
                        found(arrow)
                    ),
                );
            };
            let (rest, value) = self.value(cs(after_arrow), &format!("hash key {key_text}"))?;
            entries.push((key, value));
            at = self.separator(rest, "hash entries", key_text)?;
        }
    }

    /// treetop's `hashentry` name: number / bareword / string.
    fn hash_key(&self, i: &'a str) -> PResult<'a, Spanned<ConfigValue>> {
        let (rest, node) = match i.chars().next() {
            Some('"' | '\'') => {
                let (rest, raw) = self.quoted(i)?;
                (rest, ConfigValue::String(self.unescape(raw)))
            }
            Some(c) if c == '-' || c.is_ascii_digit() => {
                let (rest, number) = self.number(i)?;
                (rest, ConfigValue::Number(number))
            }
            _ => match bareword(i) {
                Ok((rest, word)) => (rest, ConfigValue::Bareword(word.to_string())),
                Err(_) => {
                    return fail(
                        i,
                        format!(
                            "expected a hash key (a string, number or bareword) or `}}`, found {}",
                            found(i)
                        ),
                    )
                }
            },
        };
        Ok((
            rest,
            Spanned {
                node,
                span: self.span(i),
            },
        ))
    }

    /// A number, with Logstash's conversion rules (see the module docs).
    fn number(&self, i: &'a str) -> PResult<'a, Number> {
        let Ok((rest, text)) = number_text(i) else {
            return fail(i, format!("invalid number {}", found(i)));
        };
        if rest.starts_with(|c: char| is_name_char(c) || c == '.') {
            let token: String = i
                .chars()
                .take_while(|&c| is_name_char(c) || c == '.')
                .take(40)
                .collect();
            return fail(i, format!("invalid number `{token}`"));
        }
        if text.contains('.') {
            if text.ends_with('.') {
                return fail(
                    i,
                    format!("invalid number `{text}`: expected digits after `.`"),
                );
            }
            return match text.parse::<f64>() {
                Ok(f) => Ok((rest, Number::Float(f))),
                Err(_) => fail(i, format!("invalid number `{text}`")),
            };
        }
        let (negative, digits) = match text.strip_prefix('-') {
            Some(digits) => (true, digits),
            None => (false, text),
        };
        // Ruby's `Integer("010")` is 8: Logstash reads a leading zero as octal.
        let radix = if digits.len() > 1 && digits.starts_with('0') {
            8
        } else {
            10
        };
        let magnitude = match i64::from_str_radix(digits, radix) {
            Ok(n) => n,
            Err(_) if radix == 8 && digits.bytes().any(|b| b > b'7') => {
                return fail(
                    i,
                    format!("invalid number `{text}`: a leading zero makes it octal, as in Logstash, and it has digits above 7"),
                )
            }
            Err(_) => return fail(i, format!("number `{text}` is out of range")),
        };
        let n = if negative { -magnitude } else { magnitude };
        Ok((rest, Number::Integer(n)))
    }

    /// A quoted string at `i`: its raw contents between the quotes. A backslash directly
    /// before the quote character does not end the string (treetop's `'\"' / !'"' .`).
    fn quoted(&self, i: &'a str) -> PResult<'a, &'a str> {
        let bytes = i.as_bytes();
        let quote = bytes[0];
        let mut pos = 1;
        while pos < bytes.len() {
            match bytes[pos] {
                b'\\' if bytes.get(pos + 1) == Some(&quote) => pos += 2,
                b if b == quote => return Ok((&i[pos + 1..], &i[1..pos])),
                _ => pos += 1,
            }
        }
        fail(i, "unterminated string starting here")
    }

    /// A string's value: verbatim, or with Logstash's `StringEscape` rules when escapes are on.
    fn unescape(&self, raw: &str) -> String {
        if !self.support_escapes || !raw.contains('\\') {
            return raw.to_string();
        }
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some(e @ ('"' | '\'' | '\\')) => out.push(e),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('0') => out.push('\0'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        }
        out
    }

    // ---- conditionals ----

    /// `if … { } else if … { } else { }`; `start` is at `if`, `after_if` just after it.
    fn if_chain(
        &self,
        start: &'a str,
        after_if: &'a str,
        kind: SectionKind,
    ) -> PResult<'a, IfChain> {
        let (mut rest, first) = self.branch(start, after_if, kind, "if")?;
        let mut branches = vec![first];
        let mut otherwise = None;
        loop {
            let look = cs(rest);
            let Some(after_else) = keyword(look, "else") else {
                break;
            };
            let next = cs(after_else);
            if let Some(after_if) = keyword(next, "if") {
                let (after, branch) = self.branch(look, after_if, kind, "else if")?;
                branches.push(branch);
                rest = after;
                continue;
            }
            let Some(body) = next.strip_prefix('{') else {
                return fail(
                    next,
                    format!("expected `if` or `{{` after `else`, found {}", found(next)),
                );
            };
            let (after, statements) =
                self.nested(look, || self.block(body, kind, look, "`else` block"))?;
            otherwise = Some(statements);
            rest = after;
            break;
        }
        Ok((
            rest,
            IfChain {
                branches,
                otherwise,
                span: self.span(start),
            },
        ))
    }

    /// One `if`/`else if` branch: condition and block. `start` is at its first keyword.
    fn branch(
        &self,
        start: &'a str,
        after_keyword: &'a str,
        kind: SectionKind,
        keyword: &str,
    ) -> PResult<'a, Branch> {
        let cond_start = cs(after_keyword);
        if cond_start.starts_with('{') || cond_start.is_empty() {
            return fail(
                cond_start,
                format!(
                    "expected a condition after `{keyword}`, found {}",
                    found(cond_start)
                ),
            );
        }
        let (rest, condition) = self.condition(cond_start)?;
        let condition_text = cond_start[..cond_start.len() - rest.len()]
            .trim()
            .to_string();
        let brace = cs(rest);
        let Some(body) = brace.strip_prefix('{') else {
            return fail(brace, after_condition_message(brace));
        };
        let what = format!("`{keyword}` block");
        let (rest, body) = self.nested(start, || self.block(body, kind, start, &what))?;
        Ok((
            rest,
            Branch {
                condition,
                condition_text,
                body,
                span: self.span(start),
            },
        ))
    }

    /// treetop's `condition`: `expression (cs boolean_operator cs expression)*`, combined
    /// with Logstash's precedence rules (module docs).
    fn condition(&self, i: &'a str) -> PResult<'a, Condition> {
        let base = self.depth.get();
        let chain = self.condition_chain(i);
        self.depth.set(base);
        let (rest, (first, more)) = chain?;
        if more.len() >= 2 {
            if let Some((op, at, _)) = more
                .iter()
                .find(|(op, _, _)| matches!(op, BoolOp::Xor | BoolOp::Nand))
            {
                return fail(
                    at,
                    format!(
                        "`{}` cannot be combined with other boolean operators without parentheses (Logstash gives it no precedence)",
                        bool_op_name(*op)
                    ),
                );
            }
        }
        match join_conditions(first, more) {
            Some(condition) => Ok((rest, condition)),
            None => fail(i, "internal error: unbalanced boolean expression"),
        }
    }

    /// The operands and operators of one condition, before precedence is applied.
    fn condition_chain(&self, i: &'a str) -> PResult<'a, Chain<'a>> {
        let (mut rest, first) = self.expression(i)?;
        let mut more = Vec::new();
        loop {
            let look = cs(rest);
            let Some((after_op, op)) = boolean_operator(look) else {
                break;
            };
            // Each operator can make the resulting tree one level deeper, and a tree that is
            // too deep overflows the stack when it is walked or dropped: operators count
            // against the nesting limit (`condition` restores the depth afterwards).
            let depth = self.depth.get();
            if depth >= MAX_DEPTH {
                return fail(
                    look,
                    format!("condition too complex: more than {MAX_DEPTH} boolean operators and nesting levels"),
                );
            }
            self.depth.set(depth + 1);
            let (after, operand) = self.expression(cs(after_op))?;
            more.push((op, look, operand));
            rest = after;
        }
        Ok((rest, (first, more)))
    }

    fn expression(&self, i: &'a str) -> PResult<'a, Condition> {
        if let Some(inner) = i.strip_prefix('(') {
            return self.nested(i, || self.parenthesised(i, inner));
        }
        if let Some(after_bang) = i.strip_prefix('!') {
            if !after_bang.starts_with(['=', '~']) {
                let operand = cs(after_bang);
                if let Some(inner) = operand.strip_prefix('(') {
                    let (rest, c) = self.nested(operand, || self.parenthesised(operand, inner))?;
                    return Ok((rest, Condition::Not(Box::new(c))));
                }
                if let Ok((rest, field)) = selector(operand) {
                    let field = Spanned {
                        node: Rvalue::Field(field.to_string()),
                        span: self.span(operand),
                    };
                    return Ok((rest, Condition::Not(Box::new(Condition::Truthy(field)))));
                }
                return fail(
                    operand,
                    format!(
                        "expected `(` or a field reference after `!`, found {}",
                        found(operand)
                    ),
                );
            }
        }
        let (rest, lhs) = self.rvalue(
            i,
            "a condition (a comparison, a field reference, `!` or `(`)",
        )?;
        let look = cs(rest);
        if let Some(after) = keyword(look, "in") {
            let (rest, haystack) = self.rvalue(cs(after), "a value after `in`")?;
            return Ok((
                rest,
                Condition::In {
                    needle: lhs,
                    haystack,
                    negate: false,
                },
            ));
        }
        if let Some(after_not) = look.strip_prefix("not ") {
            let in_at = cs(after_not);
            let Some(after) = keyword(in_at, "in") else {
                return fail(
                    in_at,
                    format!("expected `in` after `not`, found {}", found(in_at)),
                );
            };
            let (rest, haystack) = self.rvalue(cs(after), "a value after `not in`")?;
            return Ok((
                rest,
                Condition::In {
                    needle: lhs,
                    haystack,
                    negate: true,
                },
            ));
        }
        for (op, negate) in [("=~", false), ("!~", true)] {
            if let Some(after) = look.strip_prefix(op) {
                let at = cs(after);
                if !at.starts_with(['"', '\'', '/']) {
                    return fail(
                        at,
                        format!(
                            "expected a /regex/ or a string after `{op}`, found {}",
                            found(at)
                        ),
                    );
                }
                let (rest, pattern) = if at.starts_with('/') {
                    let (rest, body) = self.regex(at)?;
                    let span = self.span(at);
                    let node = Rvalue::Regex(body);
                    (rest, Spanned { node, span })
                } else {
                    self.rvalue(at, "a pattern")?
                };
                return Ok((
                    rest,
                    Condition::Match {
                        value: lhs,
                        pattern,
                        negate,
                    },
                ));
            }
        }
        let compare = [
            ("==", CompareOp::Eq),
            ("!=", CompareOp::Ne),
            ("<=", CompareOp::Le),
            (">=", CompareOp::Ge),
            ("<", CompareOp::Lt),
            (">", CompareOp::Gt),
        ];
        for (text, op) in compare {
            if let Some(after) = look.strip_prefix(text) {
                let (rest, rhs) = self.rvalue(cs(after), &format!("a value after `{text}`"))?;
                return Ok((rest, Condition::Compare(lhs, op, rhs)));
            }
        }
        if !matches!(lhs.node, Rvalue::Field(_)) {
            return fail(
                i,
                format!(
                    "{} cannot be a condition on its own: compare it with `==`, `in` or `=~`, or use a field reference such as `[field]`",
                    rvalue_kind(&lhs.node)
                ),
            );
        }
        Ok((rest, Condition::Truthy(lhs)))
    }

    /// `( condition )`; `open` is at the `(`, `inner` just after it.
    fn parenthesised(&self, open: &'a str, inner: &'a str) -> PResult<'a, Condition> {
        let (rest, condition) = self.condition(cs(inner))?;
        let close = cs(rest);
        match close.strip_prefix(')') {
            Some(rest) => Ok((rest, condition)),
            None => {
                let (line, column) = {
                    let span = self.span(open);
                    (span.line, span.column)
                };
                fail(
                    close,
                    format!(
                        "expected `)` to close the `(` at {line}:{column}, or a boolean operator, found {}",
                        found(close)
                    ),
                )
            }
        }
    }

    /// treetop's `rvalue`: string / number / selector / array. A regexp is only accepted
    /// where `=~`/`!~` expect a pattern (Logstash cannot compile it elsewhere), see
    /// [`Cx::regex`].
    fn rvalue(&self, i: &'a str, expected: &str) -> PResult<'a, Spanned<Rvalue>> {
        let (rest, node) = match i.chars().next() {
            Some('"' | '\'') => {
                let (rest, raw) = self.quoted(i)?;
                (rest, Rvalue::String(self.unescape(raw)))
            }
            Some(c) if c == '-' || c.is_ascii_digit() => {
                let (rest, number) = self.number(i)?;
                (rest, Rvalue::Number(number))
            }
            Some('[') => match selector(i) {
                Ok((rest, field)) => (rest, Rvalue::Field(field.to_string())),
                Err(_) => {
                    let (rest, array) = self.nested(i, || self.array(i))?;
                    let span = self.span(i);
                    (rest, self.array_rvalue(Spanned { node: array, span })?.node)
                }
            },
            Some('/') => {
                return fail(i, "a /regex/ is only allowed after `=~` or `!~`");
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                let word: String = i
                    .chars()
                    .take_while(|&c| is_word_char(c))
                    .take(40)
                    .collect();
                if cs(&i[word.len().min(i.len())..]).starts_with('(') {
                    return fail(
                        i,
                        format!("method calls such as `{word}(…)` are not supported in conditions"),
                    );
                }
                return fail(
                    i,
                    format!("expected {expected}, found `{word}` (a field reference is written `[{word}]`)"),
                );
            }
            _ => return fail(i, format!("expected {expected}, found {}", found(i))),
        };
        Ok((
            rest,
            Spanned {
                node,
                span: self.span(i),
            },
        ))
    }

    /// An array written in a condition, as an rvalue: barewords become strings (as Logstash
    /// makes them); hashes and plugins have no meaning there.
    fn array_rvalue(
        &self,
        value: Spanned<ConfigValue>,
    ) -> Result<Spanned<Rvalue>, nom::Err<PErr<'a>>> {
        let node = match value.node {
            ConfigValue::String(s) | ConfigValue::Bareword(s) => Rvalue::String(s),
            ConfigValue::Number(n) => Rvalue::Number(n),
            ConfigValue::Boolean(b) => Rvalue::String(b.to_string()),
            ConfigValue::Array(items) => Rvalue::Array(
                items
                    .into_iter()
                    .map(|item| self.array_rvalue(item))
                    .collect::<Result<_, _>>()?,
            ),
            ConfigValue::Hash(_) | ConfigValue::Plugin(_) => {
                let at = self.at_span(value.span);
                return Err(failure(
                    at,
                    "hashes and plugins are not allowed in a condition",
                ));
            }
        };
        Ok(Spanned {
            node,
            span: value.span,
        })
    }

    /// The input from a span's position (the inverse of [`Cx::span`], for errors found after
    /// parsing a value).
    fn at_span(&self, span: Span) -> &'a str {
        let line_start = self.lines.line_starts[span.line as usize - 1];
        let offset = self.text[line_start..]
            .char_indices()
            .nth(span.column as usize - 1)
            .map_or(self.text.len(), |(o, _)| line_start + o);
        &self.text[offset..]
    }

    /// `/…/` with `\/` inside; the body with `\/` unescaped to `/`.
    fn regex(&self, i: &'a str) -> PResult<'a, String> {
        let bytes = i.as_bytes();
        let mut pos = 1;
        while pos < bytes.len() {
            match bytes[pos] {
                b'\\' if bytes.get(pos + 1) == Some(&b'/') => pos += 2,
                b'/' => return Ok((&i[pos + 1..], i[1..pos].replace("\\/", "/"))),
                _ => pos += 1,
            }
        }
        fail(i, "unterminated regular expression starting here")
    }
}

/// After a condition, where `{` was expected: explain an operator Logstash does not have.
fn after_condition_message(at: &str) -> String {
    let op: String = at
        .chars()
        .take_while(|c| matches!(c, '=' | '<' | '>' | '!' | '~' | '&' | '|'))
        .take(4)
        .collect();
    match op.as_str() {
        "" => format!("expected `{{` after the condition, found {}", found(at)),
        "&&" => "unknown operator `&&`; use `and`".to_string(),
        "||" => "unknown operator `||`; use `or`".to_string(),
        "==" | "!=" | "<" | ">" | "<=" | ">=" | "=~" | "!~" => format!(
            "expected `{{` after the condition, found `{op}` (join comparisons with `and` or `or`)"
        ),
        _ => format!(
            "unknown operator `{op}`; expected one of `==`, `!=`, `<`, `>`, `<=`, `>=`, `=~`, `!~`, `in`, `not in`"
        ),
    }
}

fn boolean_operator(i: &str) -> Option<(&str, BoolOp)> {
    [
        ("and", BoolOp::And),
        ("or", BoolOp::Or),
        ("xor", BoolOp::Xor),
        ("nand", BoolOp::Nand),
    ]
    .into_iter()
    .find_map(|(word, op)| {
        let rest = tag::<_, _, PErr<'_>>(word).parse(i).ok()?.0;
        // `andy` is not `and` followed by `y`.
        (!rest.starts_with(is_word_char)).then_some((rest, op))
    })
}

fn bool_op_name(op: BoolOp) -> &'static str {
    match op {
        BoolOp::And => "and",
        BoolOp::Or => "or",
        BoolOp::Xor => "xor",
        BoolOp::Nand => "nand",
    }
}

fn rvalue_kind(value: &Rvalue) -> &'static str {
    match value {
        Rvalue::String(_) => "a string",
        Rvalue::Number(_) => "a number",
        Rvalue::Field(_) => "a field reference",
        Rvalue::Array(_) => "an array",
        Rvalue::Regex(_) => "a regular expression",
    }
}

fn precedence(op: BoolOp) -> u8 {
    match op {
        BoolOp::And => 2,
        // `xor`/`nand` never meet another operator here: `condition` rejects such chains.
        BoolOp::Or | BoolOp::Xor | BoolOp::Nand => 1,
    }
}

/// Logstash's `join_conditions`: a shunting yard that pops at most one operator per
/// operator read (see the module docs), then evaluation of the postfix form.
fn join_conditions(first: Condition, more: Vec<(BoolOp, &str, Condition)>) -> Option<Condition> {
    enum Item {
        Operand(Condition),
        Operator(BoolOp),
    }
    let mut output = vec![Item::Operand(first)];
    let mut operators: Vec<BoolOp> = Vec::new();
    for (op, _, operand) in more {
        if let Some(&top) = operators.last() {
            if precedence(top) > precedence(op) {
                operators.pop();
                output.push(Item::Operator(top));
            }
        }
        operators.push(op);
        output.push(Item::Operand(operand));
    }
    output.extend(operators.into_iter().rev().map(Item::Operator));

    // Every operator follows at least two operands in `output`, and one condition remains.
    let mut stack: Vec<Condition> = Vec::new();
    for item in output {
        match item {
            Item::Operand(c) => stack.push(c),
            Item::Operator(op) => {
                let right = stack.pop()?;
                let left = stack.pop()?;
                stack.push(Condition::Bool(op, Box::new(left), Box::new(right)));
            }
        }
    }
    let result = stack.pop()?;
    stack.is_empty().then_some(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::source::Sources;

    fn parse_ok(text: &str) -> Vec<Section> {
        match parse(text, FileId(0), false) {
            Ok(sections) => sections,
            Err(e) => panic!("{}", render(text, &e)),
        }
    }

    fn render(text: &str, error: &ConfigError) -> String {
        let mut sources = Sources::default();
        sources.add("test.conf", text.to_string());
        error.render(&sources)
    }

    /// The rendered error for a configuration that must not parse.
    fn error(text: &str) -> String {
        match parse(text, FileId(0), false) {
            Ok(sections) => panic!("parsed: {sections:?}"),
            Err(e) => render(text, &e),
        }
    }

    fn filter_condition(condition: &str) -> Condition {
        let text = format!("filter {{ if {condition} {{ drop {{}} }} }}");
        let sections = parse_ok(&text);
        match &sections[0].body[0] {
            Statement::If(chain) => chain.branches[0].condition.clone(),
            other => panic!("not an if: {other:?}"),
        }
    }

    fn first_setting(text: &str) -> ConfigValue {
        first_plugin(text).settings[0].value.node.clone()
    }

    fn first_plugin(text: &str) -> Plugin {
        match &parse_ok(text)[0].body[0] {
            Statement::Plugin(p) => p.clone(),
            other => panic!("not a plugin: {other:?}"),
        }
    }

    fn s(text: &str) -> ConfigValue {
        ConfigValue::String(text.to_string())
    }

    fn strip(value: &ConfigValue) -> String {
        // A compact rendering of values without spans, for readable assertions.
        match value {
            ConfigValue::String(s) => format!("{s:?}"),
            ConfigValue::Number(Number::Integer(n)) => n.to_string(),
            ConfigValue::Number(Number::Float(f)) => format!("{f:?}"),
            ConfigValue::Boolean(b) => b.to_string(),
            ConfigValue::Bareword(w) => w.clone(),
            ConfigValue::Array(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(|i| strip(&i.node))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ConfigValue::Hash(entries) => format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|(k, v)| format!("{} => {}", strip(&k.node), strip(&v.node)))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            ConfigValue::Plugin(p) => format!(
                "{} {{{}}}",
                p.name,
                p.settings
                    .iter()
                    .map(|s| format!("{} => {}", s.name, strip(&s.value.node)))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        }
    }

    /// A compact rendering of a condition: operators in prefix form, operands as written.
    fn shape(c: &Condition) -> String {
        let rv = |v: &Spanned<Rvalue>| match &v.node {
            Rvalue::String(s) => format!("{s:?}"),
            Rvalue::Number(Number::Integer(n)) => n.to_string(),
            Rvalue::Number(Number::Float(f)) => format!("{f:?}"),
            Rvalue::Field(f) => f.clone(),
            Rvalue::Array(items) => format!("array({})", items.len()),
            Rvalue::Regex(r) => format!("/{r}/"),
        };
        match c {
            Condition::Bool(op, l, r) => {
                format!("{}({}, {})", bool_op_name(*op), shape(l), shape(r))
            }
            Condition::Not(inner) => format!("not({})", shape(inner)),
            Condition::Compare(l, op, r) => format!("{} {op:?} {}", rv(l), rv(r)),
            Condition::Match {
                value,
                pattern,
                negate,
            } => {
                format!(
                    "{} {} {}",
                    rv(value),
                    if *negate { "!~" } else { "=~" },
                    rv(pattern)
                )
            }
            Condition::In {
                needle,
                haystack,
                negate,
            } => {
                format!(
                    "{} {} {}",
                    rv(needle),
                    if *negate { "not in" } else { "in" },
                    rv(haystack)
                )
            }
            Condition::Truthy(v) => rv(v),
        }
    }

    #[test]
    fn sections_in_any_order_with_comments() {
        let sections = parse_ok(
            "# leading\noutput { stdout {} } # after\n\ninput{}filter {\n# inside\n}\ninput { stdin { } }\n# trailing without newline",
        );
        let kinds: Vec<_> = sections.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                SectionKind::Output,
                SectionKind::Input,
                SectionKind::Filter,
                SectionKind::Input
            ]
        );
        assert_eq!((sections[1].span.line, sections[1].span.column), (4, 1));
        assert!(parse_ok("").is_empty());
        assert!(parse_ok("  # only a comment\n").is_empty());
    }

    #[test]
    fn plugins_and_settings() {
        let plugin = first_plugin("input {\n  beats {\n    port => 5044\n    \"host\" => '0.0.0.0' # c\n    ssl_enabled=>false\n  }\n}");
        assert_eq!(plugin.name, "beats");
        assert_eq!((plugin.span.line, plugin.span.column), (2, 3));
        let names: Vec<_> = plugin.settings.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["port", "host", "ssl_enabled"]);
        assert_eq!(
            plugin.settings[0].value.node,
            ConfigValue::Number(Number::Integer(5044))
        );
        assert_eq!(
            (
                plugin.settings[0].value.span.line,
                plugin.settings[0].value.span.column
            ),
            (3, 13)
        );
        assert_eq!(
            (plugin.settings[1].span.line, plugin.settings[1].span.column),
            (4, 5)
        );
        assert_eq!(plugin.settings[1].value.node, s("0.0.0.0"));
        // Logstash hands `true`/`false` to plugins as barewords.
        assert_eq!(
            plugin.settings[2].value.node,
            ConfigValue::Bareword("false".into())
        );
        // Quoted plugin names and names with dashes.
        assert_eq!(
            first_plugin("filter { \"my-plugin\" { } }").name,
            "my-plugin"
        );
        assert_eq!(first_plugin("filter { json-lines{} }").name, "json-lines");
    }

    #[test]
    fn values() {
        let cases = [
            ("x => \"a b\"", "\"a b\""),
            ("x => 'it''s'", "ERR"),
            ("x => -12", "-12"),
            ("x => 3.25", "3.25"),
            ("x => 010", "8"),
            ("x => json_lines", "json_lines"),
            ("x => [ \"a\", 1 ,[b2] ]", "[\"a\", 1, [b2]]"),
            ("x => []", "[]"),
            (
                "x => { \"k\" => 1 k2 => \"v\"\n 200 => [1] }",
                "{\"k\" => 1 k2 => \"v\" 200 => [1]}",
            ),
            ("x => {}", "{}"),
            (
                "codec => multiline { pattern => \"^\\s\" what => previous }",
                "multiline {pattern => \"^\\\\s\" what => previous}",
            ),
            ("codec => json", "json"),
            ("codecs => [ json { }, plain {} ]", "[json {}, plain {}]"),
            (
                "x => { \"a\" => { \"b\" => c1 } }",
                "{\"a\" => {\"b\" => c1}}",
            ),
        ];
        for (setting, expected) in cases {
            let text = format!("filter {{ p {{ {setting} }} }}");
            if expected == "ERR" {
                assert!(parse(&text, FileId(0), false).is_err(), "{setting}");
                continue;
            }
            assert_eq!(strip(&first_setting(&text)), expected, "{setting}");
        }
    }

    #[test]
    fn strings_without_escape_processing_keep_backslashes() {
        let value = first_setting(r#"filter { p { x => "a \"q\" \n \\ \t" y => 'it\'s' } }"#);
        assert_eq!(value, s(r#"a \"q\" \n \\ \t"#));
        let plugin = first_plugin(r#"filter { p { y => 'it\'s' z => "C:\\ x" } }"#);
        assert_eq!(plugin.settings[0].value.node, s(r"it\'s"));
        assert_eq!(plugin.settings[1].value.node, s(r"C:\\ x"));
    }

    #[test]
    fn strings_with_escape_processing() {
        let text = r#"filter { p { x => "a \"q\" \n\r\t\0 \\ \' \d \x" y => 'it\'s' } }"#;
        let sections = parse(text, FileId(0), true).unwrap();
        let Statement::Plugin(plugin) = &sections[0].body[0] else {
            panic!()
        };
        assert_eq!(
            plugin.settings[0].value.node,
            s("a \"q\" \n\r\t\0 \\ ' \\d \\x")
        );
        assert_eq!(plugin.settings[1].value.node, s("it's"));
    }

    #[test]
    fn a_backslash_before_the_quote_never_ends_a_string() {
        // As in Logstash: `\\"` is a backslash, then an escaped quote; the string goes on.
        let value = first_setting(r#"filter { p { x => "a\\" b" } }"#);
        assert_eq!(value, s(r#"a\\" b"#));
    }

    #[test]
    fn conditions_and_branches() {
        let text = "filter {\n  if [a] == 1 {\n    p1 {}\n  } else if [b][c] =~ /x\\/y/ {\n    if [d] { p2 {} }\n  } else {\n    p3 {}\n  }\n}";
        let sections = parse_ok(text);
        let Statement::If(chain) = &sections[0].body[0] else {
            panic!()
        };
        assert_eq!(chain.branches.len(), 2);
        assert_eq!(chain.branches[0].condition_text, "[a] == 1");
        assert_eq!(chain.branches[1].condition_text, "[b][c] =~ /x\\/y/");
        assert_eq!(
            (chain.branches[1].span.line, chain.branches[1].span.column),
            (4, 5)
        );
        assert_eq!(shape(&chain.branches[1].condition), "[b][c] =~ /x/y/");
        assert!(matches!(chain.branches[1].body[0], Statement::If(_)));
        assert_eq!(chain.otherwise.as_ref().map(Vec::len), Some(1));
        assert_eq!((chain.span.line, chain.span.column), (2, 3));
    }

    #[test]
    fn condition_forms() {
        let cases = [
            ("[a]", "[a]"),
            ("[@metadata][beat]", "[@metadata][beat]"),
            ("![a]", "not([a])"),
            ("!([a] and [b])", "not(and([a], [b]))"),
            ("[a] != \"x\"", "[a] Ne \"x\""),
            ("[a]<=1.5", "[a] Le 1.5"),
            ("[a] >= -2", "[a] Ge -2"),
            ("[a] < 3", "[a] Lt 3"),
            ("[a] > 3", "[a] Gt 3"),
            ("\"error\" in [tags]", "\"error\" in [tags]"),
            ("\"error\" not in [tags]", "\"error\" not in [tags]"),
            ("[level] in [\"ERROR\", \"WARN\"]", "[level] in array(2)"),
            // Logstash tries a selector before an array: `["x"]` is a field reference.
            ("[level] in [\"ERROR\"]", "[level] in [\"ERROR\"]"),
            ("[a] in [x1, 2]", "[a] in array(2)"),
            ("[msg] =~ \"^x\"", "[msg] =~ \"^x\""),
            ("[msg] !~ /^#/", "[msg] !~ /^#/"),
            ("([a])", "[a]"),
            ("(([a] or [b]))and[c]", "and(or([a], [b]), [c])"),
        ];
        for (text, expected) in cases {
            assert_eq!(shape(&filter_condition(text)), expected, "{text}");
        }
    }

    #[test]
    fn boolean_precedence_follows_logstash() {
        let cases = [
            ("[a] and [b]", "and([a], [b])"),
            ("[a] or [b] and [c]", "or([a], and([b], [c]))"),
            ("[a] and [b] or [c]", "or(and([a], [b]), [c])"),
            ("[a] or [b] or [c]", "or([a], or([b], [c]))"),
            (
                "[a] and [b] or [c] and [d]",
                "or(and([a], [b]), and([c], [d]))",
            ),
            // Logstash's shunting yard pops one operator at a time.
            (
                "[a] and [b] and [c] or [d]",
                "and([a], or(and([b], [c]), [d]))",
            ),
            ("[a] xor [b]", "xor([a], [b])"),
            ("[a] nand [b]", "nand([a], [b])"),
            ("([a] xor [b]) and [c]", "and(xor([a], [b]), [c])"),
            ("[a] and !([b] or [c])", "and([a], not(or([b], [c])))"),
        ];
        for (text, expected) in cases {
            assert_eq!(shape(&filter_condition(text)), expected, "{text}");
        }
    }

    #[test]
    fn condition_text_is_kept_as_written() {
        let sections = parse_ok("output { if  \"x\" in [tags]   and [a] # why\n  {\n} }");
        let Statement::If(chain) = &sections[0].body[0] else {
            panic!()
        };
        assert_eq!(
            chain.branches[0].condition_text,
            "\"x\" in [tags]   and [a]"
        );
    }

    #[test]
    fn columns_count_characters() {
        let sections = parse_ok("filter { p { x => \"ünïcödé\" y => 1 } }");
        let Statement::Plugin(plugin) = &sections[0].body[0] else {
            panic!()
        };
        assert_eq!(plugin.settings[1].span.column, 29);
    }

    #[test]
    fn deep_nesting_within_the_limit_parses() {
        let depth = MAX_DEPTH as usize - 2;
        let text = format!(
            "filter {{ p {{ x => {}1{} }} }}",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        parse_ok(&text);
        let text = format!(
            "filter {{ {} p {{}} {} }}",
            "if [a] {".repeat(depth),
            "}".repeat(depth)
        );
        parse_ok(&text);
    }

    #[test]
    fn malformed_configs() {
        let cases: &[(&str, &str)] = &[
            (
                "input {\n  beats {\n    port => 5044\n",
                "test.conf:4:1: expected `}` to close plugin `beats` opened on line 2, found end of file\n  |\n4 | \n  | ^",
            ),
            (
                "input {\n  beats {\n    port 5044\n  }\n}\n",
                "test.conf:3:10: expected `=>` after setting name `port`, found `5044`\n  |\n3 |     port 5044\n  |          ^",
            ),
            (
                "input {\n  beats\n}\n",
                "test.conf:3:1: expected `{` after plugin name `beats`, found `}`\n  |\n3 | }\n  | ^",
            ),
            (
                "filter {\n  mutate { add_tag => \"oops }\n}\n",
                "test.conf:2:23: unterminated string starting here\n  |\n2 |   mutate { add_tag => \"oops }\n  |                       ^",
            ),
            (
                "inptu {\n}\n",
                "test.conf:1:1: unknown section `inptu`\n  |\n1 | inptu {\n  | ^\n  = help: did you mean `input`? valid names: `filter`, `input`, `output`",
            ),
            (
                "input {\n  if [a] { stdin {} }\n}\n",
                "test.conf:2:3: conditionals (`if`) are not allowed in an input section\n  |\n2 |   if [a] { stdin {} }\n  |   ^",
            ),
            (
                "filter { }\n}\n",
                "test.conf:2:1: unexpected `}`: there is no open block to close\n  |\n2 | }\n  | ^",
            ),
            (
                "filter {\n  if [a] = \"b\" { drop {} }\n}\n",
                "test.conf:2:10: unknown operator `=`; expected one of `==`, `!=`, `<`, `>`, `<=`, `>=`, `=~`, `!~`, `in`, `not in`\n  |\n2 |   if [a] = \"b\" { drop {} }\n  |          ^",
            ),
            (
                "filter {\n  if [a] && [b] { drop {} }\n}\n",
                "test.conf:2:10: unknown operator `&&`; use `and`\n  |\n2 |   if [a] && [b] { drop {} }\n  |          ^",
            ),
            (
                "filter {\n  if { drop {} }\n}\n",
                "test.conf:2:6: expected a condition after `if`, found `{`\n  |\n2 |   if { drop {} }\n  |      ^",
            ),
            (
                "filter {\n  if [msg] =~ /abc { drop {} }\n}\n",
                "test.conf:2:15: unterminated regular expression starting here\n  |\n2 |   if [msg] =~ /abc { drop {} }\n  |               ^",
            ),
            (
                "output { stdout {} } garbage",
                "test.conf:1:22: unknown section `garbage`\n  |\n1 | output { stdout {} } garbage\n  |                      ^\n  = help: valid names: `filter`, `input`, `output`",
            ),
            (
                "output { stdout {} } =>",
                "test.conf:1:22: expected `input`, `filter` or `output`, found `=`\n  |\n1 | output { stdout {} } =>\n  |                      ^",
            ),
            (
                "input { tcp { port => 50a4 } }",
                "test.conf:1:23: invalid number `50a4`\n  |\n1 | input { tcp { port => 50a4 } }\n  |                       ^",
            ),
            (
                "input { tcp { port => 1.2.3 } }",
                "test.conf:1:23: invalid number `1.2.3`\n  |\n1 | input { tcp { port => 1.2.3 } }\n  |                       ^",
            ),
            (
                "input { tcp { port => 09 } }",
                "test.conf:1:23: invalid number `09`: a leading zero makes it octal, as in Logstash, and it has digits above 7\n  |\n1 | input { tcp { port => 09 } }\n  |                       ^",
            ),
            (
                "input { tcp { port => 5044, host => \"h\" } }",
                "test.conf:1:27: settings are separated by whitespace, not `,`\n  |\n1 | input { tcp { port => 5044, host => \"h\" } }\n  |                           ^",
            ),
            (
                "filter { p { x => [1, 2, ] } }",
                "test.conf:1:26: expected a value after `,`: a trailing comma is not allowed in an array\n  |\n1 | filter { p { x => [1, 2, ] } }\n  |                          ^",
            ),
            (
                "filter { p { x => [1 2] } }",
                "test.conf:1:22: expected `,` or `]` in an array, found `2`\n  |\n1 | filter { p { x => [1 2] } }\n  |                      ^",
            ),
            (
                "filter { p { x => { a => 1 } } }",
                "test.conf:1:21: expected a hash key (a string, number or bareword) or `}`, found `a`\n  |\n1 | filter { p { x => { a => 1 } } }\n  |                     ^",
            ),
            (
                "filter { p { x => { \"a\" 1 } } }",
                "test.conf:1:25: expected `=>` after hash key \"a\", found `1`\n  |\n1 | filter { p { x => { \"a\" 1 } } }\n  |                         ^",
            ),
            (
                "filter { p { x => } }",
                "test.conf:1:19: expected a value for setting `x` (a string, number, bareword, array, hash or plugin), found `}`\n  |\n1 | filter { p { x => } }\n  |                   ^",
            ),
            (
                "filter { if [a] == { drop {} } }",
                "test.conf:1:20: expected a value after `==`, found `{`\n  |\n1 | filter { if [a] == { drop {} } }\n  |                    ^",
            ),
            (
                "filter { if [a] == b { drop {} } }",
                "test.conf:1:20: expected a value after `==`, found `b` (a field reference is written `[b]`)\n  |\n1 | filter { if [a] == b { drop {} } }\n  |                    ^",
            ),
            (
                "filter { if ([a] or [b] { drop {} } }",
                "test.conf:1:25: expected `)` to close the `(` at 1:13, or a boolean operator, found `{`\n  |\n1 | filter { if ([a] or [b] { drop {} } }\n  |                         ^",
            ),
            (
                "filter { if \"x\" { drop {} } }",
                "test.conf:1:13: a string cannot be a condition on its own: compare it with `==`, `in` or `=~`, or use a field reference such as `[field]`\n  |\n1 | filter { if \"x\" { drop {} } }\n  |             ^",
            ),
            (
                "filter { if [a] and [b] xor [c] { drop {} } }",
                "test.conf:1:25: `xor` cannot be combined with other boolean operators without parentheses (Logstash gives it no precedence)\n  |\n1 | filter { if [a] and [b] xor [c] { drop {} } }\n  |                         ^",
            ),
            (
                "filter { if [a] =~ [b] { drop {} } }",
                "test.conf:1:20: expected a /regex/ or a string after `=~`, found `[`\n  |\n1 | filter { if [a] =~ [b] { drop {} } }\n  |                    ^",
            ),
            (
                "filter { if [a] == /x/ { drop {} } }",
                "test.conf:1:20: a /regex/ is only allowed after `=~` or `!~`\n  |\n1 | filter { if [a] == /x/ { drop {} } }\n  |                    ^",
            ),
            (
                "filter { else { drop {} } }",
                "test.conf:1:10: `else` without a preceding `if` block\n  |\n1 | filter { else { drop {} } }\n  |          ^",
            ),
            (
                "filter { if [a] { } else drop {} }",
                "test.conf:1:26: expected `if` or `{` after `else`, found `drop`\n  |\n1 | filter { if [a] { } else drop {} }\n  |                          ^",
            ),
            (
                "filter { p { codec => a } }",
                "test.conf:1:23: expected a value for setting `codec`, found `a`: a bareword needs at least two characters, quote it as \"a\"\n  |\n1 | filter { p { codec => a } }\n  |                       ^",
            ),
            (
                "filter { if [a] in [{ \"k\" => 1 }, 2] { drop {} } }",
                "test.conf:1:21: hashes and plugins are not allowed in a condition\n  |\n1 | filter { if [a] in [{ \"k\" => 1 }, 2] { drop {} } }\n  |                     ^",
            ),
            (
                "filter\n{\n  if [a] {\n",
                "test.conf:4:1: expected `}` to close the `if` block opened on line 3, found end of file\n  |\n4 | \n  | ^",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(error(text), *expected, "for config:\n{text}");
        }
    }

    #[test]
    fn too_deep_nesting_is_an_error_not_a_stack_overflow() {
        let depth = 10_000;
        let text = format!("filter {{ p {{ x => {}", "[".repeat(depth));
        let message = error(&text);
        assert!(
            message.starts_with(&format!(
                "test.conf:1:{}: nesting too deep",
                19 + MAX_DEPTH - 1
            )),
            "{}",
            &message[..200]
        );
        let text = format!("filter {{ if {} [a]", "(".repeat(depth));
        assert!(error(&text).contains("nesting too deep"));
        let text = format!("filter {{ {}", "if [a] {".repeat(depth));
        assert!(error(&text).contains("nesting too deep"));
        let text = format!("filter {{ {}", "p { x => ".repeat(depth));
        assert!(error(&text).contains("nesting too deep"));
        // A long chain of operators would make a tree as deep as the chain is long.
        let text = format!("filter {{ if [a]{} {{ }} }}", " or [a]".repeat(depth));
        assert!(error(&text).contains("condition too complex"));
        let text = format!(
            "filter {{ if [a]{} {{ }} }}",
            " or [a]".repeat(MAX_DEPTH as usize - 2)
        );
        parse_ok(&text);
    }
}
