//! `ssl_key_passphrase`: an encrypted PKCS#8 key (`ENCRYPTED PRIVATE KEY`) decrypted at
//! start-up, in pure Rust (RustCrypto's `pkcs8`/`pkcs5`).
//!
//! PBES2 is read with PBKDF2 (HMAC-SHA1 or SHA-2) or scrypt, and AES-128/192/256-CBC or
//! 3DES-CBC: what `openssl pkcs8 -topk8 -v2 …` (OpenSSL 1.0 to 3) and Python `cryptography`'s
//! `BestAvailableEncryption` write. PBES1, PKCS#12 schemes (`openssl pkcs8 -v1`) and
//! single DES are refused by name.
//!
//! The key derivation's cost is written in the file, so a hostile or mistaken file could
//! make start-up spin for hours or allocate gigabytes: costs far beyond what the tools write
//! are refused before anything is derived.

use pkcs8::der::asn1::OctetStringRef;
use pkcs8::der::{Decode, Reader, SliceReader};
use pkcs8::pkcs5::{pbes2, EncryptionScheme};
use pkcs8::spki::AlgorithmIdentifierRef;
use pkcs8::{EncryptedPrivateKeyInfo, ObjectIdentifier, PrivateKeyInfo};
use rustls::pki_types::PrivatePkcs8KeyDer;

const BEGIN: &[u8] = b"-----BEGIN ENCRYPTED PRIVATE KEY-----";
const END: &[u8] = b"-----END ENCRYPTED PRIVATE KEY-----";

/// OpenSSL writes 2 048 iterations, `cryptography` a few hundred thousand at most; a million
/// PBKDF2-HMAC-SHA256 rounds take about a second.
pub const MAX_PBKDF2_ITERATIONS: u32 = 1_000_000;

/// scrypt's work is N·r·p and its memory 128·N·r bytes: 2^21 is 16 times OpenSSL's `-scrypt`
/// (N = 2^14, r = 8, p = 1) and bounds the memory to 256 MiB.
pub const MAX_SCRYPT_WORK: u64 = 1 << 21;

/// Why an encrypted key cannot be used; said after "ssl_key PATH".
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("is not a well-formed encrypted PKCS#8 key: {0}")]
    Malformed(String),
    #[error("is encrypted with {0}, which Sluice does not implement; re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in KEY -out KEY.new`")]
    Unsupported(String),
    #[error("asks for {0}; refused so that a key file cannot stall start-up")]
    TooCostly(String),
    #[error("cannot be decrypted with ssl_key_passphrase (wrong passphrase?)")]
    WrongPassphrase,
}

/// Whether `pem` holds an encrypted PKCS#8 key.
pub fn is_encrypted_pkcs8(pem: &[u8]) -> bool {
    position(pem, BEGIN).is_some()
}

/// Whether `pem` holds a key encrypted OpenSSL's traditional way (`Proc-Type: 4,ENCRYPTED`
/// inside `RSA PRIVATE KEY`/`EC PRIVATE KEY`), which only OpenSSL reads.
pub fn is_traditionally_encrypted(pem: &[u8]) -> bool {
    position(pem, b"Proc-Type: 4,ENCRYPTED").is_some()
}

/// Decrypts the first encrypted PKCS#8 key in `pem`.
pub fn decrypt(pem: &[u8], passphrase: &str) -> Result<PrivatePkcs8KeyDer<'static>, KeyError> {
    let der = pem_block(pem)?;
    let info = EncryptedPrivateKeyInfo::try_from(der.as_slice())
        .map_err(|e| unreadable(&der, e.to_string()))?;
    check_cost(&info.encryption_algorithm)?;
    let plain = info.decrypt(passphrase).map_err(|e| match e {
        pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::UnsupportedAlgorithm { oid }) => {
            KeyError::Unsupported(format!("algorithm {oid}"))
        }
        // A bad padding, or a plaintext that is not DER: the key derived was not the one.
        _ => KeyError::WrongPassphrase,
    })?;
    // CBC padding is right by chance once in 256 wrong passphrases; the structure is not.
    PrivateKeyInfo::try_from(plain.as_bytes()).map_err(|_| KeyError::WrongPassphrase)?;
    Ok(PrivatePkcs8KeyDer::from(plain.as_bytes().to_vec()))
}

fn position(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The DER of the `ENCRYPTED PRIVATE KEY` block, wherever it is in the file.
fn pem_block(pem: &[u8]) -> Result<Vec<u8>, KeyError> {
    let start = position(pem, BEGIN).ok_or_else(|| KeyError::Malformed("no PEM block".into()))?;
    let length = position(&pem[start..], END)
        .ok_or_else(|| KeyError::Malformed("the PEM block has no END line".into()))?;
    let block = &pem[start..start + length + END.len()];
    let (_, der) =
        pkcs8::der::pem::decode_vec(block).map_err(|e| KeyError::Malformed(format!("PEM: {e}")))?;
    Ok(der)
}

/// Names what `der` is encrypted with when `pkcs8` could not read it: a scheme it does not
/// implement, or no structure at all.
fn unreadable(der: &[u8], error: String) -> KeyError {
    const PBES2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");
    const PKCS12_PBE: &str = "1.2.840.113549.1.12.1.";
    let outer = SliceReader::new(der).ok().and_then(|mut reader| {
        reader
            .sequence(|r| {
                let algorithm = AlgorithmIdentifierRef::decode(r)?;
                OctetStringRef::decode(r)?;
                Ok(algorithm.oid)
            })
            .ok()
    });
    match outer {
        Some(oid) if oid == PBES2 => KeyError::Unsupported(format!(
            "PBES2 with a key derivation or cipher outside PBKDF2/scrypt and AES/3DES-CBC ({error})"
        )),
        Some(oid) if oid.to_string().starts_with(PKCS12_PBE) => KeyError::Unsupported(format!(
            "a PKCS#12 password-based scheme (OID {oid}, what `openssl pkcs8 -v1` writes)"
        )),
        Some(oid) => KeyError::Unsupported(format!("algorithm {oid}")),
        None => KeyError::Malformed(error),
    }
}

fn check_cost(scheme: &EncryptionScheme<'_>) -> Result<(), KeyError> {
    let params = match scheme {
        EncryptionScheme::Pbes2(params) => params,
        EncryptionScheme::Pbes1(algorithm) => {
            return Err(KeyError::Unsupported(format!(
                "PBES1 (OID {}, DES or RC2 with MD5 or SHA-1)",
                algorithm.oid()
            )))
        }
        other => return Err(KeyError::Unsupported(format!("algorithm {}", other.oid()))),
    };
    match &params.kdf {
        pbes2::Kdf::Pbkdf2(p) if p.iteration_count > MAX_PBKDF2_ITERATIONS => {
            Err(KeyError::TooCostly(format!(
                "{} PBKDF2 iterations (at most {MAX_PBKDF2_ITERATIONS} are accepted)",
                p.iteration_count
            )))
        }
        pbes2::Kdf::Scrypt(s) => {
            let work = s
                .cost_parameter
                .saturating_mul(u64::from(s.block_size))
                .saturating_mul(u64::from(s.parallelization));
            if work > MAX_SCRYPT_WORK {
                return Err(KeyError::TooCostly(format!(
                    "scrypt N={} r={} p={} (N·r·p at most 2^21 is accepted)",
                    s.cost_parameter, s.block_size, s.parallelization
                )));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
