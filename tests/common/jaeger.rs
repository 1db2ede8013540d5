//! The real Jaeger v2 (built by `scripts/jaeger.sh`) reading the test node, and what is in a
//! Jaeger index prefix, fetched and normalised for comparisons.
//!
//! [`JaegerQuery::start`] runs `jaeger` query-only (nop receiver and exporter, Jaeger Query on
//! a free port) against [`super::node`] with an index prefix; the process ends when the value
//! is dropped. [`documents`] returns the span and service documents under a prefix in an order
//! that does not depend on how they were written, for comparing two writers field by field.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hyper::Method;
use serde_json::Value as Json;

use super::{es, node};

/// The directory holding `jaeger` (`what`: `jaeger`, `telemetrygen` or `all`), built on
/// first use; the script serialises concurrent builds and returns at once when built.
pub fn bin_dir(what: &str) -> PathBuf {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/jaeger.sh");
    let out = Command::new("bash")
        .args([script, "install", what])
        .output()
        .expect("run scripts/jaeger.sh");
    assert!(
        out.status.success(),
        "scripts/jaeger.sh install {what} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// A query-only Jaeger v2 reading `index_prefix` on the test node.
pub struct JaegerQuery {
    child: Child,
    /// `http://127.0.0.1:port` of Jaeger Query's HTTP API.
    pub url: String,
    _config: tempfile::NamedTempFile,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl JaegerQuery {
    /// Starts Jaeger and waits until its API answers. `dot_replacement` must be the writer's.
    pub fn start(index_prefix: &str, dot_replacement: &str) -> JaegerQuery {
        let node = node();
        let (http, grpc) = (free_port(), free_port());
        let mut es = format!(
            "server_urls: [{url}]\n          version: 8\n          disable_health_check: true\n          \
             create_mappings: false\n          indices: {{index_prefix: \"{index_prefix}\"}}\n          \
             tags_as_fields: {{dot_replacement: \"{dot_replacement}\"}}\n",
            url = node.url
        );
        if let Some(ca) = &node.ca {
            es += &format!("          tls: {{ca_file: {}}}\n", ca.display());
        }
        if let Some(password) = &node.password {
            es += &format!(
                "          auth: {{basic: {{username: elastic, password: \"{password}\"}}}}\n"
            );
        }
        let config = format!(
            r#"service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces: {{receivers: [nop], processors: [batch], exporters: [nop]}}
  telemetry: {{metrics: {{level: none}}, logs: {{level: warn}}}}
extensions:
  jaeger_query:
    storage: {{traces: es}}
    http: {{endpoint: "127.0.0.1:{http}"}}
    grpc: {{endpoint: "127.0.0.1:{grpc}"}}
  jaeger_storage:
    backends:
      es:
        elasticsearch:
          {es}
receivers:
  nop:
processors:
  batch:
exporters:
  nop:
"#
        );
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(config.as_bytes()).unwrap();
        let jaeger = bin_dir("jaeger").join("jaeger");
        let child = Command::new(jaeger)
            .arg("--config")
            .arg(file.path())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start jaeger");
        let query = JaegerQuery {
            child,
            url: format!("http://127.0.0.1:{http}"),
            _config: file,
        };
        query.wait_ready();
        query
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if self.try_get("/api/services").is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("Jaeger Query did not answer on {} within 90 s", self.url);
    }

    fn try_get(&self, path: &str) -> Option<Json> {
        let url = format!("{}{path}", self.url);
        let out = Command::new("curl")
            .args(["-sS", "--fail-with-body", "--max-time", "20", &url])
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        serde_json::from_slice(&out.stdout).ok()
    }

    /// GETs `path` (with its query string) from the Query API; panics on an error answer.
    pub fn get(&self, path: &str) -> Json {
        self.try_get(path)
            .unwrap_or_else(|| panic!("Jaeger Query GET {path} failed"))
    }
}

impl Drop for JaegerQuery {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The span documents (without `_id`, sorted by trace, span and start) and the service
/// documents (`_id` kept, sorted by it) under `index_prefix` (already run through Jaeger's
/// prefix rule, e.g. `prod-`), after a refresh. Nested `tags`, `process.tags` and log fields
/// are sorted by key, so two writers that order tags differently compare equal.
pub async fn documents(index_prefix: &str) -> (Vec<Json>, Vec<Json>) {
    let fetch = |kind: &'static str| async move {
        let pattern = format!("{index_prefix}jaeger-{kind}-*");
        es(Method::POST, &format!("/{pattern}/_refresh"), None).await;
        let reply = es(
            Method::POST,
            &format!("/{pattern}/_search?size=10000"),
            Some(r#"{"query":{"match_all":{}}}"#),
        )
        .await;
        reply["hits"]["hits"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let mut spans: Vec<Json> = fetch("span")
        .await
        .into_iter()
        .map(|hit| normalise_span(hit["_source"].clone()))
        .collect();
    spans.sort_by_key(|s| {
        (
            s["traceID"].to_string(),
            s["spanID"].to_string(),
            s["startTime"].to_string(),
        )
    });
    let mut services: Vec<Json> = fetch("service")
        .await
        .into_iter()
        .map(|hit| serde_json::json!({"_id": hit["_id"], "_source": hit["_source"]}))
        .collect();
    services.sort_by_key(|s| s["_id"].to_string());
    (spans, services)
}

fn normalise_span(mut span: Json) -> Json {
    let by_key = |list: &mut Json| {
        if let Some(items) = list.as_array_mut() {
            items.sort_by_key(|kv| kv["key"].to_string());
        }
    };
    by_key(&mut span["tags"]);
    if span.get("process").is_some() {
        by_key(&mut span["process"]["tags"]);
    }
    if let Some(logs) = span["logs"].as_array_mut() {
        for log in logs {
            by_key(&mut log["fields"]);
        }
    }
    span
}
