-- How a token ended (issue 16): 'revoked' (the bank revoked it), 'stopped' (the bank stopped
-- the user's OTP) or 'replaced' (a device change or a newer activation took its place). The
-- state alone says only 'revoked', and the token status call (POST /v1/tokens/status) must
-- tell its holder which. NULL while the token lives, and for tokens that ended before this
-- column existed (answered as 'revoked'). The seed of an ended token is kept as before, so
-- it can still prove itself to ask.
ALTER TABLE tokens ADD COLUMN ended_as TEXT;
