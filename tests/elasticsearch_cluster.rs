//! The Elasticsearch output against a real three-node cluster that loses a node mid-run.
//!
//! It starts its own cluster through `scripts/elasticsearch.sh start 3` (run directory
//! `/tmp/sluice-es-cluster`, HTTP ports 9260–9262; three JVMs of 512 MiB heap, about 2.4 GB),
//! writes 200 000 events with idempotent ids while `kill -9` takes one node down, checks that
//! every event is there exactly once, and stops the cluster at the end, failed or not.

use std::process::Command;
use std::time::Duration;

use hyper::Method;
use sluice::event::{Event, FieldRef, Object};
use sluice::outputs::elasticsearch::{
    daily, Client, ClientConfig, ElasticsearchConfig, ElasticsearchOutput,
};
use sluice::pipeline::receipt::{receipt, Delivery, Finalizers};

const RUN: &str = "/tmp/sluice-es-cluster";
const HOSTS: [&str; 3] = ["127.0.0.1:9260", "127.0.0.1:9261", "127.0.0.1:9262"];

fn script(args: &[&str]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/elasticsearch.sh");
    let out = Command::new("bash")
        .arg(script)
        .args(args)
        .env("SLUICE_ES_RUN", RUN)
        .env("SLUICE_ES_PORT", "9260")
        .env("SLUICE_ES_TRANSPORT_PORT", "9360")
        .output()
        .expect("run scripts/elasticsearch.sh");
    assert!(
        out.status.success(),
        "elasticsearch.sh {args:?}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Stops the cluster when the test ends, however it ends.
struct Cluster;

impl Cluster {
    fn start() -> Cluster {
        script(&["start", "3"]);
        Cluster
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        script(&["stop"]);
    }
}

/// One admin request to the cluster, its JSON answer.
async fn request(client: &Client, method: Method, path: &str) -> serde_json::Value {
    let reply = client
        .send(method, path, "application/json", None)
        .await
        .unwrap();
    serde_json::from_slice(&reply.body).unwrap()
}

const BATCHES: usize = 800;
const PER_BATCH: usize = 250;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_node_cluster_keeps_taking_writes_with_a_node_killed() {
    let started = std::time::Instant::now();
    let _cluster = Cluster::start();
    let formed = started.elapsed();
    let prefix = format!("sluice-cluster-{}", std::process::id());
    let admin = Client::new(&ClientConfig {
        hosts: HOSTS.iter().map(|h| h.to_string()).collect(),
        compression_level: 0,
        ..ClientConfig::default()
    })
    .unwrap();
    let output = ElasticsearchOutput::new(ElasticsearchConfig {
        client: ClientConfig {
            hosts: HOSTS.iter().map(|h| h.to_string()).collect(),
            timeout: Duration::from_secs(20),
            ..ClientConfig::default()
        },
        index: daily(&format!("{prefix}-")),
        template_name: prefix.clone(),
        template_index_patterns: vec![format!("{prefix}-*")],
        idempotent_ids: true,
        retry_initial_interval: Duration::from_millis(100),
        retry_max_interval: Duration::from_secs(2),
        ..ElasticsearchConfig::default()
    })
    .unwrap();
    let metrics = output.metrics();
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    let task = tokio::spawn(output.run(rx));
    let now = sluice::event::now();
    let index = format!("{prefix}-{}", now.format("%Y.%m.%d"));
    let mut receipts = Vec::new();
    for b in 0..BATCHES {
        if b == BATCHES / 4 {
            // Killing the node that holds a primary before its replica is in sync loses that
            // index's only copy (red, rightly), which would test nothing about Sluice.
            let health = request(
                &admin,
                Method::GET,
                &format!("/_cluster/health/{index}?wait_for_status=green&timeout=120s"),
            )
            .await;
            assert_eq!(health["status"], "green", "{health}");
            // The node the round-robin reaches second, and a data node: writes must go on.
            let pid = std::fs::read_to_string(format!("{RUN}/n2/es.pid")).unwrap();
            assert!(Command::new("kill")
                .args(["-9", pid.trim()])
                .status()
                .unwrap()
                .success());
        }
        let (r, handle) = receipt();
        let batch: Vec<Event> = (0..PER_BATCH)
            .map(|i| {
                let mut e = Event::new(Object::new());
                e.insert(
                    &FieldRef::parse("n").unwrap(),
                    ((b * PER_BATCH + i) as i64).into(),
                );
                e.insert(&FieldRef::parse("message").unwrap(), "a line".into());
                e.set_finalizers(Finalizers::new(&handle));
                e
            })
            .collect();
        receipts.push(r);
        tx.send(batch).await.unwrap();
    }
    drop(tx);
    task.await.unwrap();
    for r in receipts {
        assert_eq!(r.await, Delivery::Delivered);
    }
    request(&admin, Method::POST, &format!("/{index}/_refresh")).await;
    let nodes = request(&admin, Method::GET, "/_cat/nodes?format=json").await;
    assert_eq!(nodes.as_array().unwrap().len(), 2, "n2 is down: {nodes}");
    // Zero lost, and (create with deterministic ids) zero written twice.
    let count = request(&admin, Method::GET, &format!("/{index}/_count")).await;
    assert_eq!(count["count"], BATCHES * PER_BATCH, "{count}");
    eprintln!(
        "cluster formed in {formed:?}, {} events written in {:?}; unanswered requests: {}, \
         refused: {}, items retried: {}",
        BATCHES * PER_BATCH,
        started.elapsed() - formed,
        metrics.bulk_requests_unanswered.get(),
        metrics.bulk_requests_refused.get(),
        metrics.items_retried.get()
    );
    // The cluster's data outlives the run; indices left behind would be recovered by the
    // next run's cluster while it writes.
    request(&admin, Method::DELETE, &format!("/{index}")).await;
}
