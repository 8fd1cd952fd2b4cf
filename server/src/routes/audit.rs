//! `GET /v1/services/{sid}/audit`: the service's audit trail, paged by event ID.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::ServiceAccess;
use crate::error::{ApiError, Json, Query};
use crate::routes::{ServicePath, rfc3339};
use softtoken_service::queries;

/// Page size when none is asked for.
pub const DEFAULT_LIMIT: u32 = 100;
/// Largest page.
pub const MAX_LIMIT: u32 = 1000;

/// Paging.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only events with a larger ID (default 0: from the start).
    pub after: Option<i64>,
    /// At most this many events (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// One event.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEventView {
    /// Increasing ID; pass the last one as `after` for the next page.
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// What happened.
    pub kind: String,
    /// The user concerned.
    pub user_id: Option<String>,
    /// The token concerned.
    pub serial: Option<String>,
    /// Outcome or extra facts, in English (typed details are rendered as the free text
    /// they replaced read).
    pub detail: String,
}

/// A page of events.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditResponse {
    /// Oldest first.
    pub events: Vec<AuditEventView>,
}

/// The audit trail, oldest first.
#[utoipa::path(get, path = "/v1/services/{sid}/audit", tag = "bank",
    params(ServicePath, AuditQuery),
    security(("api_key" = [])),
    responses((status = 200, body = AuditResponse)))]
pub async fn list(
    State(state): State<AppState>,
    ServiceAccess(service): ServiceAccess,
    Query(query): Query<AuditQuery>,
) -> Result<Json<AuditResponse>, ApiError> {
    let sid = service.id;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to {MAX_LIMIT}"
        )));
    }
    let events = queries::audit_events(&state, &sid, query.after.unwrap_or(0), limit).await?;
    Ok(Json(AuditResponse {
        events: events
            .into_iter()
            .map(|e| AuditEventView {
                id: e.id,
                at: rfc3339(e.at),
                kind: e.kind,
                user_id: e.user_id,
                serial: e.serial,
                detail: softtoken_store::audit::english(&e.detail),
            })
            .collect(),
    }))
}
