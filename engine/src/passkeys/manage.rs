//! Managing a user's passkeys: list, rename, delete.

use proto::PasskeyItem;

use super::RelyingParty;
use crate::accounts::user_info;
use crate::base::clock::rfc3339;
use crate::base::error::Error;
use crate::base::types::{Caller, CredentialId, DisplayName, UserId};
use crate::db::passkeys::{self, Deleted, PasskeyRow};
use crate::db::users;
use crate::notify::activity::Event;
use crate::notify::change::Hook;
use crate::notify::mail::{Letter, Notice};
use crate::passkeys::aaguid::AuthenticatorNames;
use crate::sign_in::{self, Recent, Which};

/// The list item the API shows for a stored passkey.
pub fn passkey_item(row: &PasskeyRow, authenticators: &AuthenticatorNames) -> PasskeyItem {
    PasskeyItem {
        id: row.credential_id.to_string(),
        name: row.name.clone(),
        aaguid: row.aaguid.clone(),
        created_at: rfc3339(row.created_at),
        last_used_at: row.last_used_at.map(rfc3339),
        authenticator: authenticators.lookup(&row.aaguid),
        backup_eligible: row.backup_eligible,
        backed_up: row.backed_up,
        transports: serde_json::from_str(&row.transports).unwrap_or_default(),
    }
}

/// `GET /auth/passkeys`: the user's passkeys, oldest first.
pub async fn list_passkeys(rp: &RelyingParty, user_id: &UserId) -> Result<Vec<PasskeyItem>, Error> {
    let rows = passkeys::of_user(&rp.db, user_id).await?;
    Ok(rows.iter().map(|row| passkey_item(row, &rp.authenticators)).collect())
}

/// `PATCH /auth/passkeys/{id}`: renames one of the user's passkeys.
pub async fn rename_passkey(
    rp: &RelyingParty,
    user_id: &UserId,
    id: &CredentialId,
    name: &str,
    caller: &Caller,
    now: i64,
) -> Result<PasskeyItem, Error> {
    let name = DisplayName::parse(name)?;
    let mut change = rp.notify.change(now).await?;
    let row = passkeys::set_name(change.db(), user_id, id, name.as_str()).await?.ok_or(Error::PasskeyNotFound)?;
    change.record(user_id, Event::PasskeyRenamed(&row.name), Some(caller)).await?;
    change.commit().await?;
    Ok(passkey_item(&row, &rp.authenticators))
}

/// `DELETE /auth/passkeys/{id}`: removes one of the user's passkeys (someone else's is "not found"),
/// never the only way into an account (no password, no other passkey). With `end_sign_ins`, the
/// sign-ins made with it end too — all but the [`Recent`] one deleting it.
pub async fn delete_passkey(
    rp: &RelyingParty,
    user_id: &UserId,
    id: &CredentialId,
    end_sign_ins: bool,
    caller: &Caller,
    recent: &Recent,
    now: i64,
) -> Result<PasskeyItem, Error> {
    let owner = users::by_id(&rp.db, user_id).await?.ok_or(Error::PasskeyNotFound)?;
    let mut change = rp.notify.change(now).await?;
    let row = match passkeys::delete(change.db(), user_id, id).await? {
        Deleted::Deleted(row) => row,
        Deleted::LastWayIn => return Err(Error::LastPasskey),
        Deleted::NotFound => return Err(Error::PasskeyNotFound),
    };
    let ended = match end_sign_ins {
        true => {
            let made_with = Which::MadeWith { user: user_id, passkey: id, keep: recent.sign_in() };
            sign_in::end(change.db(), made_with, now).await?.count()
        }
        false => 0,
    };
    change.tell(Letter::Notice { email: &owner.email, what: Notice::PasskeyRemoved(&row.name) }).await?;
    change.record(user_id, Event::PasskeyRemoved(&row.name), Some(caller)).await?;
    let item = passkey_item(&row, &rp.authenticators);
    change.after(Hook::PasskeyDeleted(user_info(&owner), item.clone()));
    change.commit().await?;
    if end_sign_ins {
        tracing::info!(%user_id, ended, "sign-ins made with a deleted passkey ended");
    }
    Ok(item)
}
