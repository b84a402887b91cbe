//! Orders, idempotency records and outbox contract cases.

use std::sync::Arc;

use galley_shared::Error;
use galley_shared::auth::Email;
use galley_shared::id::{OrderId, ProductId, UserId};
use galley_shared::idempotency::{
    Fingerprint, IdempotencyKey, IdempotencyScope, LeaseId, LeaseOutcome, LeaseRequest, StoredResponse,
};
use galley_shared::money::{Currency, Money};
use galley_shared::orders::{HistoryEntry, NoticeId, Order, OrderLine, OrderStatus, Party};
use galley_shared::ports::Hold;
use galley_shared::stock::Quantity;
use time::OffsetDateTime;

use super::Store;
use crate::fixtures::product;

pub(crate) const NOW: i64 = 1_795_000_000;

pub(crate) fn scope(user: &UserId, key: &str) -> IdempotencyScope {
    IdempotencyScope { user: user.clone(), key: IdempotencyKey::parse(key).unwrap() }
}

pub(crate) fn lease_request(scope: &IdempotencyScope, body: &str, now: i64) -> LeaseRequest {
    LeaseRequest {
        scope: scope.clone(),
        fingerprint: Fingerprint::of("POST", "/checkout", body.as_bytes()),
        lease: LeaseId::generate(),
        now,
        lease_until: now + 30,
        expires_at: now + 86_400,
    }
}

pub(crate) fn order(user: &UserId, lines: &[(&str, u32)]) -> Order {
    let usd = Currency::parse("USD").unwrap();
    let items: Vec<OrderLine> = lines
        .iter()
        .map(|(id, units)| OrderLine {
            product_id: ProductId::parse(id).unwrap(),
            title: format!("Product {id}"),
            quantity: Quantity::new(*units).unwrap(),
            unit_price: Money::new(1999, usd).unwrap(),
            line_total: Money::new(1999 * i64::from(*units), usd).unwrap(),
            discount: None,
        })
        .collect();
    let total = Money::new(items.iter().map(|l| l.line_total.amount).sum(), usd).unwrap();
    Order {
        id: OrderId::generate(),
        user_id: user.clone(),
        email: Email::parse("buyer@example.com").unwrap(),
        status: OrderStatus::Pending,
        created_at: OffsetDateTime::from_unix_timestamp(NOW).unwrap(),
        items,
        total,
        promotion: None,
        history: vec![moved(OrderStatus::Pending, Party::Customer)],
        state: Default::default(),
        version: 0,
    }
}

/// A pending order of `units` of `product` at 19.99 each, as checkout
/// makes one.
pub fn pending_order(user: &UserId, product: &str, units: u32) -> Order {
    order(user, &[(product, units)])
}

pub(crate) fn moved(status: OrderStatus, by: Party) -> HistoryEntry {
    HistoryEntry::new(status, OffsetDateTime::from_unix_timestamp(NOW).unwrap(), by)
}

fn id(raw: &str) -> ProductId {
    ProductId::parse(raw).unwrap()
}

pub(crate) fn answer(status: u16) -> StoredResponse {
    StoredResponse { status, body: format!("{{\"answer\":{status}}}").into() }
}

pub(crate) async fn acquire(store: &impl Store, request: &LeaseRequest) {
    assert_eq!(store.lease(request).await.unwrap(), LeaseOutcome::Acquired { progress: None });
}

pub async fn placing_takes_stock_and_records_the_order_on_the_lease(store: Arc<impl Store>) {
    store.upsert(&[product("a", 5), product("b", 1)]).await.unwrap();
    let user = UserId::generate();
    let scope = scope(&user, "key-place-1");
    let request = lease_request(&scope, "{}", NOW);
    acquire(&*store, &request).await;
    let pending = order(&user, &[("a", 2), ("b", 1)]);
    store.place(&pending, Hold { scope: &scope, lease: &request.lease }).await.unwrap();
    assert_eq!(store.level(&id("a")).await.unwrap(), Some(3));
    assert_eq!(store.level(&id("b")).await.unwrap(), Some(0));
    assert_eq!(store.order(&user, &pending.id).await.unwrap(), Some(pending.clone()));
    assert_eq!(store.order(&UserId::generate(), &pending.id).await.unwrap(), None, "another user's order is not found");
    store.release_lease(&scope, &request.lease).await.unwrap();
    let retry = lease_request(&scope, "{}", NOW + 1);
    assert_eq!(
        store.lease(&retry).await.unwrap(),
        LeaseOutcome::Acquired { progress: Some(pending.id.to_string()) },
        "a retry learns which order to resume"
    );
}

