//! The JSON shapes Latchkey's server and its browser side exchange: the REST API's bodies
//! (docs/api.md), what the portal's pages show, and the one error vocabulary ([`ErrorCode`],
//! [`ApiError`]) that both doors answer with. No server code and no Leptos: the WASM bundle
//! compiles this crate too.

use serde::{Deserialize, Serialize};

/// Returned by register, login, refresh and passkey sign-in.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenPair {
    /// A JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Single-use, opaque; exchange it at `/auth/refresh`.
    pub refresh_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Access-token lifetime in seconds.
    pub expires_in: i64,
}

/// `GET /auth/me`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserInfo {
    /// User id.
    pub id: String,
    /// Normalised email.
    pub email: String,
    /// Display name, if given.
    pub name: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// Whether the user has proved the email address is theirs (the link or code mailed to it).
    #[serde(default)]
    pub email_verified: bool,
}

/// What the consent page shows: which app asks, for whom, and what it will receive.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ConsentView {
    /// The app's name (`name` in the clients file).
    pub app_name: String,
    /// The account it will sign in.
    pub email: String,
    /// One sentence per thing the app will receive ("Your email address").
    pub receives: Vec<String>,
    /// Where the app is: the origin of the address it gets its answer at.
    #[serde(default)]
    pub app_origin: String,
    /// The portal's address that asks the same request again after a sign-in: "Not you?" signs in
    /// with another account and comes back through it.
    #[serde(default)]
    pub resume: String,
    /// The address of the app's logo, served by Latchkey (`logo_uri` in the clients file).
    #[serde(default)]
    pub app_logo: Option<String>,
}

/// What the sign-in page says when an app sent the visitor (OpenID Connect).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default)]
pub struct SignInFor {
    /// The app's name.
    pub app_name: String,
    /// The app's `login_hint`: the email to fill in and to ask passkeys of.
    pub login_hint: Option<String>,
    /// Where the app is: the origin of the address it gets its answer at.
    #[serde(default)]
    pub app_origin: String,
    /// The address of the app's logo, served by Latchkey (`logo_uri` in the clients file).
    #[serde(default)]
    pub app_logo: Option<String>,
}

/// Why the signed-in account cannot sign in to an app (yet): the access page's sentence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Barrier {
    /// Accounts here are for some domains (`LATCHKEY_SIGN_UP=domains`), and this one has not
    /// confirmed its address yet.
    UnconfirmedAddress,
    /// The app allows only some groups (`allowed_groups`), and the account is in none of them.
    NotAllowed,
}

/// What the access page shows: the app, the account, and why it cannot go on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessView {
    /// The app's name.
    pub app_name: String,
    /// The address of the app's logo, served by Latchkey.
    pub app_logo: Option<String>,
    /// The signed-in account's address.
    pub email: String,
    /// Why it cannot go on; `None` once nothing stands in the way (the page then offers to go on).
    pub barrier: Option<Barrier>,
    /// The portal's address that asks the same request again: "Continue".
    pub resume: String,
}

/// Why an app's request cannot be answered by sending the browser back to the app (an unknown app,
/// or a return address it never registered must never be redirected to): the error page's reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthorizeProblem {
    /// No `client_id`, or one not in the clients file.
    UnknownClient,
    /// No `redirect_uri`, or one not registered for the app.
    RedirectUri,
    /// The request waited too long for the sign-in (or was altered).
    Expired,
    /// A sign-out request without a valid `id_token_hint`.
    LogoutHint,
    /// A sign-out request whose `post_logout_redirect_uri` is not registered for the app.
    LogoutRedirectUri,
}

impl AuthorizeProblem {
    /// Every problem.
    pub const ALL: [Self; 5] =
        [Self::UnknownClient, Self::RedirectUri, Self::Expired, Self::LogoutHint, Self::LogoutRedirectUri];

