//! A user's codes and state: `verify`, `confirm`, `unlock` and `GET` (DESIGN.md §4).
//!
//! Verification outcomes are business answers (200 with `valid` and a `reason`);
//! only malformed requests are errors. Every wrong or reused code counts towards the
//! lockout; a good one resets the count.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use softtoken_protocol::{ServiceId, UserId};

use crate::serial::TokenSerial;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::BankAuth;
use crate::error::{ApiError, Json, Path};
use crate::otp_check::{CodeMatch, match_code, well_formed};
use crate::routes::{audit, rfc3339, service};
use crate::store::{NewAuditEvent, Service, StepUse, StoreError, Token, TokenState};

/// A code to check.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OtpRequest {
    /// The code the customer typed: 6 or 8 digits.
    #[schema(example = "12345678")]
    pub otp: String,
}

/// Why a code was or was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Accepted.
    Ok,
    /// Wrong code.
    Invalid,
    /// Right code, already used.
    Reused,
    /// The user is locked after too many wrong codes.
    Locked,
    /// The user's token waits for its first code (`confirm`).
    Pending,
    /// The user has no token to check against.
    NoToken,
}

/// The outcome of a verification.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VerifyResponse {
    /// Whether the code was accepted.
    pub valid: bool,
    /// Why.
    pub reason: Reason,
    /// Consecutive wrong codes now.
    pub failures: u32,
    /// Wrong codes left before the user is locked.
    pub remaining_attempts: u32,
}

/// One of the user's tokens.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenView {
    /// Serial.
    pub serial: String,
    /// `pending`, `active` or `revoked`.
    pub state: String,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it became active.
    pub activated_at: Option<String>,
    /// When a code of it was last accepted.
    pub last_used_at: Option<String>,
}

/// A user's state and tokens.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserResponse {
    /// The user.
    pub user_id: String,
    /// Locked after too many wrong codes.
    pub locked: bool,
    /// Consecutive wrong codes.
    pub failures: u32,
    /// Tokens bound to the user, newest first.
    pub tokens: Vec<TokenView>,
}

/// 400 unless `otp` is 6 to 8 digits.
pub fn check_form(otp: &str) -> Result<(), ApiError> {
    if well_formed(otp) {
        Ok(())
    } else {
        Err(ApiError::bad_request("otp must be 6 to 8 digits"))
    }
}

/// Which of `tokens` (in state `wanted`) the code belongs to, best outcome first.
pub fn find_code(
    state: &AppState,
    service: &Service,
    tokens: &[Token],
    wanted: TokenState,
    otp: &str,
    now: i64,
) -> Result<(CodeMatch, Option<TokenSerial>), ApiError> {
    let mut best = (CodeMatch::NoMatch, None);
    for token in tokens.iter().filter(|t| t.state == wanted) {
        let seed = state
            .key
            .open(&token.seed, &crate::crypto::seed_aad(token.serial.as_str()))?;
        let found = match_code(
            &seed,
            &token.params,
            otp,
            now,
            token.drift,
            service.policy.window,
            token.last_step,
        );
        match found {
            CodeMatch::Fresh { .. } => return Ok((found, Some(token.serial.clone()))),
            CodeMatch::Used => best = (found, Some(token.serial.clone())),
            CodeMatch::NoMatch => {}
        }
    }
    Ok(best)
}

/// Counts a wrong or reused code and says how it stands; `event`, if any, is recorded with
/// the count.
pub async fn fail(
    state: &AppState,
    service: &Service,
    uid: &UserId,
    reason: Reason,
    event: Option<&NewAuditEvent>,
) -> Result<VerifyResponse, ApiError> {
    let max = service.policy.max_failures;
    let f = state
        .store
        .record_failure(&service.id, uid, max, event, state.now())
        .await?;
    if f.newly_locked {
        audit(
            state,
            &service.id,
            "user_locked",
            Some(uid),
            None,
            format!("{} failures", f.failures),
        )
        .await;
    }
    Ok(VerifyResponse {
        valid: false,
        reason: if f.locked && !f.newly_locked {
            Reason::Locked
        } else {
            reason
        },
        failures: f.failures,
        remaining_attempts: max.saturating_sub(f.failures),
    })
}

/// Checks a code of a user's token in state `wanted` and, if right, consumes its step
/// (and activates a pending token).
/// A bank's `verify` or `confirm` call: the key must be the service's and the code well
/// formed, then [`check`].
async fn check_request(
    state: &AppState,
    auth: &BankAuth,
    sid: &ServiceId,
    uid: &UserId,
    otp: &str,
    wanted: TokenState,
    kind: &'static str,
) -> Result<VerifyResponse, ApiError> {
    auth.require(sid)?;
    check_form(otp)?;
    let service = service(state, sid).await?;
    check(state, &service, uid, otp, wanted, kind).await
}

