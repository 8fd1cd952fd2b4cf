-- 取引確認 (issue 22): a manual-mode code is bound to one challenge. The manual question is
-- now the bank's 6-digit challenge number, the account's last 6 digits, then the amount
-- (OCRA-1:HOTP-SHA256-8:QN24), stored per challenge. Rows from before this migration have
-- no manual question (NULL): only their scanned code is accepted; they expire within 15
-- minutes anyway. The old column (amount + last 8 account digits, the same for every
-- challenge with those details: the finding) is dropped so nothing can verify against it.
ALTER TABLE transactions ADD COLUMN manual_question TEXT;
ALTER TABLE transactions DROP COLUMN manual_digits;
-- No two challenges of a user, live or past, share a manual question, so a code typed for
-- one confirms no other. The server retries with another challenge number on a conflict;
-- NULLs (old rows) are distinct and never conflict.
CREATE UNIQUE INDEX transactions_manual_question
    ON transactions (service_id, user_id, manual_question);
