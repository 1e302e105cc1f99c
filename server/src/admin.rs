//! The admin API (docs/api.md, "Admin API"): people, groups, invitations and the administrators' record.
//! A caller is an administrator, by the access token of their sign-in, or the operator, by
//! `LATCHKEY_ADMIN_TOKEN` ([`AdminCaller`]); anyone else with a valid token is 403
//! `admin_required`. Every change needs an administrator's recent sign-in and is one transaction
//! with its row in the record (`GET /admin/audit`) and, where it concerns an account, that
//! account's activity row. Lists come a page at a time, after a sealed `cursor`.

mod apps;

use std::time::Duration;

use axum::extract::{FromRef, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Json;
use engine::accounts::admins::{self, account_of};
use engine::accounts::claims::{self, Claim, Whose};
use engine::accounts::standing;
use engine::accounts::{groups, invitations, recovery};
use engine::base::clock::{now, rfc3339};
use engine::base::types::{DisplayName, UserId};
use engine::db::admin_audit::{self, AuditRow};
use engine::db::groups::{GroupRow, MemberRow};
use engine::http::admin::{AdminCaller, cursor, page_size, position};
use engine::http::extract::{ApiJson, ApiPath, ApiQuery, OptionalJson};
use engine::{Engine, Error};
use proto::{ApiError, InvitationItem, Person, PersonFacts};
use serde::{Deserialize, Serialize};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes with their descriptions.
pub fn routes<S>() -> OpenApiRouter<S>
where
    Engine: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    let no_store = SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(get_user, update_user, delete_user))
        .routes(routes!(user_recovery_link))
        .routes(routes!(make_recovery_link))
        .routes(routes!(list_groups, create_group))
        .routes(routes!(get_group, update_group, delete_group))
        .routes(routes!(add_member))
        .routes(routes!(remove_member))
        .routes(routes!(set_group_claim, remove_group_claim))
        .routes(routes!(set_user_claim, remove_user_claim))
        .routes(routes!(list_invitations, create_invitation))
        .routes(routes!(revoke_invitation))
        .routes(routes!(list_audit))
        .merge(apps::routes())
        .layer(no_store)
}

#[derive(Deserialize, IntoParams)]
struct UsersQuery {
    /// Only accounts whose address or name holds this (any case).
    q: Option<String>,
    /// Where the page starts: `next_cursor` of the page before.
    cursor: Option<String>,
    /// At most this many (1 to 100; 50).
    limit: Option<u32>,
}

/// A page of accounts.
#[derive(Serialize, ToSchema)]
struct PeoplePage {
    /// Sorted by address.
    users: Vec<Person>,
    /// The cursor of the next page; absent on the last.
    next_cursor: Option<String>,
}

/// Accounts, by address, a page at a time, optionally only those whose address or name holds `q`.
#[utoipa::path(get, path = "/admin/users", tag = "admin", security(("bearer" = [])), params(UsersQuery),
    responses(
        (status = 200, description = "A page of accounts", body = PeoplePage),
        (status = 400, description = "`invalid_cursor`, `invalid_request` (a limit outside 1 to 100)", body = ApiError),
        (status = 401, description = "`invalid_token`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
    ))]
async fn list_users(
    State(engine): State<Engine>,
    _admin: AdminCaller,
    ApiQuery(query): ApiQuery<UsersQuery>,
) -> Result<Json<PeoplePage>, Error> {
    let limit = page_size(query.limit)?;
    let after = position(&engine, "users", query.cursor.as_deref())?.unwrap_or_default();
    let search = query.q.as_deref().map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty());
    let mut rows = engine::db::users::search(&engine.db, search.as_deref(), &after, limit + 1).await?;
    let next_cursor = page_end(&mut rows, limit).and_then(|last| cursor(&engine, "users", &last.email));
    Ok(Json(PeoplePage { users: rows.into_iter().map(Person::from).collect(), next_cursor }))
}

/// Keeps `limit` of `rows` (fetched one more than a page) and gives the last kept when more follow.
fn page_end<T: Clone>(rows: &mut Vec<T>, limit: i64) -> Option<T> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    if more { rows.last().cloned() } else { None }
}

/// An account with its passkeys, sign-ins, groups, recent activity and custom claims.
#[derive(Serialize, ToSchema)]
struct PersonDetail {
    #[serde(flatten)]
    facts: PersonFacts,
    /// Its own custom claims (its groups' are on each group).
    claims: Vec<ClaimItem>,
}