pub async fn placing_without_enough_stock_changes_nothing(store: Arc<impl Store>) {
    store.upsert(&[product("a", 5), product("b", 1)]).await.unwrap();
    let user = UserId::generate();
    let scope = scope(&user, "key-short-1");
    let request = lease_request(&scope, "{}", NOW);
    acquire(&*store, &request).await;
    let greedy = order(&user, &[("a", 2), ("b", 2)]);
    let outcome = store.place(&greedy, Hold { scope: &scope, lease: &request.lease }).await;
    let Err(Error::OutOfStock(short)) = outcome else { panic!("expected out_of_stock, got {outcome:?}") };
    assert_eq!((short.len(), short[0].product_id.as_str(), short[0].available), (1, "b", 1));
    assert_eq!(store.level(&id("a")).await.unwrap(), Some(5));
    assert_eq!(store.order(&user, &greedy.id).await.unwrap(), None);
    store.release_lease(&scope, &request.lease).await.unwrap();
    acquire(&*store, &lease_request(&scope, "{}", NOW + 1)).await;
}

pub async fn confirming_completes_the_record_and_fills_the_outbox(store: Arc<impl Store>) {
    store.upsert(&[product("a", 5)]).await.unwrap();
    let user = UserId::generate();
    let scope = scope(&user, "key-confirm");
    let request = lease_request(&scope, "{}", NOW);
    acquire(&*store, &request).await;
    let pending = order(&user, &[("a", 1)]);
    let hold = Hold { scope: &scope, lease: &request.lease };
    store.place(&pending, hold).await.unwrap();
    store.confirm(&pending, &moved(OrderStatus::Confirmed, Party::Customer), hold, &answer(201)).await.unwrap();
    assert_eq!(store.order(&user, &pending.id).await.unwrap().unwrap().status, OrderStatus::Confirmed);
    assert_eq!(store.lease(&lease_request(&scope, "{}", NOW + 1)).await.unwrap(), LeaseOutcome::Completed(answer(201)));
    assert_eq!(
        store.lease(&lease_request(&scope, "{}", NOW + 3600)).await.unwrap(),
        LeaseOutcome::Completed(answer(201)),
        "after any lease"
    );

    let waiting = store.pending(10).await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].notice.order.id, pending.id);
    assert_eq!(waiting[0].notice.order.status, OrderStatus::Confirmed);
    assert!(store.mark_sent(&NoticeId::receipt(&pending.id), NOW).await.unwrap());
    assert!(!store.mark_sent(&NoticeId::receipt(&pending.id), NOW).await.unwrap(), "marked once only");
    assert!(store.pending(10).await.unwrap().is_empty());
    assert!(store.entry(&NoticeId::receipt(&pending.id)).await.unwrap().unwrap().sent);
    assert_eq!(store.level(&id("a")).await.unwrap(), Some(4));
}

