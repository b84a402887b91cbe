//! 3-D Secure and Stripe's webhook over HTTP through `galley serve`, on both
//! stores, against localstripe (started by `scripts/test`): a card that
//! asks for authentication is a 202 with `next_action` and its stock held,
//! then confirmed by the `payment_intent.succeeded` localstripe sends (one
//! receipt); a card that fails after authentication is declined by the
//! webhook, stock back, no receipt. Deliveries with a bad, stale or foreign
//! signature change nothing; the same event five times and events out of
//! order change an order once; a refund made in Stripe's dashboard shows on
//! the order, and one Galley made is not recorded twice. The events Galley
//! signs here are Stripe's payloads pinned in `tests/fixtures/stripe`.

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::common::{Reply, Server};
use crate::lifecycle_http::{mail_counts, sent_mail, verify_sender};

pub(crate) const SECRET: &str = "whsec_galley_http_tests";

pub(crate) fn stripe_api() -> String {
    std::env::var("GALLEY_TEST_STRIPE_API").expect("localstripe in GALLEY_TEST_STRIPE_API; run ./scripts/test")
}

/// A form POST to localstripe: its status and JSON answer.
pub(crate) fn stripe_post(path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let body = serde_urlencoded_form(form);
    let length = body.len().to_string();
    let headers = [
        ("Authorization", "Bearer sk_test_galley"),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Content-Length", length.as_str()),
    ];
    let (status, answer) =
        galley_tests::http::send_to_url("POST", &format!("{}{path}", stripe_api()), &headers, body.as_bytes());
    (status, serde_json::from_str(&answer).unwrap_or(Value::Null))
}

fn serde_urlencoded_form(form: &[(&str, &str)]) -> String {
    let mut encoded = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form {
        encoded.append_pair(name, value);
    }
    encoded.finish()
}

