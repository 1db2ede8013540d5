//! The multiline codec on the real `sluice` binary's beats input, fed by pylogbeat 2.1.0
//! (`tests/peers/pylogbeat_files.py`) as Filebeat would ship files, into the file output.
//!
//! - 50 streams (ten files on each of five hosts, the same paths on every host) interleaved
//!   over 4 connections: every record comes out whole, once, in its stream's order.
//! - A record left pending when the client goes quiet is flushed by `auto_flush_interval`.
//! - A line still buffered holds its window's ACK, though the rest of the window is already
//!   written; SIGTERM drains it to the output, and only then is the window acknowledged.

mod shipping;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value as Json;
use shipping::{filebeat_lines, metric, read_events, Shipper, Sluice, Stream};

const PLUGIN: &str = r#"pipeline="main",plugin="lines""#;

/// `sluice run -w 1` (one worker, so the file keeps the queue's order) with a beats input
/// (`beats_settings` added) stitching records that start with a timestamp, writing to
/// `<dir>/out.ndjson`.
fn start(dir: &Path, auto_flush: &str, beats_settings: &str) -> Sluice {
    let config = format!(
        r#"input {{ beats {{ id => "lines" host => "127.0.0.1" port => 0 {beats_settings}
  codec => multiline {{ pattern => "^%{{TIMESTAMP_ISO8601}} " negate => true what => previous auto_flush_interval => {auto_flush} }}
}} }}
output {{ file {{ path => "{}/out.ndjson" flush_interval => 0 }} }}"#,
        dir.display()
    );
    Sluice::start(&["-w", "1", "-e", &config], &[])
}

/// A log file of `records` records; record `r` has `r % 7` continuation lines (a stack
/// trace), each naming its stream and record so a mix-up cannot go unseen.
fn write_stream(dir: &Path, name: &str, records: usize) -> PathBuf {
    let mut text = String::new();
    for r in 0..records {
        text += &format!(
            "2026-11-24 10:{:02}:{:02},{:03} ERROR app.{name} record {r} failed\n",
            r / 60 % 60,
            r % 60,
            r % 1000
        );
        for k in 0..r % 7 {
            text += &format!("\tat {name}.Record{r}.frame{k}(App.java:{k})\n");
        }
    }
    let path = dir.join(format!("{name}.log"));
    std::fs::write(&path, text).unwrap();
    path
}

/// The records Filebeat's lines of `file` make: a line with a timestamp starts one.
fn records_of(file: &Path) -> Vec<(u64, String)> {
    let mut records: Vec<(u64, String)> = Vec::new();
    for (offset, line) in filebeat_lines(file) {
        match records.last_mut() {
            Some((_, record)) if !line.starts_with("2026-") => {
                record.push('\n');
                record.push_str(&line);
            }
            _ => records.push((offset, line)),
        }
    }
    records
}

