//! Statements both backends run word for word (SQLite understands PostgreSQL's `$1`
//! placeholders), kept once so the two stores cannot drift apart.

/// Records an audit event: service, time, kind, user, serial, detail.
pub(crate) const INSERT_AUDIT: &str = "INSERT INTO audit_events (service_id, at, kind, user_id, serial, detail) \
     VALUES ($1, $2, $3, $4, $5, $6)";

/// Deletes activation sessions expired by `$1`.
pub(crate) const PURGE_SESSIONS: &str = "DELETE FROM activation_sessions WHERE expires_at <= $1";

/// Deletes provisioned tokens whose registration window closed by `$1` without a user.
pub(crate) const PURGE_UNASSIGNED: &str = "DELETE FROM tokens WHERE state = 'unassigned' AND expires_at IS NOT NULL \
     AND expires_at <= $1 \
     AND NOT EXISTS (SELECT 1 FROM token_users b WHERE b.serial = tokens.serial)";

/// Creates a token; `$1`…`$13` are its columns in table order (`bind_token_columns`).
pub(crate) const INSERT_TOKEN: &str = "INSERT INTO tokens (serial, service_id, state, algorithm, digits, period, seed, \
     last_step, drift, created_at, activated_at, last_used_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

/// [`INSERT_TOKEN`], skipping a serial already present (imports never overwrite).
pub(crate) const INSERT_TOKEN_UNLESS_PRESENT: &str = "INSERT INTO tokens (serial, service_id, state, algorithm, digits, period, seed, \
     last_step, drift, created_at, activated_at, last_used_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
     ON CONFLICT (serial) DO NOTHING";
