//! What the vault costs: opening without a PIN, unlocking with the default PIN work factor,
//! codes for 100 tokens, and saving 100 tokens. Run with `cargo bench -p softtoken-core`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use softtoken_core::protocol::otp::OtpParams;
use softtoken_core::protocol::{Serial, ServiceId};
use softtoken_core::{
    FileKeyWrapper, KeyWrapper, Secret, StoreOptions, Token, TokenState, TokenStore,
};

fn hundred_tokens() -> Vec<Token> {
    (0u8..100)
        .map(|i| Token {
            serial: Serial::generate(),
            issuer: format!("Bank {i}"),
            service_id: ServiceId::new("bank").unwrap(),
            user_label: format!("user-{i}"),
            params: OtpParams::REGISTRATION,
            secret: Secret::new(vec![i; 20]),
            state: TokenState::Active,
            created_at: 1_700_000_000,
            server_url: "https://otp.bank.example".into(),
            clock_offset_ms: 0,
        })
        .collect()
}

fn vault(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.vault");
    let wrapper: Arc<dyn KeyWrapper> =
        Arc::new(FileKeyWrapper::open(&FileKeyWrapper::path_beside(&path)).unwrap());
    let mut store = TokenStore::open(&path, wrapper.clone()).unwrap();
    let tokens = hundred_tokens();
    for t in &tokens {
        store.add(t.clone()).unwrap();
    }
    drop(store);

    let mut group = c.benchmark_group("vault");
    group.bench_function("open without PIN (100 tokens)", |b| {
        b.iter(|| TokenStore::open(&path, wrapper.clone()).unwrap())
    });

    let mut store = TokenStore::open(&path, wrapper.clone()).unwrap();
    group.bench_function("codes for 100 tokens", |b| {
        b.iter(|| {
            for t in &tokens {
                std::hint::black_box(store.code(&t.serial, 1_700_000_000_000).unwrap());
            }
        })
    });
    group.bench_function("save 100 tokens (fsync + rename)", |b| {
        let serial = tokens[0].serial.clone();
        let mut state = TokenState::Active;
        b.iter(|| {
            state = if state == TokenState::Active {
                TokenState::Pending
            } else {
                TokenState::Active
            };
            store.set_state(&serial, state).unwrap();
        })
    });

    // Unlocking runs the default 600,000 PBKDF2 iterations: few samples suffice.
    store.set_pin("246813").unwrap();
    drop(store);
    group.sample_size(10);
    let options = StoreOptions::default();
    group.bench_function("unlock with PIN (default KDF, 100 tokens)", |b| {
        b.iter(|| {
            let mut store = TokenStore::open_with(&path, wrapper.clone(), options.clone()).unwrap();
            store.unlock("246813").unwrap();
            store
        })
    });
    group.finish();
}

criterion_group!(benches, vault);
criterion_main!(benches);
