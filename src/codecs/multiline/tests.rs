use std::future::Future;
use std::time::{Duration, Instant};

use super::stitch::{Flush, Rule, RuleSettings, What};
use super::streams::Streams;
use super::MultilineMetrics;
use crate::event::{Event, FieldRef, Object, Text, Value};
use crate::filters::grok::{EcsCompatibility, PatternLibrary};
use crate::pipeline::receipt::{receipt, Delivery, Finalizers};

fn rule(pattern: &str, negate: bool, what: What) -> Rule {
    rule_with(RuleSettings {
        pattern,
        negate,
        what,
        ..RuleSettings::default()
    })
}

fn rule_with(settings: RuleSettings) -> Rule {
    Rule::new(
        settings,
        &PatternLibrary::builtin(EcsCompatibility::default()),
    )
    .unwrap()
}

fn streams_with(rule: Rule, max_streams: usize, metrics: MultilineMetrics) -> Streams {
    Streams::new(
        std::sync::Arc::new(rule),
        max_streams,
        Some(Duration::from_secs(2)),
        metrics,
    )
}

/// A Filebeat-shaped event: `message`, `[host][name]` and `[log][file][path]`.
fn line(host: &str, path: &str, message: &str) -> Event {
    let mut event = Event::from_message(Text::from(message));
    event.insert(&field("[host][name]"), Value::String(Text::from(host)));
    event.insert(&field("[log][file][path]"), Value::String(Text::from(path)));
    event
}

fn field(reference: &str) -> FieldRef {
    FieldRef::parse(reference).unwrap()
}

fn message(event: &Event) -> &str {
    event
        .fields()
        .get("message")
        .and_then(Value::as_str)
        .unwrap()
}

