//! Talking HTTP to a set of Elasticsearch nodes: which node, which headers, how long to wait.
//!
//! Requests go round-robin over the configured hosts. A node that cannot be reached
//! (connection refused or reset, TLS failure, timeout) is set aside for a while that doubles
//! with each consecutive failure (up to a minute) and the same request is tried on the next
//! node at once; a node that answers anything at all is healthy again. When every node is set
//! aside the one due back soonest is tried anyway, so a cluster that comes back is found
//! without waiting out the whole set-aside. Bodies are gzipped once per request (not per
//! node). See docs/ELASTICSEARCH.md for why this is hyper rather than the `elasticsearch`
//! crate.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;

use super::gzip::gzip;

/// `ssl_verification_mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum VerificationMode {
    /// Check the certificate chain and that it names the host.
    #[default]
    Full,
    /// Accept any certificate (tests, self-signed clusters you already trust by other means).
    None,
}

impl VerificationMode {
    /// Parses Logstash's values: `full`, `none`.
    pub fn parse(name: &str) -> Option<VerificationMode> {
        match name {
            "full" => Some(VerificationMode::Full),
            "none" => Some(VerificationMode::None),
            _ => None,
        }
    }
}

/// The connection settings of the output (Logstash's names).
#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub hosts: Vec<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    /// `id:api_key`, sent base64-encoded as `Authorization: ApiKey …`.
    pub api_key: Option<String>,
    /// Forces `https` for hosts written without a scheme.
    pub ssl_enabled: Option<bool>,
    pub ssl_certificate_authorities: Vec<PathBuf>,
    pub ssl_verification_mode: VerificationMode,
    /// gzip level 0–9 for request bodies; 0 sends them uncompressed.
    pub compression_level: u32,
    /// For one whole request: connect, send, and read the answer.
    pub timeout: Duration,
}

impl Default for ClientConfig {
    /// Logstash's defaults.
    fn default() -> ClientConfig {
        ClientConfig {
            hosts: vec!["127.0.0.1:9200".into()],
            user: None,
            password: None,
            api_key: None,
            ssl_enabled: None,
            ssl_certificate_authorities: Vec::new(),
            ssl_verification_mode: VerificationMode::Full,
            compression_level: 1,
            timeout: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("no hosts configured")]
    NoHosts,
    #[error("invalid host `{host}`: {reason}")]
    Host { host: String, reason: String },
    #[error("user and password must be set together")]
    HalfCredentials,
    #[error("reading ssl_certificate_authorities {path}: {reason}")]
    Certificate { path: PathBuf, reason: String },
    #[error("TLS setup: {0}")]
    Tls(String),
}

/// Every node failed this request: not one of them answered.
#[derive(Debug, thiserror::Error)]
#[error("no Elasticsearch node answered: {last}")]
pub struct Unreachable {
    pub last: String,
}

/// What a node answered.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Bytes,
}

struct Node {
    /// `scheme://authority[/prefix]`, no trailing slash.
    base: String,
    health: Mutex<Health>,
}

#[derive(Default)]
struct Health {
    set_aside_until: Option<Instant>,
    failures: u32,
}

/// Bodies larger than this are compressed on the blocking pool.
const OFF_THREAD_GZIP: usize = 256 * 1024;
const SET_ASIDE_FIRST: Duration = Duration::from_millis(500);
const SET_ASIDE_MAX: Duration = Duration::from_secs(60);

/// A client for one output: a node pool with failover.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    nodes: Vec<Node>,
    next: AtomicUsize,
    http: HyperClient<HttpsConnector<HttpConnector>, Full<Bytes>>,
    authorization: Option<HeaderValue>,
    compression_level: u32,
    timeout: Duration,
}

