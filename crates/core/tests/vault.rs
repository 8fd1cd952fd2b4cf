//! The vault's behaviour through its public API: tokens, the app lock and its PIN rules,
//! the wrong-PIN back-off, damaged files, and secrets on disk.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use softtoken_core::protocol::Serial;
use softtoken_core::vault::{DEFAULT_PIN_ITERATIONS, format};
use softtoken_core::{KeyWrapError, KeyWrapper, StoreError, StoreOptions, TokenState, TokenStore};
use support::*;

#[test]
fn a_new_vault_is_created_empty_and_unlocked() {
    let v = Vault::new();
    let store = v.open().unwrap();
    assert!(v.path.exists());
    assert!(!store.has_pin());
    assert!(!store.is_locked());
    assert!(store.tokens().unwrap().is_empty());
    assert!(v.bytes().starts_with(format::MAGIC));
}

#[test]
fn tokens_survive_reopening_and_give_the_right_codes() {
    let v = Vault::new();
    let mut store = v.open().unwrap();
    let rfc = rfc_token();
    let other = token("Other Bank", &[7u8; 20]);
    store.add(rfc.clone()).unwrap();
    store.add(other.clone()).unwrap();
    drop(store);

    let store = v.open().unwrap();
    assert_eq!(serials(&store), [rfc.serial.clone(), other.serial.clone()]);
    let info = &store.tokens().unwrap()[0];
    assert_eq!(info.issuer, "RFC Bank");
    assert_eq!(info.service_id.as_str(), "bank-1");
    assert_eq!(info.user_label, "alice");
    assert_eq!(info.params, rfc.params);
    assert_eq!(info.state, TokenState::Active);
    assert_eq!(info.created_at, 1_700_000_000);
    assert_eq!(info.server_url, "https://otp.bank.example");
    // RFC 6238 Appendix B: SHA-1 at 59 s is 94287082.
    let code = store.code(&rfc.serial, 59_000).unwrap();
    assert_eq!(code.code, "94287082");
    assert_eq!(code.seconds_left, 1);
}

#[test]
fn add_delete_state_and_clock_offset() {
    let v = Vault::new();
    let mut store = v.open().unwrap();
    let rfc = rfc_token();
    store.add(rfc.clone()).unwrap();
    assert!(matches!(store.add(rfc.clone()), Err(StoreError::Duplicate(s)) if s == rfc.serial));

    store
        .set_clock_offset("https://otp.bank.example", 30_000)
        .unwrap();
    store.set_state(&rfc.serial, TokenState::Revoked).unwrap();
    let store = {
        drop(store);
        v.open().unwrap()
    };
    let info = &store.tokens().unwrap()[0];
    assert_eq!(info.clock_offset_ms, 30_000);
    assert_eq!(info.state, TokenState::Revoked);
    // Device at 29 s + 30 s offset = server 59 s.
    assert_eq!(store.code(&rfc.serial, 29_000).unwrap().code, "94287082");

    let mut store = store;
    let unknown = Serial::generate();
    assert!(matches!(store.delete(&unknown), Err(StoreError::NotFound(s)) if s == unknown));
    assert!(matches!(
        store.code(&unknown, 0),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.set_state(&unknown, TokenState::Active),
        Err(StoreError::NotFound(_))
    ));
    store.delete(&rfc.serial).unwrap();
    drop(store);
    assert!(v.open().unwrap().tokens().unwrap().is_empty());
}

#[test]
fn every_pin_rule() {
    let v = Vault::new();
    let mut store = v.open().unwrap();
    let full_width = "１２３４";
    let too_long = "1".repeat(33);
    for bad in [
        "",
        too_long.as_str(),
        "12a4",
        "abcd",
        full_width,
        " 1234",
        "1234\n",
        "12.4",
    ] {
        assert!(
            matches!(store.set_pin(bad), Err(StoreError::InvalidPin)),
            "set_pin({bad:?})"
        );
    }
    assert!(!store.has_pin());

    // One digit is a PIN.
    store.set_pin("7").unwrap();
    assert!(store.has_pin());
    assert!(matches!(
        store.set_pin("1234"),
        Err(StoreError::PinAlreadySet)
    ));
    store.lock();
    for bad in ["", too_long.as_str(), "abcd", full_width] {
        assert!(
            matches!(store.unlock(bad), Err(StoreError::InvalidPin)),
            "{bad:?}"
        );
        assert!(matches!(
            store.change_pin(bad, "1"),
            Err(StoreError::InvalidPin)
        ));
        assert!(matches!(
            store.change_pin("7", bad),
            Err(StoreError::InvalidPin)
        ));
        assert!(matches!(store.remove_pin(bad), Err(StoreError::InvalidPin)));
    }
    // Malformed PINs are never counted as wrong ones.
    assert_eq!(store.failed_attempts(), 0);
    assert!(store.is_locked());
    store.unlock("7").unwrap();

    // Thirty-two digits is a PIN too.
    let longest = "0123456789".repeat(4)[..32].to_string();
    store.change_pin("7", &longest).unwrap();
    store.lock();
    drop(store);
    let mut store = v.open().unwrap();
    assert!(store.is_locked());
    store.unlock(&longest).unwrap();
    assert_eq!(store.failed_attempts(), 0);
}

