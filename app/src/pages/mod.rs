//! The portal's pages.

mod sign_in;

pub use sign_in::SignInPage;
