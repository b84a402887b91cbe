//! Checkout under contention: N concurrent buyers (default 1 and 50) each
//! place orders of one unit of the same hot product through the checkout
//! function's handler on an embedded store, until the stock runs out.
//! Reports throughput, p50/p99 latency of confirmed checkouts, and checks
//! that the stock ends exact (sold + left = start, never below zero).
//!
//! cargo run --release -p galley-bench --bin bench-checkout [-- ORDERS BUYERS...]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use galley_bench::stats::{ms, summarize};
use galley_checkout::{CheckoutFunction, CheckoutStores};
use galley_embedded::EmbeddedStore;
use galley_http::Handler;
use galley_payments::SandboxGateway;
use galley_shared::auth::{DisplayName, Email, KeyId, Session, TokenSigner, UserProfile};
use galley_shared::catalog::{Category, Product};
use galley_shared::clock::{Clock, SystemClock};
use galley_shared::id::{ProductId, UserId};
use galley_shared::keys::{Keys, SigningKey};
use galley_shared::money::{Currency, Money};
use galley_shared::ports::{Catalog, Sessions, Stock};

async fn run(orders: u32, buyers: usize) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    let hot = Product {
        id: ProductId::parse("hot").unwrap(),
        title: "Hot product".into(),
        description: String::new(),
        category: Category::parse("bench").unwrap(),
        price: Money::new(1000, Currency::parse("USD").unwrap()).unwrap(),
        image_url: None,
        stock: orders,
    };
    store.upsert(&[hot]).await.unwrap();
    let key = SigningKey::new(vec![3; 32]).unwrap();
    let clock = Arc::new(SystemClock);
    let stores = CheckoutStores::over(store.clone());
    let payments = Arc::new(SandboxGateway::new(store.clone()));
    let checkout =
        Arc::new(CheckoutFunction::new(stores, payments, &Keys::from_secret(&key), clock.clone()).expect("checkout"));
    let mut tokens = Vec::new();
    for i in 0..buyers {
        let user = UserId::generate();
        let profile = UserProfile {
            id: user.clone(),
            email: Email::parse(&format!("buyer{i}@example.com")).unwrap(),
            name: DisplayName::parse("Buyer").unwrap(),
        };
        let (session, _) = Session::start(profile, clock.unix_now());
        Sessions::create(&*store, &session).await.unwrap();
        tokens.push(
            TokenSigner::derive(&key, &KeyId::first()).issue(&user, &session.id, clock.unix_now()).expose().to_owned(),
        );
    }
    let body = Bytes::from(r#"{"items":[{"product_id":"hot","quantity":1}],"payment":{"token":"pm_card_visa"}}"#);
    let started = Instant::now();
    let tasks: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(buyer, token)| {
            let (checkout, body) = (checkout.clone(), body.clone());
            tokio::spawn(async move {
                let (mut confirmed, mut refused) = (Vec::new(), 0u32);
                for n in 0.. {
                    let request = http::Request::builder()
                        .method("POST")
                        .uri("/checkout")
                        .header("content-type", "application/json")
                        .header("authorization", format!("Bearer {token}"))
                        .header("idempotency-key", format!("bench-{buyer}-{n:06}"))
                        .body(body.clone())
                        .unwrap();
                    let t = Instant::now();
                    let status = checkout.handle(request).await.status().as_u16();
                    match status {
                        201 => confirmed.push(t.elapsed()),
                        409 => {
                            refused += 1;
                            break;
                        }
                        other => panic!("unexpected status {other}"),
                    }
                }
                (confirmed, refused)
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = Vec::new();
    for task in tasks {
        let (confirmed, _) = task.await.unwrap();
        latencies.extend(confirmed);
    }
    let elapsed = started.elapsed();
    let left = store.level(&ProductId::parse("hot").unwrap()).await.unwrap().unwrap();
    let sold = latencies.len() as u32;
    assert_eq!(sold + left, orders, "stock must end exact");
    assert_eq!(left, 0);
    let s = summarize(latencies);
    println!(
        "{buyers:>3} buyers: {sold} orders in {:.2} s = {:>6.0} orders/s, p50 {:>9}, p99 {:>9}, stock left {left} (exact)",
        elapsed.as_secs_f64(),
        f64::from(sold) / elapsed.as_secs_f64(),
        ms(s.p50),
        ms(s.p99)
    );
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let orders: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(2000);
    let buyers: Vec<usize> = args.filter_map(|n| n.parse().ok()).collect();
    for buyers in if buyers.is_empty() { vec![1, 10, 50] } else { buyers } {
        run(orders, buyers).await;
    }
}
