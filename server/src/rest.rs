//! The REST API of docs/api.md: each handler extracts, calls one engine function, and answers.

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Json;
use axum::routing::{delete, get, patch, post, put};
use engine::ceremony::{PublicKeyCredential, RegisterPublicKeyCredential};
use engine::clock::now;
use engine::extract::{ApiJson, ApiPath, ApiQuery, BearerUser, OptionalJson};
use engine::types::{Caller, ClientAddr, CredentialId, SignInId};
use engine::{Engine, Error, accounts, activity, ceremony, passkeys, sign_ins, tokens, verification};
use proto::{ActivityItem, PasskeyItem, RegisteredPasskey, SignInItem, TokenPair, UserInfo};
use serde::Deserialize;
use tower_http::set_header::SetResponseHeaderLayer;

/// The routes, for any router state the [`Engine`] can be taken from.
pub fn routes<S>() -> Router<S>
where
    Engine: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    // Tokens and account data must never be cached (RFC 6749 §5.1).
    let no_store = SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/auth/me", get(me).delete(delete_me))
        .route("/auth/password", put(set_password).delete(remove_password))
        .route("/auth/activity", get(list_activity))
        .route("/auth/email", put(change_email))
        .route("/auth/email/verification", post(send_verification))
        .route("/auth/email/verify", post(verify_email))
        .route("/auth/email/verify-code", post(verify_email_code))
        .route("/auth/sessions", get(list_sign_ins))
        .route("/auth/sessions/others", delete(end_other_sign_ins))
        .route("/auth/sessions/{id}", delete(end_sign_in))
        // GET too: the seed's own client example calls it with a plain `fetch(url, { headers })`.
        .route("/auth/passkeys/register/begin", post(register_begin).get(register_begin))
        .route("/auth/passkeys/register/complete", post(register_complete))
        .route("/auth/passkeys", get(list_passkeys))
        .route("/auth/passkeys/{id}", patch(rename_passkey).delete(delete_passkey))
        .route("/auth/passkeys/authenticate/begin", post(authenticate_begin))
        .route("/auth/passkeys/authenticate/complete", post(authenticate_complete))
        .layer(no_store)
}

#[derive(Deserialize)]
struct RegisterRequest {
    email: String,
    password: String,
    name: Option<String>,
}

/// `DELETE /auth/me`: the account's email, typed again to confirm.
#[derive(Deserialize)]
struct DeleteAccountRequest {
    email: String,
}

/// `PUT /auth/password`: the new password.
#[derive(Deserialize)]
struct PasswordRequest {
    password: String,
}

/// `POST /auth/email/verify`: the token of the mailed link.
#[derive(Deserialize)]
struct VerifyEmailRequest {
    token: String,
}

/// `POST /auth/email/verify-code`: the mailed code.
#[derive(Deserialize)]
struct VerifyCodeRequest {
    code: String,
}

#[derive(Deserialize)]
struct LoginRequest {
    email: String,
    password: String,
}

#[derive(Deserialize)]
struct RefreshRequest {
    refresh_token: String,
}

/// register/begin takes no fields; `{}` and an empty body are both fine.
#[derive(Deserialize, Default)]
struct Empty {}

#[derive(Deserialize)]
struct RegisterCompleteRequest {
    credential: RegisterPublicKeyCredential,
    name: Option<String>,
}

#[derive(Deserialize)]
struct RenameRequest {
    name: String,
}

#[derive(Deserialize, Default)]
struct AuthenticateBeginRequest {
    email: Option<String>,
}

#[derive(Deserialize)]
struct AuthenticateCompleteRequest {
    credential: PublicKeyCredential,
}

async fn register(
    State(engine): State<Engine>,
    caller: Caller,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<TokenPair>), Error> {
    let pair = accounts::register(&engine, &body.email, &body.password, body.name.as_deref(), &caller, now()).await?;
    Ok((StatusCode::CREATED, Json(pair)))
}

