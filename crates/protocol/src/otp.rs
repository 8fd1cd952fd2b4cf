//! OTP parameters and the HOTP/TOTP algorithm (RFC 4226, RFC 6238).
//!
//! The server verifies codes and the app computes them, so the algorithm lives
//! here, once. Parameters are types that cannot hold an invalid value: an
//! [`OtpParams`] that exists is one the protocol accepts. The codes themselves come from
//! the `totp-rs` crate (HOTP as its TOTP with a one-second step); our types stay the API,
//! and the comparison with what was typed stays ours, in constant time.

use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Why OTP parameters were rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// Not one of `sha1`, `sha256`, `sha512`.
    #[error("unknown algorithm '{0}': use sha1, sha256 or sha512")]
    Algorithm(String),
    /// Not 6 or 8.
    #[error("a code has 6 or 8 digits, not {0}")]
    Digits(u32),
    /// Outside 10–300 seconds.
    #[error("the period is 10 to 300 seconds, not {0}")]
    Period(u64),
}

/// The HMAC hash function of a token.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// HMAC-SHA1: the RFC 4226 default, and what hardware tokens use.
    #[default]
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

impl Algorithm {
    /// The seed length this algorithm's HMAC is built for: 20, 32 or 64 bytes.
    pub fn seed_len(self) -> usize {
        match self {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha512 => 64,
        }
    }

    /// The lower-case name used on the wire and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = ParamError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace('-', "").as_str() {
            "sha1" => Ok(Algorithm::Sha1),
            "sha256" => Ok(Algorithm::Sha256),
            "sha512" => Ok(Algorithm::Sha512),
            _ => Err(ParamError::Algorithm(s.to_string())),
        }
    }
}

/// The number of digits in a code: 6 or 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub enum Digits {
    /// Six digits, as in registration mode.
    Six,
    /// Eight digits, as in activation mode.
    Eight,
}

impl Digits {
    /// The count as a number.
    pub fn get(self) -> u32 {
        match self {
            Digits::Six => 6,
            Digits::Eight => 8,
        }
    }
}

impl TryFrom<u32> for Digits {
    type Error = ParamError;
    fn try_from(n: u32) -> Result<Self, Self::Error> {
        match n {
            6 => Ok(Digits::Six),
            8 => Ok(Digits::Eight),
            other => Err(ParamError::Digits(other)),
        }
    }
}

impl From<Digits> for u32 {
    fn from(d: Digits) -> u32 {
        d.get()
    }
}

/// The TOTP time step in seconds, 10 to 300.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct Period(u64);

impl Period {
    /// The shortest period the protocol accepts.
    pub const MIN: u64 = 10;
    /// The longest period the protocol accepts.
    pub const MAX: u64 = 300;

    /// A period of `seconds`, if within 10–300.
    pub fn new(seconds: u64) -> Result<Self, ParamError> {
        if (Self::MIN..=Self::MAX).contains(&seconds) {
            Ok(Period(seconds))
        } else {
            Err(ParamError::Period(seconds))
        }
    }

    /// The period in seconds.
    pub fn seconds(self) -> u64 {
        self.0
    }
}

impl TryFrom<u64> for Period {
    type Error = ParamError;
    fn try_from(s: u64) -> Result<Self, Self::Error> {
        Period::new(s)
    }
}

impl From<Period> for u64 {
    fn from(p: Period) -> u64 {
        p.0
    }
}

/// Everything needed, besides the secret, to compute a token's codes.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OtpParams {
    /// HMAC hash function.
    pub algorithm: Algorithm,
    /// Code length.
    pub digits: Digits,
    /// Time step.
    pub period: Period,
}

impl OtpParams {
    /// Registration-mode defaults: SHA-1, 6 digits, 30 seconds.
    pub const REGISTRATION: OtpParams = OtpParams {
        algorithm: Algorithm::Sha1,
        digits: Digits::Six,
        period: Period(30),
    };
    /// Activation-mode defaults: SHA-1, 8 digits, 60 seconds.
    pub const ACTIVATION: OtpParams = OtpParams {
        algorithm: Algorithm::Sha1,
        digits: Digits::Eight,
        period: Period(60),
    };

    /// Builds parameters from raw numbers, rejecting anything the protocol does not allow.
    pub fn new(algorithm: Algorithm, digits: u32, period_seconds: u64) -> Result<Self, ParamError> {
        Ok(OtpParams {
            algorithm,
            digits: Digits::try_from(digits)?,
            period: Period::new(period_seconds)?,
        })
    }

    /// The time step that contains `unix_seconds`.
    pub fn step_at(&self, unix_seconds: u64) -> u64 {
        unix_seconds / self.period.0
    }

