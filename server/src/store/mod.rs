//! Storage: one async trait, one implementation per database, chosen by URL.
//!
//! The trait speaks in whole operations, not rows: each method that checks and
//! changes state (one-time use of a step, failure counts and lockout, enrollment
//! guesses, cool-downs, serial uniqueness, binding, replacing) is one atomic
//! conditional statement or one transaction in the implementation, so the
//! outcome is right however many server instances share the database.
//! Secrets arrive here already sealed by [`crate::crypto::MasterKey`].

mod postgres;
pub mod scratch;
mod sql;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use softtoken_protocol::{OtpParams, ServiceId, UserId};

use crate::serial::TokenSerial;

use crate::policy::Policy;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Why a storage operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row; names what was missing ("service", "user", "token").
    #[error("no such {0}")]
    NotFound(&'static str),
    /// A service with this ID exists.
    #[error("the service already exists")]
    ServiceExists,
    /// No open enrollment for the user (never issued, used, or replaced).
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
    Database(#[from] sqlx::Error),
}

/// Shorthand for storage results.
pub type StoreResult<T> = Result<T, StoreError>;

/// A service (tenant) as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Its ID.
    pub id: ServiceId,
    /// Display name, shown on tokens as the issuer.
    pub name: String,
    /// Its rules.
    pub policy: Policy,
    /// When it was added (Unix ms).
    pub created_at: i64,
}

/// The life stages of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    /// Provisioned, waiting for the bank to register it to a user.
    Unassigned,
    /// Activated by start password, waiting for its first code.
    Pending,
    /// In use.
    Active,
    /// Revoked or stopped; never usable again.
    Revoked,
}

impl TokenState {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenState::Unassigned => "unassigned",
            TokenState::Pending => "pending",
            TokenState::Active => "active",
            TokenState::Revoked => "revoked",
        }
    }

    /// The inverse of [`TokenState::as_str`].
    pub fn parse(text: &str) -> StoreResult<Self> {
        Ok(match text {
            "unassigned" => TokenState::Unassigned,
            "pending" => TokenState::Pending,
            "active" => TokenState::Active,
            "revoked" => TokenState::Revoked,
            other => return Err(StoreError::Corrupt(format!("token state '{other}'"))),
        })
    }
}

/// A token as stored; `seed` is sealed.
#[derive(Debug, Clone)]
pub struct Token {
    /// Its service.
    pub service_id: ServiceId,
    /// Its serial.
    pub serial: TokenSerial,
    /// Its life stage.
    pub state: TokenState,
    /// OTP parameters.
    pub params: OtpParams,
    /// The seed, sealed under the master key with [`crate::crypto::seed_aad`].
    pub seed: Vec<u8>,
    /// Last accepted time step (-1: none).
    pub last_step: i64,
    /// Clock drift in steps, learned at the last accepted code.
    pub drift: i64,
    /// Created (Unix ms).
    pub created_at: i64,
    /// Became active (Unix ms).
    pub activated_at: Option<i64>,
    /// Last accepted code (Unix ms).
    pub last_used_at: Option<i64>,
    /// Unassigned tokens expire (Unix ms).
    pub expires_at: Option<i64>,
}

/// A user with the tokens bound to them (all states, newest first).
#[derive(Debug, Clone)]
pub struct User {
    /// The user's ID.
    pub user_id: UserId,
    /// Consecutive wrong codes.
    pub failures: u32,
    /// Locked after `max_failures`.
    pub locked: bool,
    /// End of a revocation cool-down (Unix ms).
    pub cooldown_until: Option<i64>,
    /// Bound tokens.
    pub tokens: Vec<Token>,
}

/// A new enrollment (replaces any older one of the same user).
#[derive(Debug, Clone)]
pub struct NewEnrollment {
    /// Random ID.
    pub id: String,
    /// Service.
    pub service_id: ServiceId,
    /// User.
    pub user_id: UserId,
    /// `w`, sealed with [`crate::crypto::w_aad`].
    pub w: Vec<u8>,
    /// Expiry (Unix ms).
    pub expires_at: i64,
}

/// One activation attempt, counted as a guess.
#[derive(Debug, Clone)]
pub struct EnrollmentAttempt {
    /// The enrollment.
    pub enrollment_id: String,
    /// Sealed `w`.
    pub w: Vec<u8>,
    /// Guesses used, this one included.
    pub guesses: u32,
}

