//! `sluice grok`: try patterns from the command line. Lines come in on stdin; for each, one
//! JSON object goes out with the captures, or with `tags: ["_grokparsefailure"]`.
//!
//! The line is matched from `@metadata`, so the output holds only what the patterns
//! captured. One event and one output buffer per line; this is a tool for people, not the
//! pipeline's hot path.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::{EcsCompatibility, Grok, GrokConfig, GrokError, GrokOutcome};
use crate::event::{json, Event, FieldRef, Object, Text, TIMESTAMP, VERSION};

/// The field the line is placed in; `@metadata` is never written out.
const LINE: &str = "[@metadata][line]";

/// What `sluice grok` was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub struct CliOptions {
    /// Patterns tried in order (`--pattern`, or the lines of `--match-file`).
    pub patterns: Vec<String>,
    pub ecs_compatibility: EcsCompatibility,
    pub patterns_dir: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("give a pattern with --pattern or --match-file")]
    NoPattern,
    #[error("--ecs takes disabled, v1 or v8, not `{0}`")]
    Ecs(String),
    #[error("cannot read {path}: {source}")]
    MatchFile {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Grok(#[from] GrokError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl CliOptions {
    /// Builds the options from the command line's values. A match file holds one pattern
    /// per line; blank lines and lines starting with `#` are skipped.
    pub fn from_args(
        pattern: Option<String>,
        match_file: Option<&Path>,
        ecs: Option<&str>,
        patterns_dir: Vec<PathBuf>,
    ) -> Result<CliOptions, CliError> {
        let mut patterns: Vec<String> = pattern.into_iter().collect();
        if let Some(path) = match_file {
            let text = std::fs::read_to_string(path).map_err(|source| CliError::MatchFile {
                path: path.display().to_string(),
                source,
            })?;
            patterns.extend(
                text.lines()
                    .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                    .map(str::to_owned),
            );
        }
        if patterns.is_empty() {
            return Err(CliError::NoPattern);
        }
        let ecs_compatibility = match ecs {
            None => EcsCompatibility::default(),
            Some("disabled") => EcsCompatibility::Disabled,
            Some("v1") => EcsCompatibility::V1,
            Some("v8") => EcsCompatibility::V8,
            Some(other) => return Err(CliError::Ecs(other.to_owned())),
        };
        Ok(CliOptions {
            patterns,
            ecs_compatibility,
            patterns_dir,
        })
    }
}

/// Matches every line of `input` and writes one JSON object per line to `output`. Returns
/// the number of lines that matched no pattern.
pub fn run_cli(
    options: &CliOptions,
    mut input: impl BufRead,
    mut output: impl Write,
) -> Result<u64, CliError> {
    let config = GrokConfig {
        matches: vec![(LINE.to_owned(), options.patterns.clone())],
        ecs_compatibility: options.ecs_compatibility,
        patterns_dir: options.patterns_dir.clone(),
        ..GrokConfig::default()
    };
    let grok = Grok::new(config)?;
    let line_field = FieldRef::parse(LINE).expect("a valid field reference");
    let mut failed = 0;
    let mut buffer = Vec::new();
    let mut out = Vec::new();
    loop {
        buffer.clear();
        if input.read_until(b'\n', &mut buffer)? == 0 {
            break;
        }
        while matches!(buffer.last(), Some(b'\n' | b'\r')) {
            buffer.pop();
        }
        let line = Text::from_utf8_lossy(Bytes::copy_from_slice(&buffer));
        let mut event = Event::new(Object::new());
        // Only what grok wrote is of interest: drop what every new event carries.
        event.fields_mut().remove(TIMESTAMP);
        event.fields_mut().remove(VERSION);
        event.insert(&line_field, line.into());
        if grok.filter(&mut event) == GrokOutcome::Failed {
            failed += 1;
        }
        out.clear();
        json::encode_event(&event, &mut out);
        out.push(b'\n');
        output.write_all(&out)?;
    }
    output.flush()?;
    Ok(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_json_object_per_line() {
        let options = CliOptions::from_args(
            Some("%{WORD:w} %{INT:n:int}".to_owned()),
            None,
            Some("disabled"),
            Vec::new(),
        )
        .unwrap();
        let mut out = Vec::new();
        let failed = run_cli(&options, &b"abc 12\r\nnothing here\n"[..], &mut out).unwrap();
        assert_eq!(failed, 1);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"w\":\"abc\",\"n\":12}\n{\"tags\":[\"_grokparsefailure\"]}\n"
        );
    }

    #[test]
    fn options_are_checked() {
        assert!(matches!(
            CliOptions::from_args(None, None, None, Vec::new()),
            Err(CliError::NoPattern)
        ));
        assert!(matches!(
            CliOptions::from_args(Some("x".into()), None, Some("v2"), Vec::new()),
            Err(CliError::Ecs(_))
        ));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("patterns");
        std::fs::write(&file, "# comment\n%{INT:a}\n\n%{WORD:b}\n").unwrap();
        let options = CliOptions::from_args(None, Some(&file), None, Vec::new()).unwrap();
        assert_eq!(options.patterns, ["%{INT:a}", "%{WORD:b}"]);
    }
}
