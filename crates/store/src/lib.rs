//! `softtoken-store`: everything the server keeps, and nothing above it (no HTTP, no
//! keyring): the domain model with the types it is made of ([`policy`], [`serial`],
//! [`audit`] kinds, [`night_cutoff`]), one async trait, two backends chosen by URL, one
//! layer they share.
//!
//! Storage: one async trait, two backends chosen by URL, one layer they share.
//!
//! The trait speaks in whole operations, not rows. Each operation is written once
//! ([`ops`], over the small [`conn::Conn`] both backends offer), with its decisions as
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

use std::sync::Arc;

use async_trait::async_trait;
use softtoken_protocol::{ServiceId, UserId};

pub use error::{DatabaseError, StoreError, StoreResult};
pub use model::{
    Acceptance, ActivationSession, Applied, AuditEvent, Binding, Enrollment, EnrollmentId,
    Failures, Judge, Judged, Judgement, NewAuditEvent, NewEnrollment, OpenEnrollment, Purged,
    Resealed, Revocation, RevokeCooldown, SealedKind, SealedValue, Service, SessionId, StepUse,
    Token, TokenEnd, TokenStanding, TokenState, User,
};
pub use model::{MailId, MailOutcome, MailStatus, MailTemplate, NewMail, OutboxMail, ServiceMail};
pub use model::{Transaction, TransactionUse, random_id};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use status::{MigrationStatus, PoolUse};

use crate::serial::TokenSerial;
use console::{AuditFilter, ConsoleSession, NewOperator, Operator, SessionLimits, SessionStage};