/// The server's half of an activation between start and finish.
#[derive(Debug, Clone)]
pub struct ActivationSession {
    /// Random ID given to the app.
    pub id: String,
    /// The enrollment it belongs to.
    pub enrollment_id: String,
    /// Service.
    pub service_id: ServiceId,
    /// User.
    pub user_id: UserId,
    /// The SPAKE2 session key, sealed with [`crate::crypto::session_aad`].
    pub session_key: Vec<u8>,
    /// Tries the enrollment has left if this one fails.
    pub attempts_left: u32,
    /// Expiry (Unix ms).
    pub expires_at: i64,
}

/// The use of one time step of one token by one user.
#[derive(Debug, Clone)]
pub struct StepUse {
    /// Service.
    pub service_id: ServiceId,
    /// User.
    pub user_id: UserId,
    /// Token.
    pub serial: TokenSerial,
    /// The step the code matched; must be greater than the token's last step.
    pub step: i64,
    /// Its offset from the server's current step.
    pub drift: i64,
}

/// What [`Store::purge_expired`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Activation sessions past their expiry (started, never finished).
    pub sessions: u64,
    /// Provisioned tokens that expired without being registered.
    pub tokens: u64,
}

/// Failure count after a wrong code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    /// Consecutive failures now.
    pub failures: u32,
    /// Whether the user is locked now.
    pub locked: bool,
    /// Whether this failure locked them.
    pub newly_locked: bool,
}

/// Registering a token to a user (registration mode, or a shared token's next user).
#[derive(Debug, Clone)]
pub struct Binding {
    /// The step use proving the user holds the token.
    pub step: StepUse,
    /// Whether the service allows binding an active token to another user.
    pub shared_tokens: bool,
    /// The service's limit of usable tokens per user.
    pub tokens_per_user: u32,
}

/// An audit event to record.
#[derive(Debug, Clone)]
pub struct NewAuditEvent {
    /// Service.
    pub service_id: ServiceId,
    /// What happened (`enrollment_issued`, `verify`, …).
    pub kind: &'static str,
    /// The user concerned.
    pub user_id: Option<UserId>,
    /// The token concerned.
    pub serial: Option<TokenSerial>,
    /// Outcome or extra facts; never a secret.
    pub detail: String,
}

/// An audit event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Increasing ID, for paging.
    pub id: i64,
    /// When (Unix ms).
    pub at: i64,
    /// What happened.
    pub kind: String,
    /// The user concerned.
    pub user_id: Option<String>,
    /// The token concerned.
    pub serial: Option<String>,
    /// Outcome or extra facts.
    pub detail: String,
}

