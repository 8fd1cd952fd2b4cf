//! Every storage operation, written once over [`Conn`]: SQLite runs these on its writer
//! thread (each inside a savepoint of a group commit) or a reader connection, PostgreSQL
//! inside a transaction (serializable where an operation reads before it decides). The
//! decisions are the pure functions of `rules.rs`; the statements are `sql.rs`'s.
//!
//! A refusal returns its `StoreError` and may leave earlier statements of the operation
//! applied: the caller's savepoint or transaction undoes them. PostgreSQL replaces four
//! hot operations with single statements of its own (`postgres.rs`); the tests hold both
//! versions to one behaviour.

use softtoken_protocol::{ServiceId, UserId};

use super::conn::{Conn, args};
use super::model::{
    Acceptance, ActivationSession, Applied, AuditEvent, Binding, Enrollment, Failures, Judged,
    Judgement, NewAuditEvent, NewEnrollment, OpenEnrollment, Purged, Resealed, Revocation,
    RevokeCooldown, SealedKind, SealedValue, Service, SessionId, StepUse, Token, TokenEnd,
    TokenStanding, TokenState, User,
};
use super::model::{MailId, MailOutcome, MailStatus, MailTemplate, OutboxMail, ServiceMail};
use super::rows::{
    Counted, EnrollmentForStart, Flag, Int, Text, TokenUser, UserState, UserTokenRow, stored_serial,
};
use super::{StoreError, StoreResult, rules, sql};
use crate::audit::AuditKind;
use crate::serial::TokenSerial;

// --- services ---------------------------------------------------------------------------

pub(crate) async fn add_service<C: Conn>(
    c: &mut C,
    service: &Service,
    key_hash: &[u8; 32],
) -> StoreResult<()> {
    let p = &service.policy;
    let period = p
        .period
        .map(|s| i64::try_from(s.seconds()))
        .transpose()
        .map_err(super::error::corrupt)?;
    let window = p.night_cutoff.map(|n| n.window());
    let added = c
        .execute(
            sql::INSERT_SERVICE,
            args![
                service.id.as_str(),
                service.name.as_str(),
                p.algorithm.map(|a| a.as_str()),
                p.digits.map(|d| i64::from(d.get())),
                period,
                p.window,
                p.max_failures,
                secs(p.cooldown_secs)?,
                p.cooldown_restarts,
                secs(p.enrollment_ttl_secs)?,
                p.tokens_per_user,
                p.shared_tokens,
                p.unassigned_quota,
                key_hash.as_slice(),
                service.created_at,
                window.as_deref(),
                p.night_cutoff.map(|n| n.zone_name()),
            ],
        )
        .await?;
    if added == 0 {
        return Err(StoreError::ServiceExists);
    }
    Ok(())
}

/// Seconds (or any `u64` setting) as the `BIGINT` both schemas store.
pub(crate) fn secs(n: u64) -> StoreResult<i64> {
    i64::try_from(n).map_err(super::error::corrupt)
}

pub(crate) async fn services<C: Conn>(c: &mut C) -> StoreResult<Vec<Service>> {
    c.fetch_all(sql::SERVICES, args![]).await
}

pub(crate) async fn service<C: Conn>(c: &mut C, id: &ServiceId) -> StoreResult<Option<Service>> {
    c.fetch_optional(sql::SERVICE, args![id.as_str()]).await
}

pub(crate) async fn service_for_key<C: Conn>(
    c: &mut C,
    key_hash: &[u8; 32],
) -> StoreResult<Option<ServiceId>> {
    let id: Option<Text> = c
        .fetch_optional(sql::SERVICE_FOR_KEY, args![key_hash.as_slice()])
        .await?;
    id.and_then(|t| t.0)
        .map(|id| ServiceId::new(id).map_err(super::error::corrupt))
        .transpose()
}

pub(crate) async fn set_service_key<C: Conn>(
    c: &mut C,
    id: &ServiceId,
    key_hash: &[u8; 32],
) -> StoreResult<()> {
    let done = c
        .execute(
            sql::SET_SERVICE_KEY,
            args![key_hash.as_slice(), id.as_str()],
        )
        .await?;
    found(done, "service")
}

