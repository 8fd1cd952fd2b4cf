//! Every statement both backends run, once. PostgreSQL's `$N` placeholders throughout
//! (the SQLite side binds them by number); only portable SQL: `ON CONFLICT`, `RETURNING`,
//! `COALESCE`, no data-modifying CTEs (those are PostgreSQL's own, in `postgres.rs`).
//!
//! Integers are 64-bit on both sides and booleans compare as booleans, so a statement's
//! meaning is the same on both; the tests run each operation on both to prove it.

/// The `services` columns every service read selects, in [`super::rows`]' order.
macro_rules! service_columns {
    () => {
        "id, name, algorithm, digits, period, otp_window, max_failures, cooldown_secs, \
         cooldown_restarts, enrollment_ttl_secs, tokens_per_user, shared_tokens, \
         unassigned_quota, night_cutoff, night_cutoff_zone, created_at"
    };
}

/// The `tokens` columns (table alias `t`) every token read selects.
macro_rules! token_columns {
    () => {
        "t.serial, t.service_id, t.state, t.algorithm, t.digits, t.period, t.seed, \
         t.last_step, t.drift, t.failures, t.last_used_by, t.created_at, t.activated_at, \
         t.last_used_at, t.expires_at"
    };
}

/// The `tokens` columns in table order, for inserts (`$1`…`$15`, [`super::ops`]' order).
macro_rules! token_insert {
    () => {
        "INSERT INTO tokens (serial, service_id, state, algorithm, digits, period, seed, \
         last_step, drift, failures, last_used_by, created_at, activated_at, last_used_at, \
         expires_at) "
    };
}

// --- services ---------------------------------------------------------------------------

/// Adds a service; changes nothing if its ID (or key hash) exists.
pub(crate) const INSERT_SERVICE: &str = "INSERT INTO services (id, name, algorithm, digits, \
     period, otp_window, max_failures, cooldown_secs, cooldown_restarts, enrollment_ttl_secs, \
     tokens_per_user, shared_tokens, unassigned_quota, api_key_hash, created_at, night_cutoff, \
     night_cutoff_zone) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
     ON CONFLICT DO NOTHING";

/// Every service, by ID.
pub(crate) const SERVICES: &str = concat!(
    "SELECT ",
    service_columns!(),
    " FROM services WHERE id <> '_console' ORDER BY id"
);

/// One service.
pub(crate) const SERVICE: &str = concat!(
    "SELECT ",
    service_columns!(),
    " FROM services WHERE id = $1"
);

/// The service owning an API key hash.
pub(crate) const SERVICE_FOR_KEY: &str = "SELECT id AS v FROM services WHERE api_key_hash = $1";

/// Replaces a service's policy (every policy column of [`INSERT_SERVICE`]).
pub(crate) const SET_SERVICE_POLICY: &str = "UPDATE services SET algorithm = $1, digits = $2, \
     period = $3, otp_window = $4, max_failures = $5, cooldown_secs = $6, \
     cooldown_restarts = $7, enrollment_ttl_secs = $8, tokens_per_user = $9, \
     shared_tokens = $10, unassigned_quota = $11, night_cutoff = $12, \
     night_cutoff_zone = $13 WHERE id = $14";

/// Replaces a service's API key hash.
pub(crate) const SET_SERVICE_KEY: &str = "UPDATE services SET api_key_hash = $1 WHERE id = $2";

// --- users ------------------------------------------------------------------------------

/// Creates the user's row unless it exists.
pub(crate) const ENSURE_USER: &str = "INSERT INTO users (service_id, user_id, created_at) \
     VALUES ($1, $2, $3) ON CONFLICT (service_id, user_id) DO NOTHING";

/// A user's counters.
pub(crate) const USER_STATE: &str = "SELECT failures, locked, cooldown_until FROM users \
     WHERE service_id = $1 AND user_id = $2";

