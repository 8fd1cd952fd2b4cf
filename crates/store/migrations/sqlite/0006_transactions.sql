-- 取引確認 (issue 15): transfer challenges. The row keeps what the server needs to
-- recompute the code (the OCRA question, i.e. the digest of every detail, and the manual
-- digits) and a masked account for answers and the audit trail, never the full account.
CREATE TABLE transactions (
    -- Random, also in the QR payload (and so in the digest).
    id             TEXT PRIMARY KEY,
    service_id     TEXT NOT NULL REFERENCES services (id),
    user_id        TEXT NOT NULL,
    -- The scan suite's question: hex SHA-256 of the canonical encoding of the details.
    question       TEXT NOT NULL,
    -- The manual mode's question: amount (minor units), then the account's last 8 digits.
    manual_digits  TEXT NOT NULL,
    masked_account TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    -- Set once, by the conditional update of the first right code in time.
    used_at        INTEGER
);
CREATE INDEX transactions_by_user ON transactions (service_id, user_id);
CREATE INDEX transactions_expiry ON transactions (expires_at);