/// Checks `otp` against the user's token in state `wanted` and records the outcome in the
/// audit trail as `kind`: with the write the check makes (one commit), or on its own when
/// the check writes nothing.
async fn check(
    state: &AppState,
    service: &Service,
    uid: &UserId,
    otp: &str,
    wanted: TokenState,
    kind: &'static str,
) -> Result<VerifyResponse, ApiError> {
    let (answer, serial, audited) = check_code(state, service, uid, otp, wanted, kind).await?;
    if !audited {
        audit(
            state,
            &service.id,
            kind,
            Some(uid),
            serial.as_ref(),
            reason_text(answer.reason),
        )
        .await;
    }
    Ok(answer)
}

/// [`check`] without the audit of outcomes that write nothing; the flag says whether the
/// audit event was already recorded with a write.
async fn check_code(
    state: &AppState,
    service: &Service,
    uid: &UserId,
    otp: &str,
    wanted: TokenState,
    kind: &'static str,
) -> Result<(VerifyResponse, Option<TokenSerial>, bool), ApiError> {
    let now = state.now();
    let max = service.policy.max_failures;
    let answer = |reason, failures: u32| VerifyResponse {
        valid: reason == Reason::Ok,
        reason,
        failures,
        remaining_attempts: if reason == Reason::Locked {
            0
        } else {
            max.saturating_sub(failures)
        },
    };
    let Some(user) = state.store.user(&service.id, uid).await? else {
        return Ok((answer(Reason::NoToken, 0), None, false));
    };
    if user.locked {
        return Ok((answer(Reason::Locked, user.failures), None, false));
    }
    if !user.tokens.iter().any(|t| t.state == wanted) {
        let pending = user.tokens.iter().any(|t| t.state == TokenState::Pending);
        let reason = if wanted == TokenState::Active && pending {
            Reason::Pending
        } else {
            Reason::NoToken
        };
        return Ok((answer(reason, user.failures), None, false));
    }
    let (found, serial) = find_code(state, service, &user.tokens, wanted, otp, now)?;
    let (reason, serial) = match (found, serial) {
        (CodeMatch::Fresh { step, drift }, Some(serial)) => {
            let step_use = StepUse {
                service_id: service.id.clone(),
                user_id: uid.clone(),
                serial: serial.clone(),
                step,
                drift,
            };
            let accepted = check_event(service, uid, kind, Some(serial.clone()), Reason::Ok);
            match state
                .store
                .accept_step(&step_use, wanted, now, Some(&accepted))
                .await
            {
                Ok(()) => return Ok((answer(Reason::Ok, 0), Some(serial), true)),
                Err(StoreError::Reused) => (Reason::Reused, Some(serial)),
                Err(StoreError::Locked) => {
                    return Ok((answer(Reason::Locked, user.failures), Some(serial), false));
                }
                Err(e) => return Err(e.into()),
            }
        }
        (CodeMatch::Used, serial) => (Reason::Reused, serial),
        (_, serial) => (Reason::Invalid, serial),
    };
    let failed = check_event(service, uid, kind, serial.clone(), reason);
    let answer = fail(state, service, uid, reason, Some(&failed)).await?;
    Ok((answer, serial, true))
}

/// The audit event of a check of a code of `uid` (against `serial`), with its outcome.
fn check_event(
    service: &Service,
    uid: &UserId,
    kind: &'static str,
    serial: Option<TokenSerial>,
    reason: Reason,
) -> NewAuditEvent {
    NewAuditEvent {
        service_id: service.id.clone(),
        kind,
        user_id: Some(uid.clone()),
        serial,
        detail: reason_text(reason).to_owned(),
    }
}

fn reason_text(reason: Reason) -> &'static str {
    match reason {
        Reason::Ok => "ok",
        Reason::Invalid => "invalid",
        Reason::Reused => "reused",
        Reason::Locked => "locked",
        Reason::Pending => "pending",
        Reason::NoToken => "no_token",
    }
}

