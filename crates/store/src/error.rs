//! Why a storage operation did not happen: a business refusal the caller answers for, or a
//! database failure it only reports.

/// Why a storage operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row; names what was missing ("service", "user", "token").
    #[error("no such {0}")]
    NotFound(&'static str),
    /// A service with this ID exists.
    #[error("the service already exists")]
    ServiceExists,
    /// No open enrollment for the user (never issued, used, replaced, or ended by a revoke).
    #[error("no usable enrollment")]
    EnrollmentNotFound,
    /// The enrollment has expired.
    #[error("the enrollment has expired")]
    EnrollmentExpired,
    /// Too many activation attempts.
    #[error("the enrollment is locked")]
    EnrollmentLocked,
    /// The activation session is unknown, used or expired.
    #[error("the activation session is unknown or expired")]
    SessionExpired,
    /// The serial exists already.
    #[error("the serial is taken")]
    SerialTaken,
    /// The service holds as many provisioned, unregistered tokens as its quota allows.
    #[error("the service's quota of unregistered tokens ({quota}) is reached")]
    ProvisioningFull {
        /// The quota.
        quota: u32,
    },
    /// The user already holds as many usable tokens as allowed.
    #[error("the user already has a token")]
    TokenExists,
    /// A revocation cool-down runs for the user.
    #[error("cool-down for {retry_after} s")]
    Cooldown {
        /// Seconds left.
        retry_after: u64,
    },
    /// The user is locked.
    #[error("the user is locked")]
    Locked,
    /// The token collected too many wrong registration codes.
    #[error("the token is locked")]
    TokenLocked,
    /// The time step was already used (or the token changed state meanwhile).
    #[error("the code was already used")]
    Reused,
    /// The token cannot take this action in its current state.
    #[error("{0}")]
    Conflict(&'static str),
    /// A stored value does not parse: a bug or a damaged database.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] DatabaseError),
}

/// A failure of the database itself, from whichever driver the backend uses.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// PostgreSQL (and SQLite's migrations) through sqlx.
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    /// SQLite through rusqlite.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// The SQLite writer thread is gone (the store is shutting down).
    #[error("the SQLite writer has stopped")]
    WriterStopped,
    /// A whole group commit failed; every write of it hears why, and whether the cause
    /// was the database being out of reach or out of space ([`DatabaseError::is_unavailable`]).
    #[error("group commit failed: {message}")]
    GroupCommit {
        /// The cause, as text (one error, many writers).
        message: String,
        /// Whether the cause was an outage rather than a bug.
        unavailable: bool,
    },
    /// The storage layer broke one of its own rules: a bug, reported rather than hidden.
    #[error("storage bug: {0}")]
    Internal(&'static str),
}

impl DatabaseError {
    /// Whether the database is out of reach or out of space for now: down, restarting,
    /// refusing connections, failed over to a read-only standby, no pool connection within
    /// the acquire timeout, or (SQLite) the disk full, the file unwritable or locked by
    /// another process past the busy timeout. Such a request is answered 503 with
    /// `Retry-After`: it may succeed later, here or on another instance, and nothing was
    /// written. Everything else is a bug or damage, answered 500.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DatabaseError::Sqlx(e) => sqlx_unavailable(e),
            DatabaseError::Sqlite(e) => sqlite_unavailable(e),
            DatabaseError::GroupCommit { unavailable, .. } => *unavailable,
            DatabaseError::WriterStopped | DatabaseError::Internal(_) => false,
        }
    }

    /// Whether the store is shutting down (the SQLite writer stopped, the pool closed): the
    /// request may be retried against another instance.
    pub fn is_shutting_down(&self) -> bool {
        matches!(
            self,
            DatabaseError::WriterStopped | DatabaseError::Sqlx(sqlx::Error::PoolClosed)
        )
    }
}

fn sqlx_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE classes 08 (connection exception) and 53 (insufficient resources: disk
        // full, out of memory, too many connections); 57P01–57P03 (shut down by the
        // administrator, crashed, starting up); 25006 (read-only: a standby after failover).
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08")
                || code.starts_with("53")
                || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "25006")
        }),
        _ => false,
    }
}

fn sqlite_unavailable(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode as C;
    matches!(
        e.sqlite_error_code(),
        Some(
            C::DiskFull
                | C::ReadOnly
                | C::CannotOpen
                | C::SystemIoFailure
                | C::DatabaseBusy
                | C::DatabaseLocked
                | C::OutOfMemory
        )
    )
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e.into())
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(e.into())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Database(sqlx::Error::from(e).into())
    }
}

/// Shorthand for storage results.
pub type StoreResult<T> = Result<T, StoreError>;

/// A stored value that does not parse.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}