#[test]
fn pin_lock_hides_tokens_until_unlocked() {
    let v = Vault::new();
    let mut store = v.open().unwrap();
    let rfc = rfc_token();
    store.add(rfc.clone()).unwrap();
    store.set_pin("2468").unwrap();
    assert!(
        !store.is_locked(),
        "setting a PIN keeps the session unlocked"
    );
    store.lock();
    assert!(store.is_locked());
    assert!(matches!(store.tokens(), Err(StoreError::Locked)));
    assert!(matches!(
        store.code(&rfc.serial, 0),
        Err(StoreError::Locked)
    ));
    assert!(matches!(
        store.add(token("X", &[1; 20])),
        Err(StoreError::Locked)
    ));
    assert!(matches!(store.delete(&rfc.serial), Err(StoreError::Locked)));

    // A reopened vault with a PIN starts locked.
    drop(store);
    let mut store = v.open().unwrap();
    assert!(store.is_locked() && store.has_pin());
    store.unlock("2468").unwrap();
    assert_eq!(serials(&store), std::slice::from_ref(&rfc.serial));

    // Change needs the old PIN; afterwards only the new one works.
    assert!(matches!(
        store.change_pin("1111", "1357"),
        Err(StoreError::WrongPin {
            attempts_left: 4,
            ..
        })
    ));
    store.change_pin("2468", "1357").unwrap();
    store.lock();
    assert!(matches!(
        store.unlock("2468"),
        Err(StoreError::WrongPin { .. })
    ));
    store.unlock("1357").unwrap();

    // Off needs the PIN; afterwards the vault opens without one.
    assert!(matches!(
        store.remove_pin("2468"),
        Err(StoreError::WrongPin { .. })
    ));
    store.remove_pin("1357").unwrap();
    assert!(!store.has_pin());
    assert!(matches!(store.unlock("1357"), Err(StoreError::NoPin)));
    assert!(matches!(store.remove_pin("1357"), Err(StoreError::NoPin)));
    assert!(matches!(
        store.change_pin("1357", "1"),
        Err(StoreError::NoPin)
    ));
    store.lock();
    assert!(!store.is_locked(), "no PIN: nothing to lock with");
    drop(store);
    let store = v.open().unwrap();
    assert!(!store.is_locked());
    assert_eq!(serials(&store), [rfc.serial]);
}

#[test]
fn wrong_pins_count_down_then_back_off_and_survive_reopening() {
    let v = Vault::new();
    let mut store = v.open().unwrap();
    store.set_pin("2468").unwrap();
    store.lock();
    assert_eq!(store.pin_retry_after_seconds(), 0);

    for left in [4, 3, 2, 1] {
        match store.unlock("0000") {
            Err(StoreError::WrongPin {
                attempts_left,
                retry_after_seconds,
            }) => {
                assert_eq!((attempts_left, retry_after_seconds), (left, 0));
            }
            other => panic!("{other:?}"),
        }
    }
    // The fifth wrong PIN starts the back-off.
    assert!(matches!(
        store.unlock("0000"),
        Err(StoreError::WrongPin {
            attempts_left: 0,
            retry_after_seconds: 30
        })
    ));
    // Even the right PIN is not tried during the wait, and the try is not counted.
    assert!(matches!(
        store.unlock("2468"),
        Err(StoreError::TooSoon {
            retry_after_seconds: 30
        })
    ));
    assert_eq!(store.failed_attempts(), 5);
    assert_eq!(store.pin_retry_after_seconds(), 30);

    // Closing and reopening the store does not reset anything.
    drop(store);
    let mut store = v.open().unwrap();
    assert_eq!(store.failed_attempts(), 5);
    v.clock.advance_secs(10);
    assert_eq!(store.pin_retry_after_seconds(), 20);
    assert!(matches!(
        store.unlock("2468"),
        Err(StoreError::TooSoon {
            retry_after_seconds: 20
        })
    ));
    v.clock.advance_secs(20);
    // Each further wrong PIN doubles the wait.
    assert!(matches!(
        store.unlock("0000"),
        Err(StoreError::WrongPin {
            attempts_left: 0,
            retry_after_seconds: 60
        })
    ));
    drop(store);
    let mut store = v.open().unwrap();
    assert!(matches!(
        store.unlock("2468"),
        Err(StoreError::TooSoon {
            retry_after_seconds: 60
        })
    ));
    v.clock.advance_secs(60);
    assert_eq!(store.pin_retry_after_seconds(), 0);
    store.unlock("2468").unwrap();
    assert_eq!(store.failed_attempts(), 0);
    drop(store);
    let mut store = v.open().unwrap();
    assert_eq!(store.failed_attempts(), 0);
    assert!(matches!(
        store.unlock("0000"),
        Err(StoreError::WrongPin {
            attempts_left: 4,
            ..
        })
    ));
}

