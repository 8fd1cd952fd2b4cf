//! `POST /v1/provisioning`: registration mode (DESIGN.md §6), the server's side of the
//! X25519 exchange in `protocol::provisioning`. The token stays unassigned until the
//! bank registers serial + code to a user.
//!
//! The server picks the serial: an open endpoint that stored the caller's pick would have
//! to refuse a serial some service holds, and so tell anyone which serials exist (which the
//! status API hides). The reserved console service answers as an unknown one.
//!
//! The call is open to anyone (rate-limited per client), so what it may store is
//! bounded: each service has a quota of provisioned tokens waiting for registration, and
//! provisioning writes no audit row of its own; `ProvisionedCounts` sums it up in one
//! `tokens_provisioned` event per service every few minutes.

use axum::extract::State;
use softtoken_protocol::Problem;
use softtoken_protocol::provisioning::{ProvisioningRequest, ProvisioningResponse};

use crate::AppState;
use crate::error::{ApiError, Json};
use crate::routes::{service, unknown_service};
use softtoken_store::console::CONSOLE_SERVICE;

pub use softtoken_service::provisioning::ProvisionedCounts;

/// Creates an unassigned token with a serial of the server's choosing.
#[utoipa::path(post, path = "/v1/provisioning", tag = "app",
    request_body = ProvisioningRequest,
    responses(
        (status = 200, body = ProvisioningResponse),
        (status = 404, description = "unknown_service (the reserved `_console` service too)", body = Problem),
        (status = 503, description = "provisioning_full: the service's quota of unregistered tokens is reached", body = Problem)))]
pub async fn provision(
    State(state): State<AppState>,
    Json(request): Json<ProvisioningRequest>,
) -> Result<Json<ProvisioningResponse>, ApiError> {
    if request.service_id.as_str() == CONSOLE_SERVICE {
        return Err(unknown_service(&request.service_id));
    }
    let service = service(&state, &request.service_id).await?;
    let response =
        softtoken_service::provisioning::provision(&state, &service, &request, &state.provisioned)
            .await?;
    Ok(Json(response))
}
