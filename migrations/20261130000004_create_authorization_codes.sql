-- Authorization codes of the OpenID Connect provider (engine/src/codes.rs): single use, a minute
-- long, bound to the client, the redirect URI and the PKCE challenge. Only the SHA-256 of a code is
-- stored. `issued_sign_in_id` is the sign-in its redemption started, ended if the code comes back.
CREATE TABLE authorization_codes (
    code_hash         TEXT PRIMARY KEY,
    client_id         TEXT NOT NULL,
    redirect_uri      TEXT NOT NULL,
    user_id           TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sign_in_id        TEXT NOT NULL,
    scope             TEXT NOT NULL,
    nonce             TEXT,
    code_challenge    TEXT,
    auth_time         BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    used_at           BIGINT,
    issued_sign_in_id TEXT,
    created_at        BIGINT NOT NULL
);
