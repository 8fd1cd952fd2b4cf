//! Activation by start password (DESIGN.md §5), the server's side of the SPAKE2 exchange
//! in `protocol::activation`.
//!
//! A start is a guess of the start password only once the app's message has been
//! answered: a malformed message is refused before anything is counted, so nobody can
//! lock a customer's enrollment with garbage. Every counted guess is audited with the
//! client's address, in the commit that counts it. The session key waits for finish
//! sealed in the database, so start and finish may hit different instances.

use http::StatusCode;
use softtoken_protocol::activation::{
    FinishRequest, FinishResponse, PasswordKey, StartRequest, StartResponse, server_respond,
};
use softtoken_protocol::problem::codes;
use softtoken_protocol::wire::B64;
use softtoken_protocol::{IssuedToken, SessionKey};

use crate::Context;
use crate::audit::{AuditKind, Detail};
use crate::crypto::Bound;
use crate::error::ServiceError;
use crate::policy::{MAX_ACTIVATION_GUESSES, SESSION_TTL_MS};
use crate::store::{ActivationSession, NewAuditEvent, SessionId, StoreError, Token, TokenState};

/// Starts an activation: answers the app's SPAKE2 message and counts one guess of the start
/// password against the enrollment, with its `activation_started` row (naming `client`, the
/// caller's address) in the same commit. A locked enrollment is refused and audited.
pub async fn start(
    state: &Context,
    request: &StartRequest,
    client: &str,
) -> Result<StartResponse, ServiceError> {
    let now = state.now();
    let sid = &request.service_id;
    let uid = &request.user_id;
    let open = match state
        .store
        .enrollment_for_start(sid, uid, MAX_ACTIVATION_GUESSES, now)
        .await
    {
        Ok(open) => open,
        Err(StoreError::EnrollmentLocked) => {
            let refused =
                NewAuditEvent::new(sid, AuditKind::ActivationRefused, Detail::EnrollmentLocked)
                    .user(uid);
            crate::actions::record(state, refused).await;
            return Err(StoreError::EnrollmentLocked.into());
        }
        Err(e) => return Err(e.into()),
    };
    let w_bytes = state.key.open(
        &open.w,
        Bound::W {
            enrollment: open.id.as_str(),
        },
    )?;
    let w: [u8; 32] = w_bytes
        .as_slice()
        .try_into()
        .map_err(|_| ServiceError::internal("stored w is not 32 bytes"))?;
    let w = PasswordKey::from_bytes(w);
    // A message that is not a SPAKE2 element is refused here, before a guess is counted.
    let (message, key) = server_respond(&w, sid, uid, &request.message.0)?;
    let session_id = SessionId::generate();
    let session = ActivationSession {
        session_key: state.key.seal(
            &key.to_bytes(),
            Bound::Session {
                session: session_id.as_str(),
            },
        ),
        id: session_id,
        enrollment_id: open.id,
        service_id: sid.clone(),
        user_id: uid.clone(),
        attempts_left: 0,
        expires_at: now + SESSION_TTL_MS,
    };
    let started = NewAuditEvent::new(
        sid,
        AuditKind::ActivationStarted,
        Detail::ActivationStarted {
            from: client.to_string(),
        },
    )
    .user(uid);
    let attempts_left = state
        .store
        .begin_activation(&session, MAX_ACTIVATION_GUESSES, &started, now)
        .await?;
    Ok(StartResponse {
        session_id: session.id.to_string(),
        message: B64(message),
        confirmation: B64(key.server_confirmation().to_vec()),
        attempts_left,
    })
}

/// Finishes an activation: checks the app's confirmation and issues the token as pending
/// (session, enrollment, token and `activation_finished` row in one commit). A wrong
/// confirmation ends the session with its `activation_failed` row.
pub async fn finish(
    state: &Context,
    request: &FinishRequest,
) -> Result<FinishResponse, ServiceError> {
    let now = state.now();
    let session_id = SessionId::parse(&request.session_id).ok_or(StoreError::SessionExpired)?;
    let session = state
        .store
        .session(&session_id, now)
        .await?
        .ok_or(StoreError::SessionExpired)?;
    let sid = &session.service_id;
    let uid = &session.user_id;
    let key = SessionKey::from_bytes(&state.key.open(
        &session.session_key,
        Bound::Session {
            session: session.id.as_str(),
        },
    )?)
    .map_err(ServiceError::internal)?;
    if key.check_app_confirmation(&request.confirmation.0).is_err() {
        let failed =
            NewAuditEvent::new(sid, AuditKind::ActivationFailed, Detail::WrongStartPassword)
                .user(uid);
        state
            .store
            .discard_session(&session.id, &failed, now)
            .await?;
        let left = session.attempts_left;
        return Err(ServiceError::new(
            StatusCode::BAD_REQUEST,
            codes::CONFIRMATION_FAILED,
            format!(
                "wrong start password; {} before the enrollment locks",
                match left {
                    1 => "1 try left".to_owned(),
                    n => format!("{n} tries left"),
                }
            ),
        )
        .with_attempts_left(left));
    }
    let service = state
        .services
        .service(&*state.store, sid)
        .await?
        .ok_or_else(|| {
            ServiceError::new(
                StatusCode::NOT_FOUND,
                codes::UNKNOWN_SERVICE,
                format!("no service '{sid}' on this server"),
            )
        })?;
    let params = service.policy.activation_params();
    let seed = key.seed(&request.serial, params.algorithm);
    let serial = request.serial.clone().into();
    let token = Token::new(
        sid.clone(),
        serial,
        TokenState::Pending,
        params,
        state.key.seal(
            &seed,
            Bound::Seed {
                service: sid.as_str(),
                serial: request.serial.as_str(),
            },
        ),
        now,
    );
    let finished = NewAuditEvent::new(
        sid,
        AuditKind::ActivationFinished,
        Detail::PendingConfirmation,
    )
    .user(uid)
    .serial(&token.serial);
    state
        .store
        .finish_activation(&session.id, &token, uid, &finished, now)
        .await?;
    let issued = IssuedToken {
        issuer: service.name,
        params,
        server_unix_ms: now,
    };
    let mac = key.token_mac(&request.serial, &issued);
    Ok(FinishResponse {
        token: issued,
        mac: B64(mac.to_vec()),
    })
}
