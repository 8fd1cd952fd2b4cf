//! Console sessions: a random ID in an HttpOnly, SameSite=Strict cookie (Secure unless the
//! server is plain http on loopback), only its SHA-256 stored; 15 minutes idle, 8 hours at
//! most. The CSRF token of a session is derived from its ID, so it needs no storage and
//! changes with every sign-in; it is compared in constant time.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::AppState;
use softtoken_store::console::{ConsoleSession, OperatorRole, SessionLimits, SessionStage};

/// The session cookie.
pub const SESSION_COOKIE: &str = "console_session";
/// The sign-in form's CSRF cookie (double submit: there is no session yet).
pub const LOGIN_COOKIE: &str = "console_login";
/// The language cookie.
pub const LANG_COOKIE: &str = "console_lang";

/// A session ends after this long without a request.
pub const IDLE_MS: i64 = 15 * 60 * 1000;
/// A session ends this long after sign-in.
pub const ABSOLUTE_MS: i64 = 8 * 3600 * 1000;
/// Both limits.
pub const LIMITS: SessionLimits = SessionLimits {
    idle_ms: IDLE_MS,
    absolute_ms: ABSOLUTE_MS,
};

/// A fresh random token (session ID, login CSRF): 32 bytes, base64url.
pub fn random_token() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(&mut *bytes);
    Zeroizing::new(URL_SAFE_NO_PAD.encode(*bytes))
}

/// What is stored of a session ID.
pub fn id_hash(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

/// The CSRF token of the session `id`.
pub fn csrf_of(id: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(b"softtoken console csrf v1\0");
    digest.update(id.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.finalize())
}

/// Whether two tokens are equal, in constant time.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The value of cookie `name` in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether cookies must be `Secure`: always, except on a plain-http loopback server (a
/// developer's machine or a test), where the browser would otherwise drop them.
pub fn secure(public_url: &str) -> bool {
    let Ok(url) = url::Url::parse(public_url) else {
        return true;
    };
    if url.scheme() != "http" {
        return true;
    }
    match url.host() {
        Some(url::Host::Domain(d)) => d != "localhost",
        Some(url::Host::Ipv4(ip)) => !ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => !ip.is_loopback(),
        None => true,
    }
}

/// A `Set-Cookie` value for the console's path.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_secs: i64) -> String {
    format!(
        "{name}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{}",
        if secure(&state.public_url) {
            "; Secure"
        } else {
            ""
        }
    )
}

/// A request's live session, of any stage; without one the answer is a redirect to the
/// sign-in page.
#[derive(Debug, Clone)]
pub struct AnySession {
    /// The stored session and its operator.
    pub session: ConsoleSession,
    /// The session's ID hash.
    pub id_hash: [u8; 32],
    /// The session's CSRF token.
    pub csrf: String,
}

impl AnySession {
    /// Whether a form's `csrf` field is this session's.
    pub fn csrf_ok(&self, field: &str) -> bool {
        same(&self.csrf, field)
    }
}

/// The answer to a request without a live session.
pub fn to_login() -> Response {
    Redirect::to("/console/login").into_response()
}

impl FromRequestParts<AppState> for AnySession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(id) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        let id_hash = id_hash(id);
        match softtoken_service::console_sessions::live(state, &id_hash, LIMITS).await {
            Ok(Some(session)) => Ok(AnySession {
                session,
                id_hash,
                csrf: csrf_of(id),
            }),
            Ok(None) => Err(to_login()),
            Err(e) => Err(crate::error::ApiError::from(e).into_response()),
        }
    }
}

/// A fully signed-in session (password and code).
#[derive(Debug, Clone)]
pub struct Signed(pub AnySession);

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let any = AnySession::from_request_parts(parts, state).await?;
        if any.session.stage == SessionStage::Full {
            Ok(Signed(any))
        } else {
            Err(Redirect::to("/console/enroll").into_response())
        }
    }
}

impl Signed {
    /// The operator's role.
    pub fn role(&self) -> OperatorRole {
        self.0.session.operator.role
    }

    /// The operator's sign-in name.
    pub fn name(&self) -> &str {
        &self.0.session.operator.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_secure_except_on_loopback_http() {
        assert!(!secure("http://127.0.0.1:8080"));
        assert!(!secure("http://localhost:8080"));
        assert!(!secure("http://[::1]:8080"));
        assert!(secure("http://bank.example"));
        assert!(secure("https://127.0.0.1"));
        assert!(secure("not a url"));
    }

    #[test]
    fn csrf_tokens_follow_the_session_and_compare_exactly() {
        let a = random_token();
        let b = random_token();
        assert_ne!(csrf_of(&a), csrf_of(&b));
        assert!(same(&csrf_of(&a), &csrf_of(&a)));
        assert!(!same(&csrf_of(&a), ""));
        assert_ne!(id_hash(&a), id_hash(&b));
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; console_session=xyz; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&headers, "c"), None);
    }
}
