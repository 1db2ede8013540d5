//! Configuration errors a person can act on: where (file:line:column, the line, a caret),
//! what was wrong, and what would have been valid.

use std::fmt::Write;

use super::source::{Sources, Span};

#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    pub span: Option<Span>,
    pub message: String,
    /// A hint, e.g. "did you mean `port`?" or the list of valid names.
    pub help: Option<String>,
}

impl ConfigError {
    pub fn at(span: Span, message: impl Into<String>) -> ConfigError {
        ConfigError {
            span: Some(span),
            message: message.into(),
            help: None,
        }
    }

    /// An error that belongs to no single place (a missing file, an empty directory).
    pub fn general(message: impl Into<String>) -> ConfigError {
        ConfigError {
            span: None,
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> ConfigError {
        self.help = Some(help.into());
        self
    }

    /// Renders the error as `path:line:column: message`, the source line, a caret under the
    /// column, and the help line.
    pub fn render(&self, sources: &Sources) -> String {
        let mut out = String::new();
        match self.span {
            Some(span) => {
                let path = sources.path(span.file).display();
                let _ = writeln!(
                    out,
                    "{path}:{}:{}: {}",
                    span.line, span.column, self.message
                );
                let line = sources.line_text(span.file, span.line);
                let number = span.line.to_string();
                let gutter = " ".repeat(number.len());
                let _ = writeln!(out, "{gutter} |");
                let _ = writeln!(out, "{number} | {}", line.replace('\t', " "));
                let pad = " ".repeat(span.column.saturating_sub(1) as usize);
                let _ = write!(out, "{gutter} | {pad}^");
            }
            None => out.push_str(&self.message),
        }
        if let Some(help) = &self.help {
            let _ = write!(out, "\n  = help: {help}");
        }
        out
    }
}

/// "did you mean `x`?" for the closest candidate within a small edit distance.
pub fn did_you_mean<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(given, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The help text for an unknown name: a suggestion when one is close, then every valid name.
pub fn unknown_name_help(given: &str, valid: &[&str]) -> String {
    let mut names: Vec<&str> = valid.to_vec();
    names.sort_unstable();
    names.dedup();
    let list = names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match did_you_mean(given, names.iter().copied()) {
        Some(best) => format!("did you mean `{best}`? valid names: {list}"),
        None => format!("valid names: {list}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_line_and_caret() {
        let mut sources = Sources::default();
        let file = sources.add(
            "pipeline.conf",
            "input {\n  beats { prot => 5044 }\n}\n".into(),
        );
        let error = ConfigError::at(
            Span {
                file,
                line: 2,
                column: 11,
            },
            "unknown setting `prot` for input plugin `beats`",
        )
        .with_help(unknown_name_help("prot", &["port", "host"]));
        assert_eq!(
            error.render(&sources),
            "pipeline.conf:2:11: unknown setting `prot` for input plugin `beats`\n  |\n2 |   beats { prot => 5044 }\n  |           ^\n  = help: did you mean `port`? valid names: `host`, `port`"
        );
    }
}
