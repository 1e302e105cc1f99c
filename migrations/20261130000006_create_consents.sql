-- What each user allowed each OpenID Connect app to receive (engine/src/oidc/authorize.rs): asked
-- once per user and app, and again when the app asks for more.
CREATE TABLE consents (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL,
    scope      TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
