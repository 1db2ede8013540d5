//! The real `sluice` binary's `dead_letter_queue` input on a queue this test writes with the
//! library's writer, into the `file` output (which acknowledges only after flushing): it
//! follows the queue as it grows, a kill -9 mid-replay loses nothing (the position is
//! committed only behind delivered events), and a restart after a clean stop replays nothing.
//! And `sluice dlq` on damaged segment files: whole records are read, the damage is named.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use sluice::dlq::{DeadLetterEntry, DlqConfig, DlqWriter};
use sluice::event::{Event, FieldRef};

mod common;
use common::process::Sluice;

fn append(queue: &Path, range: std::ops::Range<u64>) {
    let n = FieldRef::parse("n").unwrap();
    let events: Vec<Event> = range
        .map(|i| {
            let mut event = Event::from_message(format!("line {i}").into());
            event.insert(&n, sluice::event::Value::Integer(i as i64));
            event
        })
        .collect();
    let entries: Vec<_> = events
        .iter()
        .map(|event| DeadLetterEntry {
            plugin: "to-es",
            plugin_type: "elasticsearch",
            index: "logs",
            action: "index",
            status: 400,
            error_type: "document_parsing_exception",
            reason: "failed to parse field [n]",
            event,
        })
        .collect();
    let mut config = DlqConfig::new(queue, "main");
    config.segment_bytes = 64 * 1024;
    let appended = DlqWriter::open(config).unwrap().append(&entries).unwrap();
    assert_eq!(appended.written, entries.len());
}

/// How many times each `n` was written to the file output.
fn written(out: &Path) -> BTreeMap<u64, usize> {
    let mut seen = BTreeMap::new();
    for line in std::fs::read_to_string(out).unwrap_or_default().lines() {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else {
            continue; // the last line of a killed run may be cut short
        };
        assert_eq!(event["reason"], "failed to parse field [n]", "{line}");
        *seen.entry(event["n"].as_u64().unwrap()).or_insert(0) += 1;
    }
    seen
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn replays_follow_survive_kill_9_and_do_not_repeat_after_a_clean_stop() {
    let dir = tempfile::tempdir().unwrap();
    let queue = dir.path().join("dlq");
    let out = dir.path().join("out.ndjson");
    let config = format!(
        r#"input {{ dead_letter_queue {{ path => "{}" }} }}
           filter {{ mutate {{ add_field => {{ "reason" => "%{{[@metadata][dead_letter_queue][reason]}}" }} }} }}
           output {{ file {{ path => "{}" flush_interval => 0 }} }}"#,
        queue.display(),
        out.display()
    );
    append(&queue, 0..20_000);

    let mut first = Sluice::run(&config);
    wait_for("a first replayed event", || !written(&out).is_empty());
    first.kill();
    let before_restart = written(&out).len();

    let mut second = Sluice::run(&config);
    second.wait_for_log("dead_letter_queue input reading");
    append(&queue, 20_000..21_000); // while it runs: followed
    wait_for("every event", || written(&out).len() == 21_000);
    second.terminate();
    let after_stop = written(&out);
    assert_eq!(
        after_stop.keys().copied().collect::<Vec<_>>(),
        (0..21_000).collect::<Vec<_>>(),
        "nothing lost"
    );
    // At least once: only what the killed run had not committed may come twice.
    let twice = after_stop.values().filter(|&&n| n > 1).count();
    assert!(
        twice <= before_restart,
        "{twice} repeated, {before_restart} before the kill"
    );

    let mut third = Sluice::run(&config);
    third.wait_for_log("dead_letter_queue input reading");
    std::thread::sleep(Duration::from_secs(2));
    third.terminate();
    assert_eq!(
        written(&out),
        after_stop,
        "a clean stop committed everything"
    );
}

fn dlq_list(queue: &Path) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .env_remove("RUST_LOG")
        .args(["dlq", "--path", queue.to_str().unwrap(), "list"])
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn damaged_segments_are_named_and_their_whole_records_kept() {
    let dir = tempfile::tempdir().unwrap();
    let queue = dir.path().join("dlq");
    append(&queue, 0..3);
    let main = queue.join("main");
    let segment = std::fs::read_dir(&main)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let whole = std::fs::read(&segment).unwrap();

    // Truncated inside its last record: the first two are listed, the cut is named.
    std::fs::write(&segment, &whole[..whole.len() - 20]).unwrap();
    let (ok, listed, log) = dlq_list(&queue);
    assert!(ok, "{log}");
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(log.contains("a record cut short"), "{log}");

    // A declared length of 4 GiB: taken for damage, not allocated.
    let mut huge = whole.clone();
    huge[10..14].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&segment, &huge).unwrap();
    let (ok, listed, log) = dlq_list(&queue);
    assert!(ok && listed.is_empty(), "{listed}{log}");
    assert!(log.contains("a record cut short"), "{log}");

    // Not a segment at all (another file renamed, an empty file): named as such.
    for bytes in [&b"GET / HTTP/1.1\r\n\r\n"[..], b""] {
        std::fs::write(&segment, bytes).unwrap();
        let (ok, listed, log) = dlq_list(&queue);
        assert!(ok && listed.is_empty(), "{listed}{log}");
        assert!(log.contains("no segment header"), "{log}");
    }

    // A record whose checksum holds but which is not what the writer writes: a clear error.
    let payload = b"not three lines";
    let mut forged = b"SLUICEDLQ1".to_vec();
    forged.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    forged.extend_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    forged.extend_from_slice(payload);
    std::fs::write(&segment, &forged).unwrap();
    let (ok, _, log) = dlq_list(&queue);
    assert!(!ok, "{log}");
    assert!(
        log.contains(&segment.display().to_string())
            && log.contains("a record without its three lines"),
        "{log}"
    );
}
