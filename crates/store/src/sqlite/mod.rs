//! The embedded store: one SQLite file in WAL mode, read and written by one thread that
//! owns the connection and commits writes in groups (`writer.rs`).
//!
//! `synchronous = FULL` makes a commit durable before the reply, so an accepted code stays
//! used after a crash; `BEGIN IMMEDIATE` takes the write lock up front, so another process
//! on the same file (a second instance, `softtoken-server service add`) waits its turn
//! instead of failing half-way. The schema is migrated with sqlx, as PostgreSQL's is.

mod carry;
mod conn;
mod writer;

#[cfg(test)]
mod plans;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags};
use softtoken_protocol::{ServiceId, UserId};
use sqlx::Connection as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode};

use self::carry::Carry;
use self::conn::{SqliteConn, run_ready};
use self::writer::Writer;
use super::console::{
    AuditFilter, ConsoleSession, NewOperator, Operator, SessionLimits, SessionStage,
};
use super::model::{
    Acceptance, ActivationSession, Applied, AuditEvent, Binding, Enrollment, Failures, Judgement,
    NewAuditEvent, NewEnrollment, OpenEnrollment, Purged, Resealed, Revocation, RevokeCooldown,
    SealedKind, SealedValue, Service, SessionId, StepUse, Token, TokenStanding, TokenState, User,
};
use super::model::{MailId, MailOutcome, MailStatus, OutboxMail, ServiceMail};
use super::model::{RefusalDetails, Transaction, TransactionUse};
use super::{DatabaseError, MigrationStatus, PoolUse, Store, StoreError, StoreResult, status};
use crate::serial::TokenSerial;
use crate::surface::store_surface;

/// How long a connection waits for another process's write lock before it gives up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The connection's page cache, in KiB (SQLite's `cache_size` takes it negated).
/// 64 MiB instead of SQLite's 2 MiB: a bank's users and tokens are read at random, and
/// at a million tokens (a 400 MB file) the small cache sent most reads to the kernel.
const CACHE_KIB: i64 = 65_536;

/// Prepared statements each connection keeps (the store has about fifty).
const STATEMENT_CACHE: usize = 128;

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: Writer,
    /// Dropped with the last handle or taken by [`Store::close`], which stops the
    /// checkpointer.
    checkpoints: Arc<std::sync::Mutex<Option<std::sync::mpsc::SyncSender<()>>>>,
}

impl SqliteStore {
    /// Opens (creating it, mode 0600, if missing) and migrates the database at `url`
    /// (`sqlite:PATH` or `sqlite://PATH`).
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let path = database_path(url)?;
        create_private_file(&path)?;
        migrate(&path).await?;
        let writer = Writer::start(open(&path)?)?;
        let checkpoints = checkpointer(open(&path)?)?;
        Ok(SqliteStore {
            writer,
            checkpoints: Arc::new(std::sync::Mutex::new(Some(checkpoints))),
        })
    }

    /// Runs a read on the store's thread, on committed data.
    async fn read<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqliteConn<'_>) -> StoreResult<T> + Send + 'static,
    {
        self.writer.read(work).await
    }

    /// Runs a write in the writer thread's next group commit.
    async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqliteConn<'_>) -> StoreResult<T> + Send + 'static,
    {
        self.writer.write(work).await
    }
}

fn database_path(url: &str) -> StoreResult<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let config = |why: &str| {
        StoreError::Database(DatabaseError::Sqlx(sqlx::Error::Configuration(
            format!("{why}: {url}").into(),
        )))
    };
    if rest.is_empty() || rest.starts_with(":memory:") {
        return Err(config(
            "the server needs a database file, not an in-memory database",
        ));
    }
    if rest.contains('?') {
        return Err(config("a SQLite URL here is sqlite:PATH, without options"));
    }
    Ok(PathBuf::from(rest))
}

/// Creates the database file readable by its owner only, so that seeds sealed in it and the
/// audit trail are not readable by other local users. SQLite gives its `-wal` and `-shm`
/// files the same mode.
fn create_private_file(path: &Path) -> StoreResult<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Database(DatabaseError::Sqlx(sqlx::Error::Io(
            e,
        )))),
    }
}

/// The schema this build expects.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

