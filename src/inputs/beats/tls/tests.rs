//! Certificates are made at test time with rcgen; the fixed keys under fixtures/beats/tls/
//! exist only to have the same key in PKCS#1/PKCS#8 (RSA) and SEC1/PKCS#8 (EC) form.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::event::Event;
use crate::inputs::beats::metrics::{BeatsMetrics, MetricsSnapshot};
use crate::inputs::beats::{BeatsServer, BeatsSettings, WindowSink};
use crate::pipeline::receipt::Delivery;

const PYLOGBEAT: &[u8] = include_bytes!("../../../../fixtures/beats/pylogbeat-2.1.0-2windows.bin");
const PYLOGBEAT_ACKS: &[u8] = b"2A\0\0\0\x032A\0\0\0\x06";
const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/beats/tls");

struct Delivering;

impl WindowSink for Delivering {
    fn submit(&self, mut events: Vec<Event>) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
        Box::pin(async move {
            events
                .iter_mut()
                .for_each(|e| e.finalize(Delivery::Delivered));
            true
        })
    }
}

/// A CA, and files for a server and a client certificate it signed.
struct Pki {
    dir: tempfile::TempDir,
    ca: CertifiedIssuer<'static, KeyPair>,
}

impl Pki {
    fn new() -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let pki = Pki {
            dir: tempfile::tempdir().unwrap(),
            ca,
        };
        fs::write(pki.path("ca.pem"), pki.ca.pem()).unwrap();
        pki
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Signs a certificate for `key_pkcs8_pem` and writes it to `name`.
    fn certificate(&self, name: &str, key_pkcs8_pem: &str) -> PathBuf {
        let key = KeyPair::from_pem(key_pkcs8_pem).unwrap();
        let params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        let cert = params.signed_by(&key, &self.ca).unwrap();
        let path = self.path(name);
        fs::write(&path, cert.pem()).unwrap();
        path
    }

    /// Server settings with the EC key in `key_file` (one of the fixtures).
    fn server(&self, key_file: &str) -> TlsSettings {
        let pkcs8 = key_file
            .replace(".sec1.", ".pkcs8.")
            .replace(".pkcs1.", ".pkcs8.");
        let pkcs8 = fs::read_to_string(Path::new(KEYS).join(pkcs8)).unwrap();
        let cert = self.certificate("server.pem", &pkcs8);
        TlsSettings::new(cert, Path::new(KEYS).join(key_file))
    }

    fn client(
        &self,
        with_certificate: bool,
        version: &'static SupportedProtocolVersion,
    ) -> TlsConnector {
        self.client_offering(with_certificate, version, &CipherSuite::names())
    }

    /// A client offering only the `suites` (IANA names), in that order.
    fn client_offering(
        &self,
        with_certificate: bool,
        version: &'static SupportedProtocolVersion,
        suites: &[impl AsRef<str>],
    ) -> TlsConnector {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.der().clone()).unwrap();
        let mut provider = rustls::crypto::ring::default_provider();
        provider.cipher_suites = suites
            .iter()
            .map(|name| CipherSuite::parse(name.as_ref()).unwrap().implementation())
            .collect();
        let builder = ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[version])
            .unwrap()
            .with_root_certificates(roots);
        let config = if with_certificate {
            let key = KeyPair::generate().unwrap();
            let cert_path = self.certificate("client.pem", &key.serialize_pem());
            let chain = certificates("test", &cert_path).unwrap();
            let key = PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes()).unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        } else {
            builder.with_no_client_auth()
        };
        TlsConnector::from(Arc::new(config))
    }
}

async fn start(tls: TlsSettings) -> (SocketAddr, Arc<BeatsMetrics>) {
    let settings = BeatsSettings {
        address: "127.0.0.1:0".parse().unwrap(),
        tls: Some(tls),
        ..BeatsSettings::default()
    };
    let server = BeatsServer::bind(settings, Arc::new(Delivering))
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    let metrics = server.metrics();
    tokio::spawn(server.run(CancellationToken::new()));
    (addr, metrics)
}

