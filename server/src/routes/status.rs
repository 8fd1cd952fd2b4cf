//! `POST /v1/tokens/status`: a token asks what became of it (DESIGN.md §12); the judgement
//! is [`softtoken_service::token_status`]'s.

use axum::extract::State;
use softtoken_protocol::Problem;
use softtoken_protocol::status::{StatusRequest, StatusResponse};

use crate::AppState;
use crate::error::{ApiError, Json};

/// The token's state (pending, active, revoked, stopped, replaced), MAC'd under its status
/// key. An unknown serial and a wrong MAC are answered alike.
#[utoipa::path(post, path = "/v1/tokens/status", tag = "app",
    request_body = StatusRequest,
    responses(
        (status = 200, body = StatusResponse),
        (status = 400, description = "clock_skew: unix_ms is more than five minutes from the server's clock; or invalid_request", body = Problem),
        (status = 401, description = "not_recognised: no such token, or the MAC does not match (not told apart)", body = Problem),
        (status = 422, description = "invalid_request: a field is wrong, e.g. the nonce or MAC length (the detail names it)", body = Problem)))]
pub async fn status(
    State(state): State<AppState>,
    Json(request): Json<StatusRequest>,
) -> Result<Json<StatusResponse>, ApiError> {
    state
        .token_status(&request)
        .await
        .map(Json)
        .map_err(ApiError)
}
