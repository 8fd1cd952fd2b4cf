//! The embedded store: one SQLite file in WAL mode, read and written by one thread that
//! owns the connection and commits writes in groups (`writer.rs`).
//!
//! `synchronous = FULL` makes a commit durable before the reply, so an accepted code stays
//! used after a crash; `BEGIN IMMEDIATE` takes the write lock up front, so another process
//! on the same file (a second instance, `softtoken-server service add`) waits its turn
//! instead of failing half-way. The schema is migrated with sqlx, as PostgreSQL's is.

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

use self::conn::{SqliteConn, run_ready};
use self::writer::Writer;
use super::conn::Conn as _;
use super::console::{
    self, AuditFilter, ConsoleSession, NewOperator, Operator, SessionLimits, SessionStage,
};
use super::model::{
    Acceptance, ActivationSession, Applied, AuditEvent, Binding, Enrollment, Failures, Judge,
    NewAuditEvent, NewEnrollment, OpenEnrollment, Purged, Resealed, Revocation, RevokeCooldown,
    SealedKind, SealedValue, Service, SessionId, StepUse, Token, TokenStanding, TokenState, User,
};
use super::model::{MailId, MailOutcome, MailStatus, OutboxMail, ServiceMail};
use super::model::{Transaction, TransactionUse};
use super::{DatabaseError, MigrationStatus, PoolUse, Store, StoreError, StoreResult, ops, status};
use crate::serial::TokenSerial;

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

/// Clones the named values into a `move` closure that runs `$op` over the connection.
macro_rules! with {
    ($($name:ident),* => |$c:ident| $op:expr) => {{
        $(let $name = $name.clone();)*
        move |$c: &mut SqliteConn<'_>| run_ready($op)
    }};
}

#[async_trait]
impl Store for SqliteStore {
    async fn add_service(&self, service: &Service, key_hash: &[u8; 32]) -> StoreResult<()> {
        let key_hash = *key_hash;
        self.write(with!(service => |c| ops::add_service(c, &service, &key_hash)))
            .await
    }

    async fn services(&self) -> StoreResult<Vec<Service>> {
        self.read(with!(=> |c| ops::services(c))).await
    }

    async fn service(&self, id: &ServiceId) -> StoreResult<Option<Service>> {
        self.read(with!(id => |c| ops::service(c, &id))).await
    }

    async fn service_for_key(&self, key_hash: &[u8; 32]) -> StoreResult<Option<ServiceId>> {
        let key_hash = *key_hash;
        self.read(with!(=> |c| ops::service_for_key(c, &key_hash)))
            .await
    }

    async fn set_service_key(&self, id: &ServiceId, key_hash: &[u8; 32]) -> StoreResult<()> {
        let key_hash = *key_hash;
        self.write(with!(id => |c| ops::set_service_key(c, &id, &key_hash)))
            .await
    }

