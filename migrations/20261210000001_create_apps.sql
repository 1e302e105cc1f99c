-- Apps (OpenID Connect clients) that administrators make in the console or the admin API, beside
-- those of the clients file (LATCHKEY_OIDC_CLIENTS). `settings` is the app's settings as JSON,
-- checked by the same rules as a clients-file entry. A secret is kept only as the hex SHA-256 of
-- 256 random bits; during a rotation's overlap the previous one works until `previous_secret_until`.
CREATE TABLE apps (
    client_id              TEXT PRIMARY KEY,
    settings               TEXT NOT NULL,
    secret_digest          TEXT,
    previous_secret_digest TEXT,
    previous_secret_until  BIGINT,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);

-- A counter per kind of shared setting, moved in the transaction of every change to it: each
-- instance reads it every two seconds and reads the apps again when it moved.
CREATE TABLE versions (
    name    TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO versions (name, version) VALUES ('apps', 0);
