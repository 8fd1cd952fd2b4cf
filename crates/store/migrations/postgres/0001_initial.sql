-- softtoken-server schema (PostgreSQL). The same tables as migrations/sqlite, with
-- PostgreSQL types: BYTEA for sealed secrets, BIGINT for counters and Unix milliseconds
-- (so every integer column reads back as i64 on both backends), BIGSERIAL for audit IDs.

CREATE TABLE services (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    -- NULL: the protocol's default for the mode (activation 8/60, registration 6/30).
    algorithm           TEXT,
    digits              BIGINT,
    period              BIGINT,
    otp_window          BIGINT NOT NULL,
    max_failures        BIGINT NOT NULL,
    cooldown_secs       BIGINT NOT NULL,
    enrollment_ttl_secs BIGINT NOT NULL,
    tokens_per_user     BIGINT NOT NULL,
    shared_tokens       BOOLEAN NOT NULL,
    -- SHA-256 of the bearer key; the key itself is shown once and never stored.
    api_key_hash        BYTEA NOT NULL UNIQUE,
    created_at          BIGINT NOT NULL
);

CREATE TABLE users (
    service_id     TEXT NOT NULL REFERENCES services (id),
    user_id        TEXT NOT NULL,
    failures       BIGINT NOT NULL DEFAULT 0,
    locked         BOOLEAN NOT NULL DEFAULT FALSE,
    cooldown_until BIGINT,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (service_id, user_id)
);

CREATE TABLE tokens (
    -- Serials are unique across the whole server, not only per service.
    serial       TEXT PRIMARY KEY,
    service_id   TEXT NOT NULL REFERENCES services (id),
    state        TEXT NOT NULL,
    algorithm    TEXT NOT NULL,
    digits       BIGINT NOT NULL,
    period       BIGINT NOT NULL,
    -- AES-256-GCM under the master key, bound to the serial.
    seed         BYTEA NOT NULL,
    -- The last accepted time step: one-time use is `UPDATE ... WHERE last_step < step`.
    last_step    BIGINT NOT NULL DEFAULT -1,
    drift        BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    activated_at BIGINT,
    last_used_at BIGINT,
    expires_at   BIGINT
);

CREATE TABLE token_users (
    service_id TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    serial     TEXT NOT NULL REFERENCES tokens (serial),
    bound_at   BIGINT NOT NULL,
    PRIMARY KEY (service_id, user_id, serial),
    FOREIGN KEY (service_id, user_id) REFERENCES users (service_id, user_id)
);
CREATE INDEX token_users_by_serial ON token_users (serial);

CREATE TABLE enrollments (
    id         TEXT PRIMARY KEY,
    service_id TEXT NOT NULL REFERENCES services (id),
    user_id    TEXT NOT NULL,
    -- The SPAKE2 password w, AES-256-GCM under the master key.
    w          BYTEA NOT NULL,
    guesses    BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    UNIQUE (service_id, user_id)
);

CREATE TABLE activation_sessions (
    id            TEXT PRIMARY KEY,
    enrollment_id TEXT NOT NULL,
    service_id    TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    -- The SPAKE2 session key, AES-256-GCM under the master key.
    session_key   BYTEA NOT NULL,
    attempts_left BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);

CREATE TABLE audit_events (
    id         BIGSERIAL PRIMARY KEY,
    service_id TEXT NOT NULL,
    at         BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    user_id    TEXT,
    serial     TEXT,
    detail     TEXT NOT NULL
);
CREATE INDEX audit_events_by_service ON audit_events (service_id, id);
