-- How each sign-in was made, and for whom (engine/src/tokens.rs, engine/src/oidc/):
--   method      `passkey` or `password` (an OpenID Connect ID token's `amr`); sign-ins made before
--               this was recorded say `unknown`
--   passkey_id  the passkey's credential id, for a passkey sign-in
--   auth_time   when the user proved who they are (Unix seconds); NULL means `created_at`. A sign-in
--               of an app starts when the app redeems its code, but its user authenticated earlier.
--   client_id   the OpenID Connect client (app) whose tokens continue this sign-in; NULL for the
--               portal and the REST API
--   parent_id   for an app's sign-in, the portal sign-in it came from (RP-initiated logout ends both)
--   scope       for an app's sign-in, the scopes granted to it, space-separated
ALTER TABLE sign_ins ADD COLUMN method TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE sign_ins ADD COLUMN passkey_id TEXT;
ALTER TABLE sign_ins ADD COLUMN auth_time BIGINT;
ALTER TABLE sign_ins ADD COLUMN client_id TEXT;
ALTER TABLE sign_ins ADD COLUMN parent_id TEXT;
ALTER TABLE sign_ins ADD COLUMN scope TEXT;
CREATE INDEX sign_ins_parent_id ON sign_ins (parent_id);
