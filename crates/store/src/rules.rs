//! The rules behind the storage operations, as plain functions of what was read: whether a
//! cool-down runs, whether a token may be bound or become a device change's new token, why
//! an enrollment cannot be started. Both backends' operations call these, so a rule lives
//! in one place and is unit-tested here without a database.

use chrono::{TimeZone, Utc};

pub use super::model::RevokeCooldown;
use super::model::{Token, TokenState};
use super::rows::EnrollmentForStart;
use super::{StoreError, StoreResult};
use crate::night_cutoff::NightCutoff;
use crate::policy::Policy;

/// Seconds left of a cool-down ending at `until` (Unix ms), if it still runs at `now`.
pub fn cooldown_left(until: Option<i64>, now: i64) -> Option<u64> {
    let until = until.filter(|&until| until > now)?;
    Some(
        u64::try_from((until - now + 999) / 1000)
            .unwrap_or(1)
            .max(1),
    )
}

/// `Cooldown` while a cool-down runs.
pub fn check_cooldown(until: Option<i64>, now: i64) -> StoreResult<()> {
    match cooldown_left(until, now) {
        Some(retry_after) => Err(StoreError::Cooldown { retry_after }),
        None => Ok(()),
    }
}

/// The end of a user's cool-down after a revocation at `now` asking for `asked`: a running
/// cool-down keeps its end unless the service's policy restarts it, and no cool-down of a
/// revocation in the night window ends before the window does.
pub fn cooldown_after_revoke(current: Option<i64>, now: i64, asked: RevokeCooldown) -> i64 {
    let end = match current {
        Some(running) if running > now && !asked.restarts => running,
        _ => asked.until,
    };
    asked.night_until.map_or(end, |night| end.max(night))
}

/// What a revocation at `now` asks of its users' cool-downs under `policy`.
pub fn revoke_cooldown(policy: &Policy, now: i64) -> RevokeCooldown {
    RevokeCooldown {
        until: now.saturating_add(policy.cooldown_ms()),
        night_until: policy
            .night_cutoff
            .as_ref()
            .and_then(|window| night_window_end(window, now)),
        restarts: policy.cooldown_restarts,
    }
}

/// The end (Unix ms) of the night window `window` that the instant `now` falls in; `None`
/// outside it. A window crossing midnight (20:50–08:10) that `now` is in after its start
/// ends the next day; before its end, the same day. Where the end's wall-clock time does
/// not exist that day (a daylight-saving gap) the window ends when the clock shows a time
/// again; where it exists twice, at the later one.
pub fn night_window_end(window: &NightCutoff, now: i64) -> Option<i64> {
    let local = Utc
        .timestamp_millis_opt(now)
        .single()?
        .with_timezone(&window.zone)
        .naive_local();
    let (time, today) = (local.time(), local.date());
    let end_day = if window.start < window.end {
        (window.start <= time && time < window.end).then_some(today)?
    } else if time >= window.start {
        today.succ_opt()?
    } else if time < window.end {
        today
    } else {
        return None;
    };
    let end = end_day.and_time(window.end);
    // A gap is at most a few hours wide and ends on a whole minute in every real zone.
    (0..=24 * 60).find_map(|minutes| {
        window
            .zone
            .from_local_datetime(&(end + chrono::Duration::minutes(minutes)))
            .latest()
            .map(|t| t.timestamp_millis())
    })
}

/// The lockout rule, the one place it is written, for users and for tokens being
/// registered alike: consecutive wrong codes lock when they reach the service's
/// `max_failures`. Both backends' SQL take [`Lockout::locks_at`] as a parameter, so they count
/// by this rule without restating it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    locks_at: u32,
}

impl Lockout {
    /// The rule under a service's `max_failures`.
    pub fn of(max_failures: u32) -> Self {
        Lockout {
            locks_at: max_failures,
        }
    }

    /// The count of consecutive wrong codes that locks.
    pub fn locks_at(self) -> u32 {
        self.locks_at
    }

    /// Whether `failures` consecutive wrong codes have locked.
    pub fn locked(self, failures: u32) -> bool {
        failures >= self.locks_at
    }

    /// Whether the wrong code that made the count `failures` is the one that locked.
    pub fn newly_locked(self, failures: u32) -> bool {
        failures == self.locks_at
    }

    /// Wrong codes left before the lock.
    pub fn remaining(self, failures: u32) -> u32 {
        self.locks_at.saturating_sub(failures)
    }
}

/// Whether a token has collected so many wrong registration codes that it waits for the
/// bank (`max_failures` of its service).
pub fn token_locked(token: &Token, max_failures: u32) -> bool {
    Lockout::of(max_failures).locked(token.failures)
}

