-- softtoken-server schema (SQLite). Kept to SQL that PostgreSQL also speaks, so the
-- PostgreSQL migrations differ only in types (BLOB -> BYTEA, INTEGER -> BIGINT,
-- AUTOINCREMENT -> BIGSERIAL). All times are Unix milliseconds.

CREATE TABLE services (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    -- NULL: the protocol's default for the mode (activation 8/60, registration 6/30).
    algorithm           TEXT,
    digits              INTEGER,
    period              INTEGER,
    otp_window          INTEGER NOT NULL,
    max_failures        INTEGER NOT NULL,
    cooldown_secs       INTEGER NOT NULL,
    enrollment_ttl_secs INTEGER NOT NULL,
    tokens_per_user     INTEGER NOT NULL,
    shared_tokens       BOOLEAN NOT NULL,
    -- SHA-256 of the bearer key; the key itself is shown once and never stored.
    api_key_hash        BLOB NOT NULL UNIQUE,
    created_at          INTEGER NOT NULL
);

CREATE TABLE users (
    service_id     TEXT NOT NULL REFERENCES services (id),
    user_id        TEXT NOT NULL,
    failures       INTEGER NOT NULL DEFAULT 0,
    locked         BOOLEAN NOT NULL DEFAULT FALSE,
    cooldown_until INTEGER,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (service_id, user_id)
);

CREATE TABLE tokens (
    -- Serials are unique across the whole server, not only per service.
    serial       TEXT PRIMARY KEY,
    service_id   TEXT NOT NULL REFERENCES services (id),
    state        TEXT NOT NULL,
    algorithm    TEXT NOT NULL,
    digits       INTEGER NOT NULL,
    period       INTEGER NOT NULL,
    -- AES-256-GCM under the master key, bound to the serial.
    seed         BLOB NOT NULL,
    -- The last accepted time step: one-time use is `UPDATE ... WHERE last_step < step`.
    last_step    INTEGER NOT NULL DEFAULT -1,
    drift        INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    activated_at INTEGER,
    last_used_at INTEGER,
    expires_at   INTEGER
);

CREATE TABLE token_users (
    service_id TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    serial     TEXT NOT NULL REFERENCES tokens (serial),
    bound_at   INTEGER NOT NULL,
    PRIMARY KEY (service_id, user_id, serial),
    FOREIGN KEY (service_id, user_id) REFERENCES users (service_id, user_id)
);
CREATE INDEX token_users_by_serial ON token_users (serial);

CREATE TABLE enrollments (
    id         TEXT PRIMARY KEY,
    service_id TEXT NOT NULL REFERENCES services (id),
    user_id    TEXT NOT NULL,
    -- The SPAKE2 password w, AES-256-GCM under the master key.
    w          BLOB NOT NULL,
    guesses    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    UNIQUE (service_id, user_id)
);

CREATE TABLE activation_sessions (
    id            TEXT PRIMARY KEY,
    enrollment_id TEXT NOT NULL,
    service_id    TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    -- The SPAKE2 session key, AES-256-GCM under the master key.
    session_key   BLOB NOT NULL,
    attempts_left INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);

CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id TEXT NOT NULL,
    at         INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    user_id    TEXT,
    serial     TEXT,
    detail     TEXT NOT NULL
);
CREATE INDEX audit_events_by_service ON audit_events (service_id, id);
