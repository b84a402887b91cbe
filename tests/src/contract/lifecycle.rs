//! The lifecycle moves' contract cases: a move writes only on the version
//! it was judged on, with its stock, notice and key note, all or nothing;
//! the settler finds refunds being asked; the sandbox ledger keeps each
//! refund once.

use std::sync::Arc;

use galley_shared::id::{OrderId, RefundId, UserId};
use galley_shared::money::{Currency, Money};
use galley_shared::orders::{
    Fulfilment, NoticeId, NoticeKind, Order, OrderStatus, Party, Refund, ask_cancel, ask_refund, fulfil, settle_refund,
};
use galley_shared::ports::{KeyNote, OrderMove};
use time::OffsetDateTime;

use super::Store;
use super::orders::{NOW, acquire, answer, lease_request, order, scope};
use crate::fixtures::product;

fn at() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(NOW).unwrap()
}

/// A confirmed order of `units` of product "a", as the store reads it back.
async fn confirmed(store: &impl Store, units: u32) -> Order {
    let placed = order(&UserId::generate(), &[("a", units)]);
    crate::fixtures::confirmed_order(store, store, &placed, &format!("key-{}", placed.id), NOW).await;
    store.any_order(&placed.id).await.unwrap().unwrap()
}

fn refund(amount: i64) -> Refund {
    let usd = Currency::parse("USD").unwrap();
    Refund {
        id: RefundId::generate(),
        amount: Money::new(amount, usd).unwrap(),
        reason: "dent".into(),
        created_at: at(),
    }
}

async fn apply(store: &impl Store, moved: &galley_shared::orders::Moved) -> bool {
    store.apply_move(&OrderMove { moved, audit: None, key: None }).await.unwrap()
}

pub async fn a_move_writes_only_on_the_version_it_was_judged_on(store: Arc<impl Store>) {
    store.upsert(&[product("a", 10)]).await.unwrap();
    let order = confirmed(&*store, 1).await;
    let shipping = Fulfilment { carrier: Some("UPS".into()), tracking_number: None, fulfilled_at: at() };
    let shipped = fulfil(&order, shipping.clone(), Party::Customer).unwrap();
    let refunded = ask_refund(&order, refund(100), Party::Customer).unwrap();
    assert!(apply(&*store, &shipped).await);
    assert!(!apply(&*store, &refunded).await, "judged on the version before: refused");
    assert!(!apply(&*store, &shipped).await, "a move applies once");
    let read = store.any_order(&order.id).await.unwrap().unwrap();
    assert_eq!((read.status, read.version), (OrderStatus::Fulfilled, order.version + 1));
    assert_eq!(read.state.fulfilment, Some(shipping));
    assert_eq!(read.state.pending_refunds, [], "the refused move wrote nothing");
    assert_eq!(read.history.last().map(|h| h.status), Some(OrderStatus::Fulfilled));
    let fulfilled = NoticeId { order: order.id.clone(), kind: NoticeKind::Fulfilled };
    let notice = store.entry(&fulfilled).await.unwrap().expect("the shipping notice waits in the outbox");
    assert_eq!(notice.notice.order.status, OrderStatus::Fulfilled);
    let listed = store
        .all_orders(&galley_shared::ports::OrderFilter { status: Some(OrderStatus::Fulfilled), user: None }, None, 50)
        .await
        .unwrap();
    assert!(listed.orders.iter().any(|o| o.id == order.id), "listed under its new status");
}

