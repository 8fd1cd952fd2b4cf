//! Token status (DESIGN.md §12): a token asks its server what became of it, proving itself
//! with a MAC under a key only it and the server can derive from its seed, and the server
//! answers MAC'd under the same key, so nobody else can ask about a token or forge an answer.
//!
//! ```text
//! status key = HKDF-SHA256(ikm = seed, salt = none, info = "softtoken/status/v1")
//! app    ── StatusRequest{serial, unix_ms, nonce, mac = HMAC(key, "request" ‖ serial ‖ unix_ms ‖ nonce)} ──▶
//!        ◀── StatusResponse{state, server_unix_ms, mac = HMAC(key, "response" ‖ serial ‖ nonce ‖ state ‖ server_unix_ms)} ──
//! ```
//!
//! Fields are length-prefixed ([`concat`]). The server refuses a request whose time is more
//! than [`MAX_SKEW_MS`] from its own clock; the nonce binds the answer to the question, so
//! an old answer cannot be replayed to the app.

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::serial::Serial;
use crate::session::ProtocolError;
use crate::wire::{B64, concat};

/// HKDF info of the status key.
pub const STATUS_INFO: &[u8] = b"softtoken/status/v1";
/// How far a request's time may be from the server's clock (±5 minutes).
pub const MAX_SKEW_MS: i64 = 5 * 60 * 1000;
/// Length of the client's nonce in bytes.
pub const NONCE_LEN: usize = 16;
/// Length of both MACs in bytes (HMAC-SHA256).
pub const MAC_LEN: usize = 32;

type HmacSha256 = Hmac<Sha256>;

/// What became of a token, as the server tells its holder.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    /// Activated or provisioned; the bank has not seen its first code yet.
    Pending,
    /// In use (利用中).
    Active,
    /// Revoked by the bank (トークン失効).
    Revoked,
    /// The customer's OTP was stopped: the bank unbound every token of the user.
    Stopped,
    /// Another token took its place (a device change or a newer activation).
    Replaced,
}

impl TokenStatus {
    /// Every state, in the order above.
    pub const ALL: [TokenStatus; 5] = [
        TokenStatus::Pending,
        TokenStatus::Active,
        TokenStatus::Revoked,
        TokenStatus::Stopped,
        TokenStatus::Replaced,
    ];

    /// The word on the wire, in the MAC and in `softtoken list --json`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Pending => "pending",
            TokenStatus::Active => "active",
            TokenStatus::Revoked => "revoked",
            TokenStatus::Stopped => "stopped",
            TokenStatus::Replaced => "replaced",
        }
    }

    /// Whether the token can never produce an accepted code again.
    pub fn is_dead(self) -> bool {
        matches!(
            self,
            TokenStatus::Revoked | TokenStatus::Stopped | TokenStatus::Replaced
        )
    }
}

/// `POST /v1/tokens/status`.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// The token asking.
    pub serial: Serial,
    /// The token's idea of the server's clock (device clock plus its offset), Unix ms.
    pub unix_ms: i64,
    /// [`NONCE_LEN`] random bytes; the answer's MAC covers them.
    pub nonce: B64,
    /// [`StatusKey::request_mac`].
    pub mac: B64,
}

/// The answer to [`StatusRequest`].
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusResponse {
    /// What became of the token.
    pub state: TokenStatus,
    /// The server's clock when it answered, Unix ms (the app may refresh its offset).
    pub server_unix_ms: i64,
    /// [`StatusKey::response_mac`].
    pub mac: B64,
}

/// The per-token status key. Wiped on drop; `Debug` redacts it.
#[derive(Clone)]
pub struct StatusKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for StatusKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StatusKey([REDACTED])")
    }
}

impl StatusKey {
    /// HKDF-SHA256(seed, info "softtoken/status/v1"): a key of its own, so a MAC under it
    /// never doubles as an OTP computation over the seed.
    pub fn derive(seed: &[u8]) -> Self {
        let hk = Hkdf::<Sha256>::new(None, seed);
        let mut key = Zeroizing::new([0u8; 32]);
        hk.expand(STATUS_INFO, &mut *key)
            .unwrap_or_else(|_| unreachable!("32 bytes is within HKDF-SHA256's limit"));
        StatusKey(key)
    }

    fn mac(&self, fields: &[&[u8]]) -> [u8; MAC_LEN] {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&*self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(&concat(fields));
        mac.finalize().into_bytes().into()
    }

    /// The app's MAC: HMAC(key, "request" ‖ serial ‖ unix_ms ‖ nonce).
    pub fn request_mac(&self, serial: &Serial, unix_ms: i64, nonce: &[u8]) -> [u8; MAC_LEN] {
        self.mac(&[
            b"request",
            serial.as_str().as_bytes(),
            &unix_ms.to_be_bytes(),
            nonce,
        ])
    }