/// A user and their tokens in one read: the user's row repeated on each token (a LEFT
/// JOIN, so a user without tokens still comes back), newest binding first. The user's
/// columns are renamed, since a token has `failures` too.
pub(crate) const USER_WITH_TOKENS: &str = concat!(
    "SELECT u.failures AS user_failures, u.locked AS user_locked, \
     u.cooldown_until AS user_cooldown_until, ",
    token_columns!(),
    " FROM users u \
     LEFT JOIN token_users b ON b.service_id = u.service_id AND b.user_id = u.user_id \
     LEFT JOIN tokens t ON t.serial = b.serial \
     WHERE u.service_id = $1 AND u.user_id = $2 \
     ORDER BY b.bound_at DESC, t.serial"
);

/// Counts one wrong code against an unlocked user; locks at `$1` failures
/// ([`super::rules::Lockout::locks_at`]).
pub(crate) const COUNT_FAILURE: &str = "UPDATE users SET failures = failures + 1, \
     locked = (failures + 1 >= $1) \
     WHERE service_id = $2 AND user_id = $3 AND locked = FALSE RETURNING failures, locked";

/// Clears an unlocked user's failure count; no row if the user is locked.
pub(crate) const RESET_FAILURES: &str = "UPDATE users SET failures = 0 \
     WHERE service_id = $1 AND user_id = $2 AND locked = FALSE";

/// Clears a lockout and the failure count.
pub(crate) const UNLOCK_USER: &str = "UPDATE users SET locked = FALSE, failures = 0 \
     WHERE service_id = $1 AND user_id = $2";

/// Sets (or, with NULL, ends) a user's cool-down.
pub(crate) const SET_COOLDOWN: &str = "UPDATE users SET cooldown_until = $1 \
     WHERE service_id = $2 AND user_id = $3";

// --- tokens -----------------------------------------------------------------------------

/// One token of a service.
pub(crate) const TOKEN: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM tokens t WHERE t.serial = $1 AND t.service_id = $2"
);

/// Stores a token; changes nothing if the serial exists (imports never overwrite).
pub(crate) const INSERT_TOKEN: &str = concat!(
    token_insert!(),
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
     ON CONFLICT (serial) DO NOTHING"
);

/// Stores a provisioned token only while the service has fewer than `$16` provisioned
/// tokens waiting for registration, and unless the serial exists.
pub(crate) const INSERT_PROVISIONED: &str = concat!(
    token_insert!(),
    "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15 \
     WHERE (SELECT COUNT(*) FROM tokens w WHERE w.service_id = $2 AND w.state = 'unassigned' \
            AND w.expires_at IS NOT NULL) < $16 \
     ON CONFLICT (serial) DO NOTHING"
);

/// Whether a serial is on the server (in any service).
pub(crate) const SERIAL_EXISTS: &str =
    "SELECT EXISTS (SELECT 1 FROM tokens WHERE serial = $1) AS b";

/// One-time use of a step by a user the token is bound to, in state `$6`, while the user
/// is not locked: records the step (only if newer than the last), who spent it, and
/// activates a pending token.
pub(crate) const CONSUME_STEP: &str = "UPDATE tokens SET last_step = $1, drift = $2, \
     last_used_at = $3, last_used_by = $7, state = 'active', \
     activated_at = COALESCE(activated_at, $3) \
     WHERE serial = $4 AND service_id = $5 AND state = $6 AND last_step < $1 \
     AND EXISTS (SELECT 1 FROM token_users b WHERE b.serial = tokens.serial \
                 AND b.service_id = $5 AND b.user_id = $7) \
     AND EXISTS (SELECT 1 FROM users u WHERE u.service_id = $5 AND u.user_id = $7 \
                 AND u.locked = FALSE)";

/// Who spent a token's last step.
pub(crate) const LAST_USED_BY: &str =
    "SELECT last_used_by AS v FROM tokens WHERE serial = $1 AND service_id = $2";

