//! A change commits with its consequences or not at all (`engine/src/notify/change.rs`): the database is
//! made to fail between a change and its record — the activity INSERT refused, or the COMMIT
//! refused after every statement ran — and nothing of the change, its record or its mail is left.
//! Afterwards the same requests succeed, so no connection was handed on inside a transaction.

use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::AnyPool;

use crate::common::{Env, TestServer, authenticator, backend_is_postgres, stores};

const EMAIL: &str = "unit@example.com";
const OLD: &str = "correct horse battery";
const NEW: &str = "a brand new passphrase";

/// How the database refuses: at the record's own statement, or at COMMIT.
#[derive(Clone, Copy, Debug)]
enum Failure {
    Record,
    Commit,
}

/// Installs a trigger on `activity` that makes the database refuse: the INSERT itself, or (by a
/// deferred foreign key that the trigger's row breaks) the COMMIT of its transaction.
async fn refuse(db: &AnyPool, failure: Failure) {
    let statements: &[&str] = match (failure, backend_is_postgres()) {
        (Failure::Record, false) => {
            &["CREATE TRIGGER refuse_record BEFORE INSERT ON activity BEGIN SELECT RAISE(ABORT, 'record refused'); END"]
        }
        (Failure::Commit, false) => &[
            "CREATE TABLE broken_at_commit (user_id TEXT REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED)",
            "CREATE TRIGGER refuse_commit AFTER INSERT ON activity BEGIN
                 INSERT INTO broken_at_commit (user_id) VALUES ('no such user'); END",
        ],
        (Failure::Record, true) => &[
            "CREATE FUNCTION refuse_record() RETURNS trigger LANGUAGE plpgsql AS
                 $$ BEGIN RAISE EXCEPTION 'record refused'; END $$",
            "CREATE TRIGGER refuse_record BEFORE INSERT ON activity FOR EACH ROW EXECUTE FUNCTION refuse_record()",
        ],
        (Failure::Commit, true) => &[
            "CREATE TABLE broken_at_commit (user_id TEXT REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED)",
            "CREATE FUNCTION refuse_commit() RETURNS trigger LANGUAGE plpgsql AS
                 $$ BEGIN INSERT INTO broken_at_commit (user_id) VALUES ('no such user'); RETURN NEW; END $$",
            "CREATE TRIGGER refuse_commit AFTER INSERT ON activity FOR EACH ROW EXECUTE FUNCTION refuse_commit()",
        ],
    };
    for statement in statements {
        sqlx::query(statement).execute(db).await.unwrap();
    }
}

async fn allow(db: &AnyPool, failure: Failure) {
    let statements: &[&str] = match (failure, backend_is_postgres()) {
        (Failure::Record, false) => &["DROP TRIGGER refuse_record"],
        (Failure::Commit, false) => &["DROP TRIGGER refuse_commit", "DROP TABLE broken_at_commit"],
        (Failure::Record, true) => &["DROP TRIGGER refuse_record ON activity", "DROP FUNCTION refuse_record"],
        (Failure::Commit, true) => {
            &["DROP TRIGGER refuse_commit ON activity", "DROP FUNCTION refuse_commit", "DROP TABLE broken_at_commit"]
        }
    };
    for statement in statements {
        sqlx::query(statement).execute(db).await.unwrap();
    }
}

/// Everything a change could have left, counted.
#[derive(Debug, PartialEq, Eq)]
struct Traces {
    activity: i64,
    outbox: i64,
    sign_ins: i64,
    refresh_tokens: i64,
    passkeys: i64,
    counter: i64,
    last_used: Option<i64>,
}

async fn traces(db: &AnyPool) -> Traces {
    let (counter, last_used): (i64, Option<i64>) =
        sqlx::query_as("SELECT sign_count, last_used_at FROM passkeys ORDER BY created_at LIMIT 1")
            .fetch_one(db)
            .await
            .unwrap();
    Traces {
        activity: stores::count(db, "activity").await,
        outbox: stores::count(db, "outbox").await,
        sign_ins: stores::count(db, "sign_ins").await,
        refresh_tokens: stores::count(db, "refresh_tokens").await,
        passkeys: stores::count(db, "passkeys").await,
        counter,
        last_used,
    }
}

async fn password_works(server: &TestServer, password: &str) -> bool {
    let answer = server.post("/auth/login", None, json!({ "email": EMAIL, "password": password })).await;
    answer.status == StatusCode::OK
}

async fn refused_changes_leave_no_trace(failure: Failure) {
    let env = Env::new().await;
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    // Mail on (printed to the log): notices go through the outbox, where a trace would show.
    let server = TestServer::start_with(env).await;
    let (token, _) = server.sign_up(EMAIL).await;
    let mut key = authenticator();
    let passkey = server.add_passkey(&token, &mut key).await;
    let db = stores::connect(&database).await;
    let before = traces(&db).await;

    refuse(&db, failure).await;
    // A passkey sign-in: the counter, the sign-in, its refresh token and its record in one batch.
    let signed_in = server.sign_in(&mut key, Some(EMAIL)).await;
    assert!(signed_in.status.is_server_error(), "{failure:?}: {} {}", signed_in.status, signed_in.body);
    // A password change: the hash, the other sign-ins ended, the notice and the record.
    let changed = server.request(Method::PUT, "/auth/password", Some(&token), Some(json!({ "password": NEW }))).await;
    assert!(changed.status.is_server_error(), "{failure:?}: {} {}", changed.status, changed.body);
    // A rename: one statement and its record.
    let renamed = server
        .request(Method::PATCH, &format!("/auth/passkeys/{passkey}"), Some(&token), Some(json!({ "name": "Renamed" })))
        .await;
    assert!(renamed.status.is_server_error(), "{failure:?}: {} {}", renamed.status, renamed.body);
    // A password sign-up: the account, its verification mail, its record and its first sign-in.
    let other = json!({ "email": "other@example.com", "password": OLD });
    let registered = server.post("/auth/register", None, other.clone()).await;
    assert!(registered.status.is_server_error(), "{failure:?}: {} {}", registered.status, registered.body);

    assert_eq!(traces(&db).await, before, "{failure:?}: nothing of the refused changes is left");
    allow(&db, failure).await;
    assert!(password_works(&server, OLD).await && !password_works(&server, NEW).await, "{failure:?}");
    let listed = server.get("/auth/passkeys", Some(&token)).await;
    assert_eq!(listed.body[0]["name"], "Test key", "{failure:?}");
    assert_eq!(server.get("/auth/me", Some(&token)).await.status, StatusCode::OK, "{failure:?}: still signed in");

    // Every connection came back out of its transaction: the same requests now succeed, more
    // times than the pool has connections.
    for _ in 0..6 {
        let answer = server.sign_in(&mut key, Some(EMAIL)).await;
        assert_eq!(answer.status, StatusCode::OK, "{failure:?}: {}", answer.body);
    }
    let after = traces(&db).await;
    assert_eq!(after.sign_ins, before.sign_ins + 1 + 6, "{failure:?}: the password check above, and six passkeys");
    // The password sign-in and the wrong password above are recorded too.
    assert_eq!(after.activity, before.activity + 2 + 6, "{failure:?}: each sign-in with its record");
    assert_eq!(server.post("/auth/register", None, other).await.status, StatusCode::CREATED, "{failure:?}");
}

#[tokio::test]
async fn a_change_whose_record_is_refused_is_not_made() {
    refused_changes_leave_no_trace(Failure::Record).await;
}

#[tokio::test]
async fn a_change_whose_commit_fails_leaves_neither_change_nor_record() {
    refused_changes_leave_no_trace(Failure::Commit).await;
}
