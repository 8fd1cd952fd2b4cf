-- The activation e-mail (issue 13, item 7). A table of its own for the per-service
-- settings, so the services table is left to its other migrations.

-- A service's activation e-mail: the app's download URL and, per language, its own
-- subject and body template (both NULL: the built-in one).
CREATE TABLE service_mail (
    service_id   TEXT PRIMARY KEY REFERENCES services (id),
    download_url TEXT NOT NULL,
    subject_ja   TEXT,
    body_ja      TEXT,
    subject_en   TEXT,
    body_en      TEXT,
    updated_at   INTEGER NOT NULL
);

-- The outbox: a mail is written in the same commit as its enrollment, then sent by the
-- background sender, which claims it (next_attempt_at moves to the end of its lease),
-- and marks it sent, puts it off (back-off) or gives it up. Rendered when queued; it
-- never holds the start password.
CREATE TABLE mail_outbox (
    -- Random; the Message-ID is made from it, the same on every attempt.
    id              TEXT PRIMARY KEY,
    service_id      TEXT NOT NULL REFERENCES services (id),
    user_id         TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    -- pending, sent or failed.
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    -- The enrollment's expiry: a mail not sent by then is given up.
    expires_at      INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX mail_outbox_by_age ON mail_outbox (created_at);
