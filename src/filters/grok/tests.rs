//! Tests of the filter's semantics: which patterns run and how captures become fields.

use super::*;
use crate::event::Object;

fn event(message: &str) -> Event {
    Event::from_message(Text::from(message))
}

fn field<'e>(event: &'e Event, name: &str) -> Option<&'e Value> {
    event.get(&FieldRef::parse(name).unwrap())
}

fn grok(config: GrokConfig) -> Grok {
    Grok::new(config).unwrap()
}

#[test]
fn every_library_pattern_compiles_in_both_modes() {
    for mode in [EcsCompatibility::Disabled, EcsCompatibility::V1] {
        let library = PatternLibrary::builtin(mode);
        let mut names: Vec<&str> = library.names().collect();
        names.sort();
        for name in names {
            let pattern = format!("%{{{name}}}");
            if let Err(e) = Grok::with_library(
                GrokConfig::matching("message", &[&pattern]),
                library.clone(),
            ) {
                panic!("{mode:?} {name}: {e}");
            }
        }
    }
}

#[test]
fn seed_pattern_captures_zero_copy() {
    let g = grok(GrokConfig::matching(
        "message",
        &["%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} %{DATA:logger} %{GREEDYDATA:msg}"],
    ));
    let mut e = event("2026-11-24T16:25:56Z INFO app.Main started in 3 s\nsecond line");
    assert_eq!(g.filter(&mut e), GrokOutcome::Matched);
    assert_eq!(field(&e, "level"), Some(&"INFO".into()));
    assert_eq!(field(&e, "logger"), Some(&"app.Main".into()));
    assert_eq!(
        field(&e, "msg"),
        Some(&"started in 3 s\nsecond line".into()),
        "GREEDYDATA runs across lines, as with Ruby's MULTILINE"
    );
    let message = field(&e, "message").unwrap().as_text().unwrap().clone();
    let level = field(&e, "level").unwrap().as_text().unwrap();
    assert_eq!(
        level.as_bytes().as_ptr(),
        message.as_bytes()[21..].as_ptr(),
        "captures share the message's buffer"
    );
}

#[test]
fn failure_adds_the_tags_once() {
    let mut config = GrokConfig::matching("message", &["%{INT:n}"]);
    config.tag_on_failure = vec!["_grokparsefailure".into(), "x".into()];
    let g = grok(config);
    let mut e = event("no digits");
    assert_eq!(g.filter(&mut e), GrokOutcome::Failed);
    assert_eq!(g.filter(&mut e), GrokOutcome::Failed);
    assert_eq!(
        field(&e, "tags"),
        Some(&Value::Array(vec!["_grokparsefailure".into(), "x".into()]))
    );
}

#[test]
fn types_follow_ruby_conversions() {
    let g = grok(GrokConfig::matching(
        "message",
        &["%{NOTSPACE:a:int} %{NOTSPACE:b:float} %{NOTSPACE:c:long}"],
    ));
    let mut e = event("12abc 1.5e1x 7");
    g.filter(&mut e);
    assert_eq!(field(&e, "a"), Some(&Value::Integer(12)));
    assert_eq!(field(&e, "b"), Some(&Value::Float(15.0)));
    assert_eq!(
        field(&e, "c"),
        Some(&"7".into()),
        "unknown types keep the string"
    );
}

#[test]
fn nested_semantics_and_target() {
    let mut config = GrokConfig::matching("message", &["%{WORD:[log][level]} (?<[a][b]>\\d+)"]);
    config.target = Some("[parsed]".into());
    let g = grok(config);
    let mut e = event("warn 42");
    g.filter(&mut e);
    assert_eq!(field(&e, "[parsed][log][level]"), Some(&"warn".into()));
    assert_eq!(field(&e, "[parsed][a][b]"), Some(&"42".into()));
}

