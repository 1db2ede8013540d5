//! The encrypted keys under fixtures/beats/tls/ were written by OpenSSL 3.0 (the commands are
//! in its README), with the passphrase `sluice-test`; the hostile ones are built here.

use pkcs8::der::pem::LineEnding;
use pkcs8::der::Encode;
use pkcs8::pkcs5::pbes2::{Kdf, Parameters, Pbkdf2Params, Pbkdf2Prf, ScryptParams};
use rustls::pki_types::pem::PemObject;

use super::*;

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/beats/tls");
const PASSPHRASE: &str = "sluice-test";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{KEYS}/{name}")).unwrap()
}

fn plain(name: &str) -> Vec<u8> {
    PrivatePkcs8KeyDer::from_pem_slice(&fixture(name))
        .unwrap()
        .secret_pkcs8_der()
        .to_vec()
}

#[test]
fn keys_openssl_encrypts_with_pbes2_decrypt_to_the_plain_key() {
    for (encrypted, original) in [
        ("test-ec-key.pbkdf2-aes256.pem", "test-ec-key.pkcs8.pem"),
        ("test-rsa-key.scrypt-aes128.pem", "test-rsa-key.pkcs8.pem"),
        ("test-ec-key.pbkdf2sha1-3des.pem", "test-ec-key.pkcs8.pem"),
    ] {
        let pem = fixture(encrypted);
        assert!(is_encrypted_pkcs8(&pem));
        let key = decrypt(&pem, PASSPHRASE).unwrap();
        assert_eq!(key.secret_pkcs8_der(), plain(original), "{encrypted}");
        for wrong in ["", "sluice-tesT", "sluice-test "] {
            assert_eq!(
                decrypt(&pem, wrong),
                Err(KeyError::WrongPassphrase),
                "{encrypted} {wrong:?}"
            );
        }
    }
}

#[test]
fn text_around_the_block_is_ignored() {
    let mut pem = b"Bag Attributes\n    friendlyName: server\n".to_vec();
    pem.extend(fixture("test-ec-key.pbkdf2-aes256.pem"));
    pem.extend(b"trailing words\n");
    assert!(decrypt(&pem, PASSPHRASE).is_ok());
}

#[test]
fn obsolete_schemes_are_named() {
    let err = |name| decrypt(&fixture(name), PASSPHRASE).unwrap_err().to_string();
    let e = err("test-ec-key.pbes1-md5-des.pem");
    assert!(e.contains("PBES1 (OID 1.2.840.113549.1.5.3"), "{e}");
    let e = err("test-ec-key.pkcs12pbe-3des.pem");
    assert!(
        e.contains("a PKCS#12 password-based scheme (OID 1.2.840.113549.1.12.1.3"),
        "{e}"
    );
    assert!(e.contains("openssl pkcs8 -topk8 -v2 aes-256-cbc"), "{e}");
    let traditional = fixture("test-rsa-key.pkcs1-openssl-encrypted.pem");
    assert!(is_traditionally_encrypted(&traditional));
    assert!(!is_encrypted_pkcs8(&traditional));
}

/// An `ENCRYPTED PRIVATE KEY` PEM with `kdf` and AES-256-CBC over junk.
fn hostile(kdf: Kdf<'_>) -> Vec<u8> {
    let info = EncryptedPrivateKeyInfo {
        encryption_algorithm: EncryptionScheme::Pbes2(Parameters {
            kdf,
            encryption: pbes2::EncryptionScheme::Aes256Cbc { iv: &[7; 16] },
        }),
        encrypted_data: &[0; 64],
    };
    let der = info.to_der().unwrap();
    pkcs8::der::pem::encode_string("ENCRYPTED PRIVATE KEY", LineEnding::LF, &der)
        .unwrap()
        .into_bytes()
}

#[test]
fn key_derivation_costs_beyond_the_caps_are_refused_before_deriving() {
    let e = decrypt(
        &fixture("test-ec-key.pbkdf2-1000001-iterations.pem"),
        PASSPHRASE,
    )
    .unwrap_err();
    assert_eq!(
        e,
        KeyError::TooCostly("1000001 PBKDF2 iterations (at most 1000000 are accepted)".into())
    );

    // Hours of PBKDF2 if derived.
    let pem = hostile(Kdf::Pbkdf2(Pbkdf2Params {
        salt: &[1; 16],
        iteration_count: u32::MAX,
        key_length: None,
        prf: Pbkdf2Prf::HmacWithSha256,
    }));
    assert!(matches!(
        decrypt(&pem, PASSPHRASE),
        Err(KeyError::TooCostly(_))
    ));

    // 128 GiB of scrypt memory, and a cost product that overflows.
    for (n, r, p) in [
        (1u64 << 30, 8, 1),
        (1 << 62, u16::MAX, u16::MAX),
        (1 << 14, 8, 17),
    ] {
        let pem = hostile(Kdf::Scrypt(ScryptParams {
            salt: &[1; 16],
            cost_parameter: n,
            block_size: r,
            parallelization: p,
            key_length: None,
        }));
        assert!(
            matches!(decrypt(&pem, PASSPHRASE), Err(KeyError::TooCostly(_))),
            "N={n} r={r} p={p}"
        );
    }
    // OpenSSL's own scrypt cost is within the cap (the fixture decrypts above).
}

#[test]
fn malformed_and_truncated_input_is_an_error_not_a_panic() {
    let garbage: [&[u8]; 6] = [
        b"",
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n",
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n!!!!\n-----END ENCRYPTED PRIVATE KEY-----\n",
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n",
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n-----END ENCRYPTED PRIVATE KEY-----\n",
    ];
    for pem in garbage {
        assert!(
            matches!(decrypt(pem, PASSPHRASE), Err(KeyError::Malformed(_))),
            "{:?}",
            String::from_utf8_lossy(pem)
        );
    }

    // The DER cut at every length, and the PEM cut at every length.
    let pem = fixture("test-ec-key.pbkdf2-aes256.pem");
    let der = pem_block(&pem).unwrap();
    for cut in 0..der.len() {
        let truncated =
            pkcs8::der::pem::encode_string("ENCRYPTED PRIVATE KEY", LineEnding::LF, &der[..cut])
                .unwrap();
        assert!(
            matches!(
                decrypt(truncated.as_bytes(), PASSPHRASE),
                Err(KeyError::Malformed(_))
            ),
            "DER cut at {cut}"
        );
    }
    // The last byte is the newline after the END line, which is not needed.
    for cut in 0..pem.len() - 1 {
        assert!(
            decrypt(&pem[..cut], PASSPHRASE).is_err(),
            "PEM cut at {cut}"
        );
    }
}
