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

/// Shortest enrollment lifetime a bank may ask for.
pub const MIN_TTL_SECONDS: u64 = 60;
/// Longest enrollment lifetime a bank may ask for (30 days).
pub const MAX_TTL_SECONDS: u64 = 30 * 86_400;

/// The widest verification window a service may set, in steps either side.
pub const MAX_WINDOW: u32 = 10;

/// What one numeric policy setting may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    /// A whole number from the first to the second, both included.
    Range(u64, u64),
    /// Seconds from the first to the second, both included, shown as durations (`30m`).
    Duration(u64, u64),
    /// One of these values (a setting left empty takes the mode's default instead).
    OneOf(&'static [u64]),
}

/// One policy setting's bound: its field name (as in the console's form and, with `-` for
/// `_`, `service add`'s option) and what it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    /// The setting's name, e.g. `max_failures`.
    pub field: &'static str,
    /// The values it may take.
    pub allowed: Allowed,
}

impl Bound {
    /// Whether `value` is within the bound.
    pub fn admits(&self, value: u64) -> bool {
        match self.allowed {
            Allowed::Range(min, max) | Allowed::Duration(min, max) => (min..=max).contains(&value),
            Allowed::OneOf(values) => values.contains(&value),
        }
    }

    /// `value`, or the refusal naming this field and its range.
    pub fn check(&self, value: u64) -> Result<u64, OutOfBounds> {
        if self.admits(value) {
            Ok(value)
        } else {
            Err(OutOfBounds { bound: *self })
        }
    }

    /// The smallest value allowed (a form's `min` attribute).
    pub fn min(&self) -> u64 {
        match self.allowed {
            Allowed::Range(min, _) | Allowed::Duration(min, _) => min,
            Allowed::OneOf(values) => values.iter().copied().min().unwrap_or(0),
        }
    }

    /// The largest value allowed (a form's `max` attribute).
    pub fn max(&self) -> u64 {
        match self.allowed {
            Allowed::Range(_, max) | Allowed::Duration(_, max) => max,
            Allowed::OneOf(values) => values.iter().copied().max().unwrap_or(0),
        }
    }

    /// What the field may be, in words of either language's digits and units: `1–20`,
    /// `0s–7d`, `6, 8`. `or` joins a list's values (`or`, `または`).
    pub fn range_text(&self, or: &str) -> String {
        match self.allowed {
            Allowed::Range(min, max) => format!("{min}–{max}"),
            Allowed::Duration(min, max) => {
                format!("{}–{}", duration_text(min), duration_text(max))
            }
            Allowed::OneOf(values) => values
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(&format!(" {or} ")),
        }
    }
}

/// Code digits: what the apps, the hardware tokens and internet banking's input fields take.
pub const DIGITS: Bound = Bound {
    field: "digits",
    allowed: Allowed::OneOf(&[6, 8]),
};
/// Seconds per code: the two periods of DESIGN.md §4 (the protocol would take 10–300, but
/// a 10 s code cannot be typed and a 300 s one lives too long).
pub const PERIOD: Bound = Bound {
    field: "period",
    allowed: Allowed::OneOf(&[30, 60]),
};
/// Steps accepted either side: 0 (the exact step) to [`MAX_WINDOW`].
pub const WINDOW: Bound = Bound {
    field: "window",
    allowed: Allowed::Range(0, MAX_WINDOW as u64),
};
/// Consecutive wrong codes before the lock: with a window of 10 steps and 20 tries a
/// guesser of 6 digits still has at most 420 chances in a million.
pub const MAX_FAILURES: Bound = Bound {
    field: "max_failures",
    allowed: Allowed::Range(1, 20),
};
/// The revocation cool-down: none to a week.
pub const COOLDOWN: Bound = Bound {
    field: "cooldown",
    allowed: Allowed::Duration(0, 7 * 86_400),
};
/// The default enrollment lifetime: the bank API's own bounds for one enrollment.
pub const ENROLLMENT_TTL: Bound = Bound {
    field: "enrollment_ttl",
    allowed: Allowed::Duration(MIN_TTL_SECONDS, MAX_TTL_SECONDS),
};
/// Usable tokens one user may hold (a company's user may need several).
pub const TOKENS_PER_USER: Bound = Bound {
    field: "tokens_per_user",
    allowed: Allowed::Range(1, 10),
};
/// Provisioned tokens waiting at once.
pub const UNASSIGNED_QUOTA: Bound = Bound {
    field: "unassigned_quota",
    allowed: Allowed::Range(1, 1_000_000),
};