#[test]
fn existing_fields_become_arrays_unless_overwritten() {
    let g = grok(GrokConfig::matching(
        "message",
        &["%{WORD:message} %{WORD:w} %{WORD:w}"],
    ));
    let mut e = event("a b c");
    g.filter(&mut e);
    assert_eq!(
        field(&e, "message"),
        Some(&Value::Array(vec!["a b c".into(), "a".into()]))
    );
    assert_eq!(
        field(&e, "w"),
        Some(&Value::Array(vec!["b".into(), "c".into()]))
    );

    let mut config = GrokConfig::matching("message", &["%{WORD:message} %{GREEDYDATA}"]);
    config.overwrite = vec!["message".into()];
    let mut e = event("a b c");
    grok(config).filter(&mut e);
    assert_eq!(field(&e, "message"), Some(&"a".into()));

    // A number already in place keeps its value: Logstash drops the capture.
    let g = grok(GrokConfig::matching(
        "message",
        &["%{INT:n:int} %{INT:n:int}"],
    ));
    let mut e = event("1 2");
    g.filter(&mut e);
    assert_eq!(field(&e, "n"), Some(&Value::Integer(1)));
}

#[test]
fn empty_captures_are_dropped_unless_kept() {
    let pattern = "a(?<x>b?)(?<y>c)?";
    let g = grok(GrokConfig::matching("message", &[pattern]));
    let mut e = event("a");
    assert_eq!(g.filter(&mut e), GrokOutcome::Matched);
    assert_eq!(field(&e, "x"), None);
    let mut config = GrokConfig::matching("message", &[pattern]);
    config.keep_empty_captures = true;
    let mut e = event("a");
    grok(config).filter(&mut e);
    assert_eq!(field(&e, "x"), Some(&Value::String(Text::default())));
    assert_eq!(field(&e, "y"), Some(&Value::Null));
}

#[test]
fn named_captures_only_off_captures_bare_references() {
    let mut config = GrokConfig::matching("message", &["%{INT} (\\w+)"]);
    config.named_captures_only = false;
    let mut e = event("5 x");
    grok(config).filter(&mut e);
    assert_eq!(field(&e, "INT"), Some(&"5".into()));
    let keys: Vec<&str> = e.fields().keys().map(|k| k.as_str()).collect();
    assert_eq!(
        keys,
        ["message", "@timestamp", "@version", "INT"],
        "plain groups never capture"
    );
}

#[test]
fn break_on_match_picks_the_first_pattern_in_list_order() {
    let patterns = ["%{WORD:first} end", "%{INT:second}", "(?<third>\\d)"];
    let g = grok(GrokConfig::matching("message", &patterns));
    let mut e = event("12 fin");
    g.filter(&mut e);
    assert_eq!(field(&e, "first"), None, "{e:?}");
    assert_eq!(field(&e, "second"), Some(&"12".into()));
    assert_eq!(field(&e, "third"), None);

    let mut config = GrokConfig::matching("message", &patterns);
    config.break_on_match = false;
    let mut e = event("12 fin");
    grok(config).filter(&mut e);
    assert_eq!(field(&e, "first"), None);
    assert_eq!(field(&e, "second"), Some(&"12".into()));
    assert_eq!(field(&e, "third"), Some(&"1".into()));
}

#[test]
fn several_fields_and_array_values() {
    let config = GrokConfig {
        matches: vec![
            ("a".into(), vec!["%{INT:n}".into()]),
            ("b".into(), vec!["%{WORD:w}".into()]),
        ],
        break_on_match: false,
        ..GrokConfig::default()
    };
    let mut fields = Object::new();
    fields.insert(
        "a".into(),
        Value::Array(vec!["1".into(), "x".into(), 2.into()]),
    );
    fields.insert("b".into(), "word".into());
    let mut e = Event::new(fields);
    assert_eq!(grok(config).filter(&mut e), GrokOutcome::Matched);
    assert_eq!(
        field(&e, "n"),
        Some(&Value::Array(vec!["1".into(), "2".into()]))
    );
    assert_eq!(field(&e, "w"), Some(&"word".into()));
}

