//! The codes a token holder sees: the current code, the seconds it has left, and the next one.

use std::fmt;

use softtoken_protocol::otp::{self, OtpParams};

use crate::secret::Secret;

/// A TOTP generator: a secret and its parameters.
#[derive(Clone, PartialEq, Eq)]
pub struct Totp {
    secret: Secret,
    params: OtpParams,
}

/// What a token shows at one moment.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenCode {
    /// The code valid now, exactly `digits` long.
    pub code: String,
    /// Seconds until `code` is replaced (1 to `period`).
    pub seconds_left: u64,
    /// The step length in seconds, for drawing a countdown.
    pub period: u64,
    /// The code of the next step, so a customer about to run out of time can type it instead.
    pub next_code: String,
}

impl TokenCode {
    /// [`TokenCode::code`] grouped for reading and typing: `123 456`, `1234 5678`.
    pub fn code_grouped(&self) -> String {
        group_code(&self.code)
    }

    /// [`TokenCode::next_code`] grouped the same way.
    pub fn next_code_grouped(&self) -> String {
        group_code(&self.next_code)
    }
}

/// A code in two halves, the way people read one aloud and type it within seconds:
/// `123 456`, `1234 5678`. An odd length puts the longer half first; fewer than four
/// symbols stay as they are (there is nothing to lose one's place in).
pub fn group_code(code: &str) -> String {
    match code.split_at_checked(code.len().div_ceil(2)) {
        Some((first, second)) if code.len() >= 4 => format!("{first} {second}"),
        _ => code.to_string(),
    }
}

impl fmt::Debug for TokenCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Codes are short-lived but still authenticate a payment: keep them out of logs.
        f.debug_struct("TokenCode")
            .field("code", &"******")
            .field("seconds_left", &self.seconds_left)
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

impl Totp {
    /// A generator for `secret` under `params`.
    pub fn new(secret: Secret, params: OtpParams) -> Self {
        Totp { secret, params }
    }

    /// The parameters.
    pub fn params(&self) -> &OtpParams {
        &self.params
    }

    /// The code at `unix_seconds`.
    pub fn code_at(&self, unix_seconds: u64) -> String {
        otp::totp(self.secret.expose(), &self.params, unix_seconds).to_string()
    }

    /// Everything a token screen shows at `unix_seconds` (already corrected for clock offset).
    pub fn at(&self, unix_seconds: u64) -> TokenCode {
        let seconds_left = self.params.seconds_left(unix_seconds);
        TokenCode {
            code: self.code_at(unix_seconds),
            seconds_left,
            period: self.params.period.seconds(),
            next_code: self.code_at(unix_seconds.saturating_add(seconds_left)),
        }
    }
}

impl fmt::Debug for Totp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Totp")
            .field("secret", &self.secret)
            .field("params", &self.params)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use softtoken_protocol::otp::Algorithm;

    use super::*;

    fn rfc_token(digits: u32) -> Totp {
        Totp::new(
            Secret::new(b"12345678901234567890".to_vec()),
            OtpParams::new(Algorithm::Sha1, digits, 30).unwrap(),
        )
    }

    #[test]
    fn current_and_next_code() {
        let t = rfc_token(8);
        let now = t.at(1111111109);
        assert_eq!(now.code, "07081804");
        assert_eq!(now.seconds_left, 1);
        assert_eq!(now.next_code, "14050471");
        assert_eq!(now.period, 30);
    }

    #[test]
    fn codes_are_grouped_in_halves() {
        let now = rfc_token(8).at(1111111109);
        assert_eq!(now.code_grouped(), "0708 1804");
        assert_eq!(now.next_code_grouped(), "1405 0471");
        assert_eq!(group_code("287082"), "287 082");
        assert_eq!(group_code("1234567"), "1234 567");
        assert_eq!(group_code("123"), "123");
        assert_eq!(group_code(""), "");
    }

    #[test]
    fn debug_hides_secret_and_codes() {
        let t = rfc_token(6);
        let code = t.at(59);
        assert!(!format!("{t:?}").contains("1234567890"));
        assert!(!format!("{code:?}").contains(&code.code));
    }
}
