//! The admin API: who may call it (administrators and the operator's token, nobody else), the
//! last administrator, changes that need a recent sign-in and are recorded with the account's
//! activity, pages and their cursors, groups and invitations.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Env, SmtpServer, TestServer, operator, stores};

const OPERATOR_TOKEN: &str = "an-operator-token-of-at-least-32-characters";

/// A server with the operator's token, its settings (for the command line) and its database.
async fn admin_server(env: Env) -> (TestServer, Env) {
    let env = env.set("LATCHKEY_ADMIN_TOKEN", OPERATOR_TOKEN);
    (TestServer::start_with(env.clone()).await, env)
}

/// The account id of an access token (its `sub`).
async fn id_of(server: &TestServer, token: &str) -> String {
    server.get("/auth/me", Some(token)).await.body["id"].as_str().unwrap().to_owned()
}

/// `PATCH /admin/users/{id}` with `body`, as `token`.
async fn patch_user(server: &TestServer, token: &str, id: &str, body: Value) -> crate::common::Answer {
    server.request(Method::PATCH, &format!("/admin/users/{id}"), Some(token), Some(body)).await
}

/// Every route of the admin API, with a body where it takes one.
fn every_route(user: &str) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::GET, "/admin/users".into(), None),
        (Method::GET, format!("/admin/users/{user}"), None),
        (Method::PATCH, format!("/admin/users/{user}"), Some(json!({"admin": true}))),
        (Method::DELETE, format!("/admin/users/{user}"), None),
        (Method::POST, format!("/admin/users/{user}/recovery-link"), Some(json!({}))),
        (Method::POST, "/admin/recovery-links".into(), Some(json!({"email": "ada@example.com"}))),
        (Method::GET, "/admin/groups".into(), None),
        (Method::POST, "/admin/groups".into(), Some(json!({"name": "staff"}))),
        (Method::GET, "/admin/groups/staff".into(), None),
        (Method::PATCH, "/admin/groups/staff".into(), Some(json!({"description": "x"}))),
        (Method::DELETE, "/admin/groups/staff".into(), None),
        (Method::POST, "/admin/groups/staff/members".into(), Some(json!({"user_id": user}))),
        (Method::DELETE, format!("/admin/groups/staff/members/{user}"), None),
        (Method::GET, "/admin/invitations".into(), None),
        (Method::POST, "/admin/invitations".into(), Some(json!({}))),
        (Method::DELETE, "/admin/invitations/some-id".into(), None),
        (Method::GET, "/admin/audit".into(), None),
    ]
}

