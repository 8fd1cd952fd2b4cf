//! The scale-out store: PostgreSQL shared by any number of stateless server instances.
//!
//! Correctness across instances rests on two patterns, never on a read followed by a
//! separate write:
//! - the hot paths (one-time use of a step, failure counting, activation guesses) are
//!   each ONE statement. PostgreSQL re-checks an `UPDATE`'s `WHERE` against the newest
//!   row version after waiting for a concurrent writer, so `last_step < $step` or
//!   `guesses < $max` can be true for exactly one of two racing requests;
//! - the multi-step operations (issue, finish, bind, replace, stop, revoke) run as
//!   `SERIALIZABLE` transactions and are retried when PostgreSQL reports a
//!   serialization failure or deadlock, so they behave as if run one at a time.
//!
//! Durability: commits use the server's `synchronous_commit` (on by default), so an
//! accepted code is on disk before the reply. Concurrent commits share one WAL flush
//! (PostgreSQL's own group commit), which is what lets many verifications per fsync
//! through without weakening that guarantee.

use std::str::FromStr;
use std::time::Duration;

use crate::serial::TokenSerial;
use async_trait::async_trait;
use rand::Rng;
use softtoken_protocol::{Algorithm, Digits, OtpParams, Period, ServiceId, UserId};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::query::Query;
use sqlx::{PgConnection, Postgres, Row};

use super::{
    ActivationSession, AuditEvent, Binding, EnrollmentAttempt, Failures, NewAuditEvent,
    NewEnrollment, Purged, Service, StepUse, Store, StoreError, StoreResult, Token, TokenState,
    User, sql,
};
use crate::policy::Policy;

/// Connections per pool unless the caller asks otherwise: enough to keep a 2–4 core
/// database busy, few enough that several instances fit PostgreSQL's default
/// `max_connections` of 100.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 16;

/// Attempts of a serializable transaction before its conflict is reported.
const MAX_ATTEMPTS: u32 = 30;

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

const TOKEN_COLUMNS: &str = "t.serial, t.service_id, t.state, t.algorithm, t.digits, t.period, \
     t.seed, t.last_step, t.drift, t.created_at, t.activated_at, t.last_used_at, t.expires_at";

const SERVICE_COLUMNS: &str = "id, name, algorithm, digits, period, otp_window, max_failures, \
     cooldown_secs, enrollment_ttl_secs, tokens_per_user, shared_tokens, created_at";

/// Runs `$body` (an expression of a future over `$conn: &mut PgConnection`) in a
/// `SERIALIZABLE` transaction, committing on `Ok` and retrying the whole body on a
/// serialization failure or deadlock. A macro, not a function: the body borrows the
/// caller's arguments, which a higher-ranked closure bound cannot express.
macro_rules! serializable {
    ($store:expr, |$conn:ident| $body:expr) => {
        transaction!($store, "BEGIN ISOLATION LEVEL SERIALIZABLE", |$conn| $body)
    };
}

