//! Binding tokens to users and ending them: register (`tokens`), `replace`, `stop`,
//! `revoke` and a token's `unlock`. Every call that takes a code has it judged by
//! [`softtoken_service::verification`] first; a wrong code is a 422 `invalid_otp` (counted towards the
//! user's lockout, and for a token being registered towards the token's) and a locked
//! user a 409 `locked`.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use softtoken_protocol::Problem;

use crate::AppState;
use crate::auth::ServiceAccess;
use crate::error::{ApiError, Json, Path};
use crate::routes::users::{OtpRequest, UserResponse};
use crate::routes::{TokenPath, UserPath};
use softtoken_service::actions::Actor;
use softtoken_service::otp_check::Code;
use softtoken_store::Token;
use softtoken_store::serial::TokenSerial;

pub use softtoken_service::views::{RevokeResponse, RevokedUser};

/// Register a provisioned token to a user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// The serial the app shows (spaces and hyphens allowed).
    #[schema(value_type = String, example = "SKTS1234567X")]
    pub serial: TokenSerial,
    /// The code the app shows now.
    pub otp: Code,
}

/// Device change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceRequest {
    /// A code of the user's current token.
    pub old_otp: Code,
    /// The new token's serial.
    #[schema(value_type = String)]
    pub new_serial: TokenSerial,
    /// A code of the new token.
    pub new_otp: Code,
}

/// A token and its state, as `unlock` answers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenStateResponse {
    /// The token.
    pub serial: String,
    /// `unassigned`, `pending`, `active` or `revoked`.
    pub state: String,
    /// Wrong registration codes counted against it.
    pub failures: u32,
}

/// Registers a provisioned token (or, where allowed, a shared one) to a user.
#[utoipa::path(post, path = "/v1/services/{sid}/users/{uid}/tokens", tag = "bank",
    params(UserPath),
    request_body = RegisterRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, body = UserResponse),
        (status = 404, description = "not_found (serial)", body = Problem),
        (status = 409, description = "token_exists, cooldown, locked, token_locked or conflict", body = Problem),
        (status = 422, description = "invalid_otp, or wrong_length (not counted; `digits` says how many)", body = Problem)))]
pub async fn register(
    State(state): State<AppState>,
    ServiceAccess(service): ServiceAccess,
    Path(UserPath { uid, .. }): Path<UserPath>,
    Json(request): Json<RegisterRequest>,
) -> Result<(StatusCode, Json<UserResponse>), ApiError> {
    let user = softtoken_service::actions::register(
        &state,
        &service,
        &uid,
        &request.serial,
        &request.otp,
        Actor::Bank,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Device change: old code, new serial and new code, atomically.
#[utoipa::path(post, path = "/v1/services/{sid}/users/{uid}/replace", tag = "bank",
    params(UserPath),
    request_body = ReplaceRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = UserResponse),
        (status = 404, description = "not_found (user or serial)", body = Problem),
        (status = 409, description = "locked, token_locked or conflict", body = Problem),
        (status = 422, description = "invalid_otp, or wrong_length (not counted; `digits` says how many)", body = Problem)))]
pub async fn replace(
    State(state): State<AppState>,
    ServiceAccess(service): ServiceAccess,
    Path(UserPath { uid, .. }): Path<UserPath>,
    Json(request): Json<ReplaceRequest>,
) -> Result<Json<UserResponse>, ApiError> {
    softtoken_service::actions::replace(
        &state,
        &service,
        &uid,
        &request.old_otp,
        &request.new_serial,
        &request.new_otp,
        Actor::Bank,
    )
    .await
    .map(Json)
    .map_err(ApiError)
}

/// Stops OTP for a user (利用中止): unbinds and revokes their tokens (a current code
/// required).
#[utoipa::path(post, path = "/v1/services/{sid}/users/{uid}/stop", tag = "bank",
    params(UserPath),
    request_body = OtpRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = UserResponse),
        (status = 404, description = "not_found", body = Problem),
        (status = 409, description = "locked or conflict", body = Problem),
        (status = 422, description = "invalid_otp, or wrong_length (not counted; `digits` says how many)", body = Problem)))]
pub async fn stop(
    State(state): State<AppState>,
    ServiceAccess(service): ServiceAccess,
    Path(UserPath { uid, .. }): Path<UserPath>,
    Json(request): Json<OtpRequest>,
) -> Result<Json<UserResponse>, ApiError> {
    softtoken_service::actions::stop(&state, &service, &uid, &request.otp, Actor::Bank)
        .await
        .map(Json)
        .map_err(ApiError)
}

fn path_serial(text: &str) -> Result<TokenSerial, ApiError> {
    TokenSerial::parse(text)
        .map_err(|e| ApiError::bad_request(format!("the serial in the path: {e}")))
}

/// Revokes a token (トークン失効: a lost phone), ends its users' unused enrollments and
/// starts their cool-down.
#[utoipa::path(post, path = "/v1/services/{sid}/tokens/{serial}/revoke", tag = "bank",
    params(TokenPath),
    security(("api_key" = [])),
    responses(
        (status = 200, body = RevokeResponse),
        (status = 404, description = "not_found", body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    ServiceAccess(service): ServiceAccess,
    Path(TokenPath { serial, .. }): Path<TokenPath>,
) -> Result<Json<RevokeResponse>, ApiError> {
    let serial = path_serial(&serial)?;
    softtoken_service::actions::revoke(&state, &service, &serial, Actor::Bank)
        .await
        .map(Json)
        .map_err(ApiError)
}

/// Clears a token's count of wrong registration codes, after the bank made sure the
/// customer holds it.
#[utoipa::path(post, path = "/v1/services/{sid}/tokens/{serial}/unlock", tag = "bank",
    params(TokenPath),
    security(("api_key" = [])),
    responses(
        (status = 200, body = TokenStateResponse),
        (status = 404, description = "not_found", body = Problem)))]
pub async fn unlock(
    State(state): State<AppState>,
    ServiceAccess(service): ServiceAccess,
    Path(TokenPath { serial, .. }): Path<TokenPath>,
) -> Result<Json<TokenStateResponse>, ApiError> {
    let serial = path_serial(&serial)?;
    let token =
        softtoken_service::actions::unlock_token(&state, &service, &serial, Actor::Bank).await?;
    Ok(Json(token_state(&token)))
}

fn token_state(token: &Token) -> TokenStateResponse {
    TokenStateResponse {
        serial: token.serial.as_str().to_owned(),
        state: token.state.as_str().to_owned(),
        failures: token.failures,
    }
}
