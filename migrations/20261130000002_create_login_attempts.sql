-- Password sign-in attempts, counted per email and client address, and per email across all
-- addresses (address '*'), BEFORE the password is checked (docs/security.md). `attempts` counts
-- every try, `granted` is the number of the last try allowed to check a password, `failures` the
-- tries granted since the last success; `locked_until` refuses tries until then (Unix seconds).
-- Keyed by the email as typed (normalised), so unknown emails lock exactly like real ones.
CREATE TABLE login_attempts (
    email        TEXT NOT NULL,
    address      TEXT NOT NULL,
    attempts     BIGINT NOT NULL,
    granted      BIGINT NOT NULL,
    failures     BIGINT NOT NULL,
    locked_until BIGINT,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (email, address)
);
-- The per-account counters on users are replaced by login_attempts.
ALTER TABLE users DROP COLUMN failed_logins;
ALTER TABLE users DROP COLUMN locked_until;
