//! Queries on `sign_ins`: one row per sign-in (passkey, password, recovery link, or an app's),
//! ended by [`end`]. Its refresh tokens are in `refresh_tokens.rs`.

use std::sync::LazyLock;

use sqlx::any::AnyRow;
use sqlx::{FromRow, Row as _};

use super::Exec;
use crate::base::types::{CredentialId, SignInId, SignInMethod, UserId};

/// Records a sign-in, begun by a client that sent `user_agent`.
pub async fn insert(
    db: impl Exec<'_>,
    sign_in: &SignInRow,
    user_agent: Option<&str>,
    network: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sign_ins (id, user_id, revoked_at, created_at, method, passkey_id, auth_time, client_id,
             parent_id, scope, user_agent, network)
         VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&sign_in.id)
    .bind(&sign_in.user_id)
    .bind(now)
    .bind(sign_in.method.map_or("unknown", SignInMethod::as_str))
    .bind(&sign_in.passkey_id)
    .bind(sign_in.auth_time)
    .bind(&sign_in.client_id)
    .bind(&sign_in.parent_id)
    .bind(&sign_in.scope)
    .bind(user_agent)
    .bind(network)
    .execute(db)
    .await
    .map(|_| ())
}

/// A sign-in, as [`insert`] writes it and [`by_id`] reads it.
#[derive(Debug, Clone)]
pub struct SignInRow {
    /// Its id.
    pub id: SignInId,
    /// Whose it is.
    pub user_id: UserId,
    /// How it was made; `None` for sign-ins recorded before this was.
    pub method: Option<SignInMethod>,
    /// The passkey it was made with.
    pub passkey_id: Option<CredentialId>,
    /// When the user proved who they are (Unix seconds).
    pub auth_time: i64,
    /// The OpenID Connect app whose tokens continue it, if any.
    pub client_id: Option<String>,
    /// For an app's sign-in, the portal sign-in it came from.
    pub parent_id: Option<SignInId>,
    /// For an app's sign-in, the granted scopes.
    pub scope: Option<String>,
    /// Not ended.
    pub active: bool,
    /// When it started (Unix seconds): it lasts `LATCHKEY_SESSION_MAX_AGE_SECS` from then at most.
    pub started_at: i64,
}

/// Whether the sign-in `s` stands: not ended, and its account not disabled. Disabling ends every
/// sign-in of the account in its change; read here too, a sign-in that started while that change
/// was committing (its password or passkey checked just before) stands for nothing either.
const ACTIVE: &str = "CAST(CASE WHEN s.revoked_at IS NULL AND NOT EXISTS \
     (SELECT 1 FROM users u WHERE u.id = s.user_id AND u.disabled_at IS NOT NULL) THEN 1 ELSE 0 END AS BIGINT)";

/// What [`SignInRow`] reads, as (expression over `s` = `sign_ins`, column name): the one list both
/// queries that read a sign-in are written from.
pub(super) const SIGN_IN_COLUMNS: [(&str, &str); 10] = [
    ("s.id", "id"),
    ("s.user_id", "user_id"),
    ("s.method", "method"),
    ("s.passkey_id", "passkey_id"),
    ("COALESCE(s.auth_time, s.created_at)", "auth_time"),
    ("s.client_id", "client_id"),
    ("s.parent_id", "parent_id"),
    ("s.scope", "scope"),
    (ACTIVE, "active"),
    ("s.created_at", "started_at"),
];

/// [`by_id`]'s query, written once.
static BY_ID: LazyLock<String> = LazyLock::new(|| {
    let columns: Vec<String> = SIGN_IN_COLUMNS.iter().map(|(expr, name)| format!("{expr} AS {name}")).collect();
    format!("SELECT {} FROM sign_ins s WHERE s.id = $1", columns.join(", "))
});

impl FromRow<'_, AnyRow> for SignInRow {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            method: SignInMethod::parse(&row.try_get::<String, _>("method")?),
            passkey_id: row.try_get("passkey_id")?,
            auth_time: row.try_get("auth_time")?,
            client_id: row.try_get("client_id")?,
            parent_id: row.try_get("parent_id")?,
            scope: row.try_get("scope")?,
            active: row.try_get::<i64, _>("active")? != 0,
            started_at: row.try_get("started_at")?,
        })
    }
}

/// A sign-in by id, ended or not.
pub async fn by_id(db: impl Exec<'_>, id: &SignInId) -> Result<Option<SignInRow>, sqlx::Error> {
    sqlx::query_as(&BY_ID).bind(id).fetch_optional(db).await
}

