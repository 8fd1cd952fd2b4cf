//! Binding tokens to users and ending them: register (`tokens`), `replace`, `stop`
//! and `revoke`. Every call that takes a code checks it first; a wrong code is a
//! 422 `invalid_otp` and counts towards the user's lockout.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use softtoken_protocol::problem::codes;
use softtoken_protocol::{ServiceId, UserId};

use crate::serial::TokenSerial;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::BankAuth;
use crate::crypto::seed_aad;
use crate::error::{ApiError, Json, Path};
use crate::otp_check::{CodeMatch, match_code};
use crate::routes::users::{
    OtpRequest, Reason, UserResponse, check_form, fail, find_code, user_view,
};
use crate::routes::{audit, rfc3339, service};
use crate::store::{Binding, Service, StepUse, StoreError, Token, TokenState};

/// Register a provisioned token to a user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// The serial the app shows (spaces and hyphens allowed).
    #[schema(value_type = String, example = "SKTS1234567X")]
    pub serial: TokenSerial,
    /// The code the app shows now.
    pub otp: String,
}

/// Device change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceRequest {
    /// A code of the user's current token.
    pub old_otp: String,
    /// The new token's serial.
    #[schema(value_type = String)]
    pub new_serial: TokenSerial,
    /// A code of the new token.
    pub new_otp: String,
}

/// The outcome of a revocation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RevokeResponse {
    /// The token.
    pub serial: String,
    /// Always `revoked`.
    pub state: String,
    /// The users it was bound to; each is in a cool-down.
    pub users: Vec<String>,
    /// End of the cool-down (RFC 3339).
    pub cooldown_until: String,
}

/// 422 `invalid_otp` after counting the failure (or 409 `locked` if it locked the user).
async fn wrong_code(state: &AppState, service: &Service, uid: &UserId, reason: Reason) -> ApiError {
    let answer = match fail(state, service, uid, reason, None).await {
        Ok(answer) => answer,
        // No such user yet (registering a first token): nothing to count against.
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                codes::INVALID_OTP,
                "the code is wrong",
            );
        }
        Err(e) => return e,
    };
    if answer.reason == Reason::Locked {
        return StoreError::Locked.into();
    }
    let what = if reason == Reason::Reused {
        "the code was already used"
    } else {
        "the code is wrong"
    };
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        codes::INVALID_OTP,
        format!("{what}; {} tries left", answer.remaining_attempts),
    )
    .with_attempts_left(answer.remaining_attempts)
}

fn locked_or_missing(locked: bool) -> Result<(), ApiError> {
    if locked {
        Err(StoreError::Locked.into())
    } else {
        Ok(())
    }
}

/// Matches `otp` against one token that is not (yet) the user's.
fn match_token(
    state: &AppState,
    service: &Service,
    token: &Token,
    otp: &str,
) -> Result<CodeMatch, ApiError> {
    let seed = state
        .key
        .open(&token.seed, &seed_aad(token.serial.as_str()))?;
    Ok(match_code(
        &seed,
        &token.params,
        otp,
        state.now(),
        token.drift,
        service.policy.window,
        token.last_step,
    ))
}

async fn provisioned_token(
    state: &AppState,
    sid: &ServiceId,
    serial: &TokenSerial,
) -> Result<Token, ApiError> {
    state
        .store
        .token(sid, serial)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no token {serial} in service '{sid}'")))
}

/// Registers a provisioned token (or, where allowed, a shared one) to a user.
#[utoipa::path(post, path = "/v1/services/{sid}/users/{uid}/tokens", tag = "bank",
    params(("sid" = String, Path, description = "service ID"), ("uid" = String, Path, description = "user ID")),
    request_body = RegisterRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, body = UserResponse),
        (status = 400, description = "invalid_request", body = crate::openapi::ProblemDoc),
        (status = 401, description = "unauthorized", body = crate::openapi::ProblemDoc),
        (status = 403, description = "forbidden", body = crate::openapi::ProblemDoc),
        (status = 404, description = "not_found (serial)", body = crate::openapi::ProblemDoc),
        (status = 409, description = "token_exists, cooldown, locked or conflict", body = crate::openapi::ProblemDoc),
        (status = 422, description = "invalid_otp", body = crate::openapi::ProblemDoc)))]