fn tags(event: &Event) -> Vec<&str> {
    match event.fields().get("tags") {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Runs `lines` through one stream and flushes at the end; the messages that came out.
fn stitch(rule: Rule, lines: &[&str]) -> Vec<Event> {
    let mut streams = streams_with(rule, 10, MultilineMetrics::default());
    let mut out = Vec::new();
    for l in lines {
        streams.push(line("h", "/p", l), Instant::now(), &mut out);
    }
    streams.flush_all(&mut out);
    out
}

fn messages(events: &[Event]) -> Vec<&str> {
    events.iter().map(message).collect()
}

const JAVA: &[&str] = &[
    "2026-11-24 10:00:00,001 ERROR c.m.Api Request failed",
    "java.lang.IllegalStateException: boom",
    "\tat com.mangakai.Api.handle(Api.java:42)",
    "\tat com.mangakai.Server.run(Server.java:7)",
    "2026-11-24 10:00:01,000 INFO c.m.Api ok",
];

#[test]
fn previous_negated_timestamp_joins_a_stack_trace_to_its_line() {
    let out = stitch(rule("^%{TIMESTAMP_ISO8601} ", true, What::Previous), JAVA);
    assert_eq!(
        messages(&out),
        [JAVA[..4].join("\n").as_str(), JAVA[4]],
        "the trace joins its first line; the next timestamped line starts anew"
    );
    assert_eq!(tags(&out[0]), ["multiline"]);
    assert!(tags(&out[1]).is_empty(), "one line is not tagged");
}

#[test]
fn previous_with_a_matching_pattern_joins_indented_lines() {
    // Logstash's documented example: lines starting with whitespace belong to the previous.
    let out = stitch(
        rule(r"^\s", false, What::Previous),
        &["Exception in thread", "  at a", "  at b", "next", "  at c"],
    );
    assert_eq!(
        messages(&out),
        ["Exception in thread\n  at a\n  at b", "next\n  at c"]
    );
}

#[test]
fn next_with_a_matching_pattern_joins_continued_lines() {
    // Logstash's documented example: a trailing backslash continues on the next line.
    let out = stitch(
        rule(r"\\$", false, What::Next),
        &["one \\", "two \\", "three", "four", "five \\"],
    );
    assert_eq!(
        messages(&out),
        ["one \\\ntwo \\\nthree", "four", "five \\"],
        "the pending `five` comes out on flush"
    );
}

#[test]
fn next_negated_joins_until_a_matching_line() {
    // Lines not matching `;$` continue: a statement ends at its semicolon.
    let out = stitch(
        rule(";$", true, What::Next),
        &["SELECT *", "FROM t", "WHERE x;", "COMMIT;"],
    );
    assert_eq!(messages(&out), ["SELECT *\nFROM t\nWHERE x;", "COMMIT;"]);
}

#[test]
fn the_merged_event_keeps_the_first_lines_fields() {
    let mut first = line("h", "/p", JAVA[0]);
    first.insert(&field("[log][offset]"), Value::Integer(0));
    let mut second = line("h", "/p", JAVA[1]);
    second.insert(&field("[log][offset]"), Value::Integer(60));
    let mut streams = streams_with(
        rule("^%{TIMESTAMP_ISO8601} ", true, What::Previous),
        10,
        MultilineMetrics::default(),
    );
    let mut out = Vec::new();
    streams.push(first, Instant::now(), &mut out);
    streams.push(second, Instant::now(), &mut out);
    streams.flush_all(&mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0].get(&field("[log][offset]")),
        Some(&Value::Integer(0))
    );
}

#[test]
fn max_lines_cuts_and_tags_and_no_event_holds_more() {
    let r = rule("^%{TIMESTAMP_ISO8601} ", true, What::Previous);
    let mut lines = vec![JAVA[0].to_owned()];
    lines.extend((0..1199).map(|i| format!("\tat frame{i}")));
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let out = stitch(r, &refs);
    let sizes: Vec<usize> = out.iter().map(|e| message(e).lines().count()).collect();
    assert_eq!(sizes, [500, 500, 200]);
    assert_eq!(
        tags(&out[0]),
        ["multiline", "multiline_codec_max_lines_reached"]
    );
    assert_eq!(tags(&out[2]), ["multiline"], "the rest ended normally");
    assert_eq!(
        out.iter().map(message).collect::<Vec<_>>().join("\n"),
        refs.join("\n"),
        "nothing lost or reordered"
    );
}

#[test]
fn max_bytes_cuts_before_the_line_that_would_cross_it() {
    let r = rule_with(RuleSettings {
        pattern: r"^\s",
        max_bytes: 20,
        ..RuleSettings::default()
    });
    let out = stitch(r, &["0123456789", " 12345678", " 1", " 2"]);
    // "0123456789\n 12345678" is 20 bytes: the next line would cross it.
    assert_eq!(messages(&out), ["0123456789\n 12345678", " 1\n 2"]);
    assert_eq!(
        tags(&out[0]),
        ["multiline", "multiline_codec_max_bytes_reached"]
    );
}

#[test]
fn a_100_mb_line_comes_out_alone_tagged_and_uncopied() {
    for what in [What::Previous, What::Next] {
        let huge = Text::from("x".repeat(100 << 20));
        let mut streams = streams_with(rule(r"^\s", false, what), 10, MultilineMetrics::default());
        let mut out = Vec::new();
        streams.push(line("h", "/p", "before"), Instant::now(), &mut out);
        let mut event = Event::from_message(huge.clone());
        event.insert(&field("[host][name]"), Value::String(Text::from("h")));
        event.insert(&field("[log][file][path]"), Value::String(Text::from("/p")));
        streams.push(event, Instant::now(), &mut out);
        streams.push(line("h", "/p", " after"), Instant::now(), &mut out);
        streams.flush_all(&mut out);
        let big = out
            .iter()
            .find(|e| message(e).len() == huge.len())
            .expect("the huge line came out");
        assert_eq!(
            message(big).as_ptr(),
            huge.as_str().as_ptr(),
            "{what:?}: a line alone is not copied"
        );
        assert_eq!(tags(big), ["multiline_codec_max_bytes_reached"], "{what:?}");
        assert_eq!(out.len(), 3, "{what:?}: before, the huge line, after");
    }
}

#[test]
fn interleaved_streams_never_mix() {
    let mut streams = streams_with(
        rule("^%{TIMESTAMP_ISO8601} ", true, What::Previous),
        100,
        MultilineMetrics::default(),
    );
    let mut out = Vec::new();
    for i in 0..4 {
        for (host, path) in [("a", "/x"), ("b", "/x"), ("a", "/y")] {
            let text = if i == 0 {
                format!("2026-11-24 10:00:00,000 ERROR {host}{path}")
            } else {
                format!("\tat {host}{path} {i}")
            };
            streams.push(line(host, path, &text), Instant::now(), &mut out);
        }
    }
    assert!(out.is_empty());
    assert_eq!(streams.open_streams(), 3);
    streams.flush_all(&mut out);
    for event in &out {
        let msg = message(event);
        let id = msg.lines().next().unwrap().rsplit(' ').next().unwrap();
        assert_eq!(msg.lines().count(), 4);
        assert!(msg.lines().skip(1).all(|l| l.contains(id)), "{msg}");
    }
}

#[test]
fn idle_streams_flush_after_the_interval_and_not_before() {
    let metrics = MultilineMetrics::default();
    let mut streams = streams_with(
        rule("^%{TIMESTAMP_ISO8601} ", true, What::Previous),
        10,
        metrics.clone(),
    );
    let start = Instant::now();
    let mut out = Vec::new();
    streams.push(line("h", "/old", JAVA[0]), start, &mut out);
    streams.push(
        line("h", "/new", JAVA[0]),
        start + Duration::from_secs(1),
        &mut out,
    );
    assert_eq!(
        streams.next_deadline(),
        Some(start + Duration::from_secs(2))
    );
    streams.flush_idle(start + Duration::from_millis(1999), &mut out);
    assert!(out.is_empty());
    streams.flush_idle(start + Duration::from_secs(2), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0]
            .get(&field("[log][file][path]"))
            .and_then(Value::as_str),
        Some("/old")
    );
    assert_eq!(metrics.flushes(Flush::AutoFlush), 1);
    assert_eq!(metrics.streams_open(), 1);
}

