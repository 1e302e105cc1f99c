//! Parsed values: each type validates its input once, at the edge, and is trusted everywhere after.
//! Typed ids ([`ids`]), how a sign-in was made ([`method`]), who made a request ([`caller`]), and the
//! values people type: [`email`], [`password`], [`name`]; [`secret`]s never print.

pub mod caller;
pub mod email;
pub mod group;
pub mod ids;
pub mod method;
pub mod name;
pub mod password;
pub mod scope;
pub mod secret;

pub use caller::{Caller, ClientAddr, UserAgent, device_of, prefix};
pub use email::Email;
pub use group::group_name;
pub use ids::{CredentialId, SignInId, UserId};
pub use method::SignInMethod;
pub use name::DisplayName;
pub use password::Password;
pub use scope::has_scope;
pub use secret::{Secret, constant_time_eq};
