-- Passkeys: the whole webauthn-rs Passkey (JSON) plus the columns the API lists.
-- credential_id is the primary key, so a second registration of the same credential is refused.
CREATE TABLE passkeys (
    credential_id   TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    aaguid          TEXT NOT NULL,
    passkey         TEXT NOT NULL,
    sign_count      BIGINT NOT NULL,
    backup_eligible BIGINT NOT NULL,
    backed_up       BIGINT NOT NULL,
    transports      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT
);
CREATE INDEX passkeys_user_id ON passkeys (user_id);
