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
