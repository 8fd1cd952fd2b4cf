//! `POST /v1/services/{sid}/enrollments`: the bank issues an activation.
//!
//! The start password is stretched into `w` here (PBKDF2, as the app does) and only
//! `w`, sealed, is stored; the password itself is wiped when the request is done.

use axum::extract::State;
use axum::http::StatusCode;

use softtoken_protocol::Problem;

use crate::AppState;
use crate::auth::ServiceAccess;
use crate::error::{ApiError, Json};
use crate::routes::ServicePath;
use softtoken_service::actions::Actor;

pub use softtoken_service::views::{EnrollmentRequest, EnrollmentResponse, StartPassword};

pub use softtoken_store::policy::{MAX_TTL_SECONDS, MIN_TTL_SECONDS};

/// Issues an activation; replaces the user's unused older one.
#[utoipa::path(post, path = "/v1/services/{sid}/enrollments", tag = "bank",
    params(ServicePath),
    request_body = EnrollmentRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, body = EnrollmentResponse),
        (status = 409, description = "token_exists, or cooldown (with retry_after), or \
            mail_not_configured (an `email` given, but this server has no SMTP or the service \
            no e-mail settings)", body = Problem)))]
pub async fn issue(
    State(state): State<AppState>,
    ServiceAccess(service): ServiceAccess,
    Json(request): Json<EnrollmentRequest>,
) -> Result<(StatusCode, Json<EnrollmentResponse>), ApiError> {
    let issued =
        softtoken_service::actions::issue_enrollment(&state, &service, request, Actor::Bank)
            .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}