pub async fn a_refund_being_asked_is_found_until_settled(store: Arc<impl Store>) {
    store.upsert(&[product("a", 10)]).await.unwrap();
    let order = confirmed(&*store, 2).await;
    let asked = ask_refund(&order, refund(500), Party::Customer).unwrap();
    let request = lease_request(&scope(&UserId::generate(), "key-refund-1"), "{}", NOW);
    acquire(&*store, &request).await;
    let hold = galley_shared::ports::Hold { scope: &request.scope, lease: &request.lease };
    let id = asked.order.state.pending_refunds[0].refund.id.clone();
    let noted = OrderMove { moved: &asked, audit: None, key: Some(KeyNote::Progress(hold, id.to_string())) };
    assert!(store.apply_move(&noted).await.unwrap());
    let retry = lease_request(&request.scope, "{}", NOW + 60);
    assert_eq!(
        store.lease(&retry).await.unwrap(),
        galley_shared::idempotency::LeaseOutcome::Acquired { progress: Some(id.to_string()) },
        "a retry learns which refund to finish"
    );
    let found: Vec<OrderId> = store.refunding_before(NOW + 1, 10).await.unwrap().into_iter().map(|o| o.id).collect();
    assert_eq!(found, std::slice::from_ref(&order.id));
    assert!(store.refunding_before(NOW, 10).await.unwrap().is_empty(), "asked at NOW, not before");
    let read = store.any_order(&order.id).await.unwrap().unwrap();
    let settled = settle_refund(&read, &id, at()).unwrap();
    assert!(apply(&*store, &settled).await);
    assert!(store.refunding_before(NOW + 1, 10).await.unwrap().is_empty(), "settled: no longer found");
    let read = store.any_order(&order.id).await.unwrap().unwrap();
    assert_eq!((read.status, read.refunded().amount), (OrderStatus::PartiallyRefunded, 500));
    let notice = NoticeId { order: order.id.clone(), kind: NoticeKind::Refund(id.clone()) };
    assert!(store.entry(&notice).await.unwrap().is_some(), "one notice for the refund");

    // The sandbox ledger keeps each refund once, at its first amount.
    let usd = Currency::parse("USD").unwrap();
    let five = Money::new(500, usd).unwrap();
    assert_eq!(store.record_refund(&order.id, &id, five).await.unwrap(), five);
    assert_eq!(store.record_refund(&order.id, &id, Money::new(9, usd).unwrap()).await.unwrap(), five);
    assert_eq!(store.refunds(&order.id).await.unwrap(), [(id, five)]);
}

pub async fn a_cancel_gives_the_stock_back_once_with_its_notice(store: Arc<impl Store>) {
    store.upsert(&[product("a", 10)]).await.unwrap();
    let order = confirmed(&*store, 3).await;
    assert_eq!(store.level(&galley_shared::id::ProductId::parse("a").unwrap()).await.unwrap(), Some(7));
    let asked = ask_cancel(&order, RefundId::generate(), "late".into(), true, (Party::Customer, at())).unwrap();
    assert!(apply(&*store, &asked).await);
    let id = asked.order.state.pending_refunds[0].refund.id.clone();
    let settled = settle_refund(&asked.order, &id, at()).unwrap();
    let request = lease_request(&scope(&order.user_id, "key-cancel-1"), "{}", NOW);
    acquire(&*store, &request).await;
    let hold = galley_shared::ports::Hold { scope: &request.scope, lease: &request.lease };
    let done = OrderMove { moved: &settled, audit: None, key: Some(KeyNote::Complete(hold, answer(200))) };
    assert!(store.apply_move(&done).await.unwrap());
    assert!(!store.apply_move(&OrderMove { moved: &settled, audit: None, key: None }).await.unwrap(), "once");
    assert_eq!(store.level(&galley_shared::id::ProductId::parse("a").unwrap()).await.unwrap(), Some(10));
    let read = store.any_order(&order.id).await.unwrap().unwrap();
    assert_eq!(read.status, OrderStatus::Cancelled);
    let cancelled = NoticeId { order: order.id.clone(), kind: NoticeKind::Cancelled };
    assert!(store.entry(&cancelled).await.unwrap().is_some());
    let replay = store.lease(&lease_request(&request.scope, "{}", NOW + 1)).await.unwrap();
    assert_eq!(replay, galley_shared::idempotency::LeaseOutcome::Completed(answer(200)), "its answer kept with it");
}
