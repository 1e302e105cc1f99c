-- One-time links that let someone who lost their passkeys add a new one (engine/src/recovery.rs):
-- the SHA-256 of the link's token, whose account, who made it (`operator`), until when it works,
-- and when it was used (once).
CREATE TABLE recovery_links (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    made_by    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX recovery_links_user_id ON recovery_links (user_id);
