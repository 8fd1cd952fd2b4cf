//! PSKC (RFC 6030) documents from a token vendor, uploaded by an operator: the XML and
//! the crypto under it (AES-CBC under a pre-shared key, HMAC value MACs). The first byte
//! picks the key: none, or one of the pre-shared keys of the test fixtures (RFC 6030
//! figure 6, crates/pskc/tests/fixtures/totp-psk-aes*.json), so encrypted seed corpora get
//! past the MAC and into the decryption. Password (PBKDF2) documents are left out: their cost is the iteration count
//! the document names (capped at MAX_PBKDF2_ITERATIONS), a seconds-long input by design.
#![no_main]

use libfuzzer_sys::fuzz_target;
use softtoken_pskc::{KeySource, parse};
use zeroize::Zeroizing;

/// The fixtures' pre-shared keys: RFC 6030 figure 6, then AES-128, -192 and -256.
const PSKS: [&str; 4] = [
    "12345678901234567890123456789012",
    "101112131415161718191a1b1c1d1e1f",
    "404142434445464748494a4b4c4d4e4f5051525354555657",
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf",
];

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, document)) = data.split_first() else {
        return;
    };
    let key = match PSKS.get(usize::from(selector % 5)) {
        None => KeySource::None,
        Some(hex) => KeySource::PreSharedKey(Zeroizing::new(unhex(hex))),
    };
    if let Ok(import) = parse(document, &key) {
        for k in &import.keys {
            assert!(softtoken_pskc::valid_serial(&k.serial), "{:?}", k.serial);
        }
    }
});
