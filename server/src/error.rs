//! Every error the HTTP API returns, built in one place as an RFC 9457 problem
//! document, and the `Json`/`Path` extractors that turn malformed input into one.
//!
//! Server-side failures (database, corrupt rows) are logged with their detail
//! and answered with a bare 500 `internal` problem: no detail leaks out.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use softtoken_protocol::problem::{CONTENT_TYPE, codes};
use softtoken_protocol::{Problem, ProtocolError};

use crate::crypto::CryptoError;
use crate::store::StoreError;

/// An error answer: a status, a stable code and a detail for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
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
}

impl ApiError {
    /// An error with `status`, `code` and `detail`.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            detail: detail.into(),
            retry_after: None,
            attempts_left: None,
        }
    }

    /// 400 `invalid_request`.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, codes::INVALID_REQUEST, detail)
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

    fn title(&self) -> &'static str {
        self.status.canonical_reason().unwrap_or("Error")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem {
            kind: format!("https://softtoken.dev/problems/{}", self.code),
            title: self.title().to_string(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_string(),
            retry_after: self.retry_after,
            attempts_left: self.attempts_left,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::new(
                status,
                codes::PAYLOAD_TOO_LARGE,
                "the request body is larger than this route accepts (16 KiB; 8 MiB for a token import)",
            );
        }
        // axum already tells 400 (syntax), 415 (content type) and 422 (types, unknown
        // fields, invalid IDs) apart; keep its status and wording, in our document.
        let status = if status.is_client_error() {
            status
        } else {
            StatusCode::BAD_REQUEST
        };
        ApiError::new(status, codes::INVALID_REQUEST, rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::bad_request(rejection.body_text())
    }
}

impl From<CryptoError> for ApiError {
    fn from(e: CryptoError) -> Self {
        ApiError::internal(e)
    }
}

impl From<ProtocolError> for ApiError {
    fn from(e: ProtocolError) -> Self {
        match e {
            ProtocolError::ConfirmationMismatch => ApiError::new(
                StatusCode::BAD_REQUEST,
                codes::CONFIRMATION_FAILED,
                "the key confirmation does not match: wrong start password",
            ),
            other => ApiError::bad_request(other.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        use StatusCode as S;
        match e {
            StoreError::NotFound(what) => ApiError::not_found(format!("no such {what}")),
            StoreError::ServiceExists => {
                ApiError::new(S::CONFLICT, codes::CONFLICT, "the service already exists")
            }
            StoreError::EnrollmentNotFound => ApiError::new(
                S::NOT_FOUND,
                codes::ENROLLMENT_NOT_FOUND,
                "no usable enrollment for this service and user: ask the bank to issue one",
            ),
            StoreError::EnrollmentExpired => ApiError::new(
                S::GONE,
                codes::ENROLLMENT_EXPIRED,
                "the enrollment has expired: ask the bank to issue a new one",
            ),
            StoreError::EnrollmentLocked => ApiError::new(
                S::FORBIDDEN,
                codes::ENROLLMENT_LOCKED,
                "too many wrong start passwords: ask the bank to issue a new enrollment",
            )
            .with_attempts_left(0),
            StoreError::SessionExpired => ApiError::new(
                S::GONE,
                codes::SESSION_EXPIRED,
                "the activation session is unknown or expired: start again",
            ),
            StoreError::SerialTaken => ApiError::new(
                S::CONFLICT,
                codes::SERIAL_TAKEN,
                "the serial is already in use: generate another",
            ),
            StoreError::TokenExists => ApiError::new(
                S::CONFLICT,
                codes::TOKEN_EXISTS,
                "the user already has as many usable tokens as the service allows",
            ),
            StoreError::Cooldown { retry_after } => ApiError::new(
                S::CONFLICT,
                codes::COOLDOWN,
                format!(
                    "a token of this user was revoked; a new one may be issued in {retry_after} s"
                ),
            )
            .with_retry_after(retry_after),
            StoreError::Locked => ApiError::new(
                S::CONFLICT,
                codes::LOCKED,
                "the user is locked after too many wrong codes: the bank must unlock",
            )
            .with_attempts_left(0),
            StoreError::Reused => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                codes::INVALID_OTP,
                "the code was already used",
            ),
            StoreError::Conflict(what) => ApiError::new(S::CONFLICT, codes::CONFLICT, what),
            StoreError::Corrupt(_) | StoreError::Database(_) => ApiError::internal(e),
        }
    }
}

/// `axum::Json`, but malformed bodies get our problem document.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Path`, but invalid IDs get our problem document.
#[derive(Debug, Clone, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// `axum::extract::Query`, but bad query strings get our problem document.
#[derive(Debug, Clone, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::bad_request(rejection.body_text())
    }
}
