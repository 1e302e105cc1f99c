-- Recovery links a user asks for by email (LATCHKEY_EMAIL_RECOVERY; engine/src/recovery.rs) work
-- only in the browser that asked: the SHA-256 of a secret kept in that browser's cookie. And the
-- client address that asked, to limit requests per address.
ALTER TABLE recovery_links ADD COLUMN browser_hash TEXT;
ALTER TABLE recovery_links ADD COLUMN requested_from TEXT;