/// Like [`serializable!`] at any isolation level `$begin` names.
macro_rules! transaction {
    ($store:expr, $begin:expr, |$conn:ident| $body:expr) => {{
        let mut attempt = 1u32;
        loop {
            let outcome: StoreResult<_> = async {
                let mut tx = $store.pool.begin_with($begin).await?;
                let value = {
                    let $conn: &mut PgConnection = &mut tx;
                    $body.await?
                };
                tx.commit().await?;
                Ok(value)
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

impl PostgresStore {
    /// Connects to and migrates the database at `url` (`postgres://…`) with a pool of
    /// [`DEFAULT_MAX_CONNECTIONS`].
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with(url, DEFAULT_MAX_CONNECTIONS).await
    }

    /// Like [`PostgresStore::connect`] with a pool of `max_connections`.
    pub async fn connect_with(url: &str, max_connections: u32) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(sqlx::Error::from)?;
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
        StoreError::Database(sqlx::Error::Database(db)) => {
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

fn service_from_row(row: &PgRow) -> StoreResult<Service> {
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

fn token_from_row(row: &PgRow) -> StoreResult<Token> {
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
    query: Query<'q, Postgres, PgArguments>,
    token: &'q Token,
) -> StoreResult<Query<'q, Postgres, PgArguments>> {
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

/// Binds an optional audit event as a statement's last five parameters: kind, user, serial,
/// detail, and whether there is an event at all (the statement inserts its row only then).
trait BindAudit<'q> {
    fn bind_audit(self, audit: Option<&'q NewAuditEvent>) -> Self;
}

impl<'q> BindAudit<'q> for Query<'q, Postgres, PgArguments> {
    fn bind_audit(self, audit: Option<&'q NewAuditEvent>) -> Self {
        self.bind(audit.map(|a| a.kind))
            .bind(audit.and_then(|a| a.user_id.as_ref()).map(|u| u.as_str()))
            .bind(audit.and_then(|a| a.serial.as_ref()).map(|s| s.as_str()))
            .bind(audit.map(|a| a.detail.as_str()))
            .bind(audit.is_some())
    }
}

async fn insert_token(c: &mut PgConnection, token: &Token) -> StoreResult<()> {
    let query = sqlx::query(sql::INSERT_TOKEN);
    let result = bind_token_columns(query, token)?.execute(&mut *c).await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(StoreError::SerialTaken),
        Err(e) => Err(e.into()),
    }
}

async fn ensure_user(
    c: &mut PgConnection,
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
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Fails with `Cooldown` during a revocation cool-down, and with `Locked` if `locked_too`
/// and the user is locked.
async fn check_user_open(
    c: &mut PgConnection,
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
    .fetch_one(&mut *c)
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
    c: &mut PgConnection,
    service: &ServiceId,
    user: &UserId,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM token_users b JOIN tokens t ON t.serial = b.serial \
         WHERE b.service_id = $1 AND b.user_id = $2 AND t.state = 'active'",
    )
    .bind(service.as_str())
    .bind(user.as_str())
    .fetch_one(&mut *c)
    .await?)
}

/// Resets the failure count of an unlocked user; `Locked` otherwise.
async fn reset_failures(
    c: &mut PgConnection,
    service: &ServiceId,
    user: &UserId,
) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE users SET failures = 0 \
         WHERE service_id = $1 AND user_id = $2 AND locked = FALSE",
    )
    .bind(service.as_str())
    .bind(user.as_str())
    .execute(&mut *c)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Locked);
    }
    Ok(())
}

/// One-time use: records `step` on a token bound to the user in state `from` only if it
/// is newer than the last accepted step; `Reused` otherwise.
async fn consume_step(
    c: &mut PgConnection,
    step: &StepUse,
    from: TokenState,
    now: i64,
) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE tokens SET last_step = $1, drift = $2, last_used_at = $3, state = 'active', \
         activated_at = COALESCE(activated_at, $3) \
         WHERE serial = $4 AND service_id = $5 AND state = $6 AND last_step < $1 \
         AND EXISTS (SELECT 1 FROM token_users b WHERE b.serial = tokens.serial \
                     AND b.service_id = $5 AND b.user_id = $7)",
    )
    .bind(step.step)
    .bind(step.drift)
    .bind(now)
    .bind(step.serial.as_str())
    .bind(step.service_id.as_str())
    .bind(from.as_str())
    .bind(step.user_id.as_str())
    .execute(&mut *c)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Reused);
    }
    Ok(())
}

