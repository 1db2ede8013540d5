//! The examples of logstash-patterns-core's spec suite (`spec/patterns/*_spec.rb`), ported
//! as data to `fixtures/grok/spec/*.json`, and our own in the same format in
//! `fixtures/grok/examples/*.json` for the pattern files and modes upstream's leave without
//! expected fields (their values are checked against Oniguruma by `grok_differential.rs`):
//! messages with the fields Logstash is expected to produce in legacy and in ECS mode, or
//! (`matches`) only whether the pattern matches. Each case runs through the whole grok filter
//! (`%{PATTERN}` on `message`, `^%{PATTERN}$` when `exact`) and every expected field must be in
//! the event with that value; like rspec's `include`, fields not listed are not checked.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value as Json;
use sluice::event::{json, Event, Text};
use sluice::filters::grok::{EcsCompatibility, Grok, GrokConfig, GrokOutcome, PatternLibrary};

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

/// The cases of every file in `fixtures/grok/<dir>`, with the file's name, in file order.
fn cases_in(dir: &str) -> Vec<(String, Json)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/grok")
        .join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let Json::Array(list) = serde_json::from_str(&text).unwrap() else {
            panic!("{}: not a list", file.display());
        };
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        cases.extend(list.into_iter().map(|case| (name.clone(), case)));
    }
    cases
}

#[test]
fn spec_and_our_examples_give_the_expected_fields() {
    let spec = cases_in("spec");
    let spec_files: std::collections::BTreeSet<_> = spec.iter().map(|(f, _)| f).collect();
    assert!(spec_files.len() >= 21, "a file of cases per spec file");
    let mut filters: HashMap<(String, String), Grok> = HashMap::new();
    let (mut cases, mut failures) = (0, Vec::new());
    for (file, case) in spec.iter().chain(&cases_in("examples")) {
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
                "{file} {source} ({mode}) \"{}\" on {message:?}\n   expected {}\n   got {actual}",
                case["it"].as_str().unwrap_or(""),
                case.get("expect").unwrap_or(&case["matches"])
            ));
        }
    }
    assert!(cases > 530, "{cases} cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every pattern file of both built-in sets, and the extras, has examples with expected fields
/// in both modes: some case's pattern is defined in that file.
#[test]
fn every_pattern_file_has_examples_with_fields_in_both_modes() {
    let cases: Vec<_> = cases_in("spec")
        .into_iter()
        .chain(cases_in("examples"))
        .map(|(_, case)| case)
        .filter(|case| case.get("expect").is_some())
        .collect();
    let mut missing = Vec::new();
    for (mode, ecs) in [
        ("legacy", EcsCompatibility::Disabled),
        ("ecs-v1", EcsCompatibility::V1),
    ] {
        let files = PatternLibrary::builtin_files(ecs)
            .iter()
            .chain(PatternLibrary::extra_files());
        for (file, text) in files {
            let mut defined = PatternLibrary::empty();
            defined.add_file_text(text);
            let covered = cases.iter().any(|case| {
                let pattern = case["pattern"].as_str().unwrap();
                let name = pattern.split(':').next().unwrap();
                case["mode"] == mode && defined.get(name).is_some()
            });
            if !covered {
                missing.push(format!("{file} ({mode})"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "no examples with fields for {missing:?}"
    );
}
