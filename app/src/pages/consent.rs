//! The OpenID Connect provider's pages: the consent page (which app, which account, what it will
//! receive; Allow or Deny as a plain form), the access page (why the account cannot sign in to the
//! app yet, and what to do), and the error page for a request that must not be sent back to its
//! app (an unknown app or return address). All are server-rendered with no island.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use proto::{AuthorizeProblem, Barrier, ErrorCode};

use crate::navigator;
use crate::pages::{AppLogo, Notice, SignInPrompt, action_error};
use crate::return_path::page_then;
use crate::server_fns::{AnswerConsent, SendVerification, access_for, consent_for};

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

/// `/access?request=…`: the signed-in account cannot sign in to the app yet; why, and what to do.
#[component]
pub fn AccessPage() -> impl IntoView {
    let (request, sent) =
        use_query_map().with_untracked(|q| (q.get("request").unwrap_or_default(), q.get("sent").is_some()));
    let view_of = Resource::new(
        {
            let request = request.clone();
            move || request.clone()
        },
        access_for,
    );
    view! {
        <Title text="Not yet"/>
        <section class="card" aria-labelledby="access-title">
            <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
                {move || {
                    let request = request.clone();
                    Suspend::new(async move {
                        match view_of.await {
                            Ok(access) => view! { <Access access request sent/> }.into_any(),
                            Err(error) if error.code() == ErrorCode::SignInRequired => {
                                view! { <SignInPrompt message="Your sign-in has ended. Sign in, then go back to the app and try again.".into()/> }.into_any()
                            }
                            Err(error) => view! {
                                <h1 id="access-title">"This request cannot continue"</h1>
                                <p class="status" data-testid="access-error">{error.message().to_owned()}</p>
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
fn Access(access: proto::AccessView, request: String, sent: bool) -> impl IntoView {
    let resend = ServerAction::<SendVerification>::new();
    let back_here = format!("/access?request={request}&sent=1");
    let why = match access.barrier {
        None => view! {
            <h1 id="access-title">{format!("Sign in to {}", access.app_name)}</h1>
            <p class="status">"Nothing stands in the way any more."</p>
        }
        .into_any(),
        Some(Barrier::UnconfirmedAddress) => view! {
            <h1 id="access-title">{format!("Confirm your address to sign in to {}", access.app_name)}</h1>
            <p data-testid="access-reason">
                {format!("{} signs in to apps only once your email address is confirmed. ", navigator::product_name())}
                "We mailed a link to " <strong data-testid="access-email">{access.email.clone()}</strong>
                ": follow it, then continue here."
            </p>
            {sent.then(|| view! { <p class="status" role="status" data-testid="access-sent">"A new link is on its way."</p> })}
            <ActionForm action=resend>
                <input type="hidden" name="next" value=back_here/>
                <Notice id="access-error" message=action_error(resend)/>
                <button type="submit" class="button" data-testid="access-resend">"Send the link again"</button>
            </ActionForm>
        }
        .into_any(),
        Some(Barrier::NotAllowed) => view! {
            <h1 id="access-title">{format!("Your account can't use {}", access.app_name)}</h1>
            <p data-testid="access-reason">
                {format!("{} lets only some groups of people sign in to it, and ", access.app_name)}
                <strong data-testid="access-email">{access.email.clone()}</strong>
                {format!(" is in none of them. If you should have access, ask an administrator of {} to add you.", navigator::product_name())}
            </p>
            <p><a href="/" data-testid="access-home">"Back to your account"</a></p>
        }
        .into_any(),
    };
    let can_go_on = access.barrier != Some(Barrier::NotAllowed);
    view! {
        <AppLogo src=access.app_logo.clone()/>
        {why}
        {can_go_on.then(|| view! { <p><a class="button primary" href=access.resume data-testid="access-continue">"Continue"</a></p> })}
    }
}

#[component]
fn Consent(consent: proto::ConsentView, request: String) -> impl IntoView {
    let answer = ServerAction::<AnswerConsent>::new();
    view! {
        <AppLogo src=consent.app_logo.clone()/>
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
