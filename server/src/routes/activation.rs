//! `POST /v1/activation/start` and `/finish`: activation by start password
//! (DESIGN.md §5), the server's side of the SPAKE2 exchange in `protocol::activation`.
//!
//! Each start counts one guess against the enrollment before any crypto runs, so
//! five wrong start passwords lock it whatever the app does. The session key waits
//! for finish sealed in the database, so start and finish may hit different instances.

use axum::extract::State;
use axum::http::StatusCode;
use softtoken_protocol::activation::{
    FinishRequest, FinishResponse, PasswordKey, StartRequest, StartResponse, server_respond,
};
use softtoken_protocol::problem::codes;
use softtoken_protocol::wire::B64;
use softtoken_protocol::{IssuedToken, SessionKey};

use crate::AppState;
use crate::crypto::{random_id, seed_aad, session_aad, w_aad};
use crate::error::{ApiError, Json};
use crate::policy::{MAX_ACTIVATION_GUESSES, SESSION_TTL_MS};
use crate::routes::{audit, service};
use crate::store::{ActivationSession, NewAuditEvent, Token, TokenState};

/// Starts an activation: answers the app's SPAKE2 message.
#[utoipa::path(post, path = "/v1/activation/start", tag = "app",
    request_body = crate::openapi::StartRequestDoc,
    responses(
        (status = 200, body = crate::openapi::StartResponseDoc),
        (status = 400, description = "malformed message", body = crate::openapi::ProblemDoc),
        (status = 403, description = "enrollment_locked", body = crate::openapi::ProblemDoc),
        (status = 404, description = "unknown_service or enrollment_not_found", body = crate::openapi::ProblemDoc),
        (status = 410, description = "enrollment_expired", body = crate::openapi::ProblemDoc),
        (status = 429, description = "rate_limited", body = crate::openapi::ProblemDoc)))]
pub async fn start(
    State(state): State<AppState>,
    Json(request): Json<StartRequest>,
) -> Result<Json<StartResponse>, ApiError> {
    let now = state.now();
    let sid = &request.service_id;
    let uid = &request.user_id;
    state.user_limit.check(&format!("{sid}/{uid}"), now)?;
    service(&state, sid).await?;
    let attempt = match state
        .store
        .start_activation(sid, uid, MAX_ACTIVATION_GUESSES, now)
        .await
    {
        Ok(attempt) => attempt,
        Err(e) => {
            let err = ApiError::from(e);
            if err.code == codes::ENROLLMENT_LOCKED {
                audit(&state, sid, "activation_refused", Some(uid), None, "locked").await;
            }
            return Err(err);
        }
    };
    let w_bytes = state.key.open(&attempt.w, &w_aad(&attempt.enrollment_id))?;
    let w: [u8; 32] = w_bytes
        .as_slice()
        .try_into()
        .map_err(|_| ApiError::internal("stored w is not 32 bytes"))?;
    let w = PasswordKey::from_bytes(w);
    let (message, key) = server_respond(&w, sid, uid, &request.message.0)?;
    let attempts_left = MAX_ACTIVATION_GUESSES.saturating_sub(attempt.guesses);
    let session_id = random_id();
    let started = NewAuditEvent {
        service_id: sid.clone(),
        kind: "activation_started",
        user_id: Some(uid.clone()),
        serial: None,
        detail: format!("attempt {} of {MAX_ACTIVATION_GUESSES}", attempt.guesses),
    };
    state
        .store
        .put_session(
            &ActivationSession {
                id: session_id.clone(),
                enrollment_id: attempt.enrollment_id,
                service_id: sid.clone(),
                user_id: uid.clone(),
                session_key: state.key.seal(&key.to_bytes(), &session_aad(&session_id)),
                attempts_left,
                expires_at: now + SESSION_TTL_MS,
            },
            Some(&started),
            now,
        )
        .await?;
    Ok(Json(StartResponse {
        session_id,
        message: B64(message),
        confirmation: B64(key.server_confirmation().to_vec()),
        attempts_left,
    }))
}

/// Finishes an activation: checks the app's confirmation and issues the token as pending.
#[utoipa::path(post, path = "/v1/activation/finish", tag = "app",
    request_body = crate::openapi::FinishRequestDoc,
    responses(
        (status = 200, body = crate::openapi::FinishResponseDoc),
        (status = 400, description = "confirmation_failed (wrong start password) or malformed", body = crate::openapi::ProblemDoc),
        (status = 404, description = "enrollment_not_found (replaced or used meanwhile)", body = crate::openapi::ProblemDoc),
        (status = 409, description = "serial_taken", body = crate::openapi::ProblemDoc),
        (status = 410, description = "session_expired", body = crate::openapi::ProblemDoc)))]
pub async fn finish(
    State(state): State<AppState>,
    Json(request): Json<FinishRequest>,
) -> Result<Json<FinishResponse>, ApiError> {
    let now = state.now();
    let session = state
        .store
        .session(&request.session_id, now)
        .await?
        .ok_or(crate::store::StoreError::SessionExpired)?;
    let sid = &session.service_id;
    let uid = &session.user_id;
    let key = SessionKey::from_bytes(
        &state
            .key
            .open(&session.session_key, &session_aad(&session.id))?,
    )
    .map_err(ApiError::internal)?;
    if key.check_app_confirmation(&request.confirmation.0).is_err() {
        state.store.discard_session(&session.id).await?;
        audit(
            &state,
            sid,
            "activation_failed",
            Some(uid),
            None,
            "wrong start password",
        )
        .await;
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::CONFIRMATION_FAILED,
            format!(
                "wrong start password; {} tries left before the enrollment locks",
                session.attempts_left
            ),
        )
        .with_attempts_left(session.attempts_left));
    }
    let service = service(&state, sid).await?;
    let params = service.policy.activation_params();
    let seed = key.seed(&request.serial, params.algorithm);
    let token = Token {
        service_id: sid.clone(),
        serial: request.serial.clone().into(),
        state: TokenState::Pending,
        params,
        seed: state.key.seal(&seed, &seed_aad(request.serial.as_str())),
        last_step: -1,
        drift: 0,
        created_at: now,
        activated_at: None,
        last_used_at: None,
        expires_at: None,
    };
    let finished = NewAuditEvent {
        service_id: sid.clone(),
        kind: "activation_finished",
        user_id: Some(uid.clone()),
        serial: Some(request.serial.clone().into()),
        detail: "token pending confirmation".into(),
    };
    state
        .store
        .finish_activation(&session.id, &token, uid, now, Some(&finished))
        .await?;
    let issued = IssuedToken {
        issuer: service.name,
        params,
        server_unix_ms: now,
    };
    let mac = key.token_mac(&request.serial, &issued);
    Ok(Json(FinishResponse {
        token: issued,
        mac: B64(mac.to_vec()),
    }))
}
