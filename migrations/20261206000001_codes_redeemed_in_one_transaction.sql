-- Redeeming a code now takes it and records the app's sign-in in one transaction, so a replay that
-- comes meanwhile waits for that transaction and finds the sign-in to end: nothing needs to note a
-- replay on the code any more (engine/src/oidc/codes.rs).
ALTER TABLE authorization_codes DROP COLUMN replayed_at;
