//! Invitations: the operator's way to let someone make an account whatever `LATCHKEY_SIGN_UP` says.
//! Single use, expiring (7 days unless asked otherwise), revocable, and optionally for one
//! address — mailed to it when mail is on, and then using it confirms the address. Only the
//! token's SHA-256 is stored; the link holds the token.

use proto::InvitationItem;
use std::time::Duration;

use super::Accounts;
use crate::base::clock::rfc3339;
use crate::base::error::Error;
use crate::base::types::Email;
use crate::db::invitations::{self, InvitationRow};
use crate::db::{Db, groups as db_groups, users};
use crate::notify::audit::{About, Action, Actor};
use crate::notify::mail::Letter;
use crate::tokens::secret::stored_hash;

/// How long an invitation works unless the operator says otherwise.
pub const DEFAULT_TTL: Duration = Duration::from_secs(7 * 86_400);
/// The longest an invitation may work.
pub const MAX_TTL: Duration = Duration::from_secs(30 * 86_400);

/// An invitation just made: the link to hand over (or that was mailed).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Invitation {
    /// Its id, to revoke it.
    pub id: String,
    /// The link that opens sign-up with it.
    pub url: String,
    /// The one address that may use it, if any.
    pub email: Option<String>,
    /// Whether it was mailed to that address.
    pub mailed: bool,
    /// The groups its account joins.
    pub groups: Vec<String>,
    /// Whether its account is made an administrator.
    pub admin: bool,
    /// Until when it works (RFC 3339).
    pub expires_at: String,
}

/// What to invite: for one address or any, joining which groups, as an administrator or not, for
/// how long.
#[derive(Debug, Clone)]
pub struct Invite<'a> {
    /// The one address that may use it (mailed to it when mail is on).
    pub email: Option<&'a str>,
    /// The groups its account joins (names).
    pub groups: &'a [String],
    /// Whether its account is made an administrator.
    pub admin: bool,
    /// How long it works.
    pub ttl: Duration,
}

/// Makes an invitation by `actor`: for `email` alone when given (mailed to it when mail is on),
/// working for `ttl`, whose account joins `groups` (and is made an administrator, with `admin`). An
/// address that already has an account is [`Error::EmailTaken`]; a group that does not exist,
/// [`Error::GroupNotFound`].
pub async fn invite(accounts: &Accounts, actor: &Actor, what: &Invite<'_>, now: i64) -> Result<Invitation, Error> {
    let Invite { email, groups, admin, ttl } = *what;
    if ttl.is_zero() || ttl > MAX_TTL {
        return Err(Error::InvalidRequest("An invitation works for 1 second to 30 days.".into()));
    }
    let mut joins: Vec<&str> = Vec::new();
    for group in groups {
        let name = crate::base::types::group_name(group)?;
        if !db_groups::exists(&accounts.db, name).await? {
            return Err(Error::GroupNotFound);
        }
        if !joins.contains(&name) {
            joins.push(name);
        }
    }
    let email = email.map(Email::parse).transpose()?;
    if let Some(email) = &email
        && users::by_email(&accounts.db, email.as_str()).await?.is_some()
    {
        return Err(Error::EmailTaken);
    }
    let token = super::recovery::random_secret();
    let url = format!("{}/sign-up?invitation={token}", accounts.config.issuer());
    let expires_at = now + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
    let mut change = accounts.notify.change(now).await?;
    let row = InvitationRow {
        id: uuid::Uuid::new_v4().to_string(),
        mailed: email.is_some() && change.mail_enabled(),
        email: email.map(|e| e.as_str().to_owned()),
        created_at: now,
        expires_at,
        revoked_at: None,
        used_at: None,
        groups: (!joins.is_empty()).then(|| joins.join(" ")),
        admin,
    };
    invitations::insert(change.db(), &row, &stored_hash(&token), &actor.name()).await?;
    if let (Some(to), true) = (&row.email, row.mailed) {
        let expires = rfc3339(expires_at).replace('T', " ").replace('Z', " UTC");
        change.tell(Letter::Invitation { email: to, link: &url, expires: &expires }).await?;
    }
    let detail = summary(&row);
    let about = About { subject: Some(&row.id), detail: detail.as_deref(), ..About::default() };
    change.audit(actor, Action::InvitationMade, about).await?;
    change.commit().await?;
    tracing::info!(invitation = %row.id, mailed = row.mailed, admin, "invitation made");
    let groups = joins.iter().map(|g| (*g).to_owned()).collect();
    Ok(Invitation {
        id: row.id,
        url,
        email: row.email,
        mailed: row.mailed,
        groups,
        admin,
        expires_at: rfc3339(expires_at),
    })
}

/// What the record keeps of an invitation: its address, groups and whether it makes an administrator.
fn summary(row: &InvitationRow) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(email) = &row.email {
        parts.push(format!("for {email}"));
    }
    if let Some(groups) = &row.groups {
        parts.push(format!("joins {}", groups.replace(' ', ", ")));
    }
    if row.admin {
        parts.push("administrator".to_owned());
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Revokes the unused invitation `id`: its link stops working.
pub async fn revoke(accounts: &Accounts, actor: &Actor, id: &str, now: i64) -> Result<(), Error> {
    let mut change = accounts.notify.change(now).await?;
    let row = invitations::revoke(change.db(), id.trim(), now)
        .await?
        .ok_or(Error::InvalidInvitation("No unused invitation has this id."))?;
    let detail = summary(&row);
    let about = About { subject: Some(&row.id), detail: detail.as_deref(), ..About::default() };
    change.audit(actor, Action::InvitationRevoked, about).await?;
    change.commit().await?;
    Ok(())
}

/// Up to `limit` invitations made before `before` (when made, and id), newest first.
pub async fn page(
    accounts: &Accounts,
    before: Option<(i64, &str)>,
    limit: i64,
    now: i64,
) -> Result<Vec<(InvitationItem, i64)>, Error> {
    let rows = invitations::page(&accounts.db, before, limit).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let state = match (row.used_at, row.revoked_at) {
                (Some(_), _) => "used",
                (None, Some(_)) => "revoked",
                (None, None) if row.expires_at <= now => "expired",
                (None, None) => "pending",
            };
            let created = row.created_at;
            let listed = InvitationItem {
                id: row.id,
                email: row.email,
                mailed: row.mailed,
                groups: row.groups.as_deref().unwrap_or_default().split_whitespace().map(str::to_owned).collect(),
                admin: row.admin,
                state: state.to_owned(),
                created_at: rfc3339(row.created_at),
                expires_at: rfc3339(row.expires_at),
            };
            (listed, created)
        })
        .collect())
}

/// The invitation a link carries, if it can still be used: the sign-up page names its address.
/// Otherwise a sentence that says why not.
pub async fn usable(db: &Db, token: &str, now: i64) -> Result<InvitationRow, Error> {
    let row = invitations::by_token(db, &stored_hash(token.trim())).await?;
    let row = row.ok_or(Error::InvalidInvitation(
        "This invitation link is not valid. Check that it was copied whole, or ask for a new one.",
    ))?;
    if row.used_at.is_some() {
        return Err(Error::InvalidInvitation("This invitation was already used. Sign in, or ask for a new one."));
    }
    if row.revoked_at.is_some() {
        return Err(Error::InvalidInvitation("This invitation was withdrawn. Ask for a new one."));
    }
    if row.expires_at <= now {
        return Err(Error::InvalidInvitation("This invitation has expired. Ask for a new one."));
    }
    Ok(row)
}
