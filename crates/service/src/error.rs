//! Every refusal a business step can give, once, as what a caller needs to answer it: a
//! status, a stable problem code and a detail for people. The server turns it into an RFC
//! 9457 problem document (its `ApiError`), the console into a page: nothing here knows how
//! an HTTP answer is made.
//!
//! Server-side failures (database, corrupt rows) are logged with their detail and become a
//! bare 500 `internal`: no detail leaks out.

use http::StatusCode;
use softtoken_protocol::ProtocolError;
use softtoken_protocol::problem::codes;

use crate::crypto::CryptoError;
use crate::store::{StepUse, StoreError};
use crate::verification::{Outcome, Proof, Verdict, VerifyError};

/// An error answer: a status, a stable code and a detail for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code (one of `protocol::problem::codes`).
    pub code: &'static str,
    /// What went wrong, for people.
    pub detail: String,
    /// Seconds to wait (429, cool-downs).
    pub retry_after: Option<u64>,
    /// Tries left before a lockout.
    pub attempts_left: Option<u32>,
    /// The digits a code must have (`wrong_length`).
    pub digits: Option<u32>,
}

impl ServiceError {
    /// An error with `status`, `code` and `detail`.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ServiceError {
            status,
            code,
            detail: detail.into(),
            retry_after: None,
            attempts_left: None,
            digits: None,
        }
    }

    /// 400 `invalid_request`.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, codes::INVALID_REQUEST, detail)
    }

    /// 422 `invalid_request`: well-formed JSON with a field that is wrong.
    pub fn invalid_field(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            codes::INVALID_REQUEST,
            detail,
        )
    }

    /// 404 `not_found`.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, codes::NOT_FOUND, detail)
    }

    /// 500 `internal`: logs `cause`, answers without it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL,
            "the server failed to handle the request; the operator can find the cause in its log",
        )
    }

    /// 503 `unavailable`: the database is out of reach or out of space for now; nothing
    /// was written, and the same request may be sent again after `Retry-After`.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::UNAVAILABLE,
            "the database is unavailable for the moment; nothing was changed: try again shortly",
        )
        .with_retry_after(UNAVAILABLE_RETRY_AFTER_SECS)
    }

    /// Adds the seconds to wait before retrying.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Adds the tries left before a lockout.
    pub fn with_attempts_left(mut self, attempts: u32) -> Self {
        self.attempts_left = Some(attempts);
        self
    }

    /// Adds the digits a code must have.
    pub fn with_digits(mut self, digits: u32) -> Self {
        self.digits = Some(digits);
        self
    }

    /// The status's reason phrase, the problem document's title.
    pub fn title(&self) -> &'static str {
        self.status.canonical_reason().unwrap_or("Error")
    }
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl From<CryptoError> for ServiceError {
    fn from(e: CryptoError) -> Self {
        ServiceError::internal(e)
    }
}

impl From<VerifyError> for ServiceError {
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::Store(e) => e.into(),
            VerifyError::Crypto(e) => e.into(),
        }
    }
}

impl From<ProtocolError> for ServiceError {
    fn from(e: ProtocolError) -> Self {
        match e {
            ProtocolError::ConfirmationMismatch => ServiceError::new(
                StatusCode::BAD_REQUEST,
                codes::CONFIRMATION_FAILED,
                "the key confirmation does not match: wrong start password",
            ),
            other => ServiceError::bad_request(other.to_string()),
        }
    }
}