pub async fn declining_gives_the_stock_back(store: Arc<impl Store>) {
    store.upsert(&[product("a", 5), product("b", 3)]).await.unwrap();
    let user = UserId::generate();
    let scope = scope(&user, "key-decline");
    let request = lease_request(&scope, "{}", NOW);
    acquire(&*store, &request).await;
    let pending = order(&user, &[("a", 5), ("b", 2)]);
    let hold = Hold { scope: &scope, lease: &request.lease };
    store.place(&pending, hold).await.unwrap();
    store.decline(&pending, &moved(OrderStatus::Declined, Party::Customer), hold, &answer(402)).await.unwrap();
    assert_eq!(store.level(&id("a")).await.unwrap(), Some(5));
    assert_eq!(store.level(&id("b")).await.unwrap(), Some(3));
    assert_eq!(store.order(&user, &pending.id).await.unwrap().unwrap().status, OrderStatus::Declined);
    assert_eq!(store.lease(&lease_request(&scope, "{}", NOW + 1)).await.unwrap(), LeaseOutcome::Completed(answer(402)));
    assert!(store.pending(10).await.unwrap().is_empty(), "no receipt for a declined order");
}

pub async fn leases_follow_fingerprint_expiry_and_scope(store: Arc<impl Store>) {
    let (ann, bob) = (UserId::generate(), UserId::generate());
    let first = lease_request(&scope(&ann, "shared-key"), "body-1", NOW);
    acquire(&*store, &first).await;
    // The same write sent again (its first answer was lost, the client
    // retried it): the lease is still its own.
    acquire(&*store, &first).await;
    assert_eq!(
        store.lease(&lease_request(&scope(&ann, "shared-key"), "body-1", NOW + 5)).await.unwrap(),
        LeaseOutcome::InProgress
    );
    assert_eq!(
        store.lease(&lease_request(&scope(&ann, "shared-key"), "body-2", NOW + 5)).await.unwrap(),
        LeaseOutcome::Mismatch
    );
    acquire(&*store, &lease_request(&scope(&bob, "shared-key"), "body-2", NOW + 5)).await;
    // The holder crashed: its lease lapses and the retry proceeds.
    let retry = lease_request(&scope(&ann, "shared-key"), "body-1", NOW + 30);
    assert_eq!(store.lease(&retry).await.unwrap(), LeaseOutcome::Acquired { progress: None });
    // The lapsed holder can no longer complete; the new one can.
    let lapsed = store.complete(&first.scope, &first.lease, &answer(201)).await;
    assert!(matches!(lapsed, Err(Error::RequestInProgress)), "{lapsed:?}");
    store.complete(&retry.scope, &retry.lease, &answer(201)).await.unwrap();
    assert_eq!(
        store.lease(&lease_request(&scope(&ann, "shared-key"), "body-1", NOW + 31)).await.unwrap(),
        LeaseOutcome::Completed(answer(201))
    );
    // Records are remembered until they expire, then the key is free again.
    acquire(&*store, &lease_request(&scope(&ann, "shared-key"), "body-3", NOW + 86_400 + 31)).await;
}

pub async fn a_lapsed_holder_cannot_place_or_confirm(store: Arc<impl Store>) {
    store.upsert(&[product("a", 5)]).await.unwrap();
    let user = UserId::generate();
    let scope = scope(&user, "key-lapsed");
    let first = lease_request(&scope, "{}", NOW);
    acquire(&*store, &first).await;
    let pending = order(&user, &[("a", 1)]);
    store.place(&pending, Hold { scope: &scope, lease: &first.lease }).await.unwrap();
    let retry = lease_request(&scope, "{}", NOW + 31);
    assert_eq!(store.lease(&retry).await.unwrap(), LeaseOutcome::Acquired { progress: Some(pending.id.to_string()) });
    let stale = store
        .confirm(
            &pending,
            &moved(OrderStatus::Confirmed, Party::Customer),
            Hold { scope: &scope, lease: &first.lease },
            &answer(201),
        )
        .await;
    assert!(matches!(stale, Err(Error::RequestInProgress)), "{stale:?}");
    assert_eq!(store.order(&user, &pending.id).await.unwrap().unwrap().status, OrderStatus::Pending);
    let again = store.place(&order(&user, &[("a", 1)]), Hold { scope: &scope, lease: &first.lease }).await;
    assert!(again.is_err());
    assert_eq!(store.level(&id("a")).await.unwrap(), Some(4), "the stale holder took nothing more");
    store
        .confirm(
            &pending,
            &moved(OrderStatus::Confirmed, Party::Customer),
            Hold { scope: &scope, lease: &retry.lease },
            &answer(201),
        )
        .await
        .unwrap();
}

