//! Reading a pipeline configuration the way `logstash -f` and `-e` do: a file, every file
//! of a directory, or a glob, then parsing and `${VAR}` substitution from the environment.
//!
//! Logstash concatenates the text of all files before parsing; Sluice parses each file on
//! its own and concatenates their sections in the same (name-sorted) order. The resulting
//! pipeline is the same, except that a block can no longer start in one file and end in the
//! next, and every error points into the file where it is.
//!
//! As in Logstash (`config/source/local.rb`): a directory means `dir/*`; files are sorted by
//! name; hidden files are not matched by `*` or `?` (Ruby's `Dir.glob`), nor are
//! subdirectories; names ending in `~` (editor backups) are skipped; a file that is not UTF-8
//! is an error. Wildcards (`*`, `?`) are supported in the last path component only.

use std::fs;
use std::path::{Path, PathBuf};

use super::ast::Config;
use super::env::substitute;
use super::error::ConfigError;
use super::grammar::parse;
use super::source::Sources;

/// Loads the configuration at `path` (a file, a directory or a glob such as
/// `/etc/sluice/conf.d/*.conf`). On error the sources read so far come back too, so that
/// the error can be rendered with its line.
pub fn load(
    path: &Path,
    support_escapes: bool,
) -> Result<(Sources, Config), (Sources, ConfigError)> {
    let mut sources = Sources::default();
    let files = match config_files(path) {
        Ok(files) => files,
        Err(e) => return Err((sources, e)),
    };
    let mut config = Config::default();
    for file in files {
        let text = match fs::read(&file) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => {
                    let message = format!("`{}` is not UTF-8 text", file.display());
                    return Err((sources, ConfigError::general(message)));
                }
            },
            Err(e) => {
                let message = format!("cannot read `{}`: {e}", file.display());
                return Err((sources, ConfigError::general(message)));
            }
        };
        let id = sources.add(file, text);
        match parse(&sources.file(id).text, id, support_escapes) {
            Ok(sections) => config.sections.extend(sections),
            Err(e) => return Err((sources, e)),
        }
    }
    finish(sources, config, &path.display().to_string())
}

/// Loads a configuration given as text (`-e`, tests); `name` stands for its path in errors.
pub fn load_str(
    name: &str,
    text: &str,
    support_escapes: bool,
) -> Result<(Sources, Config), (Sources, ConfigError)> {
    let mut sources = Sources::default();
    let id = sources.add(name, text.to_string());
    match parse(text, id, support_escapes) {
        Ok(sections) => finish(sources, Config { sections }, name),
        Err(e) => Err((sources, e)),
    }
}

/// The checks and substitution common to files and strings.
fn finish(
    sources: Sources,
    mut config: Config,
    origin: &str,
) -> Result<(Sources, Config), (Sources, ConfigError)> {
    if config.sections.is_empty() {
        let message = format!(
            "no configuration found in `{origin}`: expected at least one `input`, `filter` or `output` section"
        );
        return Err((sources, ConfigError::general(message)));
    }
    match substitute(&mut config, &|name| std::env::var(name).ok()) {
        Ok(()) => Ok((sources, config)),
        Err(e) => Err((sources, e)),
    }
}

/// The files `path` stands for, sorted by name.
fn config_files(path: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    let (dir, pattern) = if path.is_dir() {
        (path.to_path_buf(), "*".to_string())
    } else if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    } else {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            return Err(not_found(path));
        };
        if !name.contains(['*', '?']) {
            return Err(not_found(path));
        }
        let parent = path.parent().unwrap_or(Path::new(""));
        if parent.to_string_lossy().contains(['*', '?']) {
            return Err(ConfigError::general(format!(
                "`{}`: wildcards are only supported in the last path component",
                path.display()
            )));
        }
        let dir = if parent.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            parent.to_path_buf()
        };
        (dir, name.to_string())
    };
    let entries = fs::read_dir(&dir).map_err(|e| {
        ConfigError::general(format!("cannot read directory `{}`: {e}", dir.display()))
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| {
            ConfigError::general(format!("cannot read directory `{}`: {e}", dir.display()))
        })?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        if name.ends_with('~') || !glob_matches(&pattern, name) {
            continue;
        }
        let file = entry.path();
        // `is_file` follows symbolic links, as reading does.
        if file.is_file() {
            files.push(file);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(ConfigError::general(format!(
            "no configuration found in `{}`: no files match",
            path.display()
        )));
    }
    Ok(files)
}

fn not_found(path: &Path) -> ConfigError {
    ConfigError::general(format!(
        "no configuration found in `{}`: no such file or directory",
        path.display()
    ))
}