/// Nobody but an administrator (whose account is one now, and whose sign-in stands) and the
/// operator's token gets anything under /admin: no token is 401, anyone else's is 403
/// `admin_required` on every route; granted at the command line, the same token works, and no
/// longer once revoked.
#[tokio::test]
async fn the_admin_api_answers_administrators_and_the_operators_token_only() {
    let (server, env) = admin_server(Env::new().await).await;
    let (ada, _) = server.sign_up("ada@example.com").await;
    let ada_id = id_of(&server, &ada).await;

    for (method, path, body) in every_route(&ada_id) {
        let anonymous = server.request(method.clone(), &path, None, body.clone()).await;
        assert_eq!((anonymous.status, anonymous.code()), (StatusCode::UNAUTHORIZED, "invalid_token"), "{path}");
        let user = server.request(method.clone(), &path, Some(&ada), body.clone()).await;
        assert_eq!((user.status, user.code()), (StatusCode::FORBIDDEN, "admin_required"), "{method} {path}");
        let forged = server.request(method, &path, Some("an-operator-token-of-at-least-32-characterz"), body).await;
        assert_eq!(forged.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    let listed = server.get("/admin/users", Some(OPERATOR_TOKEN)).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["users"][0]["email"], "ada@example.com");
    assert_eq!(listed.body["users"][0]["admin"], false);

    let (granted, said) = operator(&env, &["admin", "grant", "ADA@example.com"]);
    assert!(granted && said.contains("ada@example.com is an administrator"), "{said}");
    let (_, said) = operator(&env, &["admin", "admins"]);
    assert!(said.starts_with("ada@example.com  since "), "{said}");
    let me = server.get(&format!("/admin/users/{ada_id}"), Some(&ada)).await;
    assert_eq!((me.status, me.body["admin"].as_bool()), (StatusCode::OK, Some(true)), "{}", me.body);

    // Ada can revoke nobody else's flag before there is another administrator: she is the last.
    let (bob, _) = server.sign_up("bob@example.com").await;
    let bob_id = id_of(&server, &bob).await;
    let made = patch_user(&server, &ada, &bob_id, json!({"admin": true})).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    assert_eq!(server.get("/admin/groups", Some(&bob)).await.status, StatusCode::OK);
    let (revoked, said) = operator(&env, &["admin", "revoke", "bob@example.com"]);
    assert!(revoked, "{said}");
    let after = server.get("/admin/groups", Some(&bob)).await;
    assert_eq!((after.status, after.code()), (StatusCode::FORBIDDEN, "admin_required"), "the same token, no more");

    // An administrator whose sign-in ended reads nothing with its token.
    let ended = server.post("/auth/logout", Some(&ada), json!({})).await;
    assert!(ended.status.is_success(), "{}", ended.body);
    let after = server.get("/admin/users", Some(&ada)).await;
    assert_eq!((after.status, after.code()), (StatusCode::UNAUTHORIZED, "invalid_token"));
}

/// The last administrator who can act is never revoked, disabled or deleted — through the API or
/// at the command line — and two administrators revoking each other at once leave one.
#[tokio::test]
async fn the_last_administrator_is_never_removed() {
    let (server, env) = admin_server(Env::new().await).await;
    let (ada, _) = server.sign_up("ada@example.com").await;
    let ada_id = id_of(&server, &ada).await;
    assert!(operator(&env, &["admin", "grant", "ada@example.com"]).0);

    for body in [json!({"admin": false}), json!({"disabled": true})] {
        let refused = patch_user(&server, &ada, &ada_id, body).await;
        assert_eq!((refused.status, refused.code()), (StatusCode::CONFLICT, "last_admin"), "{}", refused.body);
    }
    let deleted = server.request(Method::DELETE, &format!("/admin/users/{ada_id}"), Some(OPERATOR_TOKEN), None).await;
    assert_eq!((deleted.status, deleted.code()), (StatusCode::CONFLICT, "last_admin"));
    let own = server.request(Method::DELETE, "/auth/me", Some(&ada), Some(json!({"email": "ada@example.com"}))).await;
    assert_eq!((own.status, own.code()), (StatusCode::CONFLICT, "last_admin"), "nor by her own hand");
    for command in ["revoke", "disable"] {
        let (done, said) = operator(&env, &["admin", command, "ada@example.com"]);
        assert!(!done && said.contains("This is the last administrator"), "{command}: {said}");
    }
    let me = server.get(&format!("/admin/users/{ada_id}"), Some(&ada)).await;
    assert_eq!((me.body["admin"].as_bool(), me.body["disabled"].as_bool()), (Some(true), Some(false)));

    // Two administrators, each revoking the other at the same moment, twenty times over: one stays.
    for round in 0..20 {
        let (bob, _) = server.sign_up(&format!("bob{round}@example.com")).await;
        let bob_id = id_of(&server, &bob).await;
        assert_eq!(patch_user(&server, &ada, &bob_id, json!({"admin": true})).await.status, StatusCode::OK);
        let (one, other) = tokio::join!(
            patch_user(&server, &ada, &bob_id, json!({"admin": false})),
            patch_user(&server, &bob, &ada_id, json!({"admin": false})),
        );
        // The one that came second is refused: `last_admin` inside the change, or `admin_required`
        // when the first had already committed before it was let in.
        let statuses = [one.status, other.status];
        assert!(!statuses.iter().all(|s| *s == StatusCode::OK), "round {round}: {} {}", one.body, other.body);
        let admins = server.get("/admin/users", Some(OPERATOR_TOKEN)).await.body["users"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["admin"] == true)
            .count();
        assert_eq!(admins, 1, "round {round}");
        // Ada must be the one for the next round.
        if other.status == StatusCode::OK {
            assert!(operator(&env, &["admin", "grant", "ada@example.com"]).0);
            assert!(operator(&env, &["admin", "revoke", &format!("bob{round}@example.com")]).0);
        }
    }
}

/// An administrator's change needs a recent sign-in (reads do not); each change is one transaction
/// with its row in the record — who, what, to whom, from where — the account's activity row and,
/// where it concerns the owner, their mail.
#[tokio::test]
async fn an_admin_change_needs_a_recent_sign_in_and_is_recorded_with_the_accounts_activity() {
    let smtp = SmtpServer::start();
    let env = Env::new().await.set("LATCHKEY_SMTP_URL", SmtpServer::url_at(smtp.addr));
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let (server, env) = admin_server(env).await;
    let db = stores::connect(&database).await;
    let (_, ada_refresh) = server.sign_up("ada@example.com").await;
    let (bob, bob_refresh) = server.sign_up("bob@example.com").await;
    server.confirm_address(&smtp, &bob, "bob@example.com").await;
    let bob_id = id_of(&server, &bob).await;
    assert!(operator(&env, &["admin", "grant", "ada@example.com"]).0);

    stores::age_sign_ins(&db, 3600).await;
    let old = server.post("/auth/refresh", None, json!({ "refresh_token": ada_refresh })).await;
    let old = old.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(server.get(&format!("/admin/users/{bob_id}"), Some(&old)).await.status, StatusCode::OK);
    let refused = patch_user(&server, &old, &bob_id, json!({"disabled": true})).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::UNAUTHORIZED, "reauthentication_required"));
    let made = server.post("/admin/groups", Some(&old), json!({"name": "staff"})).await;
    assert_eq!(made.code(), "reauthentication_required");

    let fresh = server
        .post("/auth/login", None, json!({"email": "ada@example.com", "password": "correct horse battery"}))
        .await;
    let ada = fresh.body["access_token"].as_str().unwrap().to_owned();
    let disabled = patch_user(&server, &ada, &bob_id, json!({"disabled": true, "name": "Bob B."})).await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
    assert_eq!((disabled.body["disabled"].as_bool(), disabled.body["name"].as_str()), (Some(true), Some("Bob B.")));
    assert!(disabled.body["sign_ins"].as_array().unwrap().is_empty(), "every sign-in ended: {}", disabled.body);
    let refreshed = server.post("/auth/refresh", None, json!({ "refresh_token": bob_refresh })).await;
    assert_eq!(refreshed.code(), "invalid_refresh_token");
    smtp.mail_with("bob@example.com", "Your account was disabled").await;

    let kinds: Vec<&str> =
        disabled.body["activity"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(&kinds[..2], ["renamed_by_admin", "account_disabled"], "the name last: {kinds:?}");
    let record = server.get("/admin/audit", Some(&ada)).await;
    let entries = record.body["entries"].as_array().unwrap();
    let ada_id = id_of(&server, &ada).await;
    let disabling = &entries[1];
    assert_eq!(disabling["action"], "account_disabled");
    assert_eq!(
        (disabling["actor"].as_str(), disabling["actor_email"].as_str()),
        (Some(ada_id.as_str()), Some("ada@example.com"))
    );
    assert_eq!(
        (disabling["user_id"].as_str(), disabling["user_email"].as_str()),
        (Some(bob_id.as_str()), Some("bob@example.com"))
    );
    assert_eq!(disabling["address"], "127.0.0.1");
    assert_eq!(
        (entries[0]["action"].as_str(), entries[0]["detail"].as_str()),
        (Some("account_renamed"), Some("Bob B."))
    );
    let granted = entries.last().unwrap();
    assert_eq!((granted["action"].as_str(), granted["actor"].as_str()), (Some("admin_granted"), Some("operator")));
    assert!(granted["address"].is_null(), "the command line has no address");

    // A change that fails is not recorded, and nothing of it stays.
    let before = entries.len();
    let refused = patch_user(&server, &ada, &ada_id, json!({"disabled": true})).await;
    assert_eq!(refused.code(), "last_admin");
    assert_eq!(server.get("/admin/audit", Some(&ada)).await.body["entries"].as_array().unwrap().len(), before);

    // Deleting is the owner's own deletion: the account is gone, the record keeps its address.
    let gone = server.request(Method::DELETE, &format!("/admin/users/{bob_id}"), Some(&ada), None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.body);
    let missing = server.get(&format!("/admin/users/{bob_id}"), Some(&ada)).await;
    assert_eq!((missing.status, missing.code()), (StatusCode::NOT_FOUND, "account_not_found"));
    let record = server.get("/admin/audit", Some(&ada)).await;
    assert_eq!(record.body["entries"][0]["action"], "account_deleted");
    assert_eq!(record.body["entries"][0]["user_email"], "bob@example.com");
}

