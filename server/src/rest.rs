//! The REST API of docs/api.md: each handler extracts, calls one engine function, and answers.
//! Each handler's `#[utoipa::path]` describes it in the OpenAPI document (`/openapi.json`), and the
//! router is built from those descriptions (`routes!`), so a route cannot exist undocumented.

use axum::extract::{FromRef, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Json;
use engine::accounts::{self, verification};
use engine::base::clock::now;
use engine::base::types::{Caller, ClientAddr, CredentialId, SignInId};
use engine::http::extract::{ApiJson, ApiPath, ApiQuery, BearerUser, OptionalJson};
use engine::notify::activity;
use engine::passkeys::ceremony::{PublicKeyCredential, RegisterPublicKeyCredential};
use engine::passkeys::{ceremony, manage as passkeys};
use engine::sign_in::{self, Which};
use engine::{Engine, Error};
use proto::{ActivityItem, ApiError, PasskeyItem, RegisteredPasskey, SignInItem, TokenPair, UserInfo};
use serde::Deserialize;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes with their OpenAPI descriptions, for any router state the [`Engine`] can be taken from.
pub fn routes<S>() -> OpenApiRouter<S>
where
    Engine: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    // Tokens and account data must never be cached (RFC 6749 §5.1).
    let no_store = SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(me, delete_me))
        .routes(routes!(set_password, remove_password))
        .routes(routes!(list_activity))
        .routes(routes!(change_email))
        .routes(routes!(send_verification))
        .routes(routes!(verify_email))
        .routes(routes!(verify_email_code))
        .routes(routes!(list_sign_ins))
        .routes(routes!(end_other_sign_ins))
        .routes(routes!(end_sign_in))
        .routes(routes!(list_sessions))
        .routes(routes!(end_other_sessions))
        .routes(routes!(end_session))
        // GET too: the seed's own client example calls it with a plain `fetch(url, { headers })`.
        .routes(routes!(register_begin, register_begin_by_get))
        .routes(routes!(register_complete))
        .routes(routes!(list_passkeys))
        .routes(routes!(rename_passkey, delete_passkey))
        .routes(routes!(authenticate_begin))
        .routes(routes!(authenticate_complete))
        .layer(no_store)
}

#[derive(Deserialize, ToSchema)]
struct RegisterRequest {
    email: String,
    password: String,
    name: Option<String>,
    /// The token of an invitation (the `invitation` of its link), where sign-up needs one.
    invitation: Option<String>,
}

/// `DELETE /auth/me`: the account's email, typed again to confirm.
#[derive(Deserialize, ToSchema)]
struct DeleteAccountRequest {
    email: String,
}

/// `PUT /auth/password`: the new password.
#[derive(Deserialize, ToSchema)]
struct PasswordRequest {
    password: String,
}

/// `POST /auth/email/verify`: the token of the mailed link.
#[derive(Deserialize, ToSchema)]
struct VerifyEmailRequest {
    token: String,
}

/// `POST /auth/email/verify-code`: the mailed code.
#[derive(Deserialize, ToSchema)]
struct VerifyCodeRequest {
    code: String,
}

#[derive(Deserialize, ToSchema)]
struct LoginRequest {
    email: String,
    password: String,
}

#[derive(Deserialize, ToSchema)]
struct RefreshRequest {
    refresh_token: String,
}

/// register/begin takes no fields; `{}` and an empty body are both fine.
#[derive(Deserialize, Default)]
struct Empty {}

#[derive(Deserialize, ToSchema)]
struct RegisterCompleteRequest {
    /// The browser's `PublicKeyCredential` in its JSON form (`toJSON()`, or @simplewebauthn/browser's
    /// `startRegistration` result).
    #[schema(value_type = Object)]
    credential: RegisterPublicKeyCredential,
    name: Option<String>,
}

#[derive(Deserialize, ToSchema)]
struct RenameRequest {
    name: String,
}

#[derive(Deserialize, ToSchema, Default)]
struct AuthenticateBeginRequest {
    email: Option<String>,
}

