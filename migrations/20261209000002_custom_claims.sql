-- Custom claims an administrator sets on a group (for its members) or on an account, added to the
-- ID token and userinfo of apps granted the scope each names. Exactly one owner per row.
CREATE TABLE custom_claims (
    group_id TEXT REFERENCES groups (id) ON DELETE CASCADE,
    user_id  TEXT REFERENCES users (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    value    TEXT NOT NULL,  -- JSON
    scope    TEXT NOT NULL,  -- profile, email or groups
    CHECK ((group_id IS NULL) <> (user_id IS NULL))
);
CREATE UNIQUE INDEX custom_claims_of_group ON custom_claims (group_id, name) WHERE group_id IS NOT NULL;
CREATE UNIQUE INDEX custom_claims_of_user ON custom_claims (user_id, name) WHERE user_id IS NOT NULL;