    /// The `reason` of the error page's address.
    pub fn slug(self) -> &'static str {
        match self {
            Self::UnknownClient => "unknown_client",
            Self::RedirectUri => "redirect_uri",
            Self::Expired => "expired",
            Self::LogoutHint => "logout_hint",
            Self::LogoutRedirectUri => "logout_redirect_uri",
        }
    }

    /// The problem a `reason` names.
    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.slug() == slug)
    }

    /// What the page says.
    pub fn message(self) -> &'static str {
        match self {
            Self::UnknownClient => {
                "The app that sent you here is not registered with this sign-in service, so you cannot be signed in to it. Tell the app's administrator."
            }
            Self::RedirectUri => {
                "The app that sent you here asked to return to an address it has not registered, so you were not sent there. Tell the app's administrator."
            }
            Self::Expired => "This sign-in request has expired. Go back to the app and sign in again.",
            Self::LogoutHint => {
                "This sign-out request did not say which sign-in it ends. Go back to the app, or sign out here from your account page."
            }
            Self::LogoutRedirectUri => {
                "The app asked to return to an address it has not registered after signing out, so you were not sent there. Tell the app's administrator."
            }
        }
    }
}

/// What is known about an authenticator model from its AAGUID.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthenticatorInfo {
    /// e.g. "iCloud Keychain"; "Passkey" when the model is unknown.
    pub name: String,
    /// Icon (usually a data: URL) for light backgrounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_light: Option<String>,
    /// Icon for dark backgrounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_dark: Option<String>,
}

/// An item of `GET /auth/passkeys`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasskeyItem {
    /// Credential ID, base64url.
    pub id: String,
    /// Name the owner gave it.
    pub name: String,
    /// Authenticator model as a UUID string.
    pub aaguid: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC; `null` until first use.
    pub last_used_at: Option<String>,
    /// Resolved from the AAGUID.
    pub authenticator: AuthenticatorInfo,
    /// Whether the credential may be synced across devices.
    pub backup_eligible: bool,
    /// Whether it is currently synced (a "synced" passkey rather than a device-bound one).
    pub backed_up: bool,
    /// Transports the browser reported (`internal`, `hybrid`, `usb`, …).
    pub transports: Vec<String>,
}

/// `201` of `POST /auth/passkeys/register/complete`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisteredPasskey {
    /// Credential ID, base64url.
    pub id: String,
    /// Its name.
    pub name: String,
    /// RFC 3339 UTC.
    pub created_at: String,
}

/// What the portal's pages show of the signed-in account.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AccountView {
    /// The user.
    pub user: UserInfo,
    /// The WebAuthn user handle (base64url), for the browser's Signal API.
    pub user_handle: String,
    /// The relying-party id, for the browser's Signal API.
    pub rp_id: String,
    /// The user's passkeys, oldest first.
    pub passkeys: Vec<PasskeyItem>,
    /// Whether the account has a password (it may be passkey-only).
    pub has_password: bool,
    /// A change of email address waiting for the new address's confirmation.
    pub pending_email: Option<PendingEmail>,
    /// The account's passkeys that a mailed recovery link added and that are still held.
    pub held: Vec<HeldPasskey>,
    /// Whether this sign-in was made with one of them (it cannot change how the account signs in).
    pub held_here: bool,
}

/// The admin console's overview: how many of each, and sign-ins per day.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AdminOverview {
    /// Accounts.
    pub accounts: u64,
    /// Sign-ins still going (browsers, programs, apps).
    pub sign_ins: u64,
    /// Registered apps.
    pub apps: u64,
    /// Invitations that can still be used.
    pub pending_invitations: u64,
    /// The last 30 days, oldest first, today last.
    pub days: Vec<SignInDay>,
}

/// Sign-ins of one day (UTC), by method.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SignInDay {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// With a passkey.
    pub passkey: u32,
    /// With a password.
    pub password: u32,
}