    /// The server's MAC: HMAC(key, "response" ‖ serial ‖ nonce ‖ state ‖ server_unix_ms).
    pub fn response_mac(
        &self,
        serial: &Serial,
        nonce: &[u8],
        state: TokenStatus,
        server_unix_ms: i64,
    ) -> [u8; MAC_LEN] {
        self.mac(&[
            b"response",
            serial.as_str().as_bytes(),
            nonce,
            state.as_str().as_bytes(),
            &server_unix_ms.to_be_bytes(),
        ])
    }

    /// A request for `serial` at `unix_ms` with `nonce`, MAC'd.
    pub fn request(&self, serial: &Serial, unix_ms: i64, nonce: [u8; NONCE_LEN]) -> StatusRequest {
        StatusRequest {
            serial: serial.clone(),
            unix_ms,
            mac: B64(self.request_mac(serial, unix_ms, &nonce).to_vec()),
            nonce: B64(nonce.to_vec()),
        }
    }

    /// Checks a request's MAC in constant time (the server).
    pub fn check_request(&self, request: &StatusRequest) -> Result<(), ProtocolError> {
        let expected = self.request_mac(&request.serial, request.unix_ms, &request.nonce.0);
        ct_check(&expected, &request.mac.0)
    }

    /// The answer `state` to `request`, MAC'd (the server).
    pub fn response(
        &self,
        request: &StatusRequest,
        state: TokenStatus,
        server_unix_ms: i64,
    ) -> StatusResponse {
        let mac = self.response_mac(&request.serial, &request.nonce.0, state, server_unix_ms);
        StatusResponse {
            state,
            server_unix_ms,
            mac: B64(mac.to_vec()),
        }
    }

    /// Checks the server's answer to the request the app sent (same serial and nonce), in
    /// constant time.
    pub fn check_response(
        &self,
        request: &StatusRequest,
        response: &StatusResponse,
    ) -> Result<(), ProtocolError> {
        let expected = self.response_mac(
            &request.serial,
            &request.nonce.0,
            response.state,
            response.server_unix_ms,
        );
        ct_check(&expected, &response.mac.0)
    }
}

/// Whether a request's time is within [`MAX_SKEW_MS`] of the server's clock.
pub fn time_in_window(request_unix_ms: i64, server_unix_ms: i64) -> bool {
    (i128::from(request_unix_ms) - i128::from(server_unix_ms)).abs() <= i128::from(MAX_SKEW_MS)
}

fn ct_check(expected: &[u8], got: &[u8]) -> Result<(), ProtocolError> {
    if bool::from(expected.ct_eq(got)) {
        Ok(())
    } else {
        Err(ProtocolError::BadMac)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serial() -> Serial {
        Serial::generate()
    }

    #[test]
    fn request_and_answer_round_trip_and_bind_to_the_question() {
        let key = StatusKey::derive(b"12345678901234567890");
        let serial = serial();
        let request = key.request(&serial, 1_000, [7; NONCE_LEN]);
        key.check_request(&request).unwrap();
        let answer = key.response(&request, TokenStatus::Active, 1_001);
        key.check_response(&request, &answer).unwrap();

        // Another seed can neither ask nor answer.
        let other = StatusKey::derive(b"12345678901234567891");
        assert_eq!(other.check_request(&request), Err(ProtocolError::BadMac));
        assert_eq!(
            other.check_response(&request, &answer),
            Err(ProtocolError::BadMac)
        );
        // A changed state, time or nonce breaks the answer's MAC.
        let mut forged = answer.clone();
        forged.state = TokenStatus::Revoked;
        assert!(key.check_response(&request, &forged).is_err());
        let mut later = answer.clone();
        later.server_unix_ms += 1;
        assert!(key.check_response(&request, &later).is_err());
        let again = key.request(&serial, 1_000, [8; NONCE_LEN]);
        assert!(key.check_response(&again, &answer).is_err());
        // A changed time breaks the request's MAC.
        let mut moved = request.clone();
        moved.unix_ms += 1;
        assert!(key.check_request(&moved).is_err());
    }

    #[test]
    fn the_key_is_hkdf_of_the_seed_with_the_status_label() {
        let seed = b"12345678901234567890";
        let hk = Hkdf::<Sha256>::new(None, seed);
        let mut expected = [0u8; 32];
        hk.expand(b"softtoken/status/v1", &mut expected).unwrap();
        assert_eq!(*StatusKey::derive(seed).0, expected);
        assert_eq!(
            format!("{:?}", StatusKey::derive(seed)),
            "StatusKey([REDACTED])"
        );
    }

    #[test]
    fn the_window_is_five_minutes_each_way() {
        assert!(time_in_window(0, MAX_SKEW_MS));
        assert!(time_in_window(MAX_SKEW_MS, 0));
        assert!(!time_in_window(0, MAX_SKEW_MS + 1));
        assert!(!time_in_window(MAX_SKEW_MS + 1, 0));
        assert!(!time_in_window(i64::MIN, i64::MAX));
    }

    #[test]
    fn states_are_snake_case_words() {
        for s in TokenStatus::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert!(TokenStatus::Replaced.is_dead() && !TokenStatus::Active.is_dead());
    }
}
