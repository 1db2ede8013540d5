//! TLS for the `beats` input (rustls with the ring provider): the server configuration built
//! from Logstash's `ssl_*` settings, and the handshake with its failures named.
//!
//! Keys may be PKCS#1 (`RSA PRIVATE KEY`), PKCS#8 (`PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`);
//! Logstash accepts only PKCS#8, which is a common source of confusing failures. An encrypted
//! PKCS#8 key is decrypted with `ssl_key_passphrase` ([`encrypted_key`]); a passphrase for a
//! key that is not encrypted is refused, as it means `ssl_key` points at another file than
//! the one meant. Client certificates are checked against `ssl_certificate_authorities` but
//! their names are not (as in logstash-input-beats).
//! `ssl_cipher_suites` narrows the provider's suites to the named ones and makes their order
//! the server's preference, which Logstash's "listed by priorities" means. [`TlsPeer`] is
//! what `enrich => ssl_peer_metadata` reads from a finished handshake.
//!
//! Before the handshake the first byte is peeked: a client speaking plain Lumberjack (`1`/`2`)
//! or anything else that is not a TLS record is named as such instead of surfacing as
//! rustls' "corrupt message".

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, SupportedCipherSuite, SupportedProtocolVersion};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use x509_cert::der::Decode;

pub mod encrypted_key;

/// `ssl_key_passphrase`; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Passphrase(pub String);

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

/// `ssl_client_authentication`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuthentication {
    None,
    /// A client certificate is verified if presented.
    Optional,
    Required,
}

/// One entry of `ssl_supported_protocols`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsVersion {
    Tls12,
    Tls13,
}

impl TlsVersion {
    /// Parses Logstash's names (`TLSv1.2`, `TLSv1.3`).
    pub fn parse(name: &str) -> Option<TlsVersion> {
        match name {
            "TLSv1.2" => Some(TlsVersion::Tls12),
            "TLSv1.3" => Some(TlsVersion::Tls13),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TlsVersion::Tls12 => "TLSv1.2",
            TlsVersion::Tls13 => "TLSv1.3",
        }
    }
}

/// One entry of `ssl_cipher_suites`: a suite rustls implements with the ring provider (the
/// AEAD suites with ECDHE key exchange; no CBC, no RSA key exchange).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CipherSuite(rustls::CipherSuite);

impl CipherSuite {
    /// Parses an IANA name, as Logstash takes them (`TLS_AES_256_GCM_SHA384`,
    /// `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`).
    pub fn parse(name: &str) -> Option<CipherSuite> {
        implemented()
            .find(|s| iana_name(s) == name)
            .map(|s| CipherSuite(s.suite()))
    }

    /// The IANA names of every suite [`CipherSuite::parse`] accepts, strongest first.
    pub fn names() -> Vec<String> {
        implemented().map(|s| iana_name(&s)).collect()
    }

    pub fn version(self) -> TlsVersion {
        match self.implementation() {
            SupportedCipherSuite::Tls12(_) => TlsVersion::Tls12,
            SupportedCipherSuite::Tls13(_) => TlsVersion::Tls13,
        }
    }

    fn implementation(self) -> SupportedCipherSuite {
        implemented()
            .find(|s| s.suite() == self.0)
            .expect("made from an implemented suite")
    }
}

fn implemented() -> impl Iterator<Item = SupportedCipherSuite> {
    rustls::crypto::ring::ALL_CIPHER_SUITES.iter().copied()
}

/// rustls spells the TLS 1.3 suites `TLS13_…`; IANA (and Logstash, and OpenSSL's
/// `-ciphersuites`) `TLS_…`. The TLS 1.2 names are the same.
fn iana_name(suite: &SupportedCipherSuite) -> String {
    let name = suite.suite().as_str().unwrap_or_default();
    match name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => name.to_owned(),
    }
}

/// The `ssl_*` settings, present when `ssl_enabled => true`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSettings {
    /// `ssl_certificate`: PEM, the server certificate first, then its chain.
    pub certificate: PathBuf,
    /// `ssl_key`: PEM, PKCS#1, PKCS#8 or SEC1, or PKCS#8 encrypted with `key_passphrase`.
    pub key: PathBuf,
    /// `ssl_key_passphrase`.
    pub key_passphrase: Option<Passphrase>,
    /// `ssl_certificate_authorities`: PEM files of CAs that sign client certificates.
    pub certificate_authorities: Vec<PathBuf>,
    /// `ssl_client_authentication`; when unset, `Required` if CAs are given (Logstash's rule),
    /// `None` otherwise.
    pub client_authentication: Option<ClientAuthentication>,
    /// `ssl_supported_protocols` (default TLSv1.2 and TLSv1.3).
    pub supported_protocols: Vec<TlsVersion>,
    /// `ssl_handshake_timeout` (default 10 s).
    pub handshake_timeout: Duration,
    /// `ssl_cipher_suites`, in the server's order of preference; empty for every implemented
    /// suite in the client's order.
    pub cipher_suites: Vec<CipherSuite>,
}

