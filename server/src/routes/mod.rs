//! The HTTP routes, one module per area, and what they share. Each route is declared once,
//! by its handler's `#[utoipa::path]`: the router and the OpenAPI document are both built
//! from those declarations, so neither can miss a route the other has.

pub mod activation;
pub mod audit;
pub mod enrollments;
pub mod health;
pub mod import;
pub mod provisioning;
pub mod status;
pub mod time;
pub mod tokens;
pub mod transactions;
pub mod users;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use serde::Deserialize;
use softtoken_protocol::problem::codes;
use softtoken_protocol::{ServiceId, UserId};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

use crate::client_addr::{self, ClientAddr};
use crate::error::ApiError;
use crate::rate_limit::client_key;
pub use softtoken_service::views::rfc3339;
use softtoken_store::Service;

/// The path of a call about one user.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// The service ID.
    #[param(value_type = String)]
    pub sid: ServiceId,
    /// The user ID, as internet banking knows the customer: 1–64 of `[A-Za-z0-9._-]`.
    #[param(value_type = String)]
    pub uid: UserId,
}

/// The path of a call about one token.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TokenPath {
    /// The service ID.
    #[param(value_type = String)]
    pub sid: ServiceId,
    /// The token's serial (`SKTS…`, or a hardware token's serial).
    pub serial: String,
}

/// The path of a call about a whole service.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ServicePath {
    /// The service ID.
    #[param(value_type = String)]
    pub sid: ServiceId,
}

/// The largest request body any route accepts.
pub const MAX_BODY: usize = 16 * 1024;

/// Every route, with the OpenAPI document they declare.
pub fn api(state: &AppState) -> OpenApiRouter<AppState> {
    // The app API (no key) is rate-limited per client address; the bank API is not (its
    // callers hold a key).
    let app_api = OpenApiRouter::new()
        .routes(routes!(time::time))
        .routes(routes!(activation::start))
        .routes(routes!(activation::finish))
        .routes(routes!(provisioning::provision))
        .routes(routes!(status::status))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limit_per_client,
        ));
    let bank_api = OpenApiRouter::new()
        .routes(routes!(enrollments::issue))
        .routes(routes!(users::show))
        .routes(routes!(users::confirm))
        .routes(routes!(users::verify))
        .routes(routes!(users::unlock))
        .routes(routes!(users::end_cooldown))
        .routes(routes!(tokens::register))
        .routes(routes!(tokens::replace))
        .routes(routes!(tokens::stop))
        .routes(routes!(tokens::revoke))
        .routes(routes!(tokens::unlock))
        .routes(routes!(audit::list))
        .routes(routes!(transactions::create))
        .routes(routes!(transactions::verify))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(import::import_tokens))
                .layer(DefaultBodyLimit::max(
                    softtoken_service::import::MAX_IMPORT_BODY,
                )),
        );
    OpenApiRouter::with_openapi(crate::openapi::base())
        .routes(routes!(crate::openapi::serve))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .merge(app_api)
        .merge(bank_api)
}

/// The whole HTTP API over `state`.
pub fn router(state: AppState) -> Router {
    let (api, document) = api(&state).split_for_parts();
    let document = crate::openapi::Document::new(&crate::openapi::finish(document));
    let proxies = state.trusted_proxies.clone();
    // The help-desk console is HTML, not API: outside the OpenAPI document, under /console
    // only, with its own 404 there; the API's problem answers elsewhere are untouched.
    api.layer(Extension(document))
        .merge(crate::console::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn(crate::access_log::observe))
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            client_addr::resolve(proxies.clone(), request, next)
        }))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; the API is described at /openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        codes::METHOD_NOT_ALLOWED,
        "this endpoint does not take that method; the API is described at /openapi.json",
    )
}

async fn limit_per_client(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let client = request
        .extensions()
        .get::<ClientAddr>()
        .map_or_else(|| "unknown".to_owned(), |c| client_key(c.0));
    match state.ip_limit.check(&client, state.now()) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

/// The service, or 404 `unknown_service`.
pub async fn service(state: &AppState, id: &ServiceId) -> Result<Service, ApiError> {
    state.service(id).await?.ok_or_else(|| unknown_service(id))
}

/// The answer for a service this server does not have (or does not serve on this route).
pub fn unknown_service(id: &ServiceId) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        codes::UNKNOWN_SERVICE,
        format!("no service '{id}' on this server"),
    )
}
