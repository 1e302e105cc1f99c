//! Integration tests over real HTTP against the real server, on SQLite + memory store or (with
//! `LATCHKEY_TEST_BACKEND=postgres`) PostgreSQL + Redis. WebAuthn responses come from
//! `testkit::SoftAuthenticator`, which makes real ES256 / EdDSA signatures.

// This whole crate is test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod abuse;
mod access;
mod accounts;
mod activity;
mod admin;
mod ceremony_rules;
mod common;
mod cross_origin;
mod hooks;
mod mail;
mod malformed;
mod oidc;
mod operations;
mod outage;
mod passkeys;
mod passwords;
mod portal;
mod provider;
mod recovery;
mod sign_ins;
mod store_tls;
mod tokens;
mod unit_of_work;
