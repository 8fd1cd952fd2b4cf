-- Security hardening (issue 11).
-- Whether a second revoke restarts a running cool-down (default: it keeps its end).
ALTER TABLE services ADD COLUMN cooldown_restarts BOOLEAN NOT NULL DEFAULT FALSE;
-- Provisioned tokens a service may have waiting for registration: the open provisioning
-- call cannot fill its tables.
ALTER TABLE services ADD COLUMN unassigned_quota BIGINT NOT NULL DEFAULT 10000;
-- Consecutive wrong codes given to register a token; at max_failures it waits for the bank.
ALTER TABLE tokens ADD COLUMN failures BIGINT NOT NULL DEFAULT 0;
-- Who spent the token's last accepted step (a shared token has several users).
ALTER TABLE tokens ADD COLUMN last_used_by TEXT;
-- The quota counts a service's provisioned tokens waiting for registration on every
-- provisioning. Partial, so it holds only those, and no planner mistakes it for a way to
-- find a token by serial (a (service_id, state) index was, on fresh statistics).
CREATE INDEX tokens_waiting ON tokens (service_id)
    WHERE state = 'unassigned' AND expires_at IS NOT NULL;
