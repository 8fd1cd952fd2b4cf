//! The vault file's bytes: layout, header, lock state and the encrypted token list.
//! FORMAT.md in this crate describes the same thing for people; keep them in step.
//!
//! ```text
//! magic "SOFTTOKV" | version u16 BE | header_len u32 BE | header JSON   ← associated data
//! lock_len u32 BE | lock-state JSON                                     ← not authenticated
//! nonce (12) | AES-256-GCM(data key, token-list JSON) | tag (16)
//! ```

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use softtoken_protocol::wire::B64;
use softtoken_protocol::{OtpParams, Serial, ServiceId};
use zeroize::Zeroizing;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::crypto::{NONCE_LEN, TAG_LEN};
use super::pin::LockState;
use crate::secret::Secret;
use crate::token::{Token, TokenState};

/// The first eight bytes of every vault file.
pub const MAGIC: &[u8; 8] = b"SOFTTOKV";
/// The format version this core writes.
pub const CURRENT_VERSION: u16 = 1;
/// The KDF id of the PIN key in version 1.
pub const KDF_PBKDF2_SHA256: &str = "pbkdf2-hmac-sha256";
/// The most PBKDF2 iterations a vault may ask for: 16× the default (600,000). The header
/// is read before anything authenticates it, so a file with `u32::MAX` iterations would
/// otherwise keep the app deriving a key for an hour on every unlock.
pub const MAX_PIN_ITERATIONS: u32 = 10_000_000;
const MAX_HEADER_LEN: usize = 64 * 1024;
const MAX_LOCK_LEN: usize = 4 * 1024;
const MAX_PLAUSIBLE_VERSION: u16 = 255;
const PREFIX_LEN: usize = 8 + 2 + 4;

/// The authenticated header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// The data key as the platform wrapped it; with a PIN, the PIN-wrapped data key inside.
    pub wrapped_key: B64,
    /// The PIN key's derivation, when the app lock is on.
    pub pin: Option<PinKdf>,
}

/// How the PIN key is derived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinKdf {
    /// Always [`KDF_PBKDF2_SHA256`] in version 1.
    pub kdf: String,
    /// PBKDF2 iterations.
    pub iterations: u32,
    /// The random salt.
    pub salt: B64,
}

/// A vault file taken apart. The token list stays encrypted.
#[derive(Debug, Clone)]
pub struct VaultFile {
    /// The header exactly as stored, so the associated data is reproduced byte for byte.
    pub header_bytes: Vec<u8>,
    /// The parsed header.
    pub header: Header,
    /// The wrong-PIN counter.
    pub lock: LockState,
    /// `nonce || ciphertext || tag` of the token list.
    pub body: Vec<u8>,
}

/// Why a file could not be taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not a vault, truncated, or damaged.
    Corrupt(String),
    /// A version this core does not know.
    Version(u16),
}

impl VaultFile {
    /// A file with `header` (serialised now), `lock` and an already sealed `body`.
    pub fn new(header: Header, lock: LockState, body: Vec<u8>) -> Self {
        let header_bytes = serde_json::to_vec(&header)
            .unwrap_or_else(|_| unreachable!("the header serialises: plain strings and numbers"));
        VaultFile {
            header_bytes,
            header,
            lock,
            body,
        }
    }

    /// The associated data the token list is sealed with: everything before the lock state.
    pub fn aad(&self) -> Vec<u8> {
        prefix(CURRENT_VERSION, &self.header_bytes)
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let lock = serde_json::to_vec(&self.lock)
            .unwrap_or_else(|_| unreachable!("the lock state serialises: two numbers"));
        let mut out = self.aad();
        out.extend_from_slice(&len32(lock.len()).to_be_bytes());
        out.extend_from_slice(&lock);
        out.extend_from_slice(&self.body);
        out
    }

