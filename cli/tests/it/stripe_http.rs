//! Checkout and refunds through the Stripe gateway (localstripe, started by
//! `scripts/test`) over HTTP through `galley serve`, on both stores: a card
//! that succeeds is charged once and confirmed, a declining card is a 402
//! with Stripe's `decline_code` and its stock back, and an admin's refund
//! is made in Stripe.

use serde_json::{Value, json};

use crate::common::{Backend, Reply, Server};

fn stripe_api() -> String {
    std::env::var("GALLEY_TEST_STRIPE_API").expect("localstripe in GALLEY_TEST_STRIPE_API; run ./scripts/test")
}

fn post(server: &Server, path: &str, token: &str, key: &str, body: &Value) -> Reply {
    let auth = format!("Bearer {token}");
    let headers = [("Content-Type", "application/json"), ("Authorization", auth.as_str()), ("Idempotency-Key", key)];
    server.request("POST", path, &headers, body.to_string().as_bytes())
}

fn stripe_get(path: &str) -> Value {
    let url = format!("{}{path}", stripe_api());
    let (status, body) =
        galley_tests::http::send_to_url("GET", &url, &[("Authorization", "Bearer sk_test_galley")], b"");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Every intent localstripe holds for `order`, read a page at a time.
fn intents_of(order: &str) -> Vec<Value> {
    let mut found = Vec::new();
    let mut after = String::new();
    loop {
        let page = stripe_get(&format!("/v1/payment_intents?limit=100{after}"));
        let data = page["data"].as_array().unwrap();
        found.extend(data.iter().filter(|i| i["metadata"]["order_id"] == order).cloned());
        match data.last() {
            Some(last) if page["has_more"] == true => {
                after = format!("&starting_after={}", last["id"].as_str().unwrap())
            }
            _ => return found,
        }
    }
}

fn checkout_and_refund_through_stripe(backend: Backend) {
    let api = stripe_api();
    let env =
        [("PAYMENT_GATEWAY", "stripe"), ("STRIPE_SECRET_KEY", "sk_test_galley"), ("STRIPE_API_BASE", api.as_str())];
    let server = Server::start_with_env(backend, &env);
    let shopper = server.signed_in("stripe-buyer@example.com");
    let cart =
        |card: &str| json!({"items": [{"product_id": "mug-blue-350", "quantity": 1}], "payment": {"token": card}});
    let stock = || server.get("/products/mug-blue-350").body["in_stock"].clone();

    let paid = post(&server, "/checkout", &shopper, "stripe-paid-1", &cart("pm_card_visa"));
    assert_eq!((paid.status, paid.body["status"].as_str()), (201, Some("confirmed")), "{:?}", paid.body);
    let replay = post(&server, "/checkout", &shopper, "stripe-paid-1", &cart("pm_card_visa"));
    assert_eq!((replay.status, replay.header("idempotent-replayed")), (201, Some("true")));
    let order = paid.body["id"].as_str().unwrap().to_owned();
    let ours = intents_of(&order);
    assert_eq!(ours.len(), 1, "one PaymentIntent for the order");
    assert_eq!((ours[0]["status"].as_str(), ours[0]["amount"].as_i64()), (Some("succeeded"), Some(1299)));

    let declined = post(&server, "/checkout", &shopper, "stripe-declined-1", &cart("pm_card_chargeCustomerFail"));
    declined.assert_problem(402, "payment_declined");
    assert_eq!(declined.body["decline_code"], "card_declined");
    assert_eq!(stock(), json!(true), "the stock is back");

    let email = "stripe-owner@example.com";
    let admin = server.signed_in(email);
    assert!(server.backend.command(server.data_dir.path(), &["admin", "grant", email]).status().unwrap().success());
    let refund = json!({"amount": {"amount": 299, "currency": "USD"}, "reason": "scratched"});
    let refunded = post(&server, &format!("/admin/orders/{order}/refunds"), &admin, "stripe-refund-1", &refund);
    assert_eq!(
        (refunded.status, refunded.body["status"].as_str()),
        (201, Some("partially_refunded")),
        "{:?}",
        refunded.body
    );
    let made = stripe_get(&format!("/v1/refunds?payment_intent={}", ours[0]["id"].as_str().unwrap()));
    let made = made["data"].as_array().unwrap();
    assert_eq!(made.len(), 1);
    assert_eq!(made[0]["amount"], 299);
    assert!(server.stop().success());
}

crate::on_both_backends!(checkout_and_refund_through_stripe);