/// Whether the user is locked (no row: no such user).
pub(crate) const USER_LOCKED: &str =
    "SELECT locked AS b FROM users WHERE service_id = $1 AND user_id = $2";

/// One-time use of a step of a token not yet bound to the user, in state `$6`: activates
/// it (clearing its expiry and registration failures) and records the step.
pub(crate) const CONSUME_UNBOUND_STEP: &str = "UPDATE tokens SET state = 'active', \
     activated_at = COALESCE(activated_at, $1), last_step = $2, drift = $3, last_used_at = $1, \
     last_used_by = $7, expires_at = NULL, failures = 0 \
     WHERE serial = $4 AND service_id = $5 AND state = $6 AND last_step < $2";

/// Counts a wrong registration code against a token.
pub(crate) const COUNT_TOKEN_FAILURE: &str = "UPDATE tokens SET failures = failures + 1 \
     WHERE serial = $1 AND service_id = $2 RETURNING failures AS n";

/// Clears a token's registration failures.
pub(crate) const UNLOCK_TOKEN: &str =
    "UPDATE tokens SET failures = 0 WHERE serial = $1 AND service_id = $2";

/// Usable (active) tokens of a user.
pub(crate) const ACTIVE_TOKENS: &str = "SELECT COUNT(*) AS n FROM token_users b \
     JOIN tokens t ON t.serial = b.serial \
     WHERE b.service_id = $1 AND b.user_id = $2 AND t.state = 'active'";

/// Whether a token is bound to a user.
pub(crate) const IS_BOUND: &str = "SELECT EXISTS (SELECT 1 FROM token_users \
     WHERE service_id = $1 AND user_id = $2 AND serial = $3) AS b";

/// What the token status call needs of a token, found by serial alone (serials are unique
/// across the server).
pub(crate) const TOKEN_STANDING: &str =
    "SELECT service_id, state, ended_as, seed FROM tokens WHERE serial = $1";

/// Binds a token to a user.
pub(crate) const BIND: &str =
    "INSERT INTO token_users (service_id, user_id, serial, bound_at) VALUES ($1, $2, $3, $4)";

/// Unbinds a token from a user.
pub(crate) const UNBIND: &str =
    "DELETE FROM token_users WHERE service_id = $1 AND user_id = $2 AND serial = $3";

/// Revokes a token no user holds any more, recording how it ended (`$2`: 'stopped' or
/// 'replaced'); a token that ended already keeps its first reason.
pub(crate) const REVOKE_IF_UNHELD: &str = "UPDATE tokens SET state = 'revoked', ended_as = $2 \
     WHERE serial = $1 AND state <> 'revoked' \
     AND NOT EXISTS (SELECT 1 FROM token_users b WHERE b.serial = $1)";

/// Revokes a user's pending tokens (a newer activation supersedes them).
pub(crate) const REVOKE_PENDING_OF_USER: &str = "UPDATE tokens SET state = 'revoked', \
     ended_as = 'replaced' \
     WHERE state = 'pending' AND serial IN \
     (SELECT serial FROM token_users WHERE service_id = $1 AND user_id = $2)";

/// Revokes a token.
pub(crate) const REVOKE: &str = "UPDATE tokens SET state = 'revoked', ended_as = 'revoked' WHERE serial = $1 AND service_id = $2";

/// The users a token is bound to, with their cool-down.
///
/// Written as `IN` rather than a join so every planner starts from the serial: SQLite,
/// without statistics, walked the service's users for the join.
pub(crate) const TOKEN_USERS: &str = "SELECT u.user_id AS v, u.cooldown_until AS n \
     FROM users u WHERE u.service_id = $2 AND u.user_id IN \
     (SELECT b.user_id FROM token_users b WHERE b.serial = $1 AND b.service_id = $2) \
     ORDER BY u.user_id";

/// The serials bound to a user.
pub(crate) const USER_SERIALS: &str = "SELECT serial AS v FROM token_users \
     WHERE service_id = $1 AND user_id = $2 ORDER BY serial";

