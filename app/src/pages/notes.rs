//! An example of a page only signed-in visitors may see, for forks to copy: a server function that
//! knows who is asking (`door::account()`), and a page behind the sign-in guard. A signed-out
//! visitor of `/notes` is sent to the sign-in page and brought back here afterwards.
//!
//! To add a page like it: copy this file, add its `mod` line, `<Route>` and navigation line in
//! `pages/mod.rs`, and a test like `end2end/tests/notes.spec.ts`.

use leptos::prelude::*;
use leptos_meta::Title;
use proto::UserInfo;

use crate::error::PortalError;
use crate::pages::RequireSignIn;

/// The signed-in user this page is for. A server function's body runs only on the server, so it
/// may call the engine; `door::account()` answers "Please sign in to see this page." to anyone
/// signed out, so a protected server function is protected even when called without the page.
#[leptos::server]
pub async fn notes_owner() -> Result<UserInfo, PortalError> {
    crate::door::account().await
}

/// `/notes`: the signed-in user's notes (none yet: this is where a fork's own feature goes).
#[component]
pub fn NotesPage() -> impl IntoView {
    view! {
        <Title text="Notes"/>
        <RequireSignIn>
            <Notes/>
        </RequireSignIn>
    }
}

#[component]
fn Notes() -> impl IntoView {
    let owner = Resource::new(|| (), |_| notes_owner());
    view! {
        <section class="card" aria-labelledby="notes-title">
            <h1 id="notes-title">"Your notes"</h1>
            <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match owner.await {
                        Ok(user) => view! {
                            <p>"Signed in as " <strong data-testid="notes-owner">{user.email}</strong> "."</p>
                            <p class="status">"No notes yet."</p>
                        }
                        .into_any(),
                        Err(error) => view! { <p class="status">{error.message().to_owned()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
