//! A user's codes and state: `verify`, `confirm`, `unlock`, `cooldown/end` and `GET`
//! (DESIGN.md §4).
//!
//! Verification outcomes are business answers (200 with `valid` and a `reason`), decided
//! by [`crate::verification`]; only malformed requests are errors.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use softtoken_protocol::UserId;
use utoipa::ToSchema;

use softtoken_protocol::Problem;

use crate::AppState;
use crate::actions::Actor;
use crate::auth::ServiceAccess;
use crate::error::{ApiError, Json, Path};
use crate::otp_check::Code;
use crate::policy::MAX_ACTIVATION_GUESSES;
use crate::routes::{UserPath, rfc3339};
use crate::store::{Enrollment, Service, rules};
use crate::verification::{Outcome, Purpose, Verdict};

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

/// The user's unused enrollment (an activation the bank issued).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EnrollmentView {
    /// `open` (the customer may activate), `expired` or `locked` (too many wrong start
    /// passwords); either of the last two needs a new enrollment.
    pub state: String,
    /// When it was issued (RFC 3339).
    pub issued_at: String,
    /// When it expires (RFC 3339).
    pub expires_at: String,
    /// Start passwords it still takes.
    pub attempts_left: u32,
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
    /// While a revocation's cool-down runs: when it ends (RFC 3339); until then no new
    /// token may be issued to the user.
    pub cooldown_until: Option<String>,
    /// The user's unused enrollment, if any.
    pub enrollment: Option<EnrollmentView>,
    /// Tokens bound to the user, newest first.
    pub tokens: Vec<TokenView>,
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
    crate::actions::unlock_user(&state, &service, &uid, Actor::Bank)
        .await
        .map(Json)
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
    crate::actions::end_cooldown(&state, &service, &uid, Actor::Bank)
        .await
        .map(Json)
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
    user_view(&state, &service, &uid).await.map(Json)
}

/// The user as the API shows them; 404 if unknown.
pub async fn user_view(
    state: &AppState,
    service: &Service,
    uid: &UserId,
) -> Result<UserResponse, ApiError> {
    let sid = &service.id;
    let user = state
        .store
        .user(sid, uid)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user '{uid}' in service '{sid}'")))?;
    let enrollment = state.store.enrollment(sid, uid).await?;
    let now = state.now();
    Ok(UserResponse {
        user_id: user.user_id.to_string(),
        locked: user.locked,
        failures: user.failures,
        cooldown_until: rules::cooldown_left(user.cooldown_until, now)
            .and(user.cooldown_until)
            .map(rfc3339),
        enrollment: enrollment.map(|e| enrollment_view(&e, now)),
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

fn enrollment_view(e: &Enrollment, now: i64) -> EnrollmentView {
    let attempts_left = MAX_ACTIVATION_GUESSES.saturating_sub(e.guesses);
    let state = if e.expires_at <= now {
        "expired"
    } else if attempts_left == 0 {
        "locked"
    } else {
        "open"
    };
    EnrollmentView {
        state: state.into(),
        issued_at: rfc3339(e.created_at),
        expires_at: rfc3339(e.expires_at),
        attempts_left,
    }
}