// --- enrollments and activation ---------------------------------------------------------

/// Issues an enrollment, replacing the user's older one whatever its state.
pub(crate) const UPSERT_ENROLLMENT: &str = "INSERT INTO enrollments (id, service_id, user_id, \
     w, guesses, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, 0, $5, $6, NULL) \
     ON CONFLICT (service_id, user_id) DO UPDATE SET id = excluded.id, w = excluded.w, \
     guesses = 0, created_at = excluded.created_at, expires_at = excluded.expires_at, \
     used_at = NULL";

/// The user's enrollment and cool-down, for an activation start to judge.
pub(crate) const ENROLLMENT_FOR_START: &str = "SELECT e.id, e.w, e.guesses, e.expires_at, \
     e.used_at, u.cooldown_until FROM enrollments e \
     JOIN users u ON u.service_id = e.service_id AND u.user_id = e.user_id \
     WHERE e.service_id = $1 AND e.user_id = $2";

/// The user's unused enrollment, as the bank sees it.
pub(crate) const UNUSED_ENROLLMENT: &str = "SELECT id, created_at, expires_at, guesses \
     FROM enrollments WHERE service_id = $1 AND user_id = $2 AND used_at IS NULL";

/// The condition, on table `enrollments`, that no cool-down runs for its user at `$now`
/// (the statements below put it at their own placeholder).
macro_rules! no_cooldown_of_enrollment_user {
    ($now:literal) => {
        concat!(
            "NOT EXISTS (SELECT 1 FROM users u WHERE u.service_id = enrollments.service_id \
             AND u.user_id = enrollments.user_id AND u.cooldown_until > ",
            $now,
            ")"
        )
    };
}
pub(crate) use no_cooldown_of_enrollment_user;

/// Counts one guess against an open enrollment (unused, unexpired, under `$3` guesses, no
/// cool-down running); the guesses counted so far.
pub(crate) const COUNT_GUESS: &str = concat!(
    "UPDATE enrollments SET guesses = guesses + 1 \
     WHERE id = $1 AND used_at IS NULL AND expires_at > $2 AND guesses < $3 AND ",
    no_cooldown_of_enrollment_user!("$2"),
    " RETURNING guesses AS n"
);

/// Uses up an open enrollment at finish (unless a cool-down began meanwhile).
pub(crate) const USE_ENROLLMENT: &str = concat!(
    "UPDATE enrollments SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND ",
    no_cooldown_of_enrollment_user!("$1")
);

/// Ends the unused enrollments of the users a token is bound to.
pub(crate) const END_ENROLLMENTS_OF_TOKEN_USERS: &str = "DELETE FROM enrollments \
     WHERE service_id = $1 AND used_at IS NULL AND user_id IN \
     (SELECT user_id FROM token_users WHERE serial = $2 AND service_id = $1)";

/// Stores an activation session.
pub(crate) const INSERT_SESSION: &str = "INSERT INTO activation_sessions (id, enrollment_id, \
     service_id, user_id, session_key, attempts_left, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// A live activation session.
pub(crate) const SESSION: &str = "SELECT id, enrollment_id, service_id, user_id, session_key, \
     attempts_left, expires_at FROM activation_sessions WHERE id = $1 AND expires_at > $2";

/// Takes a live session out (a finish uses it up); its enrollment.
pub(crate) const TAKE_SESSION: &str = "DELETE FROM activation_sessions \
     WHERE id = $1 AND expires_at > $2 RETURNING enrollment_id AS v";

/// Deletes a session (a wrong start password ends it).
pub(crate) const DISCARD_SESSION: &str = "DELETE FROM activation_sessions WHERE id = $1";

// --- audit and housekeeping ---------------------------------------------------------------

/// Records an audit event: service, time, kind, user, serial, detail.
pub(crate) const INSERT_AUDIT: &str = "INSERT INTO audit_events (service_id, at, kind, user_id, \
     serial, detail, operator) VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Events of a service after an ID, oldest first.
