//! Event hooks: how an application built on Latchkey hears about sign-ups, sign-ins and passkey changes.
//!
//! Every method has a no-op default, so an implementation overrides only what it needs. Hooks run
//! after the change is committed (`change.rs`), never for one that was rolled back; a failing hook
//! is logged and never undoes or fails the request.

use async_trait::async_trait;

use proto::{ActivityItem, PasskeyItem, UserInfo};

/// The error a hook may return; it is only logged.
pub type HookError = Box<dyn std::error::Error + Send + Sync>;

pub use crate::base::types::SignInMethod;
use crate::base::types::UserId;

/// Callbacks for account events; set with `Engine::with_hooks` (or `server::Latchkey::with_hooks`).
#[async_trait]
pub trait EventHooks: Send + Sync {
    /// A new account was created.
    async fn on_signed_up(&self, _user: &UserInfo) -> Result<(), HookError> {
        Ok(())
    }
    /// A user signed in.
    async fn on_signed_in(&self, _user: &UserInfo, _method: SignInMethod) -> Result<(), HookError> {
        Ok(())
    }
    /// A passkey was added to an account.
    async fn on_passkey_registered(&self, _user: &UserInfo, _passkey: &PasskeyItem) -> Result<(), HookError> {
        Ok(())
    }
    /// A passkey was removed from an account.
    async fn on_passkey_deleted(&self, _user: &UserInfo, _passkey: &PasskeyItem) -> Result<(), HookError> {
        Ok(())
    }
    /// An account was deleted by its user, with its passkeys, sign-ins and tokens.
    async fn on_account_deleted(&self, _user: &UserInfo) -> Result<(), HookError> {
        Ok(())
    }
    /// A security event was recorded in an account's activity (each sign-in, failed sign-in,
    /// passkey or password change, ended sign-in; `activity.rs`), as "Recent activity" shows it.
    async fn on_activity(&self, _user_id: &UserId, _activity: &ActivityItem) -> Result<(), HookError> {
        Ok(())
    }
}

/// The default: no hooks.
pub struct NoHooks;

impl EventHooks for NoHooks {}

/// Awaits a hook and logs its failure; the caller's outcome does not depend on it.
pub(crate) async fn run_hook(name: &'static str, hook: impl std::future::Future<Output = Result<(), HookError>>) {
    if let Err(error) = hook.await {
        tracing::warn!(hook = name, %error, "event hook failed; the request is unaffected");
    }
}