/// The account's id in a path or a body (an unknown one is `account_not_found` where it is used).
fn user_id(raw: &str) -> UserId {
    UserId::new(raw.trim())
}

/// One account, with its passkeys, sign-ins, groups and recent activity.
#[utoipa::path(get, path = "/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account's id")),
    responses(
        (status = 200, description = "The account", body = PersonDetail),
        (status = 401, description = "`invalid_token`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
        (status = 404, description = "`account_not_found`", body = ApiError),
    ))]
async fn get_user(
    State(engine): State<Engine>,
    _admin: AdminCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<PersonDetail>, Error> {
    Ok(Json(detail(&engine, &user_id(&id)).await?))
}

async fn detail(engine: &Engine, id: &UserId) -> Result<PersonDetail, Error> {
    Ok(PersonDetail {
        facts: engine::http::admin::person(engine, id, now()).await?,
        claims: claims::of(&engine.accounts, Whose::User(id)).await?.into_iter().map(ClaimItem::from).collect(),
    })
}

/// What `PATCH /admin/users/{id}` changes; what is left out stays.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PersonChange {
    /// Disable (every sign-in ends at once) or enable the account.
    disabled: Option<bool>,
    /// Make the account an administrator, or no longer one.
    admin: Option<bool>,
    /// Its display name (empty clears it).
    name: Option<String>,
}

/// Disable or enable an account, make it an administrator or no longer one, rename it. The owner is
/// mailed about each change but the name; the last administrator is never revoked or disabled.
#[utoipa::path(patch, path = "/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account's id")), request_body = PersonChange,
    responses(
        (status = 200, description = "The account as it is now", body = PersonDetail),
        (status = 400, description = "`invalid_request`, `invalid_name`", body = ApiError),
        (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
        (status = 404, description = "`account_not_found`", body = ApiError),
        (status = 409, description = "`last_admin`", body = ApiError),
    ))]
async fn update_user(
    State(engine): State<Engine>,
    admin: AdminCaller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<PersonChange>,
) -> Result<Json<PersonDetail>, Error> {
    let (id, now) = (user_id(&id), now());
    let actor = admin.actor(&engine, now).await?;
    // The name is checked before anything changes; the changes that can be refused (the last
    // administrator) come first, so a refusal leaves the account as it was.
    if let Some(name) = body.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        DisplayName::parse(name)?;
    }
    if let Some(admin) = body.admin {
        admins::set_admin(&engine.accounts, &actor, &id, admin, now).await?;
    }
    if let Some(disabled) = body.disabled {
        standing::set_disabled(&engine.accounts, &actor, &id, disabled, now).await?;
    }
    if let Some(name) = &body.name {
        admins::rename(&engine.accounts, &actor, &id, name, now).await?;
    }
    Ok(Json(detail(&engine, &id).await?))
}

/// Delete an account, as its owner's own deletion does (everything of it goes); never the last
/// administrator.
#[utoipa::path(delete, path = "/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
        (status = 404, description = "`account_not_found`", body = ApiError),
        (status = 409, description = "`last_admin`", body = ApiError),
    ))]
async fn delete_user(
    State(engine): State<Engine>,
    admin: AdminCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, Error> {
    let (id, now) = (user_id(&id), now());
    let actor = admin.actor(&engine, now).await?;
    admins::delete(&engine.accounts, &actor, &id, now).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
struct LinkRequest {
    /// How long the link works, in seconds (at most 7 days; 1 hour by default).
    ttl_secs: Option<u64>,
}

/// `201` of a recovery link.
#[derive(Serialize, ToSchema)]
struct RecoveryLinkAnswer {
    /// The one-time link to hand to the account's owner.
    url: String,
    /// When it stops working (RFC 3339).
    expires_at: String,
}

/// Make a one-time link that lets the account's owner add a new passkey.
#[utoipa::path(post, path = "/admin/users/{id}/recovery-link", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account's id")), request_body = LinkRequest,
    responses(
        (status = 201, description = "The link", body = RecoveryLinkAnswer),
        (status = 400, description = "`invalid_request` (a ttl over 7 days)", body = ApiError),
        (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError),
        (status = 403, description = "`admin_required`, `account_disabled`", body = ApiError),
        (status = 404, description = "`account_not_found`", body = ApiError),
    ))]