/// Whether `token` may be bound to a user who does not hold it yet.
pub fn check_bindable(
    token: &Token,
    shared_tokens: bool,
    max_failures: u32,
    now: i64,
) -> StoreResult<()> {
    match token.state {
        TokenState::Unassigned if token.expires_at.is_some_and(|at| at <= now) => Err(
            StoreError::Conflict("the provisioned token expired unregistered: provision a new one"),
        ),
        _ if token_locked(token, max_failures) => Err(StoreError::TokenLocked),
        TokenState::Unassigned => Ok(()),
        TokenState::Active if shared_tokens => Ok(()),
        TokenState::Active => Err(StoreError::Conflict(
            "the token belongs to another user and this service does not allow shared tokens",
        )),
        TokenState::Pending | TokenState::Revoked => Err(StoreError::Conflict(
            "the token is pending activation or revoked",
        )),
    }
}

/// Whether `token` may be the new token of a device change: provisioned, unregistered,
/// unexpired, and not locked by wrong codes.
pub fn check_replacement(token: &Token, max_failures: u32, now: i64) -> StoreResult<()> {
    if token.state != TokenState::Unassigned || token.expires_at.is_some_and(|at| at <= now) {
        Err(StoreError::Conflict(
            "the new token must be a provisioned token not yet registered",
        ))
    } else if token_locked(token, max_failures) {
        Err(StoreError::TokenLocked)
    } else {
        Ok(())
    }
}

/// Whether a user may take one more usable token.
pub fn check_token_limit(active: i64, tokens_per_user: u32) -> StoreResult<()> {
    if active >= i64::from(tokens_per_user) {
        Err(StoreError::TokenExists)
    } else {
        Ok(())
    }
}

