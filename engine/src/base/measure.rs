//! The engine's metrics, each named and described once (docs/operations.md lists them with queries
//! for a dashboard). They go to whatever `metrics` recorder the process installed: the server's
//! Prometheus exporter when `LATCHKEY_METRICS_ADDR` is set, and nowhere (at the cost of a branch)
//! otherwise. Labels are small fixed sets (a kind, an error code, a method), never a user, an
//! address or a path someone typed.

use std::time::Duration;

use metrics::{counter, describe_counter, describe_histogram, histogram};

use proto::ErrorCode;

/// Passkey ceremonies begun (`kind`: `registration` or `authentication`).
pub const CEREMONIES_BEGUN: &str = "latchkey_ceremonies_begun_total";
/// Passkey ceremonies completed.
pub const CEREMONIES_COMPLETED: &str = "latchkey_ceremonies_completed_total";
/// Passkey ceremonies that failed, by `reason` (the API's error code).
pub const CEREMONIES_FAILED: &str = "latchkey_ceremonies_failed_total";
/// Sign-ins, by `method` (`passkey`, `password`, `email_link`, `recovery`, …).
pub const SIGN_INS: &str = "latchkey_sign_ins_total";
/// Failed sign-ins of known accounts, by `method`.
pub const SIGN_IN_FAILURES: &str = "latchkey_sign_in_failures_total";
/// Token pairs issued, by `client` (`api`: the REST API and portal; `app`: an OpenID Connect app).
pub const TOKENS_ISSUED: &str = "latchkey_tokens_issued_total";
/// Refresh tokens exchanged for a new pair, by `client`.
pub const TOKEN_REFRESHES: &str = "latchkey_token_refreshes_total";
/// Refresh tokens presented a second time (their sign-in is ended: a copied token).
pub const REFRESH_REUSE: &str = "latchkey_refresh_token_reuse_total";
/// Requests refused by a rate limit or the password lockout, by `limit`.
pub const RATE_LIMITED: &str = "latchkey_rate_limited_total";
/// Failed store operations (answered 503), by `store` (`database`, `challenge`).
pub const STORE_ERRORS: &str = "latchkey_store_errors_total";
/// Time of store operations, by `store` and `op`.
pub const STORE_SECONDS: &str = "latchkey_store_seconds";

/// Describes every metric to the recorder (their `# HELP` lines); once, after installing it.
pub fn describe() {
    describe_counter!(CEREMONIES_BEGUN, "Passkey ceremonies begun, by kind (registration, authentication)");
    describe_counter!(CEREMONIES_COMPLETED, "Passkey ceremonies completed, by kind");
    describe_counter!(CEREMONIES_FAILED, "Passkey ceremonies failed, by kind and reason (the API's error code)");
    describe_counter!(SIGN_INS, "Sign-ins, by method");
    describe_counter!(SIGN_IN_FAILURES, "Failed sign-ins of known accounts, by method");
    describe_counter!(TOKENS_ISSUED, "Token pairs issued, by client (api, app)");
    describe_counter!(TOKEN_REFRESHES, "Refresh tokens exchanged for a new pair, by client");
    describe_counter!(REFRESH_REUSE, "Refresh tokens presented again after use; their sign-in was ended");
    describe_counter!(RATE_LIMITED, "Requests refused by a rate limit or the password lockout, by limit");
    describe_counter!(STORE_ERRORS, "Store operations that failed (answered 503), by store");
    describe_histogram!(STORE_SECONDS, metrics::Unit::Seconds, "Time of store operations, by store and op");
}

/// The two passkey ceremonies.
#[derive(Clone, Copy, Debug)]
pub enum Ceremony {
    /// Creating a passkey (adding one, or a passkey sign-up).
    Registration,
    /// Signing in with a passkey.
    Authentication,
}

impl Ceremony {
    fn label(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::Authentication => "authentication",
        }
    }
}

/// A ceremony's options were handed out.
pub fn ceremony_begun(kind: Ceremony) {
    counter!(CEREMONIES_BEGUN, "kind" => kind.label()).increment(1);
}

/// A ceremony's last step ended: counted as completed, or as failed with its error's code.
pub fn ceremony_ended(kind: Ceremony, failed: Option<ErrorCode>) {
    match failed {
        None => counter!(CEREMONIES_COMPLETED, "kind" => kind.label()).increment(1),
        Some(code) => counter!(CEREMONIES_FAILED, "kind" => kind.label(), "reason" => code_name(code)).increment(1),
    }
}

/// An error code as it is on the wire (`ceremony_expired`).
fn code_name(code: ErrorCode) -> String {
    match serde_json::to_value(code) {
        Ok(serde_json::Value::String(name)) => name,
        _ => "unknown".to_owned(),
    }
}

/// Someone signed in with `method`.
pub fn signed_in(method: &'static str) {
    counter!(SIGN_INS, "method" => method).increment(1);
}

/// A known account's sign-in with `method` failed.
pub fn sign_in_failed(method: &'static str) {
    counter!(SIGN_IN_FAILURES, "method" => method).increment(1);
}

/// Who tokens are for.
#[derive(Clone, Copy, Debug)]
pub enum Client {
    /// Latchkey's own REST API and portal.
    Api,
    /// An OpenID Connect app.
    App,
}

impl Client {
    fn label(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::App => "app",
        }
    }
}

/// A token pair was issued.
pub fn tokens_issued(client: Client) {
    counter!(TOKENS_ISSUED, "client" => client.label()).increment(1);
}

/// A refresh token was exchanged.
pub fn token_refreshed(client: Client) {
    counter!(TOKEN_REFRESHES, "client" => client.label()).increment(1);
}

/// A used refresh token came back.
pub fn refresh_token_reused() {
    counter!(REFRESH_REUSE).increment(1);
}

/// A request was refused by `limit` (`password`, `ceremony`, `refresh`, `portal`, `lockout`, …).
pub fn rate_limited(limit: &'static str) {
    counter!(RATE_LIMITED, "limit" => limit).increment(1);
}

/// A store operation failed.
pub fn store_error(store: &'static str) {
    counter!(STORE_ERRORS, "store" => store).increment(1);
}

/// A store operation took `took`.
pub fn store_time(store: &'static str, op: &'static str, took: Duration) {
    histogram!(STORE_SECONDS, "store" => store, "op" => op).record(took.as_secs_f64());
}
