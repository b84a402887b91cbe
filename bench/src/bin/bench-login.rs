//! The cost of the password hash, and whether it hides which emails exist:
//! logs in through the login function's handler on an embedded store with a
//! wrong password for a real account and with an unknown email, interleaved,
//! and reports both distributions; then `GET /auth/me` for comparison.
//!
//! cargo run --release -p galley-bench --bin bench-login [-- SAMPLES]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use galley_bench::stats::{ms, summarize};
use galley_embedded::EmbeddedStore;
use galley_http::Handler;
use galley_http::Request;
use galley_login::{AccountStores, LoginFunction};
use galley_shared::clock::SystemClock;
use galley_shared::keys::{Keys, SigningKey};

fn request(method: &str, path: &str, body: Option<String>, token: Option<&str>) -> Request {
    let mut builder = http::Request::builder().method(method).uri(path).header("content-type", "application/json");
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.body(body.map(Bytes::from).unwrap_or_default()).unwrap()
}

fn credentials(email: &str, password: &str) -> String {
    serde_json::json!({"email": email, "password": password}).to_string()
}

#[tokio::main]
async fn main() {
    let samples: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    let stores = AccountStores { users: store.clone(), sessions: store.clone(), attempts: store };
    let keys = Keys::from_secret(&SigningKey::new(vec![1; 32]).unwrap());
    let login = LoginFunction::new(stores, &keys, Arc::new(SystemClock)).expect("login");
    let register = serde_json::json!({"email": "real@example.com", "password": "the real password", "name": "Real"});
    let started = Instant::now();
    assert_eq!(login.handle(request("POST", "/auth/register", Some(register.to_string()), None)).await.status(), 201);
    println!("register (hash a new password): {}", ms(started.elapsed()));

    let (mut wrong, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..samples {
        // Each wrong password uses a fresh account's email so the lockout never answers instead.
        let email = format!("real{i}@example.com");
        let body = serde_json::json!({"email": email, "password": "the real password", "name": "Real"});
        login.handle(request("POST", "/auth/register", Some(body.to_string()), None)).await;
        let started = Instant::now();
        let answer =
            login.handle(request("POST", "/auth/login", Some(credentials(&email, "wrong guess!")), None)).await;
        wrong.push(started.elapsed());
        assert_eq!(answer.status(), 401);
        let started = Instant::now();
        let ghost = format!("ghost{i}@example.com");
        let answer =
            login.handle(request("POST", "/auth/login", Some(credentials(&ghost, "wrong guess!")), None)).await;
        unknown.push(started.elapsed());
        assert_eq!(answer.status(), 401);
    }
    let mut me = Vec::new();
    let grant = login
        .handle(request("POST", "/auth/login", Some(credentials("real@example.com", "the real password")), None))
        .await;
    let grant: serde_json::Value = serde_json::from_slice(grant.body()).unwrap();
    let token = grant["access_token"].as_str().unwrap();
    for _ in 0..samples * 10 {
        let started = Instant::now();
        assert_eq!(login.handle(request("GET", "/auth/me", None, Some(token))).await.status(), 200);
        me.push(started.elapsed());
    }
    let report = |name: &str, timings: Vec<Duration>| {
        let s = summarize(timings);
        println!("{name:<32} n={:<5} p50 {:>9}  p99 {:>9}  max {:>9}", s.samples, ms(s.p50), ms(s.p99), ms(s.max));
    };
    let gap = summarize(wrong.clone()).p50.abs_diff(summarize(unknown.clone()).p50);
    report("login, wrong password", wrong);
    report("login, unknown email", unknown);
    report("GET /auth/me", me);
    println!("p50 gap between wrong password and unknown email: {}", ms(gap));
}
