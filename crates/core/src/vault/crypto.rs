//! The vault's keys and the AES-256-GCM operations on them.
//!
//! The data key encrypts the token list. With the app lock on, a key derived from the
//! PIN (PBKDF2-HMAC-SHA256) wraps the data key first, and the platform's
//! [`KeyWrapper`](crate::keywrap::KeyWrapper) wraps the result.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

/// Length of every AES-256-GCM nonce in the vault.
pub const NONCE_LEN: usize = 12;
/// Length of the AES-256-GCM tag.
pub const TAG_LEN: usize = 16;
/// Length of the data key and the PIN key.
pub const KEY_LEN: usize = 32;
/// Length of a fresh PIN salt.
pub const SALT_LEN: usize = 16;
/// Binds a PIN-wrapped data key to its purpose.
const PIN_WRAP_AAD: &[u8] = b"softtoken/vault/pin-wrap/v1";

/// The random key the token list is encrypted under. Wiped on drop, redacted in `Debug`.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; KEY_LEN]>);

/// The key derived from the PIN. Wiped on drop, redacted in `Debug`.
pub struct PinKey(Zeroizing<[u8; KEY_LEN]>);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey([REDACTED])")
    }
}

impl fmt::Debug for PinKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PinKey([REDACTED])")
    }
}

/// An AEAD failure: wrong key, or the bytes were changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unauthentic;

impl DataKey {
    /// A fresh key from the OS CSPRNG.
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        OsRng.fill_bytes(&mut *key);
        DataKey(key)
    }

    /// The key from its raw bytes (after unwrapping); `None` if the length is wrong.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let array: [u8; KEY_LEN] = bytes.try_into().ok()?;
        Some(DataKey(Zeroizing::new(array)))
    }

    /// The raw bytes, for wrapping.
    pub fn expose(&self) -> &[u8] {
        &*self.0
    }

    /// Encrypts `plaintext` under a fresh nonce; returns `nonce || ciphertext || tag`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        seal(&self.0, plaintext, aad)
    }

    /// The inverse of [`DataKey::seal`].
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, Unauthentic> {
        open(&self.0, sealed, aad)
    }
}

impl PinKey {
    /// PBKDF2-HMAC-SHA256(pin, salt, iterations).
    pub fn derive(pin: &str, salt: &[u8], iterations: u32) -> Self {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(pin.as_bytes(), salt, iterations, &mut *key);
        PinKey(key)
    }

    /// Wraps the data key: `nonce || AES-256-GCM(pin key, data key) || tag`.
    pub fn wrap(&self, data_key: &DataKey) -> Vec<u8> {
        seal(&self.0, data_key.expose(), PIN_WRAP_AAD)
    }

    /// Unwraps a data key; `Unauthentic` means a wrong PIN (or a damaged blob).
    pub fn unwrap(&self, wrapped: &[u8]) -> Result<DataKey, Unauthentic> {
        let bytes = open(&self.0, wrapped, PIN_WRAP_AAD)?;
        DataKey::from_slice(&bytes).ok_or(Unauthentic)
    }
}

/// A fresh random salt for the PIN KDF.
pub fn fresh_salt() -> Vec<u8> {
    let mut salt = vec![0u8; SALT_LEN];
    OsRng.fill_bytes(&mut salt);
    salt
}

fn seal(key: &[u8; KEY_LEN], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    let cipher = Aes256Gcm::new(key.into());
    // AES-GCM encryption only fails for plaintexts over 64 GiB.
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .unwrap_or_else(|_| unreachable!("vault plaintexts are far below the AES-GCM limit"));
    let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    out
}

fn open(key: &[u8; KEY_LEN], sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, Unauthentic> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(Unauthentic);
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    Aes256Gcm::new(key.into())
        .decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad })
        .map(Zeroizing::new)
        .map_err(|_| Unauthentic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_with_fresh_nonces() {
        let key = DataKey::generate();
        let a = key.seal(b"tokens", b"header");
        let b = key.seal(b"tokens", b"header");
        assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN]);
        assert_eq!(&**key.open(&a, b"header").unwrap(), b"tokens");
        assert_eq!(key.open(&a, b"other header"), Err(Unauthentic));
        assert_eq!(DataKey::generate().open(&a, b"header"), Err(Unauthentic));
        assert_eq!(key.open(&a[..20], b"header"), Err(Unauthentic));
    }

    #[test]
    fn pin_key_wraps_the_data_key() {
        let dk = DataKey::generate();
        let salt = fresh_salt();
        let wrapped = PinKey::derive("1234", &salt, 10).wrap(&dk);
        let back = PinKey::derive("1234", &salt, 10).unwrap(&wrapped).unwrap();
        assert_eq!(back.expose(), dk.expose());
        assert!(PinKey::derive("1235", &salt, 10).unwrap(&wrapped).is_err());
        assert!(PinKey::derive("1234", &salt, 11).unwrap(&wrapped).is_err());
        assert_eq!(format!("{dk:?}"), "DataKey([REDACTED])");
    }

    #[test]
    fn pbkdf2_matches_a_known_vector() {
        // RFC 7914 §11 PBKDF2-HMAC-SHA256 test vector ("passwd", "salt", c = 1).
        let key = PinKey::derive("passwd", b"salt", 1);
        assert_eq!(hex(&key.0[..16]), "55ac046e56e3089fec1691c22544b605");
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