#[test]
fn a_clock_set_back_does_not_lock_the_user_out() {
    let v = Vault::new();
    let mut store = v.open().unwrap();
    store.set_pin("2468").unwrap();
    store.lock();
    for _ in 0..5 {
        let _ = store.unlock("0000");
    }
    v.clock.set(1_000_000_000_000); // about two years back
    assert!(matches!(
        store.unlock("2468"),
        Err(StoreError::TooSoon {
            retry_after_seconds: 30
        })
    ));
    v.clock.advance_secs(30);
    store.unlock("2468").unwrap();
}

#[test]
fn wipe_is_the_way_out_of_a_forgotten_pin() {
    let v = Vault::new();
    let mut store = v.open().unwrap();
    store.add(rfc_token()).unwrap();
    store.set_pin("2468").unwrap();
    store.lock();
    for _ in 0..6 {
        let _ = store.unlock("0000");
    }
    store.wipe().unwrap();
    assert!(!store.has_pin() && !store.is_locked());
    assert!(store.tokens().unwrap().is_empty());
    assert_eq!(store.failed_attempts(), 0);
    drop(store);
    let store = v.open().unwrap();
    assert!(!store.has_pin());
    assert!(store.tokens().unwrap().is_empty());
}

#[test]
fn the_default_pin_work_factor_is_600000_iterations() {
    assert_eq!(DEFAULT_PIN_ITERATIONS, 600_000);
    let v = Vault::new();
    let options = StoreOptions {
        clock: v.clock.clone(),
        ..StoreOptions::default()
    };
    assert_eq!(options.pin_iterations, 600_000);
    let mut store = TokenStore::open_with(&v.path, v.wrapper(), options).unwrap();
    store.set_pin("2468").unwrap();
    let file = format::VaultFile::parse(&v.bytes()).unwrap();
    let kdf = file.header.pin.unwrap();
    assert_eq!(kdf.kdf, "pbkdf2-hmac-sha256");
    assert_eq!(kdf.iterations, 600_000);
    assert_eq!(kdf.salt.0.len(), 16);
}

#[test]
fn every_write_uses_a_fresh_nonce() {
    let v = Vault::new();
    let mut store = v.open().unwrap();
    let t = rfc_token();
    store.add(t.clone()).unwrap();
    let first = format::VaultFile::parse(&v.bytes()).unwrap().body;
    store.set_state(&t.serial, TokenState::Pending).unwrap();
    store.set_state(&t.serial, TokenState::Active).unwrap();
    let second = format::VaultFile::parse(&v.bytes()).unwrap().body;
    // Same plaintext, different nonce and so different ciphertext.
    assert_eq!(first.len(), second.len());
    assert_ne!(first[..12], second[..12]);
    assert_ne!(first, second);
}

fn assert_corrupt(v: &Vault, what: &str) {
    let before = v.bytes();
    match v.open() {
        Err(StoreError::Corrupt { path, reason }) => {
            assert_eq!(path, v.path, "{what}");
            assert!(!reason.is_empty());
            let message = StoreError::Corrupt { path, reason }.to_string();
            assert!(message.contains("tokens.vault"), "{what}: {message}");
        }
        other => panic!("{what}: expected Corrupt, got {other:?}"),
    }
    assert_eq!(
        v.bytes(),
        before,
        "{what}: a damaged vault is never overwritten"
    );
}

#[test]
fn truncated_files_are_corrupt_and_left_alone() {
    let v = Vault::new();
    let mut store = v.open().unwrap();
    store.add(rfc_token()).unwrap();
    drop(store);
    let whole = v.bytes();
    for len in 0..whole.len() {
        std::fs::write(&v.path, &whole[..len]).unwrap();
        assert_corrupt(&v, &format!("truncated to {len}"));
    }
}