fn stream_of(event: &Json) -> (String, String) {
    (
        event["host"]["name"].as_str().unwrap().to_owned(),
        event["log"]["file"]["path"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn fifty_interleaved_streams_over_four_connections_come_out_whole_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let sluice = start(dir.path(), "0.5", "");
    let files: Vec<(String, String, PathBuf)> = (0..50)
        .map(|i| {
            let host = format!("web-{}", i % 5);
            let path = format!("/var/log/app/part-{}.log", i / 5);
            let file = write_stream(dir.path(), &format!("s{i}"), 20 + i % 7);
            (host, path, file)
        })
        .collect();
    // Each connection ships its streams mixed in one window (below Filebeat's default
    // bulk_max_size of 2048): pylogbeat waits for each ACK, so a record split across two of its
    // windows would be cut by auto_flush_interval (docs/MULTILINE.md).
    let shippers: Vec<Shipper> = (0..4)
        .map(|c| {
            let streams: Vec<Stream> = files
                .iter()
                .skip(c)
                .step_by(4)
                .map(|(host, path, file)| Stream {
                    file,
                    service: "app",
                    host,
                    path,
                })
                .collect();
            let seed = c.to_string();
            Shipper::start(
                sluice.beats_port(),
                &streams,
                &["--window", "2048", "--seed", &seed],
            )
        })
        .collect();
    for shipper in shippers {
        shipper.finish();
    }
    let metrics = sluice.metrics();
    sluice.terminate();

    let mut got: BTreeMap<(String, String), Vec<(u64, String)>> = BTreeMap::new();
    for event in read_events(&dir.path().join("out.ndjson")) {
        let offset = event["log"]["offset"].as_u64().unwrap();
        let message = event["message"].as_str().unwrap().to_owned();
        let tags = event["tags"].as_array().unwrap();
        // Logstash's beats input names its codec in this tag.
        assert!(tags.contains(&Json::from("beats_input_codec_multiline_applied")));
        assert_eq!(
            tags.contains(&Json::from("multiline")),
            message.contains('\n')
        );
        got.entry(stream_of(&event))
            .or_default()
            .push((offset, message));
    }
    let mut merged = 0;
    for (host, path, file) in &files {
        let want = records_of(file);
        merged += want.iter().filter(|(_, r)| r.contains('\n')).count() as u64;
        let key = (host.clone(), path.clone());
        assert_eq!(
            got.get(&key),
            Some(&want),
            "{host}:{path}: every record whole, once, in order"
        );
    }
    assert_eq!(got.len(), 50);
    assert_eq!(
        metric(&metrics, "sluice_multiline_events_merged_total", PLUGIN),
        Some(merged)
    );
    assert_eq!(
        metric(&metrics, "sluice_multiline_streams_open", PLUGIN),
        Some(0)
    );
}

#[test]
fn a_record_pending_when_the_client_goes_quiet_is_flushed_after_auto_flush_interval() {
    let dir = tempfile::tempdir().unwrap();
    let sluice = start(dir.path(), "1", "");
    let file = write_stream(dir.path(), "quiet", 7);
    let stream = Stream {
        file: &file,
        service: "app",
        host: "web-0",
        path: "/var/log/app/quiet.log",
    };
    // The last record (six lines of trace) waits for a line that never comes; only the timer
    // completes it, and with it the window's ACK.
    Shipper::start(sluice.beats_port(), &[stream], &[]).finish();
    let metrics = sluice.metrics();
    let flushes = |reason: &str| {
        metric(
            &metrics,
            "sluice_multiline_flushes_total",
            &format!(r#"{PLUGIN},reason="{reason}""#),
        )
    };
    assert_eq!(flushes("auto_flush"), Some(1));
    assert_eq!(flushes("pattern"), Some(6));
    assert_eq!(flushes("shutdown"), Some(0));
    let written: Vec<(u64, String)> = read_events(&dir.path().join("out.ndjson"))
        .iter()
        .map(|e| {
            (
                e["log"]["offset"].as_u64().unwrap(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(written, records_of(&file));
    sluice.terminate();
}

#[test]
fn a_buffered_line_holds_its_windows_ack_until_shutdown_drains_it_to_the_output() {
    let dir = tempfile::tempdir().unwrap();
    // An hour: nothing but shutdown will flush the last record. Keep-alives every second.
    let sluice = start(dir.path(), "3600", "keepalive_interval => 1");
    let file = write_stream(dir.path(), "held", 4);
    let stream = Stream {
        file: &file,
        service: "app",
        host: "web-0",
        path: "/var/log/app/held.log",
    };
    let records = records_of(&file);
    // pylogbeat gives up on a read that takes 3 s; the ACK 0 keep-alives keep it waiting.
    let shipper = Shipper::start(sluice.beats_port(), &[stream], &["--timeout", "3"]);

    // The first three records are written, but the window is not acknowledged: its last
    // record is still buffered.
    let out = dir.path().join("out.ndjson");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while read_events(&out).len() < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the completed records were not written"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        shipper.next_ack(Duration::from_secs(6)).is_none(),
        "no ACK while a line of the window is buffered"
    );
    assert_eq!(read_events(&out).len(), 3);

    sluice.terminate();
    let ack = shipper
        .next_ack(Duration::from_secs(60))
        .expect("the window is acknowledged once the drained record is written");
    assert_eq!(ack["events"], filebeat_lines(&file).len());
    shipper.finish();
    let written: Vec<String> = read_events(&out)
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_owned())
        .collect();
    let want: Vec<String> = records.into_iter().map(|(_, r)| r).collect();
    assert_eq!(written, want);
}
