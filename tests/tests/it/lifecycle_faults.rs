//! Refunds under faults, on both stores, through the lifecycle service with
//! the sandbox gateway's ledger: the gateway applies a refund and its
//! answer is lost; the process dies between the gateway call and the
//! settle. Whatever finishes it (the retry with the key, or the settler),
//! the ledger holds exactly one refund and the order the right status.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use galley_payments::SandboxGateway;
use galley_shared::Error;
use galley_shared::admin::Actor;
use galley_shared::auth::Email;
use galley_shared::clock::{Clock, ManualClock};
use galley_shared::id::{OrderId, RefundId, UserId};
use galley_shared::idempotency::{Fingerprint, IdempotencyKey};
use galley_shared::money::{Currency, Money};
use galley_shared::orders::{Ask, Asker, CHECKOUT_LEASE, Keyed, Lifecycle, Order, OrderStatus, Party, PaymentToken};
use galley_shared::ports::{Charge, LedgerEntry, PaymentGateway};
use galley_tests::contract::Store;
use galley_tests::fixtures::product;
use serde_json::Value;

/// The sandbox gateway, whose refunds are applied and then, for the first
/// `lose` calls, answered with a timeout, or for the first `hang` calls
/// never answered (the process dies there).
struct LossyRefunds {
    inner: SandboxGateway,
    lose: AtomicUsize,
    hang: AtomicUsize,
}

fn take(counter: &AtomicUsize) -> bool {
    counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
}

#[async_trait]
impl PaymentGateway for LossyRefunds {
    async fn charge(&self, order: &OrderId, amount: Money, token: &PaymentToken) -> Result<Charge, Error> {
        self.inner.charge(order, amount, token).await
    }

    async fn settle(&self, order: &OrderId) -> Result<Charge, Error> {
        self.inner.settle(order).await
    }

    async fn outcome(&self, order: &OrderId) -> Result<Option<Charge>, Error> {
        self.inner.outcome(order).await
    }

    async fn refund(&self, order: &OrderId, refund: &RefundId, amount: Money) -> Result<String, Error> {
        let reference = self.inner.refund(order, refund, amount).await?;
        if take(&self.hang) {
            std::future::pending::<()>().await;
        }
        if take(&self.lose) {
            return Err(Error::unavailable("payment provider timed out"));
        }
        Ok(reference)
    }
}

struct Shop<S> {
    store: Arc<S>,
    gateway: Arc<LossyRefunds>,
    lifecycle: Lifecycle,
    clock: Arc<ManualClock>,
    admin: Asker,
}

impl<S: Store> Shop<S> {
    fn open(store: Arc<S>) -> Self {
        let clock = Arc::new(ManualClock::starting_now());
        let gateway = Arc::new(LossyRefunds {
            inner: SandboxGateway::new(store.clone()),
            lose: AtomicUsize::new(0),
            hang: AtomicUsize::new(0),
        });
        let lifecycle = Lifecycle::new(
            store.clone(),
            store.clone(),
            store.clone(),
            gateway.clone(),
            clock.clone(),
            galley_http::problem::stored_response,
        );
        let admin = Asker::Admin(Actor { id: UserId::generate(), email: Email::parse("owner@example.com").unwrap() });
        Shop { store, gateway, lifecycle, clock, admin }
    }

    /// A confirmed order of one mug (19.99), charged by the sandbox.
    async fn charged_order(&self) -> Order {
        self.store.upsert(&[product("mug", 10)]).await.unwrap();
        let mut order = galley_tests::contract::pending_order(&UserId::generate(), "mug", 1);
        order.created_at = self.clock.stamp();
        let key = format!("seed-{}", order.id);
        galley_tests::fixtures::confirmed_order(&*self.store, &*self.store, &order, &key, self.clock.unix_now()).await;
        let charged = LedgerEntry::Charged { amount: order.total, reference: "ch_test".into() };
        self.store.record(&order.id, &charged).await.unwrap();
        order
    }

    async fn refund(&self, order: &OrderId, key: &str, amount: i64) -> Result<(u16, Value, bool), Error> {
        let usd = Currency::parse("USD").unwrap();
        let ask = Ask::Refund { amount: Money::new(amount, usd).unwrap(), reason: "dent".into() };
        let body = format!("{{\"amount\":{amount}}}");
        let keyed = Keyed {
            key: IdempotencyKey::parse(key).unwrap(),
            fingerprint: Fingerprint::of_json("POST", "/admin/orders/x/refunds", body.as_bytes()),
        };
        let answer = self.lifecycle.run(&self.admin, order, ask, keyed).await?;
        let json = serde_json::from_slice(&answer.response.body).unwrap();
        Ok((answer.response.status, json, answer.replayed))
    }

    async fn ledger(&self, order: &OrderId) -> Vec<i64> {
        self.store.refunds(order).await.unwrap().into_iter().map(|(_, money)| money.amount).collect()
    }
}

