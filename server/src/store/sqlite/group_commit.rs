//! Group commit for SQLite: the writes every verification makes (consuming a step or
//! counting a failure, each with its audit event) and those of an activation (a guess,
//! the session, the finish) go to one writer task, which applies all the
//! writes waiting at that moment in one `BEGIN IMMEDIATE` transaction and answers each
//! caller only after that transaction's `COMMIT` (and so its fsync, `synchronous =
//! FULL`) has returned.
//!
//! Durability is unchanged, an accepted code is on disk before the reply, but one fsync
//! now covers a whole batch instead of one request, and SQLite's single write lock is
//! taken by one task instead of being fought over (with busy-wait sleeps) by many.
//! A write that is refused (a reused step, a locked user, no such user or enrollment) is
//! refused by its first statement, before it changed anything, so the rest of its batch
//! still commits without the cost of a savepoint per write; only an activation's finish,
//! which can be refused later, runs in a savepoint of its own. Any other error fails the
//! whole batch, and every caller in it hears so.

use softtoken_protocol::{ServiceId, UserId};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};
use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};

use super::{
    discard_session_tx, finish_activation_tx, put_session_tx, start_activation_tx, to_u32, use_step,
};
use crate::store::{
    ActivationSession, EnrollmentAttempt, Failures, NewAuditEvent, StepUse, StoreError,
    StoreResult, Token, TokenState,
};

/// The most writes one transaction takes: enough to cover every request a busy server
/// has in flight, small enough that a batch never holds the write lock for long.
const MAX_BATCH: usize = 512;

/// Writes that wait for the writer task at most; beyond this, callers wait to enqueue.
const QUEUE: usize = 4096;

/// A write the writer task applies.
enum Write {
    Accept {
        step: StepUse,
        from: TokenState,
        now: i64,
        audit: Option<NewAuditEvent>,
    },
    Failure {
        service: ServiceId,
        user: UserId,
        max_failures: u32,
        audit: Option<NewAuditEvent>,
        now: i64,
    },
    Audit {
        event: NewAuditEvent,
        now: i64,
    },
    StartActivation {
        service: ServiceId,
        user: UserId,
        max_guesses: u32,
        now: i64,
    },
    PutSession {
        session: ActivationSession,
        audit: Option<NewAuditEvent>,
        now: i64,
    },
    DiscardSession(String),
    FinishActivation {
        session_id: String,
        token: Token,
        user: UserId,
        now: i64,
        audit: Option<NewAuditEvent>,
    },
}

impl Write {
    /// Whether the write may be refused after it changed something, and so needs a
    /// savepoint to be undone alone.
    fn refuses_late(&self) -> bool {
        matches!(self, Write::FinishActivation { .. })
    }
}

/// What a write produced.
enum Done {
    Accepted,
    Failures(Failures),
    Audited,
    Attempt(EnrollmentAttempt),
    Stored,
}

struct Job {
    write: Write,
    reply: oneshot::Sender<StoreResult<Done>>,
}

/// The handle to the writer task; cheap to clone. The task ends when the last handle
/// is dropped.
#[derive(Clone)]
pub(super) struct GroupCommit {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl GroupCommit {
    /// Starts the writer task on the current Tokio runtime; it takes `turn` for each batch,
    /// like every other writer of the store.
    pub(super) fn start(pool: SqlitePool, turn: Arc<Mutex<()>>) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(writer(pool, turn, queue));
        GroupCommit { jobs }
    }

    /// See [`crate::store::Store::accept_step`].
    pub(super) async fn accept_step(
        &self,
        step: &StepUse,
        from: TokenState,
        now: i64,
        audit: Option<&NewAuditEvent>,
    ) -> StoreResult<()> {
        let write = Write::Accept {
            step: step.clone(),
            from,
            now,
            audit: audit.cloned(),
        };
        match self.submit(write).await? {
            Done::Accepted => Ok(()),
            _ => Err(mismatch()),
        }
    }