impl TlsSettings {
    pub fn new(certificate: PathBuf, key: PathBuf) -> TlsSettings {
        TlsSettings {
            certificate,
            key,
            key_passphrase: None,
            certificate_authorities: Vec::new(),
            client_authentication: None,
            supported_protocols: vec![TlsVersion::Tls12, TlsVersion::Tls13],
            handshake_timeout: Duration::from_secs(10),
            cipher_suites: Vec::new(),
        }
    }
}

/// Why the TLS settings cannot be used; raised when the input starts.
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    #[error("cannot read {setting} {path}: {source}")]
    Read {
        setting: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{setting} {path} holds no PEM certificate")]
    NoCertificate {
        setting: &'static str,
        path: PathBuf,
    },
    #[error("ssl_key {0} is encrypted; set ssl_key_passphrase")]
    EncryptedKey(PathBuf),
    #[error("ssl_key {0} is encrypted the traditional OpenSSL way (Proc-Type: 4,ENCRYPTED), which only OpenSSL reads; convert it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in KEY -out KEY.new`")]
    TraditionallyEncryptedKey(PathBuf),
    #[error("ssl_key_passphrase is set but ssl_key {0} is not encrypted; remove the passphrase or point ssl_key at the encrypted key")]
    PassphraseForPlainKey(PathBuf),
    #[error("ssl_key {path} {reason}")]
    Key {
        path: PathBuf,
        reason: encrypted_key::KeyError,
    },
    #[error("ssl_key {0} holds no PEM private key (expected PKCS#1 'RSA PRIVATE KEY', PKCS#8 'PRIVATE KEY' or SEC1 'EC PRIVATE KEY')")]
    NoKey(PathBuf),
    #[error("ssl_certificate_authorities {path}: {reason}")]
    BadAuthority { path: PathBuf, reason: String },
    #[error("ssl_client_authentication => {0:?} needs ssl_certificate_authorities")]
    ClientAuthWithoutAuthorities(ClientAuthentication),
    #[error("ssl_supported_protocols is empty")]
    NoProtocols,
    #[error("ssl_certificate and ssl_key do not belong together: {0}")]
    KeyMismatch(String),
    #[error("TLS configuration: {0}")]
    Rustls(String),
}

fn read(setting: &'static str, path: &Path) -> Result<Vec<u8>, TlsConfigError> {
    fs::read(path).map_err(|source| TlsConfigError::Read {
        setting,
        path: path.to_owned(),
        source,
    })
}

fn certificates(
    setting: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let pem = read(setting, path)?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem)
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err(TlsConfigError::NoCertificate {
            setting,
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

fn private_key(
    path: &Path,
    passphrase: Option<&Passphrase>,
) -> Result<PrivateKeyDer<'static>, TlsConfigError> {
    let pem = read("ssl_key", path)?;
    if encrypted_key::is_traditionally_encrypted(&pem) {
        return Err(TlsConfigError::TraditionallyEncryptedKey(path.to_owned()));
    }
    match (encrypted_key::is_encrypted_pkcs8(&pem), passphrase) {
        (true, Some(passphrase)) => encrypted_key::decrypt(&pem, &passphrase.0)
            .map(PrivateKeyDer::Pkcs8)
            .map_err(|reason| TlsConfigError::Key {
                path: path.to_owned(),
                reason,
            }),
        (true, None) => Err(TlsConfigError::EncryptedKey(path.to_owned())),
        (false, Some(_)) => Err(TlsConfigError::PassphraseForPlainKey(path.to_owned())),
        (false, None) => {
            PrivateKeyDer::from_pem_slice(&pem).map_err(|_| TlsConfigError::NoKey(path.to_owned()))
        }
    }
}

/// Builds the acceptor from the settings, reading every file now so mistakes surface at start.
pub fn acceptor(settings: &TlsSettings) -> Result<TlsAcceptor, TlsConfigError> {
    Ok(TlsAcceptor::from(Arc::new(server_config(settings)?)))
}

/// The rustls configuration behind [`acceptor`], for servers that add to it (the `otlp`
/// input offers ALPN `h2`, which gRPC clients require).
pub fn server_config(settings: &TlsSettings) -> Result<ServerConfig, TlsConfigError> {
    let mut provider = rustls::crypto::ring::default_provider();
    if !settings.cipher_suites.is_empty() {
        provider.cipher_suites = settings
            .cipher_suites
            .iter()
            .map(|s| s.implementation())
            .collect();
    }
    let provider = Arc::new(provider);
    let mut versions: Vec<&'static SupportedProtocolVersion> = Vec::new();
    for v in &settings.supported_protocols {
        versions.push(match v {
            TlsVersion::Tls12 => &rustls::version::TLS12,
            TlsVersion::Tls13 => &rustls::version::TLS13,
        });
    }
    if versions.is_empty() {
        return Err(TlsConfigError::NoProtocols);
    }
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| TlsConfigError::Rustls(e.to_string()))?;

    let mode =
        settings
            .client_authentication
            .unwrap_or(if settings.certificate_authorities.is_empty() {
                ClientAuthentication::None
            } else {
                ClientAuthentication::Required
            });
    let builder = if mode == ClientAuthentication::None {
        builder.with_no_client_auth()
    } else {
        if settings.certificate_authorities.is_empty() {
            return Err(TlsConfigError::ClientAuthWithoutAuthorities(mode));
        }
        let mut roots = RootCertStore::empty();
        for path in &settings.certificate_authorities {
            for cert in certificates("ssl_certificate_authorities", path)? {
                roots.add(cert).map_err(|e| TlsConfigError::BadAuthority {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
            }
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
        let verifier = match mode {
            ClientAuthentication::Optional => verifier.allow_unauthenticated(),
            _ => verifier,
        };
        let verifier = verifier
            .build()
            .map_err(|e| TlsConfigError::Rustls(e.to_string()))?;
        builder.with_client_cert_verifier(verifier)
    };

    let chain = certificates("ssl_certificate", &settings.certificate)?;
    let key = private_key(&settings.key, settings.key_passphrase.as_ref())?;
    let mut config = builder.with_single_cert(chain, key).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => TlsConfigError::KeyMismatch(e.to_string()),
        other => TlsConfigError::Rustls(other.to_string()),
    })?;
    // A list given is an order of preference (Logstash's "listed by priorities").
    config.ignore_client_order = !settings.cipher_suites.is_empty();
    Ok(config)
}

/// The TLS session as `enrich => ssl_peer_metadata` reports it, in Java's terms (Logstash's
/// `SSLSession`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsPeer {
    /// The client presented no certificate (`ssl_client_authentication => optional`).
    Unverified,
    /// The client's certificate was verified against `ssl_certificate_authorities`.
    Verified {
        /// `TLSv1.2` or `TLSv1.3`.
        protocol: &'static str,
        /// The certificate's subject as RFC 4514 (RFC 2253) text, as Java's
        /// `X500Principal.getName()` writes it: `CN=filebeat,O=Example`.
        subject: String,
        /// The IANA name, e.g. `TLS_AES_256_GCM_SHA384`.
        cipher_suite: String,
    },
}

