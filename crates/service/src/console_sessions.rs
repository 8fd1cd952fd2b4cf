//! Console sign-in and its sessions: a refused sign-in counted towards the operator's
//! back-off, a session begun, moved on or ended, each written with its audit row in the
//! same commit. The console's pages decide what to show; the writes and the rows that
//! record them are made here, from the operator who acts.

use softtoken_protocol::ServiceId;

use crate::Context;
use crate::actions::operator_home;
use crate::audit::{AuditKind, Detail, SignInFailure, SignInStep};
use crate::error::ServiceError;
use crate::store::console::{
    ConsoleSession, Operator, OperatorFailure, SessionLimits, SessionStage,
};
use crate::store::{NewAuditEvent, StoreResult};

/// Why a session ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The operator signed out.
    SignedOut,
    /// The operator was locked while enrolling their own token.
    LockedWhileEnrolling,
}

/// The operator who signs in as `name`, if any.
pub async fn operator_named(state: &Context, name: &str) -> StoreResult<Option<Operator>> {
    state.store.operator_named(name).await
}

/// A refused sign-in that counts towards the back-off after `max_failures`: its
/// `console_sign_in_failed` row (under the operator's service, or the console's for an
/// unknown name) in the same commit as the count. What the count now is.
pub async fn count_failure(
    state: &Context,
    operator: Option<&Operator>,
    max_failures: u32,
    why: SignInFailure,
) -> Result<OperatorFailure, ServiceError> {
    let event = failure_event(operator, why)?;
    Ok(state
        .store
        .operator_failure(operator.map(|o| o.id), max_failures, &event, state.now())
        .await?)
}

/// A refused sign-in that counts nothing (the password was right, but the operator is
/// disabled or locked): its row is its only write.
pub async fn refuse(
    state: &Context,
    operator: &Operator,
    why: SignInFailure,
) -> Result<(), ServiceError> {
    let event = failure_event(Some(operator), why)?;
    crate::actions::record(state, event).await;
    Ok(())
}

/// Begins a session of `operator` at `stage`, stored by the hash of its ID, with its
/// `console_sign_in` row saying how far sign-in got.
pub async fn begin(
    state: &Context,
    id_hash: &[u8; 32],
    operator: &Operator,
    stage: SessionStage,
    step: SignInStep,
) -> Result<(), ServiceError> {
    let event = signed_in(operator, step)?;
    Ok(state
        .store
        .begin_console_session(
            id_hash,
            operator.id,
            stage,
            operator.service_id.as_ref(),
            &event,
            state.now(),
        )
        .await?)
}

/// The operator's own token confirmed: the session becomes a full one, with its
/// `console_sign_in` row.
pub async fn confirm_own_token(
    state: &Context,
    id_hash: &[u8; 32],
    operator: &Operator,
) -> Result<(), ServiceError> {
    let event = signed_in(operator, SignInStep::OwnTokenConfirmed)?;
    Ok(state
        .store
        .update_console_session(
            id_hash,
            SessionStage::Full,
            operator.service_id.as_ref(),
            Some(&event),
            state.now(),
        )
        .await?)
}

/// A superuser works on `service` from now on. Recorded by no row: picking what to look
/// at changes nothing.
pub async fn pick_service(
    state: &Context,
    id_hash: &[u8; 32],
    service: &ServiceId,
) -> Result<(), ServiceError> {
    Ok(state
        .store
        .update_console_session(
            id_hash,
            SessionStage::Full,
            Some(service),
            None,
            state.now(),
        )
        .await?)
}

/// Ends the session, with its `console_sign_out` row if it was live.
pub async fn end(
    state: &Context,
    id_hash: &[u8; 32],
    operator: &Operator,
    why: Ending,
) -> Result<(), ServiceError> {
    let home = operator_home(operator.service_id.as_ref())?;
    let event = match why {
        Ending::SignedOut => NewAuditEvent::new(&home, AuditKind::ConsoleSignOut, ""),
        Ending::LockedWhileEnrolling => NewAuditEvent::new(
            &home,
            AuditKind::ConsoleSignOut,
            Detail::LockedWhileEnrolling,
        ),
    }
    .by(&operator.name);
    Ok(state
        .store
        .end_console_session(id_hash, &event, state.now())
        .await?)
}

/// The live session of that ID hash within `limits`, marked as seen now.
pub async fn live(
    state: &Context,
    id_hash: &[u8; 32],
    limits: SessionLimits,
) -> StoreResult<Option<ConsoleSession>> {
    state
        .store
        .console_session(id_hash, limits, state.now())
        .await
}

/// Deletes the sessions past `limits` (they are refused already; this keeps the table
/// small). How many.
pub async fn purge(state: &Context, limits: SessionLimits) -> StoreResult<u64> {
    state
        .store
        .purge_console_sessions(limits, state.now())
        .await
}

/// A refused sign-in's row: under the operator's service (the console's for a superuser
/// or an unknown name), naming the operator if known.
fn failure_event(
    operator: Option<&Operator>,
    why: SignInFailure,
) -> Result<NewAuditEvent, ServiceError> {
    let detail = Detail::SignInFailed { failure: why };
    Ok(match operator {
        Some(o) => {
            let home = operator_home(o.service_id.as_ref())?;
            NewAuditEvent::new(&home, AuditKind::ConsoleSignInFailed, detail).by(&o.name)
        }
        None => NewAuditEvent::new(
            &operator_home(None)?,
            AuditKind::ConsoleSignInFailed,
            detail,
        ),
    })
}

/// A (begun) sign-in's row.
fn signed_in(operator: &Operator, step: SignInStep) -> Result<NewAuditEvent, ServiceError> {
    let home = operator_home(operator.service_id.as_ref())?;
    Ok(
        NewAuditEvent::new(&home, AuditKind::ConsoleSignIn, Detail::SignIn { step })
            .by(&operator.name),
    )
}
