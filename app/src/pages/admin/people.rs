//! The console's people: a search by address or name, a page at a time, and each person's page —
//! their passkeys (authenticator and whether synced), sign-ins going, groups and recent activity —
//! with what an administrator does to an account: disable or enable it, make it an administrator or
//! no longer one, make a recovery link (shown once), delete it (type its address). Plain forms
//! inside "confirm it's you".

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use proto::{PeoplePage, Person, PersonFacts};

use super::{ConsoleNav, refused};
use crate::pages::confirm::ConfirmFirst;
use crate::pages::{Moment, Notice, SignedInNav, action_error};
use crate::server_fns::console::{
    ConsoleDeletePerson, ConsoleRecoveryLink, ConsoleSetAdmin, ConsoleSetDisabled, console_people, console_person,
    person_page,
};

/// The sentence for `?done=<what>` (only these).
fn done_message(what: &str) -> Option<&'static str> {
    match what {
        "disabled" => Some("The account is disabled: it is signed out everywhere and cannot sign in."),
        "enabled" => Some("The account is enabled again."),
        "admin_granted" => Some("The account is an administrator now."),
        "admin_revoked" => Some("The account is no longer an administrator."),
        "recovery_link" => Some("A recovery link is made. Give it to the person yourself."),
        "deleted" => Some("The account is deleted."),
        _ => None,
    }
}

fn query(name: &str) -> String {
    use_query_map().with_untracked(|q| q.get(name).unwrap_or_default())
}

