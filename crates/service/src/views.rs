//! What the service answers with: the bank API's own types, which the HTTP routes serialize
//! as JSON (and document in OpenAPI) and the console renders as HTML. They are defined here,
//! below both, so that a business step can answer with them without reaching up.

use chrono::{DateTime, SecondsFormat};
use serde::{Deserialize, Deserializer, Serialize};
use softtoken_protocol::{ServiceId, UserId};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use crate::Context;
use crate::error::ServiceError;
use crate::mail::address::EmailAddress;
use crate::mail::template::Language;
use crate::policy::MAX_ACTIVATION_GUESSES;
use crate::store::{Enrollment, Service, rules};

/// Unix milliseconds as RFC 3339 UTC.
pub fn rfc3339(unix_ms: i64) -> String {
    DateTime::from_timestamp_millis(unix_ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

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

/// A user of a revoked token and their cool-down.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RevokedUser {
    /// The user.
    pub user_id: String,
    /// When the user's cool-down ends (RFC 3339): no new token before then.
    pub cooldown_until: String,
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
    /// The latest end of those cool-downs (RFC 3339).
    pub cooldown_until: String,
    /// Each user's own cool-down (a running one is not restarted unless the service says so).
    pub cooldowns: Vec<RevokedUser>,
    /// Unused enrollments of those users that the revocation ended.
    pub ended_enrollments: u64,
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

/// The user as the API shows them; 404 if unknown.
pub async fn user_view(
    ctx: &Context,
    service: &Service,
    uid: &UserId,
) -> Result<UserResponse, ServiceError> {
    let sid = &service.id;
    let user =
        ctx.store.user(sid, uid).await?.ok_or_else(|| {
            ServiceError::not_found(format!("no user '{uid}' in service '{sid}'"))
        })?;
    let enrollment = ctx.store.enrollment(sid, uid).await?;
    let now = ctx.now();
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
