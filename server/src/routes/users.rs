//! A user's codes and state: `verify`, `confirm`, `unlock`, `cooldown/end` and `GET`
//! (DESIGN.md §4).
//!
//! Verification outcomes are business answers (200 with `valid` and a `reason`), decided
//! by [`softtoken_service::verification`]; only malformed requests are errors.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use softtoken_protocol::UserId;
use utoipa::ToSchema;

use softtoken_protocol::Problem;

use crate::AppState;
use crate::auth::ServiceAccess;
use crate::error::{ApiError, Json, Path};
use crate::routes::UserPath;
use softtoken_service::actions::Actor;
use softtoken_service::otp_check::Code;
use softtoken_service::verification::{Outcome, Purpose, Verdict};
use softtoken_store::Service;

pub use softtoken_service::views::{EnrollmentView, TokenView, UserResponse, user_view};

/// A code to check.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OtpRequest {
    /// The code the customer typed: 6 to 8 digits.
    pub otp: Code,
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
    /// `confirm` of a token that is active already.
    AlreadyActive,
    /// A transfer challenge's code given after the challenge expired.
    Expired,
    /// The code has another length than the user's codes (see `digits`): not checked and
    /// not counted.
    WrongLength,
}

impl From<Outcome> for Reason {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Accepted => Reason::Ok,
            Outcome::Invalid => Reason::Invalid,
            Outcome::Reused => Reason::Reused,
            Outcome::Locked => Reason::Locked,
            Outcome::Pending => Reason::Pending,
            Outcome::NoToken => Reason::NoToken,
            Outcome::AlreadyActive => Reason::AlreadyActive,
            Outcome::Expired => Reason::Expired,
            Outcome::WrongLength { .. } => Reason::WrongLength,
        }
    }
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
    /// With `wrong_length` only: how many digits the user's codes have, for internet
    /// banking to tell the customer ("ワンタイムパスワードは8桁です").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digits: Option<u32>,
}

impl From<Verdict> for VerifyResponse {
    fn from(verdict: Verdict) -> Self {
        let digits = match verdict.outcome {
            Outcome::WrongLength { expected } => Some(expected),
            _ => None,
        };
        VerifyResponse {
            digits,
            valid: verdict.outcome == Outcome::Accepted,
            reason: verdict.outcome.into(),
            failures: verdict.failures,
            remaining_attempts: verdict.remaining_attempts,
        }
    }
}

/// Verifies a code of the user's active token.
#[utoipa::path(post, path = "/v1/services/{sid}/users/{uid}/verify", tag = "bank",
    params(UserPath),
    request_body = OtpRequest,
    security(("api_key" = [])),
    responses((status = 200, body = VerifyResponse)))]
pub async fn verify(
    State(state): State<AppState>,
    ServiceAccess(service): ServiceAccess,
    Path(UserPath { uid, .. }): Path<UserPath>,
    Json(request): Json<OtpRequest>,
) -> Result<Json<VerifyResponse>, ApiError> {
    check(&state, &service, &uid, &request.otp, Purpose::Verify).await
}

/// Confirms a pending token with its first code, making it active.
#[utoipa::path(post, path = "/v1/services/{sid}/users/{uid}/confirm", tag = "bank",
    params(UserPath),
    request_body = OtpRequest,
    security(("api_key" = [])),
    responses((status = 200, body = VerifyResponse)))]
pub async fn confirm(
    State(state): State<AppState>,
    ServiceAccess(service): ServiceAccess,
    Path(UserPath { uid, .. }): Path<UserPath>,
    Json(request): Json<OtpRequest>,
) -> Result<Json<VerifyResponse>, ApiError> {
    check(&state, &service, &uid, &request.otp, Purpose::Confirm).await
}

async fn check(
    state: &AppState,
    service: &Service,
    uid: &UserId,
    otp: &Code,
    purpose: Purpose,
) -> Result<Json<VerifyResponse>, ApiError> {
    let verdict = state
        .verification()
        .check(service, uid, otp, purpose)
        .await?;
    Ok(Json(verdict.into()))
}

/// Clears a user's lockout (利用停止解除).
#[utoipa::path(post, path = "/v1/services/{sid}/users/{uid}/unlock", tag = "bank",
    params(UserPath),
    security(("api_key" = [])),
    responses(
        (status = 200, body = UserResponse),
        (status = 404, description = "not_found", body = Problem)))]
pub async fn unlock(
    State(state): State<AppState>,
    ServiceAccess(service): ServiceAccess,
    Path(UserPath { uid, .. }): Path<UserPath>,
) -> Result<Json<UserResponse>, ApiError> {
    softtoken_service::actions::unlock_user(&state, &service, &uid, Actor::Bank)
        .await
        .map(Json)
        .map_err(ApiError)
}

/// Ends a user's revocation cool-down now, so a new token may be issued at once.
#[utoipa::path(post, path = "/v1/services/{sid}/users/{uid}/cooldown/end", tag = "bank",
    params(UserPath),
    security(("api_key" = [])),
    responses(
        (status = 200, body = UserResponse),
        (status = 404, description = "not_found", body = Problem)))]
pub async fn end_cooldown(
    State(state): State<AppState>,
    ServiceAccess(service): ServiceAccess,
    Path(UserPath { uid, .. }): Path<UserPath>,
) -> Result<Json<UserResponse>, ApiError> {
    softtoken_service::actions::end_cooldown(&state, &service, &uid, Actor::Bank)
        .await
        .map(Json)
        .map_err(ApiError)
}

/// A user's state and tokens.
#[utoipa::path(get, path = "/v1/services/{sid}/users/{uid}", tag = "bank",
    params(UserPath),
    security(("api_key" = [])),
    responses(
        (status = 200, body = UserResponse),
        (status = 404, description = "not_found", body = Problem)))]
pub async fn show(
    State(state): State<AppState>,
    ServiceAccess(service): ServiceAccess,
    Path(UserPath { uid, .. }): Path<UserPath>,
) -> Result<Json<UserResponse>, ApiError> {
    user_view(&state, &service, &uid)
        .await
        .map(Json)
        .map_err(ApiError)
}
