//! Matching a typed code against a token (DESIGN.md §4): which time step in the window,
//! if any, it belongs to. The one-time-use guard itself is in the store.

use std::fmt;

use serde::{Deserialize, Deserializer};
use softtoken_protocol::OtpParams;
use softtoken_protocol::otp::totp;

/// A code as a customer typed it: 6 to 8 ASCII digits. Parsed where a request is read, so
/// nothing malformed reaches a check; `Debug` shows only its length, since a code is
/// usable for a minute or two.
#[derive(Clone, PartialEq, Eq)]
pub struct Code(String);

/// What a text that is no code is told.
pub const CODE_FORM: &str = "must be 6 to 8 digits";

impl Code {
    /// `text` as a code, if it has the form of one.
    pub fn parse(text: &str) -> Option<Self> {
        well_formed(text).then(|| Code(text.to_owned()))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Code([{} digits])", self.0.len())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Code::parse(&text).ok_or_else(|| serde::de::Error::custom(CODE_FORM))
    }
}

impl utoipa::PartialSchema for Code {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[0-9]{6,8}$"))
            .description(Some("The code the customer typed: 6 to 8 digits."))
            .examples([serde_json::json!("12345678")])
            .into()
    }
}

impl utoipa::ToSchema for Code {}

/// What a typed code is, for one token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeMatch {
    /// It matches a step newer than the last accepted one.
    Fresh {
        /// The step.
        step: i64,
        /// Its offset from the server's current step.
        drift: i64,
    },
    /// It matches only steps already used.
    Used,
    /// It matches no step in the window.
    NoMatch,
}

/// Finds the step of `code` within `window` steps of `now + drift`. Every candidate is
/// computed and compared in constant time.
pub fn match_code(
    seed: &[u8],
    params: &OtpParams,
    code: &str,
    now_ms: i64,
    drift: i64,
    window: u32,
    last_step: i64,
) -> CodeMatch {
    let period_ms = i64::try_from(params.period.seconds()).unwrap_or(i64::MAX) * 1000;
    let now_step = now_ms.div_euclid(period_ms);
    let center = now_step + drift;
    let window = i64::from(window);
    let mut fresh: Option<i64> = None;
    let mut used = false;
    for step in (center - window)..=(center + window) {
        let Ok(seconds) = u64::try_from(step * (period_ms / 1000)) else {
            continue;
        };
        if totp(seed, params, seconds).matches(code) {
            if step > last_step {
                // Prefer the step nearest to the expected one if two ever collide.
                if fresh.is_none_or(|f| (f - center).abs() > (step - center).abs()) {
                    fresh = Some(step);
                }
            } else {
                used = true;
            }
        }
    }
    match fresh {
        Some(step) => CodeMatch::Fresh {
            step,
            drift: step - now_step,
        },
        None if used => CodeMatch::Used,
        None => CodeMatch::NoMatch,
    }
}

/// Whether `code` looks like a code at all: 6 to 8 ASCII digits.
pub fn well_formed(code: &str) -> bool {
    (6..=8).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &[u8] = b"12345678901234567890";

    fn code_at(seconds: u64) -> String {
        totp(SEED, &OtpParams::REGISTRATION, seconds).to_string()
    }

    #[test]
    fn window_drift_and_used_steps() {
        let p = OtpParams::REGISTRATION;
        let now = 1_000_000_000_000i64; // step 33_333_333 (+ 10 s)
        let step = now / 30_000;
        let at = |s: i64| code_at(u64::try_from(s * 30).unwrap());
        assert_eq!(
            match_code(SEED, &p, &at(step), now, 0, 1, -1),
            CodeMatch::Fresh { step, drift: 0 }
        );
        assert_eq!(
            match_code(SEED, &p, &at(step - 1), now, 0, 1, -1),
            CodeMatch::Fresh {
                step: step - 1,
                drift: -1
            }
        );
        assert_eq!(
            match_code(SEED, &p, &at(step + 2), now, 0, 1, -1),
            CodeMatch::NoMatch
        );
        // A clock two steps ahead, learned as drift, is accepted.
        assert_eq!(
            match_code(SEED, &p, &at(step + 2), now, 2, 1, -1),
            CodeMatch::Fresh {
                step: step + 2,
                drift: 2
            }
        );
        assert_eq!(
            match_code(SEED, &p, &at(step), now, 0, 1, step),
            CodeMatch::Used
        );
        assert_eq!(
            match_code(SEED, &p, &at(step - 1), now, 0, 1, step - 1),
            CodeMatch::Used
        );
        assert_eq!(
            match_code(SEED, &p, "000000x", now, 0, 1, -1),
            CodeMatch::NoMatch
        );
    }

    #[test]
    fn codes_parse_and_hide_their_digits() {
        assert_eq!(Code::parse("123456").unwrap().as_str(), "123456");
        assert!(Code::parse("12345").is_none());
        assert_eq!(
            format!("{:?}", Code::parse("12345678").unwrap()),
            "Code([8 digits])"
        );
        let err = serde_json::from_str::<Code>("\"12ab56\"").unwrap_err();
        assert!(err.to_string().contains(CODE_FORM), "{err}");
    }

    #[test]
    fn form() {
        assert!(well_formed("123456"));
        assert!(well_formed("12345678"));
        assert!(!well_formed("12345"));
        assert!(!well_formed("12345a"));
        assert!(!well_formed("123456789"));
    }
}