pub(crate) const AUDIT_EVENTS: &str = "SELECT id, at, kind, user_id, serial, detail, operator \
     FROM audit_events WHERE service_id = $1 AND id > $2 ORDER BY id LIMIT $3";

/// Deletes activation sessions expired by `$1`.
pub(crate) const PURGE_SESSIONS: &str = "DELETE FROM activation_sessions WHERE expires_at <= $1";

/// Deletes provisioned tokens whose registration window closed by `$1` without a user.
pub(crate) const PURGE_UNASSIGNED: &str = "DELETE FROM tokens WHERE state = 'unassigned' \
     AND expires_at IS NOT NULL AND expires_at <= $1 \
     AND NOT EXISTS (SELECT 1 FROM token_users b WHERE b.serial = tokens.serial)";

/// Deletes outbox mails queued before `$1` that are done with: sent, failed, or never
/// sent and expired (their enrollment too) before `$1`.
pub(crate) const PURGE_MAIL: &str = "DELETE FROM mail_outbox WHERE created_at < $1 \
     AND (state <> 'pending' OR expires_at < $1)";

// --- activation e-mail ------------------------------------------------------------------

/// Sets a service's mail settings, replacing what it had.
pub(crate) const UPSERT_SERVICE_MAIL: &str = "INSERT INTO service_mail (service_id, \
     download_url, subject_ja, body_ja, subject_en, body_en, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (service_id) DO UPDATE SET download_url = excluded.download_url, \
     subject_ja = excluded.subject_ja, body_ja = excluded.body_ja, \
     subject_en = excluded.subject_en, body_en = excluded.body_en, \
     updated_at = excluded.updated_at";

/// A service's mail settings.
pub(crate) const SERVICE_MAIL: &str = "SELECT service_id, download_url, subject_ja, body_ja, \
     subject_en, body_en, updated_at FROM service_mail WHERE service_id = $1";

/// Queues a mail, due at once (`$7`, the enrollment's time) until its enrollment expires.
pub(crate) const INSERT_MAIL: &str = "INSERT INTO mail_outbox (id, service_id, user_id, \
     recipient, subject, body, state, attempts, next_attempt_at, expires_at, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8, $7)";

/// Claims up to `$3` mails due by `$2`: each is due again only at `$1` (its lease) and
/// counts an attempt. The outer conditions repeat the inner ones so that of two senders
/// racing for a mail only one claims it: PostgreSQL re-checks them on the row as the
/// other sender left it (SQLite has one writer).
pub(crate) const CLAIM_MAIL: &str = "UPDATE mail_outbox SET next_attempt_at = $1, \
     attempts = attempts + 1 \
     WHERE id IN (SELECT id FROM mail_outbox WHERE state = 'pending' AND next_attempt_at <= $2 \
                  ORDER BY next_attempt_at, created_at LIMIT $3) \
     AND state = 'pending' AND next_attempt_at <= $2 \
     RETURNING id, service_id, user_id, recipient, subject, body, attempts, expires_at, \
     created_at";

/// A user's outbox mails, newest first.
pub(crate) const USER_MAILS: &str = "SELECT state, recipient, attempts, last_error, \
     created_at, sent_at FROM mail_outbox WHERE service_id = $1 AND user_id = $2 \
     ORDER BY created_at DESC, id LIMIT $3";

/// Marks a queued mail sent at `$2`.
pub(crate) const MAIL_SENT: &str = "UPDATE mail_outbox SET state = 'sent', sent_at = $2, \
     last_error = NULL WHERE id = $1 AND state = 'pending'";

/// Puts a queued mail off until `$2`, with why.
pub(crate) const MAIL_RETRY: &str = "UPDATE mail_outbox SET next_attempt_at = $2, \
     last_error = $3 WHERE id = $1 AND state = 'pending'";

