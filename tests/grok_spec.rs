//! The examples of logstash-patterns-core's spec suite (`spec/patterns/*_spec.rb`), ported
//! as data to `fixtures/grok/spec/*.json`: for each pattern file, messages with the fields
//! Logstash is expected to produce in legacy and in ECS mode, or (`matches`) only whether
//! the pattern matches. Each case runs through the whole grok filter (`%{PATTERN}` on
//! `message`, `^%{PATTERN}$` when `exact`) and every expected field must be in the event
//! with that value; like rspec's `include`, fields not listed are not checked.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value as Json;
use sluice::event::{json, Event, Text};
use sluice::filters::grok::{EcsCompatibility, Grok, GrokConfig, GrokOutcome};

/// Whether `actual` holds everything in `expected` (objects as subsets, recursively).
fn includes(actual: &Json, expected: &Json) -> bool {
    match (actual, expected) {
        (Json::Object(actual), Json::Object(expected)) => expected
            .iter()
            .all(|(k, v)| actual.get(k).is_some_and(|a| includes(a, v))),
        (Json::Number(a), Json::Number(b)) => a.as_f64() == b.as_f64(),
        _ => actual == expected,
    }
}

#[test]
fn upstream_spec_examples_give_the_expected_fields() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/grok/spec");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 21, "a file of cases per spec file");
    let mut filters: HashMap<(String, String), Grok> = HashMap::new();
    let (mut cases, mut failures) = (0, Vec::new());
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let Json::Array(list) = serde_json::from_str(&text).unwrap() else {
            panic!("{}: not a list", file.display());
        };
        for case in list {
            let pattern = case["pattern"].as_str().unwrap().to_owned();
            let mode = case["mode"].as_str().unwrap().to_owned();
            let message = case["message"].as_str().unwrap();
            let source = if case["exact"] == Json::Bool(true) {
                format!("^%{{{pattern}}}$")
            } else {
                format!("%{{{pattern}}}")
            };
            let grok = filters
                .entry((source.clone(), mode.clone()))
                .or_insert_with(|| {
                    let mut config = GrokConfig::matching("message", &[&source]);
                    config.ecs_compatibility = match mode.as_str() {
                        "legacy" => EcsCompatibility::Disabled,
                        _ => EcsCompatibility::V1,
                    };
                    Grok::new(config).unwrap()
                });
            cases += 1;
            let mut event = Event::from_message(Text::from(message));
            let outcome = grok.filter(&mut event);
            let mut out = Vec::new();
            json::encode_event(&event, &mut out);
            let actual: Json = serde_json::from_slice(&out).unwrap();
            let as_expected = match case["matches"].as_bool() {
                Some(matches) => (outcome == GrokOutcome::Matched) == matches,
                None => outcome == GrokOutcome::Matched && includes(&actual, &case["expect"]),
            };
            if !as_expected {
                failures.push(format!(
                    "{} {source} ({mode}) \"{}\" on {message:?}\n   expected {}\n   got {actual}",
                    file.file_name().unwrap().to_string_lossy(),
                    case["it"].as_str().unwrap_or(""),
                    case.get("expect").unwrap_or(&case["matches"])
                ));
            }
        }
    }
    assert!(cases > 470, "{cases} cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