/// Everything the server keeps. `now` is passed in (Unix ms) so every instance and
/// every test agrees on the time the handler saw.
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

    // --- enrollment and activation --------------------------------------------------
    /// Issues an enrollment, replacing the user's older one. `Cooldown` during a
    /// revocation cool-down, `TokenExists` if the user has an active token.
    async fn issue_enrollment(&self, enrollment: &NewEnrollment, now: i64) -> StoreResult<()>;
    /// Counts one guess against the user's open enrollment and returns it.
    /// `EnrollmentNotFound`, `EnrollmentExpired`, or `EnrollmentLocked` after `max_guesses`.
    async fn start_activation(
        &self,
        service: &ServiceId,
        user: &UserId,
        max_guesses: u32,
        now: i64,
    ) -> StoreResult<EnrollmentAttempt>;
    /// Keeps an activation session until finish.
    /// Stores a session; `audit`, if any, is recorded in the same commit (at `now`).
    async fn put_session(
        &self,
        session: &ActivationSession,
        audit: Option<&NewAuditEvent>,
        now: i64,
    ) -> StoreResult<()>;
    /// A live session.
    async fn session(&self, id: &str, now: i64) -> StoreResult<Option<ActivationSession>>;
    /// Deletes a session (a wrong confirmation ends it).
    async fn discard_session(&self, id: &str) -> StoreResult<()>;
    /// Atomically: consumes the session (`SessionExpired`) and its enrollment
    /// (`EnrollmentNotFound`), revokes the user's older pending tokens, creates `token`
    /// as pending and binds it to the user. `SerialTaken` leaves the session usable.
    /// `audit`, if any, is recorded in the same commit when the token was created.
    async fn finish_activation(
        &self,
        session_id: &str,
        token: &Token,
        user: &UserId,
        now: i64,
        audit: Option<&NewAuditEvent>,
    ) -> StoreResult<()>;

    // --- tokens and users -----------------------------------------------------------
    /// Stores a provisioned, unassigned token. `SerialTaken` if the serial exists.
    async fn add_unassigned_token(&self, token: &Token) -> StoreResult<()>;
    /// Stores imported hardware tokens as unassigned, in one transaction. For each, in
    /// order, whether it was added: `false` if its serial is already on the server
    /// (that token is left untouched, never overwritten).
    async fn import_tokens(&self, tokens: &[Token]) -> StoreResult<Vec<bool>>;
    /// One token of a service.
    async fn token(&self, service: &ServiceId, serial: &TokenSerial) -> StoreResult<Option<Token>>;
    /// A user and the tokens bound to them.
    async fn user(&self, service: &ServiceId, user: &UserId) -> StoreResult<Option<User>>;
    /// Accepts a code: the user must not be locked (`Locked`), the token must be bound to
    /// the user in state `from` with `last_step < step` (`Reused`). Resets the failure
    /// count, records step and drift, and moves the token to `Active`. `audit`, if any, is
    /// recorded in the same commit, and only if the code was accepted.
    async fn accept_step(
        &self,
        step: &StepUse,
        from: TokenState,
        now: i64,
        audit: Option<&NewAuditEvent>,
    ) -> StoreResult<()>;
    /// Counts a wrong or reused code; locks at `max_failures`. `NotFound` if no such user.
    /// `audit`, if any, is recorded in the same commit.
    async fn record_failure(
        &self,
        service: &ServiceId,
        user: &UserId,
        max_failures: u32,
        audit: Option<&NewAuditEvent>,
        now: i64,
    ) -> StoreResult<Failures>;
    /// Binds an unassigned token (or, if shared tokens are allowed, an active one) to a
    /// user, consuming the step. `NotFound`, `Reused`, `Locked`, `Cooldown`,
    /// `TokenExists` (limit reached), `Conflict` (wrong state or already bound).
    async fn bind_token(&self, binding: &Binding, now: i64) -> StoreResult<()>;
    /// Device change, atomically: consumes `old`'s step, binds the unassigned `new`
    /// token (consuming its step) and unbinds `old` (revoked once no user holds it).
    async fn replace_token(&self, old: &StepUse, new: &StepUse, now: i64) -> StoreResult<()>;
    /// Stops OTP for a user, atomically: consumes the step, unbinds all their tokens and
    /// revokes the ones no user holds any more. Returns the unbound serials.
    async fn stop_user(&self, step: &StepUse, now: i64) -> StoreResult<Vec<TokenSerial>>;
    /// Clears a lockout and the failure count. `NotFound` if no such user.
    async fn unlock_user(&self, service: &ServiceId, user: &UserId) -> StoreResult<()>;
    /// Revokes a token and starts the cool-down (until `cooldown_until`) for its users.
    /// Returns the users it was bound to. `NotFound` if no such token.
    async fn revoke_token(
        &self,
        service: &ServiceId,
        serial: &TokenSerial,
        cooldown_until: i64,
    ) -> StoreResult<Vec<UserId>>;

    // --- audit ----------------------------------------------------------------------
    /// Records an event.
    async fn audit(&self, event: &NewAuditEvent, now: i64) -> StoreResult<()>;
    /// Deletes what can never be used again: activation sessions expired by `now`, and
    /// provisioned tokens whose registration window closed before `unassigned_before`
    /// without a user (imported hardware tokens have no window and stay).
    async fn purge_expired(&self, now: i64, unassigned_before: i64) -> StoreResult<Purged>;
    /// Events of a service with `id > after`, oldest first, at most `limit`.
    async fn audit_events(
        &self,
        service: &ServiceId,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>>;
}

/// Opens the store a database URL names: `sqlite:…` or `postgres://…` (`postgresql://…`).
pub async fn connect(url: &str) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else {
        Err(StoreError::Database(sqlx::Error::Configuration(
            "unsupported database URL: use sqlite:PATH or postgres://USER@HOST/DB".into(),
        )))
    }
}