/// An app as administrators see it (the admin API's `/admin/apps`, the console's apps page): its
/// settings, where it is registered, and when it was made and changed. Never its secret.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsoleApp {
    /// Its `client_id`.
    pub client_id: String,
    /// `file` (the clients file, `LATCHKEY_OIDC_CLIENTS`: read-only here) or `console`.
    pub source: String,
    /// What the consent page calls it.
    pub name: String,
    /// A browser or native app, which keeps no secret and must use PKCE.
    pub public: bool,
    /// Exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Exact URIs it may return to after signing out.
    pub post_logout_redirect_uris: Vec<String>,
    /// Whether the consent page is skipped.
    pub skip_consent: bool,
    /// Whether a PKCE S256 challenge is required.
    pub require_pkce: bool,
    /// `RS256` or `ES256`.
    pub id_token_signed_response_alg: String,
    /// When not empty, only accounts in one of these groups may sign in to it.
    pub allowed_groups: Vec<String>,
    /// The app's own address, which "Your apps" opens.
    pub client_uri: Option<String>,
    /// Its logo's address (clients-file apps).
    pub logo: Option<String>,
    /// When it was made (RFC 3339; console apps).
    pub created_at: Option<String>,
    /// When it was last changed (RFC 3339; console apps).
    pub updated_at: Option<String>,
    /// Until when the secret a rotation replaced still works (RFC 3339), if it does.
    pub previous_secret_until: Option<String>,
}

/// An account, as administrators' lists show it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Person {
    /// Its id.
    pub id: String,
    /// Its address.
    pub email: String,
    /// Its display name.
    pub name: Option<String>,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// Whether its address is confirmed.
    pub email_verified: bool,
    /// Whether it is disabled.
    pub disabled: bool,
    /// Whether it is an administrator.
    pub admin: bool,
}

/// An account with its passkeys, sign-ins, groups and recent activity, as administrators see it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonFacts {
    /// The account.
    #[serde(flatten)]
    pub person: Person,
    /// Its passkeys, oldest first.
    pub passkeys: Vec<PasskeyItem>,
    /// Its sign-ins that are still going, newest first.
    pub sign_ins: Vec<SignInItem>,
    /// The names of its groups.
    pub groups: Vec<String>,
    /// Its newest 30 events.
    pub activity: Vec<ActivityItem>,
}

/// The console's people page: a page of accounts by address.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PeoplePage {
    /// By address.
    pub people: Vec<Person>,
    /// Where the next page starts; none on the last.
    pub next_cursor: Option<String>,
    /// What was searched for.
    pub query: String,
}

/// The console's page of one account.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct ConsolePersonDetail {
    /// The account.
    pub facts: PersonFacts,
    /// A recovery link just made for it, shown this once.
    pub recovery_link: Option<String>,
    /// Whether it is the administrator's own account.
    pub is_self: bool,
}

impl std::fmt::Debug for ConsolePersonDetail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let link = self.recovery_link.as_ref().map(|_| "<redacted>");
        f.debug_struct("ConsolePersonDetail").field("facts", &self.facts).field("recovery_link", &link).finish()
    }
}

/// An invitation, as administrators' lists show it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitationItem {
    /// Its id.
    pub id: String,
    /// The one address that may use it.
    pub email: Option<String>,
    /// Whether it was mailed to that address.
    pub mailed: bool,
    /// The groups its account joins.
    pub groups: Vec<String>,
    /// Whether its account is made an administrator.
    pub admin: bool,
    /// `pending`, `used`, `revoked` or `expired`.
    pub state: String,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// Until when it works (RFC 3339).
    pub expires_at: String,
}

/// The console's invitations page: the newest invitations, the groups one may join, and a link
/// just made (shown this once).
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct InvitationList {
    /// Newest first.
    pub invitations: Vec<InvitationItem>,
    /// Every group's name.
    pub groups: Vec<String>,
    /// The link of an invitation just made.
    pub new_link: Option<String>,
}

impl std::fmt::Debug for InvitationList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let link = self.new_link.as_ref().map(|_| "<redacted>");
        f.debug_struct("InvitationList").field("invitations", &self.invitations).field("new_link", &link).finish()
    }
}

/// The console's apps page: every app, and the groups one may allow.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConsoleAppList {
    /// By name.
    pub apps: Vec<ConsoleApp>,
    /// Every group's name.
    pub groups: Vec<String>,
}