pub async fn register(
    State(state): State<AppState>,
    auth: BankAuth,
    Path((sid, uid)): Path<(ServiceId, UserId)>,
    Json(request): Json<RegisterRequest>,
) -> Result<(StatusCode, Json<UserResponse>), ApiError> {
    auth.require(&sid)?;
    check_form(&request.otp)?;
    let service = service(&state, &sid).await?;
    if let Some(user) = state.store.user(&sid, &uid).await? {
        locked_or_missing(user.locked)?;
    }
    let token = provisioned_token(&state, &sid, &request.serial).await?;
    let (step, drift) = match match_token(&state, &service, &token, &request.otp)? {
        CodeMatch::Fresh { step, drift } => (step, drift),
        CodeMatch::Used => return Err(wrong_code(&state, &service, &uid, Reason::Reused).await),
        CodeMatch::NoMatch => {
            return Err(wrong_code(&state, &service, &uid, Reason::Invalid).await);
        }
    };
    state
        .store
        .bind_token(
            &Binding {
                step: StepUse {
                    service_id: sid.clone(),
                    user_id: uid.clone(),
                    serial: request.serial.clone(),
                    step,
                    drift,
                },
                shared_tokens: service.policy.shared_tokens,
                tokens_per_user: service.policy.tokens_per_user,
            },
            state.now(),
        )
        .await?;
    audit(
        &state,
        &sid,
        "token_registered",
        Some(&uid),
        Some(&request.serial),
        "active",
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(user_view(&state, &sid, &uid).await?),
    ))
}

/// The user's active token the code belongs to, or the error to answer.
async fn users_code(
    state: &AppState,
    service: &Service,
    uid: &UserId,
    otp: &str,
) -> Result<StepUse, ApiError> {
    let user = state.store.user(&service.id, uid).await?.ok_or_else(|| {
        ApiError::not_found(format!("no user '{uid}' in service '{}'", service.id))
    })?;
    locked_or_missing(user.locked)?;
    if !user.tokens.iter().any(|t| t.state == TokenState::Active) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            codes::CONFLICT,
            "the user has no active token",
        ));
    }
    match find_code(
        state,
        service,
        &user.tokens,
        TokenState::Active,
        otp,
        state.now(),
    )? {
        (CodeMatch::Fresh { step, drift }, Some(serial)) => Ok(StepUse {
            service_id: service.id.clone(),
            user_id: uid.clone(),
            serial,
            step,
            drift,
        }),
        (CodeMatch::Used, _) => Err(wrong_code(state, service, uid, Reason::Reused).await),
        _ => Err(wrong_code(state, service, uid, Reason::Invalid).await),
    }
}

/// Device change: old code, new serial and new code, atomically.
#[utoipa::path(post, path = "/v1/services/{sid}/users/{uid}/replace", tag = "bank",
    params(("sid" = String, Path, description = "service ID"), ("uid" = String, Path, description = "user ID")),
    request_body = ReplaceRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = UserResponse),
        (status = 400, description = "invalid_request", body = crate::openapi::ProblemDoc),
        (status = 401, description = "unauthorized", body = crate::openapi::ProblemDoc),
        (status = 403, description = "forbidden", body = crate::openapi::ProblemDoc),
        (status = 404, description = "not_found (user or serial)", body = crate::openapi::ProblemDoc),
        (status = 409, description = "locked or conflict", body = crate::openapi::ProblemDoc),
        (status = 422, description = "invalid_otp", body = crate::openapi::ProblemDoc)))]