/// Whether an activation may start on this enrollment; the refusal otherwise. A used
/// enrollment and a cool-down answer as no enrollment at all, so the unauthenticated app
/// API does not tell them apart from a user who does not exist.
pub(crate) fn check_startable(
    e: &EnrollmentForStart,
    max_guesses: u32,
    now: i64,
) -> StoreResult<()> {
    if e.used || cooldown_left(e.cooldown_until, now).is_some() {
        Err(StoreError::EnrollmentNotFound)
    } else if e.expires_at <= now {
        Err(StoreError::EnrollmentExpired)
    } else if e.guesses >= max_guesses {
        Err(StoreError::EnrollmentLocked)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EnrollmentId;
    use softtoken_protocol::{OtpParams, ServiceId};

    #[test]
    fn the_lockout_rule_locks_at_max_failures_and_counts_down_to_it() {
        let rule = Lockout::of(3);
        assert_eq!(rule.locks_at(), 3);
        assert_eq!(
            (0..=4).map(|n| rule.locked(n)).collect::<Vec<_>>(),
            [false, false, false, true, true]
        );
        assert_eq!(
            (0..=4).map(|n| rule.newly_locked(n)).collect::<Vec<_>>(),
            [false, false, false, true, false]
        );
        assert_eq!(
            (0..=4).map(|n| rule.remaining(n)).collect::<Vec<_>>(),
            [3, 2, 1, 0, 0]
        );
    }

    const NOW: i64 = 1_000_000;

    fn token(state: TokenState) -> Token {
        Token::new(
            ServiceId::new("bank").unwrap(),
            crate::serial::TokenSerial::parse("SKTS00000000").unwrap(),
            state,
            OtpParams::REGISTRATION,
            vec![],
            NOW,
        )
    }

    #[test]
    fn cooldowns_run_until_their_end_and_round_up() {
        assert_eq!(cooldown_left(None, NOW), None);
        assert_eq!(cooldown_left(Some(NOW), NOW), None);
        assert_eq!(cooldown_left(Some(NOW + 1), NOW), Some(1));
        assert_eq!(cooldown_left(Some(NOW + 1000), NOW), Some(1));
        assert_eq!(cooldown_left(Some(NOW + 1001), NOW), Some(2));
        assert!(matches!(
            check_cooldown(Some(NOW + 60_000), NOW),
            Err(StoreError::Cooldown { retry_after: 60 })
        ));
        assert!(check_cooldown(Some(NOW - 1), NOW).is_ok());
    }

    #[test]
    fn a_second_revoke_keeps_a_running_cooldown_unless_the_policy_restarts_it() {
        let until = NOW + 1_800_000;
        let asked = |restarts| RevokeCooldown {
            until,
            night_until: None,
            restarts,
        };
        assert_eq!(cooldown_after_revoke(None, NOW, asked(false)), until);
        assert_eq!(
            cooldown_after_revoke(Some(NOW - 1), NOW, asked(false)),
            until
        );
        assert_eq!(
            cooldown_after_revoke(Some(NOW + 5), NOW, asked(false)),
            NOW + 5
        );
        assert_eq!(
            cooldown_after_revoke(Some(NOW + 5), NOW, asked(true)),
            until
        );
    }

    /// Unix ms of a wall-clock time in Tokyo (UTC+9 all year: no daylight saving).
    fn jst(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        chrono_tz::Asia::Tokyo
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .unwrap()
            .timestamp_millis()
    }

    fn shinkin() -> Policy {
        Policy {
            night_cutoff: Some(NightCutoff::parse("20:50-08:10", "Asia/Tokyo").unwrap()),
            ..Policy::default()
        }
    }

    /// The end of the cool-down of a first revocation at `now`.
    fn ends(policy: &Policy, now: i64) -> i64 {
        cooldown_after_revoke(None, now, revoke_cooldown(policy, now))
    }

    #[test]
    fn a_revocation_in_the_night_waits_for_the_morning() {
        let p = shinkin();
        let thirty = 30 * 60 * 1000;
        // Before the window: the ordinary 30 minutes, even though they run into it.
        let t = jst(2026, 12, 1, 20, 49);
        assert_eq!(ends(&p, t), t + thirty);
        assert_eq!(ends(&p, t + 59_999), t + 59_999 + thirty);
        // From its first minute to midnight: 08:10 the next morning.
        assert_eq!(ends(&p, jst(2026, 12, 1, 20, 50)), jst(2026, 12, 2, 8, 10));
        assert_eq!(ends(&p, jst(2026, 12, 1, 23, 59)), jst(2026, 12, 2, 8, 10));
        // The last day of a month and of a year roll over too.
        assert_eq!(ends(&p, jst(2026, 12, 31, 22, 0)), jst(2027, 1, 1, 8, 10));
        // After midnight: 08:10 the same morning.
        assert_eq!(ends(&p, jst(2026, 12, 2, 0, 0)), jst(2026, 12, 2, 8, 10));
        assert_eq!(ends(&p, jst(2026, 12, 2, 0, 30)), jst(2026, 12, 2, 8, 10));
        // Near the window's end the ordinary cool-down is longer and wins.
        let t = jst(2026, 12, 2, 8, 0);
        assert_eq!(ends(&p, t), t + thirty);
        assert_eq!(ends(&p, jst(2026, 12, 2, 7, 39)), jst(2026, 12, 2, 8, 10));
        // From the window's end: ordinary again.
        let t = jst(2026, 12, 2, 8, 10);
        assert_eq!(ends(&p, t), t + thirty);
        assert_eq!(night_window_end(&p.night_cutoff.unwrap(), t - 1), Some(t));
        assert_eq!(night_window_end(&p.night_cutoff.unwrap(), t), None);
        // Without a window nothing changes at night.
        let t = jst(2026, 12, 1, 23, 0);
        assert_eq!(ends(&Policy::default(), t), t + thirty);
    }

    #[test]
    fn a_window_within_one_day() {
        let p = Policy {
            cooldown_secs: 60,
            night_cutoff: Some(NightCutoff::parse("12:00-13:00", "Asia/Tokyo").unwrap()),
            ..Policy::default()
        };
        let t = jst(2026, 12, 1, 11, 59);
        assert_eq!(ends(&p, t), t + 60_000);
        assert_eq!(ends(&p, jst(2026, 12, 1, 12, 0)), jst(2026, 12, 1, 13, 0));
        assert_eq!(ends(&p, jst(2026, 12, 1, 12, 59)), jst(2026, 12, 1, 13, 0));
        let t = jst(2026, 12, 1, 13, 0);
        assert_eq!(ends(&p, t), t + 60_000);
        // Outside the window on the other side of midnight.
        let t = jst(2026, 12, 1, 23, 30);
        assert_eq!(ends(&p, t), t + 60_000);
    }

    #[test]
    fn the_window_is_read_in_the_services_zone() {
        // 20:50-08:10 in UTC is 05:50-17:10 in Tokyo: 23:00 UTC (08:00 JST) is in it.
        let utc = Policy {
            night_cutoff: Some(NightCutoff::parse("20:50-08:10", "UTC").unwrap()),
            ..Policy::default()
        };
        let t = jst(2026, 12, 2, 8, 0);
        assert_eq!(ends(&utc, t), jst(2026, 12, 2, 17, 10));
        // 23:00 JST is 14:00 UTC: outside.
        let t = jst(2026, 12, 2, 23, 0);
        assert_eq!(ends(&utc, t), t + 30 * 60 * 1000);
    }

    #[test]
    fn a_window_ending_in_a_daylight_saving_gap_ends_when_the_clock_resumes() {
        // New York skipped 02:00-03:00 on 2026-03-08; a 22:00-02:30 window ends at 03:00
        // EDT (07:00 UTC), the first instant its end's wall-clock time is not skipped.
        let w = NightCutoff::parse("22:00-02:30", "America/New_York").unwrap();
        let at = Utc
            .with_ymd_and_hms(2026, 3, 8, 5, 0, 0)
            .unwrap()
            .timestamp_millis();
        let resumed = Utc
            .with_ymd_and_hms(2026, 3, 8, 7, 0, 0)
            .unwrap()
            .timestamp_millis();
        assert_eq!(night_window_end(&w, at), Some(resumed));
    }

    #[test]
    fn the_night_outlasts_a_running_cooldown_it_would_otherwise_keep() {
        let p = shinkin();
        // A first revocation at 20:30 ends at 21:00; a second one at 20:55, in the window,
        // keeps that end by policy, but not before the morning.
        let first = ends(&p, jst(2026, 12, 1, 20, 30));
        assert_eq!(first, jst(2026, 12, 1, 21, 0));
        let now = jst(2026, 12, 1, 20, 55);
        let asked = revoke_cooldown(&p, now);
        assert_eq!(
            cooldown_after_revoke(Some(first), now, asked),
            jst(2026, 12, 2, 8, 10)
        );
        // A running cool-down longer than the night keeps its end; one restarted by
        // policy gets the later of the new cool-down and the window's end.
        let long = jst(2026, 12, 2, 9, 0);
        assert_eq!(cooldown_after_revoke(Some(long), now, asked), long);
        let restarting = Policy {
            cooldown_restarts: true,
            cooldown_secs: 13 * 3600,
            ..shinkin()
        };
        let asked = revoke_cooldown(&restarting, now);
        assert_eq!(
            cooldown_after_revoke(Some(long), now, asked),
            now + 13 * 3600 * 1000
        );
    }

    #[test]
    fn what_may_be_bound() {
        let fresh = Token {
            expires_at: Some(NOW + 1),
            ..token(TokenState::Unassigned)
        };
        assert!(check_bindable(&fresh, false, 5, NOW).is_ok());
        let expired = Token {
            expires_at: Some(NOW),
            ..fresh.clone()
        };
        assert!(matches!(
            check_bindable(&expired, false, 5, NOW),
            Err(StoreError::Conflict(_))
        ));
        let guessed = Token {
            failures: 5,
            ..fresh.clone()
        };
        assert!(matches!(
            check_bindable(&guessed, false, 5, NOW),
            Err(StoreError::TokenLocked)
        ));
        assert!(check_bindable(&token(TokenState::Active), true, 5, NOW).is_ok());
        assert!(check_bindable(&token(TokenState::Active), false, 5, NOW).is_err());
        assert!(check_bindable(&token(TokenState::Pending), true, 5, NOW).is_err());
        assert!(check_bindable(&token(TokenState::Revoked), true, 5, NOW).is_err());
        assert!(check_token_limit(0, 1).is_ok());
        assert!(matches!(
            check_token_limit(1, 1),
            Err(StoreError::TokenExists)
        ));
    }

    #[test]
    fn what_may_replace_a_token() {
        let fresh = token(TokenState::Unassigned);
        assert!(check_replacement(&fresh, 5, NOW).is_ok());
        assert!(check_replacement(&token(TokenState::Active), 5, NOW).is_err());
        let guessed = Token {
            failures: 9,
            ..fresh
        };
        assert!(matches!(
            check_replacement(&guessed, 5, NOW),
            Err(StoreError::TokenLocked)
        ));
    }

    #[test]
    fn why_an_enrollment_cannot_start() {
        let open = EnrollmentForStart {
            id: EnrollmentId::generate(),
            w: vec![],
            guesses: 0,
            expires_at: NOW + 1,
            used: false,
            cooldown_until: None,
        };
        assert!(check_startable(&open, 5, NOW).is_ok());
        let check = |e: EnrollmentForStart| check_startable(&e, 5, NOW).unwrap_err();
        assert!(matches!(
            check(EnrollmentForStart {
                used: true,
                ..open.clone()
            }),
            StoreError::EnrollmentNotFound
        ));
        assert!(matches!(
            check(EnrollmentForStart {
                cooldown_until: Some(NOW + 1),
                ..open.clone()
            }),
            StoreError::EnrollmentNotFound
        ));
        assert!(matches!(
            check(EnrollmentForStart {
                expires_at: NOW,
                ..open.clone()
            }),
            StoreError::EnrollmentExpired
        ));
        assert!(matches!(
            check(EnrollmentForStart { guesses: 5, ..open }),
            StoreError::EnrollmentLocked
        ));
    }
}
