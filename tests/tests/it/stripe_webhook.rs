//! The webhook's rule for a payment that succeeds after its order was
//! declined (API.md: "refunded at once and the customer told"), against
//! localstripe on both stores: Stripe refunds the whole payment once, the
//! refund shows on the declined order and its notice waits in the outbox;
//! told again, nothing more happens.

use std::sync::Arc;

use galley_payments::{StripeClient, StripeGateway};
use galley_shared::clock::{Clock, ManualClock};
use galley_shared::id::{RefundId, UserId};
use galley_shared::idempotency::{Fingerprint, IdempotencyKey, IdempotencyScope, LeaseId, LeaseRequest};
use galley_shared::orders::{
    EventStores, GatewayEvents, HistoryEntry, NoticeId, NoticeKind, Order, OrderStatus, Party,
};
use galley_shared::ports::{FixedSecret, GatewayEvent, Hold, PaymentGateway};
use galley_tests::contract::{Store, pending_order};
use galley_tests::fixtures::product;
use secrecy::SecretString;
use serde_json::Value;
use time::OffsetDateTime;

fn client() -> Arc<StripeClient> {
    let api = std::env::var("GALLEY_TEST_STRIPE_API")
        .expect("the Stripe tests need localstripe in GALLEY_TEST_STRIPE_API; run them with ./scripts/test");
    Arc::new(StripeClient::new(&api, Arc::new(FixedSecret(SecretString::from("sk_test_galley".to_owned())))))
}

/// Leases `key` for the order's user and places the order under it, as a
/// checkout does; the lease runs 30 s from `now`.
async fn placed(store: &impl Store, order: &Order, key: &str, now: i64) -> (IdempotencyScope, LeaseId) {
    let scope = IdempotencyScope { user: order.user_id.clone(), key: IdempotencyKey::parse(key).unwrap() };
    let lease = LeaseId::generate();
    let request = LeaseRequest {
        scope: scope.clone(),
        fingerprint: Fingerprint::of("POST", "/checkout", b"{}"),
        lease: lease.clone(),
        now,
        lease_until: now + 30,
        expires_at: now + 86_400,
    };
    store.lease(&request).await.unwrap();
    store.place(order, Hold { scope: &scope, lease: &lease }).await.unwrap();
    (scope, lease)
}

async fn a_payment_that_succeeds_after_its_decline_is_refunded_and_told(store: Arc<impl Store>) {
    let now = 1_795_000_000;
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::at(OffsetDateTime::from_unix_timestamp(now).unwrap()));
    store.upsert(&[product("late-mug", 5)]).await.unwrap();
    let order = pending_order(&UserId::generate(), "late-mug", 1);
    let (scope, lease) = placed(&*store, &order, "late-payment-1", now).await;
    let hold = Hold { scope: &scope, lease: &lease };
    let declined = HistoryEntry::new(OrderStatus::Declined, order.created_at, Party::Settler);
    let refusal = galley_shared::idempotency::StoredResponse { status: 402, body: bytes::Bytes::from_static(b"{}") };
    store.decline(&order, &declined, hold, &refusal).await.unwrap();

    // Its intent succeeded all the same (the customer finished paying on
    // an intent the decline did not close).
    let amount = order.total.amount.to_string();
    let form = [
        ("amount", amount.as_str()),
        ("currency", "usd"),
        ("payment_method", "pm_card_visa"),
        ("payment_method_types[]", "card"),
        ("metadata[order_id]", order.id.as_str()),
    ];
    let made: Value = client().post("/v1/payment_intents", &form, "late-intent").await.unwrap().unwrap();
    let intent = made["id"].as_str().unwrap().to_owned();
    let confirmed: Value = client()
        .post(&format!("/v1/payment_intents/{intent}/confirm"), &[("", ""); 0], "late-confirm")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(confirmed["status"], "succeeded");
    store.record_intent(&order.id, &intent).await.unwrap();

    let gateway: Arc<dyn PaymentGateway> = Arc::new(StripeGateway::new(client(), store.clone()));
    let stores =
        EventStores { orders: store.clone(), book: store.clone(), keys: store.clone(), applied: store.clone() };
    let events = GatewayEvents::new(stores, gateway, clock, galley_http::problem::stored_response);
    let told = || async { Ok(GatewayEvent::Payment { order: order.id.clone(), succeeded: true }) };
    events.apply(&format!("evt_late_{}", order.id), told()).await.unwrap();
    events.apply(&format!("evt_late_again_{}", order.id), told()).await.unwrap();

    let refunds: Value = client().get(&format!("/v1/refunds?payment_intent={intent}")).await.unwrap().unwrap();
    let refunds = refunds["data"].as_array().unwrap();
    assert_eq!(refunds.len(), 1, "refunded once: {refunds:?}");
    assert_eq!(refunds[0]["amount"].as_i64(), Some(order.total.amount), "the whole payment");
    let late = RefundId::parse(&format!("late_{}", order.id)).unwrap();
    let after = store.any_order(&order.id).await.unwrap().unwrap();
    assert_eq!(after.status, OrderStatus::Declined, "a declined order stays declined");
    assert_eq!(after.state.refunds.iter().map(|r| (&r.id, r.amount)).collect::<Vec<_>>(), [(&late, order.total)]);
    let notice = NoticeId { order: order.id.clone(), kind: NoticeKind::Refund(late) };
    assert!(store.entry(&notice).await.unwrap().is_some(), "the customer is told");
    let mug = galley_shared::id::ProductId::parse("late-mug").unwrap();
    assert_eq!(store.level(&mug).await.unwrap(), Some(5), "the stock stays back");
}