/// Replaces a service's policy and records `audit` with it.
pub(crate) async fn set_service_policy<C: Conn>(
    c: &mut C,
    id: &ServiceId,
    p: &crate::policy::Policy,
    audit_event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    let period = p
        .period
        .map(|s| i64::try_from(s.seconds()))
        .transpose()
        .map_err(super::error::corrupt)?;
    let window = p.night_cutoff.map(|n| n.window());
    let done = c
        .execute(
            sql::SET_SERVICE_POLICY,
            args![
                p.algorithm.map(|a| a.as_str()),
                p.digits.map(|d| i64::from(d.get())),
                period,
                p.window,
                p.max_failures,
                secs(p.cooldown_secs)?,
                p.cooldown_restarts,
                secs(p.enrollment_ttl_secs)?,
                p.tokens_per_user,
                p.shared_tokens,
                p.unassigned_quota,
                window.as_deref(),
                p.night_cutoff.map(|n| n.zone_name()),
                id.as_str(),
            ],
        )
        .await?;
    found(done, "service")?;
    audit(c, audit_event, now).await
}

fn found(rows: u64, what: &'static str) -> StoreResult<()> {
    if rows == 0 {
        Err(StoreError::NotFound(what))
    } else {
        Ok(())
    }
}

// --- audit ------------------------------------------------------------------------------

pub(crate) async fn audit<C: Conn>(c: &mut C, event: &NewAuditEvent, now: i64) -> StoreResult<()> {
    c.execute(
        sql::INSERT_AUDIT,
        args![
            event.service_id.as_str(),
            now,
            event.kind.as_str(),
            event.user_id.as_ref().map(|u| u.as_str()),
            event.serial.as_ref().map(|s| s.as_str()),
            event.detail.as_str(),
            event.operator.as_deref(),
        ],
    )
    .await?;
    Ok(())
}

pub(crate) async fn audit_events<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    after: i64,
    limit: u32,
) -> StoreResult<Vec<AuditEvent>> {
    c.fetch_all(sql::AUDIT_EVENTS, args![service.as_str(), after, limit])
        .await
}

/// The event of a user reaching `max_failures`.
pub(crate) fn user_locked_event(service: &ServiceId, user: &UserId, max: u32) -> NewAuditEvent {
    NewAuditEvent::new(
        service,
        AuditKind::UserLocked,
        format!("locked after {max} consecutive wrong codes"),
    )
    .user(user)
}

/// The event of a checked code the caller was answered "locked" for: the user was locked
/// before the code could count.
pub(crate) fn already_locked(event: &NewAuditEvent) -> NewAuditEvent {
    NewAuditEvent {
        detail: "locked".into(),
        ..event.clone()
    }
}

pub(crate) async fn purge_expired<C: Conn>(
    c: &mut C,
    now: i64,
    unassigned_before: i64,
) -> StoreResult<Purged> {
    let sessions = c.execute(sql::PURGE_SESSIONS, args![now]).await?;
    let tokens = c
        .execute(sql::PURGE_UNASSIGNED, args![unassigned_before])
        .await?;
    let mails = c
        .execute(sql::PURGE_MAIL, args![now - crate::policy::MAIL_KEPT_MS])
        .await?;
    Ok(Purged {
        sessions,
        tokens,
        mails,
    })
}

// --- users ------------------------------------------------------------------------------

async fn ensure_user<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
    now: i64,
) -> StoreResult<UserState> {
    c.execute(
        sql::ENSURE_USER,
        args![service.as_str(), user.as_str(), now],
    )
    .await?;
    c.fetch_one(sql::USER_STATE, args![service.as_str(), user.as_str()])
        .await
}

pub(crate) async fn user<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
) -> StoreResult<Option<User>> {
    let rows: Vec<UserTokenRow> = c
        .fetch_all(
            sql::USER_WITH_TOKENS,
            args![service.as_str(), user.as_str()],
        )
        .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let state = first.user;
    Ok(Some(User {
        user_id: user.clone(),
        failures: state.failures,
        locked: state.locked,
        cooldown_until: state.cooldown_until,
        tokens: rows.into_iter().filter_map(|r| r.token).collect(),
    }))
}

pub(crate) async fn enrollment<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
) -> StoreResult<Option<Enrollment>> {
    c.fetch_optional(
        sql::UNUSED_ENROLLMENT,
        args![service.as_str(), user.as_str()],
    )
    .await
}

/// Clears the failure count of a user whose code was just accepted.
async fn clear_failures<C: Conn>(c: &mut C, service: &ServiceId, user: &UserId) -> StoreResult<()> {
    c.execute(sql::RESET_FAILURES, args![service.as_str(), user.as_str()])
        .await?;
    Ok(())
}

