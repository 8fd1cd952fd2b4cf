#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Backup and restore (issue 26, item 4): a backup taken while the server verifies codes
//! restores into a fresh data directory where every token verifies, every audit row is
//! there, and a code spent before the backup stays spent. SQLite through
//! `softtoken-server backup` / `restore` (the real binary, while the test's two instances
//! keep writing); PostgreSQL through `pg_dump` / `pg_restore`, as README says.
//!
//! Runs on SQLite, and on PostgreSQL when `SOFTTOKEN_TEST_POSTGRES_URL` is set.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};
use softtoken_protocol::otp::totp;
use softtoken_protocol::{OtpParams, Serial, UserId};
use softtoken_store::policy::Policy;
use softtoken_store::{AuditEvent, scratch};
use support::{Backend, Cluster, MASTER_KEY, backends};

const USERS: usize = 8;

fn server(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_softtoken-server"))
        .args(args)
        .env_remove("SOFTTOKEN_MASTER_KEY")
        .env_remove("SOFTTOKEN_DATABASE_URL")
        .env_remove("SOFTTOKEN_DATA_DIR")
        .env_remove("SOFTTOKEN_CONFIG")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn code(seed: &[u8], now_ms: i64) -> String {
    totp(
        seed,
        &OtpParams::REGISTRATION,
        u64::try_from(now_ms / 1000).unwrap(),
    )
    .to_string()
}

async fn verify(cluster: &Cluster, user: &str, otp: &str) -> Value {
    let path = format!("/v1/services/{}/users/{user}/verify", cluster.service);
    let (status, body) = support::post(
        &cluster.a,
        &path,
        Some(&cluster.api_key),
        &json!({ "otp": otp }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn audit(cluster: &Cluster) -> Vec<AuditEvent> {
    cluster
        .store_a
        .audit_events(&cluster.service, 0, 100_000)
        .await
        .unwrap()
}

/// A master key file as the server wants it: mode 0600 in a 0700 directory.
fn key_file(dir: &Path, line: &str) {
    std::fs::create_dir_all(dir).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let path = dir.join("master.key");
    std::fs::write(&path, line).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// How one backend takes a backup and restores it.
enum Tool {
    /// `softtoken-server backup` of this SQLite file.
    Sqlite(PathBuf),
    /// `pg_dump` of this schema of the database at this URL.
    Postgres { base: String, schema: String },
}

impl Tool {
    fn of(backend: &Backend, cluster: &Cluster) -> Tool {
        match backend {
            Backend::Sqlite(dir) => Tool::Sqlite(dir.path().join("softtoken.db")),
            Backend::Postgres(base) => Tool::Postgres {
                base: base.clone(),
                schema: cluster
                    .url
                    .split("search_path%3D")
                    .nth(1)
                    .unwrap()
                    .to_owned(),
            },
        }
    }

    /// Takes a backup into `file` while the server runs.
    fn backup(&self, file: &Path) {
        let out = match self {
            Tool::Sqlite(db) => server(&[
                "backup",
                "--to",
                file.to_str().unwrap(),
                "--database",
                &format!("sqlite://{}", db.display()),
            ]),
            Tool::Postgres { base, schema } => Command::new("pg_dump")
                .args(["--format=custom", "--schema", schema, "--file"])
                .arg(file)
                .arg(base)
                .output()
                .unwrap(),
        };
        assert!(out.status.success(), "{}", text(&out));
    }

    /// Restores `file` somewhere new; returns the URL of the restored database and what to
    /// drop afterwards (a PostgreSQL database).
    async fn restore(&self, file: &Path, into: &Path) -> (String, Option<String>) {
        match self {
            Tool::Sqlite(_) => {
                key_file(into, MASTER_KEY);
                let out = server(&[
                    "restore",
                    "--from",
                    file.to_str().unwrap(),
                    "--data-dir",
                    into.to_str().unwrap(),
                ]);
                assert!(out.status.success(), "{}", text(&out));
                assert!(
                    text(&out).contains(&format!("{USERS} seeds")),
                    "{}",
                    text(&out)
                );
                (
                    format!("sqlite://{}", into.join("softtoken.db").display()),
                    None,
                )
            }
            Tool::Postgres { base, schema } => {
                let name = format!("st_restore_{:016x}", rand::random::<u64>());
                psql(base, &format!("CREATE DATABASE \"{name}\""));
                let target = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
                let out = Command::new("pg_restore")
                    .args(["--exit-on-error", "--no-owner", "--dbname", &target])
                    .arg(file)
                    .output()
                    .unwrap();
                assert!(out.status.success(), "{}", text(&out));
                (
                    scratch::with_search_path(&target, schema).unwrap(),
                    Some(name),
                )
            }
        }
    }

    fn drop_restored(&self, database: Option<String>) {
        if let (Tool::Postgres { base, .. }, Some(name)) = (self, database) {
            psql(base, &format!("DROP DATABASE \"{name}\" WITH (FORCE)"));
        }
    }
}

fn psql(base: &str, sql: &str) {
    let out = Command::new("psql")
        .args([base, "-qc", sql])
        .output()
        .unwrap();
    assert!(out.status.success(), "{sql}: {}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_while_serving_restores_every_token_audit_row_and_spent_code() {
    for backend in backends() {
        let cluster = Cluster::start(&backend, Policy::default()).await;
        let tool = Tool::of(&backend, &cluster);
        let mut tokens: Vec<(String, Serial, Vec<u8>)> = Vec::new();
        for n in 0..USERS {
            let user = format!("user{n}");
            let (serial, seed) = cluster.active_token(&UserId::new(&user).unwrap()).await;
            tokens.push((user, serial, seed));
        }
        // A code spent before the backup.
        cluster.clock.advance_ms(30_000);
        let spent_at = cluster.now();
        let spent = code(&tokens[0].2, spent_at);
        assert_eq!(verify(&cluster, "user0", &spent).await["valid"], true);
        let before = audit(&cluster).await;

        // The first backup while both instances keep writing audit rows (wrong codes of a
        // user kept apart from the checks below).
        let dir = tempfile::tempdir().unwrap();
        let busy = dir.path().join("busy.backup");
        let stop = Arc::new(AtomicBool::new(false));
        let load = {
            let (a, b) = (cluster.a.clone(), cluster.b.clone());
            let (key, sid) = (cluster.api_key.clone(), cluster.service.clone());
            let stop = Arc::clone(&stop);
            tokio::spawn(async move {
                let mut n = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let router = if n.is_multiple_of(2) { &a } else { &b };
                    let path = format!("/v1/services/{sid}/users/nobody{}/verify", n % 50);
                    let (status, _) =
                        support::post(router, &path, Some(&key), &json!({"otp": "000000"})).await;
                    assert_eq!(status, 200);
                    n += 1;
                }
                n
            })
        };
        tool.backup(&busy);
        stop.store(true, Ordering::Relaxed);
        let during = load.await.unwrap();
        assert!(during > 0, "the load never ran");

        // The second backup on a quiet server: the whole audit trail, to the row.
        let quiet = dir.path().join("quiet.backup");
        tool.backup(&quiet);
        let original = audit(&cluster).await;

        for (file, whole) in [(&quiet, true), (&busy, false)] {
            let into = dir.path().join(format!(
                "restored-{}",
                file.file_stem().unwrap().to_string_lossy()
            ));
            let (url, database) = tool.restore(file, &into).await;
            let restored = Cluster::attach(&url, None).await;
            restored.clock.advance_ms(spent_at - restored.now());

            let rows = audit(&restored).await;
            if whole {
                assert_eq!(
                    rows, original,
                    "{backend}: the restored audit trail differs"
                );
            } else {
                // Taken mid-load: everything before it, and nothing that never happened.
                assert!(rows.len() >= before.len(), "{backend}");
                assert_eq!(rows[..before.len()], before[..], "{backend}");
                assert_eq!(rows[..], original[..rows.len()], "{backend}");
            }

            // Spent before the backup, still spent after the restore.
            let again = verify(&restored, "user0", &spent).await;
            assert_eq!(again["valid"], false, "{backend}: {again}");
            assert_eq!(again["reason"], "reused", "{backend}: {again}");

            // Every token verifies its next code.
            restored.clock.advance_ms(30_000);
            for (user, serial, seed) in &tokens {
                let answer = verify(&restored, user, &code(seed, restored.now())).await;
                assert_eq!(
                    answer["valid"], true,
                    "{backend}: {user} {serial}: {answer}"
                );
            }
            restored.finish().await;
            tool.drop_restored(database);
        }
        cluster.finish().await;
    }
}

#[test]
fn a_restore_refuses_without_the_master_key_with_the_wrong_one_or_over_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A real database, made by the binary itself.
    let out = server(&[
        "service",
        "add",
        "--id",
        "bank",
        "--name",
        "Bank",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let file = dir.path().join("bank.backup");
    let out = server(&[
        "backup",
        "--to",
        file.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("master key is not in the backup"),
        "{}",
        text(&out)
    );

    // A second backup to the same name is refused and leaves the first intact.
    let first = std::fs::read(&file).unwrap();
    let out = server(&[
        "backup",
        "--to",
        file.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("never overwrites"), "{}", text(&out));
    assert_eq!(std::fs::read(&file).unwrap(), first);

    // No master key in the new data directory: refused, nothing created, no key made up.
    let fresh = dir.path().join("fresh");
    let restore = |into: &Path| {
        server(&[
            "restore",
            "--from",
            file.to_str().unwrap(),
            "--data-dir",
            into.to_str().unwrap(),
        ])
    };
    let out = restore(&fresh);
    assert!(!out.status.success());
    assert!(text(&out).contains("no master key"), "{}", text(&out));
    assert!(!fresh.join("softtoken.db").exists());
    assert!(!fresh.join("master.key").exists());

    // Over an existing database: refused, the database untouched.
    let live = std::fs::read(data.join("softtoken.db")).unwrap();
    let out = restore(&data);
    assert!(!out.status.success());
    assert!(text(&out).contains("never overwrites"), "{}", text(&out));
    assert_eq!(std::fs::read(data.join("softtoken.db")).unwrap(), live);

    // PostgreSQL is pg_dump's job, and the command says so.
    let out = server(&[
        "backup",
        "--to",
        dir.path().join("pg.backup").to_str().unwrap(),
        "--database",
        "postgres://postgres@127.0.0.1:5432/test",
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("pg_dump"), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_with_another_master_key_is_refused_and_leaves_nothing() {
    let backend = Backend::Sqlite(tempfile::tempdir().unwrap());
    let cluster = Cluster::start(&backend, Policy::default()).await;
    cluster.active_token(&UserId::new("alice").unwrap()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bank.backup");
    Tool::of(&backend, &cluster).backup(&file);
    cluster.finish().await;

    let other = dir.path().join("other");
    let out = server(&["key", "generate"]);
    assert!(out.status.success());
    key_file(&other, &String::from_utf8_lossy(&out.stdout));
    let out = server(&[
        "restore",
        "--from",
        file.to_str().unwrap(),
        "--data-dir",
        other.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("does not open"), "{}", text(&out));
    let left: Vec<_> = std::fs::read_dir(&other)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("softtoken.db"))
        .collect();
    assert!(left.is_empty(), "a refused restore left {left:?}");
}