    /// Seconds until the step containing `unix_seconds` ends (1 to `period`).
    pub fn seconds_left(&self, unix_seconds: u64) -> u64 {
        self.period.0 - unix_seconds % self.period.0
    }
}

impl Default for OtpParams {
    fn default() -> Self {
        OtpParams::REGISTRATION
    }
}

/// A one-time code: exactly `digits` ASCII digits, leading zeros kept.
#[derive(Clone, PartialEq, Eq)]
pub struct Code(String);

impl Code {
    /// The digits as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares with what a person typed in constant time (no early exit on the first
    /// differing digit); different lengths are simply unequal.
    pub fn matches(&self, typed: &str) -> bool {
        self.0.as_bytes().ct_eq(typed.as_bytes()).into()
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Code(******)")
    }
}

/// HMAC of `msg` under `key`. HMAC accepts keys of any length, so the constructor cannot fail.
macro_rules! hmac_bytes {
    ($digest:ty, $key:expr, $msg:expr) => {{
        let mut mac = <Hmac<$digest> as Mac>::new_from_slice($key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update($msg);
        mac.finalize().into_bytes().to_vec()
    }};
}

/// HMAC of `msg` under `key` with `algorithm`'s hash (OCRA builds on it; HOTP is totp-rs's).
pub(crate) fn hmac(algorithm: Algorithm, key: &[u8], msg: &[u8]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(match algorithm {
        Algorithm::Sha1 => hmac_bytes!(sha1::Sha1, key, msg),
        Algorithm::Sha256 => hmac_bytes!(sha2::Sha256, key, msg),
        Algorithm::Sha512 => hmac_bytes!(sha2::Sha512, key, msg),
    })
}

impl From<Algorithm> for totp_rs::Algorithm {
    fn from(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Sha1 => totp_rs::Algorithm::SHA1,
            Algorithm::Sha256 => totp_rs::Algorithm::SHA256,
            Algorithm::Sha512 => totp_rs::Algorithm::SHA512,
        }
    }
}

/// The code of `secret` at `time` with totp-rs, whose counter is `time / step_seconds`.
///
/// `new_unchecked`: the digits are 6 or 8 by type already, and the seed length is the
/// token's own (totp-rs's check of at least 16 bytes would refuse short seeds that an
/// imported hardware token may carry, which RFC 4226 allows). Its copy of the seed is
/// zeroized when dropped (feature `zeroize`).
fn oath(secret: &[u8], algorithm: Algorithm, digits: Digits, step_seconds: u64, time: u64) -> Code {
    let generator = totp_rs::TOTP::new_unchecked(
        algorithm.into(),
        digits.get() as usize,
        0,
        step_seconds,
        secret.to_vec(),
    );
    Code(generator.generate(time))
}

/// The HOTP value (RFC 4226) of `secret` at `counter`: totp-rs with a one-second step,
/// whose counter is then the time given.
pub fn hotp(secret: &[u8], algorithm: Algorithm, digits: Digits, counter: u64) -> Code {
    oath(secret, algorithm, digits, 1, counter)
}

/// Dynamic truncation (RFC 4226 §5.3) of an HMAC to `width` decimal digits, leading zeros
/// kept, for OCRA (RFC 6287 §5.2), whose widths (up to 10) totp-rs does not offer. `width` is at most 10: the truncated value
/// has 31 bits, so ten digits already hold all of it.
pub(crate) fn truncate(mac: &[u8], width: u32) -> String {
    // Every HMAC here is at least 20 bytes, so `offset + 3` (at most 15 + 3) is in range.
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        mac[offset] & 0x7f,
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]);
    let value = u64::from(binary) % 10u64.pow(width.min(10));
    format!("{value:0width$}", width = width as usize)
}

impl Code {
    /// A code from digits this crate computed (OCRA responses share the type, so they get
    /// the same constant-time comparison and redacted `Debug`).
    pub(crate) fn from_computed(digits: String) -> Code {
        Code(digits)
    }
}

