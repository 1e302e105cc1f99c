//! Each user's record of security events — sign-ins (and failed ones) with how and from where,
//! passkeys and the password added, changed or removed, sign-ins ended, the account created —
//! shown as "Recent activity" on the account page and at `GET /auth/activity`, and told to the
//! application's [`EventHooks::on_activity`](crate::notify::hooks::EventHooks::on_activity).
//!
//! An event is recorded in the same transaction as the change it tells of (`change.rs`): no change
//! without its record, no record without its change. Events are kept
//! for `LATCHKEY_ACTIVITY_RETENTION_DAYS` (90 by default): the hourly housekeeping deletes older
//! ones, and deleting the account deletes all of them.

use proto::ActivityItem;

use crate::base::clock::rfc3339;
use crate::base::error::Error;
use crate::base::measure;
use crate::base::types::{Caller, SignInMethod, UserId, device_of};
use crate::db::Db;
use crate::db::activity::{self, ActivityRow, NewActivity};

/// How many events "Recent activity" shows.
pub const RECENT: i64 = 30;

/// How long failed passkey sign-ins are counted into one row ([`Recorded::repeats`]).
pub const REPEATS_WITHIN_SECS: i64 = 3600;

/// A security event of one account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// The account was created.
    AccountCreated,
    /// A sign-in, and how; with a passkey, its name.
    SignedIn {
        /// Passkey or password.
        method: SignInMethod,
        /// The passkey's name.
        passkey: Option<&'a str>,
    },
    /// A wrong password, or a passkey whose signature did not verify.
    SignInFailed {
        /// Passkey or password.
        method: SignInMethod,
    },
    /// A passkey was added, under this name.
    PasskeyAdded(&'a str),
    /// A passkey was renamed, to this name.
    PasskeyRenamed(&'a str),
    /// A passkey was removed; it had this name.
    PasskeyRemoved(&'a str),
    /// A password was added to an account that had none.
    PasswordSet,
    /// The password was changed.
    PasswordChanged,
    /// The password was removed.
    PasswordRemoved,
    /// One sign-in was ended from the list of sign-ins.
    SignInEnded,
    /// Every other sign-in was ended; this many.
    OtherSignInsEnded(u64),
    /// The operator made a recovery link for the account.
    RecoveryLinkMade,
    /// The account moved to a new, confirmed email address.
    EmailChanged,
    /// A move to this address was asked for; it waits for the address's confirmation.
    EmailChangeRequested(&'a str),
    /// A move still waiting for confirmation was ended (other sign-ins ended, or a new password).
    EmailChangeCancelled,
    /// A recovery link was used, and a passkey of this name added with it.
    Recovered(&'a str),
    /// "This wasn't me": the passkey of this name, which a recovery added, was removed.
    RecoveryUndone(&'a str),
    /// The operator disabled the account: every sign-in ended, none may start.
    AccountDisabled,
    /// The operator enabled the account again.
    AccountEnabled,
    /// The account was made an administrator.
    AdminGranted,
    /// The account is no longer an administrator.
    AdminRevoked,
    /// An administrator put the account in the group of this name.
    JoinedGroup(&'a str),
    /// An administrator took the account out of the group of this name.
    LeftGroup(&'a str),
    /// An administrator changed the account's display name.
    RenamedByAdmin,
    /// The user removed the access of the app of this name: its consent and its sign-ins.
    AppAccessRemoved(&'a str),
}

impl Event<'_> {
    /// The stable name programs match on (the `kind` of [`ActivityItem`]).
    pub fn kind(self) -> &'static str {
        match self {
            Self::AccountCreated => "account_created",
            Self::SignedIn { .. } => "signed_in",
            Self::SignInFailed { .. } => "sign_in_failed",
            Self::PasskeyAdded(_) => "passkey_added",
            Self::PasskeyRenamed(_) => "passkey_renamed",
            Self::PasskeyRemoved(_) => "passkey_removed",
            Self::PasswordSet => "password_set",
            Self::PasswordChanged => "password_changed",
            Self::PasswordRemoved => "password_removed",
            Self::SignInEnded => "sign_in_ended",
            Self::OtherSignInsEnded(_) => "other_sign_ins_ended",
            Self::RecoveryLinkMade => "recovery_link_made",
            Self::EmailChanged => "email_changed",
            Self::EmailChangeRequested(_) => "email_change_requested",
            Self::EmailChangeCancelled => "email_change_cancelled",
            Self::Recovered(_) => "recovered",
            Self::RecoveryUndone(_) => "recovery_undone",
            Self::AccountDisabled => "account_disabled",
            Self::AccountEnabled => "account_enabled",
            Self::AdminGranted => "admin_granted",
            Self::AdminRevoked => "admin_revoked",
            Self::JoinedGroup(_) => "joined_group",
            Self::LeftGroup(_) => "left_group",
            Self::RenamedByAdmin => "renamed_by_admin",
            Self::AppAccessRemoved(_) => "app_access_removed",
        }
    }

    /// What the row keeps besides the kind.
    fn detail(self) -> Option<String> {
        match self {
            Self::SignedIn { method, passkey: Some(name) } => Some(format!("{}:{name}", method.as_str())),
            Self::SignedIn { method, passkey: None } | Self::SignInFailed { method } => {
                Some(method.as_str().to_owned())
            }
            Self::PasskeyAdded(name)
            | Self::PasskeyRenamed(name)
            | Self::PasskeyRemoved(name)
            | Self::Recovered(name)
            | Self::RecoveryUndone(name)
            | Self::EmailChangeRequested(name)
            | Self::JoinedGroup(name)
            | Self::LeftGroup(name)
            | Self::AppAccessRemoved(name) => Some(name.to_owned()),
            Self::OtherSignInsEnded(count) => Some(count.to_string()),
            Self::AccountCreated
            | Self::PasswordSet
            | Self::PasswordChanged
            | Self::PasswordRemoved
            | Self::SignInEnded
            | Self::RecoveryLinkMade
            | Self::EmailChanged
            | Self::EmailChangeCancelled
            | Self::AccountDisabled
            | Self::AccountEnabled
            | Self::AdminGranted
            | Self::AdminRevoked
            | Self::RenamedByAdmin => None,
        }
    }
}

/// An event as it is recorded: the row for the `activity` table, made once. A `Change`
/// (`change.rs`) writes it in its transaction (the passkey sign-in writes it in its batch,
/// `db/passkey_sign_in.rs`); either counts it and tells the application's hook only once it is
/// committed ([`Recorded::told`]).
#[derive(Debug, Clone)]
pub struct Recorded {
    /// A UUIDv7, which sorts in the order events were recorded, so events of the same second are
    /// listed in their order too.
    id: String,
    user_id: UserId,
    row: ActivityRow,
    signed_in: Option<(bool, SignInMethod)>,
}

impl Recorded {
    /// `event` of `user_id`'s account at `now`, made by `caller` (`None` when no request made it).
    pub fn new(user_id: &UserId, event: Event<'_>, caller: Option<&Caller>, now: i64) -> Self {
        let row = ActivityRow {
            at: now,
            kind: event.kind().to_owned(),
            detail: event.detail(),
            address: caller.map(|c| c.address.to_string()),
            user_agent: caller.and_then(|c| c.user_agent.get()).map(str::to_owned),
            repeats: 1,
        };
        let signed_in = match event {
            Event::SignedIn { method, .. } => Some((true, method)),
            Event::SignInFailed { method } => Some((false, method)),
            _ => None,
        };
        Self { id: uuid::Uuid::now_v7().to_string(), user_id: user_id.clone(), row, signed_in }
    }

    /// Whether this event is counted into the hour's row of the same event rather than recorded on
    /// its own: a failed passkey sign-in, which anyone who knows a credential id can cause.
    pub(crate) fn repeats(&self) -> bool {
        self.signed_in == Some((false, SignInMethod::Passkey))
    }

    /// The row to insert.
    pub fn row(&self) -> NewActivity<'_> {
        NewActivity {
            id: &self.id,
            user_id: &self.user_id,
            at: self.row.at,
            kind: &self.row.kind,
            detail: self.row.detail.as_deref(),
            address: self.row.address.as_deref(),
            user_agent: self.row.user_agent.as_deref(),
        }
    }

    /// Once committed: counts a sign-in, or failed sign-in, in the metrics, and gives whose event it
    /// is and the item the application's hook is told (as "Recent activity" shows it).
    pub(crate) fn told(self) -> (UserId, ActivityItem) {
        match self.signed_in {
            Some((true, method)) => measure::signed_in(method.as_str()),
            Some((false, method)) => measure::sign_in_failed(method.as_str()),
            None => {}
        }
        (self.user_id, item(self.row))
    }
}

/// `GET /auth/activity` and "Recent activity": the newest events of `user_id`'s account.
pub async fn recent(db: &Db, user_id: &UserId) -> Result<Vec<ActivityItem>, Error> {
    Ok(activity::of_user(db, user_id, RECENT, 0).await?.into_iter().map(item).collect())
}

/// Events on the account page at a time.
pub const PER_PAGE: u32 = 10;

/// Page `page` (0 = the newest) of `user_id`'s events, [`PER_PAGE`] of them, and whether older ones
/// follow.
pub async fn page(db: &Db, user_id: &UserId, page: u32) -> Result<(Vec<ActivityItem>, bool), Error> {
    let per_page = i64::from(PER_PAGE);
    let mut rows = activity::of_user(db, user_id, per_page + 1, i64::from(page) * per_page).await?;
    let more = rows.len() > PER_PAGE as usize;
    rows.truncate(PER_PAGE as usize);
    Ok((rows.into_iter().map(item).collect(), more))
}

fn item(row: ActivityRow) -> ActivityItem {
    let said = summary(&row.kind, row.detail.as_deref());
    ActivityItem {
        summary: if row.repeats > 1 { format!("{said} ({} times)", row.repeats) } else { said },
        count: row.repeats,
        device: row.user_agent.as_deref().map(|agent| device_of(Some(agent))),
        kind: row.kind,
        address: row.address,
        at: rfc3339(row.at),
    }
}

/// The sentence people read for a recorded event.
fn summary(kind: &str, detail: Option<&str>) -> String {
    let detail = detail.unwrap_or_default();
    let how = |method: &str| match method {
        "passkey" => "a passkey",
        "password" => "the password",
        _ => "an unknown method",
    };
    match kind {
        "account_created" => "Account created".to_owned(),
        "signed_in" => match detail.split_once(':') {
            Some((_, name)) => format!("Signed in with the passkey “{name}”"),
            None => format!("Signed in with {}", how(detail)),
        },
        "sign_in_failed" => format!("Failed sign-in with {}", how(detail)),
        "passkey_added" => format!("Passkey “{detail}” added"),
        "passkey_renamed" => format!("A passkey renamed to “{detail}”"),
        "passkey_removed" => format!("Passkey “{detail}” removed"),
        "password_set" => "Password added".to_owned(),
        "password_changed" => "Password changed".to_owned(),
        "password_removed" => "Password removed".to_owned(),
        "sign_in_ended" => "A sign-in was ended".to_owned(),
        "recovery_link_made" => "A recovery link was made by the operator".to_owned(),
        "account_disabled" => "The account was disabled by an administrator".to_owned(),
        "account_enabled" => "The account was enabled again by an administrator".to_owned(),
        "admin_granted" => "The account was made an administrator".to_owned(),
        "admin_revoked" => "The account is no longer an administrator".to_owned(),
        "joined_group" => format!("Added to the group “{detail}” by an administrator"),
        "left_group" => format!("Taken out of the group “{detail}” by an administrator"),
        "renamed_by_admin" => "The display name was changed by an administrator".to_owned(),
        "app_access_removed" => format!("Access of the app “{detail}” removed"),
        "email_changed" => "Email address changed".to_owned(),
        "email_change_requested" => format!("A change of email address to {detail} was asked for"),
        "email_change_cancelled" => "A change of email address waiting for confirmation was cancelled".to_owned(),
        "recovered" => format!("A recovery link was used; passkey “{detail}” added"),
        "recovery_undone" => format!("“This wasn't me”: passkey “{detail}”, added by a recovery, removed"),
        "other_sign_ins_ended" => match detail {
            "1" => "Signed out everywhere else (1 sign-in ended)".to_owned(),
            count => format!("Signed out everywhere else ({count} sign-ins ended)"),
        },
        other => other.replace('_', " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_reads_as_a_sentence() {
        let events = [
            (Event::AccountCreated, "Account created"),
            (
                Event::SignedIn { method: SignInMethod::Passkey, passkey: Some("Laptop") },
                "Signed in with the passkey “Laptop”",
            ),
            (Event::SignedIn { method: SignInMethod::Password, passkey: None }, "Signed in with the password"),
            (Event::SignInFailed { method: SignInMethod::Password }, "Failed sign-in with the password"),
            (Event::PasskeyAdded("Phone"), "Passkey “Phone” added"),
            (Event::PasskeyRenamed("Work"), "A passkey renamed to “Work”"),
            (Event::PasskeyRemoved("Phone"), "Passkey “Phone” removed"),
            (Event::PasswordSet, "Password added"),
            (Event::PasswordChanged, "Password changed"),
            (Event::PasswordRemoved, "Password removed"),
            (Event::SignInEnded, "A sign-in was ended"),
            (Event::OtherSignInsEnded(2), "Signed out everywhere else (2 sign-ins ended)"),
            (Event::RecoveryLinkMade, "A recovery link was made by the operator"),
            (Event::EmailChanged, "Email address changed"),
            (
                Event::EmailChangeRequested("new@example.com"),
                "A change of email address to new@example.com was asked for",
            ),
            (Event::EmailChangeCancelled, "A change of email address waiting for confirmation was cancelled"),
            (Event::Recovered("Phone"), "A recovery link was used; passkey “Phone” added"),
            (Event::RecoveryUndone("Phone"), "“This wasn't me”: passkey “Phone”, added by a recovery, removed"),
        ];
        for (event, sentence) in events {
            assert_eq!(summary(event.kind(), event.detail().as_deref()), sentence);
        }
    }
}
