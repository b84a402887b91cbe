//! For random carts and random codes, `POST /checkout/quote` prices exactly
//! what `POST /checkout` then charges, and the line discounts add up to the
//! order's discount with no line below zero, on every store.

use std::sync::Arc;

use bytes::Bytes;
use galley_checkout::{CheckoutFunction, CheckoutStores};
use galley_http::Handler;
use galley_payments::SandboxGateway;
use galley_shared::admin::{Actor, NewPromotion, PromotionDesk};
use galley_shared::auth::{DisplayName, Email, KeyId, Session, TokenSigner, UserProfile};
use galley_shared::clock::{Clock, ManualClock};
use galley_shared::id::UserId;
use galley_shared::keys::{Keys, SigningKey};
use galley_shared::money::{Currency, Money};
use galley_shared::ports::Sessions;
use galley_shared::promotions::{Offer, PromoCode};
use galley_tests::contract::Store;
use galley_tests::fixtures;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

/// A cart: each line's unit price and quantity.
type Lines = Vec<(i64, u32)>;

/// A code: percent or amount off, and a minimum subtotal perhaps.
#[derive(Clone, Debug)]
struct Code {
    percent: Option<u8>,
    amount: i64,
    min_subtotal: Option<i64>,
}

fn lines() -> impl Strategy<Value = Lines> {
    prop::collection::vec((1i64..100_000, 1u32..=100), 1..=8)
}

fn code() -> impl Strategy<Value = Option<Code>> {
    let code = (prop::option::of(1u8..=100), 1i64..2_000_000, prop::option::of(1i64..5_000_000))
        .prop_map(|(percent, amount, min_subtotal)| Code { percent, amount, min_subtotal });
    prop::option::of(code)
}

async fn send(checkout: &CheckoutFunction, token: &str, path: &str, key: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"));
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = checkout.handle(request.body(Bytes::from(body.to_string())).unwrap()).await;
    (response.status().as_u16(), serde_json::from_slice(response.body()).unwrap())
}

/// What a quote and an order share: the priced lines and the sums.
fn priced(body: &Value) -> Value {
    json!({"items": body["items"].as_array().map(|items| items.iter().map(|i| json!([
        i["product_id"], i["quantity"], i["unit_price"], i["line_total"], i["discount"]
    ])).collect::<Vec<_>>()), "subtotal": body["subtotal"], "discount": body["discount"], "total": body["total"]})
}

fn check_store<S: Store, F>(cases: u32, open: F)
where
    F: Fn(&tokio::runtime::Runtime) -> Arc<S>,
{
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = open(&runtime);
    let clock = Arc::new(ManualClock::starting_now());
    let key = SigningKey::new(vec![7; 32]).unwrap();
    let stores = CheckoutStores::over(store.clone());
    let keys = Keys::from_secret(&key);
    let checkout =
        CheckoutFunction::new(stores, Arc::new(SandboxGateway::new(store.clone())), &keys, clock.clone()).unwrap();
    let desk = PromotionDesk::new(store.clone(), clock.clone());
    let admin = Actor { id: UserId::generate(), email: Email::parse("admin@example.com").unwrap() };
    let user = UserId::generate();
    let profile = UserProfile {
        id: user.clone(),
        email: Email::parse("buyer@example.com").unwrap(),
        name: DisplayName::parse("Buyer").unwrap(),
    };
    let (session, _) = Session::start(profile, clock.unix_now());
    runtime.block_on(Sessions::create(&*store, &session)).unwrap();
    let token =
        TokenSigner::derive(&key, &KeyId::first()).issue(&user, &session.id, clock.unix_now()).expose().to_owned();
    let usd = Currency::parse("USD").unwrap();

    let mut runner = TestRunner::new(Config { cases, ..Config::default() });
    let cases_run = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&(lines(), code()), |(lines, code)| {
            let case = cases_run.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            let products: Vec<_> = lines
                .iter()
                .enumerate()
                .map(|(i, (price, _))| {
                    let mut p = fixtures::product(&format!("c{case}-p{i}"), 1_000);
                    p.price.amount = *price;
                    p
                })
                .collect();
            runtime.block_on(store.upsert(&products)).unwrap();
            let items: Vec<Value> = products
                .iter()
                .zip(&lines)
                .map(|(p, (_, units))| json!({"product_id": p.id.as_str(), "quantity": units}))
                .collect();
            let mut basket = json!({ "items": items });
            if let Some(code) = &code {
                let raw = format!("CASE{case}");
                let offer = match code.percent {
                    Some(percent) => Offer::percent(percent).unwrap(),
                    None => Offer::amount(Money::new(code.amount, usd).unwrap()).unwrap(),
                };
                let new = NewPromotion {
                    code: PromoCode::parse(&raw).unwrap(),
                    offer,
                    min_subtotal: code.min_subtotal.map(|m| Money::new(m, usd).unwrap()),
                    starts_at: None,
                    ends_at: None,
                    max_redemptions: None,
                    once_per_customer: false,
                };
                runtime.block_on(desk.create(&admin, new)).unwrap();
                // Asked in lower case: codes are found ignoring it.
                basket["promo_code"] = json!(raw.to_lowercase());
            }
            let (quoted_status, quoted) = runtime.block_on(send(&checkout, &token, "/checkout/quote", None, &basket));
            let mut cart = basket.clone();
            cart["payment"] = json!({"token": "pm_card_visa"});
            let key = format!("quote-property-{case}");
            let (status, order) = runtime.block_on(send(&checkout, &token, "/checkout", Some(&key), &cart));
            let subtotal: i64 = lines.iter().map(|(price, units)| price * i64::from(*units)).sum();
            if code.as_ref().and_then(|c| c.min_subtotal).is_some_and(|min| subtotal < min) {
                prop_assert_eq!((quoted_status, quoted["reason"].as_str()), (400, Some("min_subtotal")));
                prop_assert_eq!((status, &order), (400, &quoted), "the same refusal");
                return Ok(());
            }
            prop_assert_eq!(quoted_status, 200, "{}", quoted);
            prop_assert_eq!(status, 201, "{}", order);
            prop_assert_eq!(priced(&quoted), priced(&order), "the quote is what checkout charged");
            let discount = order["discount"]["amount"].as_i64().unwrap();
            let shares: Vec<i64> =
                order["items"].as_array().unwrap().iter().map(|i| i["discount"]["amount"].as_i64().unwrap()).collect();
            prop_assert_eq!(shares.iter().sum::<i64>(), discount);
            for (share, item) in shares.iter().zip(order["items"].as_array().unwrap()) {
                prop_assert!(*share >= 0 && *share <= item["line_total"]["amount"].as_i64().unwrap());
            }
            prop_assert_eq!(order["subtotal"]["amount"].as_i64().unwrap(), subtotal);
            prop_assert_eq!(order["total"]["amount"].as_i64().unwrap(), subtotal - discount);
            prop_assert!(subtotal - discount >= 0);
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_quote_is_what_checkout_charges_on_the_embedded_store() {
    let temp = fixtures::embedded_store();
    check_store(64, |_| temp.store.clone());
}

#[test]
fn a_quote_is_what_checkout_charges_on_dynamodb() {
    check_store(16, |runtime| runtime.block_on(fixtures::dynamo_store()));
}
