//! Token serial numbers: `SKTS` + 7 random symbols + 1 check symbol.
//!
//! Symbols are Crockford base32 (`0-9A-Z` without `I L O U`). The check symbol
//! is Luhn mod 32 over the seven random symbols, so every single-symbol typo is
//! caught. For adjacent transpositions Luhn mod N detects every swap of two
//! different symbols except one pair: in base 32 that is `0` ↔ `Z` (their
//! doubled digit sums differ from the symbols by the same amount mod 32). The
//! property tests in `tests/serial_props.rs` check both statements exhaustively.

use std::fmt;
use std::str::FromStr;

use rand::RngCore;
use rand::rngs::OsRng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The fixed prefix every softtoken serial starts with.
pub const PREFIX: &str = "SKTS";
/// Total length of a serial without spaces: prefix, 7 random symbols, 1 check symbol.
pub const LEN: usize = 12;
const RANDOM_SYMBOLS: usize = 7;
/// The Crockford base32 alphabet, in value order.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Why a text is not a valid serial number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SerialError {
    /// The text does not start with `SKTS`.
    #[error("a serial number starts with SKTS")]
    Prefix,
    /// After removing spaces and hyphens the text is not 12 characters long.
    #[error("a serial number has 12 characters (SKTS and 8 more), this has {found}")]
    Length {
        /// How many characters were found.
        found: usize,
    },
    /// A character that is not a Crockford base32 symbol.
    #[error("'{symbol}' at position {position} cannot appear in a serial number")]
    Symbol {
        /// The offending character.
        symbol: char,
        /// Its 1-based position in the normalised serial.
        position: usize,
    },
    /// The check symbol does not match: most likely a typo.
    #[error("the serial number's check symbol does not match: please check for a typo")]
    Check,
}

/// A valid softtoken serial number, stored normalised (`SKTS` + 8 symbols, upper case).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Serial(String);

impl Serial {
    /// Generates a fresh serial from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = [0u8; RANDOM_SYMBOLS];
        OsRng.fill_bytes(&mut bytes);
        // 256 is a multiple of 32, so masking keeps the symbols uniform.
        let values: Vec<u8> = bytes.iter().map(|b| b & 31).collect();
        Self::from_values(&values)
    }

    fn from_values(values: &[u8]) -> Self {
        let mut s = String::with_capacity(LEN);
        s.push_str(PREFIX);
        s.extend(values.iter().map(|&v| char::from(ALPHABET[usize::from(v)])));
        s.push(char::from(ALPHABET[usize::from(check_value(values))]));
        Serial(s)
    }

    /// Parses what a person typed: trims, drops spaces and hyphens, upper-cases,
    /// reads `O` as `0` and `I`/`L` as `1`, then checks prefix, length, symbols and check.
    pub fn parse(text: &str) -> Result<Self, SerialError> {
        let normalised: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            })
            .collect();
        if !normalised.starts_with(PREFIX) {
            return Err(SerialError::Prefix);
        }
        let found = normalised.chars().count();
        if found != LEN {
            return Err(SerialError::Length { found });
        }
        let mut values = [0u8; RANDOM_SYMBOLS + 1];
        for (i, c) in normalised.chars().skip(PREFIX.len()).enumerate() {
            values[i] = symbol_value(c).ok_or(SerialError::Symbol {
                symbol: c,
                position: PREFIX.len() + i + 1,
            })?;
        }
        if check_value(&values[..RANDOM_SYMBOLS]) != values[RANDOM_SYMBOLS] {
            return Err(SerialError::Check);
        }
        Ok(Serial(normalised))
    }

    /// The normalised serial, 12 characters, no spaces (`SKTS12345678`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The serial grouped for people to read: `SKTS 1234 5678`.
    pub fn grouped(&self) -> String {
        format!("{} {} {}", &self.0[..4], &self.0[4..8], &self.0[8..])
    }
}

#[cfg(feature = "utoipa")]
impl utoipa::PartialSchema for Serial {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^SKTS[0-9A-HJKMNP-TV-Z]{8}$"))
            .description(Some(
                "A softtoken serial: SKTS, seven random Crockford base32 symbols and a check symbol.",
            ))
            .examples([serde_json::json!("SKTS00000000")])
            .into()
    }
}

#[cfg(feature = "utoipa")]
impl utoipa::ToSchema for Serial {}

/// The value of a Crockford symbol (already normalised to upper case), if it is one.
fn symbol_value(c: char) -> Option<u8> {
    let b = u8::try_from(c).ok()?;
    ALPHABET
        .iter()
        .position(|&a| a == b)
        .and_then(|p| u8::try_from(p).ok())
}

/// Luhn mod 32 check value over `values`, each in 0..32.
fn check_value(values: &[u8]) -> u8 {
    const N: u32 = 32;
    // Walking from the right, the symbol next to the check symbol is doubled.
    let sum: u32 = values
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &v)| {
            let addend = u32::from(v) * if i % 2 == 0 { 2 } else { 1 };
            addend / N + addend % N
        })
        .sum();
    // (N - sum % N) % N is always below 32.
    u8::try_from((N - sum % N) % N).unwrap_or(0)
}

impl fmt::Display for Serial {
    /// Displays the grouped form, `SKTS 1234 5678`; use [`Serial::as_str`] for the compact one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.grouped())
    }
}

impl fmt::Debug for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Serial({})", self.0)
    }
}

impl FromStr for Serial {
    type Err = SerialError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Serial::parse(s)
    }
}

impl Serialize for Serial {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Serial {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Serial::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_serials_parse_back() {
        for _ in 0..1000 {
            let s = Serial::generate();
            assert_eq!(Serial::parse(s.as_str()), Ok(s.clone()));
        }
    }

    #[test]
    fn normalises_what_people_type() {
        let s = Serial::from_values(&[0, 1, 2, 3, 4, 5, 6]);
        let typed = format!(" skts-{}  {} ", &s.as_str()[4..8], &s.as_str()[8..]).to_lowercase();
        let typed = typed.replace('0', "o").replace('1', "l");
        assert_eq!(Serial::parse(&typed), Ok(s));
    }

    #[test]
    fn each_error_is_distinct() {
        assert_eq!(Serial::parse("ABCD12345678"), Err(SerialError::Prefix));
        assert_eq!(Serial::parse(""), Err(SerialError::Prefix));
        assert_eq!(
            Serial::parse("SKTS1234"),
            Err(SerialError::Length { found: 8 })
        );
        assert_eq!(
            Serial::parse("SKTS1234567U"),
            Err(SerialError::Symbol {
                symbol: 'U',
                position: 12
            })
        );
        let good = Serial::from_values(&[1, 2, 3, 4, 5, 6, 7]);
        let mut bad = good.as_str().to_string();
        let last = bad.pop().map(|c| if c == '0' { '1' } else { '0' });
        bad.extend(last);
        assert_eq!(Serial::parse(&bad), Err(SerialError::Check));
    }

    #[test]
    fn displays_grouped() {
        let s = Serial::from_values(&[1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(
            s.to_string(),
            format!("SKTS {} {}", &s.as_str()[4..8], &s.as_str()[8..])
        );
        assert_eq!(s.to_string().len(), 14);
    }

    #[test]
    fn known_check_symbol() {
        // All zeros sum to zero, so the check is zero; one '1' in the doubled position gives 2.
        assert_eq!(Serial::from_values(&[0; 7]).as_str(), "SKTS00000000");
        assert_eq!(
            Serial::from_values(&[0, 0, 0, 0, 0, 0, 1]).as_str(),
            "SKTS0000001Y"
        );
    }
}