/// What a 503 for an unavailable database asks the caller to wait: long enough for a
/// PostgreSQL restart or failover to be noticed, short enough for a customer at the screen.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        use StatusCode as S;
        match e {
            StoreError::NotFound(what) => ServiceError::not_found(format!("no such {what}")),
            StoreError::ServiceExists => {
                ServiceError::new(S::CONFLICT, codes::CONFLICT, "the service already exists")
            }
            StoreError::EnrollmentNotFound => ServiceError::new(
                S::NOT_FOUND,
                codes::ENROLLMENT_NOT_FOUND,
                "no open enrollment for this service and user: ask the bank to issue one",
            ),
            StoreError::EnrollmentExpired => ServiceError::new(
                S::GONE,
                codes::ENROLLMENT_EXPIRED,
                "the enrollment has expired: ask the bank to issue a new one",
            ),
            StoreError::EnrollmentLocked => ServiceError::new(
                S::FORBIDDEN,
                codes::ENROLLMENT_LOCKED,
                "too many wrong start passwords: ask the bank to issue a new enrollment",
            )
            .with_attempts_left(0),
            StoreError::SessionExpired => ServiceError::new(
                S::GONE,
                codes::SESSION_EXPIRED,
                "the activation session is unknown or expired: start again",
            ),
            StoreError::SerialTaken => ServiceError::new(
                S::CONFLICT,
                codes::SERIAL_TAKEN,
                "the serial is already in use: generate another",
            ),
            StoreError::ProvisioningFull { quota } => ServiceError::new(
                S::SERVICE_UNAVAILABLE,
                codes::PROVISIONING_FULL,
                format!(
                    "this bank has {quota} tokens waiting for registration, as many as it \
                     allows: register or let expire some first"
                ),
            ),
            StoreError::TokenExists => ServiceError::new(
                S::CONFLICT,
                codes::TOKEN_EXISTS,
                "the user already has as many usable tokens as the service allows",
            ),
            StoreError::Cooldown { retry_after } => ServiceError::new(
                S::CONFLICT,
                codes::COOLDOWN,
                format!(
                    "a token of this user was revoked; a new one may be issued in {retry_after} s"
                ),
            )
            .with_retry_after(retry_after),
            StoreError::Locked => ServiceError::new(
                S::CONFLICT,
                codes::LOCKED,
                "the user is locked after too many wrong codes: the bank must unlock",
            )
            .with_attempts_left(0),
            StoreError::TokenLocked => ServiceError::new(
                S::CONFLICT,
                codes::TOKEN_LOCKED,
                "too many wrong codes were given for this token: the bank must unlock it",
            )
            .with_attempts_left(0),
            StoreError::Reused => ServiceError::new(
                S::UNPROCESSABLE_ENTITY,
                codes::INVALID_OTP,
                "the code was already used",
            ),
            StoreError::Conflict(what) => ServiceError::new(S::CONFLICT, codes::CONFLICT, what),
            // Shutting down: the request may be retried against another instance.
            StoreError::Database(db) if db.is_shutting_down() => ServiceError::new(
                S::SERVICE_UNAVAILABLE,
                codes::UNAVAILABLE,
                "the server is shutting down; try again",
            ),
            StoreError::Database(db) if db.is_unavailable() => {
                // The cause goes to the log (it may name hosts and files), not to the caller.
                tracing::warn!(error = %db, "the database is unavailable");
                crate::metrics::database_unavailable();
                ServiceError::unavailable()
            }
            StoreError::Corrupt(_) | StoreError::Database(_) => ServiceError::internal(e),
        }
    }
}

/// The error a refused proof is answered with: 422 `invalid_otp` with the tries left, or
/// 409 `locked`.
fn refused(verdict: &Verdict, which: &str) -> ServiceError {
    if verdict.outcome == Outcome::Locked {
        return StoreError::Locked.into();
    }
    if let Outcome::WrongLength { expected } = verdict.outcome {
        return wrong_length(expected, verdict.remaining_attempts, which);
    }
    let what = if verdict.outcome == Outcome::Reused {
        "was already used"
    } else {
        "is wrong"
    };
    ServiceError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        codes::INVALID_OTP,
        format!("{which} {what}; {}", tries_left(verdict.remaining_attempts)),
    )
    .with_attempts_left(verdict.remaining_attempts)
}

/// 422 `wrong_length`: `which` has another length than the token's codes; not counted.
fn wrong_length(expected: u32, remaining: u32, which: &str) -> ServiceError {
    ServiceError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        codes::WRONG_LENGTH,
        format!(
            "otp: {which} must have {expected} digits, as this token's codes do; \
             not counted as a wrong code, {}",
            tries_left(remaining)
        ),
    )
    .with_attempts_left(remaining)
    .with_digits(expected)
}

fn tries_left(n: u32) -> String {
    match n {
        0 => "no tries left: the user is locked until the bank unlocks".into(),
        1 => "1 try left".into(),
        n => format!("{n} tries left"),
    }
}

/// The step a proof gives, or the answer to its refusal.
pub fn fresh(proof: Proof, which: &str) -> Result<StepUse, ServiceError> {
    match proof {
        Proof::Fresh(step) => Ok(step),
        Proof::Refused(verdict) => Err(refused(&verdict, which)),
    }
}
