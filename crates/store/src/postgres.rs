//! The scale-out store: PostgreSQL shared by any number of stateless server instances.
//!
//! Correctness across instances rests on two patterns, never on a read followed by a
//! separate write:
//! - the hot paths (one-time use of a step, failure counting, activation start and finish)
//!   are each ONE statement of its own here. PostgreSQL re-checks an `UPDATE`'s `WHERE`
//!   against the newest row version after waiting for a concurrent writer, so
//!   `last_step < $step` or `guesses < $max` can be true for exactly one of two racing
//!   requests;
//! - every other write is the shared operation of `ops.rs`, run as a `SERIALIZABLE`
//!   transaction and retried when PostgreSQL reports a serialization failure or deadlock,
//!   so it behaves as if run alone.
//!
//! Durability: commits use the server's `synchronous_commit` (on by default), so an
//! accepted code is on disk before the reply. Concurrent commits share one WAL flush
//! (PostgreSQL's own group commit).

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use rand::Rng;
use softtoken_protocol::{ServiceId, UserId};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::query::Query;
use sqlx::{PgConnection, Postgres, Row as _};

use super::conn::{Arg, Conn, FromRow, Row, args};
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
use super::ops::{self, already_locked, token_args, user_locked_event};
use super::sql::no_cooldown_of_enrollment_user;
use super::{DatabaseError, MigrationStatus, PoolUse, Store, StoreError, StoreResult, status};
use crate::serial::TokenSerial;
use crate::surface::store_surface;

/// Connections per pool unless the caller asks otherwise: enough to keep a 2–4 core
/// database busy, few enough that several instances fit PostgreSQL's default
/// `max_connections` of 100.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 16;

/// A pooled connection idle this long is pinged before it is used again.
const PING_AFTER_IDLE: Duration = Duration::from_secs(10);

/// Attempts of a serializable transaction before its conflict is reported.
const MAX_ATTEMPTS: u32 = 30;

/// The schema this build expects.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

/// [`Conn`] over a sqlx PostgreSQL connection or transaction.
struct PgConn<'c>(&'c mut PgConnection);

/// An optional audit event as a statement's five last arguments: kind, user, serial,
/// detail, and whether to insert it.
macro_rules! audit_args {
    ($event:expr) => {
        [
            Arg::from($event.kind.as_str()),
            Arg::from($event.user_id.as_ref().map(|u| u.as_str())),
            Arg::from($event.serial.as_ref().map(|s| s.as_str())),
            Arg::from($event.detail.as_str()),
        ]
    };
}

fn bind<'q>(
    mut query: Query<'q, Postgres, PgArguments>,
    args: &[Arg<'q>],
) -> Query<'q, Postgres, PgArguments> {
    for arg in args {
        query = match *arg {
            Arg::Int(n) => query.bind(n),
            Arg::Text(s) => query.bind(s),
            Arg::Blob(b) => query.bind(b),
            Arg::Bool(b) => query.bind(b),
        };
    }
    query
}