/// Applies a code check's decision.
pub(crate) async fn apply_judgement<C: Conn>(
    c: &mut C,
    judgement: &Judgement,
    now: i64,
) -> StoreResult<Applied> {
    let audit_event = &judgement.audit;
    match &judgement.action {
        Judged::Record => {
            audit(c, audit_event, now).await?;
            Ok(Applied::Recorded)
        }
        Judged::Accept { step, from } => {
            match c.accept_step(step, *from, audit_event, now).await? {
                Acceptance::Accepted => Ok(Applied::Accepted),
                refused => Ok(Applied::Refused(refused)),
            }
        }
        Judged::Fail { max_failures } => {
            let user = audit_event
                .user_id
                .as_ref()
                .ok_or(super::DatabaseError::Internal("a failure without a user"))?;
            let failures = c
                .record_failure(
                    &audit_event.service_id,
                    user,
                    *max_failures,
                    audit_event,
                    now,
                )
                .await?;
            Ok(Applied::Failed(failures))
        }
    }
}

pub(crate) async fn portable_record_failure<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
    max_failures: u32,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<Failures> {
    let counted: Option<Counted> = c
        .fetch_optional(
            sql::COUNT_FAILURE,
            args![
                rules::Lockout::of(max_failures).locks_at(),
                service.as_str(),
                user.as_str()
            ],
        )
        .await?;
    if let Some(counted) = counted {
        audit(c, event, now).await?;
        if counted.locked {
            audit(c, &user_locked_event(service, user, max_failures), now).await?;
        }
        return Ok(Failures {
            failures: counted.failures,
            locked: counted.locked,
            newly_locked: counted.locked,
        });
    }
    let state: UserState = c
        .fetch_optional(sql::USER_STATE, args![service.as_str(), user.as_str()])
        .await?
        .ok_or(StoreError::NotFound("user"))?;
    audit(c, &already_locked(event), now).await?;
    Ok(Failures {
        failures: state.failures,
        locked: true,
        newly_locked: false,
    })
}

/// A wrong code given to register `serial` (or as a device change's new code): counts
/// against the user, whose row is made if need be, and against the token, which locks at
/// `max_failures` too.
pub(crate) async fn record_registration_failure<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
    serial: &TokenSerial,
    max_failures: u32,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<Failures> {
    ensure_user(c, service, user, now).await?;
    let failures = c
        .record_failure(service, user, max_failures, event, now)
        .await?;
    let token: Option<Int> = c
        .fetch_optional(
            sql::COUNT_TOKEN_FAILURE,
            args![serial.as_str(), service.as_str()],
        )
        .await?;
    let newly_locked =
        |n: Int| u32::try_from(n.0).is_ok_and(|n| rules::Lockout::of(max_failures).newly_locked(n));
    if token.is_some_and(newly_locked) {
        let locked = NewAuditEvent::new(
            service,
            AuditKind::TokenLocked,
            format!("locked after {max_failures} wrong registration codes"),
        )
        .serial(serial);
        audit(c, &locked, now).await?;
    }
    Ok(failures)
}

/// Runs a change that must find its row (`NotFound(what)` otherwise), then records its
/// audit event.
async fn change_found<C: Conn>(
    c: &mut C,
    change: &'static str,
    args: &[super::conn::Arg<'_>],
    what: &'static str,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    found(c.execute(change, args).await?, what)?;
    audit(c, event, now).await
}

pub(crate) async fn unlock_user<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    let key = args![service.as_str(), user.as_str()];
    change_found(c, sql::UNLOCK_USER, key, "user", event, now).await
}

pub(crate) async fn end_cooldown<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    let key = args![None::<i64>, service.as_str(), user.as_str()];
    change_found(c, sql::SET_COOLDOWN, key, "user", event, now).await
}

// --- tokens -----------------------------------------------------------------------------

/// `token`'s columns as the fifteen arguments of [`sql::INSERT_TOKEN`].
macro_rules! token_args {
    ($t:expr $(, $extra:expr)*) => {
        args![
            $t.serial.as_str(),
            $t.service_id.as_str(),
            $t.state.as_str(),
            $t.params.algorithm.as_str(),
            i64::from($t.params.digits.get()),
            $crate::ops::secs($t.params.period.seconds())?,
            &$t.seed,
            $t.last_step,
            $t.drift,
            $t.failures,
            $t.last_used_by.as_ref().map(|u| u.as_str()),
            $t.created_at,
            $t.activated_at,
            $t.last_used_at,
            $t.expires_at
            $(, $extra)*
        ]
    };
}
pub(crate) use token_args;

