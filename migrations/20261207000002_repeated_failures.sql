-- Failed passkey sign-ins against one account within an hour are one row that counts them
-- (issue L9), so nobody can fill someone's record with failures.
ALTER TABLE activity ADD COLUMN repeats BIGINT NOT NULL DEFAULT 1;
