//! The cryptography of PSKC: AES-CBC decryption, HMAC value MACs, PBKDF2.
//!
//! RFC 6030 §6.1: an AES-CBC `CipherValue` is the 16-byte IV followed by the
//! PKCS#7-padded ciphertext, and the `ValueMAC` is an HMAC over that whole
//! `CipherValue` (encrypt-then-MAC), so the MAC is checked before anything is
//! decrypted.

use std::fmt;

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use zeroize::Zeroizing;

/// The AES block (and IV) size.
const BLOCK: usize = 16;

/// What unlocks an encrypted PSKC document.
#[derive(Clone, Default)]
pub enum KeySource {
    /// Nothing: only documents with plain values can be read.
    #[default]
    None,
    /// The pre-shared transport key agreed with the vendor (`EncryptionKey/KeyName`).
    PreSharedKey(Zeroizing<Vec<u8>>),
    /// The password from which the key is derived (`EncryptionKey/DerivedKey`, PBKDF2).
    Password(Zeroizing<String>),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::None => f.write_str("KeySource::None"),
            KeySource::PreSharedKey(k) => {
                write!(f, "KeySource::PreSharedKey([REDACTED; {} bytes])", k.len())
            }
            KeySource::Password(_) => f.write_str("KeySource::Password([REDACTED])"),
        }
    }
}

/// An encryption algorithm of an `EncryptionMethod`: AES in CBC mode, by key size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cipher {
    /// `http://www.w3.org/2001/04/xmlenc#aes128-cbc`
    Aes128,
    /// `http://www.w3.org/2001/04/xmlenc#aes192-cbc`
    Aes192,
    /// `http://www.w3.org/2001/04/xmlenc#aes256-cbc`
    Aes256,
}

impl Cipher {
    /// The cipher an XML Encryption algorithm URI names, if supported.
    pub fn from_uri(uri: &str) -> Option<Cipher> {
        match uri.trim() {
            "http://www.w3.org/2001/04/xmlenc#aes128-cbc" => Some(Cipher::Aes128),
            "http://www.w3.org/2001/04/xmlenc#aes192-cbc" => Some(Cipher::Aes192),
            "http://www.w3.org/2001/04/xmlenc#aes256-cbc" => Some(Cipher::Aes256),
            _ => None,
        }
    }

    /// The key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Cipher::Aes128 => 16,
            Cipher::Aes192 => 24,
            Cipher::Aes256 => 32,
        }
    }

    /// The short name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Cipher::Aes128 => "aes128-cbc",
            Cipher::Aes192 => "aes192-cbc",
            Cipher::Aes256 => "aes256-cbc",
        }
    }
}

/// Why a `CipherValue` did not decrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecryptError {
    /// Shorter than IV + one block, or not whole blocks.
    Length(usize),
    /// The padding is wrong: a wrong key, or a broken value.
    Padding,
}

/// Decrypts `iv || ciphertext` with `key` (whose length the caller has checked).
pub fn decrypt(
    cipher: Cipher,
    key: &[u8],
    value: &[u8],
) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
    if value.len() < 2 * BLOCK || !value.len().is_multiple_of(BLOCK) {
        return Err(DecryptError::Length(value.len()));
    }
    let (iv, body) = value.split_at(BLOCK);
    let mut buf = Zeroizing::new(body.to_vec());
    let len = match cipher {
        Cipher::Aes128 => cbc_decrypt::<aes::Aes128>(key, iv, &mut buf)?,
        Cipher::Aes192 => cbc_decrypt::<aes::Aes192>(key, iv, &mut buf)?,
        Cipher::Aes256 => cbc_decrypt::<aes::Aes256>(key, iv, &mut buf)?,
    };
    buf.truncate(len);
    Ok(buf)
}

/// CBC-decrypts `buf` in place; returns the plaintext length.
fn cbc_decrypt<C>(key: &[u8], iv: &[u8], buf: &mut [u8]) -> Result<usize, DecryptError>
where
    C: aes::cipher::BlockDecryptMut + aes::cipher::BlockCipher + aes::cipher::KeyInit,
{
    let decryptor = cbc::Decryptor::<C>::new_from_slices(key, iv)
        .map_err(|_| DecryptError::Length(key.len()))?;
    decryptor
        .decrypt_padded_mut::<Pkcs7>(buf)
        .map(|plain| plain.len())
        .map_err(|_| DecryptError::Padding)
}

/// A `MACMethod` algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacAlgorithm {
    /// `http://www.w3.org/2000/09/xmldsig#hmac-sha1`
    Sha1,
    /// `http://www.w3.org/2001/04/xmldsig-more#hmac-sha224`
    Sha224,
    /// `http://www.w3.org/2001/04/xmldsig-more#hmac-sha256`
    Sha256,
    /// `http://www.w3.org/2001/04/xmldsig-more#hmac-sha384`
    Sha384,
    /// `http://www.w3.org/2001/04/xmldsig-more#hmac-sha512`
    Sha512,
}

