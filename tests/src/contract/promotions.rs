//! Promotions' contract cases: codes unique ignoring case, admin writes
//! conditional and audited, and redemptions counted in the checkout's own
//! transaction, within the cap and once per customer, given back by a
//! decline, the settler's decline and a cancellation.

use std::sync::Arc;

use galley_shared::Error;
use galley_shared::admin::{Actor, AuditEntry, AuditTarget};
use galley_shared::auth::Email;
use galley_shared::id::{AuditId, UserId};
use galley_shared::money::Money;
use galley_shared::orders::{Order, OrderStatus, Party, ask_cancel, settle_refund};
use galley_shared::ports::{Hold, OrderMove, PendingOrder, PromotionChange};
use galley_shared::promotions::{Offer, PromoCode, Promotion, Redemption};
use time::OffsetDateTime;

use super::Store;
use super::orders::{NOW, acquire, answer, lease_request, moved, order, scope};
use crate::fixtures::product;

fn code(raw: &str) -> PromoCode {
    PromoCode::parse(raw).unwrap()
}

/// A 10 % promotion, capped at `max` if given.
pub fn promotion(raw: &str, max: Option<u32>, once_per_customer: bool) -> Promotion {
    Promotion {
        code: code(raw),
        offer: Offer::percent(10).unwrap(),
        min_subtotal: None,
        starts_at: None,
        ends_at: None,
        max_redemptions: max,
        redeemed: 0,
        once_per_customer,
        active: true,
        version: 1,
    }
}

fn audit(action: &str, target: &str) -> AuditEntry {
    AuditEntry {
        id: AuditId::generate(),
        at: OffsetDateTime::from_unix_timestamp(NOW).unwrap(),
        actor: Actor { id: UserId::generate(), email: Email::parse("admin@example.com").unwrap() },
        action: action.into(),
        target: AuditTarget { kind: "promotion".into(), id: target.into() },
        before: serde_json::Value::Null,
        after: serde_json::Value::Null,
    }
}

async fn create(store: &impl Store, p: &Promotion) {
    assert!(
        store.write(&PromotionChange::Create(p.clone()), &audit("promotion.create", p.code.as_str())).await.unwrap()
    );
}

/// A pending order of `lines` for `user` that redeems `p` (10 % off).
fn redeeming(user: &UserId, lines: &[(&str, u32)], p: &Promotion) -> Order {
    let mut placed = order(user, lines);
    let discount = Money { amount: placed.total.amount / 10, currency: placed.total.currency };
    placed.total.amount -= discount.amount;
    placed.promotion = Some(Redemption { code: p.code.clone(), discount, once_per_customer: p.once_per_customer });
    placed
}

/// Places `order` under a fresh key; the store's answer.
async fn place(store: &impl Store, placed: &Order) -> Result<(), Error> {
    let scope = scope(&placed.user_id, &format!("key-{}", placed.id));
    let request = lease_request(&scope, "{}", NOW);
    acquire(store, &request).await;
    let outcome = store.place(placed, Hold { scope: &scope, lease: &request.lease }).await;
    if outcome.is_err() {
        store.release_lease(&scope, &request.lease).await.unwrap();
    }
    outcome
}

async fn redeemed(store: &impl Store, raw: &str) -> u32 {
    store.promotion(&code(raw)).await.unwrap().unwrap().redeemed
}

pub async fn promotion_codes_are_unique_ignoring_case_and_listed_in_code_order(store: Arc<impl Store>) {
    for raw in ["winter", "Summer-20", "AUTUMN_5"] {
        create(&*store, &promotion(raw, None, false)).await;
    }
    let taken = PromotionChange::Create(promotion("SUMMER-20", Some(3), true));
    assert!(!store.write(&taken, &audit("promotion.create", "SUMMER-20")).await.unwrap(), "taken, ignoring case");
    let read = store.promotion(&code("summer-20")).await.unwrap().unwrap();
    assert_eq!(read, promotion("Summer-20", None, false), "found ignoring case, shown as written");
    let all: Vec<String> = store.promotions(None, 10).await.unwrap().iter().map(|p| p.code.to_string()).collect();
    assert_eq!(all, ["AUTUMN_5", "Summer-20", "winter"]);
    let after: Vec<String> =
        store.promotions(Some(&code("autumn_5")), 1).await.unwrap().iter().map(|p| p.code.to_string()).collect();
    assert_eq!(after, ["Summer-20"]);
    let entries = store.entries(None, 10).await.unwrap();
    assert_eq!(entries.len(), 3, "one audit entry per write that applied, none for the refused one");
    assert!(store.promotion(&code("SPRING")).await.unwrap().is_none());
}

