//! Every error the HTTP API returns is an [`ApiError`]: the service's [`ServiceError`]
//! (built in one place, `softtoken_service::error`, which knows nothing of HTTP answers),
//! rendered here as an RFC 9457 problem document. Here too are the `Json`/`Path`/`Query`
//! extractors that turn malformed input into one that says in plain words which field is
//! wrong.
//!
//! Server-side failures (database, corrupt rows) are logged with their detail
//! and answered with a bare 500 `internal` problem: no detail leaks out.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use softtoken_protocol::Problem;
use softtoken_protocol::problem::{CONTENT_TYPE, codes};

pub use softtoken_service::error::{ServiceError, UNAVAILABLE_RETRY_AFTER_SECS, fresh};

/// A refusal as the HTTP API and the console answer it: the service's [`ServiceError`]
/// (read through it: `e.status`, `e.code`, `e.detail`), which renders as a problem
/// document. Anything that becomes a `ServiceError` becomes one with `?`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError(pub ServiceError);

impl<E: Into<ServiceError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl std::ops::Deref for ApiError {
    type Target = ServiceError;
    fn deref(&self) -> &ServiceError {
        &self.0
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

// The service's constructors, so that HTTP code builds its refusals as the service does.
impl ApiError {
    /// An error with `status`, `code` and `detail`.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError(ServiceError::new(status, code, detail))
    }

    /// 400 `invalid_request`.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiError(ServiceError::bad_request(detail))
    }

    /// 422 `invalid_request`: well-formed JSON with a field that is wrong.
    pub fn invalid_field(detail: impl Into<String>) -> Self {
        ApiError(ServiceError::invalid_field(detail))
    }

    /// 404 `not_found`.
    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError(ServiceError::not_found(detail))
    }

    /// 500 `internal`: logs `cause`, answers without it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError(ServiceError::internal(cause))
    }

    /// 503 `unavailable`, with `Retry-After`.
    pub fn unavailable() -> Self {
        ApiError(ServiceError::unavailable())
    }

    /// Adds the seconds to wait before retrying.
    pub fn with_retry_after(self, seconds: u64) -> Self {
        ApiError(self.0.with_retry_after(seconds))
    }

    /// Adds the tries left before a lockout.
    pub fn with_attempts_left(self, attempts: u32) -> Self {
        ApiError(self.0.with_attempts_left(attempts))
    }

    /// Adds the digits a code must have.
    pub fn with_digits(self, digits: u32) -> Self {
        ApiError(self.0.with_digits(digits))
    }
}

/// The refusal as an RFC 9457 problem document, with `Retry-After` and a 401's
/// `WWW-Authenticate`.
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let problem = Problem {
            kind: format!("https://softtoken.dev/problems/{}", e.code),
            title: e.title().to_string(),
            status: e.status.as_u16(),
            detail: e.detail.clone(),
            code: e.code.to_string(),
            retry_after: e.retry_after,
            attempts_left: e.attempts_left,
            digits: e.digits,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (e.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Some(seconds) = e.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if e.status == StatusCode::UNAUTHORIZED {
            // RFC 9110 §11.6.1: a 401 names the scheme it wants.
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"softtoken\""),
            );
        }
        response
    }
}

/// A JSON request body, whose malformations get our problem document: 415 unless sent as
/// JSON, 413 when too large, 400 when not JSON, 422 when a field is wrong (naming it).
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        || essence
            .rsplit_once('+')
            .is_some_and(|(_, suffix)| suffix.eq_ignore_ascii_case("json"))
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(request.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                codes::UNSUPPORTED_MEDIA_TYPE,
                "send the request body as JSON, with 'Content-Type: application/json'",
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| body_error(&e))?;
        parse_json(&bytes).map(Json)
    }
}

fn body_error(e: &BytesRejection) -> ApiError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(error) = cause {
        if error.is::<tower_http::timeout::TimeoutError>() {
            return ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                codes::REQUEST_TIMEOUT,
                "the request body took too long to arrive",
            );
        }
        cause = error.source();
    }
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::PAYLOAD_TOO_LARGE,
            "the request body is larger than this route accepts (16 KiB; 8 MiB for a token import)",
        )
    } else {
        ApiError::bad_request("the request body could not be read")
    }
}

/// Parses a JSON body, describing what is wrong with it in plain words.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let field = field_of(&e);
        let inner = e.into_inner();
        if inner.is_data() {
            ApiError::invalid_field(described(field.as_deref(), &inner.to_string()))
        } else if inner.is_eof() {
            ApiError::bad_request("the request body is not valid JSON: it ends too early")
        } else {
            ApiError::bad_request(format!(
                "the request body is not valid JSON (line {}, column {})",
                inner.line(),
                inner.column()
            ))
        }
    })?;
    deserializer
        .end()
        .map_err(|_| ApiError::bad_request("the request body has more after its JSON value"))?;
    Ok(value)
}

