-- Invitations to make an account (LATCHKEY_SIGN_UP=invite, or any rule): single use, expiring,
-- revocable, optionally for one address. Only the token's SHA-256 is stored.
CREATE TABLE invitations (
    id         TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    email      TEXT,
    mailed     BIGINT NOT NULL,
    made_by    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    used_at    BIGINT,
    used_by    TEXT REFERENCES users (id) ON DELETE SET NULL
);
