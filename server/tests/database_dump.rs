//! A copy of the database without the master key holds nothing usable: no seed, no
//! SPAKE2 verifier `w`, no start password, no API key, no session key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::TestServer;
use serde_json::json;
use softtoken_protocol::activation::PasswordKey;
use softtoken_protocol::{ServiceId, UserId};
use softtoken_store::policy::Policy;

fn encodings(secret: &[u8]) -> Vec<Vec<u8>> {
    vec![
        secret.to_vec(),
        hex::encode(secret).into_bytes(),
        hex::encode_upper(secret).into_bytes(),
        STANDARD.encode(secret).into_bytes(),
        URL_SAFE_NO_PAD.encode(secret).into_bytes(),
    ]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_database_dump_holds_no_secret() {
    // SQLite only: the test reads the database file's bytes.
    let server = TestServer::start_with(false, 0).await;
    let key = server.add_service("bank", Policy::default()).await;
    let password = "StartPw-7731";
    let (status, _) = server.enroll(&key, "bank", "alice", password).await;
    assert_eq!(status, 201);
    // An open enrollment (w stored) and a finished one (seed stored).
    let (status, _) = server.enroll(&key, "bank", "bob", password).await;
    assert_eq!(status, 201);
    let alice = server.activate("bank", "alice", password).await;
    let provisioned = server.provision("bank").await;
    // An activation session left open (its key stored).
    server.enroll(&key, "bank", "carol", password).await;
    let (_, status, _) = server.start_activation("bank", "carol", password).await;
    assert_eq!(status, 200);
    server
        .post(
            "/v1/services/bank/users/alice/confirm",
            &key,
            json!({"otp": alice.code(&server)}),
        )
        .await;

    // Everything on disk: the database and its write-ahead log.
    let path = server.db_path.clone().unwrap();
    let mut dump = std::fs::read(&path).unwrap();
    let wal = path.with_extension("db-wal");
    if wal.exists() {
        dump.extend(std::fs::read(&wal).unwrap());
    }
    assert!(
        contains(&dump, alice.serial.as_str().as_bytes()),
        "the dump should hold the data we look for secrets next to"
    );

    let bank = ServiceId::new("bank").unwrap();
    let mut secrets: Vec<(&str, Vec<u8>)> = vec![
        ("alice's seed", alice.seed.clone()),
        ("provisioned seed", provisioned.seed.clone()),
        ("start password", password.as_bytes().to_vec()),
        ("API key", key.as_bytes().to_vec()),
        ("API key secret part", key.as_bytes()[4..].to_vec()),
    ];
    for user in ["alice", "bob", "carol"] {
        let w = PasswordKey::derive(password, &bank, &UserId::new(user).unwrap());
        secrets.push(("w", w.expose().to_vec()));
    }
    for (what, secret) in secrets {
        for encoded in encodings(&secret) {
            assert!(!contains(&dump, &encoded), "the dump contains {what}");
        }
    }
}
