//! Managing a user's passkeys: list, rename, delete.

use crate::api::PasskeyItem;
use crate::ssr::aaguid::AuthenticatorNames;
use crate::ssr::accounts::user_info;
use crate::ssr::clock::rfc3339;
use crate::ssr::db::passkeys::{self, PasskeyRow};
use crate::ssr::db::users;
use crate::ssr::error::Error;
use crate::ssr::hooks::run_hook;
use crate::ssr::state::AppState;
use crate::ssr::types::DisplayName;

/// The list item the API shows for a stored passkey.
pub fn passkey_item(row: &PasskeyRow, authenticators: &AuthenticatorNames) -> PasskeyItem {
    PasskeyItem {
        id: row.credential_id.clone(),
        name: row.name.clone(),
        aaguid: row.aaguid.clone(),
        created_at: rfc3339(row.created_at),
        last_used_at: row.last_used_at.map(rfc3339),
        authenticator: authenticators.lookup(&row.aaguid),
        backup_eligible: row.backup_eligible != 0,
        backed_up: row.backed_up != 0,
        transports: serde_json::from_str(&row.transports).unwrap_or_default(),
    }
}

/// `GET /auth/passkeys`: the user's passkeys, oldest first.
pub async fn list_passkeys(state: &AppState, user_id: &str) -> Result<Vec<PasskeyItem>, Error> {
    let rows = passkeys::list_passkeys(&state.db, user_id).await.map_err(Error::from_db)?;
    Ok(rows.iter().map(|row| passkey_item(row, &state.authenticators)).collect())
}

/// `PATCH /auth/passkeys/{id}`: renames one of the user's passkeys.
pub async fn rename_passkey(state: &AppState, user_id: &str, id: &str, name: &str) -> Result<PasskeyItem, Error> {
    let name = DisplayName::parse(name)?;
    let row = passkeys::rename_passkey(&state.db, user_id, id, name.as_str())
        .await
        .map_err(Error::from_db)?
        .ok_or(Error::PasskeyNotFound)?;
    Ok(passkey_item(&row, &state.authenticators))
}

/// `DELETE /auth/passkeys/{id}`: removes one of the user's passkeys (someone else's is "not found").
pub async fn delete_passkey(state: &AppState, user_id: &str, id: &str) -> Result<PasskeyItem, Error> {
    let row = passkeys::delete_passkey(&state.db, user_id, id)
        .await
        .map_err(Error::from_db)?
        .ok_or(Error::PasskeyNotFound)?;
    let item = passkey_item(&row, &state.authenticators);
    if let Some(owner) = users::find_user_by_id(&state.db, user_id).await.map_err(Error::from_db)? {
        run_hook("on_passkey_deleted", state.hooks.on_passkey_deleted(&user_info(&owner), &item)).await;
    }
    Ok(item)
}
