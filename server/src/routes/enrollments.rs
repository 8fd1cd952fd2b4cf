//! `POST /v1/services/{sid}/enrollments`: the bank issues an activation.
//!
//! The start password is stretched into `w` here (PBKDF2, as the app does) and only
//! `w`, sealed, is stored; the password itself is wiped when the request is done.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer, Serialize};
use softtoken_protocol::activation::{PasswordKey, valid_start_password};
use softtoken_protocol::{ServiceId, UserId};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use softtoken_protocol::Problem;

use std::sync::Arc;

use softtoken_protocol::problem::codes;

use crate::AppState;
use crate::audit::AuditKind;
use crate::auth::ServiceAccess;
use crate::crypto::Bound;
use crate::error::{ApiError, Json};
use crate::mail::address::EmailAddress;
use crate::mail::template::Language;
use crate::mail::{Activation, Mailer};
use crate::qr;
use crate::routes::{ServicePath, rfc3339};
use crate::store::ServiceMail;
use crate::store::{EnrollmentId, NewAuditEvent, NewEnrollment};

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
    /// on the server and the service's e-mail settings (409 `mail_not_configured`).
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
    let sid = service.id.clone();
    if !valid_start_password(&request.start_password.0) {
        return Err(ApiError::bad_request(
            "start_password must be 4 to 64 printable ASCII characters",
        ));
    }
    let ttl = request
        .ttl_seconds
        .unwrap_or(service.policy.enrollment_ttl_secs);
    if !(MIN_TTL_SECONDS..=MAX_TTL_SECONDS).contains(&ttl) {
        return Err(ApiError::bad_request(format!(
            "ttl_seconds must be {MIN_TTL_SECONDS} to {MAX_TTL_SECONDS}"
        )));
    }
    let uid = request.user_id.clone();
    // Refused before anything is derived or written: a mail that cannot go is an error
    // the bank must see now, not an enrollment the customer never hears of.
    let mail = match &request.email {
        None => None,
        Some(address) => Some((address.clone(), mail_setup(&state, &sid).await?)),
    };
    // PBKDF2 with 100,000 iterations takes tens of milliseconds: keep it off the
    // async workers.
    let (password, s, u) = (request.start_password, sid.clone(), uid.clone());
    let w = tokio::task::spawn_blocking(move || PasswordKey::derive(&password.0, &s, &u))
        .await
        .map_err(ApiError::internal)?;
    let now = state.now();
    let id = EnrollmentId::generate();
    let expires_at = now + i64::try_from(ttl * 1000).unwrap_or(i64::MAX);
    let activation_uri = qr::activation_uri(&state.public_url, &sid, &uid);
    let language = request.lang.unwrap_or_default();
    let mail = mail.map(|(address, (mailer, settings))| {
        let composed = Activation {
            service: &service,
            settings: &settings,
            user_id: uid.as_str(),
            expires_at_ms: expires_at,
            language,
        }
        .compose(&address, &activation_uri);
        (mailer, address, composed)
    });
    let mut detail = format!("expires {}", rfc3339(expires_at));
    if let Some((_, address, _)) = &mail {
        detail.push_str(&format!(
            "; e-mail ({language}) queued to {}",
            address.masked()
        ));
    }
    let issued = NewAuditEvent::new(&sid, AuditKind::EnrollmentIssued, detail).user(&uid);
    state
        .store
        .issue_enrollment(
            &NewEnrollment {
                w: state.key.seal(
                    w.expose(),
                    Bound::W {
                        enrollment: id.as_str(),
                    },
                ),
                id,
                service_id: sid.clone(),
                user_id: uid.clone(),
                expires_at,
                mail: mail.as_ref().map(|(_, _, composed)| composed.clone()),
            },
            &issued,
            now,
        )
        .await?;
    let email_queued = match &mail {
        Some((mailer, _, _)) => {
            mailer.wake();
            true
        }
        None => false,
    };
    let qr_svg = qr::svg(&activation_uri)
        .ok_or_else(|| ApiError::internal("activation URI too long for a QR code"))?;
    Ok((
        StatusCode::CREATED,
        Json(EnrollmentResponse {
            service_id: sid,
            user_id: uid,
            expires_at: rfc3339(expires_at),
            activation_uri,
            qr_svg,
            email_queued,
        }),
    ))
}

/// The mailer and the service's mail settings, or 409 `mail_not_configured` saying which
/// is missing.
async fn mail_setup(
    state: &AppState,
    sid: &ServiceId,
) -> Result<(Arc<Mailer>, ServiceMail), ApiError> {
    let not_configured =
        |detail: String| ApiError::new(StatusCode::CONFLICT, codes::MAIL_NOT_CONFIGURED, detail);
    let Some(mailer) = state.mailer.clone() else {
        return Err(not_configured(
            "email: this server sends no e-mail (it runs without --smtp-url and --mail-from); \
             leave email out, or ask the operator to configure SMTP"
                .into(),
        ));
    };
    let Some(settings) = state.store.service_mail(sid).await? else {
        return Err(not_configured(format!(
            "email: service '{sid}' has no activation e-mail set up (no download URL); the \
             operator runs `softtoken-server service mail --id {sid} --download-url URL`"
        )));
    };
    Ok((mailer, settings))
}
