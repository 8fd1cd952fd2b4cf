//! The app-lock PIN: what a valid PIN is, and how wrong PINs back off.

use serde::{Deserialize, Serialize};

use super::error::StoreError;

/// The longest PIN.
pub const PIN_MAX_LEN: usize = 32;
/// PBKDF2 iterations for a new PIN key (OWASP 2023 for PBKDF2-HMAC-SHA256).
pub const DEFAULT_PIN_ITERATIONS: u32 = 600_000;
/// Wrong PINs allowed before each further try has to wait.
pub const FREE_ATTEMPTS: u32 = 5;
/// The wait after the first wrong PIN beyond [`FREE_ATTEMPTS`]; it doubles with each more.
const FIRST_WAIT_SECONDS: u64 = 30;
/// The longest wait between two tries.
const MAX_WAIT_SECONDS: u64 = 60 * 60;

/// Checks that `pin` is 1–32 ASCII digits. Full-width digits (`１２３４`), letters, spaces
/// and the empty string are [`StoreError::InvalidPin`].
pub fn check_pin(pin: &str) -> Result<(), StoreError> {
    let ok = (1..=PIN_MAX_LEN).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidPin)
    }
}

/// The wrong-PIN counter, persisted outside the encrypted part of the vault so that it can
/// be updated while the vault is locked (see FORMAT.md, "Lock state").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockState {
    /// Consecutive wrong PINs.
    pub failures: u32,
    /// When the last wrong PIN was entered, in Unix milliseconds.
    pub last_failure_unix_ms: i64,
}

impl LockState {
    /// Tries left before each further try has to wait.
    pub fn attempts_left(&self) -> u32 {
        FREE_ATTEMPTS.saturating_sub(self.failures)
    }

    /// Seconds a try must wait after `failures` wrong PINs: none for the first five, then
    /// 30 s, 60 s, 120 s, … up to an hour.
    pub fn wait_seconds(&self) -> u64 {
        if self.failures < FREE_ATTEMPTS {
            return 0;
        }
        let doublings = (self.failures - FREE_ATTEMPTS).min(16);
        (FIRST_WAIT_SECONDS << doublings).min(MAX_WAIT_SECONDS)
    }

    /// Seconds left before a try is accepted at `now_unix_ms` (0: now).
    ///
    /// A clock set back before the last failure counts as no time elapsed; the caller moves
    /// `last_failure_unix_ms` to now, so a clock change cannot lock the user out for years.
    pub fn retry_after(&self, now_unix_ms: i64) -> u64 {
        let wait_ms = i64::try_from(self.wait_seconds().saturating_mul(1000)).unwrap_or(i64::MAX);
        let elapsed = now_unix_ms.saturating_sub(self.last_failure_unix_ms).max(0);
        let left_ms = wait_ms.saturating_sub(elapsed).max(0);
        // Round up: "try again in 0 s" while still refusing would be a lie.
        u64::try_from(left_ms).unwrap_or(0).div_ceil(1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_rules() {
        for ok in ["0", "1234", &"9".repeat(32)] {
            assert!(check_pin(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            &"1".repeat(33),
            "12a4",
            "abcd",
            "１２３４",
            " 1234",
            "12 34",
            "-1",
        ] {
            assert!(
                matches!(check_pin(bad), Err(StoreError::InvalidPin)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn waits_grow_after_five_failures_and_are_capped() {
        let wait = |failures| {
            LockState {
                failures,
                last_failure_unix_ms: 0,
            }
            .wait_seconds()
        };
        assert_eq!((0..5).map(wait).collect::<Vec<_>>(), [0; 5]);
        assert_eq!(wait(5), 30);
        assert_eq!(wait(6), 60);
        assert_eq!(wait(7), 120);
        assert_eq!(wait(12), 3600);
        assert_eq!(wait(u32::MAX), 3600);
    }

    #[test]
    fn retry_after_counts_down_and_rounds_up() {
        let s = LockState {
            failures: 5,
            last_failure_unix_ms: 1_000_000,
        };
        assert_eq!(s.retry_after(1_000_000), 30);
        assert_eq!(s.retry_after(1_000_001), 30);
        assert_eq!(s.retry_after(1_029_001), 1);
        assert_eq!(s.retry_after(1_030_000), 0);
        assert_eq!(s.retry_after(0), 30, "clock set back");
    }
}
