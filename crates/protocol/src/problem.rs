//! RFC 9457 problem documents: every error the server returns, and what the app reads.
//!
//! The `code` is the stable, machine-readable part; `title` and `detail` are for people.
//! Codes are constants here so the server that sends them and the app that acts on
//! them cannot disagree.

use serde::{Deserialize, Serialize};

/// The media type of a problem document.
pub const CONTENT_TYPE: &str = "application/problem+json";

/// An RFC 9457 problem document with softtoken's extension members.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// A URI naming the problem type (`https://softtoken.dev/problems/<code>` style).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short, human-readable summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong this time, for people.
    pub detail: String,
    /// The stable machine-readable code (one of [`codes`]).
    pub code: String,
    /// Seconds to wait before trying again (429, cool-downs, back-off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Tries left before a lockout (wrong start password, wrong codes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
    /// With `wrong_length`: how many digits the codes have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digits: Option<u32>,
}

/// Stable problem codes.
pub mod codes {
    /// The request body or path was malformed (bad JSON, wrong types, unknown fields, bad IDs).
    pub const INVALID_REQUEST: &str = "invalid_request";
    /// The request body is larger than the route allows.
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    /// The request body is not `application/json`.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    /// The endpoint does not take this HTTP method.
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// The client took too long to send its request.
    pub const REQUEST_TIMEOUT: &str = "request_timeout";
    /// The server took too long to answer, or is shutting down: try again.
    pub const UNAVAILABLE: &str = "unavailable";
    /// Missing or invalid API key.
    pub const UNAUTHORIZED: &str = "unauthorized";
    /// A valid API key for another service.
    pub const FORBIDDEN: &str = "forbidden";
    /// Too many requests: see `retry_after`.
    pub const RATE_LIMITED: &str = "rate_limited";
    /// No such service.
    pub const UNKNOWN_SERVICE: &str = "unknown_service";
    /// No such user, or no such token.
    pub const NOT_FOUND: &str = "not_found";
    /// No usable enrollment for this service and user (never issued, used, or replaced).
    pub const ENROLLMENT_NOT_FOUND: &str = "enrollment_not_found";
    /// The enrollment has expired: the bank must issue a new one.
    pub const ENROLLMENT_EXPIRED: &str = "enrollment_expired";
    /// Too many wrong start passwords: the bank must issue a new enrollment.
    pub const ENROLLMENT_LOCKED: &str = "enrollment_locked";
    /// The activation session is unknown or older than five minutes: start again.
    pub const SESSION_EXPIRED: &str = "session_expired";
    /// The app's key confirmation did not match (wrong start password).
    pub const CONFIRMATION_FAILED: &str = "confirmation_failed";
    /// The serial is already in use on this server: generate another.
    pub const SERIAL_TAKEN: &str = "serial_taken";
    /// The user already has a usable token.
    pub const TOKEN_EXISTS: &str = "token_exists";
    /// A revocation cool-down is running for this user: see `retry_after`.
    pub const COOLDOWN: &str = "cooldown";
    /// The code given with a bank call was wrong.
    pub const INVALID_OTP: &str = "invalid_otp";
    /// The code given with a bank call has another length than the token's codes (see
    /// `digits`); it was not counted as a wrong code.
    pub const WRONG_LENGTH: &str = "wrong_length";
    /// The user is locked after too many wrong codes.
    pub const LOCKED: &str = "locked";
    /// The token collected too many wrong registration codes: the bank must unlock it.
    pub const TOKEN_LOCKED: &str = "token_locked";
    /// The service's quota of provisioned, unregistered tokens is reached.
    pub const PROVISIONING_FULL: &str = "provisioning_full";
    /// The token cannot take this action in its current state.
    pub const CONFLICT: &str = "conflict";
    /// An enrollment asked for an activation e-mail, but this server sends none (no SMTP
    /// configured) or the service has not set its e-mail up (no download URL).
    pub const MAIL_NOT_CONFIGURED: &str = "mail_not_configured";
    /// A token status request the server cannot answer: no such token, or a MAC that does
    /// not match (told apart by nobody, so the app API reveals no token's existence).
    pub const NOT_RECOGNISED: &str = "not_recognised";
    /// A token status request's time is more than five minutes from the server's clock:
    /// refresh the clock offset and ask again.
    pub const CLOCK_SKEW: &str = "clock_skew";
    /// Something broke on the server; details are in its log, never in the response.
    pub const INTERNAL: &str = "internal";
}
