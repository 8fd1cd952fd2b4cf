//! Helpers shared by the core's integration tests: a manual clock, sample tokens, stores
//! in temporary directories, and a miniature activation server ([`fake_server`]).

#![allow(dead_code)] // each test file uses a different subset

pub mod fake_server;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use softtoken_core::protocol::otp::{Algorithm, OtpParams};
use softtoken_core::protocol::{Serial, ServiceId};
use softtoken_core::vault::Clock;
use softtoken_core::{
    FileKeyWrapper, KeyWrapper, Secret, StoreOptions, Token, TokenState, TokenStore,
};
use tempfile::TempDir;

/// A clock the test moves by hand.
#[derive(Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn at(ms: i64) -> Arc<Self> {
        Arc::new(ManualClock(AtomicI64::new(ms)))
    }
    pub fn advance_secs(&self, s: i64) {
        self.0.fetch_add(s * 1000, Ordering::SeqCst);
    }
    pub fn set(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_unix_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Fast PIN derivations: the tests are about the rules, not the work factor (one test
/// pins the default).
pub const TEST_ITERATIONS: u32 = 1_000;

/// A vault directory with a desktop key file.
pub struct Vault {
    pub dir: TempDir,
    pub path: PathBuf,
    pub clock: Arc<ManualClock>,
}

impl Vault {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.vault");
        Vault {
            dir,
            path,
            clock: ManualClock::at(1_700_000_000_000),
        }
    }

    pub fn key_path(&self) -> PathBuf {
        FileKeyWrapper::path_beside(&self.path)
    }

    pub fn wrapper(&self) -> Arc<dyn KeyWrapper> {
        Arc::new(FileKeyWrapper::open(&self.key_path()).unwrap())
    }

    pub fn options(&self) -> StoreOptions {
        StoreOptions {
            pin_iterations: TEST_ITERATIONS,
            clock: self.clock.clone(),
            ..StoreOptions::default()
        }
    }

    pub fn open(&self) -> Result<TokenStore, softtoken_core::StoreError> {
        TokenStore::open_with(&self.path, self.wrapper(), self.options())
    }

    pub fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.path).unwrap()
    }
}

/// A token with a recognisable seed: `seed_byte` repeated to the algorithm's length.
pub fn token(issuer: &str, seed: &[u8]) -> Token {
    Token {
        serial: Serial::generate(),
        issuer: issuer.into(),
        service_id: ServiceId::new("bank-1").unwrap(),
        user_label: "alice".into(),
        params: OtpParams::new(Algorithm::Sha1, 6, 30).unwrap(),
        secret: Secret::new(seed.to_vec()),
        state: TokenState::Active,
        created_at: 1_700_000_000,
        server_url: "https://otp.bank.example".into(),
        clock_offset_ms: 0,
    }
}

/// The RFC 6238 token (SHA-1, 8 digits, seed "12345678901234567890").
pub fn rfc_token() -> Token {
    let mut t = token("RFC Bank", b"12345678901234567890");
    t.params = OtpParams::new(Algorithm::Sha1, 8, 30).unwrap();
    t
}

/// Serials in the store, in order.
pub fn serials(store: &TokenStore) -> Vec<Serial> {
    store
        .tokens()
        .unwrap()
        .into_iter()
        .map(|t| t.serial)
        .collect()
}
