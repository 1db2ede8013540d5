//! Conditional semantics, checked against what Logstash does: typed equality, missing
//! fields, ordering across types, regex matches, `in` on lists, strings and objects, and
//! truthiness.

use bytes::Bytes;
use sluice::config::ast::Statement;
use sluice::config::{compile, load};
use sluice::event::{json, Event};
use sluice::pipeline::condition::Condition;

fn condition(text: &str) -> Condition {
    let config = format!("filter {{\n  if {text} {{ }}\n}}\n");
    let (_, parsed) = load::load_str("test.conf", &config, false)
        .unwrap_or_else(|(s, e)| panic!("{}", e.render(&s)));
    let Statement::If(chain) = &parsed.sections[0].body[0] else {
        panic!("expected an if");
    };
    compile::condition(&chain.branches[0].condition).unwrap_or_else(|e| panic!("{e:?}"))
}

fn event(json_text: &str) -> Event {
    let fields = json::decode_object(&Bytes::copy_from_slice(json_text.as_bytes())).unwrap();
    Event::new(fields)
}

/// Asserts `text` holds exactly for the listed documents.
fn check(text: &str, cases: &[(&str, bool)]) {
    let c = condition(text);
    for (doc, expected) in cases {
        assert_eq!(c.eval(&event(doc)), *expected, "`{text}` on {doc}");
    }
}

