//! `POST /v1/provisioning`: registration mode (DESIGN.md §6), the server's side of the
//! X25519 exchange in `protocol::provisioning`. The token stays unassigned until the
//! bank registers serial + code to a user.

use axum::extract::State;
use softtoken_protocol::IssuedToken;
use softtoken_protocol::provisioning::{ProvisioningRequest, ProvisioningResponse, server_respond};
use softtoken_protocol::wire::B64;

use crate::AppState;
use crate::crypto::seed_aad;
use crate::error::{ApiError, Json};
use crate::policy::UNASSIGNED_TTL_MS;
use crate::routes::{audit, service};
use crate::store::{Token, TokenState};

/// Creates an unassigned token with the app's serial.
#[utoipa::path(post, path = "/v1/provisioning", tag = "app",
    request_body = crate::openapi::ProvisioningRequestDoc,
    responses(
        (status = 200, body = crate::openapi::ProvisioningResponseDoc),
        (status = 400, description = "malformed key", body = crate::openapi::ProblemDoc),
        (status = 404, description = "unknown_service", body = crate::openapi::ProblemDoc),
        (status = 409, description = "serial_taken", body = crate::openapi::ProblemDoc),
        (status = 429, description = "rate_limited", body = crate::openapi::ProblemDoc)))]
pub async fn provision(
    State(state): State<AppState>,
    Json(request): Json<ProvisioningRequest>,
) -> Result<Json<ProvisioningResponse>, ApiError> {
    let now = state.now();
    let service = service(&state, &request.service_id).await?;
    let (public_key, key) = server_respond(&request)?;
    let params = service.policy.registration_params();
    let seed = key.seed(&request.serial, params.algorithm);
    state
        .store
        .add_unassigned_token(&Token {
            service_id: service.id.clone(),
            serial: request.serial.clone().into(),
            state: TokenState::Unassigned,
            params,
            seed: state.key.seal(&seed, &seed_aad(request.serial.as_str())),
            last_step: -1,
            drift: 0,
            created_at: now,
            activated_at: None,
            last_used_at: None,
            expires_at: Some(now + UNASSIGNED_TTL_MS),
        })
        .await?;
    audit(
        &state,
        &service.id,
        "token_provisioned",
        None,
        Some(&request.serial.clone().into()),
        "unassigned",
    )
    .await;
    let issued = IssuedToken {
        issuer: service.name,
        params,
        server_unix_ms: now,
    };
    let mac = key.token_mac(&request.serial, &issued);
    Ok(Json(ProvisioningResponse {
        public_key: B64(public_key.to_vec()),
        token: issued,
        mac: B64(mac.to_vec()),
    }))
}
