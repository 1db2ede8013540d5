//! Expansion of `%{SYNTAX}`, `%{SYNTAX:SEMANTIC}`, `%{SYNTAX:SEMANTIC:type}` and inline
//! definitions `%{NAME=regex}` into one regex in the Ruby dialect.
//!
//! This follows jls-grok, which Logstash uses: the leftmost reference is replaced by its
//! definition, wrapped in `(?<SYNTAX:SEMANTIC:type>…)` when it names a field (or always when
//! `named_captures_only` is off), else in `(?:…)`, and the text is scanned again, at most
//! 10,000 times. Compile-time only; each step costs the length of the text after the
//! reference.

use std::collections::HashMap;

use super::library::PatternLibrary;
use super::GrokError;

/// The most references one pattern may expand, as in jls-grok (it catches recursion).
const MAX_EXPANSIONS: usize = 10_000;

/// Expands every reference in `pattern`. Inline definitions apply to this pattern only.
pub fn expand(
    pattern: &str,
    library: &PatternLibrary,
    named_captures_only: bool,
) -> Result<String, GrokError> {
    let mut text = pattern.to_owned();
    let mut local: HashMap<String, String> = HashMap::new();
    let mut from = 0;
    for _ in 0..MAX_EXPANSIONS {
        let Some(reference) = find_reference(&text, from) else {
            return Ok(text);
        };
        let syntax = &text[reference.syntax.clone()];
        if let Some(definition) = &reference.definition {
            local.insert(syntax.to_owned(), text[definition.clone()].to_owned());
        }
        let Some(regex) = local
            .get(syntax)
            .map(String::as_str)
            .or_else(|| library.get(syntax))
        else {
            return Err(GrokError::UnknownPattern {
                pattern: pattern.to_owned(),
                name: syntax.to_owned(),
                suggestion: library.closest(syntax).map(str::to_owned),
            });
        };
        let name = &text[reference.name.clone()];
        let replacement = if named_captures_only && !name.contains(':') {
            format!("(?:{regex})")
        } else {
            format!("(?<{name}>{regex})")
        };
        text.replace_range(reference.whole.clone(), &replacement);
        // Everything before the reference is free of references, so scan on from there.
        from = reference.whole.start;
    }
    Err(GrokError::Recursion {
        pattern: pattern.to_owned(),
    })
}

struct Reference {
    whole: std::ops::Range<usize>,
    /// `SYNTAX` or `SYNTAX:SEMANTIC[:type]`, the capture group's name.
    name: std::ops::Range<usize>,
    syntax: std::ops::Range<usize>,
    definition: Option<std::ops::Range<usize>>,
}

/// jls-grok's `%{` name chars: `[A-z0-9]`, a range that includes ``[\]^_` ``.
fn is_syntax_byte(b: u8) -> bool {
    (b'A'..=b'z').contains(&b) || b.is_ascii_digit()
}

/// `[@\[\]A-z0-9_:.-]`.
fn is_semantic_byte(b: u8) -> bool {
    is_syntax_byte(b) || matches!(b, b'@' | b':' | b'.' | b'-')
}

/// The leftmost well-formed reference at or after `from`: `%{`, a name, an optional
/// `:semantic`, an optional `=definition` (braces may nest, `\` escapes), anything else up
/// to `}`, which jls-grok ignores and the ECS httpd file relies on (`…[code]?}`).
fn find_reference(text: &str, from: usize) -> Option<Reference> {
    let bytes = text.as_bytes();
    let mut search = from;
    while let Some(offset) = memchr::memmem::find(&bytes[search..], b"%{") {
        let start = search + offset;
        search = start + 1;
        let syntax_start = start + 2;
        let mut i = syntax_start;
        while i < bytes.len() && is_syntax_byte(bytes[i]) {
            i += 1;
        }
        if i == syntax_start {
            continue;
        }
        let syntax = syntax_start..i;
        if bytes.get(i) == Some(&b':') && bytes.get(i + 1).is_some_and(|&b| is_semantic_byte(b)) {
            i += 1;
            while i < bytes.len() && is_semantic_byte(bytes[i]) {
                i += 1;
            }
        }
        let name = syntax_start..i;
        let mut definition = None;
        if bytes.get(i) == Some(&b'=') {
            let def_start = i + 1;
            let mut depth = 0usize;
            let mut j = def_start;
            while j < bytes.len() {
                match bytes[j] {
                    b'\\' => j += 1,
                    b'{' => depth += 1,
                    b'}' if depth == 0 => break,
                    b'}' => depth -= 1,
                    _ => {}
                }
                j += 1;
            }
            if j > def_start && j < bytes.len() {
                definition = Some(def_start..j);
                i = j;
            }
        }
        let Some(close) = memchr::memchr(b'}', &bytes[i..]) else {
            continue;
        };
        return Some(Reference {
            whole: start..i + close + 1,
            name,
            syntax,
            definition,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library() -> PatternLibrary {
        let mut library = PatternLibrary::empty();
        library.define("NUM", "[0-9]+");
        library.define("PAIR", "%{NUM:a}-%{NUM}");
        library.define("LOOP", "x%{LOOP}");
        library
    }

    #[test]
    fn references_become_groups() {
        let l = library();
        assert_eq!(
            expand("%{PAIR:p} %{NUM:n:int}", &l, true).unwrap(),
            "(?<PAIR:p>(?<NUM:a>[0-9]+)-(?:[0-9]+)) (?<NUM:n:int>[0-9]+)"
        );
        assert_eq!(
            expand("%{NUM}", &l, false).unwrap(),
            "(?<NUM>[0-9]+)",
            "named_captures_only => false captures bare references"
        );
        assert_eq!(
            expand("%{NUM:[a][b]?}", &l, true).unwrap(),
            "(?<NUM:[a][b]>[0-9]+)",
            "text after the semantic is ignored"
        );
        assert_eq!(expand("100%{ and %{", &l, true).unwrap(), "100%{ and %{");
    }

    #[test]
    fn inline_definitions_are_local() {
        let l = library();
        assert_eq!(
            expand("%{HEX:h=[0-9a-f]{2}} %{HEX}", &l, true).unwrap(),
            "(?<HEX:h>[0-9a-f]{2}) (?:[0-9a-f]{2})"
        );
        assert!(l.get("HEX").is_none());
    }

    #[test]
    fn errors_name_the_problem() {
        let l = library();
        let err = expand("%{NUMM:x}", &l, true).unwrap_err().to_string();
        assert!(err.contains("%{NUMM}") && err.contains("NUM"), "{err}");
        let err = expand("%{LOOP}", &l, true).unwrap_err().to_string();
        assert!(err.contains("itself"), "{err}");
    }
}
