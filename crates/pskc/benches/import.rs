//! How long reading the 1,000-token acceptance file takes (PBKDF2 with 100,000
//! iterations, then 1,000 MAC checks and decryptions).
#![allow(clippy::expect_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use softtoken_pskc::{KeySource, parse};
use zeroize::Zeroizing;

fn thousand_tokens(c: &mut Criterion) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/totp-1000-pbkdf2.pskcxml"
    );
    let xml = std::fs::read(path).expect("the acceptance fixture");
    let key = KeySource::Password(Zeroizing::new("vendor-delivery-2026".into()));
    c.bench_function("parse 1,000-token PBKDF2 file", |b| {
        b.iter(|| parse(&xml, &key).map(|i| i.keys.len()))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = thousand_tokens
}
criterion_main!(benches);
