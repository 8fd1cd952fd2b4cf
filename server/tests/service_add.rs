//! `softtoken-server service add` through the real binary (issue 23, item 4): the service
//! and its `service_added` audit row land together, naming the command line and never the
//! key; a second add of the same ID is refused and records nothing. Runs on SQLite, and on
//! PostgreSQL when `SOFTTOKEN_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

use softtoken_protocol::ServiceId;
use softtoken_server::auth::hash_key;
use softtoken_store::audit::{self, AuditKind, Detail, KeySource};
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

/// The API key `service add` printed: its last line.
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
async fn a_service_added_from_the_command_line_is_audited_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut databases = vec![(
        format!("sqlite://{}", dir.path().join("add.db").display()),
        None,
    )];
    if let Some(base) = scratch::test_postgres_url() {
        let (url, schema) = scratch::fresh_schema(&base).await.unwrap();
        databases.push((url, Some((base, schema))));
    }
    for (database, scratch_schema) in databases {
        let data = dir.path().join("data");
        let add = ["service", "add", "--id", "bank", "--name", "Bank A"];
        let key = printed_key(&server(&add, &database, &data));

        let store = store::connect(&database).await.unwrap();
        let sid = ServiceId::new("bank").unwrap();
        assert_eq!(
            store.service_for_key(&hash_key(&key)).await.unwrap(),
            Some(sid.clone()),
            "{database}"
        );
        // Exactly one row, and it is the service's addition.
        let events = store.audit_events(&sid, 0, 100).await.unwrap();
        assert_eq!(events.len(), 1, "{database}: {events:?}");
        let added = &events[0];
        assert_eq!(added.kind, AuditKind::ServiceAdded.as_str(), "{database}");
        assert_eq!(added.operator.as_deref(), Some("softtoken-server"));
        assert_eq!(added.user_id, None);
        assert_eq!(
            Detail::parse(&added.detail),
            Some(Detail::ServiceAdded {
                name: "Bank A".into(),
                from: KeySource::CommandLine,
            }),
            "{database}"
        );
        assert_eq!(
            audit::english(&added.detail),
            "Bank A; from the command line"
        );
        assert!(!added.detail.contains(&key), "the key is never recorded");

        // The same ID again: refused, and nothing more recorded.
        let again = ["service", "add", "--id", "bank", "--name", "Other"];
        assert!(!server(&again, &database, &data).status.success());
        assert_eq!(store.audit_events(&sid, 0, 100).await.unwrap().len(), 1);
        store.close().await;
        if let Some((base, schema)) = scratch_schema {
            scratch::drop_schema(&base, &schema).await.unwrap();
        }
    }
}