pub async fn replace(
    State(state): State<AppState>,
    auth: BankAuth,
    Path((sid, uid)): Path<(ServiceId, UserId)>,
    Json(request): Json<ReplaceRequest>,
) -> Result<Json<UserResponse>, ApiError> {
    auth.require(&sid)?;
    check_form(&request.old_otp)?;
    check_form(&request.new_otp)?;
    let service = service(&state, &sid).await?;
    let old = users_code(&state, &service, &uid, &request.old_otp).await?;
    let token = provisioned_token(&state, &sid, &request.new_serial).await?;
    if token.state != TokenState::Unassigned {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            codes::CONFLICT,
            "the new token must be a provisioned token not yet registered",
        ));
    }
    let new = match match_token(&state, &service, &token, &request.new_otp)? {
        CodeMatch::Fresh { step, drift } => StepUse {
            service_id: sid.clone(),
            user_id: uid.clone(),
            serial: request.new_serial.clone(),
            step,
            drift,
        },
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                codes::INVALID_OTP,
                "the new token's code is wrong",
            ));
        }
    };
    state.store.replace_token(&old, &new, state.now()).await?;
    audit(
        &state,
        &sid,
        "token_replaced",
        Some(&uid),
        Some(&new.serial),
        format!("replaces {}", old.serial),
    )
    .await;
    user_view(&state, &sid, &uid).await.map(Json)
}

/// Stops OTP for a user: unbinds and revokes their tokens (a current code required).
#[utoipa::path(post, path = "/v1/services/{sid}/users/{uid}/stop", tag = "bank",
    params(("sid" = String, Path, description = "service ID"), ("uid" = String, Path, description = "user ID")),
    request_body = OtpRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = UserResponse),
        (status = 400, description = "invalid_request", body = crate::openapi::ProblemDoc),
        (status = 401, description = "unauthorized", body = crate::openapi::ProblemDoc),
        (status = 403, description = "forbidden", body = crate::openapi::ProblemDoc),
        (status = 404, description = "not_found", body = crate::openapi::ProblemDoc),
        (status = 409, description = "locked or conflict", body = crate::openapi::ProblemDoc),
        (status = 422, description = "invalid_otp", body = crate::openapi::ProblemDoc)))]
pub async fn stop(
    State(state): State<AppState>,
    auth: BankAuth,
    Path((sid, uid)): Path<(ServiceId, UserId)>,
    Json(request): Json<OtpRequest>,
) -> Result<Json<UserResponse>, ApiError> {
    auth.require(&sid)?;
    check_form(&request.otp)?;
    let service = service(&state, &sid).await?;
    let step = users_code(&state, &service, &uid, &request.otp).await?;
    let serials = state.store.stop_user(&step, state.now()).await?;
    let list: Vec<&str> = serials.iter().map(TokenSerial::as_str).collect();
    audit(
        &state,
        &sid,
        "otp_stopped",
        Some(&uid),
        None,
        format!("unbound {}", list.join(", ")),
    )
    .await;
    user_view(&state, &sid, &uid).await.map(Json)
}

/// Revokes a token (lost phone) and starts the cool-down for its users.
#[utoipa::path(post, path = "/v1/services/{sid}/tokens/{serial}/revoke", tag = "bank",
    params(("sid" = String, Path, description = "service ID"), ("serial" = String, Path, description = "token serial")),
    security(("api_key" = [])),
    responses(
        (status = 200, body = RevokeResponse),
        (status = 400, description = "invalid_request (serial)", body = crate::openapi::ProblemDoc),
        (status = 401, description = "unauthorized", body = crate::openapi::ProblemDoc),
        (status = 403, description = "forbidden", body = crate::openapi::ProblemDoc),
        (status = 404, description = "not_found", body = crate::openapi::ProblemDoc)))]
pub async fn revoke(
    State(state): State<AppState>,
    auth: BankAuth,
    Path((sid, serial)): Path<(ServiceId, String)>,
) -> Result<Json<RevokeResponse>, ApiError> {
    auth.require(&sid)?;
    let serial = TokenSerial::parse(&serial).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let service = service(&state, &sid).await?;
    let cooldown_ms =
        i64::try_from(service.policy.cooldown_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let until = state.now().saturating_add(cooldown_ms);
    let users = state.store.revoke_token(&sid, &serial, until).await?;
    let users: Vec<String> = users.iter().map(UserId::to_string).collect();
    audit(
        &state,
        &sid,
        "token_revoked",
        None,
        Some(&serial),
        format!("users: {}", users.join(", ")),
    )
    .await;
    Ok(Json(RevokeResponse {
        serial: serial.as_str().to_string(),
        state: TokenState::Revoked.as_str().to_string(),
        users,
        cooldown_until: rfc3339(until),
    }))
}
