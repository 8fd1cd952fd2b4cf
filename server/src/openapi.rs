//! `GET /openapi.json`: the OpenAPI 3.1 document of the whole API.
//!
//! The app API's bodies are `protocol` types, which stay free of any OpenAPI
//! dependency; the `*Doc` structs here describe their JSON shape instead.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::routes;

/// An RFC 9457 problem document (`application/problem+json`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ProblemDoc {
    /// Problem type URI.
    r#type: String,
    /// Summary.
    title: String,
    /// HTTP status.
    status: u16,
    /// What went wrong this time.
    detail: String,
    /// Stable machine-readable code.
    code: String,
    /// Seconds to wait (429, cool-downs).
    retry_after: Option<u64>,
    /// Tries left before a lockout.
    attempts_left: Option<u32>,
}

/// `POST /v1/activation/start` body.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct StartRequestDoc {
    /// Service ID.
    service_id: String,
    /// User ID.
    user_id: String,
    /// The app's SPAKE2 message (base64url).
    message: String,
}

/// `POST /v1/activation/start` answer.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct StartResponseDoc {
    /// Names this attempt in finish.
    session_id: String,
    /// The server's SPAKE2 message (base64url).
    message: String,
    /// HMAC(K, "server" || transcript) (base64url).
    confirmation: String,
    /// Tries left if this start password is wrong.
    attempts_left: u32,
}

/// `POST /v1/activation/finish` body.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FinishRequestDoc {
    /// From start.
    session_id: String,
    /// HMAC(K, "app" || transcript) (base64url).
    confirmation: String,
    /// The serial the app generated.
    serial: String,
}

/// The issued token's parameters, MACed under the session key.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FinishResponseDoc {
    /// The bank's display name.
    issuer: String,
    /// sha1, sha256 or sha512.
    algorithm: String,
    /// 6 or 8.
    digits: u32,
    /// Seconds per step.
    period: u64,
    /// The server's clock (Unix ms).
    server_unix_ms: i64,
    /// HMAC over serial and the fields above (base64url).
    mac: String,
}

/// `POST /v1/provisioning` body.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ProvisioningRequestDoc {
    /// Service ID.
    service_id: String,
    /// The serial the app generated.
    serial: String,
    /// The app's ephemeral X25519 public key (base64url, 32 bytes).
    public_key: String,
}

/// `POST /v1/provisioning` answer.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ProvisioningResponseDoc {
    /// The server's ephemeral X25519 public key (base64url).
    public_key: String,
    /// The bank's display name.
    issuer: String,
    /// sha1, sha256 or sha512.
    algorithm: String,
    /// 6 or 8.
    digits: u32,
    /// Seconds per step.
    period: u64,
    /// The server's clock (Unix ms).
    server_unix_ms: i64,
    /// HMAC over serial and the fields above (base64url).
    mac: String,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "softtoken-server", description = "Activates softtoken tokens and verifies their one-time passwords."),
    paths(
        routes::time::time,
        routes::activation::start,
        routes::activation::finish,
        routes::provisioning::provision,
        routes::enrollments::issue,
        routes::users::confirm,
        routes::users::verify,
        routes::users::unlock,
        routes::users::show,
        routes::tokens::register,
        routes::tokens::replace,
        routes::tokens::stop,
        routes::tokens::revoke,
        routes::import::import_tokens,
        routes::audit::list,
    ),
    modifiers(&BearerAuth),
    tags((name = "app", description = "Called by the token app; no key, rate-limited"),
         (name = "bank", description = "Called by the bank's back end with the service's API key"))
)]
pub struct ApiDoc;

/// Serves the document.
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