/// The console's page of one app.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConsoleAppDetail {
    /// The app.
    pub app: ConsoleApp,
    /// Every group's name.
    pub groups: Vec<String>,
    /// A secret just made for it, shown this once.
    pub new_secret: Option<String>,
}

impl std::fmt::Debug for ConsoleAppDetail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret = self.new_secret.as_ref().map(|_| "<redacted>");
        f.debug_struct("ConsoleAppDetail").field("app", &self.app).field("new_secret", &secret).finish()
    }
}

/// An app on the account page's "Your apps": one the account may sign in to, or one it allowed.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppItem {
    /// Its `client_id`.
    pub client_id: String,
    /// Its name.
    pub name: String,
    /// Where its logo is served from, if it has one.
    pub logo: Option<String>,
    /// Its own address (`client_uri`), to open it.
    pub launch: Option<String>,
    /// Whether the account may sign in to it (its `allowed_groups` admit the account, or it has none).
    pub allowed: bool,
    /// Whether the account allowed it (its consent stands); "Remove access" withdraws it.
    pub consented: bool,
    /// How many of its sign-ins for the account are still going.
    pub sign_ins: u32,
}

/// A passkey a mailed recovery link added, held until `until`: its sign-ins cannot change how the
/// account signs in; the account's other passkeys may remove it ("this wasn't me").
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct HeldPasskey {
    /// Its name.
    pub name: String,
    /// RFC 3339 UTC.
    pub until: String,
}

/// What the recovery page shows of its link.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RecoveryFor {
    /// The account the link adds a passkey to; `None` when it is used, expired or not this
    /// browser's.
    pub email: Option<String>,
    /// The account signed in in this browser, when that is another one (the link is refused then).
    pub signed_in_as_another: Option<String>,
}

/// A change of email address waiting for confirmation: the account moves to `email` once it is
/// confirmed, unless it ends first (`until`, or the account's other sign-ins ended, or a new password).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PendingEmail {
    /// The new address.
    pub email: String,
    /// RFC 3339 UTC.
    pub until: String,
}

/// One entry of a user's record of security events (`GET /auth/activity`, "Recent activity" on
/// the account page), newest first.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivityItem {
    /// What happened, for programs: `account_created`, `signed_in`, `sign_in_failed`,
    /// `passkey_added`, `passkey_renamed`, `passkey_removed`, `password_set`, `password_changed`,
    /// `password_removed`, `sign_in_ended`, `other_sign_ins_ended`, `recovery_link_made`,
    /// `recovered`, `email_change_requested`, `email_change_cancelled`, `email_changed`.
    pub kind: String,
    /// What happened, for people ("Signed in with the passkey “Laptop”").
    pub summary: String,
    /// The client address it came from, when a request made it.
    pub address: Option<String>,
    /// The browser or program, as its `User-Agent` names it ("Firefox on Linux"), when known.
    pub device: Option<String>,
    /// When (RFC 3339); for events counted together, the newest.
    pub at: String,
    /// How many times it happened: failed passkey sign-ins within an hour are one item.
    #[serde(default = "once")]
    pub count: i64,
}

fn once() -> i64 {
    1
}

/// One of the user's sign-ins that has not ended (`GET /auth/sessions`, the account page): a
/// browser's portal session, a program's token sign-in, or an app's sign-in through OpenID Connect.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignInItem {
    /// Its id (`DELETE /auth/sessions/{id}` ends it).
    pub id: String,
    /// How the user proved who they are: `passkey`, `password` (`unknown` for sign-ins older than
    /// the record of it).
    pub method: String,
    /// The passkey's name, for a passkey sign-in whose passkey still exists.
    pub passkey_name: Option<String>,
    /// The browser or program, as its `User-Agent` names it ("Firefox on Linux"); for an app's
    /// sign-in, the app.
    pub device: String,
    /// The whole `User-Agent` it was made with, if any.
    pub user_agent: Option<String>,
    /// The network it was made from (`203.0.113.0/24`, an IPv6 address's /48), to tell sign-ins
    /// of one kind of device apart; absent for an app's sign-in and for sign-ins older than it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// The OpenID Connect app (client id) whose tokens continue it, if any.
    pub client_id: Option<String>,
    /// When it started (RFC 3339).
    pub created_at: String,
    /// When it was last used (RFC 3339): the browser session's last request (to the minute), or
    /// the last refresh of its tokens.
    pub last_used_at: String,
    /// Whether it is the sign-in of this request.
    pub current: bool,
}