pub(crate) async fn token<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    serial: &TokenSerial,
) -> StoreResult<Option<Token>> {
    c.fetch_optional(sql::TOKEN, args![serial.as_str(), service.as_str()])
        .await
}

pub(crate) async fn token_standing<C: Conn>(
    c: &mut C,
    serial: &TokenSerial,
) -> StoreResult<Option<TokenStanding>> {
    c.fetch_optional(sql::TOKEN_STANDING, args![serial.as_str()])
        .await
}

pub(crate) async fn add_provisioned_token<C: Conn>(
    c: &mut C,
    token: &Token,
    quota: u32,
) -> StoreResult<()> {
    if c.execute(sql::INSERT_PROVISIONED, token_args!(token, quota))
        .await?
        == 1
    {
        return Ok(());
    }
    let taken: Flag = c
        .fetch_one(sql::SERIAL_EXISTS, args![token.serial.as_str()])
        .await?;
    Err(if taken.0 {
        StoreError::SerialTaken
    } else {
        StoreError::ProvisioningFull { quota }
    })
}

pub(crate) async fn import_tokens<C: Conn>(
    c: &mut C,
    tokens: &[Token],
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<Vec<bool>> {
    let mut added = Vec::with_capacity(tokens.len());
    for token in tokens {
        added.push(c.execute(sql::INSERT_TOKEN, token_args!(token)).await? == 1);
    }
    let imported = added.iter().filter(|&&a| a).count();
    let event = NewAuditEvent {
        detail: format!("{}; imported {imported} of {}", event.detail, tokens.len()),
        ..event.clone()
    };
    audit(c, &event, now).await?;
    Ok(added)
}

pub(crate) async fn unlock_token<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    serial: &TokenSerial,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    let key = args![serial.as_str(), service.as_str()];
    change_found(c, sql::UNLOCK_TOKEN, key, "token", event, now).await
}

/// Why a step could not be consumed by [`sql::CONSUME_STEP`]: the user is locked, or the
/// step was used (by whom, for shared tokens).
async fn refusal<C: Conn>(c: &mut C, step: &StepUse) -> StoreResult<Acceptance> {
    let locked: Option<Flag> = c
        .fetch_optional(
            sql::USER_LOCKED,
            args![step.service_id.as_str(), step.user_id.as_str()],
        )
        .await?;
    if locked.is_some_and(|l| l.0) {
        return Ok(Acceptance::Locked);
    }
    let by: Option<Text> = c
        .fetch_optional(
            sql::LAST_USED_BY,
            args![step.serial.as_str(), step.service_id.as_str()],
        )
        .await?;
    let last_used_by = by
        .and_then(|t| t.0)
        .map(|u| UserId::new(u).map_err(super::error::corrupt))
        .transpose()?;
    Ok(Acceptance::Reused { last_used_by })
}

/// Consumes a step of a token bound to the user, in state `from`.
async fn consume_step<C: Conn>(
    c: &mut C,
    step: &StepUse,
    from: TokenState,
    now: i64,
) -> StoreResult<Acceptance> {
    let done = c
        .execute(
            sql::CONSUME_STEP,
            args![
                step.step,
                step.drift,
                now,
                step.serial.as_str(),
                step.service_id.as_str(),
                from.as_str(),
                step.user_id.as_str(),
            ],
        )
        .await?;
    if done == 0 {
        return refusal(c, step).await;
    }
    clear_failures(c, &step.service_id, &step.user_id).await?;
    Ok(Acceptance::Accepted)
}

/// A consumed step, or the refusal as an error (for operations that go on after it).
async fn consume_step_or_refuse<C: Conn>(
    c: &mut C,
    step: &StepUse,
    from: TokenState,
    now: i64,
) -> StoreResult<()> {
    match consume_step(c, step, from, now).await? {
        Acceptance::Accepted => Ok(()),
        Acceptance::Locked => Err(StoreError::Locked),
        Acceptance::Reused { .. } => Err(StoreError::Reused),
    }
}

