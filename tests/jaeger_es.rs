//! Spans through a Sluice pipeline into a real Elasticsearch 8.19 with `schema => jaeger`, read
//! back by the real Jaeger Query (v2.13, query-only against the same node): services,
//! operations, whole traces with parent links, typed tags, logs and process tags, tag search,
//! with and without `tags_as_fields`; bogus start times opening no far-past or far-future
//! index; a document Elasticsearch refuses landing in the DLQ; the templates matching the
//! ones in Jaeger's own module.
//!
//! The pipeline is compiled from configuration text (filters and the output as a user writes
//! them); its input is a test input that hands prepared spans to the pipeline, since the span
//! endpoints are inputs of their own. One test chains everything instead: the seed's own
//! tracer, Python `jaeger-client` 4.8.0 configured as its `jaeger_config.py`, sends to the real
//! `sluice` binary as its agent, and Jaeger Query reads what Sluice stored.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::Method;
use serde_json::{json, Value as Json};
use sluice::config::compile::compile;
use sluice::config::load::load_str;
use sluice::dlq::{DlqConfig, DlqReader, DlqWriter};
use sluice::event::Event;
use sluice::inputs::{BoxFuture, Decoration, Input, InputContext, PluginError};
use sluice::outputs::elasticsearch::jaeger::templates::{self, IndexSettings};
use sluice::pipeline::receipt::{Delivery, Receipt};
use sluice::pipeline::runtime::InputNode;
use sluice::pipeline::PipelineSettings;
use sluice::traces::model::{KeyValue, Process, RefType, Span, SpanLog, SpanRef, TagValue};
use tokio::sync::mpsc;

mod common;
use common::jaeger::{documents, Jaeger};
use common::process::{log_field, Sluice};
use common::{es, node, unique};

/// Hands its batches to the pipeline and reports each receipt.
struct SpanInput {
    batches: Vec<Vec<Event>>,
    receipts: mpsc::UnboundedSender<Receipt>,
}

impl Input for SpanInput {
    fn run(self: Box<Self>, mut ctx: InputContext) -> BoxFuture<Result<(), PluginError>> {
        Box::pin(async move {
            ctx.mark_ready();
            for batch in self.batches {
                let receipt = ctx.send(batch).await.expect("the pipeline is running");
                let _ = self.receipts.send(receipt);
            }
            Ok(())
        })
    }
}

/// Runs `batches` through a pipeline of `filters` into `elasticsearch { schema => jaeger … }`
/// and waits until every receipt resolved; returns the outcomes and the pipeline id.
async fn run(
    filters: &str,
    es_settings: &str,
    batches: Vec<Vec<Event>>,
    dlq: Option<DlqWriter>,
) -> (Vec<Delivery>, String) {
    let config = format!(
        r#"input {{ generator {{ count => 1 }} }}
           filter {{ {filters} }}
           output {{ elasticsearch {{ schema => jaeger {} {es_settings}
               span_shards => 1 span_replicas => 0 service_shards => 1 service_replicas => 0
               retry_initial_interval => 1 retry_max_interval => 2 }} }}"#,
        node().output_settings()
    );
    let (sources, config) = load_str("test", &config, false)
        .map_err(|(_, e)| e)
        .unwrap();
    let id = unique("traces");
    let settings = PipelineSettings {
        workers: 1,
        batch_size: 50,
        batch_delay: Duration::from_millis(5),
        queue_capacity: 100,
    };
    let mut pipeline = compile(&config, &sources, &id, settings)
        .unwrap_or_else(|e| panic!("{:?}", e.iter().map(|e| &e.message).collect::<Vec<_>>()));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let count = batches.len();
    pipeline.inputs = vec![InputNode {
        id: Arc::from("spans"),
        input: Box::new(SpanInput {
            batches,
            receipts: tx,
        }),
        decoration: Arc::new(Decoration::default()),
    }];
    pipeline.dead_letter_queue = dlq.map(|w| Arc::new(Mutex::new(w)));
    let running = pipeline.start();
    let mut outcomes = Vec::new();
    for _ in 0..count {
        let receipt = rx.recv().await.expect("a receipt per batch");
        outcomes.push(
            tokio::time::timeout(Duration::from_secs(120), receipt)
                .await
                .expect("receipt resolves"),
        );
    }
    running.shutdown();
    running.wait().await;
    (outcomes, id)
}

