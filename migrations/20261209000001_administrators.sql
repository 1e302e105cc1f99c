-- Administrators: since when an account is one (NULL: it is not). The first comes from the command
-- line (`latchkey admin grant`, or an invitation made with `--admin`); the last one is never removed.
ALTER TABLE users ADD COLUMN admin_since BIGINT;
-- An invitation whose account is made an administrator (0/1).
ALTER TABLE invitations ADD COLUMN admin BIGINT NOT NULL DEFAULT 0;
-- Every administrative action: who, what, to whom, when and from where. Not tied to `users` by a
-- foreign key: the record of an action outlives the accounts it names, so it keeps their addresses.
CREATE TABLE admin_audit (
    id          TEXT PRIMARY KEY,  -- a UUIDv7: sorts in the order actions were taken
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,     -- 'operator' (command line), 'token' (LATCHKEY_ADMIN_TOKEN) or an administrator's id
    actor_email TEXT,
    action      TEXT NOT NULL,
    user_id     TEXT,
    user_email  TEXT,
    subject     TEXT,              -- a group's name, an invitation's id
    detail      TEXT,
    address     TEXT
);
CREATE INDEX users_admin_since ON users (admin_since) WHERE admin_since IS NOT NULL;
