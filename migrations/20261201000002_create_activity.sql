-- Each user's record of security events, shown as "Recent activity" (engine/src/activity.rs):
--   kind        what happened (account_created, signed_in, sign_in_failed, passkey_added, …)
--   detail      what it happened to or how: the sign-in method, the passkey's name, how many ended
--   address     the client address of the request that made it, when a request did
--   user_agent  that request's User-Agent (at most 256 characters)
-- Kept for LATCHKEY_ACTIVITY_RETENTION_DAYS (90 by default); the hourly housekeeping deletes older
-- rows, and deleting the account deletes its rows.
CREATE TABLE activity (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at         BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    detail     TEXT,
    address    TEXT,
    user_agent TEXT
);
CREATE INDEX activity_user_id_at ON activity (user_id, at);
CREATE INDEX activity_at ON activity (at);