/// Everything the server keeps. `now` is passed in (Unix ms) so every instance and
/// every test agrees on the time the handler saw. Each write takes the audit event that
/// describes it and records it in the same commit.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // --- services -------------------------------------------------------------------
    /// Adds a service with the hash of its API key. `ServiceExists` if the ID is taken.
    async fn add_service(&self, service: &Service, key_hash: &[u8; 32]) -> StoreResult<()>;
    /// All services, by ID.
    async fn services(&self) -> StoreResult<Vec<Service>>;
    /// One service.
    async fn service(&self, id: &ServiceId) -> StoreResult<Option<Service>>;
    /// The service whose API key hashes to `key_hash`.
    async fn service_for_key(&self, key_hash: &[u8; 32]) -> StoreResult<Option<ServiceId>>;
    /// Replaces a service's API key hash. `NotFound` if no such service.
    async fn set_service_key(&self, id: &ServiceId, key_hash: &[u8; 32]) -> StoreResult<()>;
    /// Replaces a service's policy, recording `audit` in the same commit. `NotFound`.
    async fn set_service_policy(
        &self,
        id: &ServiceId,
        policy: &crate::policy::Policy,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()>;

    // --- enrollment and activation --------------------------------------------------
    /// Issues an enrollment, replacing the user's older one. `Cooldown` during a
    /// revocation cool-down, `TokenExists` if the user has an active token.
    async fn issue_enrollment(
        &self,
        enrollment: &NewEnrollment,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()>;
    /// The user's unused enrollment, as the bank sees it.
    async fn enrollment(
        &self,
        service: &ServiceId,
        user: &UserId,
    ) -> StoreResult<Option<Enrollment>>;
    /// The user's enrollment an activation may start on, before anything is counted:
    /// `EnrollmentNotFound` (none, used, or a cool-down running), `EnrollmentExpired`, or
    /// `EnrollmentLocked` after `max_guesses`.
    async fn enrollment_for_start(
        &self,
        service: &ServiceId,
        user: &UserId,
        max_guesses: u32,
        now: i64,
    ) -> StoreResult<OpenEnrollment>;
    /// Counts one guess against the session's enrollment, if it is still open, and stores
    /// the session with the tries left, which it returns. Refuses as
    /// [`Store::enrollment_for_start`] does when the enrollment changed meanwhile.
    async fn begin_activation(
        &self,
        session: &ActivationSession,
        max_guesses: u32,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<u32>;
    /// A live session.
    async fn session(&self, id: &SessionId, now: i64) -> StoreResult<Option<ActivationSession>>;
    /// Deletes a session (a wrong confirmation ends it).
    async fn discard_session(
        &self,
        id: &SessionId,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()>;
    /// Atomically: consumes the session (`SessionExpired`) and its enrollment
    /// (`EnrollmentNotFound`, also when a cool-down began meanwhile), revokes the user's
    /// older pending tokens, creates `token` as pending and binds it to the user.
    /// `SerialTaken` leaves the session usable.
    async fn finish_activation(
        &self,
        session: &SessionId,
        token: &Token,
        user: &UserId,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()>;

    // --- tokens and users -----------------------------------------------------------
    /// Stores a provisioned, unassigned token. `SerialTaken` if the serial exists,
    /// `ProvisioningFull` if the service already has `quota` provisioned tokens waiting
    /// for registration. No audit row: provisioning is counted in periodic summaries.
    async fn add_provisioned_token(&self, token: &Token, quota: u32) -> StoreResult<()>;
    /// Stores imported hardware tokens as unassigned, in one transaction. For each, in
    /// order, whether it was added: `false` if its serial is already on the server
    /// (that token is left untouched, never overwritten). The audit event's detail gets
    /// the count imported appended.
    async fn import_tokens(
        &self,
        tokens: &[Token],
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<Vec<bool>>;
    /// One token of a service.
    async fn token(&self, service: &ServiceId, serial: &TokenSerial) -> StoreResult<Option<Token>>;
    /// What the token status call needs of token `serial`, whatever its service.
    async fn token_standing(&self, serial: &TokenSerial) -> StoreResult<Option<TokenStanding>>;
    /// A user and the tokens bound to them.
    async fn user(&self, service: &ServiceId, user: &UserId) -> StoreResult<Option<User>>;
    /// Accepts a code: the token must be bound to the user in state `from` with
    /// `last_step < step`, and the user not locked. Resets the failure count, records
    /// step, drift and spender, and moves the token to `Active`; the audit event is
    /// recorded only then. A refusal changes nothing and says why.
    async fn accept_step(
        &self,
        step: &StepUse,
        from: TokenState,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<Acceptance>;
    /// Reads the user and their tokens, lets `judge` decide what a checked code does, and
    /// applies the decision (use the step, count a failure, or only record the audit row).
    /// On SQLite this is one write of the group commit, so the decision is made on the state
    /// every earlier write left; on PostgreSQL it is the read and then the hot statement.
    async fn judge_code(
        &self,
        service: &ServiceId,
        user: &UserId,
        judge: Judge,
        now: i64,
    ) -> StoreResult<Applied>;
    /// Counts a wrong or reused code; locks at `max_failures` (recording a `user_locked`
    /// event too). If the user was locked already nothing is counted and the event is
    /// recorded as `locked`, the answer the caller gets. `NotFound` if no such user.
    async fn record_failure(
        &self,
        service: &ServiceId,
        user: &UserId,
        max_failures: u32,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<Failures>;
    /// Counts a wrong code given to register `serial` to `user` (or as a device change's
    /// new code): against the user, made if need be, and against the token, which stays
    /// locked once it reaches `max_failures`.
    async fn record_registration_failure(
        &self,
        service: &ServiceId,
        user: &UserId,
        serial: &TokenSerial,
        max_failures: u32,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<Failures>;
    /// Binds an unassigned token (or, if shared tokens are allowed, an active one) to a
    /// user, consuming the step. `NotFound`, `Reused`, `Locked`, `Cooldown`, `TokenLocked`,
    /// `TokenExists` (limit reached), `Conflict` (wrong state or already bound).
    async fn bind_token(
        &self,
        binding: &Binding,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()>;
    /// Device change, atomically: consumes `old`'s step, binds the unassigned `new`
    /// token (consuming its step) and unbinds `old` (revoked once no user holds it).
    async fn replace_token(
        &self,
        old: &StepUse,
        new: &StepUse,
        max_failures: u32,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()>;
    /// Stops OTP for a user, atomically: consumes the step, unbinds all their tokens and
    /// revokes the ones no user holds any more. Returns the unbound serials.
    async fn stop_user(&self, step: &StepUse, now: i64) -> StoreResult<Vec<TokenSerial>>;
    /// Clears a lockout and the failure count. `NotFound` if no such user.
    async fn unlock_user(
        &self,
        service: &ServiceId,
        user: &UserId,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()>;
    /// Clears a token's count of wrong registration codes. `NotFound` if no such token.
    async fn unlock_token(
        &self,
        service: &ServiceId,
        serial: &TokenSerial,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()>;
    /// Revokes a token, ends its users' unused enrollments and starts their cool-down as
    /// `cooldown` asks (`rules::cooldown_after_revoke`). Revoking a revoked token changes
    /// nothing. `NotFound` if no such token. `operator`: the console operator who did it,
    /// for the audit event.
    async fn revoke_token(
        &self,
        service: &ServiceId,
        serial: &TokenSerial,
        cooldown: RevokeCooldown,
        operator: Option<&str>,
        now: i64,
    ) -> StoreResult<Revocation>;
    /// Ends a user's cool-down now. `NotFound` if no such user.
    async fn end_cooldown(
        &self,
        service: &ServiceId,
        user: &UserId,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()>;

    // --- activation e-mail ------------------------------------------------------------
    /// Sets a service's activation e-mail settings. `NotFound` if no such service.
    async fn set_service_mail(&self, mail: &ServiceMail) -> StoreResult<()>;
    /// A service's activation e-mail settings, if it has any.
    async fn service_mail(&self, service: &ServiceId) -> StoreResult<Option<ServiceMail>>;
    /// A user's outbox mails, newest first, at most `limit`: what the console's user page
    /// shows of them (state, attempts, the last error).
    async fn user_mails(
        &self,
        service: &ServiceId,
        user: &UserId,
        limit: u32,
    ) -> StoreResult<Vec<MailStatus>>;
    /// Claims up to `limit` queued mails due by `now`, oldest first, for one attempt each:
    /// each claimed mail is not due again before `lease_until`, so no other sender (of this
    /// or another instance) takes it meanwhile, and a sender that dies mid-send leaves it
    /// to be tried again then.
    async fn claim_mail(
        &self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> StoreResult<Vec<OutboxMail>>;
    /// Records what became of a claimed mail, with its audit event, in one commit; `false`
    /// if it was no longer queued.
    async fn finish_mail(
        &self,
        id: &MailId,
        outcome: &MailOutcome,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<bool>;

    /// Stores a new transfer challenge and its audit event: `true`; `false` (nothing
    /// written) if the user already has a challenge with the same manual question (the
    /// caller draws another challenge number). `NotFound` if no such user.
    async fn create_transaction(
        &self,
        transaction: &Transaction,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<bool>;
    /// A user's transfer challenge, if it exists.
    async fn transaction(
        &self,
        service: &ServiceId,
        user: &UserId,
        id: &str,
    ) -> StoreResult<Option<Transaction>>;
    /// Uses a challenge's code once, if unused and not expired at `now`, clearing the
    /// user's failures and recording `audit`; `Locked` (nothing written) if the user is
    /// locked. `NotFound` if no such challenge.
    async fn use_transaction(
        &self,
        service: &ServiceId,
        user: &UserId,
        id: &str,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<TransactionUse>;

    // --- audit ----------------------------------------------------------------------
    /// Records an event that no other write carries.
    async fn audit(&self, event: &NewAuditEvent, now: i64) -> StoreResult<()>;
    /// Deletes what can never be used again: activation sessions expired by `now`,
    /// provisioned tokens whose registration window closed before `unassigned_before`
    /// without a user (imported hardware tokens have no window and stay), and outbox mails
    /// sent, failed or long expired more than [`crate::policy::MAIL_KEPT_MS`] ago.
    async fn purge_expired(&self, now: i64, unassigned_before: i64) -> StoreResult<Purged>;
    /// Events of a service with `id > after`, oldest first, at most `limit`.
    async fn audit_events(
        &self,
        service: &ServiceId,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>>;

    // --- sealed secrets -------------------------------------------------------------
    /// Sealed values of `kind` that do not start with `header` (the newest key's: so sealed
    /// by an older key or format), in key order after `after`, at most `limit`.
    async fn stale_sealed(
        &self,
        kind: SealedKind,
        header: &[u8],
        after: &str,
        limit: u32,
    ) -> StoreResult<Vec<SealedValue>>;
    /// Stores re-sealed values, in one commit, each only if its row still holds the old
    /// one; how many were stored.
    async fn replace_sealed(&self, kind: SealedKind, values: &[Resealed]) -> StoreResult<u64>;

    // --- help-desk console (store/console.rs) ----------------------------------------
    /// Stops OTP for a user without a code (the help desk, on a written request): unbinds
    /// all their tokens as `stop_user` does. `NotFound` if no such user.
    async fn stop_user_without_code(
        &self,
        service: &ServiceId,
        user: &UserId,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<Vec<TokenSerial>>;
    /// Adds an operator; its row ID. `Conflict` if the name is taken.
    async fn add_operator(
        &self,
        operator: &NewOperator,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<i64>;
    /// The operator of that sign-in name.
    async fn operator_named(&self, name: &str) -> StoreResult<Option<Operator>>;
    /// The operators of a service (`None`: every operator), by name.
    async fn operators(&self, service: Option<&ServiceId>) -> StoreResult<Vec<Operator>>;
    /// Disables or re-enables an operator and ends their sessions. `NotFound`.
    async fn set_operator_disabled(
        &self,
        name: &str,
        disabled: bool,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()>;
    /// Sets an operator's password hash, clears their failures and lock, ends their
    /// sessions. `NotFound`.
    async fn set_operator_password(
        &self,
        name: &str,
        password_hash: &str,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()>;
    /// Counts a wrong password or code against an operator, locking them for a while from
    /// `max_failures` on (see [`console::backoff_until`]; a try while locked is not
    /// counted); records `audit` either way. `None`: a name no operator has, which runs the
    /// same statements on no row, so the answer's time does not tell names.
    async fn operator_failure(
        &self,
        operator: Option<i64>,
        max_failures: u32,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<console::OperatorFailure>;
    /// Stores a new console session (by the hash of its ID); a `Full` one clears the
    /// operator's failures.
    async fn begin_console_session(
        &self,
        id_hash: &[u8; 32],
        operator: i64,
        stage: SessionStage,
        service: Option<&ServiceId>,
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()>;
    /// The live session of that ID hash (neither idle nor older than `limits` allow, its
    /// operator neither disabled nor locked), marked as seen now.
    async fn console_session(
        &self,
        id_hash: &[u8; 32],
        limits: SessionLimits,
        now: i64,
    ) -> StoreResult<Option<ConsoleSession>>;
    /// Moves a session to `stage` and `service` (a `Full` stage clears the operator's
    /// failures). `NotFound` if it ended.
    async fn update_console_session(
        &self,
        id_hash: &[u8; 32],
        stage: SessionStage,
        service: Option<&ServiceId>,
        audit: Option<&NewAuditEvent>,
        now: i64,
    ) -> StoreResult<()>;
    /// Ends a session (sign-out), recording `audit` if it was live.
    async fn end_console_session(
        &self,
        id_hash: &[u8; 32],
        audit: &NewAuditEvent,
        now: i64,
    ) -> StoreResult<()>;
    /// Deletes sessions past `limits`; how many.
    async fn purge_console_sessions(&self, limits: SessionLimits, now: i64) -> StoreResult<u64>;
    /// Users of a service whose ID, or a serial bound to whom, contains `query`
    /// (case-insensitive), by user ID.
    async fn search_users(
        &self,
        service: &ServiceId,
        query: &str,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<UserId>>;
    /// Events of a service that pass `filter`, newest first.
    async fn audit_search(
        &self,
        service: &ServiceId,
        filter: &AuditFilter,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>>;

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
}

impl dyn Store {
    /// [`Store::judge_code`] with a judge that also hands its caller a value of its own
    /// (what it found, for the answer), returned beside what became of the decision.
    pub async fn check_code<T, F>(
        &self,
        service: &ServiceId,
        user: &UserId,
        now: i64,
        judge: F,
    ) -> StoreResult<(Applied, T)>
    where
        T: Send + 'static,
        F: FnOnce(Option<&User>) -> StoreResult<(Judgement, T)> + Send + 'static,
    {
        let found = Arc::new(std::sync::Mutex::new(None));
        let slot = Arc::clone(&found);
        let judge: Judge = Box::new(move |user| {
            let (judgement, value) = judge(user)?;
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(value);
            Ok(judgement)
        });
        let applied = self.judge_code(service, user, judge, now).await?;
        let value = found
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or(DatabaseError::Internal("a judge ran without deciding"))?;
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
