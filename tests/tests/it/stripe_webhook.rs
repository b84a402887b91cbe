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
    GatewayEvents, HistoryEntry, Lifecycle, NoticeId, NoticeKind, OrderStatus, Party, Settler,
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

async fn a_payment_that_succeeds_after_its_decline_is_refunded_and_told(store: Arc<impl Store>) {
    let now = 1_795_000_000;
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::at(OffsetDateTime::from_unix_timestamp(now).unwrap()));
    store.upsert(&[product("late-mug", 5)]).await.unwrap();
    let order = pending_order(&UserId::generate(), "late-mug", 1);
    let scope = IdempotencyScope { user: order.user_id.clone(), key: IdempotencyKey::parse("late-payment-1").unwrap() };
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
    let hold = Hold { scope: &scope, lease: &lease };
    store.place(&order, hold).await.unwrap();
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
    let answer = galley_http::problem::stored_response;
    let settler = Settler::new(store.clone(), gateway.clone(), clock.clone(), answer);
    let lifecycle = Lifecycle::new(store.clone(), store.clone(), store.clone(), gateway.clone(), clock.clone(), answer);
    let events = GatewayEvents::new(settler, lifecycle, store.clone(), gateway, store.clone(), clock);
    let told = GatewayEvent::Payment { order: order.id.clone() };
    events.apply(&format!("evt_late_{}", order.id), told.clone()).await.unwrap();
    events.apply(&format!("evt_late_again_{}", order.id), told).await.unwrap();

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

galley_tests::on_both_stores!(a_payment_that_succeeds_after_its_decline_is_refunded_and_told);
