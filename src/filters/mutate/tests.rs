use super::*;
use crate::event::Object;

fn mutate(config: &str) -> Mutate {
    crate::filters::tests::compile_with("mutate", config, compile).unwrap()
}

fn event(json: &str) -> Event {
    let Value::Object(fields) =
        crate::event::json::decode_value(&bytes::Bytes::copy_from_slice(json.as_bytes())).unwrap()
    else {
        panic!("not an object: {json}");
    };
    Event::new(fields)
}

fn get(event: &Event, field: &str) -> Option<Value> {
    event.get(&FieldRef::parse(field).unwrap()).cloned()
}

fn run(config: &str, json: &str) -> Event {
    let mut e = event(json);
    assert_eq!(mutate(config).filter(&mut e), Outcome::Matched, "{config}");
    e
}

#[test]
fn operations_run_in_logstash_order_whatever_the_config_order() {
    // copy runs last, so it sees the uppercased, split value; rename runs before update.
    let e = run(
        r#"copy => { "b" => "c" } split => { "b" => "," } uppercase => ["b"]
           update => { "b" => "x,%{n}" } rename => { "a" => "b" } coerce => { "n" => "y" }"#,
        r#"{"a": "old", "n": null}"#,
    );
    let expected = Value::Array(vec!["X".into(), "Y".into()]);
    assert_eq!(get(&e, "b"), Some(expected.clone()));
    assert_eq!(get(&e, "c"), Some(expected));
    assert_eq!(get(&e, "a"), None);
    // convert runs before gsub and join before merge.
    let e = run(
        r#"merge => { "m" => "j" } join => { "j" => "-" } gsub => ["s", "0", "o"] convert => { "s" => "string" }"#,
        r#"{"s": 100, "j": ["a", "b"], "m": "z"}"#,
    );
    assert_eq!(get(&e, "s"), Some("1oo".into()));
    assert_eq!(
        get(&e, "m"),
        Some(Value::Array(vec!["z".into(), "a-b".into()]))
    );
}

#[test]
fn coerce_only_sets_nulls() {
    let e = run(
        r#"coerce => { "a" => "default" "b" => "default" "c" => "default" }"#,
        r#"{"a": null, "b": "kept"}"#,
    );
    assert_eq!(get(&e, "a"), Some("default".into()));
    assert_eq!(get(&e, "b"), Some("kept".into()));
    assert_eq!(get(&e, "c"), None);
}

#[test]
fn rename_update_replace() {
    let e = run(
        r#"rename => { "[a][b]" => "%{kind}_x" "missing" => "y" }
           update => { "kind" => "%{kind}!" "absent" => "z" }
           replace => { "new" => "%{kind}" }"#,
        r#"{"a": {"b": 1}, "kind": "k"}"#,
    );
    assert_eq!(get(&e, "k_x"), Some(Value::Integer(1)));
    assert_eq!(get(&e, "[a][b]"), None);
    assert_eq!(get(&e, "y"), None);
    assert_eq!(get(&e, "kind"), Some("k!".into()));
    assert_eq!(get(&e, "absent"), None);
    assert_eq!(get(&e, "new"), Some("k!".into()));
}

#[test]
fn convert_values_and_arrays() {
    let e = run(
        r#"convert => { "i" => "integer" "f" => "float_eu" "b" => "boolean" "a" => "integer" "o" => "string" "n" => "integer" }"#,
        r#"{"i": "1,024", "f": "3,5", "b": "yes", "a": ["1", null, 2.5], "o": {"x": 1}, "n": null}"#,
    );
    assert_eq!(get(&e, "i"), Some(Value::Integer(1024)));
    assert_eq!(get(&e, "f"), Some(Value::Float(3.5)));
    assert_eq!(get(&e, "b"), Some(Value::Boolean(true)));
    assert_eq!(
        get(&e, "a"),
        Some(Value::Array(vec![
            Value::Integer(1),
            Value::Null,
            Value::Integer(2)
        ]))
    );
    assert!(matches!(get(&e, "o"), Some(Value::Object(_))));
    assert_eq!(get(&e, "n"), Some(Value::Null));
}

