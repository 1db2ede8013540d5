//! Beats end to end into the real Elasticsearch: pylogbeat 2.1.0 → the `sluice` binary's
//! beats input → the Elasticsearch output. A Beats ACK means "Elasticsearch has it": while
//! the target index refuses writes the sender gets only keep-alives; once the block is lifted
//! the ACK arrives and every event is in the index exactly once.
//!
//! The block is the disk flood stage's `index.blocks.read_only_allow_delete`, which ES answers
//! per item with 429 `cluster_block_exception`: a wait, retried. (`index.blocks.write` is
//! answered 403, a permanent refusal that goes to the dead-letter queue by design; a
//! cluster-wide block would stall every other test sharing the node.)

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use hyper::Method;
use serde_json::Value as Json;

mod common;
use common::process::Sluice;
use common::pylogbeat::driver;
use common::{count, es, node, unique};

/// The settings body that sets (`true`) or lifts (`null`) the flood-stage block.
fn flood_stage_block(value: &str) -> String {
    format!(r#"{{"index.blocks.read_only_allow_delete":{value}}}"#)
}

/// Turns Elasticsearch's disk monitor off (`false`) or back to its default (`null`). While it
/// runs, it lifts a flood-stage block by itself within seconds whenever the disk has room,
/// which would end the test's block early on any machine with free disk.
async fn disk_monitor(value: &str) {
    let body = format!(
        r#"{{"persistent":{{"cluster.routing.allocation.disk.threshold_enabled":{value}}}}}"#
    );
    let answer = es(Method::PUT, "/_cluster/settings", Some(&body)).await;
    assert_eq!(answer["acknowledged"], true, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_beats_ack_waits_until_elasticsearch_has_taken_the_events() {
    let index = unique("beats-ack");
    let created = es(
        Method::PUT,
        &format!("/{index}"),
        Some(r#"{"settings":{"number_of_shards":1,"number_of_replicas":0}}"#),
    )
    .await;
    assert_eq!(created["acknowledged"], true, "{created}");
    disk_monitor("false").await;
    let blocked = es(
        Method::PUT,
        &format!("/{index}/_settings"),
        Some(&flood_stage_block("true")),
    )
    .await;
    assert_eq!(blocked["acknowledged"], true, "{blocked}");

    let node = node();
    let connection = node.output_settings();
    let config = format!(
        r#"input {{ beats {{ host => "127.0.0.1" port => 0 keepalive_interval => 1 }} }}
           output {{ elasticsearch {{ {connection} index => "{index}" manage_template => false
                                     retry_initial_interval => 1 retry_max_interval => 1 }} }}"#
    );
    let mut sluice = Sluice::run(&config);
    let listening = sluice.wait_for_log("beats input listening");
    let address = listening.split("address=").nth(1).unwrap();
    let port = address
        .split_whitespace()
        .next()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap();

    let mut client = driver(port, 3, 50, &["--timeout", "120"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let (tx, acks) = mpsc::channel();
    let stdout = BufReader::new(client.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });

    // Blocked: no window is ACKed, however long we wait, and nothing is in the index.
    assert!(
        acks.recv_timeout(Duration::from_secs(8)).is_err(),
        "an ACK arrived while Elasticsearch refused the writes"
    );
    assert_eq!(count(&index, "").await, 0);

    let lifted = es(
        Method::PUT,
        &format!("/{index}/_settings"),
        Some(&flood_stage_block("null")),
    )
    .await;
    assert_eq!(lifted["acknowledged"], true, "{lifted}");
    disk_monitor("null").await;
    let lines: Vec<String> = acks.iter().collect();
    assert!(client.wait().unwrap().success(), "{lines:?}");
    let summary: Json = serde_json::from_str(lines.last().unwrap()).unwrap();
    assert_eq!(summary["acked_events"], 150, "{summary}");
    assert!(
        summary["keepalives"].as_u64().unwrap() >= 3,
        "the wait was bridged with keep-alives: {summary}"
    );

    assert_eq!(count(&index, "").await, 150);
    let offsets = es(
        Method::POST,
        &format!("/{index}/_search"),
        Some(r#"{"size":0,"aggs":{"offsets":{"cardinality":{"field":"log.offset"}}}}"#),
    )
    .await;
    assert_eq!(
        offsets["aggregations"]["offsets"]["value"], 150,
        "every event once: {offsets}"
    );
    sluice.terminate();
    es(Method::DELETE, &format!("/{index}"), None).await;
}
