//! The back office's order book contract cases: every customer's orders,
//! found by id and listed by status and customer, each with its history.

use std::sync::Arc;

use galley_shared::id::{OrderId, UserId};
use galley_shared::orders::{Order, OrderStatus, Party};
use galley_shared::ports::{Hold, OrderFilter, PendingOrder};

use super::Store;
use super::orders::{NOW, acquire, answer, lease_request, moved, order, scope};
use crate::fixtures::product;

/// Places an order for `user` and moves it to `to` as a checkout does.
async fn order_with(store: &impl Store, user: &UserId, to: OrderStatus) -> Order {
    let pending = order(user, &[("a", 1)]);
    let scope = scope(user, &format!("key-{}", pending.id));
    let request = lease_request(&scope, "{}", NOW);
    acquire(store, &request).await;
    let hold = Hold { scope: &scope, lease: &request.lease };
    store.place(&pending, hold).await.unwrap();
    match to {
        OrderStatus::Confirmed => {
            store.confirm(&pending, &moved(to, Party::Customer), hold, &answer(201)).await.unwrap()
        }
        OrderStatus::Declined => {
            store.decline(&pending, &moved(to, Party::Customer), hold, &answer(402)).await.unwrap()
        }
        OrderStatus::Pending => {}
        later => panic!("placing then {later:?} is a lifecycle move, not a checkout's"),
    }
    store.any_order(&pending.id).await.unwrap().expect("a placed order is found by id")
}

/// Every order the filter admits, walking the pages as the desk does.
async fn walk(store: &impl Store, filter: &OrderFilter, limit: usize) -> Vec<OrderId> {
    let mut seen = Vec::new();
    let mut before: Option<OrderId> = None;
    for _ in 0..100 {
        let listing = store.all_orders(filter, before.as_ref(), limit).await.unwrap();
        assert!(listing.orders.len() <= limit, "a page holds at most its limit");
        let full = listing.orders.len() == limit;
        seen.extend(listing.orders.iter().map(|o| o.id.clone()));
        before = match listing.orders.last() {
            Some(last) if full => Some(last.id.clone()),
            _ => listing.read_up_to,
        };
        if before.is_none() {
            return seen;
        }
    }
    panic!("the listing never ended");
}

pub async fn orders_are_found_by_id_whoever_placed_them_with_their_history(store: Arc<impl Store>) {
    store.upsert(&[product("a", 50)]).await.unwrap();
    let (ann, bob) = (UserId::generate(), UserId::generate());
    let confirmed = order_with(&*store, &ann, OrderStatus::Confirmed).await;
    assert_eq!(confirmed.user_id, ann);
    assert_eq!(confirmed.status, OrderStatus::Confirmed);
    assert_eq!(
        confirmed.history,
        [moved(OrderStatus::Pending, Party::Customer), moved(OrderStatus::Confirmed, Party::Customer)]
    );
    let declined = order_with(&*store, &bob, OrderStatus::Declined).await;
    assert_eq!(declined.history.last(), Some(&moved(OrderStatus::Declined, Party::Customer)));
    let pending = order_with(&*store, &bob, OrderStatus::Pending).await;
    assert_eq!(pending.history, [moved(OrderStatus::Pending, Party::Customer)]);
    let parked = PendingOrder { order: pending.clone(), key: None };
    assert!(store.settle(&parked, &moved(OrderStatus::Confirmed, Party::Settler), &answer(201)).await.unwrap());
    let settled = store.any_order(&pending.id).await.unwrap().unwrap();
    assert_eq!(settled.status, OrderStatus::Confirmed);
    assert_eq!(settled.history.last(), Some(&moved(OrderStatus::Confirmed, Party::Settler)));
    assert_eq!(store.order(&bob, &pending.id).await.unwrap(), Some(settled), "the customer's read agrees");
    assert_eq!(store.any_order(&OrderId::generate()).await.unwrap(), None);
}

pub async fn every_order_lists_newest_first_by_status_and_customer(store: Arc<impl Store>) {
    store.upsert(&[product("a", 100)]).await.unwrap();
    let (ann, bob) = (UserId::generate(), UserId::generate());
    let mut placed = Vec::new();
    for (i, status) in
        [OrderStatus::Confirmed, OrderStatus::Declined, OrderStatus::Pending].iter().cycle().take(11).enumerate()
    {
        let user = if i % 3 == 1 { &bob } else { &ann };
        placed.push(order_with(&*store, user, *status).await);
    }
    let expected = |keep: &dyn Fn(&Order) -> bool| {
        let mut ids: Vec<OrderId> = placed.iter().filter(|o| keep(o)).map(|o| o.id.clone()).collect();
        ids.sort_by(|a, b| b.as_str().cmp(a.as_str()));
        ids
    };
    for limit in [1, 2, 4, 20] {
        let all = walk(&*store, &OrderFilter::default(), limit).await;
        assert_eq!(all, expected(&|_| true), "every order, newest first, limit {limit}");
        for status in OrderStatus::ALL {
            let filter = OrderFilter { status: Some(status), user: None };
            assert_eq!(walk(&*store, &filter, limit).await, expected(&|o| o.status == status), "{status:?}");
        }
        let bobs = OrderFilter { status: None, user: Some(bob.clone()) };
        assert_eq!(walk(&*store, &bobs, limit).await, expected(&|o| o.user_id == bob), "one customer's");
        let anns_confirmed = OrderFilter { status: Some(OrderStatus::Confirmed), user: Some(ann.clone()) };
        assert_eq!(
            walk(&*store, &anns_confirmed, limit).await,
            expected(&|o| o.user_id == ann && o.status == OrderStatus::Confirmed),
            "filters combine"
        );
    }
    let nobody = OrderFilter { status: None, user: Some(UserId::generate()) };
    assert!(walk(&*store, &nobody, 5).await.is_empty());
}
