//! Certificates for TLS tests: a CA made for the test and the server and client certificates
//! it signs, as PEM files in a temporary directory.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
};

/// A CA and PEM files it signed, made for one test.
pub struct Pki {
    dir: tempfile::TempDir,
    ca: CertifiedIssuer<'static, KeyPair>,
}

impl Pki {
    pub fn new() -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = common_name("Sluice test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let pki = Pki {
            dir: tempfile::tempdir().unwrap(),
            ca,
        };
        std::fs::write(pki.path("ca.pem"), pki.ca.pem()).unwrap();
        pki
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// Writes `<name>.pem` and `<name>.key` (PKCS#8), for localhost and 127.0.0.1.
    pub fn issue(&self, name: &str) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        // rcgen's default subject is the same for every certificate; OpenSSL would take a
        // leaf whose subject equals its issuer's for a self-signed one and refuse it.
        params.distinguished_name = common_name(name);
        let cert = params.signed_by(&key, &self.ca).unwrap();
        let (cert_path, key_path) = (
            self.path(&format!("{name}.pem")),
            self.path(&format!("{name}.key")),
        );
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        (cert_path, key_path)
    }

    /// Writes `key_path` encrypted with `passphrase` to `<name>` by Python `cryptography`
    /// (`tests/peers/encrypt_key.py`), an encoder independent of the decoder under test.
    pub fn encrypt_key(&self, key_path: &str, name: &str, passphrase: &str) -> String {
        let out = self.path(name);
        let status = std::process::Command::new(super::pylogbeat::python())
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/peers/encrypt_key.py"
            ))
            .args([key_path, &out, passphrase])
            .status()
            .unwrap();
        assert!(
            status.success(),
            "encrypt_key.py failed: does the Python have `cryptography` (scripts/test.sh installs it)?"
        );
        out
    }

    pub fn server_settings(&self, client_authentication: &str) -> String {
        let (cert, key) = self.issue("server");
        format!(
            r#"ssl_enabled => true ssl_certificate => "{cert}" ssl_key => "{key}"
ssl_certificate_authorities => ["{}"] ssl_client_authentication => "{client_authentication}""#,
            self.path("ca.pem")
        )
    }
}

fn common_name(name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    dn
}
