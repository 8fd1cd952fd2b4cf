//! `GET /v1/time`: the server's clock, from which apps learn their clock offset.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::Json;

/// The server's time.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TimeResponse {
    /// Unix milliseconds.
    pub unix_ms: i64,
}

/// The server's clock.
#[utoipa::path(get, path = "/v1/time", tag = "app",
    responses((status = 200, body = TimeResponse)))]
pub async fn time(State(state): State<AppState>) -> Json<TimeResponse> {
    Json(TimeResponse {
        unix_ms: state.now(),
    })
}
