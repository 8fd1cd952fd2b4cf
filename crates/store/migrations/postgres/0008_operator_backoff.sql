-- Console sign-in back-off (issue 22, finding 3). Wrong passwords or codes no longer lock an
-- operator for good: from the console policy's max_failures on, each one locks them for a
-- while (1 minute, doubling to at most 15), and only an administrator's decision (disable,
-- password reset) is permanent. Unix ms until which sign-in is refused; 0: not locked.
ALTER TABLE operators ADD COLUMN locked_until BIGINT NOT NULL DEFAULT 0;
-- Operators locked by wrong tries before this release: the longest temporary lock from now,
-- their failure count kept (so the next wrong try locks again).
UPDATE operators SET locked = FALSE,
    locked_until = CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) * 1000 + 900000
WHERE locked;
