//! One structured line per request (target `softtoken_server::access`, level info): request
//! id, method, route template, status, latency, service ID and client address, and the same
//! request counted in the metrics. The route is axum's template
//! (`/v1/services/{sid}/users/{uid}/verify`), never the path itself, so no user ID reaches
//! the log or the metrics' labels; the service ID, which is no secret, is taken from the
//! path where the template has `{sid}`.
//!
//! The request id is the caller's `X-Request-Id` if it is a short token (1–64 of
//! `[A-Za-z0-9._:-]`, as internet banking's gateways send them), else a fresh random one;
//! it is echoed in the response and recorded on the span the handler runs in, so any
//! warning or error logged while serving the request carries it too.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use softtoken_protocol::ServiceId;
use tracing::Instrument;

use crate::client_addr::ClientAddr;

/// The header a request id comes in and goes back out in.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id taken from a caller.
const MAX_REQUEST_ID: usize = 64;

/// The caller's request id if it is sane, else a new one.
pub fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| is_sane(id))
        .map_or_else(|| format!("{:032x}", rand::random::<u128>()), str::to_owned)
}

/// A short token that cannot forge a log line or a header: printable, no spaces or quotes.
fn is_sane(id: &str) -> bool {
    (1..=MAX_REQUEST_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// The `{sid}` of `path` under `template`, if the template has one and it is a service ID.
fn service_id(template: &str, path: &str) -> Option<ServiceId> {
    let at = template.split('/').position(|segment| segment == "{sid}")?;
    ServiceId::new(path.split('/').nth(at)?).ok()
}

/// Middleware: logs and counts every request. It runs inside the router (so the matched
/// route is known) and inside [`crate::client_addr::resolve`] (so the client is).
pub async fn observe(request: Request, next: Next) -> Response {
    let began = Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let client = request.extensions().get::<ClientAddr>().map(|c| c.0);
    let service = route
        .as_ref()
        .and_then(|r| service_id(r.as_str(), request.uri().path()));
    let id = request_id(request.headers());
    let span = tracing::info_span!("request", request_id = %id);
    let mut response = next.run(request).instrument(span).await;
    let elapsed = began.elapsed();
    let status = response.status();
    let route = route.as_ref().map(MatchedPath::as_str);
    crate::metrics::request(&method, route, status, elapsed);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    tracing::info!(
        target: "softtoken_server::access",
        request_id = %id,
        method = %method,
        route = route.unwrap_or("unmatched"),
        status = status.as_u16(),
        latency_ms = (elapsed.as_secs_f64() * 1e6).round() / 1e3,
        service_id = service.as_ref().map(ServiceId::as_str),
        client = client.map(tracing::field::display),
        "request"
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sane_request_id_is_kept_and_anything_else_replaced() {
        let mut headers = HeaderMap::new();
        headers.insert(&REQUEST_ID, HeaderValue::from_static("ib-2026.12:0001_a"));
        assert_eq!(request_id(&headers), "ib-2026.12:0001_a");
        for bad in ["", "has space", "quote\"d", &"x".repeat(65)] {
            let mut headers = HeaderMap::new();
            headers.insert(&REQUEST_ID, HeaderValue::from_str(bad).unwrap());
            let id = request_id(&headers);
            assert_ne!(id, bad);
            assert_eq!(id.len(), 32);
            assert!(is_sane(&id));
        }
        assert_eq!(request_id(&HeaderMap::new()).len(), 32);
    }

    #[test]
    fn the_service_id_comes_from_the_sid_segment() {
        let template = "/v1/services/{sid}/users/{uid}/verify";
        assert_eq!(
            service_id(template, "/v1/services/bank-1/users/u1/verify")
                .unwrap()
                .as_str(),
            "bank-1"
        );
        assert!(service_id("/v1/time", "/v1/time").is_none());
        assert!(service_id(template, "/v1/services/b%20x/users/u1/verify").is_none());
    }
}
