-- Accounts. Email is stored normalised (trimmed, lower-case); password_hash is NULL for passkey-only accounts.
CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    name            TEXT,
    password_hash   TEXT,
    webauthn_handle TEXT NOT NULL UNIQUE,
    failed_logins   BIGINT NOT NULL DEFAULT 0,
    locked_until    BIGINT,
    created_at      BIGINT NOT NULL
);