#[test]
fn definitions_and_directories_extend_the_library() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mine"), "MYNUM \\d{3}\n").unwrap();
    let config = GrokConfig {
        pattern_definitions: vec![("ID".into(), "[a-z]+-%{MYNUM}".into())],
        patterns_dir: vec![dir.path().to_path_buf()],
        ..GrokConfig::matching("message", &["%{ID:id}"])
    };
    let mut e = event("id abc-123");
    grok(config).filter(&mut e);
    assert_eq!(field(&e, "id"), Some(&"abc-123".into()));
}

#[test]
fn ecs_modes_change_field_names() {
    let line = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326 "-" "Mozilla""#;
    let mut legacy = GrokConfig::matching("message", &["%{HTTPD_COMBINEDLOG}"]);
    legacy.ecs_compatibility = EcsCompatibility::Disabled;
    let mut e = event(line);
    grok(legacy).filter(&mut e);
    assert_eq!(field(&e, "clientip"), Some(&"127.0.0.1".into()));
    assert_eq!(field(&e, "response"), Some(&"200".into()));
    assert_eq!(field(&e, "referrer"), Some(&"\"-\"".into()));

    let mut e = event(line);
    grok(GrokConfig::matching("message", &["%{HTTPD_COMBINEDLOG}"])).filter(&mut e);
    assert_eq!(field(&e, "[source][address]"), Some(&"127.0.0.1".into()));
    assert_eq!(
        field(&e, "[http][response][status_code]"),
        Some(&Value::Integer(200))
    );
    assert_eq!(
        field(&e, "[http][response][body][bytes]"),
        Some(&Value::Integer(2326))
    );
    assert_eq!(field(&e, "[http][request][referrer]"), None);
    assert_eq!(field(&e, "[user_agent][original]"), Some(&"Mozilla".into()));
}

#[test]
fn compile_errors_are_specific() {
    let err = Grok::new(GrokConfig::matching("message", &["%{IPORHOTS:ip}"]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`%{IPORHOTS}`") && err.contains("did you mean `%{IPORHOST}`"),
        "{err}"
    );
    let err = Grok::new(GrokConfig::matching("message", &["(?<a>x)\\k<a>"]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("\\k"), "{err}");
}

#[test]
fn nginx_extra_is_built_in() {
    let line = r#"93.180.71.3 - - [17/May/2015:08:05:32 +0000] "GET /downloads/product_1 HTTP/1.1" 304 0 "-" "Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.21)""#;
    let mut e = event(line);
    grok(GrokConfig::matching("message", &["%{NGINXACCESS}"])).filter(&mut e);
    assert_eq!(field(&e, "clientip"), Some(&"93.180.71.3".into()));
    assert_eq!(field(&e, "request"), Some(&"/downloads/product_1".into()));
    assert_eq!(field(&e, "bytes"), Some(&"0".into()));
    assert_eq!(
        field(&e, "agent"),
        Some(&"\"Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.21)\"".into())
    );
}

#[test]
fn pathological_inputs_finish() {
    // logstash-filter-grok#69: UNIXPATH on a long path with `++` hung Oniguruma.
    let path = format!("/{}", "a++/".repeat(2000)) + "\u{0}";
    let g = grok(GrokConfig::matching("message", &["^%{UNIXPATH:p}$"]));
    assert_eq!(g.filter(&mut event(&path)), GrokOutcome::Failed);
    // DATA chains that fail at the very end: exponential for a backtracker.
    let g = grok(GrokConfig::matching(
        "message",
        &["%{DATA:a} %{DATA:b} %{DATA:c} %{DATA:d} %{DATA:e} %{DATA:f}x$"],
    ));
    assert_eq!(
        g.filter(&mut event(&"w ".repeat(5000))),
        GrokOutcome::Failed
    );
    // Nested quantifiers, the textbook case.
    let g = grok(GrokConfig::matching("message", &["^(?<x>(a+)+)$"]));
    assert_eq!(
        g.filter(&mut event(&format!("{}b", "a".repeat(10_000)))),
        GrokOutcome::Failed
    );
}