pub(crate) async fn portable_accept_step<C: Conn>(
    c: &mut C,
    step: &StepUse,
    from: TokenState,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<Acceptance> {
    let outcome = consume_step(c, step, from, now).await?;
    if outcome == Acceptance::Accepted {
        audit(c, event, now).await?;
    }
    Ok(outcome)
}

/// Consumes a step of a token the user does not hold yet (registration, a device change's
/// new token), activating it.
async fn consume_unbound_step<C: Conn>(
    c: &mut C,
    step: &StepUse,
    state: TokenState,
    now: i64,
) -> StoreResult<()> {
    let done = c
        .execute(
            sql::CONSUME_UNBOUND_STEP,
            args![
                now,
                step.step,
                step.drift,
                step.serial.as_str(),
                step.service_id.as_str(),
                state.as_str(),
                step.user_id.as_str(),
            ],
        )
        .await?;
    if done == 0 {
        return Err(StoreError::Reused);
    }
    Ok(())
}

async fn bind<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
    serial: &TokenSerial,
    now: i64,
) -> StoreResult<()> {
    c.execute(
        sql::BIND,
        args![service.as_str(), user.as_str(), serial.as_str(), now],
    )
    .await?;
    Ok(())
}

/// Unbinds a token from a user; revokes it once no user holds it, recording `end` as how
/// it ended.
async fn unbind<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
    serial: &TokenSerial,
    end: TokenEnd,
) -> StoreResult<()> {
    c.execute(
        sql::UNBIND,
        args![service.as_str(), user.as_str(), serial.as_str()],
    )
    .await?;
    c.execute(sql::REVOKE_IF_UNHELD, args![serial.as_str(), end.as_str()])
        .await?;
    Ok(())
}

pub(crate) async fn bind_token<C: Conn>(
    c: &mut C,
    b: &Binding,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    let s = &b.step;
    let user = ensure_user(c, &s.service_id, &s.user_id, now).await?;
    if user.locked {
        return Err(StoreError::Locked);
    }
    rules::check_cooldown(user.cooldown_until, now)?;
    let token = token(c, &s.service_id, &s.serial)
        .await?
        .ok_or(StoreError::NotFound("token"))?;
    let bound: Flag = c
        .fetch_one(
            sql::IS_BOUND,
            args![s.service_id.as_str(), s.user_id.as_str(), s.serial.as_str()],
        )
        .await?;
    if bound.0 {
        return Err(StoreError::Conflict(
            "the token is already registered to this user",
        ));
    }
    rules::check_bindable(&token, b.shared_tokens, b.max_failures, now)?;
    let active: Int = c
        .fetch_one(
            sql::ACTIVE_TOKENS,
            args![s.service_id.as_str(), s.user_id.as_str()],
        )
        .await?;
    rules::check_token_limit(active.0, b.tokens_per_user)?;
    consume_unbound_step(c, s, token.state, now).await?;
    bind(c, &s.service_id, &s.user_id, &s.serial, now).await?;
    clear_failures(c, &s.service_id, &s.user_id).await?;
    audit(c, event, now).await
}

pub(crate) async fn replace_token<C: Conn>(
    c: &mut C,
    old: &StepUse,
    new: &StepUse,
    max_failures: u32,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    consume_step_or_refuse(c, old, TokenState::Active, now).await?;
    let token = token(c, &new.service_id, &new.serial)
        .await?
        .ok_or(StoreError::NotFound("token"))?;
    rules::check_replacement(&token, max_failures, now)?;
    consume_unbound_step(c, new, TokenState::Unassigned, now).await?;
    unbind(
        c,
        &old.service_id,
        &old.user_id,
        &old.serial,
        TokenEnd::Replaced,
    )
    .await?;
    bind(c, &new.service_id, &new.user_id, &new.serial, now).await?;
    audit(c, event, now).await
}

pub(crate) async fn stop_user<C: Conn>(
    c: &mut C,
    step: &StepUse,
    now: i64,
) -> StoreResult<Vec<TokenSerial>> {
    consume_step_or_refuse(c, step, TokenState::Active, now).await?;
    let event = NewAuditEvent::new(&step.service_id, AuditKind::OtpStopped, "").user(&step.user_id);
    unbind_all(c, &step.service_id, &step.user_id, event, now).await
}

/// Stops OTP for a user without a code (the help desk, on the customer's written request):
/// the same unbinding as [`stop_user`]. `NotFound` if no such user.
pub(crate) async fn stop_user_without_code<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<Vec<TokenSerial>> {
    let _: UserState = c
        .fetch_optional(sql::USER_STATE, args![service.as_str(), user.as_str()])
        .await?
        .ok_or(StoreError::NotFound("user"))?;
    unbind_all(c, service, user, event.clone(), now).await
}