    /// See [`crate::store::Store::record_failure`].
    pub(super) async fn record_failure(
        &self,
        service: &ServiceId,
        user: &UserId,
        max_failures: u32,
        audit: Option<&NewAuditEvent>,
        now: i64,
    ) -> StoreResult<Failures> {
        let write = Write::Failure {
            service: service.clone(),
            user: user.clone(),
            max_failures,
            audit: audit.cloned(),
            now,
        };
        match self.submit(write).await? {
            Done::Failures(f) => Ok(f),
            _ => Err(mismatch()),
        }
    }

    /// See [`crate::store::Store::audit`].
    pub(super) async fn audit(&self, event: &NewAuditEvent, now: i64) -> StoreResult<()> {
        let write = Write::Audit {
            event: event.clone(),
            now,
        };
        match self.submit(write).await? {
            Done::Audited => Ok(()),
            _ => Err(mismatch()),
        }
    }

    /// See [`crate::store::Store::start_activation`].
    pub(super) async fn start_activation(
        &self,
        service: &ServiceId,
        user: &UserId,
        max_guesses: u32,
        now: i64,
    ) -> StoreResult<EnrollmentAttempt> {
        let write = Write::StartActivation {
            service: service.clone(),
            user: user.clone(),
            max_guesses,
            now,
        };
        match self.submit(write).await? {
            Done::Attempt(attempt) => Ok(attempt),
            _ => Err(mismatch()),
        }
    }

    /// See [`crate::store::Store::put_session`].
    pub(super) async fn put_session(
        &self,
        session: &ActivationSession,
        audit: Option<&NewAuditEvent>,
        now: i64,
    ) -> StoreResult<()> {
        self.stored(Write::PutSession {
            session: session.clone(),
            audit: audit.cloned(),
            now,
        })
        .await
    }

    /// See [`crate::store::Store::discard_session`].
    pub(super) async fn discard_session(&self, id: &str) -> StoreResult<()> {
        self.stored(Write::DiscardSession(id.to_owned())).await
    }

    /// See [`crate::store::Store::finish_activation`].
    pub(super) async fn finish_activation(
        &self,
        session_id: &str,
        token: &Token,
        user: &UserId,
        now: i64,
        audit: Option<&NewAuditEvent>,
    ) -> StoreResult<()> {
        self.stored(Write::FinishActivation {
            session_id: session_id.to_owned(),
            token: token.clone(),
            user: user.clone(),
            now,
            audit: audit.cloned(),
        })
        .await
    }

    async fn stored(&self, write: Write) -> StoreResult<()> {
        match self.submit(write).await? {
            Done::Stored => Ok(()),
            _ => Err(mismatch()),
        }
    }

    async fn submit(&self, write: Write) -> StoreResult<Done> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { write, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::Database(sqlx::Error::PoolClosed)
}

fn mismatch() -> StoreError {
    StoreError::Corrupt("group commit answered a different write".into())
}

async fn writer(pool: SqlitePool, turn: Arc<Mutex<()>>, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let applied = {
            let _turn = turn.lock().await;
            // Whatever arrived while another writer had the turn joins this batch.
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            apply(&pool, &batch).await
        };
        match applied {
            Ok(results) => {
                for (job, result) in batch.drain(..).zip(results) {
                    // The caller may have given up (its request was cancelled): fine.
                    let _ = job.reply.send(result);
                }
            }
            Err(e) => {
                // Nothing of the batch was committed; every caller learns why.
                let reason = e.to_string();
                for job in batch.drain(..) {
                    let error = sqlx::Error::Protocol(format!("group commit failed: {reason}"));
                    let _ = job.reply.send(Err(StoreError::Database(error)));
                }
            }
        }
    }
}

