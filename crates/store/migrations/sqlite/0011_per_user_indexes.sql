-- The soak (issue 26) found reads that walked a whole service: the console's user page read
-- the user's audit trail through the service-wide index and the user's mails by scanning
-- the outbox, so each page cost grew with every customer the bank ever had. Each per-user
-- or per-token read now has an index that starts with what it looks up.
CREATE INDEX audit_events_by_user ON audit_events (service_id, user_id, id);
CREATE INDEX audit_events_by_serial ON audit_events (service_id, serial, id);
CREATE INDEX mail_outbox_by_user ON mail_outbox (service_id, user_id, created_at);
-- Covering, with the service and user: the planner then prefers it to the primary key
-- (service, user, serial) for "who holds this serial", which it otherwise walked per service.
DROP INDEX token_users_by_serial;
CREATE INDEX token_users_by_serial ON token_users (serial, service_id, user_id);