impl Client {
    pub fn new(config: &ClientConfig) -> Result<Client, ClientError> {
        if config.hosts.is_empty() {
            return Err(ClientError::NoHosts);
        }
        let nodes = config
            .hosts
            .iter()
            .map(|h| node_base(h, config.ssl_enabled.unwrap_or(false)))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .map(|base| Node {
                base,
                health: Mutex::new(Health::default()),
            })
            .collect();
        let authorization = match (&config.user, &config.password, &config.api_key) {
            (_, _, Some(key)) => Some(format!(
                "ApiKey {}",
                base64::engine::general_purpose::STANDARD.encode(key)
            )),
            (Some(user), Some(password), None) => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            )),
            (None, None, None) => None,
            _ => return Err(ClientError::HalfCredentials),
        }
        .map(|v| {
            let mut v = HeaderValue::from_str(&v).expect("base64 is a valid header value");
            v.set_sensitive(true);
            v
        });
        let tls = tls_config(config)?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(config.timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let http = HyperClient::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(Client {
            inner: Arc::new(Inner {
                nodes,
                next: AtomicUsize::new(0),
                http,
                authorization,
                compression_level: config.compression_level.min(9),
                timeout: config.timeout,
            }),
        })
    }

    /// Sends one request, failing over across nodes until one answers (whatever its status).
    /// `body` is gzipped here when compression is on.
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        content_type: &'static str,
        body: Option<Bytes>,
    ) -> Result<Reply, Unreachable> {
        let inner = &self.inner;
        let level = inner.compression_level;
        let (body, gzipped) = match body {
            // A 20 MiB body takes ~100 ms to compress: not on a thread that serves sockets.
            Some(b) if level > 0 && b.len() > OFF_THREAD_GZIP => {
                let gz = tokio::task::spawn_blocking(move || gzip(&b, level))
                    .await
                    .expect("gzip into a Vec does not panic");
                (Some(gz), true)
            }
            Some(b) if level > 0 && !b.is_empty() => (Some(gzip(&b, level)), true),
            other => (other, false),
        };
        let mut last = String::from("no node tried");
        for _ in 0..inner.nodes.len() {
            let i = self.pick();
            let node = &inner.nodes[i];
            let uri = format!("{}{}", node.base, path_and_query);
            let mut request = Request::builder().method(method.clone()).uri(&uri);
            if body.is_some() {
                request = request.header(CONTENT_TYPE, content_type);
                if gzipped {
                    request = request.header(CONTENT_ENCODING, "gzip");
                }
            }
            if let Some(auth) = &inner.authorization {
                request = request.header(AUTHORIZATION, auth.clone());
            }
            let request = match request.body(Full::new(body.clone().unwrap_or_default())) {
                Ok(r) => r,
                Err(e) => {
                    last = format!("{uri}: {e}");
                    continue;
                }
            };
            let exchange = async {
                let response = inner.http.request(request).await.map_err(error_chain)?;
                let status = response.status();
                let body = response
                    .into_body()
                    .collect()
                    .await
                    .map_err(error_chain)?
                    .to_bytes();
                Ok::<_, String>(Reply { status, body })
            };
            match tokio::time::timeout(inner.timeout, exchange).await {
                Ok(Ok(reply)) => {
                    self.healthy(i);
                    return Ok(reply);
                }
                Ok(Err(e)) => last = format!("{}: {e}", node.base),
                Err(_) => last = format!("{}: no answer within {:?}", node.base, inner.timeout),
            }
            self.set_aside(i, &last);
        }
        Err(Unreachable { last })
    }

    /// The next node in turn that is not set aside; if all are, the one due back first.
    fn pick(&self) -> usize {
        let nodes = &self.inner.nodes;
        let start = self.inner.next.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let mut soonest: Option<(Instant, usize)> = None;
        for k in 0..nodes.len() {
            let i = (start + k) % nodes.len();
            let until = nodes[i].health.lock().unwrap().set_aside_until;
            match until {
                Some(t) if t > now => {
                    if soonest.is_none_or(|(s, _)| t < s) {
                        soonest = Some((t, i));
                    }
                }
                _ => return i,
            }
        }
        soonest.map_or(0, |(_, i)| i)
    }

    fn set_aside(&self, i: usize, reason: &str) {
        let node = &self.inner.nodes[i];
        let mut health = node.health.lock().unwrap();
        let wait = SET_ASIDE_FIRST
            .saturating_mul(1u32 << health.failures.min(10))
            .min(SET_ASIDE_MAX);
        health.failures = health.failures.saturating_add(1);
        health.set_aside_until = Some(Instant::now() + wait);
        tracing::warn!(node = %node.base, ?wait, reason, "Elasticsearch node set aside");
    }

    fn healthy(&self, i: usize) {
        let node = &self.inner.nodes[i];
        let mut health = node.health.lock().unwrap();
        if health.failures > 0 {
            tracing::info!(node = %node.base, "Elasticsearch node answers again");
        }
        *health = Health::default();
    }

    /// The nodes' base URLs, in configuration order.
    pub fn nodes(&self) -> Vec<&str> {
        self.inner.nodes.iter().map(|n| n.base.as_str()).collect()
    }

    /// Per node, in configuration order: whether it is in use (not set aside) right now.
    pub fn nodes_up(&self) -> Vec<bool> {
        let now = Instant::now();
        self.inner
            .nodes
            .iter()
            .map(|n| {
                n.health
                    .lock()
                    .unwrap()
                    .set_aside_until
                    .is_none_or(|t| t <= now)
            })
            .collect()
    }

    /// How many nodes are set aside right now.
    pub fn nodes_set_aside(&self) -> usize {
        let now = Instant::now();
        self.inner
            .nodes
            .iter()
            .filter(|n| {
                n.health
                    .lock()
                    .unwrap()
                    .set_aside_until
                    .is_some_and(|t| t > now)
            })
            .count()
    }
}