async fn bind(
    c: &mut PgConnection,
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
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Unbinds a token from a user and revokes it if no user holds it any more.
async fn unbind(
    c: &mut PgConnection,
    service: &ServiceId,
    user: &UserId,
    serial: &str,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM token_users WHERE service_id = $1 AND user_id = $2 AND serial = $3")
        .bind(service.as_str())
        .bind(user.as_str())
        .bind(serial)
        .execute(&mut *c)
        .await?;
    sqlx::query(
        "UPDATE tokens SET state = 'revoked' WHERE serial = $1 \
         AND NOT EXISTS (SELECT 1 FROM token_users b WHERE b.serial = $1)",
    )
    .bind(serial)
    .execute(&mut *c)
    .await?;
    Ok(())
}

async fn issue_enrollment_tx(c: &mut PgConnection, e: &NewEnrollment, now: i64) -> StoreResult<()> {
    ensure_user(c, &e.service_id, &e.user_id, now).await?;
    // A locked user may be re-enrolled; the lockout stays until the bank unlocks.
    check_user_open(c, &e.service_id, &e.user_id, now, false).await?;
    if active_token_count(c, &e.service_id, &e.user_id).await? > 0 {
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
    .execute(&mut *c)
    .await?;
    Ok(())
}

async fn bind_token_tx(c: &mut PgConnection, b: &Binding, now: i64) -> StoreResult<()> {
    let s = &b.step;
    ensure_user(c, &s.service_id, &s.user_id, now).await?;
    check_user_open(c, &s.service_id, &s.user_id, now, true).await?;
    let row =
        sqlx::query("SELECT state, expires_at FROM tokens WHERE serial = $1 AND service_id = $2")
            .bind(s.serial.as_str())
            .bind(s.service_id.as_str())
            .fetch_optional(&mut *c)
            .await?;
    let Some(row) = row else {
        return Err(StoreError::NotFound("token"));
    };
    let state = TokenState::parse(&row.try_get::<String, _>("state")?)?;
    let expires_at: Option<i64> = row.try_get("expires_at")?;
    let already: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM token_users \
         WHERE service_id = $1 AND user_id = $2 AND serial = $3)",
    )
    .bind(s.service_id.as_str())
    .bind(s.user_id.as_str())
    .bind(s.serial.as_str())
    .fetch_one(&mut *c)
    .await?;
    if already {
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
    if active_token_count(c, &s.service_id, &s.user_id).await? >= i64::from(b.tokens_per_user) {
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
    .execute(&mut *c)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Reused);
    }
    bind(c, &s.service_id, &s.user_id, &s.serial, now).await?;
    reset_failures(c, &s.service_id, &s.user_id).await?;
    Ok(())
}

async fn replace_token_tx(
    c: &mut PgConnection,
    old: &StepUse,
    new: &StepUse,
    now: i64,
) -> StoreResult<()> {
    reset_failures(c, &old.service_id, &old.user_id).await?;
    consume_step(c, old, TokenState::Active, now).await?;
    let row =
        sqlx::query("SELECT state, expires_at FROM tokens WHERE serial = $1 AND service_id = $2")
            .bind(new.serial.as_str())
            .bind(new.service_id.as_str())
            .fetch_optional(&mut *c)
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
    .execute(&mut *c)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Reused);
    }
    unbind(c, &old.service_id, &old.user_id, old.serial.as_str()).await?;
    bind(c, &new.service_id, &new.user_id, &new.serial, now).await?;
    Ok(())
}

async fn stop_user_tx(c: &mut PgConnection, step: &StepUse, now: i64) -> StoreResult<Vec<String>> {
    reset_failures(c, &step.service_id, &step.user_id).await?;
    consume_step(c, step, TokenState::Active, now).await?;
    let serials: Vec<String> = sqlx::query_scalar(
        "SELECT serial FROM token_users WHERE service_id = $1 AND user_id = $2 ORDER BY serial",
    )
    .bind(step.service_id.as_str())
    .bind(step.user_id.as_str())
    .fetch_all(&mut *c)
    .await?;
    for serial in &serials {
        unbind(c, &step.service_id, &step.user_id, serial).await?;
    }
    Ok(serials)
}

async fn revoke_token_tx(
    c: &mut PgConnection,
    service: &ServiceId,
    serial: &TokenSerial,
    cooldown_until: i64,
) -> StoreResult<Vec<String>> {
    let state: Option<String> =
        sqlx::query_scalar("SELECT state FROM tokens WHERE serial = $1 AND service_id = $2")
            .bind(serial.as_str())
            .bind(service.as_str())
            .fetch_optional(&mut *c)
            .await?;
    let Some(state) = state else {
        return Err(StoreError::NotFound("token"));
    };
    let users: Vec<String> = sqlx::query_scalar(
        "SELECT user_id FROM token_users WHERE serial = $1 AND service_id = $2 ORDER BY user_id",
    )
    .bind(serial.as_str())
    .bind(service.as_str())
    .fetch_all(&mut *c)
    .await?;
    // Revoking twice must not restart the cool-down.
    if TokenState::parse(&state)? != TokenState::Revoked {
        sqlx::query("UPDATE tokens SET state = 'revoked' WHERE serial = $1")
            .bind(serial.as_str())
            .execute(&mut *c)
            .await?;
        sqlx::query(
            "UPDATE users SET cooldown_until = $1 WHERE service_id = $2 AND user_id IN \
             (SELECT user_id FROM token_users WHERE serial = $3 AND service_id = $2)",
        )
        .bind(cooldown_until)
        .bind(service.as_str())
        .bind(serial.as_str())
        .execute(&mut *c)
        .await?;
    }
    Ok(users)
}

