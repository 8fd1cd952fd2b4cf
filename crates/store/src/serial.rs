//! The serial a token is known by on this server: a softtoken serial (`SKTS…`) or a
//! hardware token's vendor serial.
//!
//! Softtoken serials keep their own rules (spaces and hyphens dropped, `O`/`I`/`L`
//! read as digits, check symbol). Vendor serials are 1–64 of `[A-Za-z0-9-]`, matched
//! case-insensitively, so they are stored upper-case and get no other normalisation.
//! Anything starting with `SKTS` is read as a softtoken serial, so the two never meet.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use softtoken_protocol::Serial;
use softtoken_protocol::serial::PREFIX;

/// Why a text is not a token serial.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenSerialError {
    /// It starts with `SKTS` but is no valid softtoken serial.
    #[error(transparent)]
    Soft(#[from] softtoken_protocol::SerialError),
    /// Neither a softtoken serial nor 1–64 of `[A-Za-z0-9-]`.
    #[error(
        "a serial is SKTS and 8 symbols, or a hardware serial of 1 to 64 letters, digits or hyphens"
    )]
    Vendor,
}

/// A softtoken or hardware token serial, normalised.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenSerial(String);

impl TokenSerial {
    /// Parses what a bank sent: `SKTS…` by the softtoken rules, anything else as a
    /// vendor serial (trimmed, upper-cased).
    pub fn parse(text: &str) -> Result<Self, TokenSerialError> {
        let trimmed = text.trim();
        let squeezed: String = trimmed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .take(PREFIX.len())
            .collect();
        if squeezed.eq_ignore_ascii_case(PREFIX) {
            return Ok(Serial::parse(trimmed)?.into());
        }
        Self::vendor(trimmed).ok_or(TokenSerialError::Vendor)
    }

    /// A hardware token's vendor serial, if `text` is one (1–64 of `[A-Za-z0-9-]`, not
    /// starting with `SKTS`).
    pub fn vendor(text: &str) -> Option<Self> {
        let valid = (1..=64).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !(text.len() >= PREFIX.len() && text[..PREFIX.len()].eq_ignore_ascii_case(PREFIX));
        valid.then(|| TokenSerial(text.to_ascii_uppercase()))
    }

    /// The normalised serial, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<Serial> for TokenSerial {
    fn from(serial: Serial) -> Self {
        TokenSerial(serial.as_str().to_string())
    }
}

impl fmt::Display for TokenSerial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TokenSerial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenSerial({})", self.0)
    }
}

impl Serialize for TokenSerial {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TokenSerial {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        TokenSerial::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softtoken_serials_keep_their_normalisation() {
        let soft = Serial::generate();
        let typed = soft.grouped().to_lowercase().replace('0', "o");
        assert_eq!(TokenSerial::parse(&typed).unwrap(), TokenSerial::from(soft));
        assert!(matches!(
            TokenSerial::parse("SKTS 0000 0001"),
            Err(TokenSerialError::Soft(_))
        ));
    }

    #[test]
    fn vendor_serials_match_ignoring_case_only() {
        assert_eq!(
            TokenSerial::parse(" ft-0001a ").unwrap().as_str(),
            "FT-0001A"
        );
        assert_eq!(
            TokenSerial::parse("Ft-0001A").unwrap(),
            TokenSerial::parse("fT-0001a").unwrap()
        );
        assert_ne!(
            TokenSerial::parse("FT0001A").unwrap(),
            TokenSerial::parse("FT-0001A").unwrap()
        );
        assert_eq!(TokenSerial::parse("FT 0001"), Err(TokenSerialError::Vendor));
        assert_eq!(TokenSerial::parse(""), Err(TokenSerialError::Vendor));
        assert_eq!(
            TokenSerial::parse(&"A".repeat(65)),
            Err(TokenSerialError::Vendor)
        );
        assert_eq!(TokenSerial::vendor("skts-123"), None);
    }
}