pub async fn a_promotion_edit_holds_its_version_and_stays_above_the_redemptions(store: Arc<impl Store>) {
    store.upsert(&[product("a", 10)]).await.unwrap();
    let p = promotion("CAPPED", Some(5), false);
    create(&*store, &p).await;
    for _ in 0..2 {
        place(&*store, &redeeming(&UserId::generate(), &[("a", 1)], &p)).await.unwrap();
    }
    let mut edit = Promotion { version: 2, active: false, max_redemptions: Some(2), ..p.clone() };
    assert!(store.write(&PromotionChange::Replace(edit.clone()), &audit("promotion.update", "CAPPED")).await.unwrap());
    let read = store.promotion(&code("capped")).await.unwrap().unwrap();
    assert_eq!((read.version, read.active, read.max_redemptions, read.redeemed), (2, false, Some(2), 2));
    assert!(
        !store.write(&PromotionChange::Replace(edit.clone()), &audit("promotion.update", "CAPPED")).await.unwrap(),
        "a stale version changes nothing"
    );
    edit.version = 3;
    edit.max_redemptions = Some(1);
    assert!(
        !store.write(&PromotionChange::Replace(edit.clone()), &audit("promotion.update", "CAPPED")).await.unwrap(),
        "a cap below the redemptions changes nothing"
    );
    edit.max_redemptions = None;
    assert!(store.write(&PromotionChange::Replace(edit), &audit("promotion.update", "CAPPED")).await.unwrap());
    let read = store.promotion(&code("CAPPED")).await.unwrap().unwrap();
    assert_eq!((read.version, read.max_redemptions, read.redeemed), (3, None, 2), "the count kept through edits");
    assert_eq!(store.entries(None, 10).await.unwrap().len(), 3);
}

pub async fn a_capped_code_is_redeemed_within_its_cap_and_a_decline_gives_it_back(store: Arc<impl Store>) {
    store.upsert(&[product("a", 10)]).await.unwrap();
    let p = promotion("ONE", Some(1), false);
    create(&*store, &p).await;
    let first = redeeming(&UserId::generate(), &[("a", 2)], &p);
    place(&*store, &first).await.unwrap();
    assert_eq!(redeemed(&*store, "one").await, 1);
    assert_eq!(store.order(&first.user_id, &first.id).await.unwrap().unwrap().promotion, first.promotion);
    let second = redeeming(&UserId::generate(), &[("a", 3)], &p);
    assert!(matches!(place(&*store, &second).await, Err(Error::PromoCodeExhausted)));
    assert_eq!(
        store.level(&galley_shared::id::ProductId::parse("a").unwrap()).await.unwrap(),
        Some(8),
        "nothing taken"
    );
    assert!(store.order(&second.user_id, &second.id).await.unwrap().is_none(), "nor written");
    let scope = scope(&first.user_id, &format!("key-{}", first.id));
    // The checkout's lease lapsed: its retry takes the key over, finding the order.
    let request = lease_request(&scope, "{}", NOW + 60);
    let progress = Some(first.id.to_string());
    assert_eq!(store.lease(&request).await.unwrap(), galley_shared::idempotency::LeaseOutcome::Acquired { progress });
    let hold = Hold { scope: &scope, lease: &request.lease };
    store.decline(&first, &moved(OrderStatus::Declined, Party::Customer), hold, &answer(402)).await.unwrap();
    assert_eq!(redeemed(&*store, "ONE").await, 0, "the decline gave it back");
    place(&*store, &second).await.unwrap();
    assert_eq!(redeemed(&*store, "ONE").await, 1);
}

pub async fn a_once_per_customer_code_is_one_redemption_per_customer_until_given_back(store: Arc<impl Store>) {
    store.upsert(&[product("a", 10)]).await.unwrap();
    let p = promotion("WELCOME", None, true);
    create(&*store, &p).await;
    let (ann, bob) = (UserId::generate(), UserId::generate());
    let first = redeeming(&ann, &[("a", 1)], &p);
    place(&*store, &first).await.unwrap();
    assert!(store.used(&code("welcome"), &ann).await.unwrap());
    assert!(!store.used(&code("welcome"), &bob).await.unwrap());
    assert!(matches!(place(&*store, &redeeming(&ann, &[("a", 1)], &p)).await, Err(Error::PromoCodeExhausted)));
    place(&*store, &redeeming(&bob, &[("a", 1)], &p)).await.unwrap();
    assert_eq!(redeemed(&*store, "WELCOME").await, 2);
    // The settler declines Ann's order: her use is hers again.
    let pending = PendingOrder { order: first.clone(), key: None };
    assert!(store.settle(&pending, &moved(OrderStatus::Declined, Party::Settler), &answer(402)).await.unwrap());
    assert!(!store.used(&code("WELCOME"), &ann).await.unwrap());
    assert_eq!(redeemed(&*store, "WELCOME").await, 1);
    place(&*store, &redeeming(&ann, &[("a", 1)], &p)).await.unwrap();
    assert!(store.used(&code("WELCOME"), &ann).await.unwrap());
}

