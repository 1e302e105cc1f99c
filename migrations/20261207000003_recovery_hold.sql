-- A passkey added with a mailed recovery link is held for a while (issue M4): until held_until its
-- sign-ins cannot change how the account signs in. The link remembers the passkey it added and the
-- hash of the "this wasn't me" token mailed when it was used, which removes that passkey.
ALTER TABLE passkeys ADD COLUMN held_until BIGINT;
ALTER TABLE recovery_links ADD COLUMN passkey_id TEXT;
ALTER TABLE recovery_links ADD COLUMN undo_hash TEXT;
ALTER TABLE recovery_links ADD COLUMN undo_until BIGINT;
CREATE INDEX recovery_links_undo_hash ON recovery_links (undo_hash);
