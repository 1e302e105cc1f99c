//! The OpenID Connect provider: "Sign in with Latchkey" for other apps (docs/oidc.md).
//!
//! The registered apps are [`crate::tokens::clients`] (read at start-up; the sign-ins' list names
//! apps too, so it sits below this module). [`Provider`] is the wing's handle. An app sends its user's browser to [`authorize`]; the portal signs the user in (passkey first) and
//! asks for consent, then the browser returns to the app with a code; the app's server exchanges the
//! code at the [`token`] endpoint for an ID token, an access token and (with `offline_access`) a
//! refresh token, and may call [`userinfo`]. Tokens of an app belong to a sign-in of their own,
//! started from the portal's sign-in, which revocation and RP-initiated [`logout`] end.
//!
//! | module | owns |
//! |---|---|
//! | [`codes`] | authorization codes: single use, bound to client, redirect URI and PKCE |
//! | [`error`] | OAuth's error vocabulary (RFC 6749 §4.1.2.1, §5.2), which apps' libraries parse |
//! | [`params`] | a request's parameters, each at most once: read one way by the authorization request and the token endpoint |
//! | [`request`] | an authorization request: read, checked, sealed while the user signs in |
//! | [`authorize`] | what answers it: sign in, consent, or a code (and remembered consents) |
//! | [`token`] | the token endpoint, ID tokens, revocation |
//! | [`userinfo`], [`logout`] | the userinfo endpoint; RP-initiated logout |
//! | [`apps`], [`registry`] | "Your apps"; the apps administrators make, change and delete |

pub mod apps;
pub mod authorize;
pub mod codes;
pub mod error;
pub mod logout;
pub mod params;
pub mod registry;
pub mod request;
pub mod token;
pub mod userinfo;

use std::sync::Arc;

use serde::Serialize;

use crate::base::config::Config;
use crate::base::sealed::Sealer;
use crate::db::Db;
use crate::notify::Notify;
use crate::tokens::TokenKeys;
use crate::tokens::clients::Clients;
use crate::tokens::keys::KeyRing;
use crate::tokens::secret::HashingQueue;

/// The provider's handle: what its endpoints need. Cheap to clone.
#[derive(Clone)]
pub struct Provider {
    /// The database.
    pub db: Db,
    /// Changes, with their records.
    pub notify: Notify,
    /// The issuer, and the rest of the configuration the endpoints show.
    pub config: Arc<Config>,
    /// The registered apps.
    pub clients: Arc<Clients>,
    /// The signing keys, for ID tokens and for the `id_token_hint` of a logout.
    pub keys: Arc<KeyRing>,
    /// Access and refresh tokens.
    pub tokens: Arc<TokenKeys>,
    /// Argon2 checks of client secrets: their own queue of one core, so wrong secrets sent to the
    /// (unauthenticated) token endpoint never take password sign-ins' places.
    pub client_hashing: Arc<HashingQueue>,
    /// Seals the authorization requests a browser carries through sign-in and consent.
    pub request_sealer: Arc<Sealer>,
}

/// The endpoints' paths (the discovery document names them as absolute URLs).
pub mod paths {
    /// The authorization endpoint.
    pub const AUTHORIZE: &str = "/oidc/authorize";
    /// Where the browser comes back to after signing in or consenting, with the sealed request.
    pub const RESUME: &str = "/oidc/authorize/resume";
    /// The token endpoint.
    pub const TOKEN: &str = "/oidc/token";
    /// The userinfo endpoint.
    pub const USERINFO: &str = "/oidc/userinfo";
    /// Token revocation (RFC 7009).
    pub const REVOKE: &str = "/oidc/revoke";
    /// RP-initiated logout.
    pub const END_SESSION: &str = "/oidc/end_session";
    /// The public keys.
    pub const JWKS: &str = "/.well-known/jwks.json";
    /// The consent page (a portal page).
    pub const CONSENT: &str = "/consent";
    /// The page that explains a request that cannot be sent back to the app (a portal page).
    pub const ERROR: &str = "/oidc/error";
    /// The page that says why the signed-in account cannot sign in to the app yet, and what to do
    /// (a portal page).
    pub const ACCESS: &str = "/access";
}

/// The scopes Latchkey grants; others in a request are ignored (OIDC Core §3.1.2.1).
pub const SCOPES: [&str; 5] = ["openid", "email", "profile", "groups", "offline_access"];

pub use crate::base::types::has_scope;

/// The known scopes for which `wanted` holds, in [`SCOPES`] order, space-separated: how every
/// scope string Latchkey stores or sends is written.
pub fn known_scopes(wanted: impl Fn(&str) -> bool) -> String {
    SCOPES.iter().copied().filter(|scope| wanted(scope)).collect::<Vec<_>>().join(" ")
}

/// `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §3, RFC 8414, RFC 9207).
#[derive(Debug, Serialize)]
pub struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    jwks_uri: String,
    end_session_endpoint: String,
    revocation_endpoint: String,
    scopes_supported: &'static [&'static str],
    response_types_supported: &'static [&'static str],
    response_modes_supported: &'static [&'static str],
    grant_types_supported: &'static [&'static str],
    subject_types_supported: &'static [&'static str],
    id_token_signing_alg_values_supported: &'static [&'static str],
    token_endpoint_auth_methods_supported: &'static [&'static str],
    revocation_endpoint_auth_methods_supported: &'static [&'static str],
    code_challenge_methods_supported: &'static [&'static str],
    claims_supported: &'static [&'static str],
    prompt_values_supported: &'static [&'static str],
    authorization_response_iss_parameter_supported: bool,
    claims_parameter_supported: bool,
    request_parameter_supported: bool,
    request_uri_parameter_supported: bool,
}

/// The client authentication methods of the token and revocation endpoints.
const CLIENT_AUTH_METHODS: &[&str] = &["client_secret_basic", "client_secret_post", "none"];

impl Discovery {
    /// The provider's metadata for this configuration.
    pub fn new(config: &Config) -> Self {
        let issuer = config.issuer();
        let at = |path: &str| format!("{issuer}{path}");
        Self {
            authorization_endpoint: at(paths::AUTHORIZE),
            token_endpoint: at(paths::TOKEN),
            userinfo_endpoint: at(paths::USERINFO),
            jwks_uri: at(paths::JWKS),
            end_session_endpoint: at(paths::END_SESSION),
            revocation_endpoint: at(paths::REVOKE),
            issuer,
            scopes_supported: &SCOPES,
            response_types_supported: &["code"],
            response_modes_supported: &["query"],
            grant_types_supported: &["authorization_code", "refresh_token"],
            subject_types_supported: &["public"],
            id_token_signing_alg_values_supported: &["RS256", "ES256"],
            token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
            revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
            code_challenge_methods_supported: &["S256"],
            claims_supported: &[
                "iss",
                "sub",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "amr",
                "acr",
                "sid",
                "at_hash",
                "email",
                "email_verified",
                "name",
                "groups",
            ],
            prompt_values_supported: &["none", "login", "consent"],
            authorization_response_iss_parameter_supported: true,
            claims_parameter_supported: false,
            request_parameter_supported: false,
            request_uri_parameter_supported: false,
        }
    }
}