#[test]
fn equality_is_typed_and_missing_fields_equal_nothing() {
    check(
        r#"[status] == 200"#,
        &[
            (r#"{"status":200}"#, true),
            (r#"{"status":"200"}"#, false),
            (r#"{"status":200.0}"#, true),
            ("{}", false),
        ],
    );
    check(
        r#"[status] != 200"#,
        &[
            (r#"{"status":200}"#, false),
            ("{}", true),
            (r#"{"status":"200"}"#, true),
        ],
    );
    check(
        r#"[level] == "ERROR""#,
        &[
            (r#"{"level":"ERROR"}"#, true),
            (r#"{"level":"error"}"#, false),
            ("{}", false),
        ],
    );
    check(
        r#"[fields][service] == "nginx""#,
        &[
            (r#"{"fields":{"service":"nginx"}}"#, true),
            (r#"{"service":"nginx"}"#, false),
        ],
    );
    check(
        r#"[a] == [b]"#,
        &[
            (r#"{"a":1,"b":1}"#, true),
            (r#"{"a":1,"b":"1"}"#, false),
            ("{}", false),
        ],
    );
}

#[test]
fn ordering_compares_like_with_like_only() {
    check(
        "[n] < 10",
        &[
            (r#"{"n":5}"#, true),
            (r#"{"n":10}"#, false),
            (r#"{"n":9.5}"#, true),
            (r#"{"n":"5"}"#, false),
            ("{}", false),
        ],
    );
    check(
        "[n] >= 10",
        &[
            (r#"{"n":10}"#, true),
            (r#"{"n":11}"#, true),
            (r#"{"n":9}"#, false),
            ("{}", false),
        ],
    );
    check(
        r#"[s] > "m""#,
        &[
            (r#"{"s":"z"}"#, true),
            (r#"{"s":"a"}"#, false),
            (r#"{"s":5}"#, false),
        ],
    );
    check(
        r#"[s] <= "b""#,
        &[(r#"{"s":"b"}"#, true), (r#"{"s":"ba"}"#, false)],
    );
}

#[test]
fn regex_matches_strings_only_and_negation_holds_for_missing_fields() {
    check(
        r#"[message] =~ /err(or)?/"#,
        &[
            (r#"{"message":"an error"}"#, true),
            (r#"{"message":"fine"}"#, false),
            (r#"{"message":5}"#, false),
            ("{}", false),
        ],
    );
    check(
        r#"[message] !~ /error/"#,
        &[(r#"{"message":"an error"}"#, false), ("{}", true)],
    );
    check(
        r#"[path] =~ "^/api/""#,
        &[
            (r#"{"path":"/api/x"}"#, true),
            (r#"{"path":"/x/api/"}"#, false),
        ],
    );
    check(r#"[path] =~ /a\/b/"#, &[(r#"{"path":"xa/by"}"#, true)]);
}

#[test]
fn in_searches_lists_and_strings_but_not_objects() {
    check(
        r#""error" in [tags]"#,
        &[
            (r#"{"tags":["x","error"]}"#, true),
            (r#"{"tags":["errors"]}"#, false),
            (r#"{"tags":"an error here"}"#, true),
            (r#"{"tags":{"error":1}}"#, false),
            ("{}", false),
        ],
    );
    check(
        r#""error" not in [tags]"#,
        &[(r#"{"tags":["error"]}"#, false), ("{}", true)],
    );
    check(
        "[status] in [200, 404]",
        &[
            (r#"{"status":200}"#, true),
            (r#"{"status":"404"}"#, true),
            (r#"{"status":500}"#, false),
            ("{}", false),
        ],
    );
    check(
        r#"[needle] in [hay]"#,
        &[
            (r#"{"needle":"b","hay":["a","b"]}"#, true),
            (r#"{"needle":"ell","hay":"hello"}"#, true),
            (r#"{"needle":"z","hay":"hello"}"#, false),
        ],
    );
    check(
        r#"[status] not in [200, 404]"#,
        &[(r#"{"status":500}"#, true), (r#"{"status":200}"#, false)],
    );
}

#[test]
fn truthiness_follows_logstash() {
    let cases = [
        ("{}", false),
        (r#"{"f":null}"#, false),
        (r#"{"f":false}"#, false),
        (r#"{"f":""}"#, false),
        (r#"{"f":"false"}"#, false),
        (r#"{"f":true}"#, true),
        (r#"{"f":"0"}"#, true),
        (r#"{"f":0}"#, true),
        (r#"{"f":[]}"#, true),
        (r#"{"f":{}}"#, true),
    ];
    check("[f]", &cases);
    let negated: Vec<(&str, bool)> = cases.iter().map(|(d, b)| (*d, !b)).collect();
    check("![f]", &negated);
}

#[test]
fn boolean_operators_and_grouping() {
    let doc = |a: bool, b: bool| format!(r#"{{"a":{a},"b":{b}}}"#);
    for (a, b) in [(false, false), (false, true), (true, false), (true, true)] {
        let d = doc(a, b);
        assert_eq!(condition("[a] and [b]").eval(&event(&d)), a && b);
        assert_eq!(condition("[a] or [b]").eval(&event(&d)), a || b);
        assert_eq!(condition("[a] xor [b]").eval(&event(&d)), a ^ b);
        assert_eq!(condition("[a] nand [b]").eval(&event(&d)), !(a && b));
        assert_eq!(condition("!([a] or [b])").eval(&event(&d)), !(a || b));
    }
    check(
        r#"[x] == 1 and ([y] == 2 or [z] == 3)"#,
        &[
            (r#"{"x":1,"z":3}"#, true),
            (r#"{"x":1}"#, false),
            (r#"{"y":2}"#, false),
        ],
    );
}

#[test]
fn metadata_is_visible_to_conditions() {
    let c = condition(r#"[@metadata][beat] == "filebeat""#);
    let mut e = event("{}");
    assert!(!c.eval(&e));
    e.insert(
        &sluice::event::FieldRef::parse("[@metadata][beat]").unwrap(),
        "filebeat".into(),
    );
    assert!(c.eval(&e));
}

#[test]
fn literal_only_conditions_are_constants() {
    assert!(matches!(
        condition(r#""a" in ["a", "b"]"#),
        Condition::Constant(true)
    ));
    assert!(matches!(condition(r#"1 == 2"#), Condition::Constant(false)));
}
