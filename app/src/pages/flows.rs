//! The browser halves of the portal's passkey flows: server function → `navigator.credentials` →
//! server function, with every failure turned into a sentence. An empty error string means
//! "nothing to show" (the request was aborted by a newer one, or nobody asked).

use proto::ErrorCode;

use crate::navigator::{self, Prompt};
use crate::return_path::{AFTER_SIGN_IN, AFTER_SIGN_UP, safe_return_path};
use crate::server_fns::{
    add_passkey_options, confirm_options, confirm_with_passkey as confirmed_with_passkey, finish_add_passkey,
    finish_passkey_sign_in, finish_recovery, finish_sign_up_with_passkey, passkey_sign_in_options,
    recovery_passkey_options, sign_up_with_passkey_options,
};

/// Where the page goes once signed in: its form's `next` (a page, or an app's authorization request
/// that sent the visitor), else `otherwise`.
fn next_or(otherwise: &str) -> String {
    let next = navigator::filled_input("next");
    next.as_deref().and_then(safe_return_path).unwrap_or(otherwise).to_owned()
}

async fn sign_in(prompt: Prompt, email: String) -> Result<(), String> {
    let options = passkey_sign_in_options(email).await.map_err(|e| e.message().to_owned())?;
    let credential = navigator::get(&options, prompt).await.map_err(|f| f.message().to_owned())?;
    match finish_passkey_sign_in(credential.clone()).await {
        Ok(()) => {
            navigator::go(&next_or(AFTER_SIGN_IN));
            Ok(())
        }
        Err(error) => {
            if error.code() == ErrorCode::UnknownCredential
                && let (Some(rp_id), Some(id)) =
                    (navigator::rp_id_of(&options), navigator::credential_id_of(&credential))
            {
                navigator::signal_unknown_credential(&rp_id, &id);
            }
            Err(error.message().to_owned())
        }
    }
}

/// The "Sign in with a passkey" button: a modal request — discoverable (no username), or for the
/// passkeys of the account whose email is in the page's email field (typed, or filled in from an
/// app's `login_hint`); then on to the form's `next`.
pub async fn sign_in_with_passkey() -> Result<(), String> {
    let email = navigator::filled_input("email").unwrap_or_default();
    sign_in(Prompt::Modal, email).await
}

/// Passkey autofill on the email field, where the browser supports conditional mediation; then on
/// to the form's `next`.
pub async fn start_autofill() -> Result<(), String> {
    if !navigator::conditional_mediation_available().await {
        return Ok(());
    }
    sign_in(Prompt::Background, String::new()).await
}

/// Passkey-only sign-up: the account is created with its first passkey; then on to the page's `next`
/// (the sign-up form carries it when a page or an app sent the visitor), else to the passkeys.
pub async fn sign_up_with_passkey(email: String) -> Result<(), String> {
    let invitation = navigator::filled_input("invitation");
    let options = sign_up_with_passkey_options(email, invitation).await.map_err(|e| e.message().to_owned())?;
    let credential = navigator::create(&options, Prompt::Modal).await.map_err(|f| f.message().to_owned())?;
    finish_sign_up_with_passkey(credential).await.map_err(|e| e.message().to_owned())?;
    navigator::go(&next_or(AFTER_SIGN_UP));
    Ok(())
}

/// "Confirm it's you" with one of the signed-in account's passkeys (a modal request): the sign-in
/// is renewed, so a dangerous change can go on.
pub async fn confirm_with_passkey() -> Result<(), String> {
    let options = confirm_options().await.map_err(|e| e.message().to_owned())?;
    let credential = navigator::get(&options, Prompt::Modal).await.map_err(|f| f.message().to_owned())?;
    confirmed_with_passkey(credential).await.map_err(|e| e.message().to_owned())
}

/// What adding a passkey came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Added {
    /// The passkey is stored.
    Done,
    /// The sign-in is too old: confirm it's you first, then try again.
    ConfirmFirst,
}

/// Adds a passkey to the signed-in account. In the background, the browser may create it silently
/// (after a password sign-in); then failures are not shown, since nobody asked.
pub async fn add_passkey(name: String, prompt: Prompt) -> Result<Added, String> {
    let background = prompt == Prompt::Background;
    if background && !navigator::conditional_create_available().await {
        return Err(String::new());
    }
    let options = match add_passkey_options().await {
        Ok(options) => options,
        Err(error) if error.code() == ErrorCode::ReauthenticationRequired => {
            return if background { Err(String::new()) } else { Ok(Added::ConfirmFirst) };
        }
        Err(error) => return Err(error.message().to_owned()),
    };
    let credential = match navigator::create(&options, prompt).await {
        Ok(credential) => credential,
        Err(_) if background => return Err(String::new()),
        Err(failure) => return Err(failure.message().to_owned()),
    };
    match finish_add_passkey(credential, name).await {
        Ok(()) => Ok(Added::Done),
        // The window closed while the browser was making it: confirm, then make it again.
        Err(error) if error.code() == ErrorCode::ReauthenticationRequired && !background => Ok(Added::ConfirmFirst),
        Err(error) => Err(error.message().to_owned()),
    }
}

/// A recovery link's one job: a new passkey for the account (its token is the page's), and then
/// signed in with it, on the passkeys page.
pub async fn recover(token: String) -> Result<(), String> {
    let options = recovery_passkey_options(token).await.map_err(|e| e.message().to_owned())?;
    let credential = navigator::create(&options, Prompt::Modal).await.map_err(|f| f.message().to_owned())?;
    finish_recovery(credential).await.map_err(|e| e.message().to_owned())?;
    navigator::go("/passkeys?done=recovered");
    Ok(())
}
