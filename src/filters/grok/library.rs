//! The pattern library: named regexes that `%{NAME}` refers to.
//!
//! The built-in sets (`grok-patterns/legacy`, `grok-patterns/ecs-v1` and the extras) are
//! compiled into the binary with `include_str!`, so a release needs no pattern files on disk.
//! Users add their own from `patterns_dir` (filtered by `patterns_files_glob`) and
//! `pattern_definitions`; as in Logstash, the last definition of a name wins. Loading parses a
//! few hundred short lines: it happens once per filter at start-up, never per event.

use std::collections::HashMap;
use std::path::Path;

use super::GrokError;

/// Which built-in set `%{NAME}` resolves against, Logstash's `ecs_compatibility`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EcsCompatibility {
    /// The legacy field names (`clientip`, `response`, …).
    Disabled,
    /// Elastic Common Schema names (`[source][address]`, …).
    V1,
    /// ECS names as in v1; Logstash 8's default, which loads the same pattern files.
    #[default]
    V8,
}

macro_rules! pattern_set {
    ($dir:literal: $($file:literal),* $(,)?) => {
        &[$(($file, include_str!(concat!("../../../grok-patterns/", $dir, "/", $file)))),*]
    };
}

/// Files in load order (alphabetical, as Logstash's directory glob yields them).
const LEGACY: &[(&str, &str)] = pattern_set!("legacy":
    "aws", "bacula", "bind", "bro", "exim", "firewalls", "grok-patterns", "haproxy", "httpd",
    "java", "junos", "linux-syslog", "maven", "mcollective", "mcollective-patterns", "mongodb",
    "nagios", "postgresql", "rails", "redis", "ruby", "squid",
);
const ECS_V1: &[(&str, &str)] = pattern_set!("ecs-v1":
    "aws", "bacula", "bind", "bro", "exim", "firewalls", "grok-patterns", "haproxy", "httpd",
    "java", "junos", "linux-syslog", "maven", "mcollective", "mongodb", "nagios", "postgresql",
    "rails", "redis", "ruby", "squid", "zeek",
);
const EXTRAS: &[(&str, &str)] = pattern_set!("extras": "nginx");

/// A set of named pattern definitions.
#[derive(Debug, Clone, Default)]
pub struct PatternLibrary {
    definitions: HashMap<String, String>,
}

impl PatternLibrary {
    /// An empty library.
    pub fn empty() -> PatternLibrary {
        PatternLibrary::default()
    }

    /// The built-in patterns for `mode`, including the extras such as `NGINXACCESS`.
    pub fn builtin(mode: EcsCompatibility) -> PatternLibrary {
        let mut library = PatternLibrary::empty();
        for (_, text) in PatternLibrary::builtin_files(mode).iter().chain(EXTRAS) {
            library.add_file_text(text);
        }
        library
    }

