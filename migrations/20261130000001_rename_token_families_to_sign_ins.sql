-- One name per concept: a token family is a *sign-in* (the access token's `sid`), in code and schema.
-- Both databases rename in place and keep every row; foreign keys follow the renamed table.
ALTER TABLE token_families RENAME TO sign_ins;
ALTER TABLE refresh_tokens RENAME COLUMN family_id TO sign_in_id;
DROP INDEX refresh_tokens_family_id;
CREATE INDEX refresh_tokens_sign_in_id ON refresh_tokens (sign_in_id);
