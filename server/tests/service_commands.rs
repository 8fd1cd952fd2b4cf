//! The service commands of `softtoken-server` through the real binary (issue 23, item 4):
//! `service add` writes the service and its `service_added` audit row together, naming the
//! command line and never the key, and a second add of the same ID is refused and records
//! nothing; `service rotate-key` writes the new key and its `api_key_rotated` row together,
//! and the old key stops working; `service mail` writes the activation e-mail settings and
//! their `service_mail_set` row together, and a service that does not exist records
//! nothing. Each runs on SQLite, and on PostgreSQL when `SOFTTOKEN_TEST_POSTGRES_URL` is
//! set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use softtoken_protocol::ServiceId;
use softtoken_server::auth::hash_key;
use softtoken_store::audit::{self, AuditKind, Detail, KeySource};
use softtoken_store::{self as store, NewAuditEvent, ServiceMail, StoreError, scratch};

fn server(args: &[&str], database: &str, data: &Path) -> Output {
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

/// A fresh SQLite file in `dir`, and a fresh PostgreSQL schema when one is configured (with
/// what `drop_scratch` needs to drop it).
async fn databases(dir: &Path) -> Vec<(String, Option<(String, String)>)> {
    let mut databases = vec![(format!("sqlite://{}", dir.join("t.db").display()), None)];
    if let Some(base) = scratch::test_postgres_url() {
        let (url, schema) = scratch::fresh_schema(&base).await.unwrap();
        databases.push((url, Some((base, schema))));
    }
    databases
}

async fn drop_scratch(scratch_schema: Option<(String, String)>) {
    if let Some((base, schema)) = scratch_schema {
        scratch::drop_schema(&base, &schema).await.unwrap();
    }
}

#[tokio::test]
async fn a_service_added_from_the_command_line_is_audited_with_it() {
    let dir = tempfile::tempdir().unwrap();
    for (database, scratch_schema) in databases(dir.path()).await {
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
        drop_scratch(scratch_schema).await;
    }
}

#[tokio::test]
async fn a_key_rotated_from_the_command_line_is_audited_with_it() {
    let dir = tempfile::tempdir().unwrap();
    for (database, scratch_schema) in databases(dir.path()).await {
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
            audit::english(&rotated[0].detail).contains("command line"),
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
        drop_scratch(scratch_schema).await;
    }
}

/// The `service_mail_set` rows of `sid`, oldest first.
async fn mail_rows(store: &dyn store::Store, sid: &ServiceId) -> Vec<store::AuditEvent> {
    let mut rows: Vec<_> = store
        .audit_events(sid, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == AuditKind::ServiceMailSet.as_str())
        .collect();
    rows.sort_by_key(|e| e.id);
    rows
}

#[tokio::test]
async fn mail_settings_set_from_the_command_line_are_audited_with_them() {
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("en.txt");
    std::fs::write(
        &body,
        "{service_name} {service_id}/{user_id}\n{download_url}\n{activation_link}\n",
    )
    .unwrap();
    for (database, scratch_schema) in databases(dir.path()).await {
        let data = dir.path().join("data");
        let add = ["service", "add", "--id", "bank", "--name", "Bank"];
        printed_key(&server(&add, &database, &data));
        let url = "https://apps.example/otp";
        let mail = [
            "service",
            "mail",
            "--id",
            "bank",
            "--download-url",
            url,
            "--subject-ja",
            "【{service_name}】ご案内",
        ];
        let out = server(&mail, &database, &data);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );

        let store = store::connect(&database).await.unwrap();
        let sid = ServiceId::new("bank").unwrap();
        // The settings are there, and so is exactly one row saying what they are.
        let settings = store.service_mail(&sid).await.unwrap().unwrap();
        assert_eq!(settings.download_url, url, "{database}");
        assert!(settings.ja.is_some() && settings.en.is_none());
        let rows = mail_rows(&*store, &sid).await;
        assert_eq!(rows.len(), 1, "{database}: {rows:?}");
        let set = &rows[0];
        assert_eq!(set.operator.as_deref(), Some("softtoken-server"));
        assert_eq!((set.user_id.as_ref(), set.serial.as_ref()), (None, None));
        assert_eq!(
            Detail::parse(&set.detail),
            Some(Detail::ServiceMailSet {
                download_url: url.into(),
                own_ja: true,
                own_en: false,
            }),
            "{database}"
        );
        assert_eq!(
            audit::english(&set.detail),
            "download URL https://apps.example/otp; ja: own template, en: built-in template"
        );
        assert_eq!(set.at, settings.updated_at, "one instant for both");
        assert!(
            !set.detail.contains("ご案内"),
            "the templates stay in the settings"
        );

        // Set again, the other way round: a second row, saying what this change set.
        let other = "https://bank.example/app";
        let again = [
            "service",
            "mail",
            "--id",
            "bank",
            "--download-url",
            other,
            "--body-en-file",
            body.to_str().unwrap(),
        ];
        let out = server(&again, &database, &data);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rows = mail_rows(&*store, &sid).await;
        assert_eq!(rows.len(), 2, "{database}: {rows:?}");
        assert_eq!(
            Detail::parse(&rows[1].detail),
            Some(Detail::ServiceMailSet {
                download_url: other.into(),
                own_ja: false,
                own_en: true,
            }),
            "{database}"
        );

        // A service that does not exist: refused, and nothing recorded, from the command
        // line and from the store itself (its own refusal, inside the write's commit).
        let nobank = ServiceId::new("nobank").unwrap();
        let missing = ["service", "mail", "--id", "nobank", "--download-url", url];
        assert!(!server(&missing, &database, &data).status.success());
        let settings = ServiceMail {
            service_id: nobank.clone(),
            download_url: url.into(),
            ja: None,
            en: None,
            updated_at: 1,
        };
        let event = NewAuditEvent::new(
            &nobank,
            AuditKind::ServiceMailSet,
            Detail::ServiceMailSet {
                download_url: url.into(),
                own_ja: false,
                own_en: false,
            },
        );
        assert!(matches!(
            store.set_service_mail(&settings, &event, 1).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(
            store
                .audit_events(&nobank, 0, 100)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(store.service_mail(&nobank).await.unwrap().is_none());
        store.close().await;
        drop_scratch(scratch_schema).await;
    }
}
