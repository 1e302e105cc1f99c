//! Custom claims: key/value claims an administrator sets on a group (for every member) or on an
//! account, added to the ID token and userinfo of an app granted the scope the claim names
//! (`profile` unless another is given: `email` or `groups`). An account's own claim wins over its
//! groups'; between two groups, the one whose name sorts first. Names the protocols use (`sub`,
//! `iss`, `email`, `groups`, …) are refused, so a claim can never pass for one of them.

use serde_json::{Map, Value};

use super::{Accounts, admins};
use crate::base::error::Error;
use crate::base::types::{UserId, has_scope};
use crate::db::claims::{self, ClaimRow, Owner};
use crate::db::{Exec, groups};
use crate::notify::audit::{About, Action, Actor};

/// The longest value, as JSON.
pub const MAX_VALUE_BYTES: usize = 2048;

/// The most claims one group or account holds (each is in every token of its scope).
pub const MAX_PER_OWNER: usize = 50;

/// The scopes a claim may be released with.
pub const SCOPES: [&str; 3] = ["profile", "email", "groups"];

/// Claim names that JWT, OpenID Connect, OAuth and Latchkey's own tokens already give a meaning.
const RESERVED: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "typ",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "at_hash",
    "c_hash",
    "s_hash",
    "sid",
    "scope",
    "client_id",
    "cnf",
    "act",
    "may_act",
    "events",
    "email",
    "email_verified",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
    "address",
    "updated_at",
    "groups",
    "roles",
    "entitlements",
    "_claim_names",
    "_claim_sources",
];

/// A claim as an administrator sets it and reads it back.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Claim {
    /// Its name in the tokens.
    pub name: String,
    /// Its value: any JSON but `null`.
    pub value: Value,
    /// The scope that releases it.
    pub scope: String,
}