    async fn set_service_policy(
        &self,
        id: &ServiceId,
        policy: &crate::policy::Policy,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()> {
        self.write(with!(id, policy, audit => |c| ops::set_service_policy(
            c, &id, &policy, &audit, now
        )))
        .await
    }

    async fn issue_enrollment(
        &self,
        enrollment: &NewEnrollment,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()> {
        self.write(
            with!(enrollment, audit => |c| ops::issue_enrollment(c, &enrollment, &audit, now)),
        )
        .await
    }

    async fn enrollment(
        &self,
        service: &ServiceId,
        user: &UserId,
    ) -> StoreResult<Option<Enrollment>> {
        self.read(with!(service, user => |c| ops::enrollment(c, &service, &user)))
            .await
    }

    async fn enrollment_for_start(
        &self,
        service: &ServiceId,
        user: &UserId,
        max_guesses: u32,
        now: i64,
    ) -> StoreResult<OpenEnrollment> {
        self.read(with!(service, user => |c| ops::enrollment_for_start(c, &service, &user, max_guesses, now)))
            .await
    }

    async fn begin_activation(
        &self,
        session: &ActivationSession,
        max_guesses: u32,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<u32> {
        self.write(
            with!(session, audit => |c| c.begin_activation(&session, max_guesses, &audit, now)),
        )
        .await
    }

    async fn session(&self, id: &SessionId, now: i64) -> StoreResult<Option<ActivationSession>> {
        self.read(with!(id => |c| ops::session(c, &id, now))).await
    }

    async fn discard_session(
        &self,
        id: &SessionId,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()> {
        self.write(with!(id, audit => |c| ops::discard_session(c, &id, &audit, now)))
            .await
    }

    async fn finish_activation(
        &self,
        session: &SessionId,
        token: &Token,
        user: &UserId,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()> {
        self.write(with!(session, token, user, audit => |c| c.finish_activation(&session, &token, &user, &audit, now)))
            .await
    }

    async fn add_provisioned_token(&self, token: &Token, quota: u32) -> StoreResult<()> {
        self.write(with!(token => |c| ops::add_provisioned_token(c, &token, quota)))
            .await
    }

    async fn import_tokens(
        &self,
        tokens: &[Token],
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<Vec<bool>> {
        let tokens = tokens.to_vec();
        self.write(with!(audit => |c| ops::import_tokens(c, &tokens, &audit, now)))
            .await
    }

    async fn token(&self, service: &ServiceId, serial: &TokenSerial) -> StoreResult<Option<Token>> {
        self.read(with!(service, serial => |c| ops::token(c, &service, &serial)))
            .await
    }

    async fn token_standing(&self, serial: &TokenSerial) -> StoreResult<Option<TokenStanding>> {
        self.read(with!(serial => |c| ops::token_standing(c, &serial)))
            .await
    }

    async fn user(&self, service: &ServiceId, user: &UserId) -> StoreResult<Option<User>> {
        self.read(with!(service, user => |c| ops::user(c, &service, &user)))
            .await
    }

    async fn accept_step(
        &self,
        step: &StepUse,
        from: TokenState,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<Acceptance> {
        self.write(with!(step, audit => |c| c.accept_step(&step, from, &audit, now)))
            .await
    }

    async fn judge_code(
        &self,
        service: &ServiceId,
        user: &UserId,
        judge: Judge,
        now: i64,
    ) -> StoreResult<Applied> {
        self.write(with!(service, user => |c| ops::judge_code(c, &service, &user, judge, now)))
            .await
    }

    async fn record_failure(
        &self,
        service: &ServiceId,
        user: &UserId,
        max_failures: u32,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<Failures> {
        self.write(with!(service, user, audit => |c| c.record_failure(&service, &user, max_failures, &audit, now)))
            .await
    }

    async fn record_registration_failure(
        &self,
        service: &ServiceId,
        user: &UserId,
        serial: &TokenSerial,
        max_failures: u32,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<Failures> {
        self.write(with!(service, user, serial, audit => |c| ops::record_registration_failure(c, &service, &user, &serial, max_failures, &audit, now)))
            .await
    }

    async fn bind_token(
        &self,
        binding: &Binding,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()> {
        self.write(with!(binding, audit => |c| ops::bind_token(c, &binding, &audit, now)))
            .await
    }

    async fn replace_token(
        &self,
        old: &StepUse,
        new: &StepUse,
        max_failures: u32,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()> {
        self.write(with!(old, new, audit => |c| ops::replace_token(c, &old, &new, max_failures, &audit, now)))
            .await
    }

    async fn stop_user(&self, step: &StepUse, now: i64) -> StoreResult<Vec<TokenSerial>> {
        self.write(with!(step => |c| ops::stop_user(c, &step, now)))
            .await
    }

    async fn unlock_user(
        &self,
        service: &ServiceId,
        user: &UserId,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()> {
        self.write(
            with!(service, user, audit => |c| ops::unlock_user(c, &service, &user, &audit, now)),
        )
        .await
    }

    async fn unlock_token(
        &self,
        service: &ServiceId,
        serial: &TokenSerial,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()> {
        self.write(with!(service, serial, audit => |c| ops::unlock_token(c, &service, &serial, &audit, now)))
            .await
    }

    async fn revoke_token(
        &self,
        service: &ServiceId,
        serial: &TokenSerial,
        cooldown: RevokeCooldown,
        operator: Option<&str>,
        now: i64,
    ) -> StoreResult<Revocation> {
        let operator = operator.map(str::to_owned);
        self.write(with!(service, serial, operator => |c| ops::revoke_token(
            c, &service, &serial, cooldown, operator.as_deref(), now
        )))
        .await
    }

    async fn end_cooldown(
        &self,
        service: &ServiceId,
        user: &UserId,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()> {
        self.write(
            with!(service, user, audit => |c| ops::end_cooldown(c, &service, &user, &audit, now)),
        )
        .await
    }

    async fn stop_user_without_code(
        &self,
        service: &ServiceId,
        user: &UserId,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<Vec<TokenSerial>> {
        self.write(
            with!(service, user, audit => |c| ops::stop_user_without_code(
                c, &service, &user, &audit, now
            )),
        )
        .await
    }

    async fn add_operator(
        &self,
        operator: &NewOperator,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<i64> {
        let operator = NewOperator {
            service_id: operator.service_id.clone(),
            name: operator.name.clone(),
            role: operator.role,
            password_hash: operator.password_hash.clone(),
        };
        let audit = audit.clone();
        self.write(move |c| run_ready(console::add_operator(c, &operator, &audit, now)))
            .await
    }

    async fn operator_named(&self, name: &str) -> StoreResult<Option<Operator>> {
        let name = name.to_owned();
        self.read(with!(name => |c| console::operator_named(c, &name)))
            .await
    }

    async fn operators(&self, service: Option<&ServiceId>) -> StoreResult<Vec<Operator>> {
        let service = service.cloned();
        self.read(with!(service => |c| console::operators(c, service.as_ref())))
            .await
    }

    async fn set_operator_disabled(
        &self,
        name: &str,
        disabled: bool,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()> {
        let name = name.to_owned();
        self.write(with!(name, audit => |c| console::set_operator_disabled(
            c, &name, disabled, &audit, now
        )))
        .await
    }

    async fn set_operator_password(
        &self,
        name: &str,
        password_hash: &str,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()> {
        let (name, hash) = (name.to_owned(), password_hash.to_owned());
        self.write(
            with!(name, hash, audit => |c| console::set_operator_password(
                c, &name, &hash, &audit, now
            )),
        )
        .await
    }

    async fn operator_failure(
        &self,
        operator: Option<i64>,
        max_failures: u32,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<console::OperatorFailure> {
        self.write(with!(audit => |c| console::operator_failure(
            c, operator, max_failures, &audit, now
        )))
        .await
    }

    async fn begin_console_session(
        &self,
        id_hash: &[u8; 32],
        operator: i64,
        stage: SessionStage,
        service: Option<&ServiceId>,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()> {
        let (id_hash, service) = (*id_hash, service.cloned());
        self.write(with!(service, audit => |c| console::begin_console_session(
            c, &id_hash, operator, stage, service.as_ref(), &audit, now
        )))
        .await
    }

    async fn console_session(
        &self,
        id_hash: &[u8; 32],
        limits: SessionLimits,
        now: i64,
    ) -> StoreResult<Option<ConsoleSession>> {
        let id_hash = *id_hash;
        self.write(move |c| run_ready(console::console_session(c, &id_hash, limits, now)))
            .await
    }

    async fn update_console_session(
        &self,
        id_hash: &[u8; 32],
        stage: SessionStage,
        service: Option<&ServiceId>,
        audit: Option<&NewAuditEvent>,
        now: i64,
    ) -> StoreResult<()> {
        let (id_hash, service, audit) = (*id_hash, service.cloned(), audit.cloned());
        self.write(with!(service, audit => |c| console::update_console_session(
            c, &id_hash, stage, service.as_ref(), audit.as_ref(), now
        )))
        .await
    }

    async fn end_console_session(
        &self,
        id_hash: &[u8; 32],
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()> {
        let id_hash = *id_hash;
        self.write(with!(audit => |c| console::end_console_session(c, &id_hash, &audit, now)))
            .await
    }

    async fn purge_console_sessions(&self, limits: SessionLimits, now: i64) -> StoreResult<u64> {
        self.write(move |c| run_ready(console::purge_console_sessions(c, limits, now)))
            .await
    }

    async fn search_users(
        &self,
        service: &ServiceId,
        query: &str,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<UserId>> {
        let query = query.to_owned();
        self.read(with!(service, query => |c| console::search_users(
            c, &service, &query, offset, limit
        )))
        .await
    }

    async fn audit_search(
        &self,
        service: &ServiceId,
        filter: &AuditFilter,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>> {
        self.read(with!(service, filter => |c| console::audit_search(
            c, &service, &filter, offset, limit
        )))
        .await
    }

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

    async fn set_service_mail(&self, mail: &ServiceMail) -> StoreResult<()> {
        self.write(with!(mail => |c| ops::set_service_mail(c, &mail)))
            .await
    }

    async fn service_mail(&self, service: &ServiceId) -> StoreResult<Option<ServiceMail>> {
        self.read(with!(service => |c| ops::service_mail(c, &service)))
            .await
    }

    async fn user_mails(
        &self,
        service: &ServiceId,
        user: &UserId,
        limit: u32,
    ) -> StoreResult<Vec<MailStatus>> {
        self.read(with!(service, user => |c| ops::user_mails(c, &service, &user, limit)))
            .await
    }

    async fn claim_mail(
        &self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> StoreResult<Vec<OutboxMail>> {
        self.write(with!(=> |c| ops::claim_mail(c, now, lease_until, limit)))
            .await
    }

    async fn finish_mail(
        &self,
        id: &MailId,
        outcome: &MailOutcome,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<bool> {
        self.write(with!(id, outcome, audit => |c| ops::finish_mail(c, &id, &outcome, &audit, now)))
            .await
    }

    async fn create_transaction(
        &self,
        transaction: &Transaction,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<bool> {
        self.write(
            with!(transaction, audit => |c| ops::create_transaction(c, &transaction, &audit, now)),
        )
        .await
    }

    async fn transaction(
        &self,
        service: &ServiceId,
        user: &UserId,
        id: &str,
    ) -> StoreResult<Option<Transaction>> {
        let id = id.to_string();
        self.read(with!(service, user, id => |c| ops::transaction(c, &service, &user, &id)))
            .await
    }

    async fn use_transaction(
        &self,
        service: &ServiceId,
        user: &UserId,
        id: &str,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<TransactionUse> {
        let id = id.to_string();
        self.write(with!(service, user, id, audit => |c| ops::use_transaction(c, &service, &user, &id, &audit, now)))
            .await
    }

    async fn audit(&self, event: &NewAuditEvent, now: i64) -> StoreResult<()> {
        self.write(with!(event => |c| ops::audit(c, &event, now)))
            .await
    }

    async fn purge_expired(&self, now: i64, unassigned_before: i64) -> StoreResult<Purged> {
        self.write(with!(=> |c| ops::purge_expired(c, now, unassigned_before)))
            .await
    }

    async fn audit_events(
        &self,
        service: &ServiceId,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>> {
        self.read(with!(service => |c| ops::audit_events(c, &service, after, limit)))
            .await
    }

    async fn stale_sealed(
        &self,
        kind: SealedKind,
        header: &[u8],
        after: &str,
        limit: u32,
    ) -> StoreResult<Vec<SealedValue>> {
        let (header, after) = (header.to_vec(), after.to_owned());
        self.read(with!(=> |c| ops::stale_sealed(c, kind, &header, &after, limit)))
            .await
    }

    async fn replace_sealed(&self, kind: SealedKind, values: &[Resealed]) -> StoreResult<u64> {
        let values = values.to_vec();
        self.write(with!(=> |c| ops::replace_sealed(c, kind, &values)))
            .await
    }

    async fn close(&self) {
        self.writer.close().await;
        // Dropping the sender ends the checkpointer's wait; the writer checkpointed last.
        self.checkpoints
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
    }
}

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