impl Conn for PgConn<'_> {
    async fn execute(&mut self, sql: &'static str, args: &[Arg<'_>]) -> StoreResult<u64> {
        let done = bind(sqlx::query(sql), args).execute(&mut *self.0).await?;
        Ok(done.rows_affected())
    }

    async fn fetch_optional<T: FromRow>(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> StoreResult<Option<T>> {
        let row = bind(sqlx::query(sql), args)
            .fetch_optional(&mut *self.0)
            .await?;
        row.map(|row| T::from_row(&row)).transpose()
    }

    async fn fetch_all<T: FromRow>(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> StoreResult<Vec<T>> {
        let rows = bind(sqlx::query(sql), args).fetch_all(&mut *self.0).await?;
        rows.iter().map(|row| T::from_row(row)).collect()
    }

    // The hot operations, each one statement here (the statements are below).

    async fn accept_step(
        &mut self,
        step: &StepUse,
        from: TokenState,
        audit: &NewAuditEvent,
        refused: &RefusalDetails,
        now: i64,
    ) -> StoreResult<Acceptance> {
        let [kind, user, serial, detail] = audit_args!(audit);
        let row: Accepted = self
            .fetch_one(
                ACCEPT_STEP,
                &[
                    step.step.into(),
                    step.drift.into(),
                    now.into(),
                    step.serial.as_str().into(),
                    step.service_id.as_str().into(),
                    from.as_str().into(),
                    step.user_id.as_str().into(),
                    kind,
                    user,
                    serial,
                    detail,
                    refused.locked.as_str().into(),
                    refused.reused.as_str().into(),
                ],
            )
            .await?;
        Ok(if row.accepted {
            Acceptance::Accepted
        } else if row.locked {
            Acceptance::Locked
        } else {
            let last_used_by = row
                .last_used_by
                .map(|u| UserId::new(u).map_err(super::error::corrupt))
                .transpose()?;
            Acceptance::Reused { last_used_by }
        })
    }

    async fn record_failure(
        &mut self,
        service: &ServiceId,
        user: &UserId,
        max_failures: u32,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<Failures> {
        let [kind, audit_user, serial, detail] = audit_args!(audit);
        let locked_event = user_locked_event(service, user, max_failures);
        let locked_detail = already_locked(audit).detail;
        let row: Recorded = self
            .fetch_one(
                RECORD_FAILURE,
                &[
                    crate::rules::Lockout::of(max_failures).locks_at().into(),
                    service.as_str().into(),
                    user.as_str().into(),
                    now.into(),
                    kind,
                    audit_user,
                    serial,
                    detail,
                    locked_event.kind.as_str().into(),
                    locked_event.detail.as_str().into(),
                    locked_detail.as_str().into(),
                ],
            )
            .await?;
        if !row.known {
            return Err(StoreError::NotFound("user"));
        }
        Ok(Failures {
            failures: u32::try_from(row.failures).map_err(super::error::corrupt)?,
            locked: row.locked,
            newly_locked: row.counted && row.locked,
        })
    }

    async fn begin_activation(
        &mut self,
        s: &ActivationSession,
        max_guesses: u32,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<u32> {
        let [kind, user, serial, detail] = audit_args!(audit);
        let counted: Option<super::rows::Int> = self
            .fetch_optional(
                BEGIN_ACTIVATION,
                &[
                    s.enrollment_id.as_str().into(),
                    now.into(),
                    max_guesses.into(),
                    s.id.as_str().into(),
                    s.service_id.as_str().into(),
                    s.user_id.as_str().into(),
                    (&s.session_key).into(),
                    s.expires_at.into(),
                    kind,
                    user,
                    serial,
                    detail,
                ],
            )
            .await?;
        match counted {
            Some(left) => Ok(u32::try_from(left.0).unwrap_or(0)),
            None => {
                ops::enrollment_for_start(self, &s.service_id, &s.user_id, max_guesses, now)
                    .await?;
                Err(StoreError::EnrollmentNotFound)
            }
        }
    }

    async fn finish_activation(
        &mut self,
        session: &SessionId,
        token: &Token,
        user: &UserId,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()> {
        let [kind, audit_user, serial, detail] = audit_args!(audit);
        let result: StoreResult<Finished> = async {
            let columns: &[Arg<'_>] = token_args!(token);
            let mut all = columns.to_vec();
            all.extend([
                session.as_str().into(),
                now.into(),
                user.as_str().into(),
                kind,
                audit_user,
                serial,
                detail,
            ]);
            self.fetch_one(FINISH_ACTIVATION, &all).await
        }
        .await;
        let finished = match result {
            Ok(finished) => finished,
            Err(e) if is_unique_violation(&e) => return Err(StoreError::SerialTaken),
            Err(e) => return Err(e),
        };
        if !finished.live {
            Err(StoreError::SessionExpired)
        } else if !finished.used {
            Err(StoreError::EnrollmentNotFound)
        } else {
            Ok(())
        }
    }
}

impl Row for PgRow {
    fn int(&self, column: &str) -> StoreResult<i64> {
        Ok(self.try_get(column)?)
    }

    fn opt_int(&self, column: &str) -> StoreResult<Option<i64>> {
        Ok(self.try_get(column)?)
    }

    fn text(&self, column: &str) -> StoreResult<String> {
        Ok(self.try_get(column)?)
    }

    fn opt_text(&self, column: &str) -> StoreResult<Option<String>> {
        Ok(self.try_get(column)?)
    }

    fn blob(&self, column: &str) -> StoreResult<Vec<u8>> {
        Ok(self.try_get(column)?)
    }

    fn flag(&self, column: &str) -> StoreResult<bool> {
        Ok(self.try_get(column)?)
    }
}

/// A pooled connection inside a `SERIALIZABLE` transaction that this module begins and
/// ends itself, not through sqlx's `Transaction`: when sqlx's `COMMIT` fails it still
/// queues a `ROLLBACK` for the connection's next use. But a `COMMIT` that fails (a
/// serialization failure PostgreSQL finds only at commit, frequent under concurrent
/// transfer challenges) has already ended the transaction, so that `ROLLBACK` ran outside
/// one and PostgreSQL warned "there is no transaction in progress" each time.
struct Serializable {
    conn: PoolConnection<Postgres>,
    /// The transaction may still be open on the server: if dropped so (a cancelled
    /// request), the connection is closed rather than handed back mid-transaction.
    open: bool,
}

impl Serializable {
    /// Takes a connection from `pool` and begins the transaction.
    async fn begin(pool: &PgPool) -> StoreResult<Self> {
        // Armed before `BEGIN` is sent: a cancellation while it is in flight must not
        // return a connection that may be inside a transaction.
        let mut tx = Serializable {
            conn: pool.acquire().await?,
            open: true,
        };
        tx.conn()
            .execute("BEGIN ISOLATION LEVEL SERIALIZABLE", args![])
            .await?;
        Ok(tx)
    }

    /// The connection, for the operation run inside the transaction.
    fn conn(&mut self) -> PgConn<'_> {
        PgConn(&mut self.conn)
    }

    /// Commits. Any answer of the server ends the transaction (a failed `COMMIT` rolls
    /// back), so nothing more is sent; only a connection that gave no answer is closed.
    async fn commit(mut self) -> StoreResult<()> {
        let result = self.conn().execute("COMMIT", args![]).await;
        if matches!(
            result,
            Ok(_)
                | Err(StoreError::Database(DatabaseError::Sqlx(
                    sqlx::Error::Database(_)
                )))
        ) {
            self.open = false;
        }
        result?;
        Ok(())
    }

    /// Rolls back after the operation failed (the transaction is open or aborted, both of
    /// which `ROLLBACK` ends). If even that fails, the connection is closed on drop; the
    /// caller reports the operation's own error either way.
    async fn rollback(mut self) {
        if self.conn().execute("ROLLBACK", args![]).await.is_ok() {
            self.open = false;
        }
    }
}

impl Drop for Serializable {
    fn drop(&mut self) {
        if self.open {
            self.conn.close_on_drop();
        }
    }
}

/// Runs `$body` (an operation over `$c: &mut PgConn`) in a `SERIALIZABLE` transaction,
/// committing on `Ok` and retrying the whole body on a serialization failure or deadlock.
/// A macro, not a function: the body borrows the caller's arguments, which a
/// higher-ranked closure bound cannot express.
macro_rules! serializable {
    ($store:expr, |$c:ident| $body:expr) => {{
        let mut attempt = 1u32;
        loop {
            let outcome: StoreResult<_> = async {
                let mut tx = Serializable::begin(&$store.pool).await?;
                let result = {
                    let $c = &mut tx.conn();
                    $body.await
                };
                match result {
                    Ok(value) => {
                        tx.commit().await?;
                        Ok(value)
                    }
                    Err(e) => {
                        tx.rollback().await;
                        Err(e)
                    }
                }
            }
            .await;
            match outcome {
                Err(e) if is_retryable(&e) && attempt < MAX_ATTEMPTS => {
                    backoff(attempt).await;
                    attempt += 1;
                }
                other => break other,
            }
        }
    }};
}

/// Runs `$body` on a pooled connection outside any transaction (reads, and writes of one
/// statement).
macro_rules! pooled {
    ($store:expr, |$c:ident| $body:expr) => {{
        let mut conn = $store.pool.acquire().await?;
        let $c = &mut PgConn(&mut *conn);
        $body.await
    }};
}

impl PostgresStore {
    /// Connects to and migrates the database at `url` (`postgres://…`) with a pool of
    /// [`DEFAULT_MAX_CONNECTIONS`].
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with(url, DEFAULT_MAX_CONNECTIONS).await
    }

    /// Like [`PostgresStore::connect`] with a pool of `max_connections`.
    pub async fn connect_with(url: &str, max_connections: u32) -> StoreResult<Self> {
        Self::connect_with_timeout(url, max_connections, super::DEFAULT_DATABASE_TIMEOUT).await
    }

    /// Like [`PostgresStore::connect_with`], a request waiting at most `acquire_timeout`
    /// for a connection (then 503): while PostgreSQL is down or out of reach, requests are
    /// refused in bounded time instead of piling up.
    pub async fn connect_with_timeout(
        url: &str,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)?;
        // A ping before every use doubled the round trips of a verification. A connection
        // that was just used is alive; one idle for a while may have been cut (a restart,
        // a firewall), so only those are asked first.
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(acquire_timeout)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > PING_AFTER_IDLE {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(PostgresStore { pool })
    }

    /// The connection pool, for bulk loading (the benchmark) and tests.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Serialization failures (40001) and deadlocks (40P01) mean "run me again".
fn is_retryable(e: &StoreError) -> bool {
    match e {
        StoreError::Database(DatabaseError::Sqlx(sqlx::Error::Database(db))) => {
            matches!(db.code().as_deref(), Some("40001" | "40P01"))
        }
        _ => false,
    }
}

/// A short random pause so that two retrying transactions stop colliding.
async fn backoff(attempt: u32) {
    let micros = rand::thread_rng().gen_range(0..200 * u64::from(attempt));
    tokio::time::sleep(Duration::from_micros(micros)).await;
}

/// The answer of [`ACCEPT_STEP`].
struct Accepted {
    accepted: bool,
    locked: bool,
    last_used_by: Option<String>,
}

impl FromRow for Accepted {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        Ok(Accepted {
            accepted: row.flag("accepted")?,
            locked: row.flag("locked")?,
            last_used_by: row.opt_text("last_used_by")?,
        })
    }
}

/// One-time use of a step with its audit row, in one statement and one commit. `u` locks
/// the user's row first (the order every path here takes: user, then token), so a
/// concurrent lockout either lands before (and this refuses) or waits for this.
const ACCEPT_STEP: &str = "WITH u AS ( \
         SELECT locked FROM users WHERE service_id = $5 AND user_id = $7 FOR UPDATE \
     ), consumed AS ( \
         UPDATE tokens SET last_step = $1, drift = $2, last_used_at = $3, last_used_by = $7, \
             state = 'active', activated_at = COALESCE(activated_at, $3) \
         WHERE serial = $4 AND service_id = $5 AND state = $6 AND last_step < $1 \
         AND EXISTS (SELECT 1 FROM u WHERE NOT u.locked) \
         AND EXISTS (SELECT 1 FROM token_users b WHERE b.serial = tokens.serial \
                     AND b.service_id = $5 AND b.user_id = $7) \
         RETURNING 1 \
     ), reset AS ( \
         UPDATE users SET failures = 0 WHERE service_id = $5 AND user_id = $7 \
         AND failures <> 0 AND EXISTS (SELECT 1 FROM consumed) \
     ), audited AS ( \
         INSERT INTO audit_events (service_id, at, kind, user_id, serial, detail) \
         SELECT $5, $3, $8, $9, $10, CASE WHEN EXISTS (SELECT 1 FROM consumed) THEN $11 \
             WHEN COALESCE((SELECT locked FROM u), FALSE) THEN $12 ELSE $13 END \
     ) \
     SELECT EXISTS (SELECT 1 FROM consumed) AS accepted, \
            COALESCE((SELECT locked FROM u), FALSE) AS locked, \
            (SELECT last_used_by FROM tokens WHERE serial = $4 AND service_id = $5) \
                AS last_used_by";

/// The answer of [`RECORD_FAILURE`].
struct Recorded {
    known: bool,
    failures: i64,
    locked: bool,
    counted: bool,
}

impl FromRow for Recorded {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        Ok(Recorded {
            known: row.flag("known")?,
            failures: row.int("failures")?,
            locked: row.flag("locked")?,
            counted: row.flag("counted")?,
        })
    }
}

/// A wrong code counted in one statement, with its audit row and, if it locks the user,
/// the `user_locked` row. `existing` locks the user's row first and so reads its newest
/// version (a locking read waits for a concurrent writer and then follows its update), so
/// each wrong code counts exactly once, exactly one of them locks, and one that finds the
/// user locked counts nothing and is recorded with detail `$11` (`locked`), the answer the
/// caller gets.
const RECORD_FAILURE: &str = "WITH existing AS ( \
         SELECT failures, locked FROM users WHERE service_id = $2 AND user_id = $3 FOR UPDATE \
     ), counted AS ( \
         UPDATE users SET failures = e.failures + 1, locked = (e.failures + 1 >= $1) \
         FROM existing e \
         WHERE users.service_id = $2 AND users.user_id = $3 AND NOT e.locked \
         RETURNING users.failures, users.locked \
     ), audited AS ( \
         INSERT INTO audit_events (service_id, at, kind, user_id, serial, detail) \
         SELECT $2, $4, $5, $6, $7, \
             CASE WHEN EXISTS (SELECT 1 FROM counted) THEN $8 ELSE $11 END \
         WHERE EXISTS (SELECT 1 FROM existing) \
     ), locked_event AS ( \
         INSERT INTO audit_events (service_id, at, kind, user_id, serial, detail) \
         SELECT $2, $4, $9, $3, NULL, $10 FROM counted WHERE counted.locked \
     ) \
     SELECT EXISTS (SELECT 1 FROM existing) AS known, \
            COALESCE((SELECT failures FROM counted), (SELECT failures FROM existing), 0) \
                AS failures, \
            COALESCE((SELECT locked FROM counted), (SELECT locked FROM existing), FALSE) \
                AS locked, \
            EXISTS (SELECT 1 FROM counted) AS counted";

/// Counts a guess and stores the session with its audit row, in one statement.
const BEGIN_ACTIVATION: &str = concat!(
    "WITH counted AS ( \
         UPDATE enrollments SET guesses = guesses + 1 \
         WHERE id = $1 AND used_at IS NULL AND expires_at > $2 AND guesses < $3 AND ",
    no_cooldown_of_enrollment_user!("$2"),
    " RETURNING guesses \
     ), stored AS ( \
         INSERT INTO activation_sessions (id, enrollment_id, service_id, user_id, \
             session_key, attempts_left, expires_at) \
         SELECT $4, $1, $5, $6, $7, $3 - guesses, $8 FROM counted \
     ), audited AS ( \
         INSERT INTO audit_events (service_id, at, kind, user_id, serial, detail) \
         SELECT $5, $2, $9, $10, $11, $12 FROM counted \
     ) \
     SELECT $3 - guesses AS n FROM counted"
);

/// An activation's finish in one statement, one round trip, one commit. Every check is a
/// row lock taken in order: the session row (`FOR UPDATE`: a second finish of it waits,
/// then finds it gone), then the still-unused enrollment row (re-checked after any wait,
/// and not while a cool-down runs), so at most one finish per session and per enrollment
/// gets past `used`; serial uniqueness is the primary key. A refused finish changes
/// nothing; the token rows reference each other within the statement, which foreign keys
/// check at its end.
const FINISH_ACTIVATION: &str = concat!(
    "WITH session AS ( \
         SELECT enrollment_id FROM activation_sessions \
         WHERE id = $16 AND expires_at > $17 FOR UPDATE \
     ), used AS ( \
         UPDATE enrollments SET used_at = $17 \
         WHERE id = (SELECT enrollment_id FROM session) AND used_at IS NULL AND ",
    no_cooldown_of_enrollment_user!("$17"),
    " RETURNING id \
     ), ended AS ( \
         DELETE FROM activation_sessions WHERE id = $16 AND EXISTS (SELECT 1 FROM used) \
     ), superseded AS ( \
         UPDATE tokens SET state = 'revoked', ended_as = 'replaced' \
         WHERE EXISTS (SELECT 1 FROM used) AND state = 'pending' AND serial IN \
             (SELECT serial FROM token_users WHERE service_id = $2 AND user_id = $18) \
     ), created AS ( \
         INSERT INTO tokens (serial, service_id, state, algorithm, digits, period, seed, \
             last_step, drift, failures, last_used_by, created_at, activated_at, \
             last_used_at, expires_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15 \
         WHERE EXISTS (SELECT 1 FROM used) \
         RETURNING serial \
     ), bound AS ( \
         INSERT INTO token_users (service_id, user_id, serial, bound_at) \
         SELECT $2, $18, serial, $17 FROM created \
     ), audited AS ( \
         INSERT INTO audit_events (service_id, at, kind, user_id, serial, detail) \
         SELECT $2, $17, $19, $20, $21, $22 FROM created \
     ) \
     SELECT EXISTS (SELECT 1 FROM session) AS live, EXISTS (SELECT 1 FROM used) AS b"
);

/// The answer of [`FINISH_ACTIVATION`].
struct Finished {
    live: bool,
    used: bool,
}

impl FromRow for Finished {
    fn from_row(row: &dyn Row) -> StoreResult<Self> {
        Ok(Finished {
            live: row.flag("live")?,
            used: row.flag("b")?,
        })
    }
}

fn is_unique_violation(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Database(DatabaseError::Sqlx(sqlx::Error::Database(db)))
            if db.is_unique_violation()
    )
}

/// Each operation of the table (`surface.rs`), on a pooled connection or in a
/// serializable transaction.
macro_rules! postgres_store {
    (
        { $($extra:tt)* }
        $(
            $(#[$doc:meta])*
            $sqlite:ident $postgres:ident $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty
                = $op:path;
        )*
    ) => {
        #[async_trait]
        impl Store for PostgresStore {
            $(
                async fn $name(&self, $($arg: $ty),*) -> StoreResult<$ret> {
                    $postgres!(self, |c| $op(c, $($arg),*))
                }
            )*
            $($extra)*
        }
    };
}

store_surface!(postgres_store {
    fn pool_use(&self) -> PoolUse {
        PoolUse::Pool {
            open: self.pool.size(),
            idle: self.pool.num_idle(),
            max: self.pool.options().get_max_connections(),
        }
    }

    async fn migration_status(&self) -> StoreResult<MigrationStatus> {
        let applied: Vec<(i64, Vec<u8>)> = sqlx::query_as(status::APPLIED_MIGRATIONS)
            .fetch_all(&self.pool)
            .await?;
        Ok(status::compare(&MIGRATOR, &applied))
    }

    async fn close(&self) {
        // Waits for the connections in use to come back, then closes them all; each
        // operation commits before it answers, so nothing is left to flush.
        self.pool.close().await;
    }
});
