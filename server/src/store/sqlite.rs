//! The embedded store: one SQLite file in WAL mode.
//!
//! Every write path runs in a `BEGIN IMMEDIATE` transaction, which takes SQLite's
//! write lock up front: check-then-change sequences are serialised, and a
//! transaction never fails half-way when upgrading a read lock. `synchronous =
//! FULL` makes a commit durable before the reply, so an accepted code stays used
//! after a crash. The SQL uses `$N` parameters and portable syntax so the
//! PostgreSQL store can share it.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use softtoken_protocol::{Algorithm, Digits, OtpParams, Period, ServiceId, UserId};
use sqlx::query::Query;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

mod group_commit;

use super::{
    ActivationSession, AuditEvent, Binding, EnrollmentAttempt, Failures, NewAuditEvent,
    NewEnrollment, Purged, Service, StepUse, Store, StoreError, StoreResult, Token, TokenState,
    User, sql,
};
use crate::policy::Policy;
use crate::serial::TokenSerial;

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The hot writes of a verification, batched into shared commits.
    group: group_commit::GroupCommit,
    /// Held by every writer of this process. SQLite has one write lock per database, and a
    /// connection that finds it taken polls for it with sleeps of up to 100 ms (the busy
    /// handler); queueing here instead hands the lock over as soon as it is free.
    writer: Arc<Mutex<()>>,
}

const TOKEN_COLUMNS: &str = "t.serial, t.service_id, t.state, t.algorithm, t.digits, t.period, \
     t.seed, t.last_step, t.drift, t.created_at, t.activated_at, t.last_used_at, t.expires_at";

const SERVICE_COLUMNS: &str = "id, name, algorithm, digits, period, otp_window, max_failures, \
     cooldown_secs, enrollment_ttl_secs, tokens_per_user, shared_tokens, created_at";

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at `url` (`sqlite:PATH`).
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // 64 MiB of page cache per connection instead of SQLite's 2 MiB: a bank's users
            // and tokens are read at random, and at a million tokens (a 400 MB file) the
            // small cache sent most reads to the kernel.
            .pragma("cache_size", "-65536");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(sqlx::Error::from)?;
        let writer = Arc::new(Mutex::new(()));
        let group = group_commit::GroupCommit::start(pool.clone(), Arc::clone(&writer));
        Ok(SqliteStore {
            pool,
            group,
            writer,
        })
    }

    /// A write transaction, and the process's writer turn, held until both are dropped.
    async fn write(&self) -> StoreResult<(OwnedMutexGuard<()>, Transaction<'static, Sqlite>)> {
        let turn = Arc::clone(&self.writer).lock_owned().await;
        Ok((turn, self.pool.begin_with("BEGIN IMMEDIATE").await?))
    }

    /// The writer turn for a write of a single statement (which commits by itself).
    async fn write_turn(&self) -> OwnedMutexGuard<()> {
        Arc::clone(&self.writer).lock_owned().await
    }
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

fn to_u32(n: i64, what: &str) -> StoreResult<u32> {
    u32::try_from(n).map_err(|_| corrupt(format!("{what} = {n}")))
}

fn to_u64(n: i64, what: &str) -> StoreResult<u64> {
    u64::try_from(n).map_err(|_| corrupt(format!("{what} = {n}")))
}

