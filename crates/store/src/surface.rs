//! The store's surface, declared once: each operation is one line of the table below (its
//! doc, how each backend runs it, its signature, and the function over [`crate::conn::Conn`]
//! that does it, written once in [`crate::ops`] or [`crate::console`]). The [`crate::Store`]
//! trait and both backends' implementations are generated from it, so adding an operation
//! is its line here and its SQL in `sql.rs`.
//!
//! A line reads `SQLITE POSTGRES name(args) -> T = function;`:
//! - SQLITE: `read` runs on committed data, `write` in the writer thread's next group
//!   commit;
//! - POSTGRES: `pooled` runs on a pooled connection outside any transaction (reads, and
//!   writes of one statement), `serializable` in a serializable transaction, retried on a
//!   serialization failure.

/// Calls `$callback! {{ {{ extra items }} table }}`: the trait's declaration and each
/// backend's implementation read the same table.
macro_rules! store_surface {
    ($callback:ident { $($extra:tt)* }) => {
        $callback! {
            { $($extra)* }
        // --- services -------------------------------------------------------------------
        /// Adds a service with the hash of its API key. `ServiceExists` if the ID is taken.
        write pooled add_service(service: &Service, key_hash: &[u8; 32]) -> ()
            = crate::ops::add_service;
        /// Adds a service as [`Store::add_service`] does, recording `audit` in the same
        /// commit. `ServiceExists` (and nothing recorded) if the ID is taken.
        write serializable add_service_audited(
            service: &Service,
            key_hash: &[u8; 32],
            audit: &NewAuditEvent,
            now: i64,
        ) -> ()
            = crate::ops::add_service_audited;
        /// All services, by ID.
        read pooled services() -> Vec<Service> = crate::ops::services;
        /// One service.
        read pooled service(id: &ServiceId) -> Option<Service> = crate::ops::service;
        /// The service whose API key hashes to `key_hash`.
        read pooled service_for_key(key_hash: &[u8; 32]) -> Option<ServiceId>
            = crate::ops::service_for_key;
        /// Replaces a service's API key hash, recording `audit` in the same commit.
        /// `NotFound` if no such service.
        write serializable set_service_key(
            id: &ServiceId,
            key_hash: &[u8; 32],
            audit: &NewAuditEvent,
            now: i64,
        ) -> ()
            = crate::ops::set_service_key;
        /// Replaces a service's policy, recording `audit` in the same commit. `NotFound`.
        write serializable set_service_policy(
            id: &ServiceId,
            policy: &crate::policy::Policy,
            audit: &NewAuditEvent,
            now: i64,
        ) -> ()
            = crate::ops::set_service_policy;
        // --- enrollment and activation --------------------------------------------------
        /// Issues an enrollment, replacing the user's older one. `Cooldown` during a
        /// revocation cool-down, `TokenExists` if the user has an active token.
        write serializable issue_enrollment(
            enrollment: &NewEnrollment,
            audit: &NewAuditEvent,
            now: i64,
        ) -> ()
            = crate::ops::issue_enrollment;
        /// The user's unused enrollment, as the bank sees it.
        read pooled enrollment(service: &ServiceId, user: &UserId) -> Option<Enrollment>
            = crate::ops::enrollment;
        /// The user's enrollment an activation may start on, before anything is counted:
        /// `EnrollmentNotFound` (none, used, or a cool-down running), `EnrollmentExpired`, or
        /// `EnrollmentLocked` after `max_guesses`.
        read pooled enrollment_for_start(
            service: &ServiceId,
            user: &UserId,
            max_guesses: u32,
            now: i64,
        ) -> OpenEnrollment
            = crate::ops::enrollment_for_start;
        /// Counts one guess against the session's enrollment, if it is still open, and stores
        /// the session with the tries left, which it returns. Refuses as
        /// [`Store::enrollment_for_start`] does when the enrollment changed meanwhile.
        write pooled begin_activation(
            session: &ActivationSession,
            max_guesses: u32,
            audit: &NewAuditEvent,
            now: i64,
        ) -> u32
            = crate::conn::Conn::begin_activation;
        /// A live session.
        read pooled session(id: &SessionId, now: i64) -> Option<ActivationSession>
            = crate::ops::session;
        /// Deletes a session (a wrong confirmation ends it).
        write serializable discard_session(id: &SessionId, audit: &NewAuditEvent, now: i64) -> ()
            = crate::ops::discard_session;
        /// Atomically: consumes the session (`SessionExpired`) and its enrollment
        /// (`EnrollmentNotFound`, also when a cool-down began meanwhile), revokes the user's
        /// older pending tokens, creates `token` as pending and binds it to the user.
        /// `SerialTaken` leaves the session usable.
        write pooled finish_activation(
            session: &SessionId,
            token: &Token,
            user: &UserId,
            audit: &NewAuditEvent,
            now: i64,
        ) -> ()
            = crate::conn::Conn::finish_activation;
        // --- tokens and users -----------------------------------------------------------
        /// Stores a provisioned, unassigned token. `SerialTaken` if the serial exists,
        /// `ProvisioningFull` if the service already has `quota` provisioned tokens waiting
        /// for registration. No audit row: provisioning is counted in periodic summaries.
        write pooled add_provisioned_token(token: &Token, quota: u32) -> ()
            = crate::ops::add_provisioned_token;
        /// Stores imported hardware tokens as unassigned, in one transaction. For each, in
        /// order, whether it was added: `false` if its serial is already on the server
        /// (that token is left untouched, never overwritten). The audit event's detail gets
        /// the counts: a `Detail::TokensImported` its `imported` and `of` filled in, free
        /// text `; imported N of M` appended.
        // One transaction: an import lands whole or not at all. A serial already present
        // (here or raced in by another instance) is skipped, never overwritten.
        write serializable import_tokens(
            tokens: &[Token],
            audit: &NewAuditEvent,
            now: i64,
        ) -> Vec<bool>
            = crate::ops::import_tokens;
        /// One token of a service.
        read pooled token(service: &ServiceId, serial: &TokenSerial) -> Option<Token>
            = crate::ops::token;
        /// What the token status call needs of token `serial`, whatever its service.
        read pooled token_standing(serial: &TokenSerial) -> Option<TokenStanding>
            = crate::ops::token_standing;
        /// A user and the tokens bound to them.
        // One round trip, one snapshot.
        read pooled user(service: &ServiceId, user: &UserId) -> Option<User> = crate::ops::user;
        /// Accepts a code: the token must be bound to the user in state `from` with
        /// `last_step < step`, and the user not locked. Resets the failure count, records
        /// step, drift and spender, and moves the token to `Active`. A refusal changes
        /// nothing but says why; the audit event is recorded either way, in the same
        /// commit, with the refusal's detail from `refused` if refused.
        write pooled accept_step(
            step: &StepUse,
            from: TokenState,
            audit: &NewAuditEvent,
            refused: &RefusalDetails,
            now: i64,
        ) -> Acceptance
            = crate::conn::Conn::accept_step;
        /// Applies what a code check decided ([`Store::check_code`] reads the user, and the
        /// service decides, before): uses the step (only if it is still unused and the user
        /// unlocked, else `Refused` with only its audit row written), counts a failure, or
        /// only records the audit row. One conditional write, its audit row in the same
        /// commit.
        write pooled apply_judgement(judgement: &Judgement, now: i64) -> Applied
            = crate::ops::apply_judgement;
        /// Counts a wrong or reused code; locks at `max_failures` (recording a `user_locked`
        /// event too). If the user was locked already nothing is counted and the event is
        /// recorded as `locked`, the answer the caller gets. `NotFound` if no such user.
        write pooled record_failure(
            service: &ServiceId,
            user: &UserId,
            max_failures: u32,
            audit: &NewAuditEvent,
            now: i64,
        ) -> Failures
            = crate::conn::Conn::record_failure;
        /// Counts a wrong code given to register `serial` to `user` (or as a device change's
        /// new code): against the user, made if need be, and against the token, which stays
        /// locked once it reaches `max_failures`.
        write serializable record_registration_failure(
            service: &ServiceId,
            user: &UserId,
            serial: &TokenSerial,
            max_failures: u32,
            audit: &NewAuditEvent,
            now: i64,
        ) -> Failures
            = crate::ops::record_registration_failure;
        /// Binds an unassigned token (or, if shared tokens are allowed, an active one) to a
        /// user, consuming the step. `NotFound`, `Reused`, `Locked`, `Cooldown`, `TokenLocked`,
        /// `TokenExists` (limit reached), `Conflict` (wrong state or already bound).
        write serializable bind_token(binding: &Binding, audit: &NewAuditEvent, now: i64) -> ()
            = crate::ops::bind_token;
        /// Device change, atomically: consumes `old`'s step, binds the unassigned `new`
        /// token (consuming its step) and unbinds `old` (revoked once no user holds it).
        write serializable replace_token(
            old: &StepUse,
            new: &StepUse,
            max_failures: u32,
            audit: &NewAuditEvent,
            now: i64,
        ) -> ()
            = crate::ops::replace_token;
        /// Stops OTP for a user, atomically: consumes the step, unbinds all their tokens and
        /// revokes the ones no user holds any more, recording `audit` (its detail the
        /// `Detail::Stopped` with the unbound serials) in the same commit. Returns the
        /// unbound serials.
        write serializable stop_user(step: &StepUse, audit: &NewAuditEvent, now: i64)
            -> Vec<TokenSerial>
            = crate::ops::stop_user;
        /// Clears a lockout and the failure count. `NotFound` if no such user.
        write serializable unlock_user(
            service: &ServiceId,
            user: &UserId,
            audit: &NewAuditEvent,
            now: i64,
        ) -> ()
            = crate::ops::unlock_user;
        /// Clears a token's count of wrong registration codes. `NotFound` if no such token.
        write serializable unlock_token(
            service: &ServiceId,
            serial: &TokenSerial,
            audit: &NewAuditEvent,
            now: i64,
        ) -> ()
            = crate::ops::unlock_token;
        /// Revokes a token, ends its users' unused enrollments and starts their cool-down as
        /// `cooldown` asks (`rules::cooldown_after_revoke`). Revoking a revoked token changes
        /// nothing. `NotFound` if no such token. `operator`: the console operator who did it,
        /// for the audit event.
        write serializable revoke_token(
            service: &ServiceId,
            serial: &TokenSerial,
            cooldown: RevokeCooldown,
            operator: Option<&str>,
            now: i64,
        ) -> Revocation
            = crate::ops::revoke_token;
        /// Ends a user's cool-down now. `NotFound` if no such user.
        write serializable end_cooldown(
            service: &ServiceId,
            user: &UserId,
            audit: &NewAuditEvent,
            now: i64,
        ) -> ()
            = crate::ops::end_cooldown;
        // --- activation e-mail ------------------------------------------------------------
        /// Sets a service's activation e-mail settings, recording `audit` in the same
        /// commit. `NotFound` (and nothing recorded) if no such service.
        write serializable set_service_mail(
            mail: &ServiceMail,
            audit: &NewAuditEvent,
            now: i64,
        ) -> ()
            = crate::ops::set_service_mail;
        /// A service's activation e-mail settings, if it has any.
        read pooled service_mail(service: &ServiceId) -> Option<ServiceMail>
            = crate::ops::service_mail;
        /// A user's outbox mails, newest first, at most `limit`: what the console's user page
        /// shows of them (state, attempts, the last error).
        read pooled user_mails(service: &ServiceId, user: &UserId, limit: u32) -> Vec<MailStatus>
            = crate::ops::user_mails;
        /// Claims up to `limit` queued mails due by `now`, oldest first, for one attempt each:
        /// each claimed mail is not due again before `lease_until`, so no other sender (of this
        /// or another instance) takes it meanwhile, and a sender that dies mid-send leaves it
        /// to be tried again then.
        // One statement, outside a transaction: its own re-check decides races.
        write pooled claim_mail(now: i64, lease_until: i64, limit: u32) -> Vec<OutboxMail>
            = crate::ops::claim_mail;
        /// Records what became of a claimed mail, with its audit event, in one commit; `false`
        /// if it was no longer queued.
        write serializable finish_mail(
            id: &MailId,
            outcome: &MailOutcome,
            audit: &NewAuditEvent,
            now: i64,
        ) -> bool
            = crate::ops::finish_mail;
        /// Stores a new transfer challenge and its audit event: `true`; `false` (nothing
        /// written) if the user already has a challenge with the same manual question (the
        /// caller draws another challenge number). `NotFound` if no such user.
        write serializable create_transaction(
            transaction: &Transaction,
            audit: &NewAuditEvent,
            now: i64,
        ) -> bool
            = crate::ops::create_transaction;
        /// A user's transfer challenge, if it exists.
        read pooled transaction(service: &ServiceId, user: &UserId, id: &str) -> Option<Transaction>
            = crate::ops::transaction;
        /// Uses a challenge's code once, if unused and not expired at `now` and the user not
        /// locked, clearing the user's failures; `audit` is recorded in the same commit,
        /// with the refusal's detail from `refused` if refused (then nothing else is
        /// written). `NotFound` if no such challenge.
        write serializable use_transaction(
            service: &ServiceId,
            user: &UserId,
            id: &str,
            audit: &NewAuditEvent,
            refused: &RefusalDetails,
            now: i64,
        ) -> TransactionUse
            = crate::ops::use_transaction;
        // --- audit ----------------------------------------------------------------------
        /// Records an event that no other write carries.
        write pooled audit(event: &NewAuditEvent, now: i64) -> () = crate::ops::audit;
        /// Deletes what can never be used again: activation sessions expired by `now`,
        /// provisioned tokens whose registration window closed before `unassigned_before`
        /// without a user (imported hardware tokens have no window and stay), and outbox mails
        /// sent, failed or long expired more than [`crate::policy::MAIL_KEPT_MS`] ago.
        // Two independent deletes of rows nobody can use any more: no transaction needed.
        write pooled purge_expired(now: i64, unassigned_before: i64) -> Purged
            = crate::ops::purge_expired;
        /// Events of a service with `id > after`, oldest first, at most `limit`.
        read pooled audit_events(service: &ServiceId, after: i64, limit: u32) -> Vec<AuditEvent>
            = crate::ops::audit_events;
        // --- sealed secrets -------------------------------------------------------------
        /// Sealed values of `kind` that do not start with `header` (the newest key's: so sealed
        /// by an older key or format), in key order after `after`, at most `limit`.
        read pooled stale_sealed(
            kind: SealedKind,
            header: &[u8],
            after: &str,
            limit: u32,
        ) -> Vec<SealedValue>
            = crate::ops::stale_sealed;
        /// Stores re-sealed values, in one commit, each only if its row still holds the old
        /// one; how many were stored.
        write serializable replace_sealed(kind: SealedKind, values: &[Resealed]) -> u64
            = crate::ops::replace_sealed;
        // --- help-desk console (store/console.rs) ----------------------------------------
        /// Stops OTP for a user without a code (the help desk, on a written request): unbinds
        /// all their tokens as `stop_user` does. `NotFound` if no such user.
        write serializable stop_user_without_code(
            service: &ServiceId,
            user: &UserId,
            audit: &NewAuditEvent,
            now: i64,
        ) -> Vec<TokenSerial>
            = crate::ops::stop_user_without_code;
        /// Adds an operator; its row ID. `Conflict` if the name is taken.
        write serializable add_operator(
            operator: &NewOperator,
            audit: &NewAuditEvent,
            now: i64,
        ) -> i64
            = crate::console::add_operator;
        /// The operator of that sign-in name.
        read pooled operator_named(name: &str) -> Option<Operator> = crate::console::operator_named;
        /// The operators of a service (`None`: every operator), by name.
        read pooled operators(service: Option<&ServiceId>) -> Vec<Operator>
            = crate::console::operators;
        /// Disables or re-enables an operator and ends their sessions. `NotFound`.
        write serializable set_operator_disabled(
            name: &str,
            disabled: bool,
            audit: &NewAuditEvent,
            now: i64,
        ) -> ()
            = crate::console::set_operator_disabled;
        /// Sets an operator's password hash, clears their failures and lock, ends their
        /// sessions. `NotFound`.
        write serializable set_operator_password(
            name: &str,
            password_hash: &str,
            audit: &NewAuditEvent,
            now: i64,
        ) -> ()
            = crate::console::set_operator_password;
        /// [`Store::set_operator_password`] and, in the same commit, clears the lockout of
        /// the operator's own token user that `unlock` names (recorded with it; nothing if
        /// that user does not exist yet).
        write serializable reset_operator(
            name: &str,
            password_hash: &str,
            audit: &NewAuditEvent,
            unlock: &NewAuditEvent,
            now: i64,
        ) -> ()
            = crate::console::reset_operator;
        /// Counts a wrong password or code against an operator, locking them for a while from
        /// `max_failures` on (see [`console::backoff_until`]; a try while locked is not
        /// counted); records `audit` either way. `None`: a name no operator has, which runs the
        /// same statements on no row, so the answer's time does not tell names.
        write serializable operator_failure(
            operator: Option<i64>,
            max_failures: u32,
            audit: &NewAuditEvent,
            now: i64,
        ) -> crate::console::OperatorFailure
            = crate::console::operator_failure;
        /// Stores a new console session (by the hash of its ID); a `Full` one clears the
        /// operator's failures.
        write serializable begin_console_session(
            id_hash: &[u8; 32],
            operator: i64,
            stage: SessionStage,
            service: Option<&ServiceId>,
            audit: &NewAuditEvent,
            now: i64,
        ) -> ()
            = crate::console::begin_console_session;
        /// The live session of that ID hash (neither idle nor older than `limits` allow, its
        /// operator neither disabled nor locked), marked as seen now.
        write serializable console_session(
            id_hash: &[u8; 32],
            limits: SessionLimits,
            now: i64,
        ) -> Option<ConsoleSession>
            = crate::console::console_session;
        /// Moves a session to `stage` and `service` (a `Full` stage clears the operator's
        /// failures). `NotFound` if it ended.
        write serializable update_console_session(
            id_hash: &[u8; 32],
            stage: SessionStage,
            service: Option<&ServiceId>,
            audit: Option<&NewAuditEvent>,
            now: i64,
        ) -> ()
            = crate::console::update_console_session;
        /// Ends a session (sign-out), recording `audit` if it was live.
        write serializable end_console_session(
            id_hash: &[u8; 32],
            audit: &NewAuditEvent,
            now: i64,
        ) -> ()
            = crate::console::end_console_session;
        /// Deletes sessions past `limits`; how many.
        write pooled purge_console_sessions(limits: SessionLimits, now: i64) -> u64
            = crate::console::purge_console_sessions;
        /// Users of a service whose ID, or a serial bound to whom, contains `query`
        /// (case-insensitive), by user ID.
        read pooled search_users(
            service: &ServiceId,
            query: &str,
            offset: u32,
            limit: u32,
        ) -> Vec<UserId>
            = crate::console::search_users;
        /// Events of a service that pass `filter`, newest first.
        read pooled audit_search(
            service: &ServiceId,
            filter: &AuditFilter,
            offset: u32,
            limit: u32,
        ) -> Vec<AuditEvent>
            = crate::console::audit_search;
        }
    };
}

pub(crate) use store_surface;

/// Declares the [`crate::Store`] trait from the table, with `$extra` (the items each backend
/// writes by hand).
macro_rules! declare_store {
    (
        { $($extra:tt)* }
        $(
            $(#[$doc:meta])*
            $sqlite:ident $postgres:ident $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty
                = $op:path;
        )*
    ) => {
        /// Everything the server keeps. `now` is passed in (Unix ms) so every instance and
        /// every test agrees on the time the handler saw. Each write takes the audit event
        /// that describes it and records it in the same commit.
        #[async_trait::async_trait]
        pub trait Store: Send + Sync + 'static {
            $(
                $(#[$doc])*
                async fn $name(&self, $($arg: $ty),*) -> StoreResult<$ret>;
            )*
            $($extra)*
        }
    };
}

pub(crate) use declare_store;