pub async fn a_cancellation_gives_the_redemption_back(store: Arc<impl Store>) {
    store.upsert(&[product("a", 10)]).await.unwrap();
    let p = promotion("SOLO", Some(1), true);
    create(&*store, &p).await;
    let placed = redeeming(&UserId::generate(), &[("a", 1)], &p);
    crate::fixtures::confirmed_order(&*store, &*store, &placed, &format!("key-{}", placed.id), NOW).await;
    assert_eq!(redeemed(&*store, "SOLO").await, 1);
    let order = store.any_order(&placed.id).await.unwrap().unwrap();
    let at = OffsetDateTime::from_unix_timestamp(NOW).unwrap();
    let asked =
        ask_cancel(&order, galley_shared::id::RefundId::generate(), "no".into(), false, (Party::Customer, at)).unwrap();
    assert!(store.apply_move(&OrderMove { moved: &asked, audit: None, key: None }).await.unwrap());
    assert_eq!(redeemed(&*store, "SOLO").await, 1, "asking a refund gives nothing back");
    let refund = asked.order.state.pending_refunds[0].refund.id.clone();
    let settled = settle_refund(&asked.order, &refund, at).unwrap();
    assert_eq!(settled.redemption_back, placed.promotion);
    assert!(store.apply_move(&OrderMove { moved: &settled, audit: None, key: None }).await.unwrap());
    assert_eq!(redeemed(&*store, "SOLO").await, 0);
    assert!(!store.used(&code("SOLO"), &placed.user_id).await.unwrap());
    place(&*store, &redeeming(&placed.user_id, &[("a", 1)], &p)).await.unwrap();
}

pub async fn racing_checkouts_never_redeem_past_the_cap(store: Arc<impl Store>) {
    store.upsert(&[product("a", 1000)]).await.unwrap();
    let p = promotion("FIRST10", Some(10), false);
    create(&*store, &p).await;
    let racers: Vec<_> = (0..50)
        .map(|_| {
            let store = store.clone();
            let placed = redeeming(&UserId::generate(), &[("a", 1)], &p);
            tokio::spawn(async move { place(&*store, &placed).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for racer in racers {
        outcomes.push(racer.await.unwrap());
    }
    let won = outcomes.iter().filter(|o| o.is_ok()).count();
    let exhausted = outcomes.iter().filter(|o| matches!(o, Err(Error::PromoCodeExhausted))).count();
    assert_eq!((won, exhausted), (10, 40), "{outcomes:?}");
    assert_eq!(redeemed(&*store, "FIRST10").await, 10);
    assert_eq!(store.level(&galley_shared::id::ProductId::parse("a").unwrap()).await.unwrap(), Some(990));
}

pub async fn the_largest_cart_redeems_a_capped_once_per_customer_code(store: Arc<impl Store>) {
    let ids: Vec<String> = (0..50).map(|i| format!("p{i:02}")).collect();
    let products: Vec<_> = ids.iter().map(|id| product(id, 200)).collect();
    store.upsert(&products).await.unwrap();
    let p = promotion("BIG", Some(1), true);
    create(&*store, &p).await;
    let lines: Vec<(&str, u32)> = ids.iter().map(|id| (id.as_str(), 100)).collect();
    let placed = redeeming(&UserId::generate(), &lines, &p);
    place(&*store, &placed).await.unwrap();
    assert_eq!(redeemed(&*store, "BIG").await, 1);
    let read = store.order(&placed.user_id, &placed.id).await.unwrap().unwrap();
    assert_eq!(read.items.len(), 50);
    let pending = PendingOrder { order: placed.clone(), key: None };
    assert!(store.settle(&pending, &moved(OrderStatus::Declined, Party::Settler), &answer(402)).await.unwrap());
    assert_eq!(redeemed(&*store, "BIG").await, 0);
    let again = redeeming(&placed.user_id, &lines, &p);
    place(&*store, &again).await.unwrap();
    for id in &ids {
        let level = store.level(&galley_shared::id::ProductId::parse(id).unwrap()).await.unwrap();
        assert_eq!(level, Some(100), "{id}: the decline's stock back, the second order's taken");
    }
}
