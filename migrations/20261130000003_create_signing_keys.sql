-- Token signing keys, shared by every instance (engine/src/keys.rs). Per algorithm there is one
-- `current` key (signs), one `next` key (published, signs after the next rotation) and any number of
-- `retired` keys (published until `publish_until`, when every token they signed has expired, then
-- deleted). `kid` is the RFC 7638 thumbprint of the public key; `public_jwk` is the JSON published at
-- /.well-known/jwks.json; `sealed_private_key` is the PKCS#8 private key encrypted with AES-256-GCM
-- under a key derived from LATCHKEY_OPERATOR_SECRET (base64url of nonce || ciphertext || tag).
CREATE TABLE signing_keys (
    kid                TEXT PRIMARY KEY,
    alg                TEXT NOT NULL,
    state              TEXT NOT NULL,
    public_jwk         TEXT NOT NULL,
    sealed_private_key TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    activated_at       BIGINT,
    publish_until      BIGINT
);
-- At most one current and one next key per algorithm: two instances starting on an empty database,
-- or rotating at the same moment, cannot both win.
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (alg) WHERE state = 'current';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (alg) WHERE state = 'next';
