//! The real Jaeger v2 (built by `scripts/jaeger.sh`) reading the test node, and what is in a
//! Jaeger index prefix, fetched and normalised for comparisons.
//!
//! [`Jaeger::query`] runs `jaeger` query-only (nop receiver and exporter, Jaeger Query on a
//! free port) against [`super::node`] with an index prefix; [`Jaeger::collector`] runs it as
//! Jaeger's own writer (OTLP in, its Elasticsearch storage out) with Jaeger Query over what it
//! wrote. The process ends when the value is dropped. [`documents`] returns the span and service
//! documents under a prefix in an order that does not depend on how they were written, for
//! comparing two writers field by field.

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

/// A real Jaeger v2 process reading (and, as a collector, writing) an index prefix on the
/// test node.
pub struct Jaeger {
    child: Child,
    /// `http://127.0.0.1:port` of Jaeger Query's HTTP API.
    pub url: String,
    /// `127.0.0.1:port` of the OTLP/HTTP receiver, when started as a collector.
    pub otlp_http: Option<String>,
    _config: tempfile::NamedTempFile,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Jaeger {
    /// Query-only (nop receiver and exporter): Jaeger Query over what another writer stored.
    /// `dot_replacement` must be the writer's.
    pub fn query(index_prefix: &str, dot_replacement: &str) -> Jaeger {
        Jaeger::start(index_prefix, dot_replacement, None)
    }

    /// Jaeger's own writer: the `otlp` receiver (HTTP only) → `batch` →
    /// `jaeger_storage_exporter` into the test node under `index_prefix`, with the mappings
    /// Jaeger creates itself (one shard, no replica); Jaeger Query serves the same prefix.
    pub fn collector(index_prefix: &str) -> Jaeger {
        Jaeger::start(index_prefix, "@", Some(free_port()))
    }

    fn start(index_prefix: &str, dot_replacement: &str, otlp_http: Option<u16>) -> Jaeger {
        let node = node();
        let (http, grpc) = (free_port(), free_port());
        let indices = match otlp_http {
            Some(_) => format!(
                "{{index_prefix: \"{index_prefix}\", spans: {{shards: 1, replicas: 0}}, \
                 services: {{shards: 1, replicas: 0}}}}"
            ),
            None => format!("{{index_prefix: \"{index_prefix}\"}}"),
        };
        let mut es = format!(
            "server_urls: [{url}]\n          version: 8\n          disable_health_check: true\n          \
             create_mappings: {create}\n          indices: {indices}\n          \
             tags_as_fields: {{dot_replacement: \"{dot_replacement}\"}}\n",
            url = node.url,
            create = otlp_http.is_some(),
        );
        if let Some(ca) = &node.ca {
            es += &format!("          tls: {{ca_file: {}}}\n", ca.display());
        }
        if let Some(password) = &node.password {
            es += &format!(
                "          auth: {{basic: {{username: elastic, password: \"{password}\"}}}}\n"
            );
        }
        // The receiver and exporter: each a name and its settings.
        let ((receiver, receiver_settings), (exporter, exporter_settings)) = match otlp_http {
            Some(port) => (
                (
                    "otlp",
                    format!("{{protocols: {{http: {{endpoint: \"127.0.0.1:{port}\"}}}}}}"),
                ),
                ("jaeger_storage_exporter", "{trace_storage: es}"),
            ),
            None => (("nop", String::new()), ("nop", "")),
        };
        let config = format!(
            r#"service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces: {{receivers: [{receiver}], processors: [batch], exporters: [{exporter}]}}
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
  {receiver}: {receiver_settings}
processors:
  batch:
exporters:
  {exporter}: {exporter_settings}
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
        let jaeger = Jaeger {
            child,
            url: format!("http://127.0.0.1:{http}"),
            otlp_http: otlp_http.map(|port| format!("127.0.0.1:{port}")),
            _config: file,
        };
        jaeger.wait_ready();
        jaeger
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

impl Drop for Jaeger {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The span documents (without `_id`, sorted by trace, span and start) and the service
/// documents (`_id` kept, sorted by it) under `index_prefix` (already run through Jaeger's
/// prefix rule, e.g. `prod-`), after a refresh. Tags, logs and references keep the order they
/// were written in: Jaeger's writer keeps the order of the OTLP attributes, so ours must too.
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
        .map(|hit| hit["_source"].clone())
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
