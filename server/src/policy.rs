//! A service's policy: the token parameters it issues and the rules it verifies by.

use softtoken_protocol::{Algorithm, Digits, OtpParams, Period};

/// Wrong start passwords an enrollment survives (DESIGN.md §5: five guesses).
pub const MAX_ACTIVATION_GUESSES: u32 = 5;
/// How long an activation session (between start and finish) lives.
pub const SESSION_TTL_MS: i64 = 5 * 60 * 1000;
/// How long a provisioned token may stay unassigned.
pub const UNASSIGNED_TTL_MS: i64 = 30 * 24 * 3600 * 1000;
/// How long a provisioned token that expired unregistered is kept before it is deleted, so
/// that a customer who registers it late is told it expired rather than that it is unknown.
pub const EXPIRED_UNASSIGNED_KEPT_MS: i64 = 7 * 24 * 3600 * 1000;
/// How long an outbox mail is kept once it was sent, failed for good, or expired unsent:
/// long enough for the help desk to answer "did the mail go?", then the address is gone.
pub const MAIL_KEPT_MS: i64 = 7 * 24 * 3600 * 1000;
/// How often a running server deletes expired sessions and provisioned tokens.
pub const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// The widest verification window a service may set, in steps either side.
pub const MAX_WINDOW: u32 = 10;

/// Provisioned tokens a service may have waiting for registration unless it says otherwise:
/// far more than a bank's customers provision in the 30 days a token may wait, far fewer
/// than an attacker could create.
pub const DEFAULT_UNASSIGNED_QUOTA: u32 = 10_000;

/// The rules of one service (tenant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Hash function; `None`: SHA-1, the protocol default.
    pub algorithm: Option<Algorithm>,
    /// Code length; `None`: 8 for activation, 6 for registration mode.
    pub digits: Option<Digits>,
    /// Time step; `None`: 60 s for activation, 30 s for registration mode.
    pub period: Option<Period>,
    /// Steps accepted either side of the expected one.
    pub window: u32,
    /// Consecutive wrong codes that lock a user.
    pub max_failures: u32,
    /// Seconds after a revocation before a new token may be issued to its users.
    pub cooldown_secs: u64,
    /// Whether a revocation during a running cool-down starts it afresh (default: the
    /// running one keeps its end).
    pub cooldown_restarts: bool,
    /// Default lifetime of an enrollment, in seconds.
    pub enrollment_ttl_secs: u64,
    /// Usable tokens one user may hold.
    pub tokens_per_user: u32,
    /// Whether one token may be registered to several users (companies).
    pub shared_tokens: bool,
    /// Provisioned tokens the service may have waiting for registration at once; the
    /// unauthenticated provisioning call is refused beyond it.
    pub unassigned_quota: u32,
    /// A daily window in which a revocation's cool-down lasts until the window's end (the
    /// guides' night cut-off); `None`: the cool-down is the same at any hour.
    pub night_cutoff: Option<crate::night_cutoff::NightCutoff>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            algorithm: None,
            digits: None,
            period: None,
            window: 1,
            max_failures: 5,
            cooldown_secs: 30 * 60,
            cooldown_restarts: false,
            enrollment_ttl_secs: 24 * 3600,
            tokens_per_user: 1,
            shared_tokens: false,
            unassigned_quota: DEFAULT_UNASSIGNED_QUOTA,
            night_cutoff: None,
        }
    }
}

impl Policy {
    /// The cool-down as milliseconds.
    pub fn cooldown_ms(&self) -> i64 {
        i64::try_from(self.cooldown_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    }

    fn params(&self, default: OtpParams) -> OtpParams {
        OtpParams {
            algorithm: self.algorithm.unwrap_or(default.algorithm),
            digits: self.digits.unwrap_or(default.digits),
            period: self.period.unwrap_or(default.period),
        }
    }

    /// Refuses a policy no service may have (`service add` and the console's policy page
    /// both ask here): the reason, naming the setting.
    pub fn check(&self) -> Result<(), String> {
        if self.window > MAX_WINDOW {
            return Err(format!(
                "window: above {MAX_WINDOW} steps makes codes far too easy to guess"
            ));
        }
        if self.max_failures == 0 {
            return Err("max_failures: at least 1".into());
        }
        if self.tokens_per_user == 0 {
            return Err("tokens_per_user: at least 1".into());
        }
        let (min, max) = (
            crate::routes::enrollments::MIN_TTL_SECONDS,
            crate::routes::enrollments::MAX_TTL_SECONDS,
        );
        if !(min..=max).contains(&self.enrollment_ttl_secs) {
            return Err(format!("enrollment_ttl: {min} s to {max} s"));
        }
        Ok(())
    }

    /// Parameters of tokens born by activation (start password).
    pub fn activation_params(&self) -> OtpParams {
        self.params(OtpParams::ACTIVATION)
    }

    /// Parameters of tokens born by provisioning (registration mode).
    pub fn registration_params(&self) -> OtpParams {
        self.params(OtpParams::REGISTRATION)
    }
}

/// Parses a duration like `30m`, `24h`, `90s`, `7d` or bare seconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration like 90s, 30m, 24h or 7d"))?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("'{text}': the unit must be s, m, h or d")),
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("'{text}' is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_defaults_follow_the_design() {
        let p = Policy::default();
        assert_eq!(p.activation_params(), OtpParams::ACTIVATION);
        assert_eq!(p.registration_params(), OtpParams::REGISTRATION);
        let six = Policy {
            digits: Some(Digits::Six),
            ..Policy::default()
        };
        assert_eq!(six.activation_params().digits, Digits::Six);
    }

    #[test]
    fn check_refuses_what_no_service_may_have() {
        assert_eq!(Policy::default().check(), Ok(()));
        let refused = |p: Policy, field: &str| {
            let e = p.check().unwrap_err();
            assert!(e.starts_with(field), "{e}");
        };
        refused(
            Policy {
                window: MAX_WINDOW + 1,
                ..Policy::default()
            },
            "window",
        );
        refused(
            Policy {
                max_failures: 0,
                ..Policy::default()
            },
            "max_failures",
        );
        refused(
            Policy {
                tokens_per_user: 0,
                ..Policy::default()
            },
            "tokens_per_user",
        );
        refused(
            Policy {
                enrollment_ttl_secs: 31 * 86_400,
                ..Policy::default()
            },
            "enrollment_ttl",
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m"), Ok(1800));
        assert_eq!(parse_duration("24h"), Ok(86_400));
        assert_eq!(parse_duration("90"), Ok(90));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("5w").is_err());
        assert!(parse_duration("").is_err());
    }
}