/// An event about an order whose checkout is still at work (its key's
/// lease running) is left to that checkout: 503, not recorded as applied,
/// so the gateway delivers it again; once the checkout is gone, the same
/// event settles the order from what the gateway says.
async fn an_event_waits_for_a_checkout_still_at_work(store: Arc<impl Store>) {
    let now = 1_795_000_000;
    let clock = Arc::new(ManualClock::at(OffsetDateTime::from_unix_timestamp(now).unwrap()));
    store.upsert(&[product("busy-mug", 5)]).await.unwrap();
    let order = pending_order(&UserId::generate(), "busy-mug", 1);
    placed(&*store, &order, "busy-checkout-1", now).await;
    let gateway: Arc<dyn PaymentGateway> = Arc::new(galley_payments::SandboxGateway::new(store.clone()));
    gateway
        .charge(&order.id, order.total, &galley_shared::orders::PaymentToken::parse("pm_card_visa").unwrap())
        .await
        .unwrap();
    let stores =
        EventStores { orders: store.clone(), book: store.clone(), keys: store.clone(), applied: store.clone() };
    let events = GatewayEvents::new(stores, gateway, clock.clone(), galley_http::problem::stored_response);
    let event = format!("evt_busy_{}", order.id);
    let told = || async { Ok(GatewayEvent::Payment { order: order.id.clone(), succeeded: true }) };

    let early = events.apply(&event, told()).await;
    assert!(matches!(early, Err(galley_shared::Error::Unavailable { .. })), "{early:?}");
    assert!(!store.applied(&event).await.unwrap(), "left for the redelivery");
    assert_eq!(store.any_order(&order.id).await.unwrap().unwrap().status, OrderStatus::Pending);

    clock.advance(std::time::Duration::from_secs(31));
    events.apply(&event, told()).await.unwrap();
    let settled = store.any_order(&order.id).await.unwrap().unwrap();
    assert_eq!(settled.status, OrderStatus::Confirmed);
    assert_eq!(settled.history.last().map(|e| e.by.clone()), Some(Party::Gateway));
    assert!(store.applied(&event).await.unwrap());
}

galley_tests::on_both_stores!(
    a_payment_that_succeeds_after_its_decline_is_refunded_and_told,
    an_event_waits_for_a_checkout_still_at_work
);
