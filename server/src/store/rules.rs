//! The rules behind the storage operations, as plain functions of what was read: whether a
//! cool-down runs, whether a token may be bound or become a device change's new token, why
//! an enrollment cannot be started. Both backends' operations call these, so a rule lives
//! in one place and is unit-tested here without a database.

use softtoken_protocol::UserId;

use super::model::{Token, TokenState};
use super::rows::EnrollmentForStart;
use super::{StoreError, StoreResult};

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

/// The end of a user's cool-down after a revocation at `now` whose own cool-down would end
/// at `until`: a running cool-down keeps its end unless the service's policy `restarts` it.
pub fn cooldown_after_revoke(current: Option<i64>, now: i64, until: i64, restarts: bool) -> i64 {
    match current {
        Some(running) if running > now && !restarts => running,
        _ => until,
    }
}

/// Whether a token has collected so many wrong registration codes that it waits for the
/// bank (`max_failures` of its service).
pub fn token_locked(token: &Token, max_failures: u32) -> bool {
    token.failures >= max_failures
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

/// Whether a right code that was already used counts as a failure for `user`: not when
/// another user of the same (shared) token spent it, as colleagues of one company do.
pub fn reuse_is_charged(last_used_by: Option<&UserId>, user: &UserId) -> bool {
    last_used_by.is_none_or(|spender| spender == user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::model::EnrollmentId;
    use softtoken_protocol::{OtpParams, ServiceId};

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
        assert_eq!(cooldown_after_revoke(None, NOW, until, false), until);
        assert_eq!(
            cooldown_after_revoke(Some(NOW - 1), NOW, until, false),
            until
        );
        assert_eq!(
            cooldown_after_revoke(Some(NOW + 5), NOW, until, false),
            NOW + 5
        );
        assert_eq!(
            cooldown_after_revoke(Some(NOW + 5), NOW, until, true),
            until
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

    #[test]
    fn reuse_is_charged_to_the_one_who_spent_the_code() {
        let me = UserId::new("staff1").unwrap();
        let colleague = UserId::new("staff2").unwrap();
        assert!(reuse_is_charged(None, &me));
        assert!(reuse_is_charged(Some(&me), &me));
        assert!(!reuse_is_charged(Some(&colleague), &me));
    }
}
