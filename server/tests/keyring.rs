//! The master keyring through the real binary: a rotation killed half-way leaves every
//! secret openable and resumes; an old key is retired only once nothing needs it; a key
//! file others can read is refused (issue 11, item 9).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use softtoken_protocol::{OtpParams, Serial, ServiceId};
use softtoken_service::crypto::{Bound, Keyring, sealed_by};
use softtoken_store::audit::AuditKind;
use softtoken_store::policy::Policy;
use softtoken_store::{self as store, NewAuditEvent, Service, Token, TokenState};

const TOKENS: usize = 600;

fn server(data: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_softtoken-server"));
    command
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env_remove("SOFTTOKEN_MASTER_KEY")
        .env_remove("SOFTTOKEN_DATABASE_URL");
    command
}

fn database(data: &Path) -> String {
    format!("sqlite://{}", data.join("softtoken.db").display())
}

/// A data directory with a service and `TOKENS` tokens sealed under a first key.
async fn populated(data: &Path) -> (Vec<Token>, String) {
    let keys = Keyring::load_or_create(data).unwrap();
    let store = store::connect(&database(data)).await.unwrap();
    let sid = ServiceId::new("bank").unwrap();
    store
        .add_service(
            &Service {
                id: sid.clone(),
                name: "Bank".into(),
                policy: Policy::default(),
                created_at: 0,
            },
            &[7; 32],
        )
        .await
        .unwrap();
    let tokens: Vec<Token> = (0..TOKENS)
        .map(|i| {
            let serial = Serial::generate();
            let seed = format!("seed number {i:04}");
            let sealed = keys.seal(
                seed.as_bytes(),
                Bound::Seed {
                    service: "bank",
                    serial: serial.as_str(),
                },
            );
            Token::new(
                sid.clone(),
                serial.into(),
                TokenState::Unassigned,
                OtpParams::REGISTRATION,
                sealed,
                0,
            )
        })
        .collect();
    let event = NewAuditEvent::new(&sid, AuditKind::TokensImported, "test");
    store.import_tokens(&tokens, &event, 0).await.unwrap();
    (tokens, keys.newest_id())
}

/// How many of the tokens' seeds each key seals now, after checking every one opens to
/// what was sealed.
async fn seeds_by_key(data: &Path, tokens: &[Token]) -> std::collections::BTreeMap<String, usize> {
    let keys = Keyring::load_or_create(data).unwrap();
    let store = store::connect(&database(data)).await.unwrap();
    let sid = ServiceId::new("bank").unwrap();
    let mut by_key = std::collections::BTreeMap::new();
    for (i, token) in tokens.iter().enumerate() {
        let stored = store.token(&sid, &token.serial).await.unwrap().unwrap();
        let plain = keys
            .open(
                &stored.seed,
                Bound::Seed {
                    service: "bank",
                    serial: token.serial.as_str(),
                },
            )
            .unwrap();
        assert_eq!(&*plain, format!("seed number {i:04}").as_bytes());
        *by_key.entry(sealed_by(&stored.seed).unwrap()).or_insert(0) += 1;
    }
    by_key
}

#[tokio::test]
async fn a_rotation_killed_half_way_loses_nothing_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (tokens, old) = populated(&data).await;

    // One secret per commit, so the rotation is surely still running when it is killed.
    let mut rotation = server(&data, &["key", "rotate", "--batch", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(rotation.stdout.take().unwrap()).lines();
    let added = lines.next().unwrap().unwrap();
    assert!(added.starts_with("Added master key"), "{added}");
    let progress = lines.next().unwrap().unwrap();
    assert!(progress.contains("re-sealed"), "{progress}");
    rotation.kill().unwrap();
    assert!(!rotation.wait().unwrap().success());

    let keys = Keyring::load_or_create(&data).unwrap().ids();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], old);
    let new = keys[1].clone();
    let half = seeds_by_key(&data, &tokens).await;
    assert!(half[&new] >= 1 && half[&old] >= 1, "killed after {half:?}");

    // The old key is still needed: it cannot go.
    let refused = server(&data, &["key", "retire", &old]).output().unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("key reseal"),
        "{refused:?}"
    );

    let resumed = server(&data, &["key", "reseal"]).output().unwrap();
    assert!(resumed.status.success(), "{resumed:?}");
    let whole = seeds_by_key(&data, &tokens).await;
    assert_eq!(whole.get(&new), Some(&TOKENS), "{whole:?}");
    let listed = server(&data, &["key", "list"]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains(&format!("sealed by {new}")),
        "{listed:?}"
    );

    let retired = server(&data, &["key", "retire", &old]).output().unwrap();
    assert!(retired.status.success(), "{retired:?}");
    assert_eq!(
        Keyring::load_or_create(&data).unwrap().ids(),
        std::slice::from_ref(&new)
    );
    assert_eq!(seeds_by_key(&data, &tokens).await.get(&new), Some(&TOKENS));
}

#[cfg(unix)]
#[test]
fn a_key_file_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = server(&data, &["service", "list"]).output().unwrap();
    assert!(first.status.success(), "{first:?}");
    let key_file = data.join("master.key");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let refused = server(&data, &["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("readable by others"), "{said}");
    assert!(
        said.contains(&format!("chmod 600 {}", key_file.display())),
        "{said}"
    );
}
