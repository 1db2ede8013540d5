//! The real `sluice` binary writing to a real Elasticsearch: `sluice run -e` with the
//! generator into `output { elasticsearch { … } }`, and `sluice dlq` reading back what
//! Elasticsearch refused, and a `dead_letter_queue` input replaying it after a fix. The node
//! is [`common::node`]'s.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use hyper::Method;
use serde_json::Value as Json;

mod common;
use common::process::Sluice;
use common::{count, es, node, refuse_text_messages, unique};

fn sluice(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .env_remove("RUST_LOG")
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "sluice {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs a generator of `count` events into Elasticsearch with `es_settings` until the
/// generator ends, so every event has been delivered or dead-lettered when it returns.
fn run(count: usize, es_settings: &str, extra_args: &[&str]) -> Output {
    let config = format!(
        r#"input {{ generator {{ count => {count} message => "request served"
                   add_field => {{ "[@metadata][secret]" => "do-not-index" "service" => "web" }} }} }}
           output {{ elasticsearch {{ {} {es_settings} retry_initial_interval => 1 retry_max_interval => 2 }} }}"#,
        node().output_settings()
    );
    let mut args = vec!["run", "--api.enabled", "false", "-e", &config];
    args.extend_from_slice(extra_args);
    sluice(&args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generator_events_land_in_their_daily_index_without_metadata() {
    let prefix = unique("pipeline");
    let before = chrono::Utc::now().format("%Y.%m.%d").to_string();
    run(
        300,
        &format!(r#"index => "{prefix}-%{{+YYYY.MM.dd}}" template_name => "{prefix}""#),
        &[],
    );
    let after = chrono::Utc::now().format("%Y.%m.%d").to_string();

    assert_eq!(count(&format!("{prefix}-*"), "").await, 300);
    let indices = es(
        Method::GET,
        &format!("/_cat/indices/{prefix}-*?format=json"),
        None,
    )
    .await;
    let names: Vec<&str> = indices
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["index"].as_str().unwrap())
        .collect();
    let daily = |day: &str| format!("{prefix}-{day}");
    assert!(
        names
            .iter()
            .all(|n| *n == daily(&before) || *n == daily(&after)),
        "{names:?}"
    );

    let hits = es(Method::GET, &format!("/{prefix}-*/_search?size=300"), None).await;
    let hits = hits["hits"]["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 300);
    for hit in hits {
        let source = &hit["_source"];
        assert!(source.get("@metadata").is_none(), "{source}");
        assert_eq!(source["service"], "web");
        assert_eq!(source["message"], "request served");
    }

    // The built-in template was installed for the index's prefix.
    let template = es(Method::GET, &format!("/_index_template/{prefix}"), None).await;
    assert_eq!(
        template["index_templates"][0]["index_template"]["index_patterns"],
        Json::from(vec![format!("{prefix}-*")])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapping_conflict_is_dead_lettered_listed_and_replayed_once_after_a_fix() {
    let index = unique("pipeline-conflict");
    refuse_text_messages(&index).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();

    run(
        5,
        &format!(r#"id => "to-es" index => "{index}" manage_template => false"#),
        &[
            "--pipeline.id",
            "conflicts",
            "--dead_letter_queue.enable",
            "true",
            "--path.dead_letter_queue",
            path,
        ],
    );
    assert_eq!(count(&index, "").await, 0);

    let listed = sluice(&["dlq", "--path", path, "--pipeline", "conflicts", "list"]);
    let listed = String::from_utf8(listed.stdout).unwrap();
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 5, "{listed}");
    for line in lines {
        assert!(
            line.contains(&format!(
                "  to-es  {index}  index  400  document_parsing_exception: "
            )) && line.contains("failed to parse field [message] of type [long]"),
            "{line}"
        );
    }

    let shown = sluice(&["dlq", "--path", path, "--pipeline", "conflicts", "show"]);
    let first: Json = serde_json::from_str(
        String::from_utf8(shown.stdout)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first["event"]["message"], "request served");
    assert_eq!(first["@metadata"]["secret"], "do-not-index");

    // A second pipeline replays them, fixed to fit the mapping, into the same index.
    let replay = format!(
        r#"input {{ dead_letter_queue {{ path => "{path}" pipeline_id => "conflicts" }} }}
           filter {{ mutate {{ rename => {{ "message" => "text" }}
                              add_field => {{ "dlq_reason" => "%{{[@metadata][dead_letter_queue][reason]}}"
                                              "dlq_secret" => "%{{[@metadata][secret]}}" }} }} }}
           output {{ elasticsearch {{ {} index => "{index}" manage_template => false }} }}"#,
        node().output_settings()
    );
    let mut replaying = Sluice::run(&replay);
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&index, "").await < 5 {
        assert!(
            Instant::now() < deadline,
            "the replay did not reach Elasticsearch"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    replaying.terminate();
    let hits = es(Method::GET, &format!("/{index}/_search?size=10"), None).await;
    for hit in hits["hits"]["hits"].as_array().unwrap() {
        let source = &hit["_source"];
        assert_eq!(source["text"], "request served", "{source}");
        assert!(
            source["dlq_reason"]
                .as_str()
                .unwrap()
                .contains("failed to parse field [message] of type [long]"),
            "{source}"
        );
        assert_eq!(source["dlq_secret"], "do-not-index");
        assert!(source.get("@metadata").is_none(), "{source}");
    }

    // Its position was committed: a restart finds nothing new to replay.
    let sincedb = std::fs::read_to_string(dir.path().join("conflicts/.sincedb")).unwrap();
    assert_eq!(sincedb.split_whitespace().count(), 2, "{sincedb}");
    let mut again = Sluice::run(&replay);
    again.wait_for_log("dead_letter_queue input reading");
    std::thread::sleep(Duration::from_secs(2));
    again.terminate();
    assert_eq!(count(&index, "").await, 5, "nothing replayed twice");
}

/// Bytes in the segments of a dead-letter queue directory.
fn segment_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "dlq"))
            .map(|e| e.metadata().map_or(0, |m| m.len()))
            .sum()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_9_while_the_dead_letter_queue_is_written_loses_no_whole_record() {
    let index = unique("pipeline-crash");
    refuse_text_messages(&index).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let dlq_args = [
        "--pipeline.id",
        "crash",
        "--dead_letter_queue.enable",
        "true",
        "--path.dead_letter_queue",
        path,
    ];

    // Every event is dead-lettered, without end, until the process is killed mid-stream.
    let config = format!(
        r#"input {{ generator {{ count => 0 message => "request served" }} }}
           output {{ elasticsearch {{ {} index => "{index}" manage_template => false }} }}"#,
        node().output_settings()
    );
    let mut args = vec!["run", "--api.enabled", "false", "-e", &config];
    args.extend_from_slice(&dlq_args);
    let mut writing = Sluice::start(&args);
    let deadline = Instant::now() + Duration::from_secs(60);
    while segment_bytes(&dir.path().join("crash")) < 256 * 1024 {
        assert!(
            Instant::now() < deadline,
            "the dead-letter queue did not grow"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    writing.kill();

    // Every whole record reads back, each event once.
    let shown = sluice(&["dlq", "--path", path, "--pipeline", "crash", "show"]);
    let shown = String::from_utf8(shown.stdout).unwrap();
    let mut sequences: Vec<u64> = shown
        .lines()
        .map(|line| {
            let record: Json = serde_json::from_str(line).unwrap();
            record["event"]["event"]["sequence"].as_u64().unwrap()
        })
        .collect();
    let read = sequences.len();
    assert!(read > 100, "{read} records");
    sequences.sort_unstable();
    sequences.dedup();
    assert_eq!(sequences.len(), read, "a record read twice");

    // The next run cuts a torn tail off, keeps every earlier record and appends after them.
    run(
        10,
        &format!(r#"index => "{index}" manage_template => false"#),
        &dlq_args,
    );
    let listed = sluice(&["dlq", "--path", path, "--pipeline", "crash", "list"]);
    assert_eq!(
        String::from_utf8(listed.stdout).unwrap().lines().count(),
        read + 10
    );
}

fn http_get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.split("\r\n\r\n").nth(1).unwrap_or("").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outputs_metrics_are_served_with_pipeline_and_plugin_labels() {
    let index = unique("pipeline-metrics");
    let config = format!(
        r#"input {{ stdin {{}} }}
           output {{ elasticsearch {{ id => "to-es" {} index => "{index}" manage_template => false }} }}"#,
        node().output_settings()
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .env_remove("RUST_LOG")
        .args([
            "run",
            "--pipeline.id",
            "metered",
            "--api.http.port",
            "0",
            "-e",
            &config,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read the log to its end: a closed pipe would fail sluice's next log line.
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Some(addr) = line.split("addr=").nth(1) {
                let _ = tx.send(addr.split_whitespace().next().unwrap_or("").to_owned());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("sluice logged its API address");
    let mut stdin = child.stdin.take().unwrap();
    for n in 0..20 {
        writeln!(stdin, "line {n}").unwrap();
    }
    stdin.flush().unwrap();

    let labels = r#"pipeline="metered",plugin="to-es""#;
    let taken = format!(r#"sluice_elasticsearch_events_total{{{labels},result="taken"}} 20"#);
    let deadline = Instant::now() + Duration::from_secs(30);
    let metrics = loop {
        let metrics = http_get(&addr, "/metrics");
        if metrics.contains(&taken) {
            break metrics;
        }
        assert!(Instant::now() < deadline, "no `{taken}` in:\n{metrics}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let up = format!(
        r#"sluice_elasticsearch_node_up{{{labels},host="{}"}} 1"#,
        node().url
    );
    assert!(metrics.contains(&up), "no `{up}` in:\n{metrics}");
    assert!(
        metrics.contains(&format!(
            "sluice_elasticsearch_bulk_duration_seconds_count{{{labels}}}"
        )),
        "{metrics}"
    );

    drop(stdin);
    assert!(child.wait().unwrap().success());
    assert_eq!(count(&index, "").await, 20);
}