/// Gives a queued mail up, with why.
pub(crate) const MAIL_FAILED: &str = "UPDATE mail_outbox SET state = 'failed', \
     last_error = $2 WHERE id = $1 AND state = 'pending'";

// --- sealed secrets (key rotation) --------------------------------------------------------

/// Declares the two statements of one kind of sealed column: the values not starting with
/// header `$2` (of length `$1`) in key order after `$3`, at most `$4`; and the compare-and-set
/// that replaces one (`$1` new, `$2` key, `$3` old).
macro_rules! sealed_statements {
    ($stale:ident, $replace:ident, $table:literal, $key:literal, $column:literal) => {
        /// Sealed values of this column due for re-sealing, in key order.
        pub(crate) const $stale: &str = concat!(
            "SELECT ",
            $key,
            " AS id, service_id, ",
            $column,
            " AS blob FROM ",
            $table,
            " WHERE substr(",
            $column,
            ", 1, CAST($1 AS INTEGER)) <> $2 AND ",
            $key,
            " > $3 ORDER BY ",
            $key,
            " LIMIT $4"
        );
        /// Replaces a sealed value its row still holds.
        pub(crate) const $replace: &str = concat!(
            "UPDATE ",
            $table,
            " SET ",
            $column,
            " = $1 WHERE ",
            $key,
            " = $2 AND ",
            $column,
            " = $3"
        );
    };
}

sealed_statements!(STALE_SEEDS, RESEAL_SEED, "tokens", "serial", "seed");
sealed_statements!(STALE_W, RESEAL_W, "enrollments", "id", "w");
sealed_statements!(
    STALE_SESSION_KEYS,
    RESEAL_SESSION_KEY,
    "activation_sessions",
    "id",
    "session_key"
);

/// A new transfer challenge; nothing if the user already has a challenge with this manual
/// question (the unique index `transactions_manual_question`): the caller draws another
/// challenge number.
pub(crate) const INSERT_TRANSACTION: &str = "INSERT INTO transactions (id, service_id, \
     user_id, question, manual_question, masked_account, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING";

/// A user's transfer challenge.
pub(crate) const TRANSACTION: &str = "SELECT id, service_id, user_id, question, \
     manual_question, masked_account, created_at, expires_at, used_at FROM transactions \
     WHERE id = $1 AND service_id = $2 AND user_id = $3";

/// The single use of a challenge's code: only if unused and not expired at `$4`.
pub(crate) const USE_TRANSACTION: &str = "UPDATE transactions SET used_at = $4 \
     WHERE id = $1 AND service_id = $2 AND user_id = $3 AND used_at IS NULL \
     AND expires_at > $4";

// --- the help-desk console (console.rs) ----------------------------------------------

pub(crate) const INSERT_OPERATOR: &str = "INSERT INTO operators (service_id, name, role, password_hash, \
     created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id";
pub(crate) const OPERATOR_BY_NAME: &str = "SELECT id, service_id, name, role, password_hash, disabled, \
     failures, locked, locked_until, created_at FROM operators WHERE name = $1";
pub(crate) const OPERATOR_BY_ID: &str = "SELECT id, service_id, name, role, password_hash, disabled, \
     failures, locked, locked_until, created_at FROM operators WHERE id = $1";
pub(crate) const ALL_OPERATORS: &str = "SELECT id, service_id, name, role, password_hash, disabled, \
     failures, locked, locked_until, created_at FROM operators ORDER BY name";
pub(crate) const SERVICE_OPERATORS: &str = "SELECT id, service_id, name, role, password_hash, disabled, \
     failures, locked, locked_until, created_at FROM operators WHERE service_id = $1 ORDER BY name";
pub(crate) const SET_DISABLED: &str = "UPDATE operators SET disabled = $1 WHERE name = $2";
pub(crate) const SET_PASSWORD: &str = "UPDATE operators SET password_hash = $1, failures = 0, \
     locked = FALSE, locked_until = 0 WHERE name = $2";
