//! Device cookies (OWASP's answer to sign-in floods and lockouts, as Keycloak's): a browser
//! an operator fully signed in from (password and own-token code) gets a cookie sealed
//! under the master key and bound to that sign-in name. A sign-in that presents a live one
//! for the name it types is not slowed by the per-address limit and has its own lane on the
//! password pool (`gate::Lane::KnownDevice`), so a flood of unknown names from the same
//! proxy or from ever-new addresses does not keep the bank's staff out (issue 22, finding
//! 2). It proves nothing by itself: the password, the code and the back-off still apply.

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::session;
use crate::AppState;
use softtoken_service::crypto::Bound;

/// The device cookie's name.
pub const DEVICE_COOKIE: &str = "console_device";
/// How long a device stays known without a new sign-in from it.
pub const DEVICE_TTL_MS: i64 = 90 * 86_400_000;

/// The `Set-Cookie` value that makes this browser a known device of `operator`.
pub fn cookie_for(state: &AppState, operator: &str) -> String {
    let expires = state.now().saturating_add(DEVICE_TTL_MS);
    let sealed = state
        .key
        .seal(&expires.to_le_bytes(), Bound::ConsoleDevice { operator });
    session::set_cookie(
        state,
        DEVICE_COOKIE,
        &URL_SAFE_NO_PAD.encode(sealed),
        DEVICE_TTL_MS / 1000,
    )
}

/// Whether the request carries a live device cookie of `operator` (the name as typed).
pub fn recognised(state: &AppState, headers: &HeaderMap, operator: &str) -> bool {
    let Some(value) = session::cookie(headers, DEVICE_COOKIE) else {
        return false;
    };
    let Ok(sealed) = URL_SAFE_NO_PAD.decode(value) else {
        return false;
    };
    let Ok(opened) = state.key.open(&sealed, Bound::ConsoleDevice { operator }) else {
        return false;
    };
    let Ok(bytes) = <[u8; 8]>::try_from(opened.as_slice()) else {
        return false;
    };
    i64::from_le_bytes(bytes) > state.now()
}
