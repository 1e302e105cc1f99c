//! The middleware around the routes: body limits, and the server functions' origin check, error
//! statuses and failed forms' way back to their page.

use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use engine::base::error::ApiError;
use engine::http::error_head;
use engine::http::returned_form::{self, ReturnedForm};
use engine::{Engine, Error};
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;

/// The largest request body accepted anywhere (ceremony rule 7, docs/api.md).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Where Leptos serves server functions.
const SERVER_FN_PREFIX: &str = "/api/";

/// Server functions act on the browser session's cookie, so they must come from the portal's own
/// pages: the `Origin` header (sent by browsers on every POST) must be a configured origin.
pub async fn refuse_foreign_server_fn_calls(State(engine): State<Engine>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with(SERVER_FN_PREFIX) {
        let origin = request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let allowed = origin
            .is_some_and(|o| engine.config.webauthn.origins.iter().any(|u| u.origin().ascii_serialization() == o));
        if !allowed {
            return refuse(request, Error::ForbiddenOrigin).await;
        }
    }
    next.run(request).await
}

/// Where the API reference (Swagger UI, `public/reference/`) is served.
pub const REFERENCE: &str = "/reference/";

/// The API reference's policy: its scripts are its own files only (Swagger UI and `init.js`), it
/// reads nothing but this site, and no form or frame leaves it. Swagger UI sets inline styles, the
/// one thing allowed inline. The portal's pages have their own, nonce-based policy
/// (`app/src/door.rs`); this page is a third party's code on the portal's origin, so it gets one
/// too (attack L8 of the review: it had none, so a script injected into it would have run with the
/// origin's server functions at hand).
const REFERENCE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// Gives the API reference's files [`REFERENCE_POLICY`].
pub async fn reference_policy(request: Request, next: Next) -> Response {
    let reference = request.uri().path().starts_with(REFERENCE);
    let mut response = next.run(request).await;
    if reference {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(REFERENCE_POLICY));
    }
    response
}

/// The portal's answers: pages and server functions carry account data, so none may be cached
/// (`Cache-Control: no-store`; the WASM, CSS and icons may). A server function's error answer gets
/// the status and headers of its error code, as the REST API's errors have (Leptos answers every
/// error with 500); a plain form post without JavaScript, which Leptos answers with a redirect back
/// to the form, is left as it is.
pub async fn portal_answers(request: Request, next: Next) -> Response {
    let server_fn = request.uri().path().starts_with(SERVER_FN_PREFIX);
    let mut response = next.run(request).await;
    if server_fn || is_html(&response) {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let is_server_fn_error = response.headers().contains_key(SERVER_FN_ERROR_HEADER);
    if !is_server_fn_error || response.status().is_redirection() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return Error::internal("a server function's error answer could not be read").into_response();
    };
    let mut response = Response::from_parts(parts, Body::from(bytes.clone()));
    if let Ok(error) = serde_json::from_slice::<ApiError>(&bytes) {
        error_head(&error, &mut response);
    }
    response
}

/// A plain form post to a server function (no JavaScript: the browser asks for HTML) that fails
/// comes back to its page with its error and kept fields in a sealed cookie, and the redirect goes
/// to the page's plain address: Leptos would write `?__path=…&__err=…` into it
/// (`engine::http::returned_form`). A page sent while the cookie is there clears it.
pub async fn returned_forms(State(engine): State<Engine>, request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with(SERVER_FN_PREFIX) {
        let carries =
            engine::http::extract::cookie(request.headers(), returned_form::cookie_name(&engine.config)).is_some();
        let mut response = next.run(request).await;
        if carries && is_html(&response) {
            append_cookie(&mut response, &ReturnedForm::clear_cookie(&engine.config));
        }
        return response;
    }
    let headers = request.headers();
    let accepts_html =
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"));
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !(accepts_html && form) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return Error::PayloadTooLarge.into_response();
    };
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(&bytes).into_owned().collect();
    let mut response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    // Only Leptos's answer to a failed call is read: a server function's own redirect (after a
    // sign-in, to its `next`, which the visitor's address chose) is never rewritten, whatever its
    // query holds, so no link can make it one.
    if !response.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        return response;
    }
    let Some(back) =
        response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).and_then(ErrorRedirect::read)
    else {
        return response;
    };
    if let Ok(location) = HeaderValue::from_str(&back.page) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    if let Some(error) = back.error {
        let returned = ReturnedForm::new(&back.path, error, fields, engine::base::clock::now());
        if let Some(cookie) = returned.cookie(&engine.config) {
            append_cookie(&mut response, &cookie);
        }
    }
    response
}

/// Leptos's redirect back to a form's page, read: the page's own path and query, and the error it
/// carried in `__err` (for the server function at `__path`).
struct ErrorRedirect {
    page: String,
    path: String,
    error: Option<ApiError>,
}

impl ErrorRedirect {
    /// `None` when `location` carries no error: a server function's own redirect (to a page, or to
    /// an app's redirect URI) is left as it is.
    fn read(location: &str) -> Option<Self> {
        // The Referer Leptos redirects to is absolute; only its path and query are kept, so the
        // answer never leaves this site whatever the Referer said.
        let url = url::Url::options()
            .base_url(Some(&url::Url::parse("http://portal.invalid/").ok()?))
            .parse(location)
            .ok()?;
        let (mut path, mut error, mut kept) = (None, None, Vec::new());
        for (key, value) in url.query_pairs() {
            match &*key {
                "__path" => path = Some(value.into_owned()),
                "__err" => error = Some(value.into_owned()),
                _ => kept.push((key.into_owned(), value.into_owned())),
            }
        }
        let path = path?;
        let error = error.as_deref().and_then(returned_form::leptos_error);
        let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish();
        // A path that reads as another host (`//evil.example`) goes home instead.
        let own = if url.path().starts_with("//") { "/" } else { url.path() };
        let page = if query.is_empty() { own.to_owned() } else { format!("{own}?{query}") };
        Some(Self { page, path, error })
    }
}

fn is_html(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

fn append_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// How much of an oversize body is read and thrown away before the 413 is sent, and for how long:
/// a client still sending when the server answers and closes gets a reset connection instead of
/// the answer. Past either bound, the connection is closed anyway.
const DRAIN_BYTES: u64 = 16 * 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Answers a declared oversize body with the API's JSON 413 before any handler reads it (after
/// draining it, within bounds, so the client can read the answer); bodies without a length are cut
/// off by `RequestBodyLimitLayer` as they stream.
pub async fn refuse_oversize_bodies(request: Request, next: Next) -> Response {
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(len) if len > MAX_BODY_BYTES as u64 => {
            if len <= DRAIN_BYTES {
                let mut body = request.into_body().into_data_stream();
                let drain = async { while let Some(Ok(_)) = futures::StreamExt::next(&mut body).await {} };
                let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
            }
            Error::PayloadTooLarge.into_response()
        }
        _ => next.run(request).await,
    }
}

/// Answers `error` to a request whose body was not read, after reading it (at most 64 KiB, for at
/// most a second): hyper closes a keep-alive connection whose request body was left unread, and a
/// client writing its next request on it gets a broken pipe instead of the answer.
pub async fn refuse(request: Request, error: Error) -> Response {
    let _ = tokio::time::timeout(Duration::from_secs(1), to_bytes(request.into_body(), MAX_BODY_BYTES)).await;
    error.into_response()
}

/// Answers 408 `request_timeout` when receiving a request's body and answering it takes longer than
/// `limit` (`LATCHKEY_REQUEST_TIMEOUT_SECS`).
pub async fn time_limit(limit: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Error::RequestTimeout.into_response(),
    }
}
