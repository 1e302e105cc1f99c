//! The OpenID Connect provider's pages: the consent page (which app, which account, what it will
//! receive; Allow or Deny as a plain form) and the error page for a request that must not be sent
//! back to its app (an unknown app or return address). Both are server-rendered with no island.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use proto::{AuthorizeProblem, ErrorCode};

use crate::navigator;
use crate::pages::SignInPrompt;
use crate::return_path::page_then;
use crate::server_fns::{AnswerConsent, consent_for};

/// `/consent?request=…`: may the app sign the user in, and receive what it asks for?
#[component]
pub fn ConsentPage() -> impl IntoView {
    let request = use_query_map().with_untracked(|q| q.get("request")).unwrap_or_default();
    let view_of = Resource::new(
        {
            let request = request.clone();
            move || request.clone()
        },
        consent_for,
    );
    view! {
        <Title text="Allow access"/>
        <section class="card" aria-labelledby="consent-title">
            <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
                {move || {
                    let request = request.clone();
                    Suspend::new(async move {
                        match view_of.await {
                            Ok(consent) => view! { <Consent consent request/> }.into_any(),
                            Err(error) if error.code() == ErrorCode::SignInRequired => {
                                view! { <SignInPrompt message="Your sign-in has ended. Sign in, then go back to the app and try again.".into()/> }.into_any()
                            }
                            Err(error) => view! {
                                <h1 id="consent-title">"This request cannot continue"</h1>
                                <p class="status" data-testid="consent-error">{error.message().to_owned()}</p>
                            }
                            .into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn Consent(consent: proto::ConsentView, request: String) -> impl IntoView {
    let answer = ServerAction::<AnswerConsent>::new();
    view! {
        <h1 id="consent-title">{format!("Sign in to {}", consent.app_name)}</h1>
        <p>
            <strong data-testid="consent-app">{consent.app_name.clone()}</strong>
            " will sign you in as "
            <strong data-testid="consent-email">{consent.email}</strong>
            " and receive:"
        </p>
        <ul class="receives" data-testid="consent-receives">
            {consent.receives.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}
        </ul>
        <p class="meta" data-testid="app-origin">{consent.app_name.clone()} " is at " <strong>{consent.app_origin}</strong> "."</p>
        <p class="meta">
            "Not you? " <a href=page_then("/", &consent.resume) data-testid="consent-not-you">"Use another account"</a>
        </p>
        <p class="aside">{format!("{} remembers your answer for this app.", navigator::product_name())}</p>
        // A plain form: the button pressed is the answer.
        <ActionForm action=answer>
            <input type="hidden" name="request" value=request/>
            <button type="submit" name="decision" value="allow" class="button primary wide" data-testid="consent-allow">
                "Allow"
            </button>
            <button type="submit" name="decision" value="deny" class="button wide" data-testid="consent-deny">
                "Deny"
            </button>
        </ActionForm>
    }
}

/// `/oidc/error?reason=…`: why the browser was not sent back to the app (answered with 400).
#[component]
pub fn AppErrorPage() -> impl IntoView {
    let reason = use_query_map().with_untracked(|q| q.get("reason")).unwrap_or_default();
    let problem = AuthorizeProblem::from_slug(&reason);
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::BAD_REQUEST);
    }
    let message = problem.map_or("This request cannot continue.", AuthorizeProblem::message);
    view! {
        <Title text="Sign-in problem"/>
        <section class="card" aria-labelledby="app-error-title">
            <h1 id="app-error-title">"This request cannot continue"</h1>
            <p class="status" data-testid="app-error">{message}</p>
            <p><a class="button" href="/">{format!("Go to {}", navigator::product_name())}</a></p>
        </section>
    }
}
