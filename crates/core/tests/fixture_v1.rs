//! A vault written by format version 1, checked in, must open in every later core: the
//! promise that an app update never loses a customer's tokens.
//!
//! `fixtures/v1/` holds `tokens.vault` and its desktop key file `tokens.key`. It was made
//! by the version-1 core with PIN `2468` (1,000 PBKDF2 iterations, to keep the test fast),
//! one wrong PIN entered afterwards, and two tokens: the RFC 6238 SHA-1 seed and the
//! RFC 6238 SHA-256 seed. Never regenerate it: add a new fixture for a new version.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::sync::Arc;

use softtoken_core::protocol::otp::{Algorithm, OtpParams};
use softtoken_core::protocol::{Serial, ServiceId};
use softtoken_core::{FileKeyWrapper, StoreError, TokenInfo, TokenState, TokenStore};
use support::*;

fn copy_fixture() -> Vault {
    let v = Vault::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1");
    std::fs::copy(src.join("tokens.vault"), &v.path).unwrap();
    std::fs::copy(src.join("tokens.key"), v.key_path()).unwrap();
    v
}

#[test]
fn version_1_vault_opens_unlocks_and_gives_the_rfc_codes() {
    let v = copy_fixture();
    let mut store = v.open().unwrap();
    assert!(store.has_pin());
    assert!(store.is_locked());
    assert_eq!(store.failed_attempts(), 1, "the lock state is read");
    assert!(matches!(
        store.unlock("1357"),
        Err(StoreError::WrongPin {
            attempts_left: 3,
            retry_after_seconds: 0
        })
    ));
    store.unlock("2468").unwrap();

    let sha1 = Serial::parse("SKTS5APYGKQY").unwrap();
    let sha256 = Serial::parse("SKTSHENWKAV0").unwrap();
    assert_eq!(
        store.tokens().unwrap(),
        [
            TokenInfo {
                serial: sha1.clone(),
                issuer: "しんきん銀行".into(),
                service_id: ServiceId::new("shinkin").unwrap(),
                user_label: "yamada.taro".into(),
                params: OtpParams::new(Algorithm::Sha1, 8, 30).unwrap(),
                state: TokenState::Active,
                created_at: 1_763_600_000,
                server_url: "https://otp.shinkin.example".into(),
                clock_offset_ms: 0,
            },
            TokenInfo {
                serial: sha256.clone(),
                issuer: "Example Bank".into(),
                service_id: ServiceId::new("example-bank").unwrap(),
                user_label: String::new(),
                params: OtpParams::new(Algorithm::Sha256, 6, 60).unwrap(),
                state: TokenState::Pending,
                created_at: 1_763_650_000,
                server_url: "https://otp.example.com".into(),
                clock_offset_ms: -1_500,
            },
        ]
    );
    // RFC 6238 Appendix B, SHA-1, T = 59 s.
    assert_eq!(store.code(&sha1, 59_000).unwrap().code, "94287082");
    // oathtool --totp=sha256 -d 6 -s 60 at 120 s and 180 s (device 1.5 s ahead).
    let code = store.code(&sha256, 121_500).unwrap();
    assert_eq!(
        (code.code.as_str(), code.next_code.as_str()),
        ("882438", "975832")
    );
}

#[test]
fn a_version_1_vault_is_rewritten_in_the_current_format_on_change() {
    let v = copy_fixture();
    let mut store = v.open().unwrap();
    store.unlock("2468").unwrap();
    let sha1 = Serial::parse("SKTS5APYGKQY").unwrap();
    store.set_state(&sha1, TokenState::Revoked).unwrap();
    drop(store);
    let wrapper = Arc::new(FileKeyWrapper::open(&v.key_path()).unwrap());
    let mut store = TokenStore::open_with(&v.path, wrapper, v.options()).unwrap();
    store.unlock("2468").unwrap();
    assert_eq!(store.tokens().unwrap()[0].state, TokenState::Revoked);
    assert_eq!(store.code(&sha1, 59_000).unwrap().code, "94287082");
}
