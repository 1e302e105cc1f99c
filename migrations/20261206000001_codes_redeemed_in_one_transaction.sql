-- Redeeming a code now takes it and records the app's sign-in in one transaction, so a replay that
-- comes meanwhile waits for that transaction and finds the sign-in to end: nothing needs to note a
-- replay on the code any more (engine/src/oidc/codes.rs).
--
-- The previous release reads this column on every code redemption: several instances are upgraded
-- by stopping them all, migrating once, and starting the new binary (docs/deploy.md, "Upgrading").
ALTER TABLE authorization_codes DROP COLUMN replayed_at;