fn service_from_row(row: &SqliteRow) -> StoreResult<Service> {
    let id: String = row.try_get("id")?;
    let algorithm: Option<String> = row.try_get("algorithm")?;
    let digits: Option<i64> = row.try_get("digits")?;
    let period: Option<i64> = row.try_get("period")?;
    let policy = Policy {
        algorithm: algorithm
            .map(|a| Algorithm::from_str(&a))
            .transpose()
            .map_err(corrupt)?,
        digits: digits
            .map(|d| Digits::try_from(to_u32(d, "digits")?).map_err(corrupt))
            .transpose()?,
        period: period
            .map(|p| Period::new(to_u64(p, "period")?).map_err(corrupt))
            .transpose()?,
        window: to_u32(row.try_get("otp_window")?, "otp_window")?,
        max_failures: to_u32(row.try_get("max_failures")?, "max_failures")?,
        cooldown_secs: to_u64(row.try_get("cooldown_secs")?, "cooldown_secs")?,
        enrollment_ttl_secs: to_u64(row.try_get("enrollment_ttl_secs")?, "enrollment_ttl_secs")?,
        tokens_per_user: to_u32(row.try_get("tokens_per_user")?, "tokens_per_user")?,
        shared_tokens: row.try_get("shared_tokens")?,
    };
    Ok(Service {
        id: ServiceId::new(id).map_err(corrupt)?,
        name: row.try_get("name")?,
        policy,
        created_at: row.try_get("created_at")?,
    })
}

fn token_from_row(row: &SqliteRow) -> StoreResult<Token> {
    let serial: String = row.try_get("serial")?;
    let service_id: String = row.try_get("service_id")?;
    let state: String = row.try_get("state")?;
    let algorithm: String = row.try_get("algorithm")?;
    let params = OtpParams::new(
        Algorithm::from_str(&algorithm).map_err(corrupt)?,
        to_u32(row.try_get("digits")?, "digits")?,
        to_u64(row.try_get("period")?, "period")?,
    )
    .map_err(corrupt)?;
    Ok(Token {
        service_id: ServiceId::new(service_id).map_err(corrupt)?,
        serial: TokenSerial::parse(&serial).map_err(corrupt)?,
        state: TokenState::parse(&state)?,
        params,
        seed: row.try_get("seed")?,
        last_step: row.try_get("last_step")?,
        drift: row.try_get("drift")?,
        created_at: row.try_get("created_at")?,
        activated_at: row.try_get("activated_at")?,
        last_used_at: row.try_get("last_used_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

/// Binds `token`'s columns, in the order of the `tokens` table, as the query's next thirteen
/// parameters.
fn bind_token_columns<'q>(
    query: Query<'q, Sqlite, SqliteArguments<'q>>,
    token: &'q Token,
) -> StoreResult<Query<'q, Sqlite, SqliteArguments<'q>>> {
    Ok(query
        .bind(token.serial.as_str())
        .bind(token.service_id.as_str())
        .bind(token.state.as_str())
        .bind(token.params.algorithm.as_str())
        .bind(i64::from(token.params.digits.get()))
        .bind(i64::try_from(token.params.period.seconds()).map_err(corrupt)?)
        .bind(&token.seed)
        .bind(token.last_step)
        .bind(token.drift)
        .bind(token.created_at)
        .bind(token.activated_at)
        .bind(token.last_used_at)
        .bind(token.expires_at))
}

async fn insert_token(tx: &mut Transaction<'static, Sqlite>, token: &Token) -> StoreResult<()> {
    let result = bind_token_columns(sqlx::query(sql::INSERT_TOKEN), token)?
        .execute(&mut **tx)
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(StoreError::SerialTaken),
        Err(e) => Err(e.into()),
    }
}

async fn ensure_user(
    tx: &mut Transaction<'static, Sqlite>,
    service: &ServiceId,
    user: &UserId,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO users (service_id, user_id, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (service_id, user_id) DO NOTHING",
    )
    .bind(service.as_str())
    .bind(user.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Fails with `Cooldown` during a revocation cool-down, and with `Locked` if `locked_too`
/// and the user is locked.
async fn check_user_open(
    tx: &mut Transaction<'static, Sqlite>,
    service: &ServiceId,
    user: &UserId,
    now: i64,
    locked_too: bool,
) -> StoreResult<()> {
    let row = sqlx::query(
        "SELECT locked, cooldown_until FROM users WHERE service_id = $1 AND user_id = $2",
    )
    .bind(service.as_str())
    .bind(user.as_str())
    .fetch_one(&mut **tx)
    .await?;
    if locked_too && row.try_get::<bool, _>("locked")? {
        return Err(StoreError::Locked);
    }
    if let Some(until) = row.try_get::<Option<i64>, _>("cooldown_until")?
        && until > now
    {
        let retry_after = u64::try_from((until - now + 999) / 1000).unwrap_or(1);
        return Err(StoreError::Cooldown { retry_after });
    }
    Ok(())
}

async fn active_token_count(
    tx: &mut Transaction<'static, Sqlite>,
    service: &ServiceId,
    user: &UserId,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM token_users b JOIN tokens t ON t.serial = b.serial \
         WHERE b.service_id = $1 AND b.user_id = $2 AND t.state = 'active'",
    )
    .bind(service.as_str())
    .bind(user.as_str())
    .fetch_one(&mut **tx)
    .await?)
}

/// Resets the failure count of an unlocked user; `Locked` otherwise.
async fn reset_failures(
    tx: &mut Transaction<'static, Sqlite>,
    service: &ServiceId,
    user: &UserId,
) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE users SET failures = 0 \
         WHERE service_id = $1 AND user_id = $2 AND locked = FALSE",
    )
    .bind(service.as_str())
    .bind(user.as_str())
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Locked);
    }
    Ok(())
}