pub(crate) const OPERATOR_FAILURES: &str =
    "SELECT failures, locked_until FROM operators WHERE id = $1";
pub(crate) const COUNT_OPERATOR_FAILURE: &str =
    "UPDATE operators SET failures = $1, locked_until = $2 WHERE id = $3";
pub(crate) const RESET_OPERATOR_FAILURES: &str =
    "UPDATE operators SET failures = 0, locked_until = 0 WHERE id = $1 AND locked = FALSE";
pub(crate) const INSERT_CONSOLE_SESSION: &str = "INSERT INTO console_sessions (id_hash, operator_id, stage, \
     service_id, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $5)";
pub(crate) const TOUCH_SESSION: &str = "UPDATE console_sessions SET last_seen_at = $1 WHERE id_hash = $2 \
     AND last_seen_at > $3 AND created_at > $4 \
     RETURNING operator_id, stage, service_id, created_at";
pub(crate) const UPDATE_SESSION: &str =
    "UPDATE console_sessions SET stage = $1, service_id = $2 WHERE id_hash = $3";
pub(crate) const DELETE_SESSION: &str = "DELETE FROM console_sessions WHERE id_hash = $1";
pub(crate) const DELETE_OPERATOR_SESSIONS: &str = "DELETE FROM console_sessions WHERE operator_id = \
     (SELECT id FROM operators WHERE name = $1)";
pub(crate) const PURGE_CONSOLE_SESSIONS: &str =
    "DELETE FROM console_sessions WHERE last_seen_at <= $1 OR created_at <= $2";
/// Partial match on the user ID or on a serial bound to the user, case-insensitive on both
/// backends (LOWER on both sides; SQLite's LIKE alone would be, PostgreSQL's would not).
pub(crate) const SEARCH_USERS: &str = "SELECT DISTINCT u.user_id AS user_id FROM users u \
     LEFT JOIN token_users t ON t.service_id = u.service_id AND t.user_id = u.user_id \
     WHERE u.service_id = $1 AND (LOWER(u.user_id) LIKE $2 ESCAPE '!' \
     OR LOWER(t.serial) LIKE $3 ESCAPE '!') ORDER BY u.user_id LIMIT $4 OFFSET $5";
/// The audit search, newest first, after `$1` (service) and the key condition `$key` the
/// search walks an index by; the other filters are checked on the rows it walks.
///
/// One statement per key rather than `($2 IS NULL OR user_id = $2)`: a planner cannot use
/// an index on a condition that may be absent, so the user page would walk the service's
/// whole trail (the soak of issue 26 found each page slower with every customer).
macro_rules! filtered_audit {
    ($key:literal) => {
        concat!(
            "SELECT id, at, kind, user_id, serial, detail, operator \
             FROM audit_events WHERE service_id = $1",
            $key,
            " AND ($2 IS NULL OR user_id = $2) AND ($3 IS NULL OR serial = $3) \
             AND ($4 IS NULL OR kind = $4) AND ($5 IS NULL OR at >= $5) \
             AND ($6 IS NULL OR at < $6) ORDER BY id DESC LIMIT $7 OFFSET $8"
        )
    };
}
/// The audit search of one user (index `audit_events_by_user`).
pub(crate) const USER_AUDIT: &str = filtered_audit!(" AND user_id = $2");
/// The audit search of one serial (index `audit_events_by_serial`).
pub(crate) const SERIAL_AUDIT: &str = filtered_audit!(" AND serial = $3");
/// The audit search of the whole service (index `audit_events_by_service`).
pub(crate) const SERVICE_AUDIT: &str = filtered_audit!("");

/// A full sign-in clears its operator's wrong tries (unless an admin locked the operator).
pub(crate) const RESET_SESSION_OPERATOR_FAILURES: &str = "UPDATE operators SET failures = 0, \
     locked_until = 0 WHERE locked = FALSE AND id = \
     (SELECT operator_id FROM console_sessions WHERE id_hash = $1)";