impl MacAlgorithm {
    /// The MAC algorithm a URI names, if supported.
    pub fn from_uri(uri: &str) -> Option<MacAlgorithm> {
        match uri.trim() {
            "http://www.w3.org/2000/09/xmldsig#hmac-sha1" => Some(MacAlgorithm::Sha1),
            "http://www.w3.org/2001/04/xmldsig-more#hmac-sha224" => Some(MacAlgorithm::Sha224),
            "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256" => Some(MacAlgorithm::Sha256),
            "http://www.w3.org/2001/04/xmldsig-more#hmac-sha384" => Some(MacAlgorithm::Sha384),
            "http://www.w3.org/2001/04/xmldsig-more#hmac-sha512" => Some(MacAlgorithm::Sha512),
            _ => None,
        }
    }

    /// Whether `tag` is the MAC of `data` under `key`, compared in constant time.
    pub fn verify(self, key: &[u8], data: &[u8], tag: &[u8]) -> bool {
        fn check<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8], tag: &[u8]) -> bool {
            match <M as hmac::digest::KeyInit>::new_from_slice(key) {
                Ok(mut mac) => {
                    mac.update(data);
                    mac.verify_slice(tag).is_ok()
                }
                Err(_) => false,
            }
        }
        match self {
            MacAlgorithm::Sha1 => check::<Hmac<sha1::Sha1>>(key, data, tag),
            MacAlgorithm::Sha224 => check::<Hmac<sha2::Sha224>>(key, data, tag),
            MacAlgorithm::Sha256 => check::<Hmac<sha2::Sha256>>(key, data, tag),
            MacAlgorithm::Sha384 => check::<Hmac<sha2::Sha384>>(key, data, tag),
            MacAlgorithm::Sha512 => check::<Hmac<sha2::Sha512>>(key, data, tag),
        }
    }
}

/// The pseudo-random function of PBKDF2 (`PBKDF2-params/PRF`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prf {
    /// HMAC-SHA1, the PKCS #5 default (an empty `<PRF/>` as in RFC 6030 Figure 7).
    Sha1,
    /// HMAC-SHA224.
    Sha224,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA384.
    Sha384,
    /// HMAC-SHA512.
    Sha512,
}

impl Prf {
    /// The PRF a URI names, if supported. Both the XML Signature names and the
    /// PKCS #5 schema names are used in the wild.
    pub fn from_uri(uri: &str) -> Option<Prf> {
        let uri = uri.trim();
        let name = uri.rsplit(['#', '/']).next().unwrap_or(uri);
        match name.to_ascii_lowercase().as_str() {
            "hmac-sha1" | "hmacwithsha1" => Some(Prf::Sha1),
            "hmac-sha224" | "hmacwithsha224" => Some(Prf::Sha224),
            "hmac-sha256" | "hmacwithsha256" => Some(Prf::Sha256),
            "hmac-sha384" | "hmacwithsha384" => Some(Prf::Sha384),
            "hmac-sha512" | "hmacwithsha512" => Some(Prf::Sha512),
            _ => None,
        }
    }

    /// PBKDF2 of `password` into `len` bytes.
    pub fn derive(
        self,
        password: &[u8],
        salt: &[u8],
        rounds: u32,
        len: usize,
    ) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(vec![0u8; len]);
        match self {
            Prf::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, rounds, &mut out),
            Prf::Sha224 => pbkdf2::pbkdf2_hmac::<sha2::Sha224>(password, salt, rounds, &mut out),
            Prf::Sha256 => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, rounds, &mut out),
            Prf::Sha384 => pbkdf2::pbkdf2_hmac::<sha2::Sha384>(password, salt, rounds, &mut out),
            Prf::Sha512 => pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, rounds, &mut out),
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_key_source_is_redacted() {
        let psk = KeySource::PreSharedKey(Zeroizing::new(b"0123456789abcdef".to_vec()));
        let pw = KeySource::Password(Zeroizing::new("hunter2".into()));
        assert_eq!(
            format!("{psk:?}"),
            "KeySource::PreSharedKey([REDACTED; 16 bytes])"
        );
        assert_eq!(format!("{pw:?}"), "KeySource::Password([REDACTED])");
    }

    #[test]
    fn short_or_ragged_cipher_values_are_length_errors() {
        let key = [0u8; 16];
        assert_eq!(
            decrypt(Cipher::Aes128, &key, &[0u8; 16]),
            Err(DecryptError::Length(16))
        );
        assert_eq!(
            decrypt(Cipher::Aes128, &key, &[0u8; 33]),
            Err(DecryptError::Length(33))
        );
    }

    #[test]
    fn prf_names() {
        assert_eq!(
            Prf::from_uri("http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"),
            Some(Prf::Sha256)
        );
        assert_eq!(
            Prf::from_uri(
                "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#hmacWithSHA1"
            ),
            Some(Prf::Sha1)
        );
        assert_eq!(Prf::from_uri("urn:example:md5"), None);
    }

    /// RFC 6030 Figure 7: PBKDF2-HMAC-SHA1("qwerty", salt, 1000) is the stated key.
    #[test]
    fn rfc6030_figure7_key_derivation() {
        let salt = [0x12, 0x3e, 0xff, 0x3c, 0x4a, 0x72, 0x12, 0x9c];
        let key = Prf::Sha1.derive(b"qwerty", &salt, 1000, 16);
        assert_eq!(
            key.as_slice(),
            [
                0x65, 0x1e, 0x63, 0xcd, 0x57, 0x00, 0x84, 0x76, 0xaf, 0x1f, 0xf6, 0x42, 0x2c, 0xd0,
                0x2e, 0x41
            ]
        );
    }
}
