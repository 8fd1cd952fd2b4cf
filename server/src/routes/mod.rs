//! The HTTP routes, one module per area, and what they share.

pub mod activation;
pub mod audit;
pub mod enrollments;
pub mod import;
pub mod provisioning;
pub mod time;
pub mod tokens;
pub mod users;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, SecondsFormat};
use softtoken_protocol::problem::codes;
use softtoken_protocol::{ServiceId, UserId};

use crate::serial::TokenSerial;

use crate::AppState;
use crate::error::ApiError;
use crate::store::{NewAuditEvent, Service};

/// The largest request body any route accepts.
pub const MAX_BODY: usize = 16 * 1024;

/// All routes.
pub fn router(state: AppState) -> Router {
    let app_api = Router::new()
        .route("/v1/time", get(time::time))
        .route("/v1/activation/start", post(activation::start))
        .route("/v1/activation/finish", post(activation::finish))
        .route("/v1/provisioning", post(provisioning::provision))
        .route_layer(middleware::from_fn_with_state(state.clone(), limit_per_ip));
    let bank_api = Router::new()
        .route("/v1/services/{sid}/enrollments", post(enrollments::issue))
        .route("/v1/services/{sid}/users/{uid}", get(users::show))
        .route(
            "/v1/services/{sid}/users/{uid}/confirm",
            post(users::confirm),
        )
        .route("/v1/services/{sid}/users/{uid}/verify", post(users::verify))
        .route(
            "/v1/services/{sid}/users/{uid}/tokens",
            post(tokens::register),
        )
        .route(
            "/v1/services/{sid}/users/{uid}/replace",
            post(tokens::replace),
        )
        .route("/v1/services/{sid}/users/{uid}/stop", post(tokens::stop))
        .route("/v1/services/{sid}/users/{uid}/unlock", post(users::unlock))
        .route(
            "/v1/services/{sid}/tokens/{serial}/revoke",
            post(tokens::revoke),
        )
        .route("/v1/services/{sid}/audit", get(audit::list))
        .route(
            "/v1/services/{sid}/tokens/import",
            post(import::import_tokens)
                .layer(DefaultBodyLimit::max(crate::import::MAX_IMPORT_BODY)),
        );
    Router::new()
        .merge(app_api)
        .merge(bank_api)
        .route("/openapi.json", get(crate::openapi::serve))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; the API is described at /openapi.json")
}

async fn limit_per_ip(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // In-process tests have no peer address; they share one bucket.
    let ip = request
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "local".to_string());
    match state.ip_limit.check(&ip, state.now()) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

/// The service, or 404 `unknown_service`.
pub async fn service(state: &AppState, id: &ServiceId) -> Result<Service, ApiError> {
    state
        .services
        .service(&*state.store, id)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                codes::UNKNOWN_SERVICE,
                format!("no service '{id}' on this server"),
            )
        })
}

/// Records an audit event. A failure to write it is logged, not returned: the action it
/// describes has already happened.
pub async fn audit(
    state: &AppState,
    service: &ServiceId,
    kind: &'static str,
    user: Option<&UserId>,
    serial: Option<&TokenSerial>,
    detail: impl Into<String>,
) {
    let event = NewAuditEvent {
        service_id: service.clone(),
        kind,
        user_id: user.cloned(),
        serial: serial.cloned(),
        detail: detail.into(),
    };
    if let Err(e) = state.store.audit(&event, state.now()).await {
        tracing::error!(error = %e, kind, "failed to write an audit event");
    }
}

/// Unix milliseconds as RFC 3339 UTC.
pub fn rfc3339(unix_ms: i64) -> String {
    DateTime::from_timestamp_millis(unix_ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}