/// Every error either door (REST or the portal's server functions) can answer with: a stable
/// snake_case code that clients match on, never a sentence.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ErrorCode {
    /// The body (or a form field) is not what the endpoint takes.
    InvalidRequest,
    /// A body that is not declared as JSON.
    UnsupportedMediaType,
    /// A body over the 64 KiB limit.
    PayloadTooLarge,
    /// The request (its body, or its answer) took longer than the server allows.
    RequestTimeout,
    /// Not an email address.
    InvalidEmail,
    /// A password outside 8 to 128 characters.
    InvalidPassword,
    /// A name that is empty, too long or has control or invisible formatting characters.
    InvalidName,
    /// The email already has an account.
    EmailTaken,
    /// The account is disabled: it signs in nowhere until an administrator enables it.
    AccountDisabled,
    /// Nobody may make an account here (`LATCHKEY_SIGN_UP=closed`).
    SignUpClosed,
    /// An account here needs an invitation (`LATCHKEY_SIGN_UP=invite`).
    InvitationRequired,
    /// Accounts here are for addresses at certain domains (`LATCHKEY_SIGN_UP=domains`).
    EmailDomainNotAllowed,
    /// Wrong email or password.
    InvalidCredentials,
    /// Password sign-in is locked for a while (`Retry-After`).
    TooManyAttempts,
    /// Too many requests from this client address (`Retry-After`).
    RateLimited,
    /// REST: the Bearer access token is missing, invalid or expired (`WWW-Authenticate: Bearer`).
    InvalidToken,
    /// Portal: nobody is signed in in this browser.
    SignInRequired,
    /// The refresh token is unknown, used, expired or revoked.
    InvalidRefreshToken,
    /// The ceremony's challenge is unknown, used or expired.
    CeremonyExpired,
    /// The credential ID is already registered.
    CredentialExists,
    /// The authenticator's registration response failed verification.
    RegistrationFailed,
    /// No passkey with this credential ID exists.
    UnknownCredential,
    /// The assertion failed verification.
    AuthenticationFailed,
    /// The signature counter did not increase.
    PossibleClonedAuthenticator,
    /// No passkey with this id belongs to the caller.
    PasskeyNotFound,
    /// No sign-in with this id of the caller's is still going.
    SignInNotFound,
    /// A dangerous change needs a more recent sign-in (passkey or password); sign in again.
    ReauthenticationRequired,
    /// The passkey is the account's only way in (no password, no other passkey): not deleted.
    LastPasskey,
    /// The password is the account's only way in (it has no passkey): not removed.
    PasswordOnlyWayIn,
    /// The account has no password to remove.
    PasswordNotSet,
    /// The password is on the list of the most common passwords found in breaches.
    CommonPassword,
    /// An email verification link or code that is wrong, used or expired.
    InvalidVerification,
    /// A recovery link that is wrong, used or expired.
    InvalidRecoveryLink,
    /// An invitation that is unknown, used, withdrawn, expired or for another address.
    InvalidInvitation,
    /// A group name that is not a slug (lower-case letters, digits, `-`, `_`).
    InvalidGroupName,
    /// A group of that name exists already.
    GroupExists,
    /// No group has that name.
    GroupNotFound,
    /// The admin API: an app's settings that cannot be kept (the sentence names the field).
    InvalidApp,
    /// The admin API: an app with this `client_id` exists already (in the database or the clients file).
    AppExists,
    /// The admin API: no app has this `client_id`.
    AppNotFound,
    /// The admin API: the app comes from the clients file, which the console only shows.
    AppInFile,
    /// The admin API: no account has this email or id.
    AccountNotFound,
    /// The admin API: the caller is not an administrator.
    AdminRequired,
    /// The admin API: the change would leave no administrator.
    LastAdmin,
    /// A page cursor this server did not give, or that was changed.
    InvalidCursor,
    /// The admin API: a custom claim with a reserved or malformed name, a null or too long value,
    /// or a scope that does not release claims.
    InvalidClaim,
    /// Mail is not set up on this server (production without `LATCHKEY_SMTP_URL`).
    EmailDisabled,
    /// The account already holds as many passkeys as allowed.
    TooManyPasskeys,
    /// A server-function call from a page that is not one of the configured origins.
    ForbiddenOrigin,
    /// A dangerous change by a sign-in made with a passkey a mailed recovery link added recently
    /// (`LATCHKEY_RECOVERY_HOLD_SECS`); the account's other passkeys may make it.
    RecoveryHold,
    /// A store is unreachable; retry after `Retry-After`.
    ServiceUnavailable,
    /// A bug; details are in the server log only.
    InternalError,
    /// Never sent by the server: the browser could not reach it, or could not read its answer.
    NetworkError,
}