/// Unbinds every token of the user (revoking those no user holds any more) and records
/// `event` with the unbound serials appended to its detail.
async fn unbind_all<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
    mut event: NewAuditEvent,
    now: i64,
) -> StoreResult<Vec<TokenSerial>> {
    let rows: Vec<Text> = c
        .fetch_all(sql::USER_SERIALS, args![service.as_str(), user.as_str()])
        .await?;
    let serials = rows
        .into_iter()
        .map(|t| stored_serial(t.0))
        .collect::<StoreResult<Vec<_>>>()?;
    for serial in &serials {
        unbind(c, service, user, serial, TokenEnd::Stopped).await?;
    }
    let list: Vec<&str> = serials.iter().map(TokenSerial::as_str).collect();
    let unbound = format!("unbound {}", list.join(", "));
    event.detail = if event.detail.is_empty() {
        unbound
    } else {
        format!("{}; {unbound}", event.detail)
    };
    audit(c, &event, now).await?;
    Ok(serials)
}

pub(crate) async fn revoke_token<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    serial: &TokenSerial,
    cooldown: RevokeCooldown,
    operator: Option<&str>,
    now: i64,
) -> StoreResult<Revocation> {
    let token = token(c, service, serial)
        .await?
        .ok_or(StoreError::NotFound("token"))?;
    let holders: Vec<TokenUser> = c
        .fetch_all(sql::TOKEN_USERS, args![serial.as_str(), service.as_str()])
        .await?;
    if token.state == TokenState::Revoked {
        // Revoked already: nothing changes, and the cool-downs are what they are.
        let users = holders
            .into_iter()
            .map(|u| (u.user_id, u.cooldown_until.unwrap_or(now)))
            .collect();
        return Ok(Revocation {
            users,
            ended_enrollments: 0,
        });
    }
    let ended_enrollments = c
        .execute(
            sql::END_ENROLLMENTS_OF_TOKEN_USERS,
            args![service.as_str(), serial.as_str()],
        )
        .await?;
    c.execute(sql::REVOKE, args![serial.as_str(), service.as_str()])
        .await?;
    let mut users = Vec::with_capacity(holders.len());
    for holder in holders {
        let until = rules::cooldown_after_revoke(holder.cooldown_until, now, cooldown);
        if Some(until) != holder.cooldown_until {
            c.execute(
                sql::SET_COOLDOWN,
                args![until, service.as_str(), holder.user_id.as_str()],
            )
            .await?;
        }
        users.push((holder.user_id, until));
    }
    let names: Vec<&str> = users.iter().map(|(u, _)| u.as_str()).collect();
    let event = NewAuditEvent::new(
        service,
        AuditKind::TokenRevoked,
        format!(
            "users: {}; enrollments ended: {ended_enrollments}",
            names.join(", ")
        ),
    )
    .serial(serial);
    let event = match operator {
        Some(name) => event.by(name),
        None => event,
    };
    audit(c, &event, now).await?;
    Ok(Revocation {
        users,
        ended_enrollments,
    })
}

// --- enrollment and activation ----------------------------------------------------------

pub(crate) async fn issue_enrollment<C: Conn>(
    c: &mut C,
    e: &NewEnrollment,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    let user = ensure_user(c, &e.service_id, &e.user_id, now).await?;
    // A locked user may be re-enrolled; the lockout stays until the bank unlocks.
    rules::check_cooldown(user.cooldown_until, now)?;
    let active: Int = c
        .fetch_one(
            sql::ACTIVE_TOKENS,
            args![e.service_id.as_str(), e.user_id.as_str()],
        )
        .await?;
    if active.0 > 0 {
        return Err(StoreError::TokenExists);
    }
    c.execute(
        sql::UPSERT_ENROLLMENT,
        args![
            e.id.as_str(),
            e.service_id.as_str(),
            e.user_id.as_str(),
            &e.w,
            now,
            e.expires_at,
        ],
    )
    .await?;
    if let Some(mail) = &e.mail {
        c.execute(
            sql::INSERT_MAIL,
            args![
                mail.id.as_str(),
                e.service_id.as_str(),
                e.user_id.as_str(),
                mail.recipient.as_str(),
                mail.subject.as_str(),
                mail.body.as_str(),
                now,
                e.expires_at,
            ],
        )
        .await?;
    }
    audit(c, event, now).await
}

pub(crate) async fn enrollment_for_start<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
    max_guesses: u32,
    now: i64,
) -> StoreResult<OpenEnrollment> {
    let e: EnrollmentForStart = c
        .fetch_optional(
            sql::ENROLLMENT_FOR_START,
            args![service.as_str(), user.as_str()],
        )
        .await?
        .ok_or(StoreError::EnrollmentNotFound)?;
    rules::check_startable(&e, max_guesses, now)?;
    Ok(OpenEnrollment { id: e.id, w: e.w })
}

