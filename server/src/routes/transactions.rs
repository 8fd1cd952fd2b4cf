//! 取引確認 (DESIGN.md §11): the bank creates a transfer challenge and later checks the
//! code the customer's token gave for it.
//!
//! The challenge is stored as its two OCRA questions (the digest of every detail, and the
//! manual digits: a random challenge number, the account's last 6 digits and the amount),
//! so the server recomputes the codes without keeping the full account number; the code is
//! judged by [`softtoken_service::verification`], like every other code, against this challenge's
//! questions only.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use softtoken_protocol::transaction::{MANUAL_SUITE, SCAN_SUITE, TransferDetails};
use softtoken_protocol::{Problem, ServiceId, UserId};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::ServiceAccess;
use crate::error::{ApiError, Json, Path};
use crate::routes::users::{OtpRequest, VerifyResponse};
use crate::routes::{UserPath, rfc3339};
use softtoken_service::actions::Actor;

pub use softtoken_service::transfers::{DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS, MIN_TTL_SECONDS};

/// A transfer to confirm.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransactionRequest {
    /// The payee's account: 1–34 letters and digits (spaces and hyphens are dropped).
    pub payee_account: String,
    /// The payee's name as the customer should see it: 1–70 characters.
    pub payee_name: String,
    /// The amount in the currency's minor units (yen for JPY, cents for EUR): 1 to
    /// 999999999999.
    pub amount: u64,
    /// ISO 4217 currency code, e.g. `JPY`.
    pub currency: String,
    /// Seconds the code is accepted, 30 to 900; 300 if absent.
    pub ttl_seconds: Option<u64>,
}

/// A created challenge: show the QR (or the manual digits) to the customer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TransactionResponse {
    /// The challenge's id, for `verify`.
    pub id: String,
    /// The QR payload the app scans (`softtoken://sign?v=1&...`).
    pub payload: String,
    /// The payload as an SVG QR code.
    pub qr_svg: String,
    /// Exactly what a customer without a camera types into the token (13 to 24 digits, no
    /// spaces): this challenge's 6-digit challenge number, the payee account's last 6
    /// digits, then the amount in minor units. The number is drawn for this challenge
    /// alone, so the code typed from these digits confirms this challenge only, once.
    pub manual_digits: String,
    /// The same digits as shown to the customer: challenge number, account tail and amount
    /// as three space-separated groups, e.g. `482913 555555 12345`; the token accepts
    /// either form.
    pub manual_digits_grouped: String,
    /// The payee account with all but its last four characters masked.
    pub masked_account: String,
    /// The amount as the app shows it, e.g. `50,000 JPY`.
    pub display_amount: String,
    /// SHA-256 of the canonical encoding of the details (hex), as recorded in the audit.
    pub digest: String,
    /// The OCRA suite of the scanned code (`OCRA-1:HOTP-SHA256-8:QH64`).
    pub suite: String,
    /// The OCRA suite of the manual mode (`OCRA-1:HOTP-SHA256-8:QN24`, the question being
    /// `manual_digits`).
    pub manual_suite: String,
    /// When the code stops being accepted (RFC 3339).
    pub expires_at: String,
}

/// A challenge of a user.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TransactionPath {
    /// The service.
    #[param(value_type = String)]
    pub sid: ServiceId,
    /// The customer.
    #[param(value_type = String)]
    pub uid: UserId,
    /// The challenge's id.
    pub id: String,
}

/// Creates a transfer challenge (取引確認) for the user.
#[utoipa::path(post, path = "/v1/services/{sid}/users/{uid}/transactions", tag = "bank",
    params(UserPath),
    request_body = TransactionRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, body = TransactionResponse),
        (status = 404, description = "not_found: no such user", body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    ServiceAccess(service): ServiceAccess,
    Path(UserPath { uid, .. }): Path<UserPath>,
    Json(request): Json<TransactionRequest>,
) -> Result<(StatusCode, Json<TransactionResponse>), ApiError> {
    let details = TransferDetails::new(
        &request.payee_account,
        &request.payee_name,
        request.amount,
        &request.currency,
    )
    .map_err(|e| ApiError::invalid_field(e.to_string()))?;
    let created = softtoken_service::transfers::create(
        &state,
        &service,
        &uid,
        details,
        request.ttl_seconds,
        Actor::Bank,
    )
    .await?;
    let challenge = &created.challenge;
    let d = &challenge.details;
    let manual = &created.manual;
    let payload = challenge.to_payload();
    let qr_svg = softtoken_service::qr::svg(&payload)
        .ok_or_else(|| ApiError::internal("the challenge does not fit a QR code"))?;
    Ok((
        StatusCode::CREATED,
        Json(TransactionResponse {
            id: challenge.id.clone(),
            payload,
            qr_svg,
            manual_digits: manual.as_str().to_string(),
            manual_digits_grouped: manual.grouped(),
            masked_account: d.masked_account(),
            display_amount: d.display_amount(),
            digest: challenge.digest_hex(),
            suite: SCAN_SUITE.to_string(),
            manual_suite: MANUAL_SUITE.to_string(),
            expires_at: rfc3339(created.expires_at),
        }),
    ))
}

/// Checks the code the customer's token gave for a transfer challenge: accepted once,
/// before the challenge expires; wrong codes count toward the user's lockout.
#[utoipa::path(post, path = "/v1/services/{sid}/users/{uid}/transactions/{id}/verify",
    tag = "bank",
    params(TransactionPath),
    request_body = OtpRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, description = "reason: ok, invalid (counted), reused, locked, expired, no_token or wrong_length (not counted; `digits` is 8)",
            body = VerifyResponse),
        (status = 404, description = "not_found: no such user or transaction", body = Problem)))]
pub async fn verify(
    State(state): State<AppState>,
    ServiceAccess(service): ServiceAccess,
    Path(TransactionPath { uid, id, .. }): Path<TransactionPath>,
    Json(request): Json<OtpRequest>,
) -> Result<Json<VerifyResponse>, ApiError> {
    let verdict = state
        .verification()
        .check_transaction(&service, &uid, &id, request.otp.as_str())
        .await?;
    Ok(Json(verdict.into()))
}
