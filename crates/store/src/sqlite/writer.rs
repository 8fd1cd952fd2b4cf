//! Group commit: one thread owns this store's SQLite connection and runs every read and
//! write on it. Reads run at once, outside any transaction, on committed data. Whatever
//! writes wait when the thread is free run in one `BEGIN IMMEDIATE` transaction, each in a
//! savepoint of its own (so a refused write is undone alone), and every caller hears its
//! own typed answer only after that transaction's `COMMIT` (and its fsync,
//! `synchronous = FULL`) returned.
//!
//! Reads share the writer's connection on purpose: in WAL mode a connection throws its
//! whole page cache away whenever another connection has written since its last read, so
//! separate reader connections went back to the file for nearly every page under load,
//! while this one's cache stays warm.
//!
//! Durability is that of a commit per write, an accepted code is on disk before its
//! reply, but one fsync covers a whole batch, statements run prepared on the thread that
//! owns the connection (no hand-off per statement), and SQLite's single write lock is never
//! fought over inside the process. A database failure fails the batch it happens in, and
//! every caller of that batch hears why.

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::conn::SqliteConn;
use crate::{DatabaseError, StoreError, StoreResult};

/// The most writes one transaction takes: enough to cover every request a busy server has
/// in flight, few enough that a batch never holds the write lock for long.
const MAX_BATCH: usize = 512;

/// Writes that may wait for the thread; beyond this, callers wait to enqueue.
const QUEUE: usize = 4096;

/// A read or a write waiting for the thread, with its caller's answer channel.
trait Job: Send {
    /// Whether it only reads.
    fn reads(&self) -> bool;
    /// Runs a read outside any transaction, on committed data, and answers at once.
    fn read(self: Box<Self>, conn: &Connection);
    /// Runs the write in a savepoint of the open transaction. `Err` only for a database
    /// failure, which dooms the whole batch.
    fn run(&mut self, conn: &Connection) -> Result<(), DatabaseError>;
    /// Answers the caller once the batch's fate is known.
    fn answer(self: Box<Self>, batch: Result<(), &DatabaseError>);
}

struct Write<T, F> {
    reads: bool,
    work: Option<F>,
    outcome: Option<StoreResult<T>>,
    reply: oneshot::Sender<StoreResult<T>>,
}

fn statement(conn: &Connection, sql: &str) -> Result<(), DatabaseError> {
    conn.prepare_cached(sql)?.raw_execute()?;
    Ok(())
}

impl<T, F> Job for Write<T, F>
where
    T: Send,
    F: FnOnce(&mut SqliteConn<'_>) -> StoreResult<T> + Send,
{
    fn reads(&self) -> bool {
        self.reads
    }

    fn read(mut self: Box<Self>, conn: &Connection) {
        let result = match self.work.take() {
            Some(work) => work(&mut SqliteConn(conn)),
            None => Err(DatabaseError::Internal("a read ran twice").into()),
        };
        let _ = self.reply.send(result);
    }

    fn run(&mut self, conn: &Connection) -> Result<(), DatabaseError> {
        let Some(work) = self.work.take() else {
            return Err(DatabaseError::Internal("a write ran twice"));
        };
        statement(conn, "SAVEPOINT one_write")?;
        match work(&mut SqliteConn(conn)) {
            Err(StoreError::Database(e)) => return Err(e),
            Err(refusal) => {
                statement(conn, "ROLLBACK TO SAVEPOINT one_write")?;
                self.outcome = Some(Err(refusal));
            }
            Ok(value) => self.outcome = Some(Ok(value)),
        }
        statement(conn, "RELEASE SAVEPOINT one_write")
    }

    fn answer(self: Box<Self>, batch: Result<(), &DatabaseError>) {
        let result = match (batch, self.outcome) {
            (Ok(()), Some(outcome)) => outcome,
            (Ok(()), None) => Err(DatabaseError::Internal("a write never ran").into()),
            (Err(e), _) => Err(DatabaseError::GroupCommit {
                message: e.to_string(),
                unavailable: e.is_unavailable(),
            }
            .into()),
        };
        // The caller may have given up (its request was cancelled): fine.
        let _ = self.reply.send(result);
    }
}

/// What the thread is sent: work, or the request to commit what it has and stop.
enum Message {
    Job(Box<dyn Job>),
    /// Answered once the thread has committed everything sent before it and closed the
    /// connection.
    Close(oneshot::Sender<()>),
}

/// The handle to the writer thread; cheap to clone. The thread finishes what is queued
/// and ends when the last handle is dropped or [`Writer::close`] is called.
#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Message>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl Writer {
    /// Starts the thread that owns `conn`.
    pub(super) fn start(conn: Connection) -> StoreResult<Self> {
        let (jobs, queue) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, queue))
            .map_err(|_| DatabaseError::Internal("cannot start the SQLite writer thread"))?;
        Ok(Writer { jobs })
    }

    /// Reads and writes waiting for the thread now.
    pub(super) fn queued(&self) -> usize {
        self.jobs.max_capacity() - self.jobs.capacity()
    }

    /// Runs `work` in the next group commit and returns its outcome once committed.
    pub(super) async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqliteConn<'_>) -> StoreResult<T> + Send + 'static,
    {
        self.submit(false, work).await
    }

    /// Runs `work`, which only reads, on committed data, before the next group commit.
    pub(super) async fn read<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqliteConn<'_>) -> StoreResult<T> + Send + 'static,
    {
        self.submit(true, work).await
    }

    async fn submit<T, F>(&self, reads: bool, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqliteConn<'_>) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Write {
            reads,
            work: Some(work),
            outcome: None,
            reply,
        });
        self.jobs
            .send(Message::Job(job))
            .await
            .map_err(|_| DatabaseError::WriterStopped)?;
        answer.await.map_err(|_| DatabaseError::WriterStopped)?
    }

    /// Commits every write sent before this call, closes the connection and ends the
    /// thread, for every handle: later calls fail with `WriterStopped`. Returns once done.
    pub(super) async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.jobs.send(Message::Close(done)).await.is_ok() {
            // An error here means the thread is gone already, which is what was asked.
            let _ = closed.await;
        }
    }
}