/// One-time use: records `step` on a token bound to the user in state `from`, only if the
/// user is not locked (`Locked`) and the step is newer than the last accepted one
/// (`Reused`), then clears the user's failure count. A refusal changes nothing.
pub(super) async fn use_step(
    tx: &mut Transaction<'static, Sqlite>,
    step: &StepUse,
    from: TokenState,
    now: i64,
) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE tokens SET last_step = $1, drift = $2, last_used_at = $3, state = 'active', \
         activated_at = COALESCE(activated_at, $3) \
         WHERE serial = $4 AND service_id = $5 AND state = $6 AND last_step < $1 \
         AND EXISTS (SELECT 1 FROM token_users b WHERE b.serial = tokens.serial \
                     AND b.service_id = $5 AND b.user_id = $7) \
         AND EXISTS (SELECT 1 FROM users u WHERE u.service_id = $5 AND u.user_id = $7 \
                     AND u.locked = FALSE)",
    )
    .bind(step.step)
    .bind(step.drift)
    .bind(now)
    .bind(step.serial.as_str())
    .bind(step.service_id.as_str())
    .bind(from.as_str())
    .bind(step.user_id.as_str())
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        let locked: Option<bool> =
            sqlx::query_scalar("SELECT locked FROM users WHERE service_id = $1 AND user_id = $2")
                .bind(step.service_id.as_str())
                .bind(step.user_id.as_str())
                .fetch_optional(&mut **tx)
                .await?;
        return Err(if locked == Some(true) {
            StoreError::Locked
        } else {
            StoreError::Reused
        });
    }
    sqlx::query(
        "UPDATE users SET failures = 0 \
         WHERE service_id = $1 AND user_id = $2 AND failures <> 0",
    )
    .bind(step.service_id.as_str())
    .bind(step.user_id.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Counts one start-password guess against the user's open enrollment and returns it; a
/// refusal (none, used, expired, out of guesses) changes nothing.
pub(super) async fn start_activation_tx(
    tx: &mut Transaction<'static, Sqlite>,
    service: &ServiceId,
    user: &UserId,
    max_guesses: u32,
    now: i64,
) -> StoreResult<EnrollmentAttempt> {
    let row = sqlx::query(
        "UPDATE enrollments SET guesses = guesses + 1 \
         WHERE service_id = $1 AND user_id = $2 AND used_at IS NULL AND expires_at > $3 \
         AND guesses < $4 RETURNING id, w, guesses",
    )
    .bind(service.as_str())
    .bind(user.as_str())
    .bind(now)
    .bind(i64::from(max_guesses))
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(row) = row {
        return Ok(EnrollmentAttempt {
            enrollment_id: row.try_get("id")?,
            w: row.try_get("w")?,
            guesses: to_u32(row.try_get("guesses")?, "guesses")?,
        });
    }
    let row = sqlx::query(
        "SELECT used_at, expires_at FROM enrollments WHERE service_id = $1 AND user_id = $2",
    )
    .bind(service.as_str())
    .bind(user.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Err(StoreError::EnrollmentNotFound);
    };
    if row.try_get::<Option<i64>, _>("used_at")?.is_some() {
        Err(StoreError::EnrollmentNotFound)
    } else if row.try_get::<i64, _>("expires_at")? <= now {
        Err(StoreError::EnrollmentExpired)
    } else {
        Err(StoreError::EnrollmentLocked)
    }
}

/// Stores an activation session between start and finish.
pub(super) async fn put_session_tx(
    tx: &mut Transaction<'static, Sqlite>,
    s: &ActivationSession,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO activation_sessions (id, enrollment_id, service_id, user_id, \
         session_key, attempts_left, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&s.id)
    .bind(&s.enrollment_id)
    .bind(s.service_id.as_str())
    .bind(s.user_id.as_str())
    .bind(&s.session_key)
    .bind(i64::from(s.attempts_left))
    .bind(s.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Deletes an activation session (a wrong start password ends it).
pub(super) async fn discard_session_tx(
    tx: &mut Transaction<'static, Sqlite>,
    id: &str,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM activation_sessions WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Ends an activation: the session is used up, the enrollment too, the user's older
/// pending tokens are revoked, and the new token is stored pending and bound. May refuse
/// after its first change (enrollment gone, serial taken): run it inside a savepoint.
pub(super) async fn finish_activation_tx(
    tx: &mut Transaction<'static, Sqlite>,
    session_id: &str,
    token: &Token,
    user: &UserId,
    now: i64,
) -> StoreResult<()> {
    let enrollment: Option<String> = sqlx::query_scalar(
        "DELETE FROM activation_sessions WHERE id = $1 AND expires_at > $2 \
         RETURNING enrollment_id",
    )
    .bind(session_id)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(enrollment) = enrollment else {
        return Err(StoreError::SessionExpired);
    };
    let used = sqlx::query("UPDATE enrollments SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
        .bind(now)
        .bind(&enrollment)
        .execute(&mut **tx)
        .await?;
    if used.rows_affected() == 0 {
        return Err(StoreError::EnrollmentNotFound);
    }
    sqlx::query(
        "UPDATE tokens SET state = 'revoked' WHERE state = 'pending' AND serial IN \
         (SELECT serial FROM token_users WHERE service_id = $1 AND user_id = $2)",
    )
    .bind(token.service_id.as_str())
    .bind(user.as_str())
    .execute(&mut **tx)
    .await?;
    insert_token(tx, token).await?;
    bind(tx, &token.service_id, user, &token.serial, now).await?;
    Ok(())
}

async fn bind(
    tx: &mut Transaction<'static, Sqlite>,
    service: &ServiceId,
    user: &UserId,
    serial: &TokenSerial,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO token_users (service_id, user_id, serial, bound_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(service.as_str())
    .bind(user.as_str())
    .bind(serial.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Unbinds a token from a user and revokes it if no user holds it any more.
async fn unbind(
    tx: &mut Transaction<'static, Sqlite>,
    service: &ServiceId,
    user: &UserId,
    serial: &str,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM token_users WHERE service_id = $1 AND user_id = $2 AND serial = $3")
        .bind(service.as_str())
        .bind(user.as_str())
        .bind(serial)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE tokens SET state = 'revoked' WHERE serial = $1 \
         AND NOT EXISTS (SELECT 1 FROM token_users b WHERE b.serial = $1)",
    )
    .bind(serial)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn add_service(&self, service: &Service, key_hash: &[u8; 32]) -> StoreResult<()> {
        let _turn = self.write_turn().await;
        let p = &service.policy;
        let result = sqlx::query(
            "INSERT INTO services (id, name, algorithm, digits, period, otp_window, \
             max_failures, cooldown_secs, enrollment_ttl_secs, tokens_per_user, shared_tokens, \
             api_key_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(service.id.as_str())
        .bind(&service.name)
        .bind(p.algorithm.map(|a| a.as_str()))
        .bind(p.digits.map(|d| i64::from(d.get())))
        .bind(p.period.map(|s| s.seconds() as i64))
        .bind(i64::from(p.window))
        .bind(i64::from(p.max_failures))
        .bind(i64::try_from(p.cooldown_secs).map_err(corrupt)?)
        .bind(i64::try_from(p.enrollment_ttl_secs).map_err(corrupt)?)
        .bind(i64::from(p.tokens_per_user))
        .bind(p.shared_tokens)
        .bind(key_hash.as_slice())
        .bind(service.created_at)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::ServiceExists),
            Err(e) => Err(e.into()),
        }
    }

    async fn services(&self) -> StoreResult<Vec<Service>> {
        let rows = sqlx::query(&format!(
            "SELECT {SERVICE_COLUMNS} FROM services ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(service_from_row).collect()
    }

    async fn service(&self, id: &ServiceId) -> StoreResult<Option<Service>> {
        let row = sqlx::query(&format!(
            "SELECT {SERVICE_COLUMNS} FROM services WHERE id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(service_from_row).transpose()
    }

    async fn service_for_key(&self, key_hash: &[u8; 32]) -> StoreResult<Option<ServiceId>> {
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM services WHERE api_key_hash = $1")
                .bind(key_hash.as_slice())
                .fetch_optional(&self.pool)
                .await?;
        id.map(|id| ServiceId::new(id).map_err(corrupt)).transpose()
    }

    async fn set_service_key(&self, id: &ServiceId, key_hash: &[u8; 32]) -> StoreResult<()> {
        let _turn = self.write_turn().await;
        let done = sqlx::query("UPDATE services SET api_key_hash = $1 WHERE id = $2")
            .bind(key_hash.as_slice())
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("service"));
        }
        Ok(())
    }

    async fn issue_enrollment(&self, e: &NewEnrollment, now: i64) -> StoreResult<()> {
        let (_turn, mut tx) = self.write().await?;
        ensure_user(&mut tx, &e.service_id, &e.user_id, now).await?;
        // A locked user may be re-enrolled; the lockout stays until the bank unlocks.
        check_user_open(&mut tx, &e.service_id, &e.user_id, now, false).await?;
        if active_token_count(&mut tx, &e.service_id, &e.user_id).await? > 0 {
            return Err(StoreError::TokenExists);
        }
        sqlx::query(
            "INSERT INTO enrollments (id, service_id, user_id, w, guesses, created_at, \
             expires_at, used_at) VALUES ($1, $2, $3, $4, 0, $5, $6, NULL) \
             ON CONFLICT (service_id, user_id) DO UPDATE SET id = excluded.id, w = excluded.w, \
             guesses = 0, created_at = excluded.created_at, expires_at = excluded.expires_at, \
             used_at = NULL",
        )
        .bind(&e.id)
        .bind(e.service_id.as_str())
        .bind(e.user_id.as_str())
        .bind(&e.w)
        .bind(now)
        .bind(e.expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn start_activation(
        &self,
        service: &ServiceId,
        user: &UserId,
        max_guesses: u32,
        now: i64,
    ) -> StoreResult<EnrollmentAttempt> {
        self.group
            .start_activation(service, user, max_guesses, now)
            .await
    }

    async fn put_session(
        &self,
        s: &ActivationSession,
        audit: Option<&NewAuditEvent>,
        now: i64,
    ) -> StoreResult<()> {
        self.group.put_session(s, audit, now).await
    }

    async fn session(&self, id: &str, now: i64) -> StoreResult<Option<ActivationSession>> {
        let row = sqlx::query(
            "SELECT id, enrollment_id, service_id, user_id, session_key, attempts_left, \
             expires_at FROM activation_sessions WHERE id = $1 AND expires_at > $2",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| -> StoreResult<ActivationSession> {
            Ok(ActivationSession {
                id: row.try_get("id")?,
                enrollment_id: row.try_get("enrollment_id")?,
                service_id: ServiceId::new(row.try_get::<String, _>("service_id")?)
                    .map_err(corrupt)?,
                user_id: UserId::new(row.try_get::<String, _>("user_id")?).map_err(corrupt)?,
                session_key: row.try_get("session_key")?,
                attempts_left: to_u32(row.try_get("attempts_left")?, "attempts_left")?,
                expires_at: row.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    async fn discard_session(&self, id: &str) -> StoreResult<()> {
        self.group.discard_session(id).await
    }

    async fn finish_activation(
        &self,
        session_id: &str,
        token: &Token,
        user: &UserId,
        now: i64,
        audit: Option<&NewAuditEvent>,
    ) -> StoreResult<()> {
        self.group
            .finish_activation(session_id, token, user, now, audit)
            .await
    }

    async fn add_unassigned_token(&self, token: &Token) -> StoreResult<()> {
        let (_turn, mut tx) = self.write().await?;
        insert_token(&mut tx, token).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn import_tokens(&self, tokens: &[Token]) -> StoreResult<Vec<bool>> {
        let (_turn, mut tx) = self.write().await?;
        let mut added = Vec::with_capacity(tokens.len());
        for token in tokens {
            let done = bind_token_columns(sqlx::query(sql::INSERT_TOKEN_UNLESS_PRESENT), token)?
                .execute(&mut *tx)
                .await?;
            added.push(done.rows_affected() == 1);
        }
        tx.commit().await?;
        Ok(added)
    }

    async fn token(&self, service: &ServiceId, serial: &TokenSerial) -> StoreResult<Option<Token>> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens t WHERE t.serial = $1 AND t.service_id = $2"
        ))
        .bind(serial.as_str())
        .bind(service.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn user(&self, service: &ServiceId, user: &UserId) -> StoreResult<Option<User>> {
        // One query, as on PostgreSQL: the user's row repeated on each of their tokens (a
        // LEFT JOIN, so a user without tokens still comes back). Every query is a round trip
        // to sqlx's SQLite worker thread, and `verify` reads this on every call.
        let rows = sqlx::query(&format!(
            "SELECT u.failures, u.locked, u.cooldown_until, {TOKEN_COLUMNS} \
             FROM users u \
             LEFT JOIN token_users b ON b.service_id = u.service_id AND b.user_id = u.user_id \
             LEFT JOIN tokens t ON t.serial = b.serial \
             WHERE u.service_id = $1 AND u.user_id = $2 \
             ORDER BY b.bound_at DESC, t.serial"
        ))
        .bind(service.as_str())
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let mut tokens = Vec::with_capacity(rows.len());
        for row in &rows {
            if row.try_get::<Option<String>, _>("serial")?.is_some() {
                tokens.push(token_from_row(row)?);
            }
        }
        Ok(Some(User {
            user_id: user.clone(),
            failures: to_u32(first.try_get("failures")?, "failures")?,
            locked: first.try_get("locked")?,
            cooldown_until: first.try_get("cooldown_until")?,
            tokens,
        }))
    }

    async fn accept_step(
        &self,
        step: &StepUse,
        from: TokenState,
        now: i64,
        audit: Option<&NewAuditEvent>,
    ) -> StoreResult<()> {
        self.group.accept_step(step, from, now, audit).await
    }

    async fn record_failure(
        &self,
        service: &ServiceId,
        user: &UserId,
        max_failures: u32,
        audit: Option<&NewAuditEvent>,
        now: i64,
    ) -> StoreResult<Failures> {
        self.group
            .record_failure(service, user, max_failures, audit, now)
            .await
    }

    async fn bind_token(&self, b: &Binding, now: i64) -> StoreResult<()> {
        let s = &b.step;
        let (_turn, mut tx) = self.write().await?;
        ensure_user(&mut tx, &s.service_id, &s.user_id, now).await?;
        check_user_open(&mut tx, &s.service_id, &s.user_id, now, true).await?;
        let row = sqlx::query(
            "SELECT state, expires_at FROM tokens WHERE serial = $1 AND service_id = $2",
        )
        .bind(s.serial.as_str())
        .bind(s.service_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::NotFound("token"));
        };
        let state = TokenState::parse(&row.try_get::<String, _>("state")?)?;
        let expires_at: Option<i64> = row.try_get("expires_at")?;
        let already: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM token_users WHERE service_id = $1 AND user_id = $2 AND serial = $3",
        )
        .bind(s.service_id.as_str())
        .bind(s.user_id.as_str())
        .bind(s.serial.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if already.is_some() {
            return Err(StoreError::Conflict(
                "the token is already registered to this user",
            ));
        }
        match state {
            TokenState::Unassigned if expires_at.is_some_and(|at| at <= now) => {
                return Err(StoreError::Conflict(
                    "the provisioned token expired unregistered: provision a new one",
                ));
            }
            TokenState::Unassigned => {}
            TokenState::Active if b.shared_tokens => {}
            TokenState::Active => {
                return Err(StoreError::Conflict(
                    "the token belongs to another user and this service does not allow shared tokens",
                ));
            }
            TokenState::Pending | TokenState::Revoked => {
                return Err(StoreError::Conflict(
                    "the token is pending activation or revoked",
                ));
            }
        }
        if active_token_count(&mut tx, &s.service_id, &s.user_id).await?
            >= i64::from(b.tokens_per_user)
        {
            return Err(StoreError::TokenExists);
        }
        let done = sqlx::query(
            "UPDATE tokens SET state = 'active', activated_at = COALESCE(activated_at, $1), \
             last_step = $2, drift = $3, last_used_at = $1, expires_at = NULL \
             WHERE serial = $4 AND service_id = $5 AND state = $6 AND last_step < $2",
        )
        .bind(now)
        .bind(s.step)
        .bind(s.drift)
        .bind(s.serial.as_str())
        .bind(s.service_id.as_str())
        .bind(state.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Reused);
        }
        bind(&mut tx, &s.service_id, &s.user_id, &s.serial, now).await?;
        reset_failures(&mut tx, &s.service_id, &s.user_id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn replace_token(&self, old: &StepUse, new: &StepUse, now: i64) -> StoreResult<()> {
        let (_turn, mut tx) = self.write().await?;
        use_step(&mut tx, old, TokenState::Active, now).await?;
        let row = sqlx::query(
            "SELECT state, expires_at FROM tokens WHERE serial = $1 AND service_id = $2",
        )
        .bind(new.serial.as_str())
        .bind(new.service_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::NotFound("token"));
        };
        let state = TokenState::parse(&row.try_get::<String, _>("state")?)?;
        let expires_at: Option<i64> = row.try_get("expires_at")?;
        if state != TokenState::Unassigned || expires_at.is_some_and(|at| at <= now) {
            return Err(StoreError::Conflict(
                "the new token must be a provisioned token not yet registered",
            ));
        }
        let done = sqlx::query(
            "UPDATE tokens SET state = 'active', activated_at = $1, last_step = $2, drift = $3, \
             last_used_at = $1, expires_at = NULL \
             WHERE serial = $4 AND service_id = $5 AND state = 'unassigned' AND last_step < $2",
        )
        .bind(now)
        .bind(new.step)
        .bind(new.drift)
        .bind(new.serial.as_str())
        .bind(new.service_id.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Reused);
        }
        unbind(&mut tx, &old.service_id, &old.user_id, old.serial.as_str()).await?;
        bind(&mut tx, &new.service_id, &new.user_id, &new.serial, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn stop_user(&self, step: &StepUse, now: i64) -> StoreResult<Vec<TokenSerial>> {
        let (_turn, mut tx) = self.write().await?;
        use_step(&mut tx, step, TokenState::Active, now).await?;
        let serials: Vec<String> = sqlx::query_scalar(
            "SELECT serial FROM token_users WHERE service_id = $1 AND user_id = $2 ORDER BY serial",
        )
        .bind(step.service_id.as_str())
        .bind(step.user_id.as_str())
        .fetch_all(&mut *tx)
        .await?;
        for serial in &serials {
            unbind(&mut tx, &step.service_id, &step.user_id, serial).await?;
        }
        tx.commit().await?;
        serials
            .iter()
            .map(|s| TokenSerial::parse(s).map_err(corrupt))
            .collect()
    }

    async fn unlock_user(&self, service: &ServiceId, user: &UserId) -> StoreResult<()> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "UPDATE users SET locked = FALSE, failures = 0 WHERE service_id = $1 AND user_id = $2",
        )
        .bind(service.as_str())
        .bind(user.as_str())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        Ok(())
    }

    async fn revoke_token(
        &self,
        service: &ServiceId,
        serial: &TokenSerial,
        cooldown_until: i64,
    ) -> StoreResult<Vec<UserId>> {
        let (_turn, mut tx) = self.write().await?;
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM tokens WHERE serial = $1 AND service_id = $2")
                .bind(serial.as_str())
                .bind(service.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let Some(state) = state else {
            return Err(StoreError::NotFound("token"));
        };
        let users: Vec<String> = sqlx::query_scalar(
            "SELECT user_id FROM token_users WHERE serial = $1 AND service_id = $2 ORDER BY user_id",
        )
        .bind(serial.as_str())
        .bind(service.as_str())
        .fetch_all(&mut *tx)
        .await?;
        // Revoking twice must not restart the cool-down.
        if TokenState::parse(&state)? != TokenState::Revoked {
            sqlx::query("UPDATE tokens SET state = 'revoked' WHERE serial = $1")
                .bind(serial.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE users SET cooldown_until = $1 WHERE service_id = $2 AND user_id IN \
                 (SELECT user_id FROM token_users WHERE serial = $3 AND service_id = $2)",
            )
            .bind(cooldown_until)
            .bind(service.as_str())
            .bind(serial.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        users
            .into_iter()
            .map(|u| UserId::new(u).map_err(corrupt))
            .collect()
    }

    async fn audit(&self, event: &NewAuditEvent, now: i64) -> StoreResult<()> {
        self.group.audit(event, now).await
    }

    async fn purge_expired(&self, now: i64, unassigned_before: i64) -> StoreResult<Purged> {
        let (_turn, mut tx) = self.write().await?;
        let sessions = sqlx::query(sql::PURGE_SESSIONS)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let tokens = sqlx::query(sql::PURGE_UNASSIGNED)
            .bind(unassigned_before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(Purged { sessions, tokens })
    }

    async fn audit_events(
        &self,
        service: &ServiceId,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>> {
        let rows = sqlx::query(
            "SELECT id, at, kind, user_id, serial, detail FROM audit_events \
             WHERE service_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(service.as_str())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEvent {
                    id: row.try_get("id")?,
                    at: row.try_get("at")?,
                    kind: row.try_get("kind")?,
                    user_id: row.try_get("user_id")?,
                    serial: row.try_get("serial")?,
                    detail: row.try_get("detail")?,
                })
            })
            .collect()
    }
}
