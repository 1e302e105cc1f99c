//! The console's invitations: a form that makes one (for an address, or for anyone with the link;
//! groups to join; made an administrator; how many days it works), its link shown once, and the
//! newest invitations with whether each is pending, used, withdrawn or expired, and "Withdraw".

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use proto::InvitationItem;

use super::{ConsoleNav, refused};
use crate::pages::confirm::ConfirmFirst;
use crate::pages::{Moment, Notice, SignedInNav, action_error, returned_field};
use crate::server_fns::console::{ConsoleInvite, ConsoleRevokeInvitation, console_invitations};

/// The sentence for `?done=<what>` (only these).
fn done_message(what: &str) -> Option<&'static str> {
    match what {
        "invited" => Some("The invitation is made."),
        "revoked" => Some("The invitation is withdrawn: its link no longer works."),
        _ => None,
    }
}

/// `/admin/console/invitations`.
#[component]
pub fn AdminInvitationsPage() -> impl IntoView {
    let page = Resource::new(|| (), |_| console_invitations());
    let done = use_query_map()
        .with_untracked(|q| q.get("done").as_deref().and_then(done_message).unwrap_or_default().to_owned());
    view! {
        <Title text="Invitations · Administration"/>
        <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
            {move || {
                let done = done.clone();
                Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! {
                            <SignedInNav here="/admin".to_owned()/>
                            <ConsoleNav here="invitations"/>
                            <section class="card wide" aria-labelledby="invitations-title">
                                <h1 id="invitations-title">"Invitations"</h1>
                                <Notice message=done success=true/>
                                {page.new_link.map(|link| view! {
                                    <div class="offer" role="status">
                                        <p><strong>"Invitation link"</strong></p>
                                        <p class="meta">"Copy it now: it is not shown again (only a digest of it is kept). It works once."</p>
                                        <label for="invitation-link">"Link"</label>
                                        <input id="invitation-link" readonly value=link data-testid="invitation-link"/>
                                    </div>
                                })}
                                <InviteForm groups=page.groups/>
                                <h2 class="section-title">"Newest invitations"</h2>
                                <InvitationTable invitations=page.invitations/>
                            </section>
                        }
                        .into_any(),
                        Err(error) => refused(error),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn InviteForm(groups: Vec<String>) -> impl IntoView {
    let invite = ServerAction::<ConsoleInvite>::new();
    let failed = action_error(invite);
    let email = returned_field("email").unwrap_or_default();
    let hint = if groups.is_empty() {
        "(names, by space; no group exists yet)".to_owned()
    } else {
        format!("(names, by space: {})", groups.join(", "))
    };
    view! {
        <h2 class="section-title" id="invite-title">"Invite someone"</h2>
        <ConfirmFirst>
            <ActionForm action=invite attr:id="invite-form" attr:class="stacked" attr:aria-labelledby="invite-title">
                <label for="invite-email">"Email " <span class="hint">"(optional: only this address may use it, and it is mailed there)"</span></label>
                <input id="invite-email" name="email" type="email" value=email data-testid="invite-email" aria-describedby="invite-error"/>
                <label for="invite-groups">"Groups " <span class="hint">{hint}</span></label>
                <input id="invite-groups" name="groups" data-testid="invite-groups"/>
                <label for="invite-days">"Works for " <span class="hint">"(days, 1 to 30)"</span></label>
                <input id="invite-days" name="days" value="7" inputmode="numeric" data-testid="invite-days"/>
                <label class="check"><input type="checkbox" name="admin" value="on"/> " Make them an administrator"</label>
                <button type="submit" class="button" data-testid="invite">"Make the invitation"</button>
            </ActionForm>
        </ConfirmFirst>
        <Notice message=failed id="invite-error"/>
    }
    .into_any()
}

#[component]
fn InvitationTable(invitations: Vec<InvitationItem>) -> impl IntoView {
    if invitations.is_empty() {
        return view! { <p class="meta">"None yet."</p> }.into_any();
    }
    let revoke = ServerAction::<ConsoleRevokeInvitation>::new();
    let failed = action_error(revoke);
    let table = view! {
        <table class="list" data-testid="invitations">
            <thead><tr><th scope="col">"For"</th><th scope="col">"Groups"</th><th scope="col">"Made"</th><th scope="col">"State"</th><th scope="col"><span class="visually-hidden">"Action"</span></th></tr></thead>
            <tbody>
                {invitations.into_iter().map(|invitation| {
                    let pending = invitation.state == "pending";
                    let (form_id, id) = (format!("withdraw-{}", invitation.id), invitation.id.clone());
                    view! {
                        <tr data-testid="invitation-row" data-state=invitation.state.clone()>
                            <td>{invitation.email.clone().unwrap_or_else(|| "anyone with the link".into())}
                                {invitation.admin.then(|| view! { " " <span class="badge synced">"administrator"</span> })}</td>
                            <td>{invitation.groups.join(", ")}</td>
                            <td><Moment at=invitation.created_at.clone()/></td>
                            <td>{state_label(&invitation.state)}</td>
                            <td>{pending.then(|| view! {
                                <ActionForm action=revoke attr:class="inline" attr:id=form_id>
                                    <input type="hidden" name="id" value=id/>
                                    <button type="submit" class="button small danger">"Withdraw"</button>
                                </ActionForm>
                            })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    };
    view! {
        <ConfirmFirst>{table}</ConfirmFirst>
        <Notice message=failed/>
    }
    .into_any()
}

fn state_label(state: &str) -> &'static str {
    match state {
        "pending" => "waiting",
        "used" => "used",
        "revoked" => "withdrawn",
        _ => "expired",
    }
}