impl TlsPeer {
    /// Reads a finished handshake; rustls keeps a client's certificates only once verified.
    pub fn of(session: &rustls::ServerConnection) -> TlsPeer {
        let verified = || {
            let certificate = session.peer_certificates()?.first()?;
            let subject = x509_cert::Certificate::from_der(certificate)
                .ok()?
                .tbs_certificate
                .subject
                .to_string();
            let protocol = match session.protocol_version()? {
                rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2",
                rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3",
                _ => return None,
            };
            let cipher_suite = iana_name(&session.negotiated_cipher_suite()?);
            Some(TlsPeer::Verified {
                protocol,
                subject,
                cipher_suite,
            })
        };
        verified().unwrap_or(TlsPeer::Unverified)
    }
}

/// Why a TLS connection never got to speak Lumberjack.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("plain-text Lumberjack received on a TLS port (the client has TLS disabled; enable ssl in the client's output.logstash or point it at a plain port)")]
    PlaintextOnTlsPort,
    #[error("first byte 0x{0:02x} is not a TLS handshake record; the client is not speaking TLS")]
    NotTls(u8),
    #[error("no TLS handshake within {0:?} (ssl_handshake_timeout)")]
    Timeout(Duration),
    #[error("TLS handshake failed: {0}")]
    Failed(io::Error),
}

impl HandshakeError {
    pub fn kind(&self) -> &'static str {
        match self {
            HandshakeError::PlaintextOnTlsPort => "plaintext_on_tls_port",
            HandshakeError::NotTls(_) => "not_tls",
            HandshakeError::Timeout(_) => "tls_handshake_timeout",
            HandshakeError::Failed(_) => "tls_handshake",
        }
    }
}

/// Runs the server side of the handshake within `limit`. `Ok(None)` when the client closed
/// before sending anything (a port probe), which is not worth a warning.
pub async fn handshake(
    acceptor: &TlsAcceptor,
    stream: TcpStream,
    limit: Duration,
) -> Result<Option<TlsStream<TcpStream>>, HandshakeError> {
    let attempt = async {
        let mut first = [0u8; 1];
        if stream
            .peek(&mut first)
            .await
            .map_err(HandshakeError::Failed)?
            == 0
        {
            return Ok(None);
        }
        match first[0] {
            // A TLS handshake record.
            0x16 => {}
            b'1' | b'2' => return Err(HandshakeError::PlaintextOnTlsPort),
            other => return Err(HandshakeError::NotTls(other)),
        }
        acceptor
            .accept(stream)
            .await
            .map(Some)
            .map_err(HandshakeError::Failed)
    };
    timeout(limit, attempt)
        .await
        .map_err(|_| HandshakeError::Timeout(limit))?
}

#[cfg(test)]
mod tests;
