//! `POST /v1/services/{sid}/tokens/import`: a vendor's PSKC file of hardware tokens.

use std::fmt;

use axum::extract::State;
use serde::Deserialize;
use softtoken_pskc::KeySource;
use utoipa::ToSchema;
use zeroize::{Zeroize, Zeroizing};

use softtoken_protocol::Problem;

use crate::AppState;
use crate::auth::ServiceAccess;
use crate::error::{ApiError, Json};
use crate::routes::ServicePath;
use softtoken_service::actions::Actor;
use softtoken_service::import::ImportOutcome;

/// A PSKC document and what unlocks it (at most one of the two).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// The PSKC (RFC 6030) XML document.
    pub pskc: String,
    /// The password its key is derived from (`DerivedKey`, PBKDF2).
    #[serde(default)]
    pub password: Option<String>,
    /// The pre-shared transport key, in hex.
    #[serde(default)]
    pub preshared_key_hex: Option<String>,
}

impl Drop for ImportRequest {
    fn drop(&mut self) {
        self.pskc.zeroize();
        self.password.zeroize();
        self.preshared_key_hex.zeroize();
    }
}

impl fmt::Debug for ImportRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImportRequest")
            .field("pskc", &format_args!("[{} bytes]", self.pskc.len()))
            .field("password", &self.password.as_ref().map(|_| "[REDACTED]"))
            .field(
                "preshared_key_hex",
                &self.preshared_key_hex.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

impl ImportRequest {
    /// The key source the request names.
    fn key_source(&self) -> Result<KeySource, ApiError> {
        softtoken_service::actions::pskc_key_source(
            self.password.as_deref(),
            self.preshared_key_hex.as_deref(),
        )
        .map_err(ApiError)
    }
}

/// Imports the hardware tokens of a PSKC file as unassigned tokens of the service.
#[utoipa::path(post, path = "/v1/services/{sid}/tokens/import", tag = "bank",
    params(ServicePath),
    request_body = ImportRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = ImportOutcome),
        (status = 400, description = "invalid_request, invalid_pskc or pskc_key_needed", body = Problem),
        (status = 413, description = "payload_too_large (8 MiB)", body = Problem),
        (status = 422, description = "pskc_wrong_key, pskc_integrity or unsupported_pskc", body = Problem)))]
pub async fn import_tokens(
    State(state): State<AppState>,
    ServiceAccess(service): ServiceAccess,
    Json(request): Json<ImportRequest>,
) -> Result<Json<ImportOutcome>, ApiError> {
    let source = request.key_source()?;
    let document = Zeroizing::new(request.pskc.as_bytes().to_vec());
    let outcome =
        softtoken_service::actions::import_pskc(&state, &service, document, source, Actor::Bank)
            .await?;
    Ok(Json(outcome))
}