async fn login(
    State(engine): State<Engine>,
    caller: Caller,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<TokenPair>, Error> {
    accounts::login(&engine, &body.email, &body.password, &caller, now()).await.map(Json)
}

async fn refresh(
    State(engine): State<Engine>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Json<TokenPair>, Error> {
    tokens::rotate_refresh_token(&engine.db, &engine.tokens, &body.refresh_token, now()).await.map(Json)
}

async fn logout(State(engine): State<Engine>, user: BearerUser) -> Result<StatusCode, Error> {
    tokens::end_sign_in(&engine.db, user.sign_in(), now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(State(engine): State<Engine>, user: BearerUser) -> Result<Json<UserInfo>, Error> {
    accounts::me(&engine, user.id()).await.map(Json)
}

async fn register_begin(
    State(engine): State<Engine>,
    user: BearerUser,
    _: OptionalJson<Empty>,
) -> Result<Json<serde_json::Value>, Error> {
    let recent = user.recent(&engine, now())?;
    ceremony::start_registration(&engine, user.id(), Error::InvalidToken, &recent).await.map(Json)
}

async fn register_complete(
    State(engine): State<Engine>,
    user: BearerUser,
    caller: Caller,
    ApiJson(body): ApiJson<RegisterCompleteRequest>,
) -> Result<(StatusCode, Json<RegisteredPasskey>), Error> {
    let recent = user.recent(&engine, now())?;
    let (credential, name) = (&body.credential, body.name.as_deref());
    let item = ceremony::finish_registration(&engine, user.id(), credential, name, &caller, &recent, now()).await?;
    Ok((StatusCode::CREATED, Json(RegisteredPasskey { id: item.id, name: item.name, created_at: item.created_at })))
}

async fn list_passkeys(State(engine): State<Engine>, user: BearerUser) -> Result<Json<Vec<PasskeyItem>>, Error> {
    passkeys::list_passkeys(&engine, user.id()).await.map(Json)
}

async fn rename_passkey(
    State(engine): State<Engine>,
    user: BearerUser,
    caller: Caller,
    ApiPath(id): ApiPath<CredentialId>,
    ApiJson(body): ApiJson<RenameRequest>,
) -> Result<Json<PasskeyItem>, Error> {
    passkeys::rename_passkey(&engine, user.id(), &id, &body.name, &caller, now()).await.map(Json)
}

async fn delete_me(
    State(engine): State<Engine>,
    user: BearerUser,
    ApiJson(body): ApiJson<DeleteAccountRequest>,
) -> Result<StatusCode, Error> {
    let recent = user.recent(&engine, now())?;
    accounts::delete_account(&engine, user.id(), &body.email, &recent).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_password(
    State(engine): State<Engine>,
    user: BearerUser,
    caller: Caller,
    ApiJson(body): ApiJson<PasswordRequest>,
) -> Result<StatusCode, Error> {
    let recent = user.recent(&engine, now())?;
    accounts::set_password(&engine, user.id(), &body.password, &caller, &recent, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_password(State(engine): State<Engine>, user: BearerUser, caller: Caller) -> Result<StatusCode, Error> {
    let recent = user.recent(&engine, now())?;
    accounts::remove_password(&engine, user.id(), &caller, &recent, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /auth/email`: the new address; the account moves to it once it is confirmed.
#[derive(Deserialize)]
struct ChangeEmailRequest {
    email: String,
}

async fn change_email(
    State(engine): State<Engine>,
    user: BearerUser,
    ApiJson(body): ApiJson<ChangeEmailRequest>,
) -> Result<StatusCode, Error> {
    let recent = user.recent(&engine, now())?;
    let account = accounts::find_user(&engine, user.id(), Error::InvalidToken).await?;
    verification::start_change(&engine, &account, &body.email, &recent, now()).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn send_verification(State(engine): State<Engine>, user: BearerUser) -> Result<StatusCode, Error> {
    let account = accounts::find_user(&engine, user.id(), Error::InvalidToken).await?;
    verification::resend(&engine, &account, now()).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn verify_email(
    State(engine): State<Engine>,
    ApiJson(body): ApiJson<VerifyEmailRequest>,
) -> Result<StatusCode, Error> {
    verification::confirm_link(&engine, &body.token, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn verify_email_code(
    State(engine): State<Engine>,
    user: BearerUser,
    ApiJson(body): ApiJson<VerifyCodeRequest>,
) -> Result<StatusCode, Error> {
    verification::confirm_code(&engine, user.id(), &body.code, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_activity(State(engine): State<Engine>, user: BearerUser) -> Result<Json<Vec<ActivityItem>>, Error> {
    activity::recent(&engine, user.id()).await.map(Json)
}

async fn list_sign_ins(State(engine): State<Engine>, user: BearerUser) -> Result<Json<Vec<SignInItem>>, Error> {
    sign_ins::list(&engine, user.id(), user.sign_in(), now()).await.map(Json)
}

async fn end_sign_in(
    State(engine): State<Engine>,
    user: BearerUser,
    caller: Caller,
    ApiPath(id): ApiPath<SignInId>,
) -> Result<StatusCode, Error> {
    sign_ins::end(&engine, user.id(), &id, &caller, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn end_other_sign_ins(
    State(engine): State<Engine>,
    user: BearerUser,
    caller: Caller,
) -> Result<StatusCode, Error> {
    sign_ins::end_others(&engine, user.id(), user.sign_in(), &caller, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?end_sign_ins=false` keeps the sign-ins made with the passkey; by default they end.
#[derive(Deserialize)]
struct DeletePasskeyQuery {
    #[serde(default = "yes")]
    end_sign_ins: bool,
}

fn yes() -> bool {
    true
}

async fn delete_passkey(
    State(engine): State<Engine>,
    user: BearerUser,
    caller: Caller,
    ApiPath(id): ApiPath<CredentialId>,
    ApiQuery(query): ApiQuery<DeletePasskeyQuery>,
) -> Result<StatusCode, Error> {
    let recent = user.recent(&engine, now())?;
    passkeys::delete_passkey(&engine, user.id(), &id, query.end_sign_ins, &caller, &recent, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn authenticate_begin(
    State(engine): State<Engine>,
    client: ClientAddr,
    OptionalJson(body): OptionalJson<AuthenticateBeginRequest>,
) -> Result<Json<serde_json::Value>, Error> {
    ceremony::start_authentication(&engine, body.email.as_deref(), client).await.map(Json)
}

async fn authenticate_complete(
    State(engine): State<Engine>,
    caller: Caller,
    ApiJson(body): ApiJson<AuthenticateCompleteRequest>,
) -> Result<Json<TokenPair>, Error> {
    ceremony::finish_authentication(&engine, &body.credential, &caller, now()).await.map(Json)
}