fn now_us() -> i64 {
    sluice::event::now().timestamp_micros()
}

fn kv(key: &str, value: TagValue) -> KeyValue {
    KeyValue::new(key, value)
}

fn s(text: &str) -> TagValue {
    TagValue::String(text.into())
}

/// Four traces of the seed application as its tracer would send them: a request with a
/// database child and a log, a failed login whose password tag a filter removes, a health
/// check a filter drops, and a trace whose spans carry bogus start times.
struct Fixture {
    backend: Arc<Process>,
    read: u128,
    login: u128,
    health: u128,
    bogus: u128,
    start: i64,
}

impl Fixture {
    fn new(seed: u128) -> Fixture {
        Fixture {
            backend: Arc::new(Process {
                service_name: "mangakai-backend".into(),
                tags: vec![
                    kv("hostname", s("web-1")),
                    kv("ip", s("10.0.0.7")),
                    kv("jaeger.version", s("Python-4.8.0")),
                ],
            }),
            read: seed << 64 | 0x0a,
            login: seed << 64 | 0x0b,
            health: seed << 64 | 0x0c,
            bogus: seed << 64 | 0x0d,
            start: now_us() - 60_000_000,
        }
    }

    fn span(&self, trace_id: u128, span_id: u64, parent: u64, operation: &str) -> Span {
        Span {
            trace_id,
            span_id,
            parent_span_id: parent,
            operation_name: operation.into(),
            references: vec![],
            flags: 1,
            start_time_us: self.start + span_id as i64 * 1000,
            duration_us: 12_000,
            tags: vec![
                kv("span.kind", s("server")),
                kv("component", s("flask")),
                kv("sampler.type", s("const")),
                kv("sampler.param", TagValue::Bool(true)),
                kv("http.method", s("GET")),
                kv("http.status_code", TagValue::Int64(200)),
                kv("http.url", s("http://mangakai/api")),
                kv("response.ratio", TagValue::Float64(0.75)),
                kv("payload.digest", TagValue::Binary(vec![0xde, 0xad].into())),
            ],
            logs: vec![],
            process: self.backend.clone(),
        }
    }

    fn spans(&self) -> Vec<Event> {
        let read_root = self.span(self.read, 1, 0, "GET /api/manga/{id}");
        let mut db = self.span(self.read, 2, 1, "SELECT manga");
        db.tags = vec![
            kv("span.kind", s("client")),
            kv("db.statement", s("SELECT * FROM manga WHERE id = $1")),
            kv("db.rows", TagValue::Int64(1)),
        ];
        db.logs = vec![SpanLog {
            timestamp_us: self.start + 2_500,
            fields: vec![kv("event", s("retry")), kv("attempt", TagValue::Int64(2))],
        }];
        db.references = vec![SpanRef {
            ref_type: RefType::FollowsFrom,
            trace_id: self.read,
            span_id: 7,
        }];
        let mut login = self.span(self.login, 3, 0, "POST /login");
        login.tags = vec![
            kv("http.method", s("POST")),
            kv("http.status_code", TagValue::Int64(500)),
            kv("user.password", s("hunter2")),
            kv("error", TagValue::Bool(true)),
        ];
        let health = self.span(self.health, 4, 0, "GET /health");
        let mut future = self.span(self.bogus, 5, 0, "GET /clock-from-8154");
        future.start_time_us = 193_331_000_000_000_000; // 8096-…: far beyond any skew
        let mut past = self.span(self.bogus, 6, 5, "GET /clock-from-1999");
        past.start_time_us = 946_684_800_000_000; // 2000-01-01
        [read_root, db, login, health, future, past]
            .into_iter()
            .map(Event::from_span)
            .collect()
    }
}

fn trace_hex(id: u128) -> String {
    format!("{id:032x}")
}

/// The filters a user would write: drop health checks, strip a secret tag.
const FILTERS: &str = r#"
    if [operationName] == "GET /health" { drop {} }
    if [operationName] == "POST /login" { mutate { remove_field => ["[tags][2]"] } }
"#;

fn seed() -> u128 {
    u128::from(std::process::id()) << 32 | u128::from(now_us() as u32)
}

