//! How fast the output fills a real Elasticsearch, and what it costs us: a measurement, run
//! on purpose (`#[ignore]`), printing figures and asserting only that everything arrived.
//!
//! ```text
//! scripts/elasticsearch.sh start 1
//! cargo test --release --test elasticsearch_load -- --ignored --nocapture
//! ```
//!
//! It writes 100 000 Filebeat-shaped events (about 650 B each) in batches of 1000 with the
//! default settings (gzip level 1, 4 requests in flight) to `SLUICE_ES_URL` (default
//! `http://127.0.0.1:9200`, the script's plain node) and prints events/s and the CPU seconds
//! this process spent (user + system) while doing it.

use std::time::{Duration, Instant};

use hyper::Method;
use sluice::event::{Event, FieldRef, Object, Value};
use sluice::outputs::elasticsearch::{
    daily, Client, ClientConfig, ElasticsearchConfig, ElasticsearchOutput,
};
use sluice::pipeline::receipt::{receipt, Delivery, Finalizers};

const EVENTS: usize = 100_000;
const BATCH: usize = 1000;

/// User + system CPU time of this process so far.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the command name (which may hold spaces) end with ')'.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // Linux reports in USER_HZ, 100 per second on every platform we run on.
    Duration::from_millis(ticks * 10)
}

fn event(n: usize, now: sluice::event::Timestamp) -> Event {
    let mut e = Event::new(Object::new());
    let mut set = |f: &str, v: Value| {
        e.insert(&FieldRef::parse(f).unwrap(), v);
    };
    set("@timestamp", now.into());
    set(
        "message",
        format!(
            "2026-11-24T16:17:54.123Z INFO [uvicorn.access] 10.42.0.{} - \"GET /api/v1/manga/{n}/chapters?page=2 HTTP/1.1\" 200 {} {}ms",
            n % 256,
            1000 + n % 5000,
            n % 300
        )
        .into(),
    );
    set("[agent][id]", "5b1c0a6e-3a51-4b7b-9bd4-2f2d3c1e9f11".into());
    set("[agent][name]", "mangakai-web-7c9f".into());
    set("[agent][type]", "filebeat".into());
    set("[agent][version]", "7.17.29".into());
    set("[ecs][version]", "1.12.0".into());
    set("[host][name]", "mangakai-web-7c9f".into());
    set("[log][file][path]", "/var/log/mangakai/access.log".into());
    set("[log][offset]", ((n * 231) as i64).into());
    set("[input][type]", "log".into());
    set("level", "INFO".into());
    set("client_ip", format!("10.42.0.{}", n % 256).into());
    set("method", "GET".into());
    set("path", format!("/api/v1/manga/{n}/chapters").into());
    set("status", 200i64.into());
    set("bytes", ((1000 + n % 5000) as i64).into());
    set("duration_ms", ((n % 300) as f64 + 0.5).into());
    set(
        "tags",
        Value::Array(vec!["beats_input_codec_plain_applied".into()]),
    );
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --release --ignored --nocapture against a running node"]
async fn write_100k_events_and_report_throughput() {
    let url = std::env::var("SLUICE_ES_URL").unwrap_or_else(|_| "http://127.0.0.1:9200".into());
    let prefix = format!("sluice-load-{}", std::process::id());
    let now = sluice::event::now();
    let mut all = Vec::with_capacity(EVENTS / BATCH);
    let mut receipts = Vec::new();
    for b in 0..EVENTS / BATCH {
        let (r, handle) = receipt();
        receipts.push(r);
        all.push(
            (0..BATCH)
                .map(|i| {
                    let mut e = event(b * BATCH + i, now);
                    e.set_finalizers(Finalizers::new(&handle));
                    e
                })
                .collect::<Vec<_>>(),
        );
    }
    let output = ElasticsearchOutput::new(ElasticsearchConfig {
        client: ClientConfig {
            hosts: vec![url.clone()],
            ..ClientConfig::default()
        },
        index: daily(&format!("{prefix}-")),
        template_name: prefix.clone(),
        template_index_patterns: vec![format!("{prefix}-*")],
        ..ElasticsearchConfig::default()
    })
    .unwrap();
    let metrics = output.metrics();
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let cpu_before = cpu_time();
    let started = Instant::now();
    let task = tokio::spawn(output.run(rx));
    for batch in all {
        tx.send(batch).await.unwrap();
    }
    drop(tx);
    task.await.unwrap();
    for r in receipts {
        assert_eq!(r.await, Delivery::Delivered);
    }
    let wall = started.elapsed();
    let cpu = cpu_time() - cpu_before;

    let admin = Client::new(&ClientConfig {
        hosts: vec![url],
        compression_level: 0,
        ..ClientConfig::default()
    })
    .unwrap();
    let index = format!("{prefix}-{}", now.format("%Y.%m.%d"));
    admin
        .send(
            Method::POST,
            &format!("/{index}/_refresh"),
            "application/json",
            None,
        )
        .await
        .unwrap();
    let reply = admin
        .send(
            Method::GET,
            &format!("/{index}/_count"),
            "application/json",
            None,
        )
        .await
        .unwrap();
    let count: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(count["count"], EVENTS);
    let raw = metrics.bulk_bytes.get();
    println!(
        "es_load: {EVENTS} events in {:.2} s = {:.0} events/s; sluice CPU {:.2} s ({:.1} µs/event); {} bulk requests, {:.1} MB NDJSON before gzip, {} items retried",
        wall.as_secs_f64(),
        EVENTS as f64 / wall.as_secs_f64(),
        cpu.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / EVENTS as f64,
        metrics.bulk_requests.get(),
        raw as f64 / 1e6,
        metrics.items_retried.get(),
    );
    admin
        .send(
            Method::DELETE,
            &format!("/{index}"),
            "application/json",
            None,
        )
        .await
        .unwrap();
    admin
        .send(
            Method::DELETE,
            &format!("/_index_template/{prefix}"),
            "application/json",
            None,
        )
        .await
        .unwrap();
}
