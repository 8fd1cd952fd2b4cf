//! OTP parameters and the code a token screen shows, as records the apps can read.

use softtoken_core::protocol::{Algorithm, OtpParams};
use softtoken_core::{Secret, Totp};
use zeroize::Zeroizing;

use crate::{InputField, SoftTokenError};

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

impl TryFrom<OtpSettings> for OtpParams {
    type Error = SoftTokenError;
    fn try_from(s: OtpSettings) -> Result<Self, Self::Error> {
        Ok(OtpParams::new(
            s.algorithm.into(),
            s.digits,
            s.period_seconds,
        )?)
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

/// The code of a raw `secret` at `unix_ms` (milliseconds since 1970, UTC): the desktop
/// token's interop and debugging command, not how apps read their tokens (the vault does
/// that without the seed ever leaving the core). The `secret` bytes are wiped after use on
/// the Rust side.
#[uniffi::export]
pub fn otp_code(
    secret: Vec<u8>,
    settings: OtpSettings,
    unix_ms: i64,
) -> Result<TokenCode, SoftTokenError> {
    let secret = Zeroizing::new(secret);
    if secret.is_empty() {
        return Err(SoftTokenError::invalid(
            InputField::Other,
            "the secret is empty",
        ));
    }
    let seconds = u64::try_from(unix_ms).map(|ms| ms / 1000).map_err(|_| {
        SoftTokenError::invalid(
            InputField::Other,
            format!("the time {unix_ms} ms is before 1970"),
        )
    })?;
    let totp = Totp::new(Secret::new(secret.to_vec()), settings.try_into()?);
    Ok(totp.at(seconds).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC6238_SHA1: &[u8] = b"12345678901234567890";

    fn sha1_8_30() -> OtpSettings {
        OtpSettings {
            algorithm: OtpAlgorithm::Sha1,
            digits: 8,
            period_seconds: 30,
        }
    }

    #[test]
    fn rfc6238_vector_with_countdown() {
        // RFC 6238 Appendix B: T = 59 s gives 94287082; 1 s is left in that step.
        let c = otp_code(RFC6238_SHA1.to_vec(), sha1_8_30(), 59_000).unwrap();
        assert_eq!(c.code, "94287082");
        assert_eq!(c.code_grouped, "9428 7082");
        assert_eq!(c.seconds_left, 1);
        assert_eq!(c.period, 30);
        // The next step (T = 60 s, counter 2) is the RFC 4226 counter-2 code in 8 digits.
        assert_eq!(
            c.next_code,
            otp_code(RFC6238_SHA1.to_vec(), sha1_8_30(), 60_000)
                .unwrap()
                .code
        );
    }

    #[test]
    fn bad_settings_and_times_are_invalid_input() {
        let bad_digits = OtpSettings {
            digits: 7,
            ..sha1_8_30()
        };
        for (settings, ms) in [(bad_digits, 0), (sha1_8_30(), -1)] {
            let err = otp_code(RFC6238_SHA1.to_vec(), settings, ms).unwrap_err();
            assert!(
                matches!(err, SoftTokenError::InvalidInput { .. }),
                "{err:?}"
            );
        }
    }

    #[test]
    fn debug_hides_codes() {
        let c = otp_code(RFC6238_SHA1.to_vec(), sha1_8_30(), 59_000).unwrap();
        let debug = format!("{c:?}");
        assert!(
            !debug.contains(&c.code) && !debug.contains("9428"),
            "{debug}"
        );
    }
}
