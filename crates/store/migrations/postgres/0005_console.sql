-- The help-desk console (issue 14): operators, their sessions, and who did what.

-- The operator who acted, on events a console action recorded (NULL: the bank API or
-- the app).
ALTER TABLE audit_events ADD COLUMN operator TEXT;

-- The bank's staff. service_id NULL: a superuser, who may act on every service.
CREATE TABLE operators (
    id            BIGSERIAL PRIMARY KEY,
    service_id    TEXT REFERENCES services (id),
    -- Unique on the server: the sign-in name.
    name          TEXT NOT NULL UNIQUE,
    -- helpdesk, admin, auditor or superuser.
    role          TEXT NOT NULL,
    -- Argon2id, PHC string.
    password_hash TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    -- Consecutive wrong passwords or codes; locked at the console policy's max_failures.
    failures      BIGINT NOT NULL DEFAULT 0,
    locked        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL
);

-- Signed-in browsers. Only the SHA-256 of the session ID (in the cookie) is stored.
CREATE TABLE console_sessions (
    id_hash      BYTEA PRIMARY KEY,
    operator_id  BIGINT NOT NULL REFERENCES operators (id),
    -- 'enroll' (password right, own token not yet confirmed) or 'full'.
    stage        TEXT NOT NULL,
    -- The service acted on (a superuser picks one).
    service_id   TEXT,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX console_sessions_by_operator ON console_sessions (operator_id);

-- The operators' own tokens are ordinary tokens of this reserved service (user ID
-- `op-<operator id>`), so they activate, confirm and verify by the customers' code paths.
-- Its key "hash" is 33 zero bytes: a SHA-256 is 32, so no API key can ever match it.
INSERT INTO services (id, name, algorithm, digits, period, otp_window, max_failures,
    cooldown_secs, enrollment_ttl_secs, tokens_per_user, shared_tokens, api_key_hash,
    created_at)
VALUES ('_console', 'softtoken console operators', NULL, NULL, NULL, 1, 5, 0, 86400, 1,
    FALSE, decode(repeat('00', 33), 'hex'), 0);