fn run(conn: Connection, mut queue: mpsc::Receiver<Message>) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    let mut closing = None;
    let mut next = queue.blocking_recv();
    while let Some(first) = next.take() {
        // What waits now, and no more: reads keep arriving under load, and the writes
        // taken so far must not wait for them to stop.
        let mut pending = Some(first);
        let mut taken = 0;
        while let Some(message) = pending.take() {
            match message {
                Message::Close(done) => {
                    closing = Some(done);
                    break;
                }
                Message::Job(job) if job.reads() => job.read(&conn),
                Message::Job(job) => batch.push(job),
            }
            taken += 1;
            if taken < MAX_BATCH {
                pending = queue.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            let began = std::time::Instant::now();
            let outcome = apply(&conn, &mut batch);
            crate::metrics::group_commit(batch.len(), began.elapsed(), outcome.is_ok());
            if let Err(e) = &outcome {
                tracing::error!(error = %e, writes = batch.len(), "SQLite group commit failed");
            }
            for job in batch.drain(..) {
                job.answer(outcome.as_ref().map(|_| ()));
            }
        }
        if closing.is_some() {
            break;
        }
        next = queue.blocking_recv();
    }
    // Whatever was sent after the close is not run: dropping it tells its caller
    // `WriterStopped`, and a second close hears that the first one is done.
    queue.close();
    let mut also_closing = Vec::new();
    while let Ok(message) = queue.try_recv() {
        if let Message::Close(done) = message {
            also_closing.push(done);
        }
    }
    // The WAL moved into the database file, so the file alone is the whole database.
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
        tracing::warn!(error = %e, "the last SQLite checkpoint failed; the WAL file stays");
    }
    drop(conn);
    for done in closing.into_iter().chain(also_closing) {
        let _ = done.send(());
    }
}

/// Applies a batch in one transaction; `Err` if it was not committed.
fn apply(conn: &Connection, batch: &mut [Box<dyn Job>]) -> Result<(), DatabaseError> {
    statement(conn, "BEGIN IMMEDIATE")?;
    let applied = batch
        .iter_mut()
        .try_for_each(|job| job.run(conn))
        .and_then(|()| statement(conn, "COMMIT"));
    if applied.is_err() && !conn.is_autocommit() {
        // Nothing of the batch may stay; a failure to roll back leaves the connection for
        // SQLite to reset when the next BEGIN fails.
        let _ = statement(conn, "ROLLBACK");
    }
    applied
}