impl ErrorCode {
    /// The HTTP status this code is answered with, by the REST API and the portal alike.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidRequest
            | Self::InvalidEmail
            | Self::InvalidPassword
            | Self::InvalidName
            | Self::CommonPassword
            | Self::InvalidVerification
            | Self::InvalidRecoveryLink
            | Self::InvalidInvitation
            | Self::InvalidGroupName
            | Self::InvalidCursor
            | Self::InvalidClaim
            | Self::InvalidApp
            | Self::CeremonyExpired
            | Self::RegistrationFailed => 400,
            Self::InvalidCredentials
            | Self::InvalidToken
            | Self::SignInRequired
            | Self::InvalidRefreshToken
            | Self::UnknownCredential
            | Self::AuthenticationFailed
            | Self::PossibleClonedAuthenticator
            | Self::ReauthenticationRequired => 401,
            Self::ForbiddenOrigin
            | Self::AdminRequired
            | Self::RecoveryHold
            | Self::AccountDisabled
            | Self::SignUpClosed
            | Self::InvitationRequired
            | Self::EmailDomainNotAllowed => 403,
            Self::RequestTimeout => 408,
            Self::PasskeyNotFound
            | Self::SignInNotFound
            | Self::PasswordNotSet
            | Self::AccountNotFound
            | Self::GroupNotFound
            | Self::AppNotFound => 404,
            Self::EmailTaken
            | Self::GroupExists
            | Self::AppExists
            | Self::AppInFile
            | Self::CredentialExists
            | Self::TooManyPasskeys
            | Self::LastPasskey
            | Self::PasswordOnlyWayIn
            | Self::LastAdmin
            | Self::EmailDisabled => 409,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::TooManyAttempts | Self::RateLimited => 429,
            Self::InternalError => 500,
            Self::ServiceUnavailable | Self::NetworkError => 503,
        }
    }
}

/// The body of every error answer: `{"error": "<code>", "message": "<sentence>"}`, plus
/// `retry_after` (seconds, as in the `Retry-After` header) when the client should wait.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    /// What went wrong, for programs.
    pub error: ErrorCode,
    /// What happened and what to do, for people.
    pub message: String,
    /// Seconds to wait before trying again (429 and 503).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_snake_case_on_the_wire() {
        let body = ApiError { error: ErrorCode::PossibleClonedAuthenticator, message: "m".into(), retry_after: None };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"error": "possible_cloned_authenticator", "message": "m"})
        );
    }

    #[test]
    fn every_client_error_is_4xx() {
        for code in [ErrorCode::InvalidRequest, ErrorCode::SignInRequired, ErrorCode::TooManyAttempts] {
            assert!((400..500).contains(&code.status()), "{code:?}");
        }
        assert_eq!(ErrorCode::ServiceUnavailable.status(), 503);
    }
}
