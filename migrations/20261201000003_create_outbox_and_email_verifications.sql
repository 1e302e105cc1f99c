-- Mail waits in the outbox until a worker has handed it to the SMTP server (engine/src/mail.rs). It
-- is written in the same transaction as the change that causes it, so a crash or an SMTP outage
-- loses nothing; a worker claims a row for a while (claimed_until) before it sends, so several
-- instances never send one row twice.
--   attempts         failed deliveries so far; the next waits longer (next_attempt_at)
--   sent_at          when the SMTP server accepted it (kept a day, then deleted)
--   failed_at        when the SMTP server refused it for good (a permanent 5xx answer)
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claimed_by      TEXT,
    claimed_until   BIGINT,
    sent_at         BIGINT,
    failed_at       BIGINT,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at);

-- When the account's email address was last proved to be its owner's (NULL: never).
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;

-- Email verifications sent (engine/src/verification.rs): the link's token and the short code, both
-- stored as SHA-256 hashes, for one address of one user; single use, expiring.
CREATE TABLE email_verifications (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    code_hash  TEXT NOT NULL,
    attempts   BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX email_verifications_user_id ON email_verifications (user_id);
