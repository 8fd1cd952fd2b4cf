//! The help-desk console (DESIGN.md §10, issue 14): server-rendered HTML at `/console`, for
//! the bank's staff. It calls the same service layer as the bank API ([`softtoken_service::actions`]);
//! operators sign in with an Argon2id password and a code of their own softtoken token,
//! which is an ordinary token of the reserved service [`CONSOLE_SERVICE`], activated and
//! verified by the customers' code paths.
//!
//! Outside the OpenAPI document (HTML, not API). Every answer carries a strict
//! Content-Security-Policy and `no-store`; every POST form a per-session CSRF token.

pub mod cli;
pub mod csv;
pub mod device;
pub mod gate;
mod pages;
pub mod password;
pub mod session;
pub mod text;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::AppState;
pub use softtoken_store::console::CONSOLE_SERVICE;

/// The console's Content-Security-Policy: nothing but our own stylesheet and `data:` images
/// (the QR code); no script at all.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The stylesheet, compiled in so the binary is the whole console.
const STYLESHEET: &str = include_str!("../../console/static/console.css");

/// The console's routes, to be merged into the app under `/console`.
pub fn router() -> Router<AppState> {
    let inner = Router::new()
        .route("/", get(pages::home))
        .route("/static/console.css", get(stylesheet))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/enroll", get(pages::enroll_page))
        .route("/enroll/confirm", post(pages::enroll_confirm))
        .route("/enroll/reissue", post(pages::enroll_reissue))
        .route("/services", get(pages::services))
        .route("/service", post(pages::pick_service))
        .route("/users", get(pages::users))
        .route("/users/{uid}", get(pages::user))
        .route("/users/{uid}/unlock", post(pages::unlock))
        .route("/users/{uid}/stop", post(pages::stop))
        .route("/users/{uid}/cooldown/end", post(pages::end_cooldown))
        .route("/users/{uid}/tokens", post(pages::register))
        .route("/users/{uid}/tokens/{serial}/revoke", post(pages::revoke))
        .route("/enrollments", post(pages::issue))
        .route("/audit", get(pages::audit))
        .route("/audit.csv", get(pages::audit_csv))
        .route(
            "/api-key",
            get(pages::api_key_page).post(pages::rotate_api_key),
        )
        .route(
            "/operators",
            get(pages::operators).post(pages::add_operator),
        )
        .route("/operators/{name}/disable", post(pages::disable_operator))
        .route(
            "/operators/{name}/reset-password",
            post(pages::reset_operator_password),
        )
        .route("/policy", get(pages::policy_page).post(pages::set_policy))
        // The upload may be as large as the bank API's import (8 MiB) plus the form.
        .route(
            "/import",
            get(pages::import_page)
                .post(pages::import)
                .layer(DefaultBodyLimit::max(pages::MAX_IMPORT_UPLOAD)),
        )
        .fallback(pages::not_found)
        .layer(middleware::from_fn(pages::unavailable_page))
        .layer(middleware::from_fn(security_headers));
    Router::new().nest("/console", inner)
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// The headers every console answer carries.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, header::CONTENT_SECURITY_POLICY, CSP);
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    response
}