pub(crate) async fn portable_begin_activation<C: Conn>(
    c: &mut C,
    session: &ActivationSession,
    max_guesses: u32,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<u32> {
    let counted: Option<Int> = c
        .fetch_optional(
            sql::COUNT_GUESS,
            args![session.enrollment_id.as_str(), now, max_guesses],
        )
        .await?;
    let Some(guesses) = counted else {
        // The enrollment changed since it was read (another guess, a revoke, a newer
        // enrollment): say how it stands now, or, if a newer one replaced it, that this one
        // is gone.
        enrollment_for_start(c, &session.service_id, &session.user_id, max_guesses, now).await?;
        return Err(StoreError::EnrollmentNotFound);
    };
    let attempts_left = u32::try_from(i64::from(max_guesses) - guesses.0).unwrap_or(0);
    c.execute(
        sql::INSERT_SESSION,
        args![
            session.id.as_str(),
            session.enrollment_id.as_str(),
            session.service_id.as_str(),
            session.user_id.as_str(),
            &session.session_key,
            attempts_left,
            session.expires_at,
        ],
    )
    .await?;
    audit(c, event, now).await?;
    Ok(attempts_left)
}

pub(crate) async fn session<C: Conn>(
    c: &mut C,
    id: &SessionId,
    now: i64,
) -> StoreResult<Option<ActivationSession>> {
    c.fetch_optional(sql::SESSION, args![id.as_str(), now])
        .await
}

pub(crate) async fn discard_session<C: Conn>(
    c: &mut C,
    id: &SessionId,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    c.execute(sql::DISCARD_SESSION, args![id.as_str()]).await?;
    audit(c, event, now).await
}

pub(crate) async fn portable_finish_activation<C: Conn>(
    c: &mut C,
    session: &SessionId,
    token: &Token,
    user: &UserId,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    let enrollment: Text = c
        .fetch_optional(sql::TAKE_SESSION, args![session.as_str(), now])
        .await?
        .ok_or(StoreError::SessionExpired)?;
    let used = c
        .execute(sql::USE_ENROLLMENT, args![now, enrollment.0.as_deref()])
        .await?;
    if used == 0 {
        return Err(StoreError::EnrollmentNotFound);
    }
    c.execute(
        sql::REVOKE_PENDING_OF_USER,
        args![token.service_id.as_str(), user.as_str()],
    )
    .await?;
    if c.execute(sql::INSERT_TOKEN, token_args!(token)).await? == 0 {
        return Err(StoreError::SerialTaken);
    }
    bind(c, &token.service_id, user, &token.serial, now).await?;
    audit(c, event, now).await
}

// --- activation e-mail ------------------------------------------------------------------

pub(crate) async fn set_service_mail<C: Conn>(c: &mut C, m: &ServiceMail) -> StoreResult<()> {
    service(c, &m.service_id)
        .await?
        .ok_or(StoreError::NotFound("service"))?;
    let part = |t: &Option<MailTemplate>| {
        (
            t.as_ref().map(|t| t.subject.clone()),
            t.as_ref().map(|t| t.body.clone()),
        )
    };
    let ((subject_ja, body_ja), (subject_en, body_en)) = (part(&m.ja), part(&m.en));
    c.execute(
        sql::UPSERT_SERVICE_MAIL,
        args![
            m.service_id.as_str(),
            m.download_url.as_str(),
            subject_ja.as_deref(),
            body_ja.as_deref(),
            subject_en.as_deref(),
            body_en.as_deref(),
            m.updated_at,
        ],
    )
    .await?;
    Ok(())
}

pub(crate) async fn service_mail<C: Conn>(
    c: &mut C,
    service: &ServiceId,
) -> StoreResult<Option<ServiceMail>> {
    c.fetch_optional(sql::SERVICE_MAIL, args![service.as_str()])
        .await
}

pub(crate) async fn user_mails<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
    limit: u32,
) -> StoreResult<Vec<MailStatus>> {
    c.fetch_all(
        sql::USER_MAILS,
        args![service.as_str(), user.as_str(), limit],
    )
    .await
}

pub(crate) async fn claim_mail<C: Conn>(
    c: &mut C,
    now: i64,
    lease_until: i64,
    limit: u32,
) -> StoreResult<Vec<OutboxMail>> {
    let mut claimed: Vec<OutboxMail> = c
        .fetch_all(sql::CLAIM_MAIL, args![lease_until, now, limit])
        .await?;
    // RETURNING keeps no order: oldest first, as they were queued.
    claimed.sort_by(|a, b| (a.created_at, a.id.as_str()).cmp(&(b.created_at, b.id.as_str())));
    Ok(claimed)
}

