//! The administrators' record: every administrative action — who took it, what it was, to whom,
//! when and from where — written by [`Change::audit`](super::change::Change::audit) in the same
//! transaction as the action itself (and, where it concerns an account, with that account's
//! activity row). Read newest first at `GET /admin/audit`. It is kept for good: the housekeeping
//! does not thin it, and deleting an account keeps the actions that named it (with its address).

use crate::base::types::{Caller, UserId};
use crate::db::admin_audit::AuditRow;

/// Who takes an administrative action, and from where.
#[derive(Debug, Clone)]
pub struct Actor {
    who: Who,
    caller: Option<Caller>,
}

#[derive(Debug, Clone)]
enum Who {
    Operator,
    Token,
    Invitation,
    Admin { id: UserId, email: String },
}

impl Actor {
    /// The operator at the server's command line (`latchkey admin …`).
    pub fn operator() -> Self {
        Self { who: Who::Operator, caller: None }
    }

    /// A request that carried the operator's `LATCHKEY_ADMIN_TOKEN` (checked by the HTTP wing).
    pub(crate) fn token(caller: Caller) -> Self {
        Self { who: Who::Token, caller: Some(caller) }
    }

    /// An invitation that makes an administrator, as its account is made (who made the invitation
    /// is in the record's `invitation_made` row).
    pub(crate) fn invitation() -> Self {
        Self { who: Who::Invitation, caller: None }
    }

    /// An administrator whose sign-in is recent (the HTTP wing makes one only from a `Recent`).
    pub(crate) fn admin(id: UserId, email: String, caller: Caller) -> Self {
        Self { who: Who::Admin { id, email }, caller: Some(caller) }
    }

    /// Where the request came from (none from the command line).
    pub fn caller(&self) -> Option<&Caller> {
        self.caller.as_ref()
    }

    /// What the record's `actor` column says: `operator`, `token` or the administrator's id.
    pub(crate) fn name(&self) -> String {
        match &self.who {
            Who::Operator => "operator".to_owned(),
            Who::Token => "token".to_owned(),
            Who::Invitation => "invitation".to_owned(),
            Who::Admin { id, .. } => id.to_string(),
        }
    }

    fn email(&self) -> Option<&str> {
        match &self.who {
            Who::Admin { email, .. } => Some(email),
            Who::Operator | Who::Token | Who::Invitation => None,
        }
    }
}

/// An administrative action (its `action` in the record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// An account disabled.
    AccountDisabled,
    /// An account enabled again.
    AccountEnabled,
    /// An account made an administrator.
    AdminGranted,
    /// An account no longer an administrator.
    AdminRevoked,
    /// An account's display name changed.
    AccountRenamed,
    /// An account deleted.
    AccountDeleted,
    /// A recovery link made for an account.
    RecoveryLinkMade,
    /// A group made.
    GroupCreated,
    /// A group renamed or described anew.
    GroupUpdated,
    /// A group deleted.
    GroupDeleted,
    /// An account put in a group.
    MemberAdded,
    /// An account taken out of a group.
    MemberRemoved,
    /// An invitation made.
    InvitationMade,
    /// An invitation withdrawn.
    InvitationRevoked,
    /// A custom claim set on a group or an account.
    ClaimSet,
    /// A custom claim removed from a group or an account.
    ClaimRemoved,
    /// An app made in the console.
    AppCreated,
    /// A console app's settings changed.
    AppUpdated,
    /// A console app given a new secret.
    AppSecretRotated,
    /// A console app deleted, with its sign-ins.
    AppDeleted,
}

impl Action {
    /// The stable name programs match on.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccountDisabled => "account_disabled",
            Self::AccountEnabled => "account_enabled",
            Self::AdminGranted => "admin_granted",
            Self::AdminRevoked => "admin_revoked",
            Self::AccountRenamed => "account_renamed",
            Self::AccountDeleted => "account_deleted",
            Self::RecoveryLinkMade => "recovery_link_made",
            Self::GroupCreated => "group_created",
            Self::GroupUpdated => "group_updated",
            Self::GroupDeleted => "group_deleted",
            Self::MemberAdded => "member_added",
            Self::MemberRemoved => "member_removed",
            Self::InvitationMade => "invitation_made",
            Self::InvitationRevoked => "invitation_revoked",
            Self::ClaimSet => "claim_set",
            Self::ClaimRemoved => "claim_removed",
            Self::AppCreated => "app_created",
            Self::AppUpdated => "app_updated",
            Self::AppSecretRotated => "app_secret_rotated",
            Self::AppDeleted => "app_deleted",
        }
    }
}

/// What an action was about, besides its kind: the account (id and address), a group's name or an
/// invitation's id, and anything else worth keeping.
#[derive(Debug, Clone, Copy, Default)]
pub struct About<'a> {
    /// The account it concerns.
    pub user: Option<(&'a UserId, &'a str)>,
    /// A group's name, an invitation's id.
    pub subject: Option<&'a str>,
    /// What else it says.
    pub detail: Option<&'a str>,
}

/// The row for `action` by `actor` at `now`.
pub(crate) fn row(actor: &Actor, action: Action, about: About<'_>, now: i64) -> AuditRow {
    AuditRow {
        id: uuid::Uuid::now_v7().to_string(),
        at: now,
        actor: actor.name(),
        actor_email: actor.email().map(str::to_owned),
        action: action.as_str().to_owned(),
        user_id: about.user.map(|(id, _)| id.to_string()),
        user_email: about.user.map(|(_, email)| email.to_owned()),
        subject: about.subject.map(str::to_owned),
        detail: about.detail.map(str::to_owned),
        address: actor.caller().map(|c| c.address.to_string()),
    }
}
