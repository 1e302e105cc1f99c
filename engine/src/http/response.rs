//! Where an error becomes an HTTP answer: the REST API's and the portal's `{"error", "message"}`
//! ([`error_response`], [`error_head`]) and OAuth's `{"error", "error_description"}` for the
//! provider's endpoints, each with its status, `Retry-After` and `WWW-Authenticate`.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::base::error::{ApiError, Error, ErrorCode, status_of};
use crate::oidc::error::{Body, OAuthCode, OAuthError};

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        error_response(&self.to_body())
    }
}

/// The HTTP answer for an error body: its JSON, with the status and headers of [`error_head`].
/// REST handlers reach it through [`IntoResponse`].
pub fn error_response(body: &ApiError) -> Response {
    let mut response = axum::Json(body).into_response();
    error_head(body, &mut response);
    response
}

/// Gives an error answer its status and headers, from its body — the one place both doors take
/// them from (the server applies it to the portal's server-function errors): the code's status,
/// `Retry-After` when the body says how long to wait, `WWW-Authenticate: Bearer` for a refused
/// access token, and RFC 9470's step-up challenge when a more recent sign-in is needed.
pub fn error_head(body: &ApiError, response: &mut Response) {
    *response.status_mut() = status_of(body.error);
    let headers = response.headers_mut();
    if let Some(seconds) = body.retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    match body.error {
        ErrorCode::InvalidToken => {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        ErrorCode::ReauthenticationRequired => {
            let step_up = r#"Bearer error="insufficient_user_authentication", error_description="sign in again""#;
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(step_up));
        }
        _ => {}
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = Body { error: self.code, error_description: &self.description };
        let mut response = (self.code.status(), axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(wait) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
        }
        let challenge = match self.code {
            // RFC 6749 §5.2: a 401 names the scheme the client may authenticate with.
            OAuthCode::InvalidClient => Some(r#"Basic realm="latchkey""#.to_owned()),
            // RFC 6750 §3: the description is quoted, so it must not carry a quote or a backslash.
            OAuthCode::InvalidToken => Some(format!(
                r#"Bearer error="invalid_token", error_description="{}""#,
                self.description.replace(['"', '\\'], "'")
            )),
            _ => None,
        };
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::http::StatusCode;

    use super::*;

    #[test]
    fn client_errors_are_4xx_and_outages_503_with_retry_after() {
        assert!(Error::InvalidRequest("x".into()).status().is_client_error());
        let response = Error::Unavailable.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "5");
    }

    #[test]
    fn unauthorized_asks_for_a_bearer_token() {
        let response = Error::InvalidToken.into_response();
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }

    #[test]
    fn a_signed_out_browser_is_asked_to_sign_in_not_for_a_token() {
        let response = Error::SignInRequired.into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().get(header::WWW_AUTHENTICATE).is_none());
        assert!(!Error::SignInRequired.to_string().contains("token"));
    }

    #[test]
    fn lockout_says_when_to_retry() {
        let response = Error::TooManyAttempts { retry_after: Duration::from_secs(30) }.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "30");
        assert_eq!(Error::TooManyAttempts { retry_after: Duration::from_secs(30) }.to_body().retry_after, Some(30));
    }

    #[test]
    fn each_error_has_its_oauth_status_and_headers() {
        let client = OAuthError::new(OAuthCode::InvalidClient, "no").into_response();
        assert_eq!(client.status(), StatusCode::UNAUTHORIZED);
        assert!(client.headers()[header::WWW_AUTHENTICATE].to_str().unwrap().starts_with("Basic"));
        let grant = OAuthError::new(OAuthCode::InvalidGrant, "used").into_response();
        assert_eq!(grant.status(), StatusCode::BAD_REQUEST);
        assert_eq!(grant.headers()[header::CACHE_CONTROL], "no-store");
        let outage = OAuthError::from(Error::Unavailable).into_response();
        assert_eq!(outage.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(outage.headers()[header::RETRY_AFTER], "5");
        let token = OAuthError::new(OAuthCode::InvalidToken, r#"say "hi""#).into_response();
        assert_eq!(
            token.headers()[header::WWW_AUTHENTICATE],
            r#"Bearer error="invalid_token", error_description="say 'hi'""#
        );
    }
}
