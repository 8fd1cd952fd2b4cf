//! Backups of the embedded SQLite store while the server runs, and their restore into a
//! new data directory (`softtoken-server backup` and `restore`).
//!
//! A backup is SQLite's `VACUUM INTO`: one read transaction, so the copy is the database
//! as it was at one commit however many writes the running server makes meanwhile (WAL
//! readers never block the writer, nor it them). Every code accepted before that commit is
//! spent in the copy too. The file is written beside its destination under a temporary
//! name, checked (`PRAGMA integrity_check`), flushed, and only then linked to its name,
//! which must be new: a backup never overwrites a file, and a half-written one never
//! carries the name.
//!
//! The master key is not in the backup, by design: a stolen backup holds no usable seed.
//! It is kept (and backed up) on its own; `restore` refuses to finish unless every sealed
//! secret of the backup opens with the keyring it finds.
//!
//! PostgreSQL is backed up with its own tools (`pg_dump`), see README "Backups".

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// How long the backup's read waits for a lock another process holds (a migration).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// What a backup or a restore holds, as counted in the copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Services (banks).
    pub services: u64,
    /// Tokens, in every state.
    pub tokens: u64,
    /// Audit events.
    pub audit_events: u64,
    /// The file's size in bytes.
    pub bytes: u64,
}

/// Why a backup or a restore was refused or failed; nothing is left behind either way.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The destination exists: a backup or a restore never overwrites.
    #[error("{0} exists; a backup or a restore never overwrites a file: choose a new name")]
    Exists(PathBuf),
    /// The source is missing, not a SQLite file, damaged, or not a softtoken database.
    #[error("{path}: {reason}")]
    NotABackup {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// SQLite failed while copying.
    #[error("copying the database: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Copies the live database at `database` into the new file `to` (mode 0600), consistent
/// at one commit while the server keeps serving.
pub fn backup(database: &Path, to: &Path) -> Result<Summary, BackupError> {
    refuse_existing(to)?;
    if !database.is_file() {
        return Err(BackupError::NotABackup {
            path: database.to_path_buf(),
            reason: "no database here (check --data-dir or --database)".into(),
        });
    }
    let source = Connection::open_with_flags(
        database,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    source.busy_timeout(BUSY_TIMEOUT)?;
    let summary = publish(to, |temp| {
        // VACUUM INTO fills an empty file; ours already has the private mode.
        source.execute("VACUUM INTO ?1", [temp.to_string_lossy()])?;
        Ok(())
    })?;
    Ok(summary)
}

/// Copies the backup `from` to the new database file `database` after checking that it is
/// an intact softtoken database. The caller then opens it and proves the master key opens
/// every secret, removing it with [`remove_database`] if not.
pub fn restore(from: &Path, database: &Path) -> Result<Summary, BackupError> {
    for path in database_files(database) {
        refuse_existing(&path)?;
    }
    if !from.is_file() {
        return Err(BackupError::NotABackup {
            path: from.to_path_buf(),
            reason: "no such file".into(),
        });
    }
    inspect(from)?;
    if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir).map_err(io(dir))?;
    }
    publish(database, |temp| {
        let mut out = OpenOptions::new()
            .write(true)
            .open(temp)
            .map_err(io(temp))?;
        let mut input = File::open(from).map_err(io(from))?;
        std::io::copy(&mut input, &mut out).map_err(io(temp))?;
        Ok(())
    })
}

/// Removes a database file and its WAL companions (a refused restore leaves nothing).
pub fn remove_database(database: &Path) {
    for path in database_files(database) {
        let _ = std::fs::remove_file(path);
    }
}

/// The database file and the `-wal` and `-shm` files SQLite keeps beside it.
fn database_files(database: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [database.to_path_buf(), with("-wal"), with("-shm")]
}

fn refuse_existing(path: &Path) -> Result<(), BackupError> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => Err(BackupError::Exists(path.to_path_buf())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(path)(e)),
    }
}