/// Which sign-ins [`end`] ends (those of them still going).
#[derive(Debug, Clone, Copy)]
pub enum Which<'a> {
    /// This one only: signing out, a reused refresh token, a replayed code.
    One(&'a SignInId),
    /// `user`'s sign-in `sign_in` and the app sign-ins that came from it: the user's list.
    OneOf {
        /// Whose it must be.
        user: &'a UserId,
        /// The sign-in.
        sign_in: &'a SignInId,
    },
    /// Every sign-in of `user` but `keep` and the app sign-ins that came from it.
    OthersOf {
        /// Whose.
        user: &'a UserId,
        /// The one that stays (the caller's).
        keep: &'a SignInId,
    },
    /// `user`'s sign-ins made with `passkey` (an app's carries its portal sign-in's), but `keep`
    /// and the app sign-ins that came from it: a deleted passkey.
    MadeWith {
        /// Whose.
        user: &'a UserId,
        /// The passkey.
        passkey: &'a CredentialId,
        /// The one that stays (the caller's).
        keep: &'a SignInId,
    },
    /// The sign-ins of app `client_id` that came from `user`'s portal sign-in `parent`: the app's
    /// logout (RP-initiated).
    AppsOf {
        /// Whose.
        user: &'a UserId,
        /// The app.
        client_id: &'a str,
        /// The portal sign-in.
        parent: &'a SignInId,
    },
    /// Every sign-in of `user`, portal, REST and app alike: the account was disabled.
    AllOf(&'a UserId),
    /// Every sign-in of app `client_id` for `user`: the user removed the app's access.
    AppOf {
        /// Whose.
        user: &'a UserId,
        /// The app.
        client_id: &'a str,
    },
    /// Every sign-in of app `client_id`, whoever's: the app was deleted.
    App(&'a str),
    /// `user`'s browser sign-ins (portal sign-ins without refresh tokens) but the `keep` most
    /// recently used, and the app sign-ins that came from them: one account's share of sessions.
    BeyondNewest {
        /// Whose.
        user: &'a UserId,
        /// How many stay.
        keep: i64,
    },
}

/// The sign-ins [`end`] ended.
#[derive(Debug, Default)]
pub struct Ended(Vec<SignInId>);

impl Ended {
    /// How many.
    pub fn count(&self) -> u64 {
        u64::try_from(self.0.len()).unwrap_or(u64::MAX)
    }

    /// Whether `id` is one of them.
    pub fn contains(&self, id: &SignInId) -> bool {
        self.0.contains(id)
    }
}

/// The statements of [`end`], one per [`Which`], written once: `$1` is now, the rest [`Which`]'s.
static END: LazyLock<[String; 9]> = LazyLock::new(|| {
    let set = "UPDATE sign_ins SET revoked_at = $1 WHERE revoked_at IS NULL";
    // LIMIT before OFFSET: SQLite has no OFFSET without one.
    let beyond = "SELECT b.id FROM sign_ins b
                  WHERE b.user_id = $2 AND b.client_id IS NULL AND b.revoked_at IS NULL
                    AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.sign_in_id = b.id)
                  ORDER BY COALESCE(b.last_used_at, b.created_at) DESC, b.id DESC LIMIT 1000000000 OFFSET $3";
    [
        format!("{set} AND id = $2 RETURNING id"),
        format!("{set} AND user_id = $2 AND (id = $3 OR parent_id = $3) RETURNING id"),
        format!("{set} AND user_id = $2 AND id <> $3 AND (parent_id IS NULL OR parent_id <> $3) RETURNING id"),
        format!(
            "{set} AND user_id = $2 AND passkey_id = $3 AND id <> $4 AND (parent_id IS NULL OR parent_id <> $4)
             RETURNING id"
        ),
        format!("{set} AND user_id = $2 AND client_id = $3 AND parent_id = $4 RETURNING id"),
        format!("{set} AND user_id = $2 AND (id IN ({beyond}) OR parent_id IN ({beyond})) RETURNING id"),
        format!("{set} AND user_id = $2 RETURNING id"),
        format!("{set} AND user_id = $2 AND client_id = $3 RETURNING id"),
        format!("{set} AND client_id = $2 RETURNING id"),
    ]
});

/// Ends the sign-ins `which` names that are still going, in one statement; says which ended.
pub async fn end(db: impl Exec<'_>, which: Which<'_>, now: i64) -> Result<Ended, sqlx::Error> {
    let [one, one_of, others_of, made_with, apps_of, beyond_newest, all_of, app_of, app] = &*END;
    let query = match which {
        Which::One(id) => sqlx::query_scalar(one).bind(now).bind(id),
        Which::OneOf { user, sign_in } => sqlx::query_scalar(one_of).bind(now).bind(user).bind(sign_in),
        Which::OthersOf { user, keep } => sqlx::query_scalar(others_of).bind(now).bind(user).bind(keep),
        Which::MadeWith { user, passkey, keep } => {
            sqlx::query_scalar(made_with).bind(now).bind(user).bind(passkey).bind(keep)
        }
        Which::AppsOf { user, client_id, parent } => {
            sqlx::query_scalar(apps_of).bind(now).bind(user).bind(client_id).bind(parent)
        }
        Which::BeyondNewest { user, keep } => sqlx::query_scalar(beyond_newest).bind(now).bind(user).bind(keep),
        Which::AllOf(user) => sqlx::query_scalar(all_of).bind(now).bind(user),
        Which::AppOf { user, client_id } => sqlx::query_scalar(app_of).bind(now).bind(user).bind(client_id),
        Which::App(client_id) => sqlx::query_scalar(app).bind(now).bind(client_id),
    };
    Ok(Ended(query.fetch_all(db).await?))
}

/// A user's sign-in that has not been ended, as the list of sign-ins shows it.
#[derive(Debug, Clone, FromRow)]
pub struct ListedSignIn {
    /// Its id.
    pub id: SignInId,
    /// How it was made (`passkey`, `password`, `unknown`).
    pub method: String,
    /// The passkey's name, for a passkey sign-in whose passkey still exists.
    pub passkey_name: Option<String>,
    /// The OpenID Connect app whose tokens continue it, if any.
    pub client_id: Option<String>,
    /// The `User-Agent` it was made with.
    pub user_agent: Option<String>,
    /// The network it was made from (`203.0.113.0/24`), when recorded.
    pub network: Option<String>,
    /// When it started (Unix seconds).
    pub created_at: i64,
    /// The portal session's last request (written at most once a minute).
    pub last_used_at: Option<i64>,
    /// When its newest refresh token was issued (each refresh issues one).
    pub last_refresh_at: Option<i64>,
    /// How many of its refresh tokens can still be exchanged at `now`.
    pub live_tokens: i64,
}

/// `user_id`'s sign-ins that have not been ended, newest first.
pub async fn not_ended_of_user(
    db: impl Exec<'_>,
    user_id: &UserId,
    now: i64,
) -> Result<Vec<ListedSignIn>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.id, s.method, p.name AS passkey_name, s.client_id, s.user_agent, s.network, s.created_at, s.last_used_at,
                (SELECT MAX(r.created_at) FROM refresh_tokens r WHERE r.sign_in_id = s.id) AS last_refresh_at,
                CAST((SELECT COUNT(*) FROM refresh_tokens r
                      WHERE r.sign_in_id = s.id AND r.used_at IS NULL AND r.expires_at > $2) AS BIGINT) AS live_tokens
         FROM sign_ins s LEFT JOIN passkeys p ON p.credential_id = s.passkey_id
         WHERE s.user_id = $1 AND s.revoked_at IS NULL
         ORDER BY s.created_at DESC, s.id",
    )
    .bind(user_id)
    .bind(now)
    .fetch_all(db)
    .await
}