/// Verifies a code of the user's active token.
#[utoipa::path(post, path = "/v1/services/{sid}/users/{uid}/verify", tag = "bank",
    params(("sid" = String, Path, description = "service ID"), ("uid" = String, Path, description = "user ID")),
    request_body = OtpRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = VerifyResponse),
        (status = 400, description = "invalid_request", body = crate::openapi::ProblemDoc),
        (status = 401, description = "unauthorized", body = crate::openapi::ProblemDoc),
        (status = 403, description = "forbidden", body = crate::openapi::ProblemDoc)))]
pub async fn verify(
    State(state): State<AppState>,
    auth: BankAuth,
    Path((sid, uid)): Path<(ServiceId, UserId)>,
    Json(request): Json<OtpRequest>,
) -> Result<Json<VerifyResponse>, ApiError> {
    let answer = check_request(
        &state,
        &auth,
        &sid,
        &uid,
        &request.otp,
        TokenState::Active,
        "verify",
    )
    .await?;
    Ok(Json(answer))
}

/// Confirms a pending token with its first code, making it active.
#[utoipa::path(post, path = "/v1/services/{sid}/users/{uid}/confirm", tag = "bank",
    params(("sid" = String, Path, description = "service ID"), ("uid" = String, Path, description = "user ID")),
    request_body = OtpRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = VerifyResponse),
        (status = 400, description = "invalid_request", body = crate::openapi::ProblemDoc),
        (status = 401, description = "unauthorized", body = crate::openapi::ProblemDoc),
        (status = 403, description = "forbidden", body = crate::openapi::ProblemDoc)))]
pub async fn confirm(
    State(state): State<AppState>,
    auth: BankAuth,
    Path((sid, uid)): Path<(ServiceId, UserId)>,
    Json(request): Json<OtpRequest>,
) -> Result<Json<VerifyResponse>, ApiError> {
    let answer = check_request(
        &state,
        &auth,
        &sid,
        &uid,
        &request.otp,
        TokenState::Pending,
        "confirm",
    )
    .await?;
    Ok(Json(answer))
}

/// Clears a user's lockout.
#[utoipa::path(post, path = "/v1/services/{sid}/users/{uid}/unlock", tag = "bank",
    params(("sid" = String, Path, description = "service ID"), ("uid" = String, Path, description = "user ID")),
    security(("api_key" = [])),
    responses(
        (status = 200, body = UserResponse),
        (status = 401, description = "unauthorized", body = crate::openapi::ProblemDoc),
        (status = 403, description = "forbidden", body = crate::openapi::ProblemDoc),
        (status = 404, description = "not_found", body = crate::openapi::ProblemDoc)))]
pub async fn unlock(
    State(state): State<AppState>,
    auth: BankAuth,
    Path((sid, uid)): Path<(ServiceId, UserId)>,
) -> Result<Json<UserResponse>, ApiError> {
    auth.require(&sid)?;
    state.store.unlock_user(&sid, &uid).await?;
    audit(&state, &sid, "user_unlocked", Some(&uid), None, "").await;
    user_view(&state, &sid, &uid).await.map(Json)
}

/// A user's state and tokens.
#[utoipa::path(get, path = "/v1/services/{sid}/users/{uid}", tag = "bank",
    params(("sid" = String, Path, description = "service ID"), ("uid" = String, Path, description = "user ID")),
    security(("api_key" = [])),
    responses(
        (status = 200, body = UserResponse),
        (status = 401, description = "unauthorized", body = crate::openapi::ProblemDoc),
        (status = 403, description = "forbidden", body = crate::openapi::ProblemDoc),
        (status = 404, description = "not_found", body = crate::openapi::ProblemDoc)))]
pub async fn show(
    State(state): State<AppState>,
    auth: BankAuth,
    Path((sid, uid)): Path<(ServiceId, UserId)>,
) -> Result<Json<UserResponse>, ApiError> {
    auth.require(&sid)?;
    user_view(&state, &sid, &uid).await.map(Json)
}

/// The user as the API shows them; 404 if unknown.
pub async fn user_view(
    state: &AppState,
    sid: &ServiceId,
    uid: &UserId,
) -> Result<UserResponse, ApiError> {
    let user = state
        .store
        .user(sid, uid)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user '{uid}' in service '{sid}'")))?;
    Ok(UserResponse {
        user_id: user.user_id.to_string(),
        locked: user.locked,
        failures: user.failures,
        tokens: user
            .tokens
            .iter()
            .map(|t| TokenView {
                serial: t.serial.as_str().to_string(),
                state: t.state.as_str().to_string(),
                created_at: rfc3339(t.created_at),
                activated_at: t.activated_at.map(rfc3339),
                last_used_at: t.last_used_at.map(rfc3339),
            })
            .collect(),
    })
}
