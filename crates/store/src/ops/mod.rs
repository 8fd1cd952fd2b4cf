//! Every storage operation, written once over [`Conn`]: SQLite runs these on its writer
//! thread (each inside a savepoint of a group commit) or a reader connection, PostgreSQL
//! inside a transaction (serializable where an operation reads before it decides). The
//! decisions are the pure functions of `rules.rs`; the statements are `sql.rs`'s.
//!
//! A refusal returns its `StoreError` and may leave earlier statements of the operation
//! applied: the caller's savepoint or transaction undoes them. PostgreSQL replaces four
//! hot operations with single statements of its own (`postgres.rs`); the tests hold both
//! versions to one behaviour.
//!
//! Services, the audit trail and users are here; tokens, enrollments, the mail outbox,
//! sealed secrets and transfer challenges each have their own file.

use softtoken_protocol::{ServiceId, UserId};

use super::conn::{Conn, args};
use super::model::{
    Acceptance, ActivationSession, Applied, AuditEvent, Binding, Enrollment, Failures, Judged,
    Judgement, NewAuditEvent, NewEnrollment, OpenEnrollment, Purged, RefusalDetails, Resealed,
    Revocation, RevokeCooldown, SealedKind, SealedValue, Service, SessionId, StepUse, Token,
    TokenEnd, TokenStanding, TokenState, User,
};
use super::model::{MailId, MailOutcome, MailStatus, MailTemplate, OutboxMail, ServiceMail};
use super::rows::{
    Counted, EnrollmentForStart, Flag, Int, Text, TokenUser, UserState, UserTokenRow, stored_serial,
};
use super::{StoreError, StoreResult, rules, sql};
use crate::audit::AuditKind;
use crate::serial::TokenSerial;

mod enrollment;
mod mail;
mod sealed;
mod tokens;
mod transfers;

pub(crate) use self::enrollment::*;
pub(crate) use self::mail::*;
pub(crate) use self::sealed::*;
pub(crate) use self::tokens::*;
pub(crate) use self::transfers::*;

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

/// Adds a service and records `event` with it: both or neither.
pub(crate) async fn add_service_audited<C: Conn>(
    c: &mut C,
    service: &Service,
    key_hash: &[u8; 32],
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    add_service(c, service, key_hash).await?;
    audit(c, event, now).await
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
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    let key = args![key_hash.as_slice(), id.as_str()];
    change_found(c, sql::SET_SERVICE_KEY, key, "service", event, now).await
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
        crate::audit::Detail::UserLocked { after: max },
    )
    .user(user)
}

/// The event of a checked code the caller was answered "locked" for: the user was locked
/// before the code could count.
pub(crate) fn already_locked(event: &NewAuditEvent) -> NewAuditEvent {
    event.with_detail("locked")
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
        Judged::Accept {
            step,
            from,
            refused,
        } => {
            match c
                .accept_step(step, *from, audit_event, refused, now)
                .await?
            {
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
            crate::audit::Detail::TokenLocked {
                after: max_failures,
            },
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