/// The field an error is about (`otp`, `tokens[0].serial`), or none for the whole body.
/// For an unknown field the path ends at that field; the error is about its parent.
fn field_of<E: std::fmt::Display>(e: &serde_path_to_error::Error<E>) -> Option<String> {
    let path = e.path().to_string();
    let path = if e.inner().to_string().starts_with("unknown field ") {
        path.rsplit_once('.')
            .map_or(String::new(), |(parent, _)| parent.to_owned())
    } else {
        path
    };
    (path != "." && !path.is_empty()).then_some(path)
}

/// serde's message, without its position, in the words a bank's developer reads.
fn described(field: Option<&str>, message: &str) -> String {
    let message = message
        .rsplit_once(" at line ")
        .map_or(message, |(text, _)| text);
    let plain = if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (got, expected) = rest
            .split_once(", expected ")
            .unwrap_or((rest, "another type"));
        format!("expected {expected}, got {got}")
    } else if let Some(rest) = message.strip_prefix("invalid value: ") {
        let (got, expected) = rest
            .split_once(", expected ")
            .unwrap_or((rest, "another value"));
        format!("expected {expected}, got {got}")
    } else if let Some(rest) = message.strip_prefix("unknown field ") {
        let (name, expected) = rest.split_once(", ").unwrap_or((rest, ""));
        return match field {
            Some(field) => format!("{field} has no field {name} ({expected})"),
            None => format!("{name} is not a field of this request ({expected})"),
        };
    } else if let Some(name) = message.strip_prefix("missing field ") {
        return match field {
            Some(field) => format!("{field} lacks the field {name}"),
            None => format!("the field {name} is missing"),
        };
    } else if message.contains("invalid digit") || message.contains("number too large") {
        "expected a whole number in range".to_owned()
    } else {
        message.to_owned()
    };
    match field {
        Some(field) => format!("{field}: {plain}"),
        None => plain,
    }
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Path`, but invalid IDs get our problem document.
#[derive(Debug, Clone)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e| path_error(&e))
    }
}

fn path_error(e: &PathRejection) -> ApiError {
    use axum::extract::path::ErrorKind;
    let detail = match e {
        PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
            ErrorKind::Message(message) => format!("the path is malformed: {message}"),
            ErrorKind::ParseErrorAtKey { key, .. } => format!("{key} in the path is malformed"),
            _ => "the path is malformed".to_owned(),
        },
        _ => "the path is malformed".to_owned(),
    };
    ApiError::bad_request(detail)
}

/// A query string, whose malformations get our problem document naming the parameter.
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Query)
            .map_err(|e| {
                let field = field_of(&e);
                ApiError::bad_request(format!(
                    "the query string: {}",
                    described(field.as_deref(), &e.into_inner().to_string())
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        otp: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        n: u32,
    }

    fn detail(json: &str) -> (StatusCode, String) {
        let e = parse_json::<Body>(json.as_bytes()).unwrap_err();
        (e.status, e.detail.clone())
    }

    #[test]
    fn malformed_bodies_are_described_in_plain_words() {
        let (status, text) = detail(r#"{"otp": 123456}"#);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(text, "otp: expected a string, got integer `123456`");
        let (_, text) = detail(r#"{"otp": "1", "extra": 1}"#);
        assert_eq!(
            text,
            "`extra` is not a field of this request (expected `otp` or `inner`)"
        );
        let (_, text) = detail(r#"{}"#);
        assert_eq!(text, "the field `otp` is missing");
        let (_, text) = detail(r#"{"otp": "1", "inner": {"n": -1}}"#);
        assert_eq!(text, "inner.n: expected u32, got integer `-1`");
        let (status, text) = detail(r#"{"otp": "#);
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            text,
            "the request body is not valid JSON: it ends too early"
        );
        let (status, text) = detail(r#"{"otp" "1"}"#);
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            text.starts_with("the request body is not valid JSON (line 1"),
            "{text}"
        );
        let (status, _) = detail(r#"{"otp": "1"} x"#);
        assert_eq!(status, StatusCode::BAD_REQUEST);
        for (_, text) in [detail(r#"{"otp": 1}"#), detail(r#"{"otp": "1", "x": 1}"#)] {
            assert!(!text.contains("line"), "{text}");
            assert!(!text.contains("deserialize"), "{text}");
        }
    }

    #[test]
    fn json_content_types() {
        let mut headers = HeaderMap::new();
        assert!(!is_json(&headers));
        for (value, json) in [
            ("application/json", true),
            ("application/json; charset=utf-8", true),
            ("Application/JSON", true),
            ("application/problem+json", true),
            ("text/plain", false),
            ("application/jsonx", false),
        ] {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
            assert_eq!(is_json(&headers), json, "{value}");
        }
    }
}
