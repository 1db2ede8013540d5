//! Every fixture configuration, and the seed configuration the project started from, loads;
//! several are checked for what they mean, not only that they parse.

use std::fs;
use std::path::{Path, PathBuf};

use sluice::config::ast::{
    BoolOp, CompareOp, Condition, Config, ConfigValue, IfChain, Number, Plugin, Rvalue,
    SectionKind, Statement,
};
use sluice::config::grammar::parse;
use sluice::config::load::load;
use sluice::config::source::FileId;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/configs");
const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/seed-configs/logstash.conf"
);

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

fn load_ok(path: &Path) -> Config {
    match load(path, false) {
        Ok((_, config)) => config,
        Err((sources, e)) => panic!("{}", e.render(&sources)),
    }
}

/// The syntax tree before `${VAR}` substitution, so that assertions do not depend on the
/// environment the tests run in.
fn parsed(name: &str) -> Config {
    let text = fs::read_to_string(fixture(name)).unwrap();
    Config {
        sections: parse(&text, FileId(0), false).unwrap(),
    }
}

fn plugin(statement: &Statement) -> &Plugin {
    match statement {
        Statement::Plugin(p) => p,
        other => panic!("expected a plugin, found {other:?}"),
    }
}

fn chain(statement: &Statement) -> &IfChain {
    match statement {
        Statement::If(c) => c,
        other => panic!("expected an if, found {other:?}"),
    }
}

fn setting<'a>(plugin: &'a Plugin, name: &str) -> &'a ConfigValue {
    &plugin
        .settings
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no setting `{name}` in {}", plugin.name))
        .value
        .node
}

fn string(value: &str) -> ConfigValue {
    ConfigValue::String(value.to_string())
}

#[test]
fn every_fixture_and_the_seed_config_load() {
    let mut paths: Vec<PathBuf> = fs::read_dir(FIXTURES)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 20, "only {} fixtures", paths.len());
    assert!(
        Path::new(SEED).is_file(),
        "the seed configuration is missing: expected `{SEED}` (the shared/ directory must sit beside the repository)"
    );
    paths.push(PathBuf::from(SEED));
    for path in paths {
        let config = load_ok(&path);
        assert!(!config.sections.is_empty(), "{}", path.display());
    }
}

#[test]
fn the_whole_fixture_directory_loads_as_one_pipeline() {
    let config = load_ok(Path::new(FIXTURES));
    let inputs = config
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Input)
        .count();
    assert!(inputs >= 15, "{inputs}");
}