async fn migrate(path: &Path) -> StoreResult<()> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);
    let mut conn = SqliteConnection::connect_with(&options).await?;
    MIGRATOR.run(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// How often the checkpointer copies the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// WAL pages after which a commit checkpoints by itself, should the checkpointer fall
/// behind (SQLite's default is 1,000): a safety net, not the way it is meant to happen.
const WAL_AUTOCHECKPOINT: i64 = 20_000;

/// Starts the thread that moves the WAL into the database file with passive checkpoints
/// (which wait for nobody), so the writer's commits never stop to do it themselves: an
/// automatic checkpoint held a commit, and every write of its batch, for up to hundreds of
/// milliseconds. The thread ends when the returned sender is dropped.
fn checkpointer(conn: Connection) -> StoreResult<std::sync::mpsc::SyncSender<()>> {
    let (stop, stopped) = std::sync::mpsc::sync_channel::<()>(0);
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(CHECKPOINT_EVERY)
            {
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "SQLite checkpoint failed; will retry");
                }
            }
        })
        .map_err(|_| DatabaseError::Internal("cannot start the SQLite checkpoint thread"))?;
    Ok(stop)
}

fn open(path: &Path) -> StoreResult<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT)?;
    Ok(conn)
}

/// Each operation of the table (`surface.rs`): its arguments carried to the store's
/// thread, run there as a read or in the next group commit.
macro_rules! sqlite_store {
    (
        { $($extra:tt)* }
        $(
            $(#[$doc:meta])*
            $sqlite:ident $postgres:ident $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty
                = $op:path;
        )*
    ) => {
        #[async_trait]
        impl Store for SqliteStore {
            $(
                async fn $name(&self, $($arg: $ty),*) -> StoreResult<$ret> {
                    $(let mut $arg = <$ty as Carry<'_>>::carry($arg);)*
                    self.$sqlite(move |c| {
                        run_ready($op(c, $(<$ty as Carry<'_>>::lend(&mut $arg)),*))
                    })
                    .await
                }
            )*
            $($extra)*
        }
    };
}

store_surface!(sqlite_store {
    fn pool_use(&self) -> PoolUse {
        PoolUse::Writer {
            queued: self.writer.queued(),
        }
    }

    async fn migration_status(&self) -> StoreResult<MigrationStatus> {
        let applied = self
            .read(|c| {
                let mut statement = c.0.prepare_cached(status::APPLIED_MIGRATIONS)?;
                let rows = statement.query_map([], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
                })?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await?;
        Ok(status::compare(&MIGRATOR, &applied))
    }

    async fn close(&self) {
        self.writer.close().await;
        // Dropping the sender ends the checkpointer's wait; the writer checkpointed last.
        self.checkpoints
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
    }
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_file() {
        assert_eq!(
            database_path("sqlite://data/softtoken.db").unwrap(),
            PathBuf::from("data/softtoken.db")
        );
        assert_eq!(
            database_path("sqlite:/tmp/x.db").unwrap(),
            PathBuf::from("/tmp/x.db")
        );
        assert!(database_path("sqlite::memory:").is_err());
        assert!(database_path("sqlite://x.db?mode=ro").is_err());
        assert!(database_path("sqlite:").is_err());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn close_commits_what_was_sent_and_refuses_what_comes_after() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = SqliteStore::connect(&url).await.unwrap();
        let service = |n: usize| Service {
            id: ServiceId::new(format!("s{n}")).unwrap(),
            name: format!("bank {n}"),
            policy: crate::policy::Policy::default(),
            created_at: 0,
        };
        // Writes racing the close: each one answered Ok must be on disk after it.
        let writes: Vec<_> = (0..200)
            .map(|n| {
                let store = store.clone();
                tokio::spawn(async move { store.add_service(&service(n), &[n as u8; 32]).await })
            })
            .collect();
        tokio::task::yield_now().await;
        store.close().await;
        let mut answered = Vec::new();
        for (n, write) in writes.into_iter().enumerate() {
            match write.await.unwrap() {
                Ok(()) => answered.push(n),
                Err(StoreError::Database(DatabaseError::WriterStopped)) => {}
                Err(e) => panic!("write {n}: {e}"),
            }
        }
        assert!(matches!(
            store.services().await,
            Err(StoreError::Database(DatabaseError::WriterStopped))
        ));
        store.close().await; // a second close is harmless
        // The last checkpoint moved everything into the database file.
        let wal = dir.path().join("t.db-wal");
        assert!(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) == 0);
        let reopened = SqliteStore::connect(&url).await.unwrap();
        let kept = reopened.services().await.unwrap();
        for n in &answered {
            assert!(
                kept.iter().any(|s| s.id.as_str() == format!("s{n}")),
                "s{n} lost"
            );
        }
    }
}
