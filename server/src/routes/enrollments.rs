//! `POST /v1/services/{sid}/enrollments`: the bank issues an activation.
//!
//! The start password is stretched into `w` here (PBKDF2, as the app does) and only
//! `w`, sealed, is stored; the password itself is wiped when the request is done.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer, Serialize};
use softtoken_protocol::{ServiceId, UserId};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use softtoken_protocol::Problem;

use crate::AppState;
use crate::actions::Actor;
use crate::auth::ServiceAccess;
use crate::error::{ApiError, Json};
use crate::mail::address::EmailAddress;
use crate::mail::template::Language;
use crate::routes::ServicePath;

/// Shortest enrollment lifetime a bank may ask for.
pub const MIN_TTL_SECONDS: u64 = 60;
/// Longest enrollment lifetime a bank may ask for (30 days).
pub const MAX_TTL_SECONDS: u64 = 30 * 86_400;

/// A start password: wiped on drop, never printed.
#[derive(Clone)]
pub struct StartPassword(Zeroizing<String>);

impl std::fmt::Debug for StartPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StartPassword([REDACTED])")
    }
}

impl StartPassword {
    /// Wraps a start password typed into the console or generated there.
    pub fn new(password: Zeroizing<String>) -> Self {
        StartPassword(password)
    }

    /// The password, for stretching it into `w`.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for StartPassword {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(StartPassword(Zeroizing::new(String::deserialize(d)?)))
    }
}

/// Issue an activation for a user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentRequest {
    /// The user, as internet banking knows them: 1–64 of `[A-Za-z0-9._-]`.
    #[schema(value_type = UserId, example = "alice")]
    pub user_id: UserId,
    /// The start password the customer chose: 4–64 printable ASCII characters.
    #[schema(value_type = String, format = Password, min_length = 4, max_length = 64,
        pattern = "^[ -~]{4,64}$")]
    pub start_password: StartPassword,
    /// Lifetime in seconds (60 to 30 days); the service's default when absent.
    #[schema(minimum = 60, maximum = 2_592_000)]
    pub ttl_seconds: Option<u64>,
    /// The customer's e-mail address: the activation e-mail (サービスID, ユーザID, the
    /// app's download URL and the activation link; never the start password) is queued
    /// for it in the same commit as the enrollment and sent in the background. Needs SMTP
    /// on the server and the service's e-mail settings (409 `mail_not_configured`). The
    /// local part is ASCII letters, digits and ``.!#$%&'*+-/=?^_`{|}~`` (no quotes); the
    /// domain may be international and is stored and sent in its IDNA ASCII form
    /// (`例え.jp` → `xn--r8jz45g.jp`, fullwidth letters mapped); an invisible or control
    /// character anywhere is refused (422 `invalid_request` naming `email`).
    #[schema(value_type = Option<String>, format = Email, max_length = 254,
        example = "taro@example.co.jp")]
    pub email: Option<EmailAddress>,
    /// The e-mail's language: `ja` (default) or `en`.
    pub lang: Option<Language>,
}

/// The issued activation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EnrollmentResponse {
    /// The service.
    #[schema(value_type = String)]
    pub service_id: ServiceId,
    /// The user.
    #[schema(value_type = String)]
    pub user_id: UserId,
    /// When the enrollment expires (RFC 3339).
    pub expires_at: String,
    /// `softtoken://activate?server=…&service=…&user=…`, without the start password.
    pub activation_uri: String,
    /// The activation URI as a QR code (SVG).
    pub qr_svg: String,
    /// Whether an activation e-mail was queued (only when the request gave `email`).
    pub email_queued: bool,
}

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
    let issued = crate::actions::issue_enrollment(&state, &service, request, Actor::Bank).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}
