-- Where each sign-in was made and when it was last used, for the list of sign-ins a user can end
-- (engine/src/sign_ins.rs):
--   user_agent    the User-Agent of the browser or program that signed in (at most 256 characters)
--   last_used_at  Unix seconds of the portal session's last request (written at most once a
--                 minute); a token sign-in's last use is its newest refresh token's created_at
ALTER TABLE sign_ins ADD COLUMN user_agent TEXT;
ALTER TABLE sign_ins ADD COLUMN last_used_at BIGINT;
CREATE INDEX sign_ins_user_id ON sign_ins (user_id);