/// Writes `to` through `fill` under a temporary name in the same directory, checks and
/// flushes it, then gives it its name without replacing anything (a hard link fails if
/// the name was taken meanwhile).
fn publish(
    to: &Path,
    fill: impl FnOnce(&Path) -> Result<(), BackupError>,
) -> Result<Summary, BackupError> {
    let name = to
        .file_name()
        .ok_or_else(|| BackupError::NotABackup {
            path: to.to_path_buf(),
            reason: "a file name is needed".into(),
        })?
        .to_string_lossy()
        .into_owned();
    let temp = to.with_file_name(format!(".{name}.{}.partial", std::process::id()));
    let result = (|| {
        private_file(&temp)?;
        fill(&temp)?;
        let summary = inspect(&temp)?;
        File::open(&temp)
            .and_then(|f| f.sync_all())
            .map_err(io(&temp))?;
        std::fs::hard_link(&temp, to).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                BackupError::Exists(to.to_path_buf())
            } else {
                io(to)(e)
            }
        })?;
        Ok(summary)
    })();
    let _ = std::fs::remove_file(&temp);
    if result.is_ok() {
        sync_parent(to);
    }
    result
}

/// Checks that `path` is an intact softtoken database and counts what it holds.
fn inspect(path: &Path) -> Result<Summary, BackupError> {
    let not = |reason: String| BackupError::NotABackup {
        path: path.to_path_buf(),
        reason,
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| not(format!("not a SQLite database ({e})")))?;
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .map_err(|e| not(format!("not a SQLite database ({e})")))?;
    if check != "ok" {
        return Err(not(format!("the database is damaged: {check}")));
    }
    let count = |table: &str| -> Result<u64, BackupError> {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
            row.get::<_, i64>(0)
        })
        .map(|n| u64::try_from(n).unwrap_or(0))
        .map_err(|_| not(format!("not a softtoken database (no {table} table)")))
    };
    let bytes = std::fs::metadata(path).map_err(io(path))?.len();
    Ok(Summary {
        services: count("services")?,
        tokens: count("tokens")?,
        audit_events: count("audit_events")?,
        bytes,
    })
}

fn private_file(path: &Path) -> Result<(), BackupError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io(path))?;
    file.flush().map_err(io(path))
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Makes the new name durable too (best effort: not every platform opens directories).
fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(dir) = File::open(dir)
    {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn database(dir: &Path) -> PathBuf {
        let path = dir.join("live.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE services (id TEXT);
             CREATE TABLE tokens (serial TEXT);
             CREATE TABLE audit_events (id INTEGER PRIMARY KEY);
             INSERT INTO services VALUES ('bank');
             INSERT INTO tokens VALUES ('A'), ('B');
             INSERT INTO audit_events (id) VALUES (1), (2), (3);",
        )
        .unwrap();
        path
    }

    #[test]
    fn a_backup_is_private_counted_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let live = database(dir.path());
        let copy = dir.path().join("copy.db");
        let summary = backup(&live, &copy).unwrap();
        assert_eq!(
            (summary.services, summary.tokens, summary.audit_events),
            (1, 2, 3)
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let before = std::fs::read(&copy).unwrap();
        assert!(matches!(
            backup(&live, &copy),
            Err(BackupError::Exists(p)) if p == copy
        ));
        assert_eq!(std::fs::read(&copy).unwrap(), before);
        // No temporary file is left beside it.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("partial"))
            .collect();
        assert!(names.is_empty(), "{names:?}");
    }

    #[test]
    fn a_damaged_or_foreign_file_is_not_restored() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, b"this is not a database at all, not even close").unwrap();
        let target = dir.path().join("new/softtoken.db");
        let refused = restore(&junk, &target).unwrap_err();
        assert!(
            matches!(refused, BackupError::NotABackup { .. }),
            "{refused}"
        );
        assert!(!target.exists());

        let other = dir.path().join("other.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE notes (text TEXT);")
            .unwrap();
        let refused = restore(&other, &target).unwrap_err();
        assert!(
            refused.to_string().contains("not a softtoken database"),
            "{refused}"
        );
        assert!(!target.exists());
    }

    #[test]
    fn a_restore_never_lands_on_an_existing_database() {
        let dir = tempfile::tempdir().unwrap();
        let live = database(dir.path());
        let copy = dir.path().join("copy.db");
        backup(&live, &copy).unwrap();
        // The live database's WAL companion alone is enough to refuse.
        let target = dir.path().join("live.db");
        assert!(matches!(
            restore(&copy, &target),
            Err(BackupError::Exists(_))
        ));
        let fresh = dir.path().join("fresh/softtoken.db");
        let summary = restore(&copy, &fresh).unwrap();
        assert_eq!(summary.tokens, 2);
        assert!(matches!(
            restore(&copy, &fresh),
            Err(BackupError::Exists(_))
        ));
    }
}
