//! The real Elasticsearch node the tests write to, shared by the test binaries that need it.
//!
//! Where the node comes from: `SLUICE_ES_URL` when set (with `SLUICE_ES_CA` and
//! `SLUICE_ES_PASSWORD` for the user `elastic` when it is secured); it must be a node started
//! like ours. Otherwise the first test to ask starts one through `scripts/elasticsearch.sh` in
//! its own run directory (`/tmp/sluice-es-test`, HTTPS port 9250) and leaves it running for the
//! next run (`SLUICE_ES_RUN=/tmp/sluice-es-test scripts/elasticsearch.sh stop` ends it). That
//! node has security on (HTTPS with a CA of its own, user `elastic`); a write pool of one
//! thread and one queue slot, so concurrent bulk items get 429; and
//! `http.max_content_length: 1mb`, so large requests get 413.

// Each test binary compiles this module and uses a part of it.
#![allow(dead_code)]

pub mod fifo;
pub mod jaeger;
pub mod pki;
pub mod process;
pub mod pylogbeat;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use hyper::Method;
use serde_json::Value as Json;
use sluice::outputs::elasticsearch::{Client, ClientConfig, ElasticsearchConfig, VerificationMode};

/// The node the tests write to.
pub struct TestNode {
    /// `scheme://127.0.0.1:port`.
    pub url: String,
    /// `127.0.0.1:port`, for the TCP forwarder.
    pub addr: String,
    pub ca: Option<PathBuf>,
    pub password: Option<String>,
}

impl TestNode {
    /// The Elasticsearch output settings that reach this node (hosts, TLS, credentials), as
    /// configuration text.
    pub fn output_settings(&self) -> String {
        let mut settings = format!("hosts => [\"{}\"]", self.url);
        if let Some(ca) = &self.ca {
            settings += &format!(" ssl_certificate_authorities => \"{}\"", ca.display());
        }
        if let Some(password) = &self.password {
            settings += &format!(" user => elastic password => \"{password}\"");
        }
        settings
    }

    /// `url` with another port: a place where this node is not.
    pub fn elsewhere(&self, port: u16) -> String {
        let scheme = self.url.split("://").next().unwrap();
        format!("{scheme}://127.0.0.1:{port}")
    }
}

/// The test node, started once per test binary.
pub fn node() -> &'static TestNode {
    static NODE: OnceLock<TestNode> = OnceLock::new();
    NODE.get_or_init(|| {
        if let Ok(url) = std::env::var("SLUICE_ES_URL") {
            let url = url.trim_end_matches('/').to_owned();
            return TestNode {
                addr: url.split("://").last().unwrap().to_owned(),
                ca: std::env::var_os("SLUICE_ES_CA").map(PathBuf::from),
                password: std::env::var("SLUICE_ES_PASSWORD").ok(),
                url,
            };
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/elasticsearch.sh");
        let out = Command::new("bash")
            .args([script, "start", "1"])
            .env("SLUICE_ES_RUN", RUN)
            .env("SLUICE_ES_PORT", "9250")
            .env("SLUICE_ES_TRANSPORT_PORT", "9350")
            .env("SLUICE_ES_WRITE_QUEUE", "1")
            .env("SLUICE_ES_MAX_CONTENT", "1mb")
            .env("SLUICE_ES_SECURE", "1")
            .env("SLUICE_ES_PASSWORD", PASSWORD)
            .output()
            .expect("run scripts/elasticsearch.sh");
        assert!(
            out.status.success(),
            "scripts/elasticsearch.sh start failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        TestNode {
            url: "https://127.0.0.1:9250".into(),
            addr: "127.0.0.1:9250".into(),
            ca: Some(PathBuf::from(RUN).join("certs/ca.pem")),
            password: Some(PASSWORD.into()),
        }
    })
}

pub const RUN: &str = "/tmp/sluice-es-test";
pub const PASSWORD: &str = "sluice-test-pw";

pub fn connection(config: &mut ElasticsearchConfig) {
    let node = node();
    config.client.hosts = vec![node.url.clone()];
    config.client.ssl_certificate_authorities = node.ca.iter().cloned().collect();
    config.client.user = node.password.as_ref().map(|_| "elastic".to_owned());
    config.client.password = node.password.clone();
}

/// A name no other test (or earlier run) uses.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("sluice-it-{prefix}-{}-{nanos}", std::process::id())
}

/// A plain client for checking what ES holds (not the output under test's pool).
pub fn admin() -> Client {
    let node = node();
    Client::new(&ClientConfig {
        hosts: vec![node.url.clone()],
        user: node.password.as_ref().map(|_| "elastic".to_owned()),
        password: node.password.clone(),
        api_key: None,
        ssl_enabled: None,
        ssl_certificate_authorities: node.ca.iter().cloned().collect(),
        ssl_verification_mode: VerificationMode::Full,
        compression_level: 0,
        timeout: Duration::from_secs(60),
    })
    .unwrap()
}

pub async fn es(method: Method, path: &str, body: Option<&str>) -> Json {
    let reply = admin()
        .send(
            method,
            path,
            "application/json",
            body.map(|b| bytes::Bytes::copy_from_slice(b.as_bytes())),
        )
        .await
        .unwrap();
    serde_json::from_slice(&reply.body).unwrap_or(Json::Null)
}

/// Creates `index` with `message` mapped as a number, so every event whose `message` is text
/// comes back 400 (a mapping error): the way tests send events to the dead-letter queue.
pub async fn refuse_text_messages(index: &str) {
    let created = es(
        Method::PUT,
        &format!("/{index}"),
        Some(r#"{"mappings":{"properties":{"message":{"type":"long"}}}}"#),
    )
    .await;
    assert_eq!(created["acknowledged"], true, "{created}");
}

pub async fn count(index: &str, query: &str) -> u64 {
    es(Method::POST, &format!("/{index}/_refresh"), None).await;
    let v = es(Method::GET, &format!("/{index}/_count{query}"), None).await;
    v["count"]
        .as_u64()
        .unwrap_or_else(|| panic!("count of {index}: {v}"))
}

/// The JSON lines a file output has written to `path` so far. A last line without its newline
/// is still being written and is left for the next read.
pub fn json_lines(path: &Path) -> Vec<Json> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.split_inclusive('\n')
        .filter(|line| line.ends_with('\n'))
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}