/// A PaymentMethod made from a raw test card, as Stripe.js would.
pub(crate) fn card_method(number: &str) -> String {
    let form = galley_tests::fixtures::test_card_form(number);
    let (status, method) = stripe_post("/v1/payment_methods", &form);
    assert_eq!(status, 200, "{method}");
    method["id"].as_str().unwrap().to_owned()
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/../tests/fixtures/stripe/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn signature(secret: &str, at: i64, payload: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{at}.").as_bytes());
    mac.update(payload);
    format!("t={at},v1={}", hex::encode(mac.finalize().into_bytes()))
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn deliver(server: &Server, event: &Value, header: Option<&str>) -> Reply {
    let payload = serde_json::to_vec(event).unwrap();
    let mut headers = vec![("Content-Type", "application/json; charset=utf-8")];
    if let Some(header) = header {
        headers.push(("Stripe-Signature", header));
    }
    server.request("POST", "/webhooks/stripe", &headers, &payload)
}

fn deliver_signed(server: &Server, event: &Value) -> Reply {
    let header = signature(SECRET, now(), &serde_json::to_vec(event).unwrap());
    deliver(server, event, Some(&header))
}

/// A pinned event about `intent` of `order`, with its own id.
fn intent_event(kind: &str, id: &str, intent: &str, order: &str) -> Value {
    let mut event = fixture("payment_intent.succeeded");
    event["id"] = json!(id);
    event["type"] = json!(kind);
    event["created"] = json!(now());
    event["data"]["object"]["id"] = json!(intent);
    event["data"]["object"]["metadata"]["order_id"] = json!(order);
    event
}

fn post(server: &Server, path: &str, token: &str, key: &str, body: &Value) -> Reply {
    let auth = format!("Bearer {token}");
    let headers = [("Content-Type", "application/json"), ("Authorization", auth.as_str()), ("Idempotency-Key", key)];
    server.request("POST", path, &headers, body.to_string().as_bytes())
}

/// Reads the order until `done` holds (the webhook arrives a second or so
/// after the event).
fn order_when(server: &Server, token: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let order = server.get_as(&format!("/orders/{id}"), token).body;
        if done(&order) || Instant::now() > deadline {
            return order;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn three_d_secure_and_the_webhook(backend: crate::common::Backend) {
    let api = stripe_api();
    let env = [
        ("PAYMENT_GATEWAY", "stripe"),
        ("STRIPE_SECRET_KEY", "sk_test_galley"),
        ("STRIPE_API_BASE", api.as_str()),
        ("STRIPE_WEBHOOK_SECRET", SECRET),
    ];
    let server = Server::start_with_env(backend, &env);
    verify_sender(&server);
    let endpoint = format!("http://127.0.0.1:{}/webhooks/stripe", server.port);
    let (status, _) =
        stripe_post(&format!("/_config/webhooks/galley-{}", server.port), &[("url", &endpoint), ("secret", SECRET)]);
    assert_eq!(status, 200, "localstripe takes the webhook");

    let shopper = server.signed_in("three-d-secure@example.com");
    let email = "three-d-secure-owner@example.com";
    let admin = server.signed_in(email);
    assert!(server.backend.command(server.data_dir.path(), &["admin", "grant", email]).status().unwrap().success());
    let stock = || server.get_as("/admin/products/mug-blue-350", &admin).body["stock"].as_i64().unwrap();
    let start = stock();
    let cart =
        |method: &str| json!({"items": [{"product_id": "mug-blue-350", "quantity": 1}], "payment": {"token": method}});

    // Authentication asked: 202, pending, stock held; the replay is the same answer.
    let first_cart = cart(&card_method("4000002500003155"));
    let asked = post(&server, "/checkout", &shopper, "three-d-secure-1", &first_cart);
    assert_eq!(asked.status, 202, "{:?}", asked.body);
    assert_eq!(asked.body["order"]["status"], "pending");
    assert_eq!(asked.body["next_action"]["type"], "use_stripe_sdk");
    let client_secret = asked.body["next_action"]["client_secret"].as_str().unwrap().to_owned();
    let order = asked.body["order"]["id"].as_str().unwrap().to_owned();
    let intent = client_secret.split("_secret_").next().unwrap().to_owned();
    let replay = post(&server, "/checkout", &shopper, "three-d-secure-1", &cart("pm_card_visa"));
    assert_eq!((replay.status, replay.header("idempotent-replayed")), (422, None), "another body is refused");
    let replay = post(&server, "/checkout", &shopper, "three-d-secure-1", &first_cart);
    assert_eq!((replay.status, replay.body["order"]["id"].as_str()), (202, Some(order.as_str())));
    assert_eq!(stock(), start - 1, "held while the customer authenticates");

    // The customer authenticates; localstripe's webhook confirms the order.
    let (status, _) = stripe_post(
        &format!("/v1/payment_intents/{intent}/_authenticate"),
        &[("client_secret", &client_secret), ("success", "true")],
    );
    assert_eq!(status, 200);
    let confirmed = order_when(&server, &shopper, &order, |o| o["status"] == "confirmed");
    assert_eq!(confirmed["status"], "confirmed", "{confirmed}");
    let by = server.get_as(&format!("/admin/orders/{order}"), &admin).body["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["by"]
        .clone();
    assert_eq!(by, "gateway");
    assert_eq!(stock(), start - 1);
    let replay = post(&server, "/checkout", &shopper, "three-d-secure-1", &first_cart);
    assert_eq!((replay.status, replay.header("idempotent-replayed")), (202, Some("true")), "the stored answer");

    // A card that fails after authentication: declined by the webhook, stock back.
    let failing = post(&server, "/checkout", &shopper, "three-d-secure-2", &cart(&card_method("4000008260003178")));
    assert_eq!(failing.status, 202, "{:?}", failing.body);
    let failing_order = failing.body["order"]["id"].as_str().unwrap().to_owned();
    let failing_secret = failing.body["next_action"]["client_secret"].as_str().unwrap().to_owned();
    let failing_intent = failing_secret.split("_secret_").next().unwrap().to_owned();
    assert_eq!(stock(), start - 2);
    // localstripe answers this one 402: the charge after authentication fails.
    stripe_post(
        &format!("/v1/payment_intents/{failing_intent}/_authenticate"),
        &[("client_secret", &failing_secret), ("success", "true")],
    );
    let declined = order_when(&server, &shopper, &failing_order, |o| o["status"] == "declined");
    assert_eq!(declined["status"], "declined", "{declined}");
    assert_eq!(stock(), start - 1, "the declined order's stock is back");

    // Forged, stale or foreign deliveries change nothing.
    let forged = intent_event("payment_intent.succeeded", "evt_forged_1", &failing_intent, &failing_order);
    let payload = serde_json::to_vec(&forged).unwrap();
    deliver(&server, &forged, None).assert_problem(400, "invalid_signature");
    deliver(&server, &forged, Some(&signature("whsec_someone_else", now(), &payload)))
        .assert_problem(400, "invalid_signature");
    deliver(&server, &forged, Some(&signature(SECRET, now() - 301, &payload))).assert_problem(400, "invalid_signature");
    deliver(&server, &forged, Some("t=1,v1=00")).assert_problem(400, "invalid_signature");
    assert_eq!(server.get_as(&format!("/orders/{failing_order}"), &shopper).body["status"], "declined");

    // The same event five times, and a failure after the success: once.
    let history_len =
        |id: &str| server.get_as(&format!("/admin/orders/{id}"), &admin).body["history"].as_array().unwrap().len();
    let before = history_len(&order);
    let success = intent_event("payment_intent.succeeded", &format!("evt_again_{order}"), &intent, &order);
    let failure = intent_event("payment_intent.payment_failed", &format!("evt_late_{order}"), &intent, &order);
    for _ in 0..5 {
        assert_eq!(deliver_signed(&server, &success).status, 200);
        assert_eq!(deliver_signed(&server, &failure).status, 200);
    }
    assert_eq!(server.get_as(&format!("/orders/{order}"), &shopper).body["status"], "confirmed");
    assert_eq!(history_len(&order), before);

    // A refund made in Stripe's dashboard shows on the order, once.
    let (status, dashboard) = stripe_post("/v1/refunds", &[("payment_intent", &intent), ("amount", "300")]);
    assert_eq!(status, 200, "{dashboard}");
    let mut refunded = fixture("charge.refunded");
    refunded["id"] = json!(format!("evt_refund_{order}"));
    refunded["created"] = json!(now());
    refunded["data"]["object"]["payment_intent"] = json!(intent);
    for _ in 0..3 {
        assert_eq!(deliver_signed(&server, &refunded).status, 200);
    }
    let seen = server.get_as(&format!("/admin/orders/{order}"), &admin).body;
    assert_eq!(seen["status"], "partially_refunded", "{seen}");
    let refunds = seen["refunds"].as_array().unwrap();
    assert_eq!(
        (refunds.len(), refunds[0]["id"].as_str(), refunds[0]["amount"]["amount"].as_i64()),
        (1, dashboard["id"].as_str(), Some(300))
    );
    assert_eq!(seen["history"].as_array().unwrap().last().unwrap()["by"], "gateway");

    // A refund Galley made, told by Stripe's event, is not recorded again.
    let refund = json!({"amount": {"amount": 200, "currency": "USD"}, "reason": "scratched"});
    let own = post(&server, &format!("/admin/orders/{order}/refunds"), &admin, "three-d-secure-refund", &refund);
    assert_eq!(own.status, 201, "{:?}", own.body);
    refunded["id"] = json!(format!("evt_refund_own_{order}"));
    assert_eq!(deliver_signed(&server, &refunded).status, 200);
    assert_eq!(server.get_as(&format!("/admin/orders/{order}"), &admin).body["refunds"].as_array().unwrap().len(), 2);

    let markers = [format!("receipt-{order}@galley"), format!("refund-{}@galley", dashboard["id"].as_str().unwrap())];
    assert_eq!(mail_counts(&server, &markers), [1, 1], "one receipt, one refund notice");
    assert!(!sent_mail(&server).contains(&format!("receipt-{failing_order}@galley")), "no receipt for a decline");
    assert!(server.stop().success());
}

crate::on_both_backends!(three_d_secure_and_the_webhook);
