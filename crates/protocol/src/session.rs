//! The key two parties share after activation (SPAKE2) or provisioning (X25519),
//! bound to the transcript of the exchange, and everything derived from it.

use std::fmt;

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::otp::{Algorithm, OtpParams};
use crate::serial::Serial;
use crate::wire::concat;

/// Why a protocol step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// A peer's message was malformed (wrong length, not a curve point, …).
    #[error("malformed protocol message: {0}")]
    BadMessage(&'static str),
    /// The key confirmation did not match: in activation, the start password was wrong.
    #[error("key confirmation failed (wrong start password)")]
    ConfirmationMismatch,
    /// The MAC over the issued token's parameters did not match: tampered or wrong peer.
    #[error("the token parameters' MAC does not match")]
    BadMac,
    /// The parameters the server sent are outside what the protocol allows.
    #[error("invalid token parameters: {0}")]
    BadParams(String),
}

/// A shared key and the transcript hash it is bound to. Wiped on drop; `Debug` redacts it.
#[derive(Clone)]
pub struct SessionKey {
    key: Zeroizing<Vec<u8>>,
    transcript: [u8; 32],
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionKey([REDACTED])")
    }
}

type HmacSha256 = Hmac<Sha256>;

impl SessionKey {
    /// Binds `key` (the SPAKE2 key or the X25519 shared secret) to `transcript`.
    pub fn new(key: Zeroizing<Vec<u8>>, transcript: [u8; 32]) -> Self {
        SessionKey { key, transcript }
    }

    /// Serialises key and transcript so a server can keep a session (encrypted) between
    /// two requests, possibly on another instance.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(self.transcript.to_vec());
        out.extend_from_slice(&self.key);
        out
    }

    /// The inverse of [`SessionKey::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ProtocolError> {
        if bytes.len() <= 32 {
            return Err(ProtocolError::BadMessage("session key too short"));
        }
        let mut transcript = [0u8; 32];
        transcript.copy_from_slice(&bytes[..32]);
        Ok(SessionKey {
            key: Zeroizing::new(bytes[32..].to_vec()),
            transcript,
        })
    }

    /// The transcript hash.
    pub fn transcript(&self) -> &[u8; 32] {
        &self.transcript
    }

    fn mac(&self, label: &[u8], extra: &[u8]) -> [u8; 32] {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(label);
        mac.update(&self.transcript);
        mac.update(extra);
        mac.finalize().into_bytes().into()
    }

    /// The server's key confirmation: HMAC(K, "server" || transcript hash).
    pub fn server_confirmation(&self) -> [u8; 32] {
        self.mac(b"server", &[])
    }

    /// The app's key confirmation: HMAC(K, "app" || transcript hash).
    pub fn app_confirmation(&self) -> [u8; 32] {
        self.mac(b"app", &[])
    }

    /// Checks the server's confirmation in constant time.
    pub fn check_server_confirmation(&self, confirmation: &[u8]) -> Result<(), ProtocolError> {
        ct_check(
            &self.server_confirmation(),
            confirmation,
            ProtocolError::ConfirmationMismatch,
        )
    }

    /// Checks the app's confirmation in constant time.
    pub fn check_app_confirmation(&self, confirmation: &[u8]) -> Result<(), ProtocolError> {
        ct_check(
            &self.app_confirmation(),
            confirmation,
            ProtocolError::ConfirmationMismatch,
        )
    }

    /// The MAC over an issued token: HMAC(K, "token" || transcript hash || fields).
    pub fn token_mac(&self, serial: &Serial, token: &IssuedToken) -> [u8; 32] {
        self.mac(b"token", &token.mac_input(serial))
    }

    /// Checks the MAC over an issued token in constant time.
    pub fn check_token_mac(
        &self,
        serial: &Serial,
        token: &IssuedToken,
        mac: &[u8],
    ) -> Result<(), ProtocolError> {
        ct_check(&self.token_mac(serial, token), mac, ProtocolError::BadMac)
    }

    /// The token seed: HKDF-SHA256(K, salt = transcript hash, info = "softtoken/seed/v1" ||
    /// serial), as long as the algorithm's HMAC block wants (20/32/64 bytes).
    pub fn seed(&self, serial: &Serial, algorithm: Algorithm) -> Zeroizing<Vec<u8>> {
        let hk = Hkdf::<Sha256>::new(Some(&self.transcript), &self.key);
        let mut seed = Zeroizing::new(vec![0u8; algorithm.seed_len()]);
        let info = concat(&[b"softtoken/seed/v1", serial.as_str().as_bytes()]);
        // 64 bytes is far below HKDF-SHA256's 8160-byte limit.
        hk.expand(&info, &mut seed)
            .unwrap_or_else(|_| unreachable!("seed length within HKDF limit"));
        seed
    }
}

fn ct_check(expected: &[u8], got: &[u8], err: ProtocolError) -> Result<(), ProtocolError> {
    if bool::from(expected.ct_eq(got)) {
        Ok(())
    } else {
        Err(err)
    }
}

/// What the server tells the app about the token it just issued; MACed under the session key.
// No `deny_unknown_fields`: serde does not support it together with `flatten` (every
// answer failed to parse with "unknown field `issuer`").
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedToken {
    /// The bank's display name, shown on the token (e.g. "しんきん銀行").
    pub issuer: String,
    /// OTP parameters of the token.
    #[serde(flatten)]
    pub params: OtpParams,
    /// The server's clock when it answered, in Unix milliseconds, for the app's clock offset.
    pub server_unix_ms: i64,
}

impl IssuedToken {
    fn mac_input(&self, serial: &Serial) -> Vec<u8> {
        concat(&[
            serial.as_str().as_bytes(),
            self.issuer.as_bytes(),
            self.params.algorithm.as_str().as_bytes(),
            &self.params.digits.get().to_be_bytes(),
            &self.params.period.seconds().to_be_bytes(),
            &self.server_unix_ms.to_be_bytes(),
        ])
    }
}