pub(crate) async fn finish_mail<C: Conn>(
    c: &mut C,
    id: &MailId,
    outcome: &MailOutcome,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<bool> {
    let changed = match outcome {
        MailOutcome::Sent => c.execute(sql::MAIL_SENT, args![id.as_str(), now]).await?,
        MailOutcome::Retry { at, error } => {
            c.execute(sql::MAIL_RETRY, args![id.as_str(), *at, error.as_str()])
                .await?
        }
        MailOutcome::Failed { error } => {
            c.execute(sql::MAIL_FAILED, args![id.as_str(), error.as_str()])
                .await?
        }
    };
    if changed == 0 {
        return Ok(false);
    }
    audit(c, event, now).await?;
    Ok(true)
}

// --- sealed secrets ---------------------------------------------------------------------

fn sealed_statements(kind: SealedKind) -> (&'static str, &'static str) {
    match kind {
        SealedKind::Seed => (sql::STALE_SEEDS, sql::RESEAL_SEED),
        SealedKind::W => (sql::STALE_W, sql::RESEAL_W),
        SealedKind::SessionKey => (sql::STALE_SESSION_KEYS, sql::RESEAL_SESSION_KEY),
    }
}

pub(crate) async fn stale_sealed<C: Conn>(
    c: &mut C,
    kind: SealedKind,
    header: &[u8],
    after: &str,
    limit: u32,
) -> StoreResult<Vec<SealedValue>> {
    let length = i64::try_from(header.len()).map_err(super::error::corrupt)?;
    c.fetch_all(
        sealed_statements(kind).0,
        args![length, header, after, limit],
    )
    .await
}

pub(crate) async fn replace_sealed<C: Conn>(
    c: &mut C,
    kind: SealedKind,
    values: &[Resealed],
) -> StoreResult<u64> {
    let mut replaced = 0;
    for value in values {
        replaced += c
            .execute(
                sealed_statements(kind).1,
                args![&value.new, value.id.as_str(), &value.old],
            )
            .await?;
    }
    Ok(replaced)
}

// --- transfer challenges (取引確認) -------------------------------------------------------

/// Stores a challenge and its audit event; `false` (nothing written) if the user already
/// has a challenge with the same manual question, so the caller draws another number.
pub(crate) async fn create_transaction<C: Conn>(
    c: &mut C,
    t: &super::Transaction,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<bool> {
    user(c, &t.service_id, &t.user_id)
        .await?
        .ok_or(StoreError::NotFound("user"))?;
    let inserted = c
        .execute(
            sql::INSERT_TRANSACTION,
            args![
                t.id.as_str(),
                t.service_id.as_str(),
                t.user_id.as_str(),
                t.question.as_str(),
                t.manual_question.as_deref(),
                t.masked_account.as_str(),
                t.created_at,
                t.expires_at,
            ],
        )
        .await?;
    if inserted == 0 {
        return Ok(false);
    }
    audit(c, event, now).await?;
    Ok(true)
}

pub(crate) async fn transaction<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
    id: &str,
) -> StoreResult<Option<super::Transaction>> {
    c.fetch_optional(sql::TRANSACTION, args![id, service.as_str(), user.as_str()])
        .await
}

/// The right code of a challenge: uses it once (a conditional update, so two instances
/// cannot both accept it), clears the user's failures as an accepted `verify` does, and
/// records the audit event, in one transaction. `Locked` (nothing written) if the user
/// was locked meanwhile.
pub(crate) async fn use_transaction<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
    id: &str,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<super::TransactionUse> {
    let used = c
        .execute(
            sql::USE_TRANSACTION,
            args![id, service.as_str(), user.as_str(), now],
        )
        .await?;
    if used == 0 {
        let found = transaction(c, service, user, id)
            .await?
            .ok_or(StoreError::NotFound("transaction"))?;
        return Ok(if found.used_at.is_some() {
            super::TransactionUse::AlreadyUsed
        } else {
            super::TransactionUse::Expired
        });
    }
    let reset = c
        .execute(sql::RESET_FAILURES, args![service.as_str(), user.as_str()])
        .await?;
    if reset == 0 {
        // Undoes the use: the error rolls the transaction (or the SQLite write) back.
        return Err(StoreError::Locked);
    }
    audit(c, event, now).await?;
    Ok(super::TransactionUse::Used)
}