/// Every bounded setting of a policy, in the console form's order.
pub const BOUNDS: [Bound; 8] = [
    DIGITS,
    PERIOD,
    WINDOW,
    MAX_FAILURES,
    COOLDOWN,
    ENROLLMENT_TTL,
    TOKENS_PER_USER,
    UNASSIGNED_QUOTA,
];

/// A policy setting outside its [`Bound`]: says which and what it may be
/// (`max_failures must be 1–20`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfBounds {
    /// The bound the value missed.
    pub bound: Bound,
}

impl std::fmt::Display for OutOfBounds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = &self.bound;
        match b.allowed {
            Allowed::OneOf(_) => write!(f, "{} must be {}", b.field, b.range_text("or")),
            _ => write!(f, "{} must be {} (inclusive)", b.field, b.range_text("or")),
        }
    }
}

impl std::error::Error for OutOfBounds {}

/// Shows a duration in the unit `service add` would be given it in (`30m`, `7d`).
pub fn duration_text(secs: u64) -> String {
    if secs != 0 && secs.is_multiple_of(86_400) {
        format!("{}d", secs / 86_400)
    } else if secs != 0 && secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs != 0 && secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

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

    /// Refuses a policy no service may have: the first setting outside [`BOUNDS`], naming
    /// the field and what it may be. `service add` and the console's policy page both ask
    /// here, so the bounds live in one place (issue 22, item 6).
    pub fn validate(&self) -> Result<(), OutOfBounds> {
        if let Some(d) = self.digits {
            DIGITS.check(u64::from(d.get()))?;
        }
        if let Some(p) = self.period {
            PERIOD.check(p.seconds())?;
        }
        WINDOW.check(u64::from(self.window))?;
        MAX_FAILURES.check(u64::from(self.max_failures))?;
        COOLDOWN.check(self.cooldown_secs)?;
        ENROLLMENT_TTL.check(self.enrollment_ttl_secs)?;
        TOKENS_PER_USER.check(u64::from(self.tokens_per_user))?;
        UNASSIGNED_QUOTA.check(u64::from(self.unassigned_quota))?;
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
    fn validate_refuses_what_no_service_may_have_and_takes_the_edges() {
        assert_eq!(Policy::default().validate(), Ok(()));
        let refused = |p: Policy, field: &str, range: &str| {
            let e = p.validate().unwrap_err().to_string();
            assert!(e.starts_with(field), "{e}");
            assert!(e.contains(range), "{e}");
        };
        let p = Policy::default;
        refused(
            Policy {
                window: MAX_WINDOW + 1,
                ..p()
            },
            "window",
            "0–10",
        );
        refused(
            Policy {
                max_failures: 1_000_000,
                window: 10,
                ..p()
            },
            "max_failures",
            "1–20",
        );
        refused(
            Policy {
                max_failures: 0,
                ..p()
            },
            "max_failures",
            "1–20",
        );
        refused(
            Policy {
                tokens_per_user: 0,
                ..p()
            },
            "tokens_per_user",
            "1–10",
        );
        refused(
            Policy {
                enrollment_ttl_secs: 31 * 86_400,
                ..p()
            },
            "enrollment_ttl",
            "1m–30d",
        );
        refused(
            Policy {
                cooldown_secs: 8 * 86_400,
                ..p()
            },
            "cooldown",
            "0s–7d",
        );
        refused(
            Policy {
                period: Some(Period::new(45).unwrap()),
                ..p()
            },
            "period",
            "30 or 60",
        );
        refused(
            Policy {
                unassigned_quota: 0,
                ..p()
            },
            "unassigned_quota",
            "1–1000000",
        );
        // Every bound's edges are accepted.
        let low = Policy {
            digits: Some(Digits::Six),
            period: Some(Period::new(30).unwrap()),
            window: 0,
            max_failures: 1,
            cooldown_secs: 0,
            enrollment_ttl_secs: 60,
            tokens_per_user: 1,
            unassigned_quota: 1,
            ..p()
        };
        assert_eq!(low.validate(), Ok(()));
        let high = Policy {
            digits: Some(Digits::Eight),
            period: Some(Period::new(60).unwrap()),
            window: 10,
            max_failures: 20,
            cooldown_secs: 7 * 86_400,
            enrollment_ttl_secs: 30 * 86_400,
            tokens_per_user: 10,
            unassigned_quota: 1_000_000,
            ..p()
        };
        assert_eq!(high.validate(), Ok(()));
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
