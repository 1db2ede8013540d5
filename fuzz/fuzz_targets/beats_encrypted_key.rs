//! `ssl_key_passphrase`'s decoder on arbitrary bytes, as a PEM file and as the DER inside an
//! `ENCRYPTED PRIVATE KEY` block: it must never panic, and a key derivation cost past the caps
//! is refused before deriving (a stall shows up as a libFuzzer timeout).
//!
//! Run with `cargo +nightly fuzz run beats_encrypted_key` from the repository root.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pkcs8::der::pem::{encode_string, LineEnding};
use sluice::inputs::beats::tls::encrypted_key::decrypt;

fuzz_target!(|data: &[u8]| {
    let _ = decrypt(data, "sluice-test");
    if let Ok(pem) = encode_string("ENCRYPTED PRIVATE KEY", LineEnding::LF, data) {
        let _ = decrypt(pem.as_bytes(), "sluice-test");
    }
});