/// The TOTP value (RFC 6238) of `secret` at `unix_seconds` (step [`OtpParams::step_at`]).
pub fn totp(secret: &[u8], params: &OtpParams, unix_seconds: u64) -> Code {
    oath(
        secret,
        params.algorithm,
        params.digits,
        params.period.seconds(),
        unix_seconds,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4226_appendix_d() {
        let secret = b"12345678901234567890";
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (counter, want) in expected.iter().enumerate() {
            assert_eq!(
                hotp(secret, Algorithm::Sha1, Digits::Six, counter as u64).as_str(),
                *want
            );
        }
    }

    /// RFC 6238 Appendix B: the seeds are the ASCII "1234567890" repeated to 20, 32 and 64 bytes.
    fn rfc6238_seed(algorithm: Algorithm) -> Vec<u8> {
        b"1234567890"
            .iter()
            .copied()
            .cycle()
            .take(algorithm.seed_len())
            .collect()
    }

    const RFC6238: &[(u64, &str, &str, &str)] = &[
        (59, "94287082", "46119246", "90693936"),
        (1111111109, "07081804", "68084774", "25091201"),
        (1111111111, "14050471", "67062674", "99943326"),
        (1234567890, "89005924", "91819424", "93441116"),
        (2000000000, "69279037", "90698825", "38618901"),
        (20000000000, "65353130", "77737706", "47863826"),
    ];

    #[test]
    fn rfc6238_appendix_b_all_algorithms_both_lengths() {
        for &(t, sha1, sha256, sha512) in RFC6238 {
            for (algorithm, want) in [
                (Algorithm::Sha1, sha1),
                (Algorithm::Sha256, sha256),
                (Algorithm::Sha512, sha512),
            ] {
                let seed = rfc6238_seed(algorithm);
                let eight = OtpParams::new(algorithm, 8, 30).unwrap();
                assert_eq!(totp(&seed, &eight, t).as_str(), want, "{algorithm} at {t}");
                // Six digits are the value mod 10^6: the last six of the eight-digit code.
                let six = OtpParams::new(algorithm, 6, 30).unwrap();
                assert_eq!(
                    totp(&seed, &six, t).as_str(),
                    &want[2..],
                    "{algorithm} at {t}"
                );
            }
        }
    }

    #[test]
    fn params_cannot_be_invalid() {
        assert_eq!(
            OtpParams::new(Algorithm::Sha1, 7, 30),
            Err(ParamError::Digits(7))
        );
        assert_eq!(
            OtpParams::new(Algorithm::Sha1, 6, 9),
            Err(ParamError::Period(9))
        );
        assert_eq!(
            OtpParams::new(Algorithm::Sha1, 6, 301),
            Err(ParamError::Period(301))
        );
        assert!(OtpParams::new(Algorithm::Sha1, 6, 10).is_ok());
        assert!(OtpParams::new(Algorithm::Sha512, 8, 300).is_ok());
        assert!("md5".parse::<Algorithm>().is_err());
        assert_eq!("SHA-256".parse::<Algorithm>(), Ok(Algorithm::Sha256));
        let bad: Result<OtpParams, _> =
            serde_json::from_str(r#"{"algorithm":"sha1","digits":7,"period":30}"#);
        assert!(bad.is_err());
        let good: OtpParams =
            serde_json::from_str(r#"{"algorithm":"sha256","digits":8,"period":60}"#).unwrap();
        assert_eq!(good, OtpParams::new(Algorithm::Sha256, 8, 60).unwrap());
    }

    #[test]
    fn seconds_left_counts_down_within_a_step() {
        let p = OtpParams::REGISTRATION;
        assert_eq!(p.seconds_left(0), 30);
        assert_eq!(p.seconds_left(29), 1);
        assert_eq!(p.seconds_left(30), 30);
    }

    /// totp-rs against RFC 4226's own steps (HMAC of the counter, dynamic truncation, as
    /// OCRA keeps them): any seed length (short imported seeds included), every algorithm
    /// and length, counters up to the last u64.
    #[test]
    fn totp_rs_codes_are_rfc4226_truncations_for_any_seed_and_counter() {
        for len in [1usize, 10, 16, 20, 32, 64, 100] {
            let seed: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            for algorithm in [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512] {
                for digits in [Digits::Six, Digits::Eight] {
                    for counter in [0, 1, 59, u64::from(u32::MAX) + 7, u64::MAX] {
                        let mac = hmac(algorithm, &seed, &counter.to_be_bytes());
                        assert_eq!(
                            hotp(&seed, algorithm, digits, counter).as_str(),
                            truncate(&mac, digits.get()),
                            "{algorithm} {len} bytes at {counter}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn code_comparison() {
        let c = hotp(b"12345678901234567890", Algorithm::Sha1, Digits::Six, 0);
        assert!(c.matches("755224"));
        assert!(!c.matches("755225"));
        assert!(!c.matches("75522"));
        assert_eq!(format!("{c:?}"), "Code(******)");
    }
}

/// OpenAPI schemas of the types whose JSON is not their Rust shape.
#[cfg(feature = "utoipa")]
mod schemas {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
    use utoipa::{PartialSchema, ToSchema};

    impl PartialSchema for super::Digits {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .enum_values(Some([6, 8]))
                .description(Some("Code length: 6 or 8 digits."))
                .into()
        }
    }

    impl ToSchema for super::Digits {}

    impl PartialSchema for super::Period {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(super::Period::MIN))
                .maximum(Some(super::Period::MAX))
                .description(Some("Seconds per code."))
                .into()
        }
    }

    impl ToSchema for super::Period {}
}
