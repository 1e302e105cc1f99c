//! What proves a caller, made and checked: access tokens as JWTs, minted without SQL ([`jwt`]); the
//! signing keys behind them, shared through the database and rotated ([`keys`]); the apps
//! registered as OpenID Connect clients ([`clients`]); and how secrets are kept — Argon2id for
//! passwords and client secrets on a bounded queue, SHA-256 for bearer secrets ([`secret`]).

pub mod clients;
pub mod jwt;
pub mod keys;
pub mod secret;

pub use jwt::{AccessClaims, NewRefreshToken, SignInAt, TokenKeys};