async fn user_recovery_link(
    State(engine): State<Engine>,
    admin: AdminCaller,
    ApiPath(id): ApiPath<String>,
    OptionalJson(body): OptionalJson<LinkRequest>,
) -> Result<(StatusCode, Json<RecoveryLinkAnswer>), Error> {
    let (id, now) = (user_id(&id), now());
    let actor = admin.actor(&engine, now).await?;
    let ttl = body.ttl_secs.map_or(recovery::DEFAULT_TTL, Duration::from_secs);
    let link = recovery::operator_link(&engine.accounts, &actor, &id, ttl, now).await?;
    Ok((StatusCode::CREATED, Json(RecoveryLinkAnswer { url: link.url, expires_at: link.expires_at })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RecoveryLinkRequest {
    /// The account's email address.
    email: String,
    /// How long the link works, in seconds (at most 7 days; 1 hour by default).
    ttl_secs: Option<u64>,
}

/// Make a one-time recovery link for the account of an address (as `latchkey admin recovery-link`).
#[utoipa::path(post, path = "/admin/recovery-links", tag = "admin", security(("bearer" = [])),
    request_body = RecoveryLinkRequest,
    responses(
        (status = 201, description = "The link", body = RecoveryLinkAnswer),
        (status = 400, description = "`invalid_request` (a ttl over 7 days), `invalid_email`", body = ApiError),
        (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError),
        (status = 403, description = "`admin_required`, `account_disabled`", body = ApiError),
        (status = 404, description = "`account_not_found`", body = ApiError),
    ))]
async fn make_recovery_link(
    State(engine): State<Engine>,
    admin: AdminCaller,
    ApiJson(body): ApiJson<RecoveryLinkRequest>,
) -> Result<(StatusCode, Json<RecoveryLinkAnswer>), Error> {
    let now = now();
    let actor = admin.actor(&engine, now).await?;
    let user = account_of(&engine.accounts, &body.email).await?;
    let ttl = body.ttl_secs.map_or(recovery::DEFAULT_TTL, Duration::from_secs);
    let link = recovery::operator_link(&engine.accounts, &actor, &user.id, ttl, now).await?;
    Ok((StatusCode::CREATED, Json(RecoveryLinkAnswer { url: link.url, expires_at: link.expires_at })))
}

/// A group.
#[derive(Serialize, ToSchema)]
struct Group {
    /// Its id (stays when it is renamed); a path takes the id or the name.
    id: String,
    /// Its name, as the `groups` claim carries it.
    name: String,
    /// What it is for.
    description: Option<String>,
    /// When it was made (RFC 3339).
    created_at: String,
    /// How many accounts are in it.
    members: i64,
}

impl From<GroupRow> for Group {
    fn from(group: GroupRow) -> Self {
        Self {
            id: group.id,
            name: group.name,
            description: group.description,
            created_at: rfc3339(group.created_at),
            members: group.members,
        }
    }
}

/// Every group, by name.
#[utoipa::path(get, path = "/admin/groups", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, description = "The groups", body = Vec<Group>),
        (status = 401, description = "`invalid_token`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
    ))]
