//! Bank API authentication: a bearer API key per service, stored only as its SHA-256.
//!
//! Keys are 256 random bits, so a fast hash is enough (nothing to brute-force) and
//! the database lookup by hash leaks nothing useful through timing.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use softtoken_protocol::ServiceId;
use softtoken_protocol::problem::codes;
use zeroize::Zeroizing;

use crate::AppState;
use crate::error::ApiError;
use softtoken_store::Service;

/// Prefix of every API key, so leaked keys are easy to recognise in scanners.
pub const KEY_PREFIX: &str = "stk_";

/// A fresh API key: `stk_` + 32 random bytes in base64url. Show it once, store its hash.
pub fn generate_key() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(&mut *bytes);
    Zeroizing::new(format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(*bytes)))
}

/// The stored form of an API key.
pub fn hash_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// The service whose API key the request carries.
#[derive(Debug, Clone)]
pub struct BankAuth(pub ServiceId);

impl BankAuth {
    /// 403 unless the key belongs to `service`.
    pub fn require(&self, service: &ServiceId) -> Result<(), ApiError> {
        if &self.0 == service {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                codes::FORBIDDEN,
                format!("this API key does not belong to service '{service}'"),
            ))
        }
    }
}

fn unauthorized(detail: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, codes::UNAUTHORIZED, detail)
}

impl FromRequestParts<AppState> for BankAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            unauthorized("send the service's API key as 'Authorization: Bearer KEY'")
        })?;
        let key = value
            .to_str()
            .ok()
            .and_then(bearer_token)
            .ok_or_else(|| unauthorized("the Authorization header must be 'Bearer KEY'"))?;
        match state.service_for_key(&hash_key(key)).await? {
            Some(service) => Ok(BankAuth(service)),
            None => Err(unauthorized("unknown API key")),
        }
    }
}

/// The credentials of a `Bearer` authorization (the scheme name is case-insensitive,
/// RFC 9110 §11.1).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The service a bank call is for, once the request's API key proved it may act for it:
/// 401 without a known key, 403 for another service's key, 400 for a malformed service
/// ID in the path.
#[derive(Debug, Clone)]
pub struct ServiceAccess(pub Service);

impl FromRequestParts<AppState> for ServiceAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = BankAuth::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::bad_request("the path names no service"))?;
        let sid = params
            .iter()
            .find(|(name, _)| *name == "sid")
            .map(|(_, value)| value)
            .ok_or_else(|| ApiError::bad_request("the path names no service"))?;
        let sid = ServiceId::new(sid)
            .map_err(|e| ApiError::bad_request(format!("the service ID in the path: {e}")))?;
        auth.require(&sid)?;
        Ok(ServiceAccess(crate::routes::service(state, &sid).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_prefixed_and_hashed() {
        let a = generate_key();
        let b = generate_key();
        assert!(a.starts_with(KEY_PREFIX));
        assert_ne!(*a, *b);
        assert_eq!(a.len(), KEY_PREFIX.len() + 43);
        assert_ne!(hash_key(&a), hash_key(&b));
        assert_eq!(hash_key(&a), hash_key(&a.clone()));
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token("Bearer stk_a"), Some("stk_a"));
        assert_eq!(bearer_token("bearer  stk_a "), Some("stk_a"));
        assert_eq!(bearer_token("BEARER stk_a"), Some("stk_a"));
        assert_eq!(bearer_token("Basic stk_a"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Bearer"), None);
    }
}