#[derive(Deserialize, ToSchema)]
struct AuthenticateCompleteRequest {
    /// The browser's assertion in its JSON form (`toJSON()`, or `startAuthentication`'s result).
    #[schema(value_type = Object)]
    credential: PublicKeyCredential,
}

/// Create an account with an email and a password; it is signed in.
#[utoipa::path(post, path = "/auth/register", tag = "password", request_body = RegisterRequest, responses((status = 201, description = "The new account's first token pair", body = TokenPair), (status = 400, description = "`invalid_email`, `invalid_password`, `common_password`, `invalid_name`, `invalid_invitation`", body = ApiError), (status = 403, description = "`sign_up_closed`, `invitation_required`, `email_domain_not_allowed` (the operator's sign-up rule)", body = ApiError), (status = 409, description = "`email_taken`", body = ApiError), (status = 429, description = "`rate_limited`", body = ApiError)))]
async fn register(
    State(engine): State<Engine>,
    caller: Caller,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<TokenPair>), Error> {
    let (name, invitation) = (body.name.as_deref(), body.invitation.as_deref());
    let pair =
        accounts::register(&engine.accounts, &body.email, &body.password, name, invitation, &caller, now()).await?;
    Ok((StatusCode::CREATED, Json(pair)))
}

/// Sign in with the email and password.
#[utoipa::path(post, path = "/auth/login", tag = "password", request_body = LoginRequest, responses((status = 200, description = "A new sign-in's first token pair", body = TokenPair), (status = 401, description = "`invalid_credentials`", body = ApiError), (status = 429, description = "`too_many_attempts` (the password lockout), `rate_limited`", body = ApiError)))]
async fn login(
    State(engine): State<Engine>,
    caller: Caller,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<TokenPair>, Error> {
    accounts::login(&engine.accounts, &body.email, &body.password, &caller, now()).await.map(Json)
}

/// Exchange a refresh token (once) for the next token pair of its sign-in.
#[utoipa::path(post, path = "/auth/refresh", tag = "tokens", request_body = RefreshRequest, responses((status = 200, description = "The next token pair", body = TokenPair), (status = 401, description = "`invalid_refresh_token` (unknown, used, expired or ended; a used one ends its sign-in)", body = ApiError), (status = 429, description = "`rate_limited`", body = ApiError)))]
async fn refresh(
    State(engine): State<Engine>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Json<TokenPair>, Error> {
    let max_age = engine.sign_ins.max_age;
    sign_in::refresh::rotate(&engine.db, &engine.tokens, &body.refresh_token, max_age, now()).await.map(Json)
}

/// End this sign-in: its refresh tokens stop working.
#[utoipa::path(post, path = "/auth/logout", tag = "tokens", security(("bearer" = [])), responses((status = 204, description = "Ended"), (status = 401, description = "`invalid_token`", body = ApiError)))]
async fn logout(State(engine): State<Engine>, user: BearerUser) -> Result<StatusCode, Error> {
    sign_in::end(&engine.db, Which::One(user.sign_in()), now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in account.
#[utoipa::path(get, path = "/auth/me", tag = "account", security(("bearer" = [])), responses((status = 200, description = "The account", body = UserInfo), (status = 401, description = "`invalid_token`", body = ApiError)))]
async fn me(State(engine): State<Engine>, user: BearerUser) -> Result<Json<UserInfo>, Error> {
    accounts::me(&engine.accounts, user.id()).await.map(Json)
}

/// Registration step 1: creation options for a new passkey (needs a recent sign-in).
#[utoipa::path(post, path = "/auth/passkeys/register/begin", tag = "passkeys", security(("bearer" = [])), responses((status = 200, description = "`PublicKeyCredentialCreationOptionsJSON`, for `navigator.credentials.create` (or @simplewebauthn/browser's `startRegistration`)", body = Object), (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError), (status = 409, description = "`too_many_passkeys`", body = ApiError), (status = 429, description = "`rate_limited`", body = ApiError), (status = 503, description = "`service_unavailable` (the ceremony store)", body = ApiError)))]
async fn register_begin(
    State(engine): State<Engine>,
    user: BearerUser,
    _: OptionalJson<Empty>,
) -> Result<Json<serde_json::Value>, Error> {
    let recent = user.recent(&engine, now()).await?;
    ceremony::start_registration(&engine.relying_party, user.id(), Error::InvalidToken, &recent).await.map(Json)
}

/// Registration step 3: verify the authenticator's answer and store the passkey.
#[utoipa::path(post, path = "/auth/passkeys/register/complete", tag = "passkeys", security(("bearer" = [])), request_body = RegisterCompleteRequest, responses((status = 201, description = "The new passkey", body = RegisteredPasskey), (status = 400, description = "`registration_failed`, `ceremony_expired`, `invalid_name`", body = ApiError), (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError), (status = 409, description = "`credential_exists`", body = ApiError), (status = 503, description = "`service_unavailable`", body = ApiError)))]
async fn register_complete(
    State(engine): State<Engine>,
    user: BearerUser,
    caller: Caller,
    ApiJson(body): ApiJson<RegisterCompleteRequest>,
) -> Result<(StatusCode, Json<RegisteredPasskey>), Error> {
    let recent = user.recent(&engine, now()).await?;
    let (credential, name) = (&body.credential, body.name.as_deref());
    let item =
        ceremony::finish_registration(&engine.relying_party, user.id(), credential, name, &caller, &recent, now())
            .await?;
    Ok((StatusCode::CREATED, Json(RegisteredPasskey { id: item.id, name: item.name, created_at: item.created_at })))
}

/// Registration step 1, for clients that fetch it with GET.
#[utoipa::path(get, path = "/auth/passkeys/register/begin", tag = "passkeys", security(("bearer" = [])), responses((status = 200, description = "As the POST answers", body = Object), (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError), (status = 409, description = "`too_many_passkeys`", body = ApiError)))]
async fn register_begin_by_get(
    state: State<Engine>,
    user: BearerUser,
    body: OptionalJson<Empty>,
) -> Result<Json<serde_json::Value>, Error> {
    register_begin(state, user, body).await
}

/// The account's passkeys.
#[utoipa::path(get, path = "/auth/passkeys", tag = "passkeys", security(("bearer" = [])), responses((status = 200, description = "Passkeys, oldest first", body = Vec<PasskeyItem>), (status = 401, description = "`invalid_token`", body = ApiError)))]
async fn list_passkeys(State(engine): State<Engine>, user: BearerUser) -> Result<Json<Vec<PasskeyItem>>, Error> {
    passkeys::list_passkeys(&engine.relying_party, user.id()).await.map(Json)
}

/// Rename a passkey.
#[utoipa::path(patch, path = "/auth/passkeys/{id}", tag = "passkeys", security(("bearer" = [])), params(("id" = String, Path, description = "The credential ID, base64url")), request_body = RenameRequest, responses((status = 200, description = "The passkey", body = PasskeyItem), (status = 400, description = "`invalid_name`", body = ApiError), (status = 401, description = "`invalid_token`", body = ApiError), (status = 404, description = "`passkey_not_found`", body = ApiError)))]
async fn rename_passkey(
    State(engine): State<Engine>,
    user: BearerUser,
    caller: Caller,
    ApiPath(id): ApiPath<CredentialId>,
    ApiJson(body): ApiJson<RenameRequest>,
) -> Result<Json<PasskeyItem>, Error> {
    passkeys::rename_passkey(&engine.relying_party, user.id(), &id, &body.name, &caller, now()).await.map(Json)
}

/// Delete the account, with its passkeys, sign-ins, tokens and activity (needs a recent sign-in).
#[utoipa::path(delete, path = "/auth/me", tag = "account", security(("bearer" = [])), request_body = DeleteAccountRequest, responses((status = 204, description = "Deleted"), (status = 400, description = "`invalid_request` (no email, or another one)", body = ApiError), (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError)))]
async fn delete_me(
    State(engine): State<Engine>,
    user: BearerUser,
    ApiJson(body): ApiJson<DeleteAccountRequest>,
) -> Result<StatusCode, Error> {
    let recent = user.recent(&engine, now()).await?;
    accounts::delete_account(&engine.accounts, user.id(), &body.email, &recent, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set the password (add one, or change it); every other sign-in ends (needs a recent sign-in).
#[utoipa::path(put, path = "/auth/password", tag = "password", security(("bearer" = [])), request_body = PasswordRequest, responses((status = 204, description = "Set"), (status = 400, description = "`invalid_password`, `common_password`", body = ApiError), (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError)))]
async fn set_password(
    State(engine): State<Engine>,
    user: BearerUser,
    caller: Caller,
    ApiJson(body): ApiJson<PasswordRequest>,
) -> Result<StatusCode, Error> {
    let recent = user.recent(&engine, now()).await?;
    accounts::set_password(&engine.accounts, user.id(), &body.password, &caller, &recent, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove the password while a passkey remains; every other sign-in ends (needs a recent sign-in).
#[utoipa::path(delete, path = "/auth/password", tag = "password", security(("bearer" = [])), responses((status = 204, description = "Removed"), (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError), (status = 404, description = "`password_not_set`", body = ApiError), (status = 409, description = "`password_only_way_in`", body = ApiError)))]
async fn remove_password(State(engine): State<Engine>, user: BearerUser, caller: Caller) -> Result<StatusCode, Error> {
    let recent = user.recent(&engine, now()).await?;
    accounts::remove_password(&engine.accounts, user.id(), &caller, &recent, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /auth/email`: the new address; the account moves to it once it is confirmed.
#[derive(Deserialize, ToSchema)]
struct ChangeEmailRequest {
    email: String,
}

/// Move the account to a new email address once a link mailed to it is followed (needs a recent sign-in).
#[utoipa::path(put, path = "/auth/email", tag = "email", security(("bearer" = [])), request_body = ChangeEmailRequest, responses((status = 202, description = "The link is on its way; nothing changes until it is followed"), (status = 400, description = "`invalid_email`", body = ApiError), (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError), (status = 403, description = "`email_domain_not_allowed` (an address outside the domains accounts are for)", body = ApiError), (status = 429, description = "`rate_limited` (one mail a minute, five a day)", body = ApiError), (status = 409, description = "`email_taken`, `email_disabled` (no mail server)", body = ApiError), (status = 503, description = "`service_unavailable`", body = ApiError)))]
async fn change_email(
    State(engine): State<Engine>,
    user: BearerUser,
    caller: Caller,
    ApiJson(body): ApiJson<ChangeEmailRequest>,
) -> Result<StatusCode, Error> {
    let recent = user.recent(&engine, now()).await?;
    let account = accounts::find_user(&engine.db, user.id(), Error::InvalidToken).await?;
    verification::start_change(&engine.accounts, &account, &body.email, &caller, &recent, now()).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Mail the account's address a new verification link and code.
#[utoipa::path(post, path = "/auth/email/verification", tag = "email", security(("bearer" = [])), responses((status = 202, description = "Mailed"), (status = 401, description = "`invalid_token`", body = ApiError), (status = 429, description = "`rate_limited` (one mail a minute, five a day)", body = ApiError), (status = 409, description = "`email_disabled` (no mail server)", body = ApiError)))]
async fn send_verification(State(engine): State<Engine>, user: BearerUser) -> Result<StatusCode, Error> {
    let account = accounts::find_user(&engine.db, user.id(), Error::InvalidToken).await?;
    verification::resend(&engine.accounts, &account, now()).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Confirm an email address with the token of its mailed link.
#[utoipa::path(post, path = "/auth/email/verify", tag = "email", request_body = VerifyEmailRequest, responses((status = 204, description = "Confirmed"), (status = 400, description = "`invalid_verification` (unknown, used or expired)", body = ApiError), (status = 401, description = "`sign_in_required`: where accounts are for some domains, a new account confirms its address with the code (verify-code) or in a browser signed in to it", body = ApiError)))]
async fn verify_email(
    State(engine): State<Engine>,
    ApiJson(body): ApiJson<VerifyEmailRequest>,
) -> Result<StatusCode, Error> {
    verification::confirm_link(&engine.accounts, &body.token, None, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Confirm the account's email address with its mailed eight-digit code.
#[utoipa::path(post, path = "/auth/email/verify-code", tag = "email", security(("bearer" = [])), request_body = VerifyCodeRequest, responses((status = 204, description = "Confirmed"), (status = 400, description = "`invalid_verification` (wrong, used or expired; five tries)", body = ApiError), (status = 401, description = "`invalid_token`", body = ApiError)))]
async fn verify_email_code(
    State(engine): State<Engine>,
    user: BearerUser,
    ApiJson(body): ApiJson<VerifyCodeRequest>,
) -> Result<StatusCode, Error> {
    verification::confirm_code(&engine.accounts, user.id(), &body.code, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The account's newest 30 security events, newest first.
#[utoipa::path(get, path = "/auth/activity", tag = "account", security(("bearer" = [])), responses((status = 200, description = "Events", body = Vec<ActivityItem>), (status = 401, description = "`invalid_token`", body = ApiError)))]
async fn list_activity(State(engine): State<Engine>, user: BearerUser) -> Result<Json<Vec<ActivityItem>>, Error> {
    activity::recent(&engine.db, user.id()).await.map(Json)
}

/// The account's sign-ins that have not ended: browsers, programs and apps.
#[utoipa::path(get, path = "/auth/sign-ins", tag = "sign-ins", security(("bearer" = [])), responses((status = 200, description = "Sign-ins, this one marked `current`", body = Vec<SignInItem>), (status = 401, description = "`invalid_token`", body = ApiError)))]
async fn list_sign_ins(State(engine): State<Engine>, user: BearerUser) -> Result<Json<Vec<SignInItem>>, Error> {
    sign_in::list::of_user(&engine.sign_ins, user.id(), Some(user.sign_in()), now()).await.map(Json)
}

/// End one of the account's sign-ins.
#[utoipa::path(delete, path = "/auth/sign-ins/{id}", tag = "sign-ins", security(("bearer" = [])), params(("id" = String, Path, description = "The sign-in's id, from the list")), responses((status = 204, description = "Ended"), (status = 401, description = "`invalid_token`", body = ApiError), (status = 404, description = "`sign_in_not_found`", body = ApiError)))]
async fn end_sign_in(
    State(engine): State<Engine>,
    user: BearerUser,
    caller: Caller,
    ApiPath(id): ApiPath<SignInId>,
) -> Result<StatusCode, Error> {
    sign_in::list::end_one(&engine.sign_ins, user.id(), &id, &caller, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// End every sign-in of the account but this one.
#[utoipa::path(delete, path = "/auth/sign-ins/others", tag = "sign-ins", security(("bearer" = [])), responses((status = 204, description = "Ended"), (status = 401, description = "`invalid_token`", body = ApiError)))]
async fn end_other_sign_ins(
    State(engine): State<Engine>,
    user: BearerUser,
    caller: Caller,
) -> Result<StatusCode, Error> {
    sign_in::list::end_others(&engine.sign_ins, user.id(), user.sign_in(), &caller, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /auth/sign-ins` under the path it had first, kept for clients written against it.
#[utoipa::path(get, path = "/auth/sessions", tag = "sign-ins", security(("bearer" = [])), responses((status = 200, description = "The same as `GET /auth/sign-ins`", body = Vec<SignInItem>), (status = 401, description = "`invalid_token`", body = ApiError)))]
async fn list_sessions(engine: State<Engine>, user: BearerUser) -> Result<Json<Vec<SignInItem>>, Error> {
    list_sign_ins(engine, user).await
}

/// `DELETE /auth/sign-ins/{id}` under the path it had first.
#[utoipa::path(delete, path = "/auth/sessions/{id}", tag = "sign-ins", security(("bearer" = [])), params(("id" = String, Path, description = "The sign-in's id, from the list")), responses((status = 204, description = "The same as `DELETE /auth/sign-ins/{id}`"), (status = 401, description = "`invalid_token`", body = ApiError), (status = 404, description = "`sign_in_not_found`", body = ApiError)))]
async fn end_session(
    engine: State<Engine>,
    user: BearerUser,
    caller: Caller,
    id: ApiPath<SignInId>,
) -> Result<StatusCode, Error> {
    end_sign_in(engine, user, caller, id).await
}

/// `DELETE /auth/sign-ins/others` under the path it had first.
#[utoipa::path(delete, path = "/auth/sessions/others", tag = "sign-ins", security(("bearer" = [])), responses((status = 204, description = "The same as `DELETE /auth/sign-ins/others`"), (status = 401, description = "`invalid_token`", body = ApiError)))]
async fn end_other_sessions(engine: State<Engine>, user: BearerUser, caller: Caller) -> Result<StatusCode, Error> {
    end_other_sign_ins(engine, user, caller).await
}

/// `?end_sign_ins=false` keeps the sign-ins made with the passkey; by default they end.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DeletePasskeyQuery {
    /// Whether the sign-ins made with the passkey end too (default `true`).
    #[serde(default = "yes")]
    end_sign_ins: bool,
}

fn yes() -> bool {
    true
}

/// Delete a passkey, and by default end the sign-ins made with it (needs a recent sign-in).
#[utoipa::path(delete, path = "/auth/passkeys/{id}", tag = "passkeys", security(("bearer" = [])), params(("id" = String, Path, description = "The credential ID, base64url"), DeletePasskeyQuery), responses((status = 204, description = "Deleted"), (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError), (status = 404, description = "`passkey_not_found`", body = ApiError), (status = 409, description = "`last_passkey` (the account has no password)", body = ApiError)))]
async fn delete_passkey(
    State(engine): State<Engine>,
    user: BearerUser,
    caller: Caller,
    ApiPath(id): ApiPath<CredentialId>,
    ApiQuery(query): ApiQuery<DeletePasskeyQuery>,
) -> Result<StatusCode, Error> {
    let recent = user.recent(&engine, now()).await?;
    passkeys::delete_passkey(&engine.relying_party, user.id(), &id, query.end_sign_ins, &caller, &recent, now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sign-in step 1: request options, for the email's passkeys when it has any, else for any passkey.
#[utoipa::path(post, path = "/auth/passkeys/authenticate/begin", tag = "passkeys", request_body(content = Option<AuthenticateBeginRequest>, description = "Optional; an empty body asks for any passkey (autofill)"), responses((status = 200, description = "`PublicKeyCredentialRequestOptionsJSON`, for `navigator.credentials.get` (or `startAuthentication`)", body = Object), (status = 400, description = "`invalid_email`", body = ApiError), (status = 429, description = "`rate_limited`", body = ApiError), (status = 503, description = "`service_unavailable`", body = ApiError)))]
async fn authenticate_begin(
    State(engine): State<Engine>,
    client: ClientAddr,
    OptionalJson(body): OptionalJson<AuthenticateBeginRequest>,
) -> Result<Json<serde_json::Value>, Error> {
    ceremony::start_authentication(&engine.relying_party, body.email.as_deref(), client).await.map(Json)
}

/// Sign-in step 3: verify the assertion; a new sign-in's first token pair.
#[utoipa::path(post, path = "/auth/passkeys/authenticate/complete", tag = "passkeys", request_body = AuthenticateCompleteRequest, responses((status = 200, description = "A new sign-in's first token pair", body = TokenPair), (status = 400, description = "`ceremony_expired`", body = ApiError), (status = 401, description = "`authentication_failed`, `unknown_credential`, `possible_cloned_authenticator`", body = ApiError), (status = 429, description = "`rate_limited`", body = ApiError), (status = 503, description = "`service_unavailable`", body = ApiError)))]
async fn authenticate_complete(
    State(engine): State<Engine>,
    caller: Caller,
    ApiJson(body): ApiJson<AuthenticateCompleteRequest>,
) -> Result<Json<TokenPair>, Error> {
    ceremony::finish_authentication(&engine.relying_party, &body.credential, &caller, now()).await.map(Json)
}