async fn list_groups(State(engine): State<Engine>, _admin: AdminCaller) -> Result<Json<Vec<Group>>, Error> {
    Ok(Json(groups::list(&engine.accounts).await?.into_iter().map(Group::from).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewGroup {
    /// Lower-case letters, digits, `-` and `_`; 1 to 64, starting with a letter or digit.
    name: String,
    /// What it is for (at most 200 characters).
    description: Option<String>,
}

/// Make a group.
#[utoipa::path(post, path = "/admin/groups", tag = "admin", security(("bearer" = [])), request_body = NewGroup,
    responses(
        (status = 201, description = "The group", body = Group),
        (status = 400, description = "`invalid_group_name`, `invalid_request`", body = ApiError),
        (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
        (status = 409, description = "`group_exists`", body = ApiError),
    ))]
async fn create_group(
    State(engine): State<Engine>,
    admin: AdminCaller,
    ApiJson(body): ApiJson<NewGroup>,
) -> Result<(StatusCode, Json<Group>), Error> {
    let now = now();
    let actor = admin.actor(&engine, now).await?;
    let group = groups::create(&engine.accounts, &actor, &body.name, body.description.as_deref(), now).await?;
    Ok((StatusCode::CREATED, Json(group.into())))
}

/// A member of a group.
#[derive(Serialize, ToSchema)]
struct Member {
    /// The account's id.
    id: String,
    /// Its address.
    email: String,
    /// Its display name.
    name: Option<String>,
    /// When it was put in the group (RFC 3339).
    added_at: String,
}

impl From<MemberRow> for Member {
    fn from(member: MemberRow) -> Self {
        Self {
            id: member.user_id.to_string(),
            email: member.email,
            name: member.name,
            added_at: rfc3339(member.added_at),
        }
    }
}

/// A group with its members.
#[derive(Serialize, ToSchema)]
struct GroupDetail {
    #[serde(flatten)]
    group: Group,
    /// Its members, by address.
    member_list: Vec<Member>,
    /// Its custom claims, which its members' tokens carry.
    claims: Vec<ClaimItem>,
}

/// One group, with its members.
#[utoipa::path(get, path = "/admin/groups/{group}", tag = "admin", security(("bearer" = [])),
    params(("group" = String, Path, description = "The group's id or name")),
    responses(
        (status = 200, description = "The group", body = GroupDetail),
        (status = 401, description = "`invalid_token`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
        (status = 404, description = "`group_not_found`", body = ApiError),
    ))]
async fn get_group(
    State(engine): State<Engine>,
    _admin: AdminCaller,
    ApiPath(group): ApiPath<String>,
) -> Result<Json<GroupDetail>, Error> {
    let (group, members) = groups::members(&engine.accounts, &group).await?;
    let claims = claims::of(&engine.accounts, Whose::Group(&group.id)).await?;
    Ok(Json(GroupDetail {
        group: group.into(),
        member_list: members.into_iter().map(Member::from).collect(),
        claims: claims.into_iter().map(ClaimItem::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct GroupChange {
    /// A new name (apps that allow the group by name must be told).
    name: Option<String>,
    /// A new description (empty clears it).
    description: Option<String>,
}

/// Rename a group or describe it anew.
#[utoipa::path(patch, path = "/admin/groups/{group}", tag = "admin", security(("bearer" = [])),
    params(("group" = String, Path, description = "The group's id or name")), request_body = GroupChange,
    responses(
        (status = 200, description = "The group as it is now", body = Group),
        (status = 400, description = "`invalid_group_name`, `invalid_request`", body = ApiError),
        (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
        (status = 404, description = "`group_not_found`", body = ApiError),
        (status = 409, description = "`group_exists`", body = ApiError),
    ))]
async fn update_group(
    State(engine): State<Engine>,
    admin: AdminCaller,
    ApiPath(group): ApiPath<String>,
    ApiJson(body): ApiJson<GroupChange>,
) -> Result<Json<Group>, Error> {
    let now = now();
    let actor = admin.actor(&engine, now).await?;
    let (name, about) = (body.name.as_deref(), body.description.as_deref());
    Ok(Json(groups::update(&engine.accounts, &actor, &group, name, about, now).await?.into()))
}

/// Delete a group: its members leave it, and apps that allow only it refuse them at once.
#[utoipa::path(delete, path = "/admin/groups/{group}", tag = "admin", security(("bearer" = [])),
    params(("group" = String, Path, description = "The group's id or name")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
        (status = 404, description = "`group_not_found`", body = ApiError),
    ))]
async fn delete_group(
    State(engine): State<Engine>,
    admin: AdminCaller,
    ApiPath(group): ApiPath<String>,
) -> Result<StatusCode, Error> {
    let now = now();
    let actor = admin.actor(&engine, now).await?;
    groups::delete(&engine.accounts, &actor, &group, now).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewMember {
    /// The account's id.
    user_id: String,
}

/// Put an account in a group (`204` whether it was already in it or not).
#[utoipa::path(post, path = "/admin/groups/{group}/members", tag = "admin", security(("bearer" = [])),
    params(("group" = String, Path, description = "The group's id or name")), request_body = NewMember,
    responses(
        (status = 204, description = "The account is in the group"),
        (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
        (status = 404, description = "`group_not_found`, `account_not_found`", body = ApiError),
    ))]
async fn add_member(
    State(engine): State<Engine>,
    admin: AdminCaller,
    ApiPath(group): ApiPath<String>,
    ApiJson(body): ApiJson<NewMember>,
) -> Result<StatusCode, Error> {
    let (user, now) = (user_id(&body.user_id), now());
    let actor = admin.actor(&engine, now).await?;
    groups::add(&engine.accounts, &actor, &group, &user, now).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take an account out of a group: an app that allows only that group refuses its next sign-in and
/// refresh (`204` whether it was in it or not).
#[utoipa::path(delete, path = "/admin/groups/{group}/members/{id}", tag = "admin", security(("bearer" = [])),
    params(
        ("group" = String, Path, description = "The group's id or name"),
        ("id" = String, Path, description = "The account's id"),
    ),
    responses(
        (status = 204, description = "The account is not in the group"),
        (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
        (status = 404, description = "`group_not_found`, `account_not_found`", body = ApiError),
    ))]
async fn remove_member(
    State(engine): State<Engine>,
    admin: AdminCaller,
    ApiPath((group, id)): ApiPath<(String, String)>,
) -> Result<StatusCode, Error> {
    let (user, now) = (user_id(&id), now());
    let actor = admin.actor(&engine, now).await?;
    groups::remove(&engine.accounts, &actor, &group, &user, now).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A custom claim.
#[derive(Serialize, ToSchema)]
struct ClaimItem {
    /// Its name in the tokens.
    name: String,
    /// Its value (any JSON but `null`).
    #[schema(value_type = Object)]
    value: serde_json::Value,
    /// The scope that releases it: `profile`, `email` or `groups`.
    scope: String,
}

impl From<Claim> for ClaimItem {
    fn from(claim: Claim) -> Self {
        Self { name: claim.name, value: claim.value, scope: claim.scope }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ClaimValue {
    /// Any JSON but `null`, at most 2048 bytes written out.
    #[schema(value_type = Object)]
    value: serde_json::Value,
    /// The scope that releases it: `profile` (the default), `email` or `groups`.
    scope: Option<String>,
}

/// Set a custom claim on a group: its members' ID tokens and userinfo carry it for apps granted
/// its scope (an account's own claim of the same name wins).
#[utoipa::path(put, path = "/admin/groups/{group}/claims/{name}", tag = "admin", security(("bearer" = [])),
    params(
        ("group" = String, Path, description = "The group's id or name"),
        ("name" = String, Path, description = "The claim's name"),
    ),
    request_body = ClaimValue,
    responses(
        (status = 200, description = "The claim", body = ClaimItem),
        (status = 400, description = "`invalid_claim` (a reserved or malformed name, a null or too long value, another scope), `invalid_request`", body = ApiError),
        (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
        (status = 404, description = "`group_not_found`", body = ApiError),
    ))]
async fn set_group_claim(
    State(engine): State<Engine>,
    admin: AdminCaller,
    ApiPath((group, name)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<ClaimValue>,
) -> Result<Json<ClaimItem>, Error> {
    let now = now();
    let actor = admin.actor(&engine, now).await?;
    let whose = Whose::Group(&group);
    let claim = claims::set(&engine.accounts, &actor, whose, &name, &body.value, body.scope.as_deref(), now).await?;
    Ok(Json(claim.into()))
}

/// Remove a custom claim from a group (`204` whether it had it or not).
#[utoipa::path(delete, path = "/admin/groups/{group}/claims/{name}", tag = "admin", security(("bearer" = [])),
    params(
        ("group" = String, Path, description = "The group's id or name"),
        ("name" = String, Path, description = "The claim's name"),
    ),
    responses(
        (status = 204, description = "The group has no such claim"),
        (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
        (status = 404, description = "`group_not_found`", body = ApiError),
    ))]
async fn remove_group_claim(
    State(engine): State<Engine>,
    admin: AdminCaller,
    ApiPath((group, name)): ApiPath<(String, String)>,
) -> Result<StatusCode, Error> {
    let now = now();
    let actor = admin.actor(&engine, now).await?;
    claims::remove(&engine.accounts, &actor, Whose::Group(&group), &name, now).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set a custom claim on an account: its ID tokens and userinfo carry it for apps granted its scope,
/// over a group's claim of the same name.
#[utoipa::path(put, path = "/admin/users/{id}/claims/{name}", tag = "admin", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The account's id"),
        ("name" = String, Path, description = "The claim's name"),
    ),
    request_body = ClaimValue,
    responses(
        (status = 200, description = "The claim", body = ClaimItem),
        (status = 400, description = "`invalid_claim` (a reserved or malformed name, a null or too long value, another scope), `invalid_request`", body = ApiError),
        (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
        (status = 404, description = "`account_not_found`", body = ApiError),
    ))]
async fn set_user_claim(
    State(engine): State<Engine>,
    admin: AdminCaller,
    ApiPath((id, name)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<ClaimValue>,
) -> Result<Json<ClaimItem>, Error> {
    let (id, now) = (user_id(&id), now());
    let actor = admin.actor(&engine, now).await?;
    let whose = Whose::User(&id);
    let claim = claims::set(&engine.accounts, &actor, whose, &name, &body.value, body.scope.as_deref(), now).await?;
    Ok(Json(claim.into()))
}

/// Remove a custom claim from an account (`204` whether it had it or not).
#[utoipa::path(delete, path = "/admin/users/{id}/claims/{name}", tag = "admin", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The account's id"),
        ("name" = String, Path, description = "The claim's name"),
    ),
    responses(
        (status = 204, description = "The account has no such claim"),
        (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
        (status = 404, description = "`account_not_found`", body = ApiError),
    ))]
async fn remove_user_claim(
    State(engine): State<Engine>,
    admin: AdminCaller,
    ApiPath((id, name)): ApiPath<(String, String)>,
) -> Result<StatusCode, Error> {
    let (id, now) = (user_id(&id), now());
    let actor = admin.actor(&engine, now).await?;
    claims::remove(&engine.accounts, &actor, Whose::User(&id), &name, now).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
struct PageQuery {
    /// Where the page starts: `next_cursor` of the page before.
    cursor: Option<String>,
    /// At most this many (1 to 100; 50).
    limit: Option<u32>,
}

/// A page of invitations.
#[derive(Serialize, ToSchema)]
struct InvitationsPage {
    /// Newest first.
    invitations: Vec<InvitationItem>,
    /// The cursor of the next page; absent on the last.
    next_cursor: Option<String>,
}

/// Invitations, newest first, with whether each is pending, used, revoked or expired.
#[utoipa::path(get, path = "/admin/invitations", tag = "admin", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "A page of invitations", body = InvitationsPage),
        (status = 400, description = "`invalid_cursor`, `invalid_request`", body = ApiError),
        (status = 401, description = "`invalid_token`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
    ))]
async fn list_invitations(
    State(engine): State<Engine>,
    _admin: AdminCaller,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<InvitationsPage>, Error> {
    let limit = page_size(query.limit)?;
    let start = position(&engine, "invitations", query.cursor.as_deref())?;
    let before = match &start {
        Some(at) => {
            let (when, id) = at.split_once(' ').ok_or(Error::InvalidCursor)?;
            Some((when.parse::<i64>().map_err(|_| Error::InvalidCursor)?, id))
        }
        None => None,
    };
    let mut rows = invitations::page(&engine.accounts, before, limit + 1, now()).await?;
    let next_cursor = page_end(&mut rows, limit)
        .and_then(|(last, created)| cursor(&engine, "invitations", &format!("{created} {}", last.id)));
    let invitations = rows.into_iter().map(|(invitation, _)| invitation).collect();
    Ok(Json(InvitationsPage { invitations, next_cursor }))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
struct NewInvitation {
    /// The one address that may use it (mailed to it when mail is on); any address without.
    email: Option<String>,
    /// The groups its account joins (names).
    #[serde(default)]
    groups: Vec<String>,
    /// Make its account an administrator.
    #[serde(default)]
    admin: bool,
    /// How long it works, in seconds (at most 30 days; 7 days by default).
    ttl_secs: Option<u64>,
}

/// An invitation just made.
#[derive(Serialize, ToSchema)]
struct MadeInvitation {
    /// Its id, to revoke it.
    id: String,
    /// The link that opens sign-up with it (shown once: only its hash is kept).
    url: String,
    /// The one address that may use it.
    email: Option<String>,
    /// Whether it was mailed.
    mailed: bool,
    /// The groups its account joins.
    groups: Vec<String>,
    /// Whether its account is made an administrator.
    admin: bool,
    /// Until when it works (RFC 3339).
    expires_at: String,
}

/// Make an invitation: a single-use link that makes an account whatever `LATCHKEY_SIGN_UP` says.
#[utoipa::path(post, path = "/admin/invitations", tag = "admin", security(("bearer" = [])),
    request_body = NewInvitation,
    responses(
        (status = 201, description = "The invitation, with its link", body = MadeInvitation),
        (status = 400, description = "`invalid_email`, `invalid_group_name`, `invalid_request` (a ttl over 30 days)", body = ApiError),
        (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
        (status = 404, description = "`group_not_found`", body = ApiError),
        (status = 409, description = "`email_taken`", body = ApiError),
    ))]
async fn create_invitation(
    State(engine): State<Engine>,
    admin: AdminCaller,
    ApiJson(body): ApiJson<NewInvitation>,
) -> Result<(StatusCode, Json<MadeInvitation>), Error> {
    let now = now();
    let actor = admin.actor(&engine, now).await?;
    let ttl = body.ttl_secs.map_or(invitations::DEFAULT_TTL, Duration::from_secs);
    let what = invitations::Invite { email: body.email.as_deref(), groups: &body.groups, admin: body.admin, ttl };
    let made = invitations::invite(&engine.accounts, &actor, &what, now).await?;
    let made = MadeInvitation {
        id: made.id,
        url: made.url,
        email: made.email,
        mailed: made.mailed,
        groups: made.groups,
        admin: made.admin,
        expires_at: made.expires_at,
    };
    Ok((StatusCode::CREATED, Json(made)))
}

/// Withdraw an unused invitation: its link stops working.
#[utoipa::path(delete, path = "/admin/invitations/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "The invitation's id")),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 400, description = "`invalid_invitation` (none unused has this id)", body = ApiError),
        (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
    ))]
async fn revoke_invitation(
    State(engine): State<Engine>,
    admin: AdminCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, Error> {
    let now = now();
    let actor = admin.actor(&engine, now).await?;
    invitations::revoke(&engine.accounts, &actor, &id, now).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One administrative action.
#[derive(Serialize, ToSchema)]
struct AuditEntry {
    /// Its id.
    id: String,
    /// When (RFC 3339).
    at: String,
    /// `operator` (the command line), `token` (`LATCHKEY_ADMIN_TOKEN`), `invitation` (an invitation
    /// that made its account an administrator) or the administrator's account id.
    actor: String,
    /// The administrator's address then.
    actor_email: Option<String>,
    /// What was done: `account_disabled`, `account_enabled`, `admin_granted`, `admin_revoked`,
    /// `account_renamed`, `account_deleted`, `recovery_link_made`, `group_created`,
    /// `group_updated`, `group_deleted`, `member_added`, `member_removed`, `invitation_made`,
    /// `invitation_revoked`, `claim_set`, `claim_removed`, `app_created`, `app_updated`,
    /// `app_secret_rotated`, `app_deleted`.
    action: String,
    /// The account it concerns.
    user_id: Option<String>,
    /// That account's address then.
    user_email: Option<String>,
    /// A group's name, an invitation's id.
    subject: Option<String>,
    /// What else it says.
    detail: Option<String>,
    /// Where the request came from (none from the command line).
    address: Option<String>,
}

impl From<AuditRow> for AuditEntry {
    fn from(row: AuditRow) -> Self {
        Self {
            id: row.id,
            at: rfc3339(row.at),
            actor: row.actor,
            actor_email: row.actor_email,
            action: row.action,
            user_id: row.user_id,
            user_email: row.user_email,
            subject: row.subject,
            detail: row.detail,
            address: row.address,
        }
    }
}

/// A page of the record.
#[derive(Serialize, ToSchema)]
struct AuditPage {
    /// Newest first.
    entries: Vec<AuditEntry>,
    /// The cursor of the next page; absent on the last.
    next_cursor: Option<String>,
}

/// The administrators' record: every administrative action, newest first.
#[utoipa::path(get, path = "/admin/audit", tag = "admin", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "A page of the record", body = AuditPage),
        (status = 400, description = "`invalid_cursor`, `invalid_request`", body = ApiError),
        (status = 401, description = "`invalid_token`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
    ))]
async fn list_audit(
    State(engine): State<Engine>,
    _admin: AdminCaller,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<AuditPage>, Error> {
    let limit = page_size(query.limit)?;
    let before = position(&engine, "audit", query.cursor.as_deref())?;
    let mut rows = admin_audit::page(&engine.db, before.as_deref(), limit + 1).await?;
    let next_cursor = page_end(&mut rows, limit).and_then(|last| cursor(&engine, "audit", &last.id));
    let entries = rows.into_iter().map(AuditEntry::from).collect();
    Ok(Json(AuditPage { entries, next_cursor }))
}