    /// The built-in files of `mode` as (file name, contents), without the extras.
    pub fn builtin_files(mode: EcsCompatibility) -> &'static [(&'static str, &'static str)] {
        match mode {
            EcsCompatibility::Disabled => LEGACY,
            EcsCompatibility::V1 | EcsCompatibility::V8 => ECS_V1,
        }
    }

    /// The extra files shipped beside the logstash-patterns-core sets.
    pub fn extra_files() -> &'static [(&'static str, &'static str)] {
        EXTRAS
    }

    /// Defines (or redefines) `name`.
    pub fn define(&mut self, name: impl Into<String>, regex: impl Into<String>) {
        self.definitions.insert(name.into(), regex.into());
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.definitions.get(name).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.definitions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.definitions.is_empty()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.definitions.keys().map(String::as_str)
    }

    /// The defined name closest to `name`, for "did you mean" hints.
    pub fn closest(&self, name: &str) -> Option<&str> {
        self.names()
            .map(|candidate| (strsim::jaro_winkler(name, candidate), candidate))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
            .map(|(_, candidate)| candidate)
    }

    /// Adds the definitions in a pattern file's text: `NAME REGEX` lines, where leading
    /// whitespace is ignored, `#` starts a comment line and lines without a regex are skipped,
    /// as jls-grok reads them.
    pub fn add_file_text(&mut self, text: &str) {
        for line in text.lines() {
            let line = line.trim_start();
            if line.starts_with('#') {
                continue;
            }
            let Some((name, regex)) = line.split_once(|c: char| c.is_whitespace()) else {
                continue;
            };
            let regex = regex.trim_start();
            if regex.is_empty() {
                continue;
            }
            // Trailing whitespace is kept: legacy REDISLOG ends in `\* ` on purpose.
            self.define(name, regex);
        }
    }

    /// Adds every file in `dir` whose name matches `glob` (`*`, `?` and literal characters),
    /// in name order. A path that is a file is loaded as it is, as Logstash does.
    pub fn add_dir(&mut self, dir: &Path, glob: &str) -> Result<(), GrokError> {
        let io = |e: std::io::Error| GrokError::PatternDir {
            path: dir.display().to_string(),
            reason: e.to_string(),
        };
        let mut files = Vec::new();
        if dir.is_file() {
            files.push(dir.to_path_buf());
        } else {
            for entry in std::fs::read_dir(dir).map_err(io)? {
                let path = entry.map_err(io)?.path();
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if path.is_file() && glob_matches(glob.as_bytes(), name.as_bytes()) {
                    files.push(path);
                }
            }
            files.sort();
        }
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|e| GrokError::PatternDir {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            self.add_file_text(&text);
        }
        Ok(())
    }
}

/// Shell-style matching of a file name: `*` any run, `?` one character. Linear in practice;
/// globs are tiny and come from configuration.
fn glob_matches(glob: &[u8], name: &[u8]) -> bool {
    match glob.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|i| glob_matches(rest, &name[i..])),
        Some((b'?', rest)) => !name.is_empty() && glob_matches(rest, &name[1..]),
        Some((c, rest)) => name.first() == Some(c) && glob_matches(rest, &name[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_sets_have_every_definition() {
        let legacy = PatternLibrary::builtin(EcsCompatibility::Disabled);
        let ecs = PatternLibrary::builtin(EcsCompatibility::V1);
        // 317 unique legacy names and 361 ECS ones, plus NGUSERNAME, NGUSER and NGINXACCESS.
        assert_eq!(legacy.len(), 317 + 3);
        assert_eq!(ecs.len(), 361 + 3);
        assert_eq!(
            ecs.get("URIQUERY"),
            Some(r"[A-Za-z0-9$.+!*'|(){},~@#%&/=:;_?\-\[\]<>]*")
        );
        assert!(legacy.get("URIQUERY").is_none());
        assert!(legacy.get("NGINXACCESS").is_some());
    }

    #[test]
    fn file_lines_follow_jls_grok() {
        let mut library = PatternLibrary::empty();
        library.add_file_text("# comment\n  A  a+\nB\n\nA b+\n");
        assert_eq!(library.get("A"), Some("b+"));
        assert!(library.get("B").is_none());
        library.add_file_text("C c \r\n");
        assert_eq!(library.get("C"), Some("c "));
    }

    #[test]
    fn did_you_mean() {
        let library = PatternLibrary::builtin(EcsCompatibility::Disabled);
        assert_eq!(library.closest("NUMBR"), Some("NUMBER"));
        assert_eq!(library.closest("ZZZZZZZZZZ"), None);
    }

    #[test]
    fn globs() {
        assert!(glob_matches(b"*", b"anything~"));
        assert!(glob_matches(b"*.grok", b"a.grok"));
        assert!(!glob_matches(b"*.grok", b"a.grok~"));
        assert!(glob_matches(b"p?", b"p1"));
    }

    #[test]
    fn directories_load_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b"), "X second\n").unwrap();
        std::fs::write(dir.path().join("a"), "X first\nY y\n").unwrap();
        std::fs::write(dir.path().join("c.skip"), "Z z\n").unwrap();
        let mut library = PatternLibrary::empty();
        library.add_dir(dir.path(), "?").unwrap();
        assert_eq!(library.get("X"), Some("second"));
        assert!(library.get("Z").is_none());
    }
}