/// `*` (any run of characters) and `?` (one character) against a file name. A leading dot
/// must be matched literally, as in shells and Ruby's `Dir.glob`.
fn glob_matches(pattern: &str, name: &str) -> bool {
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    // Greedy matching that, on a mismatch, retries from the last `*` one character further:
    // O(len(pattern) × len(name)) at worst, for names that are short.
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == '?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((star_p, star_n)) => {
                    p = star_p + 1;
                    n = star_n + 1;
                    star = Some((star_p, star_n + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ast::SectionKind;

    fn write(dir: &Path, name: &str, text: &str) {
        fs::write(dir.join(name), text).unwrap();
    }

    fn kinds(config: &Config) -> Vec<SectionKind> {
        config.sections.iter().map(|s| s.kind).collect()
    }

    #[test]
    fn globs() {
        assert!(glob_matches("*.conf", "10-beats.conf"));
        assert!(glob_matches("*", "a"));
        assert!(glob_matches("a?c*", "abc"));
        assert!(glob_matches("*a*b*", "xxaybzb"));
        assert!(!glob_matches("*.conf", "beats.conf.bak"));
        assert!(!glob_matches("*.conf", ".hidden.conf"));
        assert!(glob_matches(".*.conf", ".hidden.conf"));
        assert!(!glob_matches("a?", "a"));
    }

    #[test]
    fn a_directory_is_every_file_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "20-output.conf", "output { stdout {} }");
        write(dir.path(), "10-input.conf", "input { stdin {} }");
        write(dir.path(), "15-filter.txt", "filter { }");
        write(
            dir.path(),
            "10-input.conf~",
            "this is a backup and would not parse",
        );
        write(dir.path(), ".hidden", "neither would this");
        fs::create_dir(dir.path().join("sub")).unwrap();
        let (sources, config) = load(dir.path(), false).unwrap();
        assert_eq!(
            kinds(&config),
            [SectionKind::Input, SectionKind::Filter, SectionKind::Output]
        );
        assert_eq!(sources.files().count(), 3);
        // Each section's span points into its own file.
        let file = config.sections[2].span.file;
        assert!(sources.path(file).ends_with("20-output.conf"));
    }

    #[test]
    fn a_glob_in_the_last_component() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "b.conf", "output { stdout {} }");
        write(dir.path(), "a.conf", "input { stdin {} }");
        write(dir.path(), "c.yml", "not: a pipeline");
        let (_, config) = load(&dir.path().join("*.conf"), false).unwrap();
        assert_eq!(kinds(&config), [SectionKind::Input, SectionKind::Output]);
        let (_, config) = load(&dir.path().join("b.conf"), false).unwrap();
        assert_eq!(kinds(&config), [SectionKind::Output]);
    }

    #[test]
    fn errors_render_with_the_file_they_are_in() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.conf", "input { stdin {} }\n");
        write(
            dir.path(),
            "b.conf",
            "filter {\n  mutate { add_tag => [\"x\" }\n}\n",
        );
        let (sources, error) = load(dir.path(), false).unwrap_err();
        let rendered = error.render(&sources);
        let expected_tail = "b.conf:2:28: expected `,` or `]` in an array, found `}`\n  |\n2 |   mutate { add_tag => [\"x\" }\n  |                            ^";
        assert!(rendered.ends_with(expected_tail), "{rendered}");
    }

    #[test]
    fn nothing_to_load_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (_, error) = load(&dir.path().join("*.conf"), false).unwrap_err();
        assert!(
            error.message.ends_with("*.conf`: no files match"),
            "{}",
            error.message
        );
        let (_, error) = load(&dir.path().join("missing.conf"), false).unwrap_err();
        assert!(
            error.message.ends_with("no such file or directory"),
            "{}",
            error.message
        );
        write(dir.path(), "empty.conf", "# nothing here yet\n");
        let (_, error) = load(dir.path(), false).unwrap_err();
        assert!(
            error.message.starts_with("no configuration found in `"),
            "{}",
            error.message
        );
        let (sources, error) = load_str("config string", "  \n", false).unwrap_err();
        assert_eq!(
            error.render(&sources),
            "no configuration found in `config string`: expected at least one `input`, `filter` or `output` section"
        );
    }

    #[test]
    fn non_utf8_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("latin1.conf"),
            b"input { stdin { tags => [\"caf\xe9\"] } }",
        )
        .unwrap();
        let (_, error) = load(dir.path(), false).unwrap_err();
        assert!(
            error.message.ends_with("latin1.conf` is not UTF-8 text"),
            "{}",
            error.message
        );
    }

    #[test]
    fn strings_are_substituted_from_the_environment() {
        let path = std::env::var("PATH").expect("PATH is set in test environments");
        let text = "output { file { path => \"${PATH}\" codec => \"${SLUICE_SURELY_UNSET_VARIABLE:plain}\" } }";
        let (_, config) = load_str("-e", text, false).unwrap();
        let crate::config::ast::Statement::Plugin(plugin) = &config.sections[0].body[0] else {
            panic!()
        };
        use crate::config::ast::ConfigValue;
        assert_eq!(plugin.settings[0].value.node, ConfigValue::String(path));
        assert_eq!(
            plugin.settings[1].value.node,
            ConfigValue::String("plain".into())
        );
        let (sources, error) = load_str(
            "-e",
            "output { file { path => \"${SLUICE_SURELY_UNSET_VARIABLE}\" } }",
            false,
        )
        .unwrap_err();
        assert!(error
            .render(&sources)
            .starts_with("-e:1:25: cannot evaluate"));
    }
}