/// Connects, sends the pylogbeat capture and returns the ACK bytes, or the first error.
async fn exchange(addr: SocketAddr, connector: &TlsConnector) -> io::Result<Vec<u8>> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await?;
    tls.write_all(PYLOGBEAT).await?;
    let mut acks = vec![0u8; PYLOGBEAT_ACKS.len()];
    timeout(Duration::from_secs(10), tls.read_exact(&mut acks))
        .await
        .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
    Ok(acks)
}

/// The suite the server chose for `connector`'s ClientHello.
async fn negotiated(addr: SocketAddr, connector: &TlsConnector) -> io::Result<String> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").unwrap();
    let tls = connector.connect(name, tcp).await?;
    let suite = tls.get_ref().1.negotiated_cipher_suite().unwrap();
    Ok(iana_name(&suite))
}

async fn wait_error(metrics: &BeatsMetrics, kind: &str) -> MetricsSnapshot {
    wait_errors(metrics, kind, 1).await
}

/// Waits until `count` errors of `kind` were counted.
async fn wait_errors(metrics: &BeatsMetrics, kind: &str, count: u64) -> MetricsSnapshot {
    timeout(Duration::from_secs(5), async {
        loop {
            let m = metrics.snapshot();
            if m.errors.get(kind).is_some_and(|&n| n >= count) {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("error {kind} counted"))
}

#[tokio::test]
async fn pkcs1_pkcs8_and_sec1_keys_all_serve() {
    let pki = Pki::new();
    let client = pki.client(false, &rustls::version::TLS13);
    for key in [
        "test-ec-key.sec1.pem",
        "test-ec-key.pkcs8.pem",
        "test-rsa-key.pkcs1.pem",
        "test-rsa-key.pkcs8.pem",
    ] {
        let (addr, _) = start(pki.server(key)).await;
        assert_eq!(
            exchange(addr, &client).await.unwrap(),
            PYLOGBEAT_ACKS,
            "{key}"
        );
    }
}

#[tokio::test]
async fn encrypted_pkcs8_keys_serve_with_their_passphrase() {
    let pki = Pki::new();
    let client = pki.client(false, &rustls::version::TLS13);
    for (key, same_as) in [
        ("test-ec-key.pbkdf2-aes256.pem", "test-ec-key.pkcs8.pem"),
        ("test-rsa-key.scrypt-aes128.pem", "test-rsa-key.pkcs8.pem"),
    ] {
        let mut settings = pki.server(same_as);
        settings.key = Path::new(KEYS).join(key);
        settings.key_passphrase = Some(Passphrase("sluice-test".into()));
        let (addr, _) = start(settings).await;
        assert_eq!(
            exchange(addr, &client).await.unwrap(),
            PYLOGBEAT_ACKS,
            "{key}"
        );
    }
}

#[test]
fn passphrase_mistakes_are_named() {
    let pki = Pki::new();
    let good = pki.server("test-ec-key.pkcs8.pem");
    let with = |key: &str, passphrase: Option<&str>| {
        let mut settings = good.clone();
        settings.key = Path::new(KEYS).join(key);
        settings.key_passphrase = passphrase.map(|p| Passphrase(p.into()));
        acceptor(&settings).err().map(|e| e.to_string())
    };
    let encrypted = "test-ec-key.pbkdf2-aes256.pem";
    assert!(with(encrypted, None)
        .unwrap()
        .ends_with("is encrypted; set ssl_key_passphrase"));
    assert!(with(encrypted, Some("nope"))
        .unwrap()
        .ends_with("cannot be decrypted with ssl_key_passphrase (wrong passphrase?)"));
    assert!(with("test-ec-key.pkcs8.pem", Some("sluice-test"))
        .unwrap()
        .starts_with("ssl_key_passphrase is set but ssl_key"));
    let traditional = with(
        "test-rsa-key.pkcs1-openssl-encrypted.pem",
        Some("sluice-test"),
    );
    assert!(traditional.unwrap().contains("traditional OpenSSL way"));
    let pbes1 = with("test-ec-key.pbes1-md5-des.pem", Some("sluice-test"));
    assert!(pbes1.unwrap().contains("PBES1"));
}

#[tokio::test]
async fn required_client_authentication_refuses_clients_without_a_certificate() {
    let pki = Pki::new();
    let mut settings = pki.server("test-ec-key.pkcs8.pem");
    settings.certificate_authorities = vec![pki.path("ca.pem")];
    // No mode given: CAs imply `required`, as in Logstash.
    let (addr, metrics) = start(settings).await;
    let with_cert = pki.client(true, &rustls::version::TLS13);
    assert_eq!(exchange(addr, &with_cert).await.unwrap(), PYLOGBEAT_ACKS);
    let without = pki.client(false, &rustls::version::TLS13);
    assert!(exchange(addr, &without).await.is_err());
    wait_error(&metrics, "tls_handshake").await;
}

#[tokio::test]
async fn optional_client_authentication_takes_clients_with_or_without() {
    let pki = Pki::new();
    let mut settings = pki.server("test-ec-key.pkcs8.pem");
    settings.certificate_authorities = vec![pki.path("ca.pem")];
    settings.client_authentication = Some(ClientAuthentication::Optional);
    let (addr, _) = start(settings).await;
    for with_cert in [true, false] {
        let client = pki.client(with_cert, &rustls::version::TLS12);
        assert_eq!(exchange(addr, &client).await.unwrap(), PYLOGBEAT_ACKS);
    }
}

#[tokio::test]
async fn a_protocol_outside_ssl_supported_protocols_is_refused() {
    let pki = Pki::new();
    let mut settings = pki.server("test-ec-key.pkcs8.pem");
    settings.supported_protocols = vec![TlsVersion::Tls13];
    let (addr, metrics) = start(settings).await;
    let old = pki.client(false, &rustls::version::TLS12);
    assert!(exchange(addr, &old).await.is_err());
    wait_error(&metrics, "tls_handshake").await;
}

const ECDSA_CHACHA: &str = "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256";
const ECDSA_AES128: &str = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
const ECDSA_AES256: &str = "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384";

#[tokio::test]
async fn ssl_cipher_suites_restricts_the_suites_in_its_order() {
    let pki = Pki::new();
    let mut settings = pki.server("test-ec-key.pkcs8.pem");
    settings.supported_protocols = vec![TlsVersion::Tls12, TlsVersion::Tls13];
    settings.cipher_suites = [ECDSA_CHACHA, ECDSA_AES128, "TLS_AES_128_GCM_SHA256"]
        .map(|n| CipherSuite::parse(n).unwrap())
        .to_vec();
    let (addr, metrics) = start(settings).await;

    let tls12 = &rustls::version::TLS12;
    let only_allowed = pki.client_offering(false, tls12, &[ECDSA_AES128]);
    assert_eq!(exchange(addr, &only_allowed).await.unwrap(), PYLOGBEAT_ACKS);
    assert_eq!(negotiated(addr, &only_allowed).await.unwrap(), ECDSA_AES128);

    // The client prefers AES-256, then AES-128, then ChaCha: the server's order wins.
    let preferring = pki.client_offering(false, tls12, &[ECDSA_AES256, ECDSA_AES128, ECDSA_CHACHA]);
    assert_eq!(negotiated(addr, &preferring).await.unwrap(), ECDSA_CHACHA);

    let tls13 = pki.client_offering(false, &rustls::version::TLS13, &["TLS_AES_128_GCM_SHA256"]);
    assert_eq!(exchange(addr, &tls13).await.unwrap(), PYLOGBEAT_ACKS);

    let refused = pki.client_offering(false, tls12, &[ECDSA_AES256]);
    assert!(exchange(addr, &refused).await.is_err());
    let refused13 =
        pki.client_offering(false, &rustls::version::TLS13, &["TLS_AES_256_GCM_SHA384"]);
    assert!(exchange(addr, &refused13).await.is_err());
    let m = wait_errors(&metrics, "tls_handshake", 2).await;
    assert_eq!(m.errors["tls_handshake"], 2);
}

/// The server's view of a handshake with `connector`.
async fn tls_peer(settings: &TlsSettings, connector: &TlsConnector) -> TlsPeer {
    let acceptor = acceptor(settings).unwrap();
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let name = ServerName::try_from("localhost").unwrap();
    let (server, client) = tokio::join!(
        acceptor.accept(server_io),
        connector.connect(name, client_io)
    );
    client.unwrap();
    TlsPeer::of(server.unwrap().get_ref().1)
}

#[tokio::test]
async fn the_tls_peer_is_read_from_the_session() {
    let pki = Pki::new();
    let mut settings = pki.server("test-ec-key.pkcs8.pem");
    settings.certificate_authorities = vec![pki.path("ca.pem")];
    settings.client_authentication = Some(ClientAuthentication::Optional);
    assert_eq!(
        tls_peer(&settings, &pki.client(true, &rustls::version::TLS13)).await,
        TlsPeer::Verified {
            protocol: "TLSv1.3",
            // rcgen's default subject.
            subject: "CN=rcgen self signed cert".into(),
            cipher_suite: "TLS_AES_256_GCM_SHA384".into(),
        }
    );
    let tls12 = pki.client_offering(true, &rustls::version::TLS12, &[ECDSA_CHACHA]);
    assert_eq!(
        tls_peer(&settings, &tls12).await,
        TlsPeer::Verified {
            protocol: "TLSv1.2",
            subject: "CN=rcgen self signed cert".into(),
            cipher_suite: ECDSA_CHACHA.into(),
        }
    );
    assert_eq!(
        tls_peer(&settings, &pki.client(false, &rustls::version::TLS13)).await,
        TlsPeer::Unverified
    );
}

#[tokio::test]
async fn plaintext_lumberjack_on_the_tls_port_is_named() {
    let pki = Pki::new();
    let (addr, metrics) = start(pki.server("test-ec-key.pkcs8.pem")).await;
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(PYLOGBEAT).await.unwrap();
    let m = wait_error(&metrics, "plaintext_on_tls_port").await;
    assert_eq!(m.errors["plaintext_on_tls_port"], 1);
}

#[tokio::test]
async fn a_silent_client_is_dropped_after_the_handshake_timeout() {
    let pki = Pki::new();
    let mut settings = pki.server("test-ec-key.pkcs8.pem");
    settings.handshake_timeout = Duration::from_millis(200);
    let (addr, metrics) = start(settings).await;
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let started = tokio::time::Instant::now();
    let mut rest = Vec::new();
    let _ = timeout(Duration::from_secs(5), tcp.read_to_end(&mut rest))
        .await
        .expect("closed in time");
    assert!(started.elapsed() >= Duration::from_millis(200));
    wait_error(&metrics, "tls_handshake_timeout").await;
}

#[test]
fn configuration_mistakes_are_named() {
    let pki = Pki::new();
    let good = pki.server("test-ec-key.pkcs8.pem");

    let mut mismatch = good.clone();
    mismatch.key = Path::new(KEYS).join("test-rsa-key.pkcs8.pem");
    assert!(matches!(
        acceptor(&mismatch),
        Err(TlsConfigError::KeyMismatch(_))
    ));

    let encrypted = pki.path("encrypted.pem");
    fs::write(
        &encrypted,
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
    )
    .unwrap();
    let mut with_encrypted = good.clone();
    with_encrypted.key = encrypted;
    assert!(matches!(
        acceptor(&with_encrypted),
        Err(TlsConfigError::EncryptedKey(_))
    ));

    let mut key_is_a_cert = good.clone();
    key_is_a_cert.key = good.certificate.clone();
    assert!(matches!(
        acceptor(&key_is_a_cert),
        Err(TlsConfigError::NoKey(_))
    ));

    let mut cert_is_a_key = good.clone();
    cert_is_a_key.certificate = good.key.clone();
    assert!(matches!(
        acceptor(&cert_is_a_key),
        Err(TlsConfigError::NoCertificate {
            setting: "ssl_certificate",
            ..
        })
    ));

    let mut no_cas = good.clone();
    no_cas.client_authentication = Some(ClientAuthentication::Required);
    assert!(matches!(
        acceptor(&no_cas),
        Err(TlsConfigError::ClientAuthWithoutAuthorities(
            ClientAuthentication::Required
        ))
    ));

    let mut missing = good.clone();
    missing.key = pki.path("absent.pem");
    let err = acceptor(&missing).err().unwrap();
    assert!(err.to_string().starts_with("cannot read ssl_key"), "{err}");

    let mut none = good.clone();
    none.supported_protocols.clear();
    assert!(matches!(acceptor(&none), Err(TlsConfigError::NoProtocols)));

    assert_eq!(TlsVersion::parse("TLSv1.3"), Some(TlsVersion::Tls13));
    assert_eq!(TlsVersion::parse("SSLv3"), None);
    assert!(acceptor(&good).is_ok());
}
