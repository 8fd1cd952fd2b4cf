//! `GET /openapi.json`: the OpenAPI 3.1 document of the whole API.
//!
//! The operations come from the handlers' own `#[utoipa::path]` declarations (see
//! `routes`); [`base`] gives the document's frame and [`finish`] adds what every operation
//! of a kind may answer (a malformed body, a missing key, a rate limit, a server failure),
//! so that every status a route can return is documented, as a problem document.

use softtoken_protocol::Problem;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

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

/// The document's frame: title, security scheme, tags and the problem schema; the
/// operations join it from the router.
#[derive(OpenApi)]
#[openapi(
    info(title = "softtoken-server", description = "Activates softtoken tokens and verifies their one-time passwords."),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    tags((name = "app", description = "Called by the token app; no key, rate-limited"),
         (name = "bank", description = "Called by the bank's back end with the service's API key"),
         (name = "meta", description = "About this API"),
         (name = "operations", description = "For load balancers and orchestrators; no key, not rate-limited"))
)]
struct Frame;

/// The finished document, serialised once, as the router hands it to [`serve`].
#[derive(Debug, Clone)]
pub struct Document(pub axum::body::Bytes);

impl Document {
    /// The document as served.
    pub fn new(document: &utoipa::openapi::OpenApi) -> Self {
        Document(serde_json::to_vec(document).unwrap_or_default().into())
    }
}

/// This API's description (OpenAPI 3.1).
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "the OpenAPI document of this API", content_type = "application/json")))]
pub async fn serve(
    axum::Extension(document): axum::Extension<Document>,
) -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        document.0,
    )
}

/// The frame the router's operations are added to.
pub fn base() -> utoipa::openapi::OpenApi {
    Frame::openapi()
}

const PROBLEM: &str = "application/problem+json";

/// Completes the document built from the routes: problem documents under their own media
/// type, and on every operation the answers every operation of its kind may give.
pub fn finish(mut document: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    for item in document.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            complete(operation);
        }
    }
    document
}

fn complete(operation: &mut Operation) {
    let responses = &mut operation.responses.responses;
    // Problem documents are sent as application/problem+json, whatever the macro assumed.
    for response in responses.values_mut() {
        if let RefOr::T(response) = response
            && let Some(content) = response.content.shift_remove("application/json")
        {
            let is_problem = matches!(&content.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"));
            let media = if is_problem {
                PROBLEM
            } else {
                "application/json"
            };
            response.content.insert(media.to_owned(), content);
        }
    }
    let bank = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let app = operation
        .tags
        .as_ref()
        .is_some_and(|tags| tags.iter().any(|t| t == "app"));
    let has_body = operation.request_body.is_some();
    let has_params = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let mut add = |status: u16, description: &str| {
        responses
            .entry(status.to_string())
            .or_insert_with(|| problem(description));
    };
    if has_body || has_params {
        add(
            400,
            "invalid_request: the request is malformed (the detail names what)",
        );
    }
    if has_body {
        add(413, "payload_too_large");
        add(
            415,
            "unsupported_media_type: the body must be application/json",
        );
        add(
            422,
            "invalid_request: a field is wrong (the detail names it)",
        );
        add(408, "request_timeout: the body took too long to arrive");
    }
    if bank {
        add(401, "unauthorized: no API key, or an unknown one");
        add(403, "forbidden: the API key belongs to another service");
        add(404, "unknown_service or not_found");
    }
    if app {
        add(429, "rate_limited: see Retry-After");
    }
    add(500, "internal: the server failed; the cause is in its log");
    add(
        503,
        "unavailable: the server took too long, is shutting down, or its database is out of \
         reach or out of space; nothing was changed: try again after Retry-After",
    );
}

fn problem(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM,
            Content::new(Some(Ref::from_schema_name("Problem"))),
        )
        .build()
        .into()
}