/// Applies `batch` in one transaction; `Err` only if the transaction as a whole failed.
async fn apply(pool: &SqlitePool, batch: &[Job]) -> StoreResult<Vec<StoreResult<Done>>> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        if job.write.refuses_late() {
            sqlx::query("SAVEPOINT one_write").execute(&mut *tx).await?;
            let result = apply_one(&mut tx, &job.write).await;
            if result.is_err() {
                sqlx::query("ROLLBACK TO SAVEPOINT one_write")
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("RELEASE SAVEPOINT one_write")
                .execute(&mut *tx)
                .await?;
            results.push(result);
            continue;
        }
        match apply_one(&mut tx, &job.write).await {
            // Refused before any change: the batch goes on.
            Err(
                e @ (StoreError::Reused
                | StoreError::Locked
                | StoreError::NotFound(_)
                | StoreError::EnrollmentNotFound
                | StoreError::EnrollmentExpired
                | StoreError::EnrollmentLocked),
            ) => {
                results.push(Err(e));
            }
            // Possibly half-applied: nothing of the batch may commit (dropping `tx` rolls
            // it back).
            Err(e) => return Err(e),
            Ok(done) => results.push(Ok(done)),
        }
    }
    tx.commit().await?;
    Ok(results)
}

async fn apply_one(tx: &mut Transaction<'static, Sqlite>, write: &Write) -> StoreResult<Done> {
    match write {
        Write::Accept {
            step,
            from,
            now,
            audit,
        } => {
            use_step(tx, step, *from, *now).await?;
            if let Some(event) = audit {
                insert_audit(tx, event, *now).await?;
            }
            Ok(Done::Accepted)
        }
        Write::Failure {
            service,
            user,
            max_failures,
            audit,
            now,
        } => {
            let failures = count_failure(tx, service, user, *max_failures).await?;
            if let Some(event) = audit {
                insert_audit(tx, event, *now).await?;
            }
            Ok(Done::Failures(failures))
        }
        Write::Audit { event, now } => {
            insert_audit(tx, event, *now).await?;
            Ok(Done::Audited)
        }
        Write::StartActivation {
            service,
            user,
            max_guesses,
            now,
        } => start_activation_tx(tx, service, user, *max_guesses, *now)
            .await
            .map(Done::Attempt),
        Write::PutSession {
            session,
            audit,
            now,
        } => {
            put_session_tx(tx, session).await?;
            if let Some(event) = audit {
                insert_audit(tx, event, *now).await?;
            }
            Ok(Done::Stored)
        }
        Write::DiscardSession(id) => discard_session_tx(tx, id).await.map(|()| Done::Stored),
        Write::FinishActivation {
            session_id,
            token,
            user,
            now,
            audit,
        } => {
            finish_activation_tx(tx, session_id, token, user, *now).await?;
            if let Some(event) = audit {
                insert_audit(tx, event, *now).await?;
            }
            Ok(Done::Stored)
        }
    }
}

async fn insert_audit(
    tx: &mut Transaction<'static, Sqlite>,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(crate::store::sql::INSERT_AUDIT)
        .bind(event.service_id.as_str())
        .bind(now)
        .bind(event.kind)
        .bind(event.user_id.as_ref().map(|u| u.as_str()))
        .bind(event.serial.as_ref().map(|s| s.as_str()))
        .bind(&event.detail)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn count_failure(
    tx: &mut Transaction<'static, Sqlite>,
    service: &ServiceId,
    user: &UserId,
    max_failures: u32,
) -> StoreResult<Failures> {
    let row = sqlx::query(
        "UPDATE users SET failures = failures + 1, locked = (failures + 1 >= $1) \
         WHERE service_id = $2 AND user_id = $3 AND locked = FALSE \
         RETURNING failures, locked",
    )
    .bind(i64::from(max_failures))
    .bind(service.as_str())
    .bind(user.as_str())
    .fetch_optional(&mut **tx)
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
            .fetch_optional(&mut **tx)
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