async fn index_names(prefix: &str) -> Vec<String> {
    let indices = es(
        Method::GET,
        &format!("/_cat/indices/{prefix}jaeger-*?format=json"),
        None,
    )
    .await;
    let mut names: Vec<String> = indices
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["index"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

fn tag<'j>(tags: &'j Json, key: &str) -> Option<&'j Json> {
    tags.as_array()?.iter().find(|t| t["key"] == key)
}

/// Everything Jaeger Query shows of the fixture, checked against what was sent.
fn check_jaeger_reads_the_fixture(jaeger: &Jaeger, f: &Fixture) {
    let services = jaeger.get("/api/services");
    assert_eq!(services["data"], json!(["mangakai-backend"]), "{services}");
    let operations = jaeger.get("/api/services/mangakai-backend/operations");
    let mut names: Vec<&str> = operations["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "GET /api/manga/{id}",
            "GET /clock-from-1999",
            "GET /clock-from-8154",
            "POST /login",
            "SELECT manga"
        ],
        "the health check was dropped"
    );

    let trace = &jaeger.get(&format!("/api/traces/{}?raw=true", trace_hex(f.read)))["data"][0];
    assert_eq!(trace["traceID"], trace_hex(f.read));
    let spans = trace["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 2);
    let root = spans
        .iter()
        .find(|s| s["spanID"] == "0000000000000001")
        .unwrap();
    let db = spans
        .iter()
        .find(|s| s["spanID"] == "0000000000000002")
        .unwrap();
    assert_eq!(root["operationName"], "GET /api/manga/{id}");
    assert_eq!(root["references"], json!([]));
    assert_eq!(root["startTime"], f.start + 1000);
    assert_eq!(root["duration"], 12_000);
    assert_eq!(
        db["references"][0],
        json!({"refType": "CHILD_OF", "traceID": trace_hex(f.read), "spanID": "0000000000000001"})
    );
    assert_eq!(db["references"][1]["refType"], "FOLLOWS_FROM");
    let root_tags = &root["tags"];
    assert_eq!(
        tag(root_tags, "http.status_code"),
        Some(&json!({"key": "http.status_code", "type": "int64", "value": 200}))
    );
    assert_eq!(tag(root_tags, "sampler.param").unwrap()["value"], true);
    assert_eq!(tag(root_tags, "response.ratio").unwrap()["value"], 0.75);
    assert_eq!(tag(root_tags, "payload.digest").unwrap()["type"], "binary");
    assert_eq!(tag(root_tags, "http.method").unwrap()["value"], "GET");
    assert_eq!(root_tags.as_array().unwrap().len(), 9);
    let log = &db["logs"][0];
    assert_eq!(log["timestamp"], f.start + 2_500);
    assert_eq!(tag(&log["fields"], "event").unwrap()["value"], "retry");
    assert_eq!(tag(&log["fields"], "attempt").unwrap()["value"], 2);
    let process = &trace["processes"][root["processID"].as_str().unwrap()];
    assert_eq!(process["serviceName"], "mangakai-backend");
    assert_eq!(tag(&process["tags"], "hostname").unwrap()["value"], "web-1");
    assert_eq!(
        tag(&process["tags"], "jaeger.version").unwrap()["value"],
        "Python-4.8.0"
    );

    let login = &jaeger.get(&format!("/api/traces/{}", trace_hex(f.login)))["data"][0]["spans"][0];
    assert!(
        tag(&login["tags"], "user.password").is_none(),
        "the filter removed it"
    );
    assert_eq!(tag(&login["tags"], "error").unwrap()["value"], true);

    // Tag search (numbers are matched in their string form, as Jaeger does).
    let window = format!(
        "start={}&end={}",
        now_us() - 3_600_000_000,
        now_us() + 3_600_000_000
    );
    let found = jaeger.get(&format!(
        "/api/traces?service=mangakai-backend&tags=%7B%22http.status_code%22%3A%22500%22%7D&{window}&limit=20"
    ));
    let ids: Vec<&str> = found["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["traceID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [trace_hex(f.login)]);
    let found = jaeger.get(&format!(
        "/api/traces?service=mangakai-backend&tags=%7B%22hostname%22%3A%22web-1%22%7D&operation=SELECT%20manga&{window}"
    ));
    assert_eq!(
        found["data"][0]["traceID"],
        trace_hex(f.read),
        "process tag search"
    );

    // Spans with bogus clocks are dated now, so they can be opened by id, their own start kept
    // in a tag.
    let bogus = &jaeger.get(&format!("/api/traces/{}?raw=true", trace_hex(f.bogus)))["data"][0];
    let spans = bogus["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 2);
    for span in spans {
        let original = tag(&span["tags"], "sluice.original_start_time").unwrap();
        assert_eq!(original["type"], "int64");
        // Jaeger's API writes an int64 beyond 2^53 as a string, for JavaScript's sake.
        let value = match &original["value"] {
            Json::String(s) => s.parse().unwrap(),
            number => number.as_i64().unwrap(),
        };
        assert!(
            [193_331_000_000_000_000i64, 946_684_800_000_000].contains(&value),
            "{original}"
        );
        let start = span["startTime"].as_i64().unwrap();
        assert!(
            (now_us() - start).abs() < 600_000_000,
            "started now: {start}"
        );
    }
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jaeger_query_reads_spans_written_through_a_pipeline() {
    let prefix = unique("jq");
    let before = today();
    let fixture = Fixture::new(seed());
    let mut spans = fixture.spans();
    let later = spans.split_off(3);
    let (outcomes, pipeline) = run(
        FILTERS,
        &format!(r#"index_prefix => "{prefix}""#),
        vec![spans, later],
        None,
    )
    .await;
    assert_eq!(outcomes, [Delivery::Delivered, Delivery::Delivered]);
    let after = today();

    // Only today's pair of indices: the bogus start times opened none of their own.
    let names = index_names(&format!("{prefix}-")).await;
    assert!((2..=4).contains(&names.len()), "{names:?}");
    for name in &names {
        assert!(
            name.ends_with(&before) || name.ends_with(&after),
            "{names:?}"
        );
    }
    let metrics = sluice::observe::metrics::registry().render();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("sluice_elasticsearch_events_total{")
                && l.contains(&format!(r#"pipeline="{pipeline}""#))
                && l.ends_with(r#"result="start_time_clamped"} 2"#)),
        "{metrics}"
    );

    // The documents themselves: what Jaeger's reader and Kibana users see.
    let (docs, services) = documents(&format!("{prefix}-")).await;
    assert_eq!(docs.len(), 5);
    assert_eq!(services.len(), 5, "one per operation: {services:?}");
    let login = json!({"serviceName": "mangakai-backend", "operationName": "POST /login"});
    let login_service = services.iter().find(|s| s["_source"] == login).unwrap();
    assert_eq!(
        login_service["_id"],
        format!("{:x}", fnv1a(b"mangakai-backendPOST /login"))
    );
    let root = docs
        .iter()
        .find(|d| d["spanID"] == "0000000000000001")
        .unwrap();
    assert_eq!(root["startTimeMillis"], (fixture.start + 1000) / 1000);
    assert_eq!(root["flags"], 1);
    assert!(root.get("parentSpanID").is_none());
    // Jaeger v2 always writes `span.kind` and `error` as fields, and so do we.
    assert_eq!(root["tag"], json!({"span@kind": "server"}));
    assert!(tag(&root["tags"], "span.kind").is_none());
    let db = docs
        .iter()
        .find(|d| d["spanID"] == "0000000000000002")
        .unwrap();
    assert_eq!(db["parentSpanID"], "0000000000000001");
    let all = serde_json::to_string(&docs).unwrap();
    assert!(!all.contains("hunter2"));

    let jaeger = Jaeger::query(&prefix, "@");
    check_jaeger_reads_the_fixture(&jaeger, &fixture);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jaeger_query_reads_tags_written_as_fields() {
    let prefix = unique("jq-fields");
    let fixture = Fixture::new(seed());
    let (outcomes, _) = run(
        FILTERS,
        &format!(
            r#"index_prefix => "{prefix}-" tags_as_fields => ["http.status_code", "hostname", "payload.digest"]"#
        ),
        vec![fixture.spans()],
        None,
    )
    .await;
    assert_eq!(outcomes, [Delivery::Delivered]);
    let (docs, _) = documents(&format!("{prefix}-")).await;
    let root = docs
        .iter()
        .find(|d| d["spanID"] == "0000000000000001")
        .unwrap();
    assert_eq!(
        root["tag"],
        json!({"http@status_code": 200, "span@kind": "server"})
    );
    assert!(tag(&root["tags"], "http.status_code").is_none());
    assert!(
        tag(&root["tags"], "payload.digest").is_some(),
        "binary stays nested"
    );
    assert_eq!(root["process"]["tag"], json!({"hostname": "web-1"}));
    let login = docs
        .iter()
        .find(|d| d["spanID"] == "0000000000000003")
        .unwrap();
    assert_eq!(
        login["tag"]["http@status_code"], 500,
        "the tree path elevates too"
    );
    // Elevated tags are mapped as keywords by the template's dynamic templates.
    let mapping = es(
        Method::GET,
        &format!("/{prefix}-jaeger-span-*/_mapping/field/tag.*,process.tag.*"),
        None,
    )
    .await;
    let text = mapping.to_string();
    assert!(
        text.contains(r#""tag.http@status_code""#) && text.contains(r#""type":"keyword""#),
        "{text}"
    );

    // Everything reads back the same, the elevated tags merged in with their dots.
    let jaeger = Jaeger::query(&format!("{prefix}-"), "@");
    check_jaeger_reads_the_fixture(&jaeger, &fixture);

    // All tags as fields, with another dot replacement.
    let prefix = unique("jq-all");
    let fixture = Fixture::new(seed());
    let (outcomes, _) = run(
        FILTERS,
        &format!(
            r#"index_prefix => "{prefix}" tags_as_fields_all => true tags_as_fields_dot_replacement => "__""#
        ),
        vec![fixture.spans()],
        None,
    )
    .await;
    assert_eq!(outcomes, [Delivery::Delivered]);
    let (docs, _) = documents(&format!("{prefix}-")).await;
    let db = docs
        .iter()
        .find(|d| d["spanID"] == "0000000000000002")
        .unwrap();
    assert_eq!(db["tag"]["db__rows"], 1);
    assert_eq!(db["tags"], json!([]));
    assert_eq!(
        db["logs"][0]["fields"].as_array().unwrap().len(),
        2,
        "log fields stay"
    );
    let jaeger = Jaeger::query(&prefix, "__");
    check_jaeger_reads_the_fixture(&jaeger, &fixture);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_span_document_elasticsearch_refuses_goes_to_the_dead_letter_queue() {
    let prefix = unique("jq-dlq");
    let dir = tempfile::tempdir().unwrap();
    let fixture = Fixture::new(seed());
    let spans: Vec<Event> = fixture.spans().into_iter().take(2).collect();
    // `duration` is a long in the template: a filter that makes it text breaks the document.
    let filters =
        r#"if [spanID] == "0000000000000002" { mutate { replace => { "duration" => "slow" } } }"#;
    let dlq = DlqWriter::open(DlqConfig::new(dir.path(), "main")).unwrap();
    let (outcomes, _) = run(
        filters,
        &format!(r#"index_prefix => "{prefix}""#),
        vec![spans],
        Some(dlq),
    )
    .await;
    assert_eq!(
        outcomes,
        [Delivery::Delivered],
        "in ES or durably in the DLQ"
    );
    let (docs, services) = documents(&format!("{prefix}-")).await;
    assert_eq!(docs.len(), 1);
    assert_eq!(
        services.len(),
        2,
        "the refused span's service document is fine"
    );
    let letters: Vec<_> = DlqReader::open(dir.path(), "main")
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    assert_eq!(letter.status, 400);
    assert_eq!(letter.error_type, "document_parsing_exception");
    assert!(letter.index.starts_with(&format!("{prefix}-jaeger-span-")));
    let event: Json = serde_json::from_slice(&letter.event).unwrap();
    assert_eq!(event["duration"], "slow");
    assert_eq!(event["spanID"], "0000000000000002");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_templates_are_jaegers() {
    let prefix = unique("jq-tpl");
    let fixture = Fixture::new(seed());
    let (outcomes, _) = run(
        "",
        &format!(r#"index_prefix => "{prefix}""#),
        vec![fixture.spans().into_iter().take(1).collect()],
        None,
    )
    .await;
    assert_eq!(outcomes, [Delivery::Delivered]);
    let ours = [
        templates::span_template(&format!("{prefix}-jaeger-span-"), SETTINGS),
        templates::service_template(&format!("{prefix}-jaeger-service-"), SETTINGS),
    ];
    for (kind, ours) in ["span", "service"].into_iter().zip(ours) {
        let name = format!("{prefix}-jaeger-{kind}");
        let installed = es(Method::GET, &format!("/_index_template/{name}"), None).await;
        let installed = &installed["index_templates"][0]["index_template"];
        assert_eq!(installed["index_patterns"], json!([format!("{name}-*")]));
        assert_eq!(
            installed["template"]["mappings"]["properties"]["operationName"]["type"],
            "keyword"
        );
        let ours: Json = serde_json::from_slice(&ours).unwrap();
        let jaegers = jaeger_mapping(&format!("jaeger-{kind}-8.json"), &format!("{prefix}-"));
        assert_eq!(ours["index_patterns"], json!([jaegers["index_patterns"]]));
        assert_eq!(ours["priority"], jaegers["priority"]);
        assert_eq!(ours["template"], jaegers["template"], "{kind} template");
    }
}

/// What the test pipelines ask for (`span_shards => 1 span_replicas => 0 …`).
const SETTINGS: IndexSettings = IndexSettings {
    shards: 1,
    replicas: 0,
    priority: 0,
};

/// A template from Jaeger's module source (`internal/storage/v1/elasticsearch/mappings`),
/// its Go template rendered for ES 8 without ILM, as Jaeger renders it.
fn jaeger_mapping(file: &str, index_prefix: &str) -> Json {
    let out = std::process::Command::new("go")
        .args([
            "mod",
            "download",
            "-json",
            "github.com/jaegertracing/jaeger@v1.76.0",
        ])
        .env("GOFLAGS", "-mod=mod")
        .output()
        .expect("go mod download");
    let info: Json = serde_json::from_slice(&out.stdout).unwrap();
    let dir = info["Dir"].as_str().unwrap();
    let path = format!("{dir}/internal/storage/v1/elasticsearch/mappings/{file}");
    let text = std::fs::read_to_string(&path).unwrap();
    // Drop the `{{- if .UseILM }} … {{- end }}` blocks, then fill in the values.
    let mut rendered = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("{{- if .UseILM") {
        rendered.push_str(&rest[..at]);
        let end = ["{{- end }}", "{{- end}}"]
            .iter()
            .filter_map(|marker| rest[at..].find(marker))
            .min();
        let end = at + end.unwrap();
        rest = &rest[end..];
        rest = &rest[rest.find("}}").unwrap() + 2..];
    }
    rendered.push_str(rest);
    let rendered = rendered
        .replace("{{ .Priority }}", "0")
        .replace("{{ .IndexPrefix }}", index_prefix)
        .replace("{{ .Shards }}", "1")
        .replace("{{ .Replicas }}", "0");
    serde_json::from_str(&rendered).unwrap_or_else(|e| panic!("{e}: {rendered}"))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}

/// Python `jaeger-client` 4.8.0 (`scripts/jaeger-peers.sh` puts it in
/// `target/jaeger-client-venv`) configured exactly as the seed's `tracing/jaeger_config.py`:
/// const sampler, `reporter_batch_size` 1, and no `local_agent`, so it sends to the agent on
/// localhost 6831/udp and would ask 5778 for sampling. Sluice listens on those very ports as
/// that agent, writes through `schema => jaeger`, and Jaeger Query reads the traces back with
/// their tags and `log_kv` logs, and finds them by a tag, a log field and an elevated tag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeds_jaeger_client_through_sluice_into_jaeger_query() {
    let prefix = unique("jq-seed");
    let sluice = Sluice::run(&format!(
        r#"input {{ jaeger {{ host => "127.0.0.1" thrift_compact_port => 6831 sampling_port => 5778
                 thrift_binary_port => false thrift_http_port => false grpc_port => false }} }}
           output {{ elasticsearch {{ schema => jaeger {} index_prefix => "{prefix}"
               span_shards => 1 span_replicas => 0 service_shards => 1 service_replicas => 0 }} }}"#,
        node().output_settings()
    ));
    // The sampling endpoint is logged last; a port in use fails the run before that.
    while log_field(&sluice.wait_for_log("jaeger input listening"), "endpoint").as_deref()
        != Some("sampling")
    {}

    let python = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/target/jaeger-client-venv/bin/python"
    );
    let out = std::process::Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/peers/jaeger_client_send.py"
        ))
        .args(["seed", "-", "-", "mangakai-backend", "3"])
        .output()
        .expect("jaeger-client's virtualenv: run scripts/jaeger-peers.sh once");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sent: Json = serde_json::from_slice(&out.stdout).unwrap();
    let trace_ids: Vec<String> = sent["trace_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(trace_ids.len(), 3);

    // UDP has no answer: wait until the six spans are stored.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while documents(&format!("{prefix}-")).await.0.len() < 6 {
        assert!(
            std::time::Instant::now() < deadline,
            "the spans never reached Elasticsearch"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    let jaeger = Jaeger::query(&prefix, "@");
    assert_eq!(
        jaeger.get("/api/services")["data"],
        json!(["mangakai-backend"])
    );
    let mut operations: Vec<String> = jaeger.get("/api/services/mangakai-backend/operations")
        ["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap().to_owned())
        .collect();
    operations.sort();
    assert_eq!(operations, ["GET /api/manga", "db.query"]);

    // jaeger-client's ids are 64-bit: stored as 32 hex digits, shown by Jaeger Query as 16.
    let shown = |id: &str| id.strip_prefix("0000000000000000").unwrap().to_owned();
    for (i, id) in trace_ids.iter().enumerate() {
        let trace = &jaeger.get(&format!("/api/traces/{id}"))["data"][0];
        let id = shown(id);
        assert_eq!(trace["traceID"], id);
        let spans = trace["spans"].as_array().unwrap();
        assert_eq!(spans.len(), 2, "trace {id}");
        let root = spans
            .iter()
            .find(|s| s["operationName"] == "GET /api/manga")
            .unwrap();
        let child = spans
            .iter()
            .find(|s| s["operationName"] == "db.query")
            .unwrap();
        assert_eq!(
            child["references"],
            json!([{"refType": "CHILD_OF", "traceID": id, "spanID": root["spanID"]}])
        );
        let tags = &root["tags"];
        assert_eq!(tag(tags, "component").unwrap()["value"], "flask");
        assert_eq!(
            tag(tags, "http.status_code"),
            Some(&json!({"key": "http.status_code", "type": "int64", "value": 500}))
        );
        assert_eq!(tag(tags, "error").unwrap()["value"], true);
        assert_eq!(tag(tags, "manga.score").unwrap()["value"], 9.5);
        assert_eq!(tag(tags, "sampler.type").unwrap()["value"], "const");
        assert_eq!(
            tag(&child["tags"], "db.statement").unwrap()["value"],
            format!("SELECT * FROM manga WHERE id = {i}")
        );
        let log = &child["logs"][0];
        assert_eq!(tag(&log["fields"], "event").unwrap()["value"], "cache miss");
        assert_eq!(
            tag(&log["fields"], "key").unwrap()["value"],
            format!("manga:{i}")
        );
        let process = &trace["processes"][root["processID"].as_str().unwrap()];
        assert_eq!(process["serviceName"], "mangakai-backend");
        assert_eq!(
            tag(&process["tags"], "jaeger.version").unwrap()["value"],
            "Python-4.8.0"
        );
        assert!(tag(&process["tags"], "hostname").is_some());
    }

    // Searches: a span tag, a log_kv field (nested `logs.fields`), an elevated tag (`tag.error`).
    let now = now_us();
    let search = |tags: &str| -> Vec<String> {
        let found = jaeger.get(&format!(
            "/api/traces?service=mangakai-backend&tags={tags}&start={}&end={}&limit=20",
            now - 3_600_000_000,
            now + 60_000_000
        ));
        let mut ids: Vec<String> = found["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["traceID"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let mut all: Vec<String> = trace_ids.iter().map(|id| shown(id)).collect();
    all.sort();
    assert_eq!(search("%7B%22component%22%3A%22flask%22%7D"), all);
    assert_eq!(
        search("%7B%22key%22%3A%22manga%3A1%22%7D"),
        [shown(&trace_ids[1])]
    );
    assert_eq!(search("%7B%22error%22%3A%22true%22%7D"), all);
}
