//! OTP parameters and the code a token screen shows, as records the apps can read.
//!
//! There is deliberately no "code of a raw secret" export: a seed never crosses into
//! Kotlin or Swift (where it could not be wiped); the apps read codes from the vault.

use softtoken_core::protocol::{Algorithm, OtpParams};

/// The HMAC hash function of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OtpAlgorithm {
    /// HMAC-SHA1, the default (and what hardware tokens use).
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

impl From<Algorithm> for OtpAlgorithm {
    fn from(a: Algorithm) -> Self {
        match a {
            Algorithm::Sha1 => OtpAlgorithm::Sha1,
            Algorithm::Sha256 => OtpAlgorithm::Sha256,
            Algorithm::Sha512 => OtpAlgorithm::Sha512,
        }
    }
}

impl From<OtpAlgorithm> for Algorithm {
    fn from(a: OtpAlgorithm) -> Self {
        match a {
            OtpAlgorithm::Sha1 => Algorithm::Sha1,
            OtpAlgorithm::Sha256 => Algorithm::Sha256,
            OtpAlgorithm::Sha512 => Algorithm::Sha512,
        }
    }
}

/// How a token computes its codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct OtpSettings {
    /// The HMAC hash function.
    pub algorithm: OtpAlgorithm,
    /// Code length: 6 or 8.
    pub digits: u32,
    /// Seconds each code lasts (30 or 60 in practice; 10 to 300 allowed).
    pub period_seconds: u64,
}

impl From<OtpParams> for OtpSettings {
    fn from(p: OtpParams) -> Self {
        OtpSettings {
            algorithm: p.algorithm.into(),
            digits: p.digits.get(),
            period_seconds: p.period.seconds(),
        }
    }
}

/// What a token shows at one moment: the code, its countdown, and the code after it.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct TokenCode {
    /// The code valid now, exactly `digits` long (leading zeros kept).
    pub code: String,
    /// `code` grouped for reading and typing (`123 456`, `1234 5678`): what apps display.
    pub code_grouped: String,
    /// Seconds until `code` is replaced: 1 to `period`.
    pub seconds_left: u64,
    /// The step length in seconds, for drawing the countdown.
    pub period: u64,
    /// The next step's code, for a customer about to run out of time.
    pub next_code: String,
    /// `next_code` grouped like `code_grouped`.
    pub next_code_grouped: String,
}

impl std::fmt::Debug for TokenCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A code still authenticates a payment for a few seconds: keep it out of logs.
        f.debug_struct("TokenCode")
            .field("seconds_left", &self.seconds_left)
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

impl From<softtoken_core::TokenCode> for TokenCode {
    fn from(c: softtoken_core::TokenCode) -> Self {
        TokenCode {
            code_grouped: c.code_grouped(),
            next_code_grouped: c.next_code_grouped(),
            code: c.code.clone(),
            seconds_left: c.seconds_left,
            period: c.period,
            next_code: c.next_code.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_codes() {
        let c = TokenCode {
            code: "94287082".into(),
            code_grouped: "9428 7082".into(),
            seconds_left: 1,
            period: 30,
            next_code: "07081804".into(),
            next_code_grouped: "0708 1804".into(),
        };
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("9428") && !debug.contains("0708"),
            "{debug}"
        );
    }
}