#[test]
fn a_hundred_times_max_streams_stay_within_max_streams() {
    let metrics = MultilineMetrics::default();
    let mut streams = streams_with(
        rule("^%{TIMESTAMP_ISO8601} ", true, What::Previous),
        1000,
        metrics.clone(),
    );
    let mut out = Vec::new();
    let mut flushed = 0;
    let now = Instant::now();
    for i in 0..100_000u32 {
        streams.push(line("h", &i.to_string(), JAVA[0]), now, &mut out);
        assert!(streams.open_streams() <= 1000);
        if i == 1000 {
            // The least recently used went first.
            assert_eq!(
                out[0]
                    .get(&field("[log][file][path]"))
                    .and_then(Value::as_str),
                Some("0")
            );
        }
        flushed += out.len();
        out.clear();
    }
    assert_eq!(flushed, 99_000, "every eviction flushed its event");
    assert_eq!(metrics.flushes(Flush::Evicted), 99_000);
    streams.flush_all(&mut out);
    assert_eq!(flushed + out.len(), 100_000);
}

#[tokio::test]
async fn a_buffered_line_holds_its_receipt_until_the_merged_event_is_output() {
    let (mut first_window, batch1) = receipt();
    let (second_window, batch2) = receipt();
    let mut streams = streams_with(
        rule("^%{TIMESTAMP_ISO8601} ", true, What::Previous),
        10,
        MultilineMetrics::default(),
    );
    let mut out = Vec::new();
    for (text, batch) in [(JAVA[0], &batch1), (JAVA[1], &batch1), (JAVA[2], &batch2)] {
        let mut event = line("h", "/p", text);
        event.set_finalizers(Finalizers::new(batch));
        streams.push(event, Instant::now(), &mut out);
    }
    drop((batch1, batch2));
    assert!(out.is_empty());
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    assert!(
        std::pin::Pin::new(&mut first_window)
            .poll(&mut cx)
            .is_pending(),
        "the window's lines are still buffered"
    );
    streams.flush_all(&mut out);
    let mut merged = out.pop().unwrap();
    assert_eq!(merged.finalizers_mut().batches(), 2);
    merged.finalize(Delivery::Delivered);
    assert_eq!(first_window.await, Delivery::Delivered);
    assert_eq!(second_window.await, Delivery::Delivered);
}

