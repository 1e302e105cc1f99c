//! Passkeys: the four WebAuthn ceremonies, narrated step by step ([`ceremony`]), and a user's
//! passkeys listed, renamed and deleted ([`manage`]).

pub mod ceremony;
pub mod manage;