#[test]
fn a_failed_conversion_stops_and_tags() {
    let filter = mutate(r#"convert => { "f" => "float" } uppercase => ["u"] add_tag => ["ok"]"#);
    let mut e = event(r#"{"f": "abc", "u": "low"}"#);
    assert_eq!(filter.filter(&mut e), Outcome::Failed);
    assert!(e.has_tag("_mutate_error"));
    assert_eq!(get(&e, "u"), Some("low".into()));
    let filter = mutate(r#"convert => { "f" => "float" } tag_on_failure => "bad""#);
    let mut e = event(r#"{"f": "abc"}"#);
    assert_eq!(filter.filter(&mut e), Outcome::Failed);
    assert!(e.has_tag("bad"));
}

#[test]
fn gsub_strings_and_arrays() {
    let e = run(
        r#"gsub => ["s", "(\d+)-(\d+)", "\2:\1", "a", "x", "y", "n", "1", "2"]"#,
        r#"{"s": "10-20 and 3-4", "a": ["xx", 5, "z"], "n": 1}"#,
    );
    assert_eq!(get(&e, "s"), Some("20:10 and 4:3".into()));
    assert_eq!(
        get(&e, "a"),
        Some(Value::Array(vec![
            "yy".into(),
            Value::Integer(5),
            "z".into()
        ]))
    );
    assert_eq!(get(&e, "n"), Some(Value::Integer(1)));
}

#[test]
fn case_and_strip() {
    let e = run(
        r#"uppercase => ["u"] lowercase => ["l"] capitalize => ["c"] strip => ["s"]"#,
        r#"{"u": ["ab", 1], "l": "ÀB", "c": "hELLO wORLD", "s": ["\t a \u0000", "\u00a0b"]}"#,
    );
    assert_eq!(
        get(&e, "u"),
        Some(Value::Array(vec!["AB".into(), Value::Integer(1)]))
    );
    assert_eq!(get(&e, "l"), Some("àb".into()));
    assert_eq!(get(&e, "c"), Some("Hello world".into()));
    assert_eq!(
        get(&e, "s"),
        Some(Value::Array(vec!["a".into(), "\u{a0}b".into()]))
    );
}

#[test]
fn split_like_ruby() {
    let e = run(
        r#"split => { "c" => "," "w" => " " "e" => "" "n" => "," }"#,
        r#"{"c": "a,,b,,", "w": "  a  b ", "e": "hé", "n": 5}"#,
    );
    let strings = |items: &[&str]| Some(Value::Array(items.iter().map(|&s| s.into()).collect()));
    assert_eq!(get(&e, "c"), strings(&["a", "", "b"]));
    assert_eq!(get(&e, "w"), strings(&["a", "b"]));
    assert_eq!(get(&e, "e"), strings(&["h", "é"]));
    assert_eq!(get(&e, "n"), Some(Value::Integer(5)));
}

#[test]
fn join_flattens_and_skips_non_arrays() {
    let e = run(
        r#"join => { "a" => ", " "s" => "," }"#,
        r#"{"a": ["x", [1, 2.5], null, true], "s": "kept"}"#,
    );
    assert_eq!(get(&e, "a"), Some("x, 1, 2.5, , true".into()));
    assert_eq!(get(&e, "s"), Some("kept".into()));
}

#[test]
fn merge_arrays_scalars_and_objects() {
    let e = run(
        r#"merge => { "arr" => "s" "s2" => "arr2" "o" => "o2" "bad" => "arr" "new" => ["s", "arr2"] }"#,
        r#"{"arr": [1], "s": "x", "s2": "y", "arr2": [2, 3], "o": {"a": 1, "b": 1}, "o2": {"b": 2}, "bad": {"k": 1}}"#,
    );
    assert_eq!(
        get(&e, "arr"),
        Some(Value::Array(vec![Value::Integer(1), "x".into()]))
    );
    assert_eq!(
        get(&e, "s2"),
        Some(Value::Array(vec![
            "y".into(),
            Value::Integer(2),
            Value::Integer(3)
        ]))
    );
    assert_eq!(get(&e, "[o][a]"), Some(Value::Integer(1)));
    assert_eq!(get(&e, "[o][b]"), Some(Value::Integer(2)));
    assert!(matches!(get(&e, "bad"), Some(Value::Object(_))));
    assert_eq!(
        get(&e, "new"),
        Some(Value::Array(vec![
            "x".into(),
            Value::Integer(2),
            Value::Integer(3)
        ]))
    );
}

#[test]
fn copy_is_deep_and_skips_nulls() {
    let e = run(
        r#"copy => { "o" => "c" "n" => "d" }"#,
        r#"{"o": {"a": [1]}, "n": null}"#,
    );
    assert_eq!(
        get(&e, "[c][a]"),
        Some(Value::Array(vec![Value::Integer(1)]))
    );
    assert_eq!(get(&e, "d"), None);
}

#[test]
fn bad_settings_are_refused() {
    let error = |config: &str| {
        crate::filters::tests::compile_with("mutate", config, compile)
            .err()
            .unwrap()
    };
    assert!(error(r#"convert => { "a" => "integr" }"#).contains("integer"));
    assert!(error(r#"gsub => ["a", "b"]"#).contains("multiple of three"));
    assert!(error(r#"gsub => ["a", "(", "b"]"#).contains("invalid regular expression"));
    assert!(error(r#"gsbu => ["a", "b", "c"]"#).contains("gsub"));
}

#[test]
fn object_fields_are_untouched_by_string_operations() {
    let mut fields = Object::new();
    fields.insert(Text::from("o"), Value::Object(Object::new()));
    let mut e = Event::new(fields);
    let filter = mutate(r#"uppercase => ["o"] strip => ["o"] split => { "o" => "," }"#);
    assert_eq!(filter.filter(&mut e), Outcome::Matched);
    assert_eq!(get(&e, "o"), Some(Value::Object(Object::new())));
}
