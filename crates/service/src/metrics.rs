//! The service layer's metrics (codes checked, lockouts, unlocks, revocations, the database
//! out of reach), recorded through the `metrics` facade once the server turned recording on
//! ([`softtoken_store::metrics::enable`]). Their names are written here once.

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use metrics::{Counter, counter, describe_counter};
use softtoken_store::audit::AuditKind;
use softtoken_store::metrics::on;

const CODE_CHECKS: &str = "softtoken_code_checks_total";
const LOCKOUTS: &str = "softtoken_lockouts_total";
const DATABASE_UNAVAILABLE: &str = "softtoken_database_unavailable_total";
const UNLOCKS: &str = "softtoken_unlocks_total";
const REVOCATIONS: &str = "softtoken_revocations_total";

/// Describes this layer's metrics to the installed recorder.
pub fn describe() {
    describe_counter!(
        CODE_CHECKS,
        "codes checked by the verification service, by purpose and outcome (reason)"
    );
    describe_counter!(LOCKOUTS, "users locked by wrong codes");
    describe_counter!(
        DATABASE_UNAVAILABLE,
        "requests answered 503 because the database was out of reach or out of space"
    );
    describe_counter!(UNLOCKS, "lockouts cleared by the bank, of users or tokens");
    describe_counter!(REVOCATIONS, "tokens revoked by the bank");
}

static CHECKS: OnceLock<RwLock<HashMap<(AuditKind, &'static str), Counter>>> = OnceLock::new();

/// Counts one code checked for `purpose` (`verify`, `confirm`, `possession`, …) with the
/// outcome its caller got (`ok`, `invalid`, `reused`, `locked`, …).
pub fn code_checked(purpose: AuditKind, reason: &'static str) {
    if !on() {
        return;
    }
    let cache = CHECKS.get_or_init(RwLock::default);
    let key = (purpose, reason);
    let cached = cache
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
        .cloned();
    let count = cached.unwrap_or_else(|| {
        let count = counter!(CODE_CHECKS, "purpose" => purpose.as_str(), "reason" => reason);
        cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, count.clone());
        count
    });
    count.increment(1);
}

/// Counts a request refused because the database was out of reach or out of space.
pub fn database_unavailable() {
    if on() {
        counter!(DATABASE_UNAVAILABLE).increment(1);
    }
}

/// Counts a user locked by wrong codes.
pub fn locked_out() {
    if on() {
        counter!(LOCKOUTS).increment(1);
    }
}

/// What a lockout cleared by the bank was on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlocked {
    /// A user locked by wrong codes.
    User,
    /// A token locked by wrong registration codes.
    Token,
}

/// Counts a lockout the bank cleared.
pub fn unlocked(what: Unlocked) {
    if on() {
        let what = match what {
            Unlocked::User => "user",
            Unlocked::Token => "token",
        };
        counter!(UNLOCKS, "what" => what).increment(1);
    }
}

/// Counts a token the bank revoked.
pub fn revoked() {
    if on() {
        counter!(REVOCATIONS).increment(1);
    }
}