#[test]
fn changed_bytes_in_header_or_tokens_are_detected() {
    let v = Vault::new();
    let mut store = v.open().unwrap();
    store.add(rfc_token()).unwrap();
    drop(store);
    let whole = v.bytes();
    let file = format::VaultFile::parse(&whole).unwrap();
    let body_start = whole.len() - file.body.len();
    // Every byte of the token list (nonce, ciphertext, tag).
    for i in body_start..whole.len() {
        let mut bad = whole.clone();
        bad[i] ^= 0x01;
        std::fs::write(&v.path, &bad).unwrap();
        assert_corrupt(&v, &format!("byte {i} of the token list"));
    }
    // Every byte of the header: a parse error, a key the platform refuses, or an
    // authentication failure; never a successful open.
    for i in 0..14 + file.header_bytes.len() {
        let mut bad = whole.clone();
        bad[i] ^= 0x01;
        std::fs::write(&v.path, &bad).unwrap();
        assert!(
            matches!(
                v.open(),
                Err(StoreError::Corrupt { .. }
                    | StoreError::KeyWrapper(_)
                    | StoreError::UnsupportedVersion { .. })
            ),
            "header byte {i}"
        );
        assert_eq!(v.bytes(), bad);
    }
}

#[test]
fn foreign_and_empty_files_are_not_vaults() {
    let v = Vault::new();
    std::fs::write(&v.path, b"\x89PNG\r\n\x1a\n not a vault at all").unwrap();
    assert_corrupt(&v, "a PNG");
    std::fs::write(&v.path, b"").unwrap();
    assert_corrupt(&v, "an empty file");
    std::fs::write(&v.path, "SOFTTOKV but then some text").unwrap();
    assert_corrupt(&v, "right magic, garbage after");
}

#[test]
fn a_newer_format_is_refused_by_name() {
    let v = Vault::new();
    drop(v.open().unwrap());
    let mut bytes = v.bytes();
    bytes[8..10].copy_from_slice(&7u16.to_be_bytes());
    std::fs::write(&v.path, &bytes).unwrap();
    assert!(matches!(
        v.open(),
        Err(StoreError::UnsupportedVersion { version: 7, .. })
    ));
}

#[test]
fn another_devices_key_cannot_open_the_vault() {
    let v = Vault::new();
    let mut store = v.open().unwrap();
    store.add(rfc_token()).unwrap();
    drop(store);
    std::fs::remove_file(v.key_path()).unwrap();
    // A fresh key file is created, and it does not open the old vault: ever.
    assert!(matches!(
        v.open(),
        Err(StoreError::KeyWrapper(KeyWrapError::KeyLost { .. }))
    ));
    // The user's way out: start over.
    let store = TokenStore::reset(&v.path, v.wrapper(), v.options()).unwrap();
    assert!(store.tokens().unwrap().is_empty());
    assert!(v.open().is_ok());
}

/// A platform wrapper that fails, like a Keystore key invalidated by the OS.
struct BrokenWrapper;

impl KeyWrapper for BrokenWrapper {
    fn wrap_key(&self, _: &[u8]) -> Result<Vec<u8>, KeyWrapError> {
        Err(KeyWrapError::unavailable("keystore unavailable"))
    }
    fn unwrap_key(&self, _: &[u8]) -> Result<Vec<u8>, KeyWrapError> {
        Err(KeyWrapError::unavailable("keystore unavailable"))
    }
}

#[test]
fn platform_failures_are_errors_and_write_nothing() {
    let v = Vault::new();
    let err = TokenStore::open_with(&v.path, Arc::new(BrokenWrapper), v.options()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the key protecting the vault is unavailable: keystore unavailable"
    );
    assert!(matches!(
        err,
        StoreError::KeyWrapper(KeyWrapError::Unavailable { .. })
    ));
    assert!(!v.path.exists());
}

#[test]
fn no_seed_is_on_disk_in_any_encoding() {
    let v = Vault::new();
    let mut store = v.open().unwrap();
    let seeds: Vec<Vec<u8>> = (0u8..5)
        .map(|i| {
            (0..20)
                .map(|j| i.wrapping_mul(31).wrapping_add(j * 7) | 0x40)
                .collect()
        })
        .collect();
    for seed in &seeds {
        store.add(token("Bank", seed)).unwrap();
    }
    let plain = v.bytes();
    store.set_pin("2468").unwrap();
    let with_pin = v.bytes();
    let key_file = std::fs::read(v.key_path()).unwrap();
    for seed in &seeds {
        let forms = [
            seed.clone(),
            hex(seed).into_bytes(),
            b64(seed).into_bytes(),
            base32(seed).into_bytes(),
        ];
        for form in &forms {
            for (name, bytes) in [
                ("vault", &plain),
                ("vault+pin", &with_pin),
                ("key", &key_file),
            ] {
                assert!(
                    !contains(bytes, &form[..12]),
                    "seed found in the {name} file"
                );
            }
        }
    }
    // Nor in anything printed about the store.
    let shown = format!("{store:?} {:?}", store.tokens().unwrap());
    for seed in &seeds {
        assert!(!shown.contains(&hex(seed)) && !shown.contains(&b64(seed)));
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    for chunk in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = buf.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b));
        for i in 0..8 {
            out.push(ALPHABET[((n >> (35 - 5 * i)) & 31) as usize] as char);
        }
    }
    out
}