    /// Takes `bytes` apart, checking structure (not the encryption: that needs the key).
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let corrupt = |why: &str| ParseError::Corrupt(why.to_string());
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(corrupt("it does not start with the vault magic bytes"));
        }
        let mut r = Reader {
            bytes,
            at: MAGIC.len(),
        };
        let version = u16::from_be_bytes(r.array().ok_or_else(|| corrupt("truncated header"))?);
        match version {
            1 => {}
            // A plausible future version; anything beyond is noise after the magic.
            2..=MAX_PLAUSIBLE_VERSION => return Err(ParseError::Version(version)),
            _ => return Err(corrupt("invalid format version")),
        }
        let header_bytes = r
            .chunk(MAX_HEADER_LEN)
            .ok_or_else(|| corrupt("truncated header"))?;
        let header: Header = serde_json::from_slice(header_bytes)
            .map_err(|e| ParseError::Corrupt(format!("unreadable header: {e}")))?;
        if let Some(pin) = &header.pin
            && (pin.kdf != KDF_PBKDF2_SHA256
                || !(1..=MAX_PIN_ITERATIONS).contains(&pin.iterations)
                || pin.salt.0.is_empty())
        {
            return Err(corrupt("unknown or invalid PIN key derivation"));
        }
        let lock_bytes = r
            .chunk(MAX_LOCK_LEN)
            .ok_or_else(|| corrupt("truncated lock state"))?;
        let lock: LockState = serde_json::from_slice(lock_bytes)
            .map_err(|e| ParseError::Corrupt(format!("unreadable lock state: {e}")))?;
        let body = &bytes[r.at..];
        if body.len() < NONCE_LEN + TAG_LEN {
            return Err(corrupt("truncated token list"));
        }
        Ok(VaultFile {
            header_bytes: header_bytes.to_vec(),
            header,
            lock,
            body: body.to_vec(),
        })
    }
}

fn prefix(version: u16, header: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(PREFIX_LEN + header.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&len32(header.len()).to_be_bytes());
    out.extend_from_slice(header);
    out
}

fn len32(len: usize) -> u32 {
    // Header and lock state are built here and stay far below 4 GiB.
    u32::try_from(len).unwrap_or(u32::MAX)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let out = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(out)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn chunk(&mut self, max: usize) -> Option<&'a [u8]> {
        let len = usize::try_from(u32::from_be_bytes(self.array()?)).ok()?;
        if len > max {
            return None;
        }
        self.take(len)
    }
}

/// The decrypted token list.
#[derive(Serialize, Deserialize)]
struct Body {
    tokens: Vec<TokenRecord>,
}

/// One token as stored (version 1). Kept apart from [`Token`] so the in-memory type can
/// change without changing the file.
#[derive(Serialize, Deserialize)]
struct TokenRecord {
    serial: Serial,
    issuer: String,
    service_id: ServiceId,
    user_label: String,
    params: OtpParams,
    #[serde(with = "seed_b64")]
    secret: Secret,
    state: TokenState,
    created_at: u64,
    server_url: String,
    clock_offset_ms: i64,
}

/// Serialises the token list to JSON in a buffer that is wiped on drop.
pub fn encode_tokens(tokens: &[Token]) -> Zeroizing<Vec<u8>> {
    let body = Body {
        tokens: tokens.iter().map(TokenRecord::from).collect(),
    };
    // Sized generously up front: a reallocation would leave a copy of seeds behind.
    let mut out = Zeroizing::new(Vec::with_capacity(1024 + 1024 * tokens.len()));
    serde_json::to_writer(&mut *out, &body)
        .unwrap_or_else(|_| unreachable!("token records serialise: strings and numbers"));
    out
}

/// Parses a decrypted token list.
pub fn decode_tokens(plaintext: &[u8]) -> Result<Vec<Token>, String> {
    let body: Body =
        serde_json::from_slice(plaintext).map_err(|e| format!("unreadable token list: {e}"))?;
    Ok(body.tokens.into_iter().map(Token::from).collect())
}