/// `q` as a query value: letters, digits and `-._~` as they are, the rest percent-encoded.
fn encoded(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `/admin/console/people`.
#[component]
pub fn AdminPeoplePage() -> impl IntoView {
    let (q, cursor) = (query("q"), query("cursor"));
    let page = Resource::new(move || (q.clone(), cursor.clone()), |(q, cursor)| console_people(q, cursor));
    let done = query("done");
    let done = done_message(&done).unwrap_or_default().to_owned();
    view! {
        <Title text="People · Administration"/>
        <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
            {move || {
                let done = done.clone();
                Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! {
                            <SignedInNav here="/admin".to_owned()/>
                            <ConsoleNav here="people"/>
                            <section class="card wide" aria-labelledby="people-title">
                                <h1 id="people-title">"People"</h1>
                                <Notice message=done success=true/>
                                <PeopleList page/>
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
fn PeopleList(page: PeoplePage) -> impl IntoView {
    let next =
        page.next_cursor.map(|cursor| format!("/admin/console/people?q={}&cursor={cursor}", encoded(&page.query)));
    view! {
        <form method="get" action="/admin/console/people" class="inline" role="search">
            <label for="people-q">"Search by email or name"</label>
            <input id="people-q" name="q" type="search" value=page.query.clone() data-testid="people-q"/>
            <button type="submit" class="button small">"Search"</button>
        </form>
        {if page.people.is_empty() {
            view! { <p class="meta" data-testid="no-people">"Nobody matches."</p> }.into_any()
        } else {
            view! {
                <table class="list" data-testid="people">
                    <thead><tr><th scope="col">"Email"</th><th scope="col">"Name"</th><th scope="col">"Since"</th><th scope="col">"State"</th></tr></thead>
                    <tbody>
                        {page.people.into_iter().map(|person| view! {
                            <tr data-testid="person-row">
                                <td><a href=person_page(&person.id)>{person.email.clone()}</a></td>
                                <td>{person.name.clone().unwrap_or_default()}</td>
                                <td><Moment at=person.created_at.clone()/></td>
                                <td><Badges person/></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        {next.map(|href| view! { <p><a href=href data-testid="next-page">"Next page"</a></p> })}
    }
    .into_any()
}

#[component]
fn Badges(person: Person) -> impl IntoView {
    view! {
        {person.admin.then(|| view! { <span class="badge synced">"administrator"</span> " " })}
        {person.disabled.then(|| view! { <span class="badge danger" data-testid="disabled-badge">"disabled"</span> " " })}
        {(!person.email_verified).then(|| view! { <span class="badge">"unconfirmed"</span> })}
    }
}

/// `/admin/console/people/{id}`.
#[component]
pub fn AdminPersonPage() -> impl IntoView {
    let id = use_params_map().with_untracked(|p| p.get("id").unwrap_or_default());
    let page = Resource::new(move || id.clone(), console_person);
    let done = done_message(&query("done")).unwrap_or_default().to_owned();
    view! {
        <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
            {move || {
                let done = done.clone();
                Suspend::new(async move {
                    match page.await {
                        Ok(page) => {
                            let facts = page.facts;
                            let person = facts.person.clone();
                            view! {
                                <Title text=format!("{} · People · Administration", person.email)/>
                                <SignedInNav here="/admin".to_owned()/>
                                <ConsoleNav here="people"/>
                                <section class="card wide" aria-labelledby="person-title">
                                    <p class="meta"><a href="/admin/console/people">"People"</a></p>
                                    <h1 id="person-title" data-testid="person-email">{person.email.clone()}</h1>
                                    <p class="meta">{person.name.clone().unwrap_or_default()} " " <Badges person=person.clone()/></p>
                                    <Notice message=done success=true/>
                                    {page.recovery_link.map(|link| view! {
                                        <div class="offer" role="status">
                                            <p><strong>"Recovery link"</strong></p>
                                            <p class="meta">"Give it to them yourself, over a channel you trust. It works once, for an hour, and is not shown again."</p>
                                            <label for="recovery-link">"Link"</label>
                                            <input id="recovery-link" readonly value=link data-testid="recovery-link"/>
                                        </div>
                                    })}
                                    <Facts facts/>
                                    <Actions person is_self=page.is_self/>
                                </section>
                            }
                            .into_any()
                        }
                        Err(error) => refused(error),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn Facts(facts: PersonFacts) -> impl IntoView {
    view! {
        <h2 class="section-title">"Passkeys"</h2>
        {if facts.passkeys.is_empty() {
            view! { <p class="meta">"None."</p> }.into_any()
        } else {
            view! {
                <ul class="plain" data-testid="person-passkeys">
                    {facts.passkeys.into_iter().map(|passkey| view! {
                        <li>
                            <strong>{passkey.name.clone()}</strong> " · " {passkey.authenticator.name.clone()} " · "
                            {if passkey.backed_up { "synced" } else { "on one device" }}
                            <p class="meta">"Last used " {match passkey.last_used_at.clone() {
                                Some(at) => view! { <Moment at/> }.into_any(),
                                None => "never".into_any(),
                            }}</p>
                        </li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        <h2 class="section-title">"Sign-ins going"</h2>
        {if facts.sign_ins.is_empty() {
            view! { <p class="meta">"None."</p> }.into_any()
        } else {
            view! {
                <ul class="plain" data-testid="person-sign-ins">
                    {facts.sign_ins.into_iter().map(|sign_in| view! {
                        <li>{sign_in.device.clone()} " · " {sign_in.method.clone()}
                            {sign_in.client_id.clone().map(|app| view! { " · app " <code>{app}</code> })}
                            " · since " <Moment at=sign_in.created_at.clone()/></li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        <h2 class="section-title">"Groups"</h2>
        <p data-testid="person-groups">{if facts.groups.is_empty() { "None.".to_owned() } else { facts.groups.join(", ") }}</p>
        <h2 class="section-title">"Recent activity"</h2>
        <ul class="plain activity">
            {facts.activity.into_iter().map(|event| view! {
                <li><span>{event.summary.clone()}</span><p class="meta"><Moment at=event.at.clone()/></p></li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn Actions(person: Person, is_self: bool) -> impl IntoView {
    let disable = ServerAction::<ConsoleSetDisabled>::new();
    let admin = ServerAction::<ConsoleSetAdmin>::new();
    let link = ServerAction::<ConsoleRecoveryLink>::new();
    let delete = ServerAction::<ConsoleDeletePerson>::new();
    let failed = [action_error(disable), action_error(admin), action_error(link)];
    let delete_failed = action_error(delete);
    let (id_disable, id_admin, id_link, id_delete) =
        (person.id.clone(), person.id.clone(), person.id.clone(), person.id.clone());
    let (disabled, is_admin, email) = (person.disabled, person.admin, person.email.clone());
    view! {
        <h2 class="section-title">"Actions"</h2>
        <ConfirmFirst>
            <ActionForm action=disable attr:id="disable-form" attr:class="inline">
                <input type="hidden" name="id" value=id_disable/>
                <input type="hidden" name="disabled" value=(!disabled).to_string()/>
                <button type="submit" class=if disabled { "button small" } else { "button small danger" } data-testid="toggle-disabled">
                    {if disabled { "Enable the account" } else { "Disable the account" }}
                </button>
            </ActionForm>
            <ActionForm action=admin attr:id="admin-form" attr:class="inline">
                <input type="hidden" name="id" value=id_admin/>
                <input type="hidden" name="admin" value=(!is_admin).to_string()/>
                <button type="submit" class="button small" data-testid="toggle-admin">
                    {if is_admin { "No longer an administrator" } else { "Make an administrator" }}
                </button>
            </ActionForm>
            {(!disabled).then(|| view! {
                <ActionForm action=link attr:id="recovery-form" attr:class="inline">
                    <input type="hidden" name="id" value=id_link/>
                    <button type="submit" class="button small" data-testid="make-recovery-link">"Make a recovery link"</button>
                </ActionForm>
            })}
        </ConfirmFirst>
        {failed.into_iter().map(|message| view! { <Notice message/> }).collect_view()}
        {(!is_self).then(|| view! {
            <h2 class="section-title" id="delete-person-title">"Delete"</h2>
            <p class="meta">"Everything of the account goes at once; the record keeps its address. This cannot be undone."</p>
            <ConfirmFirst>
                <ActionForm action=delete attr:id="delete-person-form" attr:class="inline" attr:aria-labelledby="delete-person-title">
                    <input type="hidden" name="id" value=id_delete/>
                    <label for="confirm-person">"Type " <code>{email}</code> " to delete it"</label>
                    <input id="confirm-person" name="confirm" autocomplete="off" required data-testid="confirm-person"/>
                    <button type="submit" class="button small danger" data-testid="delete-person">"Delete the account"</button>
                </ActionForm>
            </ConfirmFirst>
            <Notice message=delete_failed/>
        })}
    }
    .into_any()
}
