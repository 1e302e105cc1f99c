-- An account an administrator disabled: no sign-in, refresh or recovery until it is enabled again.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