#[test]
fn events_without_a_message_pass_through() {
    let mut streams = streams_with(
        rule("^%{TIMESTAMP_ISO8601} ", true, What::Previous),
        10,
        MultilineMetrics::default(),
    );
    let mut out = Vec::new();
    streams.push(line("h", "/p", JAVA[0]), Instant::now(), &mut out);
    streams.push(Event::new(Object::new()), Instant::now(), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(streams.open_streams(), 1, "the pending line is untouched");
}

#[test]
fn an_empty_multiline_tag_adds_no_tag() {
    let r = rule_with(RuleSettings {
        pattern: r"^\s",
        tag: "",
        ..RuleSettings::default()
    });
    let out = stitch(r, &["a", " b"]);
    assert_eq!(messages(&out), ["a\n b"]);
    assert!(tags(&out[0]).is_empty());
}

#[test]
fn hostile_lines_do_not_break_the_state_machine() {
    let lines = [
        "",
        "\u{0}\u{1}\u{7f}",
        "\u{fffd}\u{fffd}",
        "   ",
        "2026-11-24 10:00:00,000",
        "%{TIMESTAMP_ISO8601}",
    ];
    for what in [What::Previous, What::Next] {
        for negate in [false, true] {
            let out = stitch(rule("^%{TIMESTAMP_ISO8601} ", negate, what), &lines);
            let rejoined: Vec<&str> = out.iter().flat_map(|e| message(e).split('\n')).collect();
            assert_eq!(rejoined, lines, "{what:?} negate={negate}");
        }
    }
}

/// The `codec` of `input { stdin { codec => multiline { <body> } } }`, or the error's message.
fn configured(body: &str) -> Result<super::Multiline, String> {
    use crate::config::ast::{ConfigValue, Statement};
    use crate::config::settings::Settings;
    let text = format!("input {{ stdin {{ codec => multiline {{ {body} }} }} }}");
    let (_, config) = crate::config::load::load_str("test", &text, false)
        .map_err(|(_, e)| e)
        .unwrap();
    let Statement::Plugin(stdin) = &config.sections[0].body[0] else {
        panic!("not a plugin")
    };
    let ConfigValue::Plugin(codec) = &stdin.settings[0].value.node else {
        panic!("not a codec")
    };
    let settings = Settings::new(codec, "codec").map_err(|e| e.message)?;
    let multiline = super::Multiline::from_settings(&settings, None).map_err(|e| e.message)?;
    settings.finish().map_err(|e| e.message)?;
    Ok(multiline)
}

#[test]
fn settings_take_logstashs_names_and_reject_what_cannot_work() {
    assert!(configured(
        r#"pattern => "^%{TIMESTAMP_ISO8601} " negate => true what => "next" max_lines => 5
           max_bytes => 1000 auto_flush_interval => 0.5 multiline_tag => "" charset => "UTF-8"
           max_streams => 10"#
    )
    .is_ok());
    let error = |body| configured(body).err().unwrap();
    assert!(error("negate => true").contains("needs the setting `pattern`"));
    assert!(error(r#"pattern => "x" what => "after""#).contains("`after` is not one of"));
    assert!(error(r#"pattern => "%{NOPE}""#).contains("`%{NOPE}`, which is not defined"));
    assert!(error(r#"pattern => "(""#).contains("cannot be compiled"));
    assert!(error(r#"pattern => "x" max_lines => 0"#).contains("outside"));
    assert!(error(r#"pattern => "x" auto_flush_interval => -1"#).contains("positive"));
    assert!(error(r#"pattern => "x" charset => "ISO-8859-1""#).contains("only UTF-8"));
    assert!(
        error(r#"pattern => "x" patterns_dir => ["/nonexistent/patterns"]"#)
            .contains("/nonexistent/patterns")
    );
    assert!(error(r#"pattern => "x" delimiter => "\n""#).contains("unknown setting `delimiter`"));
}

#[test]
fn patterns_dir_adds_patterns_the_pattern_can_use() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app"), "APPSTART ^\\[app\\]\n").unwrap();
    let body = format!(
        r#"pattern => "%{{APPSTART}}" negate => true patterns_dir => ["{}"]"#,
        dir.path().display()
    );
    let multiline = configured(&body).unwrap();
    let mut streams = multiline.streams(MultilineMetrics::default());
    let mut out = Vec::new();
    for l in ["[app] one", "  more", "[app] two"] {
        streams.push(line("h", "/p", l), Instant::now(), &mut out);
    }
    assert_eq!(messages(&out), ["[app] one\n  more"]);
}