/// Lists come a page at a time, sorted, after a cursor the server sealed: a cursor that was changed,
/// or given by another list, is 400 `invalid_cursor`; a limit outside 1 to 100 is 400.
#[tokio::test]
async fn lists_come_a_page_at_a_time_and_a_changed_cursor_is_refused() {
    let (server, _) = admin_server(Env::new().await).await;
    for name in ["erin", "dave", "carol", "bob", "ada"] {
        server.sign_up(&format!("{name}@example.com")).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/admin/users?limit=2&cursor={c}"),
            None => "/admin/users?limit=2".to_owned(),
        };
        let page = server.get(&path, Some(OPERATOR_TOKEN)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        seen.extend(page.body["users"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let names: Vec<&str> = seen.iter().map(|e| e.split('@').next().unwrap()).collect();
    assert_eq!(names, ["ada", "bob", "carol", "dave", "erin"]);

    let found = server.get("/admin/users?q=CAR", Some(OPERATOR_TOKEN)).await;
    assert_eq!(found.body["users"].as_array().unwrap().len(), 1, "{}", found.body);
    let none = server.get("/admin/users?q=%25", Some(OPERATOR_TOKEN)).await;
    assert!(none.body["users"].as_array().unwrap().is_empty(), "% is a character, not a wildcard: {}", none.body);

    let first = server.get("/admin/users?limit=2", Some(OPERATOR_TOKEN)).await;
    let good = first.body["next_cursor"].as_str().unwrap().to_owned();
    let mut changed = good.clone().into_bytes();
    let last = changed.len() - 1;
    changed[last] = if changed[last] == b'A' { b'B' } else { b'A' };
    let changed = String::from_utf8(changed).unwrap();
    for cursor in [changed.as_str(), "bob@example.com", "not a cursor at all"] {
        let refused = server.get(&format!("/admin/users?cursor={cursor}"), Some(OPERATOR_TOKEN)).await;
        assert_eq!((refused.status, refused.code()), (StatusCode::BAD_REQUEST, "invalid_cursor"), "{cursor}");
    }
    let elsewhere = server.get(&format!("/admin/audit?cursor={good}"), Some(OPERATOR_TOKEN)).await;
    assert_eq!(elsewhere.code(), "invalid_cursor", "a users cursor does not open the record");
    for limit in ["0", "101", "many"] {
        let refused = server.get(&format!("/admin/users?limit={limit}"), Some(OPERATOR_TOKEN)).await;
        assert_eq!((refused.status, refused.code()), (StatusCode::BAD_REQUEST, "invalid_request"), "{limit}");
    }
}

/// Groups and invitations through the API: bad names and unknown ids are clear 4xx; an invitation
/// that joins a group and makes an administrator does both when used; an invitation for a taken
/// address is refused; used, revoked and pending ones are listed as such.
#[tokio::test]
async fn groups_and_invitations_are_managed_through_the_api() {
    let env = Env::new().await.set("LATCHKEY_SIGN_UP", "invite");
    let (server, _) = admin_server(env).await;
    let op = Some(OPERATOR_TOKEN);

    for name in ["Ops Team", "0f8fad5b-d9cb-469f-a165-70867728950e"] {
        let bad = server.post("/admin/groups", op, json!({ "name": name })).await;
        assert_eq!((bad.status, bad.code()), (StatusCode::BAD_REQUEST, "invalid_group_name"), "{name}");
    }
    let made = server.post("/admin/groups", op, json!({"name": "staff", "description": "Everyone here"})).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let group_id = made.body["id"].as_str().unwrap().to_owned();
    let twice = server.post("/admin/groups", op, json!({"name": "staff"})).await;
    assert_eq!((twice.status, twice.code()), (StatusCode::CONFLICT, "group_exists"));
    let unknown = server.get("/admin/groups/nope", op).await;
    assert_eq!((unknown.status, unknown.code()), (StatusCode::NOT_FOUND, "group_not_found"));
    let extra = server.post("/admin/groups", op, json!({"name": "x", "colour": "red"})).await;
    assert_eq!((extra.status, extra.code()), (StatusCode::BAD_REQUEST, "invalid_request"));

    // Custom claims: a name the protocols use, a null value, a scope that releases none: 400.
    let claim = |name: &str, body: Value| {
        let path = format!("/admin/groups/staff/claims/{name}");
        let server = &server;
        async move { server.request(Method::PUT, &path, op, Some(body)).await }
    };
    for (name, body) in [
        ("email", json!({"value": "x"})),
        ("department", json!({"value": null})),
        ("department", json!({"value": "x", "scope": "offline_access"})),
        ("department", json!({"value": "x".repeat(3000)})),
    ] {
        let refused = claim(name, body.clone()).await;
        assert_eq!((refused.status, refused.code()), (StatusCode::BAD_REQUEST, "invalid_claim"), "{name} {body}");
    }
    let set = claim("department", json!({"value": {"name": "Engineering", "floor": 3}})).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(
        set.body,
        json!({"name": "department", "value": {"name": "Engineering", "floor": 3}, "scope": "profile"})
    );
    let group = server.get("/admin/groups/staff", op).await;
    assert_eq!(group.body["claims"][0]["name"], "department", "{}", group.body);

    let invited = server
        .post("/admin/invitations", op, json!({"email": "ada@example.com", "groups": ["staff"], "admin": true}))
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.body);
    let token = invited.body["url"].as_str().unwrap().split("invitation=").nth(1).unwrap().to_owned();
    let unknown_group = server.post("/admin/invitations", op, json!({"groups": ["nope"]})).await;
    assert_eq!((unknown_group.status, unknown_group.code()), (StatusCode::NOT_FOUND, "group_not_found"));
    let too_long = server.post("/admin/invitations", op, json!({"ttl_secs": 31 * 86_400})).await;
    assert_eq!((too_long.status, too_long.code()), (StatusCode::BAD_REQUEST, "invalid_request"));
    let withdrawn = server.post("/admin/invitations", op, json!({})).await;
    let withdrawn_id = withdrawn.body["id"].as_str().unwrap().to_owned();
    let pending = server.post("/admin/invitations", op, json!({"email": "carol@example.com"})).await;
    assert_eq!(pending.status, StatusCode::CREATED);

    let body = json!({"email": "ada@example.com", "password": "correct horse battery", "invitation": token});
    let ada = server.post("/auth/register", None, body).await;
    assert_eq!(ada.status, StatusCode::CREATED, "{}", ada.body);
    let ada = ada.body["access_token"].as_str().unwrap().to_owned();
    let ada_id = id_of(&server, &ada).await;
    let me = server.get(&format!("/admin/users/{ada_id}"), Some(&ada)).await;
    assert_eq!(me.status, StatusCode::OK, "the invitation made an administrator: {}", me.body);
    assert_eq!(me.body["groups"], json!(["staff"]));
    let taken = server.post("/admin/invitations", Some(&ada), json!({"email": "ADA@example.com"})).await;
    assert_eq!((taken.status, taken.code()), (StatusCode::CONFLICT, "email_taken"));

    let revoked = server.request(Method::DELETE, &format!("/admin/invitations/{withdrawn_id}"), op, None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let again = server.request(Method::DELETE, &format!("/admin/invitations/{withdrawn_id}"), op, None).await;
    assert_eq!((again.status, again.code()), (StatusCode::BAD_REQUEST, "invalid_invitation"));
    let listed = server.get("/admin/invitations", op).await;
    let states: Vec<(&str, &str)> = listed.body["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["email"].as_str().unwrap_or("any"), i["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states.len(), 3, "{states:?}");
    for expected in [("ada@example.com", "used"), ("any", "revoked"), ("carol@example.com", "pending")] {
        assert!(states.contains(&expected), "{expected:?} in {states:?}");
    }

    // Members by account id; the group by id or name; renamed, it keeps its id.
    let (bob, _) = {
        let invitation = server.post("/admin/invitations", op, json!({})).await;
        let token = invitation.body["url"].as_str().unwrap().split("invitation=").nth(1).unwrap().to_owned();
        let body = json!({"email": "bob@example.com", "password": "correct horse battery", "invitation": token});
        let bob = server.post("/auth/register", None, body).await;
        (bob.body["access_token"].as_str().unwrap().to_owned(), ())
    };
    let bob_id = id_of(&server, &bob).await;
    let added = server.post(&format!("/admin/groups/{group_id}/members"), Some(&ada), json!({"user_id": bob_id})).await;
    assert_eq!(added.status, StatusCode::NO_CONTENT, "{}", added.body);
    let nobody = server.post("/admin/groups/staff/members", Some(&ada), json!({"user_id": "no-such-account"})).await;
    assert_eq!((nobody.status, nobody.code()), (StatusCode::NOT_FOUND, "account_not_found"));
    let renamed = server.request(Method::PATCH, "/admin/groups/staff", Some(&ada), Some(json!({"name": "team"}))).await;
    assert_eq!((renamed.status, renamed.body["id"].as_str()), (StatusCode::OK, Some(group_id.as_str())));
    let team = server.get("/admin/groups/team", Some(&ada)).await;
    let members: Vec<&str> =
        team.body["member_list"].as_array().unwrap().iter().map(|m| m["email"].as_str().unwrap()).collect();
    assert_eq!(members, ["ada@example.com", "bob@example.com"]);
    let removed =
        server.request(Method::DELETE, &format!("/admin/groups/team/members/{bob_id}"), Some(&ada), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let bob_now = server.get(&format!("/admin/users/{bob_id}"), Some(&ada)).await;
    assert_eq!(bob_now.body["groups"], json!([]));
    let kinds: Vec<&str> =
        bob_now.body["activity"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(&kinds[..2], ["left_group", "joined_group"], "{kinds:?}");
    let deleted = server.request(Method::DELETE, "/admin/groups/team", Some(&ada), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(server.get("/admin/groups", Some(&ada)).await.body, json!([]));
}

/// An administrator's unused invitations and recovery links are withdrawn when they stop being one:
/// an invitation that makes an administrator, kept back, would otherwise give the role back, and a
/// recovery link for another administrator would give theirs.
#[tokio::test]
async fn a_former_administrators_unused_links_stop_working() {
    use app::server_fns::RecoveryPasskeyOptions;
    use leptos::server_fn::ServerFn as _;
    let (server, env) = admin_server(Env::new().await).await;
    let (ada, _) = server.sign_up("ada@example.com").await;
    let (bob, _) = server.sign_up("bob@example.com").await;
    let bob_id = id_of(&server, &bob).await;
    assert!(operator(&env, &["admin", "grant", "ada@example.com"]).0);
    assert!(operator(&env, &["admin", "grant", "bob@example.com"]).0);

    let kept = server.post("/admin/invitations", Some(&ada), json!({"admin": true})).await;
    assert_eq!(kept.status, StatusCode::CREATED, "{}", kept.body);
    let invitation = kept.body["url"].as_str().unwrap().split("invitation=").nth(1).unwrap().to_owned();
    let link = server.post(&format!("/admin/users/{bob_id}/recovery-link"), Some(&ada), json!({})).await;
    assert_eq!(link.status, StatusCode::CREATED, "{}", link.body);
    let token = link.body["url"].as_str().unwrap().split("token=").nth(1).unwrap().to_owned();

    let (revoked, said) = operator(&env, &["admin", "revoke", "ada@example.com"]);
    assert!(revoked, "{said}");
    let body = json!({"email": "mallory@example.com", "password": "correct horse battery", "invitation": invitation});
    let used = server.post("/auth/register", None, body).await;
    assert_eq!((used.status, used.code()), (StatusCode::BAD_REQUEST, "invalid_invitation"), "{}", used.body);
    let (status, _, opened) =
        crate::portal::Browser::new(&server).call(RecoveryPasskeyOptions::PATH, &[("token", &token)]).await;
    assert_eq!((status, opened["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_recovery_link")));
}

/// The console's overview at `/admin`: a signed-out visitor gets the portal's "page not found" (404),
/// a signed-in account that is not an administrator a sentence (403), and its server function
/// `admin_required`; an administrator sees the counts and the last 30 days of sign-ins by method.
#[tokio::test]
async fn the_consoles_overview_is_for_administrators_only() {
    use app::server_fns::{ConsoleOverview, PasswordSignIn};
    use leptos::server_fn::ServerFn as _;
    let (server, env) = admin_server(Env::new().await).await;
    let (ada_token, _) = server.sign_up("ada@example.com").await;
    server.sign_up("bob@example.com").await;
    assert!(operator(&env, &["admin", "grant", "ada@example.com"]).0);
    let mut key = crate::common::authenticator();
    server.add_passkey(&ada_token, &mut key).await;
    assert_eq!(server.sign_in(&mut key, None).await.status, StatusCode::OK);
    let browser_of = |email: &'static str| {
        let server = &server;
        async move {
            let mut browser = crate::portal::Browser::new(server);
            let (status, _, body) =
                browser.call(PasswordSignIn::PATH, &[("email", email), ("password", "correct horse battery")]).await;
            assert!(status.is_success() || status.is_redirection(), "{status} {body}");
            browser
        }
    };

    let (status, _, html) = crate::portal::page(&server, "/admin", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{html}");
    assert!(html.contains("Page not found") && !html.contains("Administration"), "{html}");

    let mut bob = browser_of("bob@example.com").await;
    let (status, _, html) = crate::portal::page(&server, "/admin", bob.cookie.as_deref()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    assert!(html.contains(r#"data-testid="not-admin""#) && !html.contains("stat-accounts"), "{html}");
    let (status, _, body) = bob.call(ConsoleOverview::PATH, &[]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::FORBIDDEN, Some("admin_required")), "{body}");

    let mut ada = browser_of("ada@example.com").await;
    let (status, _, html) = crate::portal::page(&server, "/admin", ada.cookie.as_deref()).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("<h1 id=\"admin-title\">Administration</h1>"), "{html}");
    assert_eq!(html.matches(r#"data-testid="chart-day""#).count(), 30, "{html}");
    let (status, _, overview) = ada.call(ConsoleOverview::PATH, &[]).await;
    assert_eq!(status, StatusCode::OK, "{overview}");
    assert_eq!(overview["accounts"], 2);
    assert_eq!(overview["days"].as_array().unwrap().len(), 30);
    // Today: one passkey sign-in (REST) and two password sign-ins (the portal's); a sign-up is no
    // sign-in. Going: those three and the two sign-ups' own.
    let today = &overview["days"][29];
    assert_eq!((today["passkey"].as_u64(), today["password"].as_u64()), (Some(1), Some(2)), "{overview}");
    assert_eq!(overview["sign_ins"], 5, "{overview}");
}

/// A plain form post (no JavaScript: the browser asks for HTML) to a server function, from the
/// page `referer`, with the browser's cookies: (status, Location, Set-Cookie values).
async fn form_post(
    server: &TestServer,
    path: &str,
    referer: &str,
    fields: &[(&str, &str)],
    cookie: Option<&str>,
) -> (StatusCode, Option<String>, Vec<String>) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    let mut request = client
        .post(format!("{}{path}", server.base))
        .header("origin", &server.origin)
        .header("referer", format!("{}{referer}", server.origin))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html")
        .body(form);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
    let cookies = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    (response.status(), location, cookies)
}

/// The console's apps pages: signed out "page not found", a non-administrator 403 on the pages and
/// every server function; an administrator's plain form refused comes back with the sentence next
/// to the field and the fields kept, nothing saved; a made app's secret is on the page it goes on
/// to, once; an old sign-in is asked to confirm; each change is in the record.
#[tokio::test]
async fn the_consoles_apps_pages_are_for_administrators_and_show_a_secret_once() {
    use app::server_fns::PasswordSignIn;
    use app::server_fns::console::{ConsoleApp, ConsoleApps, ConsoleCreateApp, ConsoleDeleteApp, ConsoleRotateSecret};
    use leptos::server_fn::ServerFn as _;
    let (server, env) = admin_server(Env::new().await).await;
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    server.sign_up("ada@example.com").await;
    server.sign_up("bob@example.com").await;
    assert!(operator(&env, &["admin", "grant", "ada@example.com"]).0);
    let signed_in = |email: &'static str| {
        let server = &server;
        async move {
            let mut browser = crate::portal::Browser::new(server);
            let (status, _, body) =
                browser.call(PasswordSignIn::PATH, &[("email", email), ("password", "correct horse battery")]).await;
            assert!(status.is_success() || status.is_redirection(), "{status} {body}");
            browser
        }
    };
    let app_fields = |client_id: &'static str, redirect: &'static str| {
        vec![
            ("client_id", client_id),
            ("name", "Wiki"),
            ("redirect_uris", redirect),
            ("id_token_alg", "ES256"),
            ("require_pkce", "on"),
        ]
    };

    for path in ["/admin/console/apps", "/admin/console/apps/wiki"] {
        let (status, _, html) = crate::portal::page(&server, path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {html}");
    }
    let mut bob = signed_in("bob@example.com").await;
    let (status, _, html) = crate::portal::page(&server, "/admin/console/apps", bob.cookie.as_deref()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    assert!(html.contains(r#"data-testid="not-admin""#) && !html.contains("New app"), "{html}");
    for (path, fields) in [
        (ConsoleApps::PATH, vec![]),
        (ConsoleApp::PATH, vec![("client_id", "wiki")]),
        (ConsoleCreateApp::PATH, app_fields("wiki", "https://wiki.example/cb")),
        (ConsoleRotateSecret::PATH, vec![("client_id", "wiki"), ("overlap_hours", "1")]),
        (ConsoleDeleteApp::PATH, vec![("client_id", "wiki"), ("confirm", "wiki")]),
    ] {
        let (status, _, body) = bob.call(path, &fields).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::FORBIDDEN, Some("admin_required")), "{path}: {body}");
    }

    let mut ada = signed_in("ada@example.com").await;
    let (status, _, html) = crate::portal::page(&server, "/admin/console/apps", ada.cookie.as_deref()).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"data-testid="no-apps""#) && html.contains(r#"id="new-app-redirect_uris""#), "{html}");

    // Refused without JavaScript: back to the page, the sentence by its field, what was typed kept.
    let (status, location, cookies) = form_post(
        &server,
        ConsoleCreateApp::PATH,
        "/admin/console/apps",
        &app_fields("wiki", "http://wiki.example/cb"),
        ada.cookie.as_deref(),
    )
    .await;
    assert!(status.is_redirection(), "{status}");
    assert_eq!(location.as_deref(), Some("/admin/console/apps"));
    let returned = cookies.iter().find(|c| c.starts_with("latchkey_form=")).expect("the form comes back").clone();
    let both = format!("{}; {returned}", ada.cookie.as_deref().unwrap());
    let (_, _, html) = crate::portal::page(&server, "/admin/console/apps", Some(&both)).await;
    let field = html.find(r#"id="new-app-redirect_uris""#).expect("the field");
    let sentence = html.find("`http://wiki.example/cb` must be https").expect("the sentence");
    assert!(sentence > field && html[field..sentence].matches("<textarea").count() == 0, "next to its field: {html}");
    assert!(html.contains(r#"aria-describedby="new-app-redirect_uris-error""#), "{html}");
    assert!(html[field..].contains("http://wiki.example/cb</textarea>"), "kept: {html}");
    assert!(html.contains(r#"value="wiki""#), "the id kept: {html}");
    let listed = server.get("/admin/apps", Some(OPERATOR_TOKEN)).await;
    assert_eq!(listed.body, serde_json::json!([]), "nothing half-saved");

    // Made: the secret is on the app's page once.
    let (status, location, cookies) = form_post(
        &server,
        ConsoleCreateApp::PATH,
        "/admin/console/apps",
        &app_fields("wiki", "https://wiki.example/cb"),
        ada.cookie.as_deref(),
    )
    .await;
    assert!(status.is_redirection(), "{status}");
    assert_eq!(location.as_deref(), Some("/admin/console/apps/wiki?done=created"));
    let shown = cookies.iter().find(|c| c.starts_with("latchkey_shown_once=")).expect("the secret's cookie").clone();
    let with_secret = format!("{}; {shown}", ada.cookie.as_deref().unwrap());
    let (status, _, html) =
        crate::portal::page(&server, "/admin/console/apps/wiki?done=created", Some(&with_secret)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let start = html.find(r#"data-testid="new-secret""#).expect("the secret shown");
    let value = html[..start].rsplit("value=\"").next().unwrap().split('"').next().unwrap().to_owned();
    assert_eq!(value.len(), 43, "{html}");
    let (_, _, again) = crate::portal::page(&server, "/admin/console/apps/wiki", ada.cookie.as_deref()).await;
    assert!(!again.contains(&value) && !again.contains("new-secret"), "not shown again");
    let (_, _, elsewhere) = crate::portal::page(&server, "/admin/console/apps", Some(&with_secret)).await;
    assert!(!elsewhere.contains(&value), "only on its own page");
    let by_secret = |secret: String| token_error(&server, "wiki", secret);
    assert_eq!(by_secret(value.clone()).await, "invalid_grant", "the shown secret authenticates the app");
    assert_eq!(by_secret("x".repeat(43)).await, "invalid_client");

    // An old sign-in is asked to confirm; nothing changes until it does.
    let db = stores::connect(&database).await;
    stores::age_sign_ins(&db, 3600).await;
    let (status, _, body) = ada.call(ConsoleRotateSecret::PATH, &[("client_id", "wiki"), ("overlap_hours", "1")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("reauthentication_required")),
        "{body}"
    );
    assert_eq!(by_secret(value.clone()).await, "invalid_grant", "not rotated");
    let mut ada = signed_in("ada@example.com").await;
    let (status, _, body) = ada.call(ConsoleDeleteApp::PATH, &[("client_id", "wiki"), ("confirm", "wik")]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_app")), "{body}");
    assert!(body["message"].as_str().unwrap().starts_with("confirm:"), "{body}");
    let (status, _, body) =
        ada.call(ConsoleRotateSecret::PATH, &[("client_id", "wiki"), ("overlap_hours", "721")]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_app")), "{body}");
    let (status, _, body) = ada.call(ConsoleDeleteApp::PATH, &[("client_id", "wiki"), ("confirm", "wiki")]).await;
    assert!(status.is_success() || status.is_redirection(), "{status} {body}");
    assert_eq!(by_secret(value).await, "invalid_client", "deleted");

    let audit = server.get("/admin/audit", Some(OPERATOR_TOKEN)).await;
    let entries = audit.body["entries"].as_array().unwrap();
    let of_apps: Vec<(&str, &str)> = entries
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("app_"))
        .map(|e| (e["action"].as_str().unwrap(), e["actor_email"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(of_apps, [("app_deleted", "ada@example.com"), ("app_created", "ada@example.com")], "{}", audit.body);
}

/// The token endpoint's error for a refresh with a made-up token by `client_id` with `secret`:
/// `invalid_grant` when the secret authenticates the app, `invalid_client` when it does not.
async fn token_error(server: &TestServer, client_id: &str, secret: String) -> String {
    let answer = reqwest::Client::new()
        .post(format!("{}/oidc/token", server.base))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "not-a-token")])
        .send()
        .await
        .unwrap();
    answer.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_owned()
}

/// A settings change and a rotation at the same instant never undo each other: after each pair the
/// secret the rotation gave works and the one it replaced (overlap 0) does not; nor do two
/// rotations at once leave a secret that was shown but never works.
#[tokio::test]
async fn a_rotation_is_never_undone_by_a_change_made_at_the_same_time() {
    let (server, _) = admin_server(Env::new().await).await;
    let op = Some(OPERATOR_TOKEN);
    let made = server
        .post("/admin/apps", op, json!({"client_id": "race", "redirect_uris": ["https://race.example/cb"]}))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let mut current = made.body["client_secret"].as_str().unwrap().to_owned();
    let rotate = || server.post("/admin/apps/race/secret", op, json!({"overlap_secs": 0}));
    for round in 0..20 {
        let name = format!("Race {round}");
        let save = server.request(
            Method::PUT,
            "/admin/apps/race",
            op,
            Some(json!({"name": name, "redirect_uris": ["https://race.example/cb"]})),
        );
        let (saved, rotated) = tokio::join!(save, rotate());
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
        assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
        let newer = rotated.body["client_secret"].as_str().unwrap().to_owned();
        assert_eq!(token_error(&server, "race", newer.clone()).await, "invalid_grant", "round {round}: the new secret");
        assert_eq!(token_error(&server, "race", current).await, "invalid_client", "round {round}: the replaced one");
        current = newer;
    }

    // Two rotations at once, each keeping the secret it replaced for an hour: whichever order
    // they land in, every secret shown works (the loser of a race is refused, never shown).
    let rotate_keeping = || server.post("/admin/apps/race/secret", op, json!({"overlap_secs": 3600}));
    for round in 0..10 {
        let (first, second) = tokio::join!(rotate_keeping(), rotate_keeping());
        let shown: Vec<String> = [first, second]
            .into_iter()
            .filter(|answer| answer.status == StatusCode::OK)
            .map(|answer| answer.body["client_secret"].as_str().unwrap().to_owned())
            .collect();
        assert!(!shown.is_empty(), "round {round}: one rotation at least");
        for secret in shown {
            assert_eq!(
                token_error(&server, "race", secret).await,
                "invalid_grant",
                "round {round}: a shown secret works"
            );
        }
    }
}

/// The console's people pages: for administrators only; a search finds by address; disabling from
/// the person's page signs them out everywhere; a recovery link is shown once on that page; the
/// last administrator is never revoked; deleting needs the address typed; an old sign-in is asked
/// to confirm; each change is in the record under the administrator's name.
#[tokio::test]
async fn the_consoles_people_pages_disable_make_links_and_keep_the_last_administrator() {
    use app::server_fns::PasswordSignIn;
    use app::server_fns::console::{
        ConsoleDeletePerson, ConsolePeople, ConsoleRecoveryLink, ConsoleSetAdmin, ConsoleSetDisabled,
    };
    use leptos::server_fn::ServerFn as _;
    let (server, env) = admin_server(Env::new().await).await;
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let (ada_token, _) = server.sign_up("ada@example.com").await;
    let (bob_token, bob_refresh) = server.sign_up("bob@example.com").await;
    assert!(operator(&env, &["admin", "grant", "ada@example.com"]).0);
    let (ada_id, bob_id) = (id_of(&server, &ada_token).await, id_of(&server, &bob_token).await);
    let signed_in = |email: &'static str| {
        let server = &server;
        async move {
            let mut browser = crate::portal::Browser::new(server);
            let (status, _, body) =
                browser.call(PasswordSignIn::PATH, &[("email", email), ("password", "correct horse battery")]).await;
            assert!(status.is_success() || status.is_redirection(), "{status} {body}");
            browser
        }
    };
    let bob_page = format!("/admin/console/people/{bob_id}");

    for path in ["/admin/console/people", bob_page.as_str()] {
        let (status, _, _) = crate::portal::page(&server, path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let mut bob = signed_in("bob@example.com").await;
    let (status, _, _) = crate::portal::page(&server, "/admin/console/people", bob.cookie.as_deref()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for (path, fields) in [
        (ConsolePeople::PATH, vec![]),
        (ConsoleSetDisabled::PATH, vec![("id", ada_id.as_str()), ("disabled", "true")]),
        (ConsoleSetAdmin::PATH, vec![("id", bob_id.as_str()), ("admin", "true")]),
    ] {
        let (status, _, body) = bob.call(path, &fields).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::FORBIDDEN, Some("admin_required")), "{path}: {body}");
    }

    let mut ada = signed_in("ada@example.com").await;
    let (status, _, html) = crate::portal::page(&server, "/admin/console/people?q=BOB", ada.cookie.as_deref()).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(&format!(r#"href="{bob_page}""#)), "{html}");
    assert_eq!(html.matches(r#"data-testid="person-row""#).count(), 1, "bob alone: {html}");
    let (status, _, html) = crate::portal::page(&server, &bob_page, ada.cookie.as_deref()).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"data-testid="person-email">bob@example.com"#), "{html}");

    let (status, _, body) = ada.call(ConsoleSetDisabled::PATH, &[("id", &bob_id), ("disabled", "true")]).await;
    assert!(status.is_success() || status.is_redirection(), "{status} {body}");
    let (status, _, _) = bob.call(app::server_fns::MyAccount::PATH, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the browser is signed out at its next request");
    let refreshed = server.post("/auth/refresh", None, json!({ "refresh_token": bob_refresh })).await;
    assert_eq!(refreshed.code(), "invalid_refresh_token", "and so is the program");
    let (status, _, body) = ada.call(ConsoleRecoveryLink::PATH, &[("id", &bob_id)]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::FORBIDDEN, Some("account_disabled")), "{body}");
    let (status, _, _) = ada.call(ConsoleSetDisabled::PATH, &[("id", &bob_id), ("disabled", "false")]).await;
    assert!(status.is_success() || status.is_redirection(), "{status}");

    let (status, location, cookies) =
        form_post(&server, ConsoleRecoveryLink::PATH, &bob_page, &[("id", &bob_id)], ada.cookie.as_deref()).await;
    assert!(status.is_redirection(), "{status}");
    assert_eq!(location, Some(format!("{bob_page}?done=recovery_link")));
    let shown = cookies.iter().find(|c| c.starts_with("latchkey_shown_once=")).expect("the link's cookie").clone();
    let with_link = format!("{}; {shown}", ada.cookie.as_deref().unwrap());
    let (_, _, html) = crate::portal::page(&server, &bob_page, Some(&with_link)).await;
    assert!(html.contains("/recover?token=") && html.contains(r#"data-testid="recovery-link""#), "{html}");
    let (_, _, again) = crate::portal::page(&server, &bob_page, ada.cookie.as_deref()).await;
    assert!(!again.contains("/recover?token="), "shown once");

    let (status, _, body) = ada.call(ConsoleSetAdmin::PATH, &[("id", &ada_id), ("admin", "false")]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::CONFLICT, Some("last_admin")), "{body}");
    let (status, _, body) =
        ada.call(ConsoleDeletePerson::PATH, &[("id", &bob_id), ("confirm", "bob@example.org")]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body}");
    assert_eq!(server.get(&format!("/admin/users/{bob_id}"), Some(OPERATOR_TOKEN)).await.status, StatusCode::OK);

    let db = stores::connect(&database).await;
    stores::age_sign_ins(&db, 3600).await;
    let (status, _, body) =
        ada.call(ConsoleDeletePerson::PATH, &[("id", &bob_id), ("confirm", "bob@example.com")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("reauthentication_required")),
        "{body}"
    );
    let mut ada = signed_in("ada@example.com").await;
    let (status, _, body) =
        ada.call(ConsoleDeletePerson::PATH, &[("id", &bob_id), ("confirm", "BOB@example.com")]).await;
    assert!(status.is_success() || status.is_redirection(), "{status} {body}");
    assert_eq!(server.get(&format!("/admin/users/{bob_id}"), Some(OPERATOR_TOKEN)).await.status, StatusCode::NOT_FOUND);

    let audit = server.get("/admin/audit", Some(OPERATOR_TOKEN)).await;
    let by_ada: Vec<&str> = audit.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor_email"] == "ada@example.com")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        by_ada,
        ["account_deleted", "recovery_link_made", "account_enabled", "account_disabled"],
        "{}",
        audit.body
    );
}

/// The console's invitations page: for administrators only; a refused invitation (an address
/// taken, a bad one, too many days) says why and makes nothing; a made one's link is shown once on
/// the page and opens sign-up; withdrawn, it is listed so and its link stops working.
#[tokio::test]
async fn the_consoles_invitations_page_makes_shows_once_and_withdraws() {
    use app::server_fns::PasswordSignIn;
    use app::server_fns::console::{ConsoleInvitations, ConsoleInvite, ConsoleRevokeInvitation};
    use leptos::server_fn::ServerFn as _;
    let env = Env::new().await.set("LATCHKEY_SIGN_UP", "invite");
    let (server, env) = admin_server(env).await;
    // The first administrator, invited from the command line.
    let (made, said) = operator(&env, &["admin", "invite", "--admin"]);
    assert!(made, "{said}");
    let first = said.split("invitation=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let body = json!({"email": "ada@example.com", "password": "correct horse battery", "invitation": first});
    assert_eq!(server.post("/auth/register", None, body).await.status, StatusCode::CREATED);
    let page = "/admin/console/invitations";
    let (status, _, _) = crate::portal::page(&server, page, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let mut ada = crate::portal::Browser::new(&server);
    let (status, _, body) =
        ada.call(PasswordSignIn::PATH, &[("email", "ada@example.com"), ("password", "correct horse battery")]).await;
    assert!(status.is_success() || status.is_redirection(), "{status} {body}");
    for (fields, code) in [
        (vec![("email", "ada@example.com")], "email_taken"),
        (vec![("email", "not an address")], "invalid_email"),
        (vec![("days", "40")], "invalid_request"),
        (vec![("groups", "nope")], "group_not_found"),
    ] {
        let (status, _, body) = ada.call(ConsoleInvite::PATH, &fields).await;
        assert_eq!(body["error"].as_str(), Some(code), "{fields:?}: {status} {body}");
    }
    let (_, _, listed) = ada.call(ConsoleInvitations::PATH, &[]).await;
    let states: Vec<&str> =
        listed["invitations"].as_array().unwrap().iter().map(|i| i["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["used"], "nothing made but the first administrator's: {listed}");

    let (status, location, cookies) = form_post(
        &server,
        ConsoleInvite::PATH,
        page,
        &[("email", "bob@example.com"), ("days", "2")],
        ada.cookie.as_deref(),
    )
    .await;
    assert!(status.is_redirection(), "{status}");
    assert_eq!(location.as_deref(), Some("/admin/console/invitations?done=invited"));
    let shown = cookies.iter().find(|c| c.starts_with("latchkey_shown_once=")).expect("the link's cookie").clone();
    let (_, _, html) =
        crate::portal::page(&server, page, Some(&format!("{}; {shown}", ada.cookie.as_deref().unwrap()))).await;
    let at = html.find(r#"data-testid="invitation-link""#).expect("the link shown");
    let link = html[..at].rsplit("value=\"").next().unwrap().split('"').next().unwrap().replace("&amp;", "&");
    let token = link.split("invitation=").nth(1).expect("a sign-up link").to_owned();
    let (_, _, again) = crate::portal::page(&server, page, ada.cookie.as_deref()).await;
    assert!(!again.contains(&token) && again.contains(r#"data-state="pending""#), "shown once, listed: {again}");

    // Made in the same second as the first administrator's, it is found by its address.
    let bobs = |listed: &Value| -> Value {
        listed["invitations"].as_array().unwrap().iter().find(|i| i["email"] == "bob@example.com").unwrap().clone()
    };
    let (_, _, listed) = ada.call(ConsoleInvitations::PATH, &[]).await;
    let id = bobs(&listed)["id"].as_str().unwrap().to_owned();
    let (status, _, body) = ada.call(ConsoleRevokeInvitation::PATH, &[("id", &id)]).await;
    assert!(status.is_success() || status.is_redirection(), "{status} {body}");
    let (_, _, listed) = ada.call(ConsoleInvitations::PATH, &[]).await;
    assert_eq!(bobs(&listed)["state"], "revoked", "{listed}");
    let register = server
        .post(
            "/auth/register",
            None,
            json!({"email": "bob@example.com", "password": "correct horse battery", "invitation": token}),
        )
        .await;
    assert_eq!(register.code(), "invalid_invitation", "{}", register.body);
}