pub async fn concurrent_leases_of_one_key_admit_one(store: Arc<impl Store>) {
    let user = UserId::generate();
    let claims: Vec<_> = (0..10)
        .map(|_| {
            let store = store.clone();
            let request = lease_request(&scope(&user, "key-race"), "{}", NOW);
            tokio::spawn(async move { store.lease(&request).await.unwrap() })
        })
        .collect();
    let mut acquired = 0;
    for lease in claims {
        match lease.await.unwrap() {
            LeaseOutcome::Acquired { .. } => acquired += 1,
            LeaseOutcome::InProgress => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(acquired, 1);
}

pub async fn orders_list_newest_first_own_only(store: Arc<impl Store>) {
    store.upsert(&[product("a", 50)]).await.unwrap();
    let (ann, bob) = (UserId::generate(), UserId::generate());
    let mut placed = Vec::new();
    for (i, user) in [&ann, &bob, &ann, &ann].into_iter().enumerate() {
        let scope = scope(user, &format!("key-list-{i}"));
        let request = lease_request(&scope, "{}", NOW);
        acquire(&*store, &request).await;
        let o = order(user, &[("a", 1)]);
        store.place(&o, Hold { scope: &scope, lease: &request.lease }).await.unwrap();
        placed.push(o);
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let ids = |orders: Vec<Order>| orders.into_iter().map(|o| o.id).collect::<Vec<_>>();
    let anns = vec![placed[3].id.clone(), placed[2].id.clone(), placed[0].id.clone()];
    assert_eq!(ids(store.orders(&ann, None, 10).await.unwrap()), anns);
    assert_eq!(ids(store.orders(&ann, None, 2).await.unwrap()), anns[..2]);
    assert_eq!(ids(store.orders(&ann, Some(&anns[1]), 2).await.unwrap()), anns[2..]);
    assert_eq!(ids(store.orders(&bob, None, 10).await.unwrap()), [placed[1].id.clone()]);
    assert!(store.orders(&UserId::generate(), None, 10).await.unwrap().is_empty());
}

/// #20 item 11: the settler finds the pending orders a checkout left behind,
/// by age, and settles each once without a lease: confirmed with its
/// receipt, or declined with its stock back, and the key's record completed
/// so a retry replays the settler's answer.
pub async fn pending_orders_are_found_by_age_and_settled_once(store: Arc<impl Store>) {
    use galley_shared::ports::PendingOrder;
    store.upsert(&[product("a", 5)]).await.unwrap();
    let user = UserId::generate();
    let place = |key: &'static str, created: i64| {
        let store = store.clone();
        let user = user.clone();
        async move {
            let scope = scope(&user, key);
            let request = lease_request(&scope, "{}", created);
            acquire(&*store, &request).await;
            let mut pending = order(&user, &[("a", 1)]);
            pending.created_at = OffsetDateTime::from_unix_timestamp(created).unwrap();
            store.place(&pending, Hold { scope: &scope, lease: &request.lease }).await.unwrap();
            (scope, request, pending)
        }
    };
    let (paid_scope, paid_request, paid) = place("key-settle-paid", NOW - 300).await;
    let (unpaid_scope, unpaid_request, unpaid) = place("key-settle-unpaid", NOW - 200).await;
    let (_, _, young) = place("key-settle-young", NOW).await;
    assert_eq!(store.level(&id("a")).await.unwrap(), Some(2));

    let found = store.pending_before(NOW - 30, 10).await.unwrap();
    let ids: Vec<&OrderId> = found.iter().map(|p| &p.order.id).collect();
    assert_eq!(ids, [&paid.id, &unpaid.id], "oldest first, the young one left to its checkout");
    assert!(!ids.contains(&&young.id));
    assert_eq!(found[0].key.as_ref().map(IdempotencyKey::as_str), Some("key-settle-paid"));
    assert_eq!(store.pending_before(NOW - 30, 1).await.unwrap().len(), 1, "at most the limit");

    assert!(store.settle(&found[0], &moved(OrderStatus::Confirmed, Party::Settler), &answer(201)).await.unwrap());
    assert!(
        !store.settle(&found[0], &moved(OrderStatus::Declined, Party::Settler), &answer(402)).await.unwrap(),
        "settled once"
    );
    assert_eq!(store.order(&user, &paid.id).await.unwrap().unwrap().status, OrderStatus::Confirmed);
    assert!(
        store.entry(&NoticeId::receipt(&paid.id)).await.unwrap().is_some_and(|e| !e.sent),
        "its receipt waits in the outbox"
    );
    let replay = store.lease(&lease_request(&paid_scope, "{}", NOW + 1)).await.unwrap();
    assert_eq!(replay, LeaseOutcome::Completed(answer(201)), "a retry replays the settler's answer");
    let late = store
        .confirm(
            &paid,
            &moved(OrderStatus::Confirmed, Party::Customer),
            Hold { scope: &paid_scope, lease: &paid_request.lease },
            &answer(201),
        )
        .await;
    assert!(late.is_err(), "the crashed checkout's lease can settle nothing any more");

    let unpaid_pending = PendingOrder { order: unpaid.clone(), key: Some(unpaid_scope.key.clone()) };
    assert!(store.settle(&unpaid_pending, &moved(OrderStatus::Declined, Party::Settler), &answer(402)).await.unwrap());
    assert_eq!(store.order(&user, &unpaid.id).await.unwrap().unwrap().status, OrderStatus::Declined);
    assert_eq!(store.level(&id("a")).await.unwrap(), Some(3), "the declined order's stock is back");
    assert!(store.entry(&NoticeId::receipt(&unpaid.id)).await.unwrap().is_none(), "no receipt for a declined order");
    let replay = store.lease(&lease_request(&unpaid_scope, "{}", NOW + 1)).await.unwrap();
    assert_eq!(replay, LeaseOutcome::Completed(answer(402)));
    let _ = unpaid_request;
    let left: Vec<OrderId> =
        store.pending_before(NOW + 60, 10).await.unwrap().into_iter().map(|p| p.order.id).collect();
    assert_eq!(left, std::slice::from_ref(&young.id), "settled orders are no longer pending");
}

/// #20 item 11: a key's record never expires while it points at a pending
/// order: a retry after its expiry still resumes that order instead of
/// making a second one; once completed, the record expires as usual.
pub async fn a_record_pointing_at_a_pending_order_never_expires(store: Arc<impl Store>) {
    store.upsert(&[product("a", 5)]).await.unwrap();
    let user = UserId::generate();
    let scope = scope(&user, "key-pinned");
    let mut request = lease_request(&scope, "{}", NOW);
    request.expires_at = NOW + 60;
    acquire(&*store, &request).await;
    let pending = order(&user, &[("a", 1)]);
    store.place(&pending, Hold { scope: &scope, lease: &request.lease }).await.unwrap();
    let long_after = lease_request(&scope, "{}", NOW + 3_600);
    assert_eq!(
        store.lease(&long_after).await.unwrap(),
        LeaseOutcome::Acquired { progress: Some(pending.id.to_string()) },
        "past its expiry, the key still leads to its pending order"
    );
    let another_body = lease_request(&scope, "{\"other\":1}", NOW + 3_700);
    assert_eq!(store.lease(&another_body).await.unwrap(), LeaseOutcome::Mismatch, "not taken as a new key");
    store
        .confirm(
            &pending,
            &moved(OrderStatus::Confirmed, Party::Customer),
            Hold { scope: &scope, lease: &long_after.lease },
            &answer(201),
        )
        .await
        .unwrap();
    let after_completion = lease_request(&scope, "{\"other\":1}", NOW + 3_700);
    assert_eq!(
        store.lease(&after_completion).await.unwrap(),
        LeaseOutcome::Acquired { progress: None },
        "completed, it expired when it was meant to, and its past is gone"
    );
}

/// #20 item 11: the sandbox gateway's ledger keeps the first outcome of
/// each order, however many race to record one: a charge cannot follow a
/// close, nor a close undo a charge.
pub async fn the_charge_ledger_keeps_the_first_outcome_of_each_order(store: Arc<impl Store>) {
    use galley_shared::ports::LedgerEntry;
    let usd = Currency::parse("USD").unwrap();
    let charged = LedgerEntry::Charged { amount: Money::new(1999, usd).unwrap(), reference: "ch_1".into() };
    let paid = OrderId::generate();
    assert_eq!(store.recorded(&paid).await.unwrap(), None);
    assert_eq!(store.record(&paid, &charged).await.unwrap(), charged);
    assert_eq!(store.record(&paid, &LedgerEntry::Closed).await.unwrap(), charged, "a close does not undo a charge");
    assert_eq!(store.recorded(&paid).await.unwrap(), Some(charged.clone()));

    let closed = OrderId::generate();
    assert_eq!(store.record(&closed, &LedgerEntry::Closed).await.unwrap(), LedgerEntry::Closed);
    assert_eq!(store.record(&closed, &charged).await.unwrap(), LedgerEntry::Closed, "no charge after a close");

    let raced = OrderId::generate();
    let racers: Vec<_> = (0..10)
        .map(|i| {
            let (store, raced) = (store.clone(), raced.clone());
            let entry = if i % 2 == 0 { charged.clone() } else { LedgerEntry::Closed };
            tokio::spawn(async move { store.record(&raced, &entry).await.unwrap() })
        })
        .collect();
    let mut outcomes = Vec::new();
    for racer in racers {
        outcomes.push(racer.await.unwrap());
    }
    assert!(outcomes.windows(2).all(|w| w[0] == w[1]), "one outcome for all: {outcomes:?}");
}

/// #20 item 12: one sender at a time may send a receipt: the send lease is
/// taken with a conditional write, lapses, can be given back, and is never
/// taken once the receipt is marked sent.
pub async fn a_receipt_has_one_sender_at_a_time(store: Arc<impl Store>) {
    store.upsert(&[product("a", 5)]).await.unwrap();
    let pending = order(&UserId::generate(), &[("a", 1)]);
    crate::fixtures::confirmed_order(&*store, &*store, &pending, "key-send-lease", NOW).await;
    let id = &NoticeId::receipt(&pending.id);
    let (first, second) = (LeaseId::generate(), LeaseId::generate());
    assert!(store.take_send_lease(id, &first, NOW, NOW + 60).await.unwrap());
    assert!(store.take_send_lease(id, &first, NOW, NOW + 60).await.unwrap(), "taken again by its holder");
    assert!(!store.take_send_lease(id, &second, NOW + 1, NOW + 61).await.unwrap(), "held by the first sender");
    assert!(store.take_send_lease(id, &second, NOW + 60, NOW + 120).await.unwrap(), "lapsed, it can be taken");
    assert!(!store.take_send_lease(id, &first, NOW + 61, NOW + 121).await.unwrap(), "its old holder lost it");
    store.release_send_lease(id).await.unwrap();
    assert!(store.take_send_lease(id, &first, NOW + 61, NOW + 121).await.unwrap(), "given back, taken at once");
    assert!(store.mark_sent(id, NOW + 62).await.unwrap());
    assert!(!store.take_send_lease(id, &first, NOW + 500, NOW + 560).await.unwrap(), "sent: nobody sends again");
    let unknown = NoticeId::receipt(&OrderId::generate());
    assert!(!store.take_send_lease(&unknown, &second, NOW, NOW + 60).await.unwrap(), "no such receipt");
}

/// #24: a payment that waits on the customer (3-D Secure) completes the
/// key's record with the 202 at once, keeps the order pending with its
/// stock held, and leaves it to the webhook — the settler finds it only
/// once the customer's time is up. The webhook finds it by id while it is
/// pending, and not after.
pub async fn an_order_awaiting_its_customer_is_left_to_the_webhook_until_its_wait_ends(store: Arc<impl Store>) {
    store.upsert(&[product("a", 5)]).await.unwrap();
    let user = UserId::generate();
    let waiting_key = scope(&user, "key-await-customer");
    let request = lease_request(&waiting_key, "{}", NOW);
    acquire(&*store, &request).await;
    let waiting = order(&user, &[("a", 2)]);
    let hold = Hold { scope: &waiting_key, lease: &request.lease };
    store.place(&waiting, hold).await.unwrap();
    store.await_customer(&waiting, hold, &answer(202), NOW + 900).await.unwrap();

    let replay = store.lease(&lease_request(&waiting_key, "{}", NOW + 1)).await.unwrap();
    assert_eq!(replay, LeaseOutcome::Completed(answer(202)), "the 202 is the key's answer");
    assert_eq!(store.level(&id("a")).await.unwrap(), Some(3), "its stock held");
    assert!(store.pending_before(NOW + 60, 10).await.unwrap().is_empty(), "the settler waits for the customer");
    let due = store.pending_before(NOW + 901, 10).await.unwrap();
    assert_eq!(due.iter().map(|p| &p.order.id).collect::<Vec<_>>(), [&waiting.id], "then it is due");

    let found = store.pending_order(&waiting.id).await.unwrap().expect("pending, found by id");
    assert_eq!((found.order.status, found.key.as_ref()), (OrderStatus::Pending, Some(&waiting_key.key)));
    assert!(store.pending_order(&OrderId::generate()).await.unwrap().is_none());
    assert!(store.settle(&found, &moved(OrderStatus::Confirmed, Party::Gateway), &answer(201)).await.unwrap());
    assert!(store.pending_order(&waiting.id).await.unwrap().is_none(), "settled: no longer pending");
    let replay = store.lease(&lease_request(&waiting_key, "{}", NOW + 2)).await.unwrap();
    assert_eq!(replay, LeaseOutcome::Completed(answer(202)), "the stored answer stays the customer's 202");
    assert!(store.entry(&NoticeId::receipt(&waiting.id)).await.unwrap().is_some(), "the receipt is owed");

    // Settled before the checkout's own write (the webhook was quicker):
    // the key holds the settled answer, the late write changes nothing and
    // is refused as in progress, and the retry replays the answer.
    let raced_key = scope(&user, "key-await-raced");
    let request = lease_request(&raced_key, "{}", NOW);
    acquire(&*store, &request).await;
    let raced = order(&user, &[("a", 1)]);
    let hold = Hold { scope: &raced_key, lease: &request.lease };
    store.place(&raced, hold).await.unwrap();
    let pending = store.pending_order(&raced.id).await.unwrap().unwrap();
    assert!(store.settle(&pending, &moved(OrderStatus::Declined, Party::Gateway), &answer(402)).await.unwrap());
    let late = store.await_customer(&raced, hold, &answer(202), NOW + 900).await;
    assert!(matches!(late, Err(Error::RequestInProgress)), "{late:?}");
    assert_eq!(store.order(&user, &raced.id).await.unwrap().unwrap().status, OrderStatus::Declined);
    let replay = store.lease(&lease_request(&raced_key, "{}", NOW + 1)).await.unwrap();
    assert_eq!(replay, LeaseOutcome::Completed(answer(402)));
    assert!(store.pending_before(NOW + 10_000, 10).await.unwrap().iter().all(|p| p.order.id != raced.id));
}

/// #24: the webhook's events applied are recorded once each.
pub async fn each_gateway_event_is_recorded_once(store: Arc<impl Store>) {
    let event = format!("evt_{}", OrderId::generate());
    assert!(!store.applied(&event).await.unwrap());
    store.record_applied(&event, NOW + 86_400).await.unwrap();
    store.record_applied(&event, NOW + 86_400).await.unwrap();
    assert!(store.applied(&event).await.unwrap(), "recorded, and recording again is no error");
    assert!(!store.applied("evt_another").await.unwrap());
}
