//! `softtoken-store`: everything the server keeps, and nothing above it (no HTTP, no
//! keyring): the domain model with the types it is made of ([`policy`], [`serial`],
//! [`audit`] kinds, [`night_cutoff`]), one async trait, two backends chosen by URL, one
//! layer they share.
//!
//! The trait speaks in whole operations, not rows. Its surface is declared once, one line
//! an operation (`surface.rs`), and the trait and both backends' implementations are
//! generated from that table. Each operation is written once ([`ops`], over the small
//! [`conn::Conn`] both backends offer), with its decisions as
//! pure functions ([`rules`]) and its statements in one place ([`sql`]); rows become
//! domain types ([`model`]) in one place ([`rows`]). What truly differs stays in the
//! backend: SQLite runs every write on one writer thread that commits whole batches
//! (group commit), PostgreSQL runs the multi-step operations as serializable
//! transactions and the hot ones as single statements.
//!
//! Every check-and-change (one-time use of a step, failure counts and lockout,
//! enrollment guesses, cool-downs, serial uniqueness, binding, replacing) is atomic, so
//! the outcome is right however many server instances share the database. Every write
//! records its audit event in the same commit. Secrets arrive here already sealed by
//! the service's keyring.

pub mod audit;
pub mod backup;
mod conn;
pub mod console;
mod error;
pub mod metrics;
mod model;
pub mod night_cutoff;
mod ops;
pub mod policy;
mod postgres;
mod rows;
pub mod rules;
pub mod scratch;
pub mod serial;
mod sql;
mod sqlite;
mod status;
mod surface;

use std::sync::Arc;

use softtoken_protocol::{ServiceId, UserId};
use surface::{declare_store, store_surface};

pub use error::{DatabaseError, StoreError, StoreResult};
pub use model::{
    Acceptance, ActivationSession, Applied, AuditEvent, Binding, Enrollment, EnrollmentId,
    Failures, Judged, Judgement, NewAuditEvent, NewEnrollment, OpenEnrollment, Purged, Resealed,
    Revocation, RevokeCooldown, SealedKind, SealedValue, Service, SessionId, StepUse, Token,
    TokenEnd, TokenStanding, TokenState, User,
};
pub use model::{MailId, MailOutcome, MailStatus, MailTemplate, NewMail, OutboxMail, ServiceMail};
pub use model::{RefusalDetails, Transaction, TransactionUse, random_id};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use status::{MigrationStatus, PoolUse};

use crate::serial::TokenSerial;
use console::{AuditFilter, ConsoleSession, NewOperator, Operator, SessionLimits, SessionStage};

// The trait, from the one table of operations (`surface.rs`), with what each backend
// writes by hand.
store_surface!(declare_store {
    // --- operations -----------------------------------------------------------------
    /// How the backend's connections are in use now (for the metrics).
    fn pool_use(&self) -> PoolUse;
    /// The database's applied migrations beside this build's; an error if the database
    /// does not answer (for `/readyz`).
    async fn migration_status(&self) -> StoreResult<MigrationStatus>;

    // --- lifecycle ------------------------------------------------------------------
    /// Commits what was sent before the call and closes the database, for every handle of
    /// this store: on SQLite the writer commits its batch and stops (later operations fail
    /// with `WriterStopped`), on PostgreSQL the pool closes. Called last at shutdown.
    async fn close(&self);
});

impl dyn Store {
    /// A code check, one way: reads the user and their tokens, lets `judge` decide in the
    /// caller (the keyring and the HMAC run there, never on SQLite's writer thread), and
    /// applies the decision with [`Store::apply_judgement`]. What `judge` also hands back
    /// (what it found, for the answer) is returned beside what became of the decision. A
    /// change between the read and the write (a step used or the user locked by another
    /// request) is caught by the write's own condition and answered `Refused`.
    pub async fn check_code<T, F>(
        &self,
        service: &ServiceId,
        user: &UserId,
        now: i64,
        judge: F,
    ) -> StoreResult<(Applied, T)>
    where
        F: FnOnce(Option<&User>) -> StoreResult<(Judgement, T)>,
    {
        let found = self.user(service, user).await?;
        let (judgement, value) = judge(found.as_ref())?;
        let applied = self.apply_judgement(&judgement, now).await?;
        Ok((applied, value))
    }
}

/// Opens the store a database URL names: `sqlite:…` or `postgres://…` (`postgresql://…`).
pub async fn connect(url: &str) -> StoreResult<Arc<dyn Store>> {
    connect_with(url, DEFAULT_DATABASE_TIMEOUT).await
}

/// How long a request waits for a database connection by default before it is answered
/// 503 (`--database-timeout`).
pub const DEFAULT_DATABASE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Like [`connect`], with requests waiting at most `timeout` for a PostgreSQL connection.
pub async fn connect_with(url: &str, timeout: std::time::Duration) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(
            PostgresStore::connect_with_timeout(url, postgres::DEFAULT_MAX_CONNECTIONS, timeout)
                .await?,
        ))
    } else {
        Err(StoreError::Database(DatabaseError::Sqlx(
            sqlx::Error::Configuration(
                "unsupported database URL: use sqlite:PATH or postgres://USER@HOST/DB".into(),
            ),
        )))
    }
}
