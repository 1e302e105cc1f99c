-- What an email verification proves (engine/src/verification.rs): `verify`, the account's own
-- address; `change`, a new address the account moves to once it is confirmed.
ALTER TABLE email_verifications ADD COLUMN purpose TEXT NOT NULL DEFAULT 'verify';