/// What a portal request needs to know of its sign-in, as [`activity`] reads it.
#[derive(Debug, Clone, Copy)]
pub struct Activity {
    /// Not ended.
    pub active: bool,
    /// When its portal session was last noted as used.
    pub last_used_at: Option<i64>,
    /// When the user proved who they are (Unix seconds).
    pub auth_time: i64,
    /// How.
    pub method: Option<SignInMethod>,
    /// When it started (Unix seconds).
    pub started_at: i64,
    /// Until when the passkey it was made with is held (a mailed recovery link added it), if ever.
    pub held_until: Option<i64>,
}

/// What [`activity`] reads: active, last used, auth time, method, started, passkey held until.
type ActivityColumns = (i64, Option<i64>, i64, String, i64, Option<i64>);

/// Sign-in `id`'s [`Activity`], ended or not.
pub async fn activity(db: impl Exec<'_>, id: &SignInId) -> Result<Option<Activity>, sqlx::Error> {
    let row: Option<ActivityColumns> = sqlx::query_as(&ACTIVITY).bind(id).fetch_optional(db).await?;
    Ok(row.map(|(active, last_used_at, auth_time, method, started_at, held_until)| Activity {
        active: active != 0,
        last_used_at,
        auth_time,
        method: SignInMethod::parse(&method),
        started_at,
        held_until,
    }))
}

/// [`activity`]'s query (every portal request runs it), written once.
static ACTIVITY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {ACTIVE}, s.last_used_at, COALESCE(s.auth_time, s.created_at), s.method, s.created_at, p.held_until
         FROM sign_ins s LEFT JOIN passkeys p ON p.credential_id = s.passkey_id WHERE s.id = $1"
    )
});

/// Notes that sign-in `id` was used at `now`.
pub async fn note_use(db: impl Exec<'_>, id: &SignInId, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sign_ins SET last_used_at = $2 WHERE id = $1").bind(id).bind(now).execute(db).await?;
    Ok(())
}

/// Deletes sign-ins that were ended before `before` (their refresh tokens go with them).
pub async fn prune_ended(db: impl Exec<'_>, before: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM sign_ins WHERE revoked_at < $1")
        .bind(before)
        .execute(db)
        .await
        .map(|done| done.rows_affected())
}

/// How many sign-ins are still going at `now`: not ended, and continued by a refresh token that can
/// still be exchanged, or (a browser's, which has none) used within `idle` seconds.
pub async fn going(db: impl Exec<'_>, now: i64, idle: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM sign_ins s WHERE s.revoked_at IS NULL AND (
             EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.sign_in_id = s.id AND r.used_at IS NULL AND r.expires_at > $1)
             OR (NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.sign_in_id = s.id)
                 AND COALESCE(s.last_used_at, s.created_at) > $2))",
    )
    .bind(now)
    .bind(now - idle)
    .fetch_one(db)
    .await
}
