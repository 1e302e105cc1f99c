-- When an authorization code came back after its redemption (engine/src/oidc/codes.rs): the
-- redemption checks it once its sign-in is recorded, so a replay that arrives between the two
-- still ends that sign-in.
ALTER TABLE authorization_codes ADD COLUMN replayed_at BIGINT;