impl From<&Token> for TokenRecord {
    fn from(t: &Token) -> Self {
        TokenRecord {
            serial: t.serial.clone(),
            issuer: t.issuer.clone(),
            service_id: t.service_id.clone(),
            user_label: t.user_label.clone(),
            params: t.params,
            secret: t.secret.clone(),
            state: t.state,
            created_at: t.created_at,
            server_url: t.server_url.clone(),
            clock_offset_ms: t.clock_offset_ms,
        }
    }
}

impl From<TokenRecord> for Token {
    fn from(r: TokenRecord) -> Self {
        Token {
            serial: r.serial,
            issuer: r.issuer,
            service_id: r.service_id,
            user_label: r.user_label,
            params: r.params,
            secret: r.secret,
            state: r.state,
            created_at: r.created_at,
            server_url: r.server_url,
            clock_offset_ms: r.clock_offset_ms,
        }
    }
}

/// Seeds as unpadded base64url, through buffers that are wiped.
mod seed_b64 {
    use super::*;

    pub fn serialize<S: Serializer>(secret: &Secret, s: S) -> Result<S::Ok, S::Error> {
        let text = Zeroizing::new(URL_SAFE_NO_PAD.encode(secret.expose()));
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        d.deserialize_str(SeedVisitor)
    }

    struct SeedVisitor;

    impl Visitor<'_> for SeedVisitor {
        type Value = Secret;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a base64url seed")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Secret, E> {
            let bytes = URL_SAFE_NO_PAD
                .decode(text)
                .map_err(|_| E::custom("seed is not base64url"))?;
            if bytes.is_empty() {
                return Err(E::custom("empty seed"));
            }
            Ok(Secret::new(bytes))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> VaultFile {
        VaultFile::new(
            Header {
                wrapped_key: B64(vec![1, 2, 3]),
                pin: Some(PinKdf {
                    kdf: KDF_PBKDF2_SHA256.into(),
                    iterations: 7,
                    salt: B64(vec![9; 16]),
                }),
            },
            LockState {
                failures: 2,
                last_failure_unix_ms: 99,
            },
            vec![0xAB; NONCE_LEN + TAG_LEN + 5],
        )
    }

    #[test]
    fn round_trip() {
        let file = sample();
        let parsed = VaultFile::parse(&file.to_bytes()).unwrap();
        assert_eq!(parsed.header, file.header);
        assert_eq!(parsed.lock, file.lock);
        assert_eq!(parsed.body, file.body);
        assert_eq!(parsed.aad(), file.aad());
    }

    #[test]
    fn an_unbounded_pin_derivation_is_corrupt_not_an_hour_of_work() {
        for iterations in [0, MAX_PIN_ITERATIONS + 1, u32::MAX] {
            let mut file = sample();
            if let Some(pin) = file.header.pin.as_mut() {
                pin.iterations = iterations;
            }
            let file = VaultFile::new(file.header, file.lock, file.body);
            assert!(
                matches!(
                    VaultFile::parse(&file.to_bytes()),
                    Err(ParseError::Corrupt(_))
                ),
                "{iterations}"
            );
        }
        let mut file = sample();
        if let Some(pin) = file.header.pin.as_mut() {
            pin.iterations = MAX_PIN_ITERATIONS;
        }
        let file = VaultFile::new(file.header, file.lock, file.body);
        assert!(VaultFile::parse(&file.to_bytes()).is_ok());
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = sample().to_bytes();
        for len in 0..bytes.len() - 5 {
            assert!(
                matches!(VaultFile::parse(&bytes[..len]), Err(ParseError::Corrupt(_))),
                "{len}"
            );
        }
    }

    #[test]
    fn newer_versions_are_named() {
        let mut bytes = sample().to_bytes();
        bytes[9] = 2;
        assert_eq!(
            VaultFile::parse(&bytes).unwrap_err(),
            ParseError::Version(2)
        );
    }
}