async fn a_refund_whose_answer_was_lost_is_applied_once_by_the_retry(store: Arc<impl Store>) {
    let shop = Shop::open(store);
    let order = shop.charged_order().await;
    shop.gateway.lose.store(1, Ordering::SeqCst);
    let lost = shop.refund(&order.id, "refund-lost-1", 300).await;
    assert!(matches!(lost, Err(Error::Unavailable { .. })), "{lost:?}");
    assert_eq!(shop.ledger(&order.id).await, [300], "the gateway applied it");

    let (status, body, replayed) = shop.refund(&order.id, "refund-lost-1", 300).await.unwrap();
    assert_eq!((status, replayed, body["status"].as_str()), (201, false, Some("partially_refunded")));
    assert_eq!(body["refunds"].as_array().unwrap().len(), 1);
    assert_eq!(shop.ledger(&order.id).await, [300], "asked again, refunded once");
    let (status, again, replayed) = shop.refund(&order.id, "refund-lost-1", 300).await.unwrap();
    assert_eq!((status, replayed, again), (201, true, body));
    assert_eq!(shop.ledger(&order.id).await, [300]);
}

async fn a_refund_whose_process_died_is_finished_once_by_the_retry(store: Arc<impl Store>) {
    let shop = Shop::open(store);
    let order = shop.charged_order().await;
    shop.gateway.hang.store(1, Ordering::SeqCst);
    let died = tokio::time::timeout(Duration::from_millis(500), shop.refund(&order.id, "refund-died-1", 1999)).await;
    assert!(died.is_err(), "the process died waiting");
    // The dead request still holds its key until the lease lapses.
    let early = shop.refund(&order.id, "refund-died-1", 1999).await;
    assert!(matches!(early, Err(Error::RequestInProgress)), "{early:?}");
    shop.clock.advance(CHECKOUT_LEASE + Duration::from_secs(1));
    let (status, body, _) = shop.refund(&order.id, "refund-died-1", 1999).await.unwrap();
    assert_eq!((status, body["status"].as_str()), (201, Some("refunded")));
    assert_eq!(shop.ledger(&order.id).await, [1999], "one refund in the gateway's ledger");
    let another = shop.refund(&order.id, "refund-died-2", 1).await.unwrap();
    assert_eq!((another.0, another.1["code"].as_str()), (409, Some("invalid_transition")), "nothing is left");
}

async fn a_refund_whose_process_died_is_finished_once_by_the_settler(store: Arc<impl Store>) {
    let shop = Shop::open(store);
    let order = shop.charged_order().await;
    shop.gateway.hang.store(1, Ordering::SeqCst);
    let died = tokio::time::timeout(Duration::from_millis(500), shop.refund(&order.id, "refund-settled-1", 400)).await;
    assert!(died.is_err());
    let cutoff = shop.clock.unix_now() - CHECKOUT_LEASE.as_secs() as i64;
    assert_eq!(shop.lifecycle.finish_refunds(cutoff, 10).await.unwrap(), 0, "not while its request may come back");
    shop.clock.advance(CHECKOUT_LEASE + Duration::from_secs(1));
    let cutoff = shop.clock.unix_now() - CHECKOUT_LEASE.as_secs() as i64;
    assert_eq!(shop.lifecycle.finish_refunds(cutoff, 10).await.unwrap(), 1);
    assert_eq!(shop.lifecycle.finish_refunds(cutoff, 10).await.unwrap(), 0, "finished once");
    assert_eq!(shop.ledger(&order.id).await, [400]);
    let read = shop.store.any_order(&order.id).await.unwrap().unwrap();
    assert_eq!((read.status, read.refunded().amount), (OrderStatus::PartiallyRefunded, 400));
    assert_eq!(read.history.last().map(|h| h.by.clone()), Some(Party::Settler));
    // The request's retry finds its refund done and answers from it, and
    // that answer is kept for the next retry.
    let (status, body, replayed) = shop.refund(&order.id, "refund-settled-1", 400).await.unwrap();
    assert_eq!((status, replayed, body["refunds"].as_array().unwrap().len()), (201, false, 1));
    let again = shop.refund(&order.id, "refund-settled-1", 400).await.unwrap();
    assert_eq!(again, (201, body, true));
    assert_eq!(shop.ledger(&order.id).await, [400]);
    // The admin's decision was audited once, when it was made.
    let audited: Vec<String> = shop
        .store
        .entries(None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.target.id == order.id.as_str())
        .map(|e| e.action)
        .collect();
    assert_eq!(audited, ["order.refund"]);
}

/// Orders placed before orders had versions (no `version` attribute) move
/// as version 0 on DynamoDB, as the embedded store's migration makes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_from_before_versions_still_moves_on_dynamodb() {
    let store = galley_tests::fixtures::dynamo_store().await;
    let shop = Shop::open(store.clone());
    let order = shop.charged_order().await;
    let key = std::collections::HashMap::from([
        ("pk".to_owned(), aws_sdk_dynamodb::types::AttributeValue::S(format!("ORDERS#{}", order.user_id))),
        ("sk".to_owned(), aws_sdk_dynamodb::types::AttributeValue::S(format!("ORDER#{}", order.id))),
    ]);
    store
        .client()
        .update_item()
        .table_name(store.table())
        .set_key(Some(key))
        .update_expression("REMOVE version")
        .send()
        .await
        .unwrap();
    let (status, body, _) = shop.refund(&order.id, "refund-old-1", 100).await.unwrap();
    assert_eq!((status, body["status"].as_str()), (201, Some("partially_refunded")), "{body}");
}

galley_tests::on_both_stores!(
    a_refund_whose_answer_was_lost_is_applied_once_by_the_retry,
    a_refund_whose_process_died_is_finished_once_by_the_retry,
    a_refund_whose_process_died_is_finished_once_by_the_settler
);