#[test]
fn seed_config() {
    let config = load_ok(Path::new(SEED));
    let kinds: Vec<_> = config.sections.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [SectionKind::Input, SectionKind::Filter, SectionKind::Output]
    );
    let beats = plugin(&config.sections[0].body[0]);
    assert_eq!(beats.name, "beats");
    assert_eq!(
        setting(beats, "port"),
        &ConfigValue::Number(Number::Integer(5044))
    );

    let filter = &config.sections[1].body;
    assert_eq!(filter.len(), 2);
    let backend = chain(&filter[0]);
    assert_eq!(
        backend.branches[0].condition_text,
        r#"[fields][service] == "mangakai-backend""#
    );
    let body = &backend.branches[0].body;
    let grok = plugin(&body[0]);
    let ConfigValue::Hash(entries) = setting(grok, "match") else {
        panic!("grok match is not a hash")
    };
    assert_eq!(entries[0].0.node, string("message"));
    assert_eq!(
        entries[0].1.node,
        string(
            "%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} %{DATA:logger} %{GREEDYDATA:message}"
        )
    );
    assert_eq!(plugin(&body[1]).name, "date");
    let nested = chain(&body[2]);
    assert_eq!(nested.branches[0].condition_text, r#"[level] == "ERROR""#);

    let output = &config.sections[2].body;
    let es = plugin(&output[0]);
    assert_eq!(
        setting(es, "index"),
        &string("mangakai-logs-%{+YYYY.MM.dd}")
    );
    let alert = chain(&output[1]);
    match &alert.branches[0].condition {
        Condition::In {
            needle,
            haystack,
            negate: false,
        } => {
            assert_eq!(needle.node, Rvalue::String("error".into()));
            assert_eq!(haystack.node, Rvalue::Field("[tags]".into()));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(plugin(&alert.branches[0].body[0]).name, "email");
    assert_eq!((alert.span.line, alert.span.column), (41, 3));
}

#[test]
fn multiline_codecs_are_plugins_as_values() {
    let config = parsed("05-multiline-codec.conf");
    let file = plugin(&config.sections[0].body[0]);
    let ConfigValue::Plugin(codec) = setting(file, "codec") else {
        panic!("codec is not a plugin")
    };
    assert_eq!(codec.name, "multiline");
    assert_eq!(
        setting(codec, "negate"),
        &ConfigValue::Bareword("true".into())
    );
    assert_eq!(
        setting(codec, "max_lines"),
        &ConfigValue::Number(Number::Integer(500))
    );
    let stdin = plugin(&config.sections[0].body[1]);
    let ConfigValue::Plugin(codec) = setting(stdin, "codec") else {
        panic!()
    };
    // Escapes are off by default: `\s` stays as written.
    assert_eq!(setting(codec, "pattern"), &string(r"^\s"));
    assert_eq!(
        setting(codec, "what"),
        &ConfigValue::Bareword("previous".into())
    );
}

#[test]
fn nested_conditionals_keep_their_shape() {
    let config = parsed("06-nested-conditionals.conf");
    let outer = chain(&config.sections[0].body[0]);
    assert_eq!(outer.branches.len(), 2);
    assert!(outer.otherwise.is_none());
    let level = chain(&outer.branches[0].body[0]);
    assert_eq!(level.branches.len(), 2);
    assert!(level.otherwise.is_some());
    let service = chain(&level.branches[0].body[0]);
    match &service.branches[0].condition {
        Condition::In { haystack, .. } => match &haystack.node {
            Rvalue::Array(items) => assert_eq!(items.len(), 2),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    match &outer.branches[1].condition {
        Condition::Match {
            pattern, negate, ..
        } => {
            assert_eq!(pattern.node, Rvalue::Regex("^staging-".into()));
            assert!(!negate);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn translate_dictionaries_are_hashes_with_string_and_number_keys() {
    let config = parsed("11-translate-hash.conf");
    let first = plugin(&config.sections[0].body[0]);
    let ConfigValue::Hash(entries) = setting(first, "dictionary") else {
        panic!()
    };
    assert_eq!(entries.len(), 4);
    assert_eq!(entries[2].0.node, string("404"));
    assert_eq!(entries[2].1.node, string("Not Found"));
    let second = plugin(&config.sections[0].body[1]);
    let ConfigValue::Hash(entries) = setting(second, "dictionary") else {
        panic!()
    };
    assert_eq!(entries[3].0.node, ConfigValue::Number(Number::Integer(40)));
}

#[test]
fn comments_anywhere() {
    let config = parsed("13-comments-everywhere.conf");
    assert_eq!(config.sections.len(), 3);
    let beats = plugin(&config.sections[0].body[0]);
    assert_eq!(beats.settings.len(), 2);
    let branch = chain(&config.sections[1].body[0]);
    assert_eq!(
        branch.branches[0].condition_text,
        "[a] # inside a condition\n     and [b]"
    );
    assert!(branch.otherwise.is_some());
}

#[test]
fn boolean_precedence() {
    let config = parsed("17-bool-precedence.conf");
    let ops = |i: usize| {
        chain(&config.sections[0].body[i]).branches[0]
            .condition
            .clone()
    };
    let Condition::Bool(BoolOp::Or, left, _) = ops(0) else {
        panic!("{:?}", ops(0))
    };
    assert!(matches!(*left, Condition::Bool(BoolOp::And, _, _)));
    assert!(matches!(ops(1), Condition::Bool(BoolOp::Xor, _, _)));
    let Condition::Bool(BoolOp::Nand, left, _) = ops(2) else {
        panic!()
    };
    assert!(matches!(*left, Condition::Not(_)));
    let Condition::Bool(BoolOp::And, left, right) = ops(3) else {
        panic!()
    };
    assert!(matches!(*left, Condition::Compare(_, CompareOp::Ne, _)));
    let Condition::Bool(BoolOp::Or, le, _) = *right else {
        panic!()
    };
    let Condition::Compare(_, CompareOp::Le, ref rhs) = *le else {
        panic!()
    };
    assert_eq!(rhs.node, Rvalue::Number(Number::Float(10.5)));
}

#[test]
fn env_placeholders_are_parsed_as_written_and_resolved_on_load() {
    let config = parsed("15-env-vars.conf");
    let beats = plugin(&config.sections[0].body[0]);
    assert_eq!(setting(beats, "port"), &string("${BEATS_PORT:5044}"));
    // On load every placeholder is gone, whatever the environment holds.
    let loaded = load_ok(&fixture("15-env-vars.conf"));
    let es = plugin(&loaded.sections[1].body[0]);
    let ConfigValue::String(index) = setting(es, "index") else {
        panic!()
    };
    assert!(!index.contains("${"), "{index}");
    assert!(index.ends_with("-%{+YYYY.MM.dd}"), "{index}");
}

#[test]
fn single_quoted_strings() {
    let config = parsed("14-single-quoted.conf");
    let file = plugin(&config.sections[0].body[0]);
    assert_eq!(setting(file, "path"), &string("/var/log/*.log"));
    let mutate = plugin(&config.sections[1].body[0]);
    let ConfigValue::Array(gsub) = setting(mutate, "gsub") else {
        panic!()
    };
    assert_eq!(gsub[1].node, string(r"it\'s"));
}