#[async_trait]
impl Store for PostgresStore {
    async fn add_service(&self, service: &Service, key_hash: &[u8; 32]) -> StoreResult<()> {
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
        .bind(
            p.period
                .map(|s| i64::try_from(s.seconds()).map_err(corrupt))
                .transpose()?,
        )
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
        serializable!(self, |c| issue_enrollment_tx(c, e, now))
    }

    async fn start_activation(
        &self,
        service: &ServiceId,
        user: &UserId,
        max_guesses: u32,
        now: i64,
    ) -> StoreResult<EnrollmentAttempt> {
        // One statement: the guess is counted (or refused) atomically.
        let row = sqlx::query(
            "UPDATE enrollments SET guesses = guesses + 1 \
             WHERE service_id = $1 AND user_id = $2 AND used_at IS NULL AND expires_at > $3 \
             AND guesses < $4 RETURNING id, w, guesses",
        )
        .bind(service.as_str())
        .bind(user.as_str())
        .bind(now)
        .bind(i64::from(max_guesses))
        .fetch_optional(&self.pool)
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
        .fetch_optional(&self.pool)
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

    async fn put_session(
        &self,
        s: &ActivationSession,
        audit: Option<&NewAuditEvent>,
        now: i64,
    ) -> StoreResult<()> {
        // One statement and one commit with its audit row.
        sqlx::query(
            "WITH stored AS ( \
                 INSERT INTO activation_sessions (id, enrollment_id, service_id, user_id, \
                 session_key, attempts_left, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ) \
             INSERT INTO audit_events (service_id, at, kind, user_id, serial, detail) \
             SELECT $3, $8, $9, $10, $11, $12 WHERE $13",
        )
        .bind(&s.id)
        .bind(&s.enrollment_id)
        .bind(s.service_id.as_str())
        .bind(s.user_id.as_str())
        .bind(&s.session_key)
        .bind(i64::from(s.attempts_left))
        .bind(s.expires_at)
        .bind(now)
        .bind_audit(audit)
        .execute(&self.pool)
        .await?;
        Ok(())
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
        sqlx::query("DELETE FROM activation_sessions WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn finish_activation(
        &self,
        session_id: &str,
        token: &Token,
        user: &UserId,
        now: i64,
        audit: Option<&NewAuditEvent>,
    ) -> StoreResult<()> {
        // One statement, one round trip, one commit (it was seven round trips in a
        // transaction). Every check is a row lock taken in order: the session row (`FOR
        // UPDATE`: a second finish of it waits, then finds it gone), then the still-unused
        // enrollment row (re-checked after any wait), so at most one finish per session and
        // per enrollment, which a user has at most one of, gets past `used`; serial
        // uniqueness is the primary key. A refused finish changes nothing; the token rows
        // reference each other within the statement, which foreign keys check at its end.
        let query = sqlx::query(
            "WITH session AS ( \
                 SELECT enrollment_id FROM activation_sessions \
                 WHERE id = $14 AND expires_at > $15 FOR UPDATE \
             ), used AS ( \
                 UPDATE enrollments SET used_at = $15 \
                 WHERE id = (SELECT enrollment_id FROM session) AND used_at IS NULL \
                 RETURNING id \
             ), ended AS ( \
                 DELETE FROM activation_sessions WHERE id = $14 AND EXISTS (SELECT 1 FROM used) \
             ), superseded AS ( \
                 UPDATE tokens SET state = 'revoked' \
                 WHERE EXISTS (SELECT 1 FROM used) AND state = 'pending' AND serial IN \
                     (SELECT serial FROM token_users WHERE service_id = $2 AND user_id = $16) \
             ), created AS ( \
                 INSERT INTO tokens (serial, service_id, state, algorithm, digits, period, \
                     seed, last_step, drift, created_at, activated_at, last_used_at, expires_at) \
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 \
                 WHERE EXISTS (SELECT 1 FROM used) \
                 RETURNING serial \
             ), bound AS ( \
                 INSERT INTO token_users (service_id, user_id, serial, bound_at) \
                 SELECT $2, $16, serial, $15 FROM created \
             ), audited AS ( \
                 INSERT INTO audit_events (service_id, at, kind, user_id, serial, detail) \
                 SELECT $2, $15, $17, $18, $19, $20 FROM created WHERE $21 \
             ) \
             SELECT EXISTS (SELECT 1 FROM session) AS live, EXISTS (SELECT 1 FROM used) AS used",
        );
        let result = bind_token_columns(query, token)?
            .bind(session_id)
            .bind(now)
            .bind(user.as_str())
            .bind_audit(audit)
            .fetch_one(&self.pool)
            .await;
        let row = match result {
            Ok(row) => row,
            Err(e) if is_unique_violation(&e) => return Err(StoreError::SerialTaken),
            Err(e) => return Err(e.into()),
        };
        if !row.try_get::<bool, _>("live")? {
            Err(StoreError::SessionExpired)
        } else if !row.try_get::<bool, _>("used")? {
            Err(StoreError::EnrollmentNotFound)
        } else {
            Ok(())
        }
    }

    async fn add_unassigned_token(&self, token: &Token) -> StoreResult<()> {
        insert_token(&mut *self.pool.acquire().await?, token).await
    }

    async fn import_tokens(&self, tokens: &[Token]) -> StoreResult<Vec<bool>> {
        // One transaction: an import lands whole or not at all. A serial already present
        // (here or raced in by another instance) is skipped, never overwritten.
        let mut tx = self.pool.begin().await?;
        let mut added = Vec::with_capacity(tokens.len());
        for token in tokens {
            let query = sqlx::query(sql::INSERT_TOKEN_UNLESS_PRESENT);
            let done = bind_token_columns(query, token)?.execute(&mut *tx).await?;
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
        // One round trip: the user's row repeated on each of their tokens (a LEFT JOIN,
        // so a user without tokens still comes back), read from one snapshot.
        let rows = sqlx::query(&format!(
            "SELECT u.failures, u.locked, u.cooldown_until, b.bound_at, {TOKEN_COLUMNS} \
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
        // One statement, one round trip, one commit, the audit row included. `u` locks the
        // user's row first (the order every path here takes: user, then token), so a
        // concurrent lockout either lands before (and this refuses) or waits for this.
        let row = sqlx::query(
            "WITH u AS ( \
                 SELECT locked FROM users WHERE service_id = $5 AND user_id = $7 FOR UPDATE \
             ), consumed AS ( \
                 UPDATE tokens SET last_step = $1, drift = $2, last_used_at = $3, \
                     state = 'active', activated_at = COALESCE(activated_at, $3) \
                 WHERE serial = $4 AND service_id = $5 AND state = $6 AND last_step < $1 \
                 AND EXISTS (SELECT 1 FROM u WHERE NOT u.locked) \
                 AND EXISTS (SELECT 1 FROM token_users b WHERE b.serial = tokens.serial \
                             AND b.service_id = $5 AND b.user_id = $7) \
                 RETURNING 1 \
             ), reset AS ( \
                 UPDATE users SET failures = 0 WHERE service_id = $5 AND user_id = $7 \
                 AND EXISTS (SELECT 1 FROM consumed) RETURNING 1 \
             ), audited AS ( \
                 INSERT INTO audit_events (service_id, at, kind, user_id, serial, detail) \
                 SELECT $5, $3, $8, $9, $10, $11 WHERE $12 AND EXISTS (SELECT 1 FROM reset) \
             ) \
             SELECT COALESCE((SELECT locked FROM u), FALSE) AS locked, \
                    EXISTS (SELECT 1 FROM reset) AS accepted",
        )
        .bind(step.step)
        .bind(step.drift)
        .bind(now)
        .bind(step.serial.as_str())
        .bind(step.service_id.as_str())
        .bind(from.as_str())
        .bind(step.user_id.as_str())
        .bind_audit(audit)
        .fetch_one(&self.pool)
        .await?;
        if row.try_get::<bool, _>("accepted")? {
            Ok(())
        } else if row.try_get::<bool, _>("locked")? {
            Err(StoreError::Locked)
        } else {
            Err(StoreError::Reused)
        }
    }

    async fn record_failure(
        &self,
        service: &ServiceId,
        user: &UserId,
        max_failures: u32,
        audit: Option<&NewAuditEvent>,
        now: i64,
    ) -> StoreResult<Failures> {
        // One statement: PostgreSQL re-reads `failures` and `locked` of the newest row
        // version after a concurrent update, so each wrong code counts exactly once and
        // exactly one of them locks. The audit row rides in the same statement and commit.
        let row = sqlx::query(
            "WITH counted AS ( \
                 UPDATE users SET failures = failures + 1, locked = (failures + 1 >= $1) \
                 WHERE service_id = $2 AND user_id = $3 AND locked = FALSE \
                 RETURNING failures, locked \
             ), audited AS ( \
                 INSERT INTO audit_events (service_id, at, kind, user_id, serial, detail) \
                 SELECT $2, $4, $5, $6, $7, $8 WHERE $9 \
             ) \
             SELECT failures, locked FROM counted",
        )
        .bind(i64::from(max_failures))
        .bind(service.as_str())
        .bind(user.as_str())
        .bind(now)
        .bind_audit(audit)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = row {
            let locked: bool = row.try_get("locked")?;
            return Ok(Failures {
                failures: to_u32(row.try_get("failures")?, "failures")?,
                locked,
                newly_locked: locked,
            });
        }
        let failures: Option<i64> =
            sqlx::query_scalar("SELECT failures FROM users WHERE service_id = $1 AND user_id = $2")
                .bind(service.as_str())
                .bind(user.as_str())
                .fetch_optional(&self.pool)
                .await?;
        match failures {
            Some(n) => Ok(Failures {
                failures: to_u32(n, "failures")?,
                locked: true,
                newly_locked: false,
            }),
            None => Err(StoreError::NotFound("user")),
        }
    }

    async fn bind_token(&self, b: &Binding, now: i64) -> StoreResult<()> {
        serializable!(self, |c| bind_token_tx(c, b, now))
    }

    async fn replace_token(&self, old: &StepUse, new: &StepUse, now: i64) -> StoreResult<()> {
        serializable!(self, |c| replace_token_tx(c, old, new, now))
    }

    async fn stop_user(&self, step: &StepUse, now: i64) -> StoreResult<Vec<TokenSerial>> {
        let serials = serializable!(self, |c| stop_user_tx(c, step, now))?;
        serials
            .iter()
            .map(|s| TokenSerial::parse(s).map_err(corrupt))
            .collect()
    }

    async fn unlock_user(&self, service: &ServiceId, user: &UserId) -> StoreResult<()> {
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
        let users = serializable!(self, |c| revoke_token_tx(
            c,
            service,
            serial,
            cooldown_until
        ))?;
        users
            .into_iter()
            .map(|u| UserId::new(u).map_err(corrupt))
            .collect()
    }

    async fn audit(&self, event: &NewAuditEvent, now: i64) -> StoreResult<()> {
        sqlx::query(sql::INSERT_AUDIT)
            .bind(event.service_id.as_str())
            .bind(now)
            .bind(event.kind)
            .bind(event.user_id.as_ref().map(|u| u.as_str()))
            .bind(event.serial.as_ref().map(|s| s.as_str()))
            .bind(&event.detail)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn purge_expired(&self, now: i64, unassigned_before: i64) -> StoreResult<Purged> {
        // Two independent deletes of rows nobody can use any more: no transaction needed.
        let sessions = sqlx::query(sql::PURGE_SESSIONS)
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected();
        let tokens = sqlx::query(sql::PURGE_UNASSIGNED)
            .bind(unassigned_before)
            .execute(&self.pool)
            .await?
            .rows_affected();
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