/// Whose claim: a group (by id or name) or an account (by id).
#[derive(Debug, Clone, Copy)]
pub enum Whose<'a> {
    /// A group's id or name.
    Group(&'a str),
    /// An account's id.
    User(&'a UserId),
}

/// A claim name: 1 to 64 of letters, digits, `_`, `-`, `.`, `:` and `/` (a URL-like name
/// namespaces it), starting with a letter, and none of [`RESERVED`].
fn claim_name(name: &str) -> Result<&str, Error> {
    let name = name.trim();
    let shaped = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.:/".contains(c));
    if !shaped {
        return Err(Error::InvalidClaim(
            "Name a claim with 1 to 64 letters, digits, _ - . : /, starting with a letter.".into(),
        ));
    }
    if RESERVED.iter().any(|reserved| reserved.eq_ignore_ascii_case(name)) {
        return Err(Error::InvalidClaim(format!(
            "“{name}” is a claim the tokens already give a meaning; choose another name (an app-specific prefix works)."
        )));
    }
    Ok(name)
}

/// Sets `whose` claim `name` to `value`, released with `scope` (`profile` when `None`), by `actor`.
pub async fn set(
    accounts: &Accounts,
    actor: &Actor,
    whose: Whose<'_>,
    name: &str,
    value: &Value,
    scope: Option<&str>,
    now: i64,
) -> Result<Claim, Error> {
    let name = claim_name(name)?;
    let scope = scope.map(str::trim).unwrap_or("profile");
    if !SCOPES.contains(&scope) {
        return Err(Error::InvalidClaim(format!("Release a claim with the scope {}.", SCOPES.join(", "))));
    }
    if value.is_null() {
        return Err(Error::InvalidClaim("A claim's value may be any JSON but null; remove the claim instead.".into()));
    }
    let stored = value.to_string();
    if stored.len() > MAX_VALUE_BYTES {
        return Err(Error::InvalidClaim(format!("A claim's value is at most {MAX_VALUE_BYTES} bytes of JSON.")));
    }
    let row = ClaimRow { name: name.to_owned(), value: stored, scope: scope.to_owned() };
    let mut change = accounts.notify.change(now).await?;
    let about = owner(&mut change, whose).await?;
    let held = claims::of(change.db(), about.owner()).await?;
    if held.len() >= MAX_PER_OWNER && !held.iter().any(|claim| claim.name == row.name) {
        return Err(Error::InvalidClaim(format!("A group or an account holds at most {MAX_PER_OWNER} claims.")));
    }
    claims::set(change.db(), about.owner(), &row).await?;
    let detail = format!("{name} ({scope})");
    change.audit(actor, Action::ClaimSet, about.audited(&detail)).await?;
    change.commit().await?;
    Ok(Claim { name: row.name, value: value.clone(), scope: row.scope })
}

/// Removes `whose` claim `name`, by `actor`; `false` when there was none.
pub async fn remove(accounts: &Accounts, actor: &Actor, whose: Whose<'_>, name: &str, now: i64) -> Result<bool, Error> {
    let name = name.trim();
    let mut change = accounts.notify.change(now).await?;
    let about = owner(&mut change, whose).await?;
    if !claims::remove(change.db(), about.owner(), name).await? {
        return Ok(false);
    }
    change.audit(actor, Action::ClaimRemoved, about.audited(name)).await?;
    change.commit().await?;
    Ok(true)
}

/// `whose` claims, by name.
pub async fn of(accounts: &Accounts, whose: Whose<'_>) -> Result<Vec<Claim>, Error> {
    let rows = match whose {
        Whose::Group(key) => {
            let group = groups::find(&accounts.db, key.trim()).await?.ok_or(Error::GroupNotFound)?;
            claims::of(&accounts.db, Owner::Group(&group.id)).await?
        }
        Whose::User(id) => claims::of(&accounts.db, Owner::User(id)).await?,
    };
    Ok(rows.into_iter().map(|row| Claim { value: parsed(&row.value), name: row.name, scope: row.scope }).collect())
}

/// The custom claims `user`'s tokens carry for the granted `scope`: its own over its groups', and
/// between groups the first by name. Read only when the scope could release one.
pub async fn for_tokens(db: impl Exec<'_>, user: &UserId, scope: &str) -> Result<Map<String, Value>, Error> {
    let mut claims = Map::new();
    if !SCOPES.iter().any(|s| has_scope(scope, s)) {
        return Ok(claims);
    }
    let rows = claims::reaching(db, user).await?;
    let released = rows.iter().filter(|row| has_scope(scope, &row.scope));
    let (own, of_groups): (Vec<_>, Vec<_>) = released.partition(|row| row.group_name.is_none());
    for row in of_groups {
        claims.entry(row.name.clone()).or_insert_with(|| parsed(&row.value));
    }
    for row in own {
        claims.insert(row.name.clone(), parsed(&row.value));
    }
    Ok(claims)
}

fn parsed(stored: &str) -> Value {
    serde_json::from_str(stored).unwrap_or(Value::Null)
}

/// The owner of a claim, found in the change, with what the record says of it.
struct Found {
    group_id: Option<String>,
    group_name: Option<String>,
    user: Option<(UserId, String)>,
}

impl Found {
    fn owner(&self) -> Owner<'_> {
        match (&self.group_id, &self.user) {
            (Some(id), _) => Owner::Group(id),
            (None, Some((id, _))) => Owner::User(id),
            (None, None) => unreachable!("a claim has an owner"),
        }
    }

    fn audited<'a>(&'a self, detail: &'a str) -> About<'a> {
        About {
            user: self.user.as_ref().map(|(id, email)| (id, email.as_str())),
            subject: self.group_name.as_deref(),
            detail: Some(detail),
        }
    }
}

async fn owner(change: &mut crate::notify::change::Change<'_>, whose: Whose<'_>) -> Result<Found, Error> {
    Ok(match whose {
        Whose::Group(key) => {
            let group = groups::find(change.db(), key.trim()).await?.ok_or(Error::GroupNotFound)?;
            Found { group_id: Some(group.id), group_name: Some(group.name), user: None }
        }
        Whose::User(id) => {
            let user = admins::target(change, id).await?;
            Found { group_id: None, group_name: None, user: Some((user.id, user.email)) }
        }
    })
}
