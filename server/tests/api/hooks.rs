//! Event hooks: called after each event, and a failing hook changes nothing.

use std::sync::{Arc, Mutex};

use engine::base::types::UserId;
use engine::notify::hooks::{EventHooks, HookError, SignInMethod};
use proto::{ActivityItem, PasskeyItem, UserInfo};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{Env, TestServer, authenticator};

/// Records every event, then fails, as a broken webhook would.
#[derive(Clone, Default)]
struct FailingRecorder(Arc<Mutex<Vec<String>>>);

impl FailingRecorder {
    fn record(&self, event: String) -> Result<(), HookError> {
        self.0.lock().unwrap().push(event);
        Err("the webhook is down".into())
    }
}

#[async_trait::async_trait]
impl EventHooks for FailingRecorder {
    async fn on_signed_up(&self, user: &UserInfo) -> Result<(), HookError> {
        self.record(format!("signed_up {}", user.email))
    }
    async fn on_signed_in(&self, user: &UserInfo, method: SignInMethod) -> Result<(), HookError> {
        self.record(format!("signed_in {} {method:?}", user.email))
    }
    async fn on_passkey_registered(&self, user: &UserInfo, passkey: &PasskeyItem) -> Result<(), HookError> {
        self.record(format!("passkey_registered {} {}", user.email, passkey.name))
    }
    async fn on_passkey_deleted(&self, user: &UserInfo, passkey: &PasskeyItem) -> Result<(), HookError> {
        self.record(format!("passkey_deleted {} {}", user.email, passkey.name))
    }
    async fn on_activity(&self, _user_id: &UserId, activity: &ActivityItem) -> Result<(), HookError> {
        self.record(format!("activity {}", activity.summary))
    }
}

#[tokio::test]
async fn hooks_hear_every_event_and_their_failures_change_nothing() {
    let hooks = FailingRecorder::default();
    let server = TestServer::start_with_state(Env::new().await, {
        let hooks = hooks.clone();
        move |app| app.with_hooks(hooks)
    })
    .await;

    let (token, _) = server.sign_up("ada@example.com").await;
    let login = server
        .post("/auth/login", None, json!({"email": "ada@example.com", "password": "correct horse battery"}))
        .await;
    let mut key = authenticator();
    let id = server.add_passkey(&token, &mut key).await;
    let signed_in = server.sign_in(&mut key, None).await;
    let deleted = server.request(Method::DELETE, &format!("/auth/passkeys/{id}"), Some(&token), None).await;

    assert_eq!(
        (login.status, signed_in.status, deleted.status),
        (StatusCode::OK, StatusCode::OK, StatusCode::NO_CONTENT)
    );
    assert_eq!(
        *hooks.0.lock().unwrap(),
        [
            "activity Account created",
            "signed_up ada@example.com",
            "activity Signed in with the password",
            "signed_in ada@example.com Password",
            "activity Passkey “Test key” added",
            "passkey_registered ada@example.com Test key",
            "activity Signed in with the passkey “Test key”",
            "signed_in ada@example.com Passkey",
            "activity Passkey “Test key” removed",
            "passkey_deleted ada@example.com Test key",
        ]
    );
}