/// `host`, `host:port`, `http://host:port/prefix` → `scheme://host:port[/prefix]`.
fn node_base(host: &str, ssl: bool) -> Result<String, ClientError> {
    let bad = |reason: &str| ClientError::Host {
        host: host.to_owned(),
        reason: reason.to_owned(),
    };
    let with_scheme = if host.contains("://") {
        host.to_owned()
    } else {
        format!("{}://{host}", if ssl { "https" } else { "http" })
    };
    let uri: Uri = with_scheme.parse().map_err(|e| bad(&format!("{e}")))?;
    let scheme = uri.scheme_str().ok_or_else(|| bad("no scheme"))?;
    if scheme != "http" && scheme != "https" {
        return Err(bad("the scheme must be http or https"));
    }
    let authority = uri.authority().ok_or_else(|| bad("no host"))?;
    let port = authority.port_u16().unwrap_or(9200);
    let path = uri.path().trim_end_matches('/');
    Ok(format!("{scheme}://{}:{port}{path}", authority.host()))
}

fn tls_config(config: &ClientConfig) -> Result<rustls::ClientConfig, ClientError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Tls(e.to_string()))?;
    let tls = match config.ssl_verification_mode {
        VerificationMode::None => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
            .with_no_client_auth(),
        VerificationMode::Full => {
            let mut roots = rustls::RootCertStore::empty();
            if config.ssl_certificate_authorities.is_empty() {
                for cert in rustls_native_certs::load_native_certs().certs {
                    // A malformed system certificate should not stop the output.
                    let _ = roots.add(cert);
                }
            }
            for path in &config.ssl_certificate_authorities {
                let certs = CertificateDer::pem_file_iter(path)
                    .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| ClientError::Certificate {
                        path: path.clone(),
                        reason: e.to_string(),
                    })?;
                for cert in certs {
                    roots.add(cert).map_err(|e| ClientError::Certificate {
                        path: path.clone(),
                        reason: e.to_string(),
                    })?;
                }
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    };
    Ok(tls)
}

/// `ssl_verification_mode => none`: signatures are still checked, the chain and name are not.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// hyper's errors say little at the top ("client error (Connect)"); the cause says why.
fn error_chain(e: impl std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(hosts: &[&str]) -> ClientConfig {
        ClientConfig {
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            timeout: Duration::from_secs(1),
            ..ClientConfig::default()
        }
    }

    #[test]
    fn hosts_take_logstash_forms() {
        assert_eq!(
            node_base("localhost", false).unwrap(),
            "http://localhost:9200"
        );
        assert_eq!(node_base("es:9201", true).unwrap(), "https://es:9201");
        assert_eq!(
            node_base("https://es.example/proxy/", false).unwrap(),
            "https://es.example:9200/proxy"
        );
        assert!(node_base("ftp://es", false).is_err());
    }

    #[test]
    fn credentials_must_be_whole() {
        let mut c = config(&["a"]);
        c.user = Some("elastic".into());
        assert!(matches!(Client::new(&c), Err(ClientError::HalfCredentials)));
        c.password = Some("pw".into());
        let client = Client::new(&c).unwrap();
        assert_eq!(
            client.inner.authorization.as_ref().unwrap(),
            "Basic ZWxhc3RpYzpwdw=="
        );
    }

    #[test]
    fn a_missing_ca_file_is_reported() {
        let mut c = config(&["https://a"]);
        c.ssl_certificate_authorities = vec!["/nonexistent/ca.pem".into()];
        assert!(matches!(
            Client::new(&c),
            Err(ClientError::Certificate { .. })
        ));
    }

    #[tokio::test]
    async fn an_unreachable_node_is_set_aside_and_skipped() {
        // Port 9 on loopback: nothing listens, the connection is refused at once.
        let client = Client::new(&config(&["127.0.0.1:9", "127.0.0.1:9"])).unwrap();
        let err = client
            .send(Method::GET, "/", "application/json", None)
            .await
            .unwrap_err();
        assert!(err.last.contains("127.0.0.1:9"), "{err}");
        assert_eq!(client.nodes_set_aside(), 2);
    }

    #[test]
    fn setting_values_parse() {
        assert_eq!(
            VerificationMode::parse("none"),
            Some(VerificationMode::None)
        );
        assert_eq!(
            VerificationMode::parse("full"),
            Some(VerificationMode::Full)
        );
        assert_eq!(VerificationMode::parse("certificate"), None);
        assert_eq!(
            super::super::Action::parse("create"),
            Some(super::super::Action::Create)
        );
        assert_eq!(super::super::Action::parse("upsert"), None);
        use crate::dlq::StoragePolicy;
        assert_eq!(
            StoragePolicy::parse("drop_older"),
            Some(StoragePolicy::DropOlder)
        );
        assert_eq!(StoragePolicy::parse("block"), Some(StoragePolicy::Block));
        assert_eq!(StoragePolicy::parse("drop"), None);
    }
}
