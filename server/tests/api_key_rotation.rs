//! `softtoken-server service rotate-key` through the real binary (issue 23, item 4): the new
//! key and its `api_key_rotated` audit row land together, naming the command line, and the
//! old key stops working. Runs on SQLite, and on PostgreSQL when
//! `SOFTTOKEN_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

use softtoken_protocol::ServiceId;
use softtoken_server::auth::hash_key;
use softtoken_store::audit::AuditKind;
use softtoken_store::{self as store, scratch};

fn server(args: &[&str], database: &str, data: &std::path::Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_softtoken-server"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SOFTTOKEN_") {
            command.env_remove(name);
        }
    }
    command
        .args(args)
        .args(["--database", database, "--data-dir"])
        .arg(data)
        .output()
        .unwrap()
}

/// The API key a `service add` or `rotate-key` printed: its last line.
fn printed_key(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned()
}

#[tokio::test]
async fn a_key_rotated_from_the_command_line_is_audited_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut databases = vec![(
        format!("sqlite://{}", dir.path().join("rotate.db").display()),
        None,
    )];
    if let Some(base) = scratch::test_postgres_url() {
        let (url, schema) = scratch::fresh_schema(&base).await.unwrap();
        databases.push((url, Some((base, schema))));
    }
    for (database, scratch_schema) in databases {
        let data = dir.path().join("data");
        let add = ["service", "add", "--id", "bank", "--name", "Bank"];
        let old = printed_key(&server(&add, &database, &data));
        let rotate = ["service", "rotate-key", "bank"];
        let new = printed_key(&server(&rotate, &database, &data));
        assert_ne!(old, new);

        let store = store::connect(&database).await.unwrap();
        let sid = ServiceId::new("bank").unwrap();
        let events = store.audit_events(&sid, 0, 100).await.unwrap();
        let rotated: Vec<_> = events
            .iter()
            .filter(|e| e.kind == AuditKind::ApiKeyRotated.as_str())
            .collect();
        assert_eq!(rotated.len(), 1, "{database}: {events:?}");
        assert_eq!(
            rotated[0].operator.as_deref(),
            Some("softtoken-server"),
            "{database}"
        );
        assert!(
            softtoken_store::audit::english(&rotated[0].detail).contains("command line"),
            "{database}: {:?}",
            rotated[0].detail
        );
        // The key that was printed is the one stored; the old one opens nothing.
        assert_eq!(
            store.service_for_key(&hash_key(&new)).await.unwrap(),
            Some(sid.clone())
        );
        assert_eq!(store.service_for_key(&hash_key(&old)).await.unwrap(), None);
        // A service that does not exist: refused, and nothing recorded.
        let missing = ["service", "rotate-key", "nobank"];
        assert!(!server(&missing, &database, &data).status.success());
        let other = ServiceId::new("nobank").unwrap();
        assert!(store.audit_events(&other, 0, 100).await.unwrap().is_empty());
        store.close().await;
        if let Some((base, schema)) = scratch_schema {
            scratch::drop_schema(&base, &schema).await.unwrap();
        }
    }
}
