//! The auth rules that depend on time, with the clock moved by hand: access
//! tokens expire after 15 minutes, a lockout lifts when its window ends, a
//! session ends after its lifetime. On both stores, through the handler.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use galley_http::{Handler, Request, Response};
use galley_login::{AccountStores, LoginFunction};
use galley_shared::clock::ManualClock;
use galley_shared::keys::{Keys, SigningKey};
use galley_shared::ports::{LoginAttempts, Sessions, Users};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

struct Harness {
    login: LoginFunction,
    clock: Arc<ManualClock>,
}

impl Harness {
    fn over<S: Users + Sessions + LoginAttempts + 'static>(store: Arc<S>) -> Harness {
        Self::keyed(store, Keys::from_secret(&SigningKey::new(vec![42; 32]).unwrap()))
    }

    fn keyed<S: Users + Sessions + LoginAttempts + 'static>(store: Arc<S>, keys: Keys) -> Harness {
        let clock = Arc::new(ManualClock::starting_now());
        let stores = AccountStores { users: store.clone(), sessions: store.clone(), attempts: store };
        Harness { login: LoginFunction::new(stores, &keys, clock.clone()).unwrap(), clock }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>, token: Option<&str>) -> (u16, Value, Response) {
        let mut request = http::Request::builder().method(method).uri(path);
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let request: Request = request.body(body).unwrap();
        let response = self.login.handle(request).await;
        let json = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
        (response.status().as_u16(), json, response)
    }

    async fn login(&self, email: &str, password: &str) -> (u16, Value, Response) {
        self.call("POST", "/auth/login", Some(json!({"email": email, "password": password})), None).await
    }

    async fn signed_in(&self, email: &str) -> Value {
        let registration = json!({"email": email, "password": PASSWORD, "name": "Time Traveller"});
        assert_eq!(self.call("POST", "/auth/register", Some(registration), None).await.0, 201);
        let (status, grant, _) = self.login(email, PASSWORD).await;
        assert_eq!(status, 200);
        grant
    }

    fn advance(&self, seconds: u64) {
        self.clock.advance(Duration::from_secs(seconds));
    }
}

async fn access_tokens_expire_after_15_minutes<S: Users + Sessions + LoginAttempts + 'static>(store: Arc<S>) {
    let h = Harness::over(store);
    let grant = h.signed_in("ann@example.com").await;
    let access = grant["access_token"].as_str().unwrap();
    h.advance(899);
    assert_eq!(h.call("GET", "/auth/me", None, Some(access)).await.0, 200);
    h.advance(1);
    let (status, body, _) = h.call("GET", "/auth/me", None, Some(access)).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
    // The session outlives the access token: a refresh gives a working one.
    let (status, fresh, _) =
        h.call("POST", "/auth/refresh", Some(json!({"refresh_token": grant["refresh_token"]})), None).await;
    assert_eq!(status, 200);
    assert_eq!(h.call("GET", "/auth/me", None, fresh["access_token"].as_str()).await.0, 200);
}

async fn lockout_lifts_after_the_window<S: Users + Sessions + LoginAttempts + 'static>(store: Arc<S>) {
    let h = Harness::over(store);
    h.signed_in("bo@example.com").await;
    for _ in 0..5 {
        assert_eq!(h.login("bo@example.com", "wrong password").await.0, 401);
        h.advance(60);
    }
    let (status, body, response) = h.login("bo@example.com", PASSWORD).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("too_many_attempts")), "even the right password");
    // The window opened with the first failure, five minutes ago.
    assert_eq!(response.headers()["retry-after"], "600");
    h.advance(599);
    assert_eq!(h.login("bo@example.com", PASSWORD).await.0, 429);
    h.advance(1);
    assert_eq!(h.login("bo@example.com", PASSWORD).await.0, 200, "lifted after the window");
    // A success clears the count: five fresh tries are allowed again.
    for _ in 0..5 {
        assert_eq!(h.login("bo@example.com", "wrong password").await.0, 401);
    }
    assert_eq!(h.login("bo@example.com", PASSWORD).await.0, 429);
}

async fn sessions_end_after_seven_days<S: Users + Sessions + LoginAttempts + 'static>(store: Arc<S>) {
    let h = Harness::over(store);
    let mut grant = h.signed_in("cy@example.com").await;
    for _ in 0..6 {
        h.advance(24 * 3600);
        let (status, next, _) =
            h.call("POST", "/auth/refresh", Some(json!({"refresh_token": grant["refresh_token"]})), None).await;
        assert_eq!(status, 200, "refreshing within the session's lifetime works");
        grant = next;
    }
    h.advance(24 * 3600);
    let (status, _, _) =
        h.call("POST", "/auth/refresh", Some(json!({"refresh_token": grant["refresh_token"]})), None).await;
    assert_eq!(status, 401, "refreshing does not extend a session past seven days");
}

/// Login's secret changed without the stack's public keys: no token that
/// every other function would refuse is handed out; the login fails as a
/// fault of the deployment, and says nothing of it to the client.
async fn a_secret_the_public_keys_do_not_match_issues_nothing<S: Users + Sessions + LoginAttempts + 'static>(
    store: Arc<S>,
) {
    let published = Keys::from_secret(&SigningKey::new(vec![42; 32]).unwrap());
    let changed = Keys::from_secret(&SigningKey::new(vec![43; 32]).unwrap());
    let keys = Keys::new(
        published.access.clone(),
        Some(SigningKey::new(vec![1; 32]).unwrap()),
        Some(changed.login().unwrap().clone()),
    );
    let h = Harness::keyed(store, keys);
    let registration = json!({"email": "dee@example.com", "password": PASSWORD, "name": "Dee"});
    assert_eq!(h.call("POST", "/auth/register", Some(registration), None).await.0, 201);
    let (status, body, _) = h.login("dee@example.com", PASSWORD).await;
    assert_eq!(status, 500);
    assert_eq!(body["code"], "internal");
    assert!(!body.to_string().contains("public key"), "{body}");
}

galley_tests::on_both_stores!(
    a_secret_the_public_keys_do_not_match_issues_nothing,
    access_tokens_expire_after_15_minutes,
    lockout_lifts_after_the_window,
    sessions_end_after_seven_days
);
