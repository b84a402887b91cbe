//! Back office contract cases: roles, product records, admin writes with
//! their audit entries, and the audit log.

use std::sync::Arc;

use bytes::Bytes;
use galley_shared::Error;
use galley_shared::admin::{Actor, AuditEntry, AuditTarget, ProductRecord, RecordFilter};
use galley_shared::auth::{Email, Role};
use galley_shared::id::{AuditId, ProductId, UserId};
use galley_shared::idempotency::{
    Fingerprint, IdempotencyKey, IdempotencyScope, LeaseId, LeaseOutcome, LeaseRequest, StoredResponse,
};
use galley_shared::ports::{AdminWrite, Hold, ProductChange, Users};
use galley_shared::search::{CatalogFilter, Term};
use galley_shared::stock::{Quantity, StockLine};
use serde_json::json;
use time::OffsetDateTime;

use super::Store;
use crate::fixtures::product;

const NOW: i64 = 1_795_000_000;

fn record(id: &str, title: &str, stock: u32) -> ProductRecord {
    let mut p = product(id, stock);
    p.title = title.into();
    ProductRecord { product: p, archived: false, version: 1, updated_at: NOW }
}

fn entry(target: &str, action: &str) -> AuditEntry {
    AuditEntry {
        id: AuditId::generate(),
        at: OffsetDateTime::from_unix_timestamp(NOW).unwrap(),
        actor: Actor { id: UserId::generate(), email: Email::parse("owner@example.com").unwrap() },
        action: action.into(),
        target: AuditTarget { kind: "product".into(), id: target.into() },
        before: json!(null),
        after: json!({"n": 1}),
    }
}

fn write(change: ProductChange, target: &str) -> AdminWrite<'static> {
    AdminWrite { change, audit: entry(target, "test"), completion: None }
}

async fn audit_targets(store: &impl Store) -> Vec<String> {
    store.entries(None, 100).await.unwrap().into_iter().map(|e| e.target.id).collect()
}

fn id(raw: &str) -> ProductId {
    ProductId::parse(raw).unwrap()
}

pub async fn roles_are_granted_and_revoked_on_the_account(store: Arc<impl Store>) {
    let owner = super::accounts::user("boss@example.com", "Boss");
    Users::create(store.as_ref(), &owner).await.unwrap();
    let email = &owner.profile.email;
    assert_eq!(store.by_email(email).await.unwrap().unwrap().role, Role::Customer);
    assert!(store.set_role(email, Role::Admin).await.unwrap());
    assert_eq!(store.by_email(email).await.unwrap().unwrap().role, Role::Admin, "read at once");
    assert!(store.set_role(email, Role::Customer).await.unwrap());
    assert_eq!(store.by_email(email).await.unwrap().unwrap().role, Role::Customer);
    let stranger = Email::parse("nobody@example.com").unwrap();
    assert!(!store.set_role(&stranger, Role::Admin).await.unwrap(), "no account, nothing granted");
    assert!(store.by_email(&stranger).await.unwrap().is_none(), "and none made");
}

pub async fn admin_writes_are_conditional_and_audited_with_their_change(store: Arc<impl Store>) {
    let lamp = record("adm-lamp", "Brass lamp", 4);
    assert!(store.apply(&write(ProductChange::Create(lamp.clone()), "adm-lamp")).await.unwrap());
    assert!(!store.apply(&write(ProductChange::Create(lamp.clone()), "dup")).await.unwrap(), "the id is taken");
    assert_eq!(store.product_record(&id("adm-lamp")).await.unwrap(), Some(lamp.clone()));
    assert!(store.postings(Term::Word("brass"), 10).await.unwrap().unwrap().len() == 1, "indexed at once");

    let mut renamed = lamp.clone();
    renamed.product.title = "Copper light".into();
    renamed.version = 2;
    let stale = ProductRecord { version: 5, ..lamp.clone() };
    let refused = ProductChange::Replace { record: renamed.clone(), previous: stale };
    assert!(!store.apply(&write(refused, "stale")).await.unwrap(), "a stale version changes nothing");
    let replace = ProductChange::Replace { record: renamed.clone(), previous: lamp.clone() };
    assert!(store.apply(&write(replace, "adm-lamp")).await.unwrap());
    assert_eq!(store.product_record(&id("adm-lamp")).await.unwrap().unwrap().version, 2);
    assert!(store.postings(Term::Word("brass"), 10).await.unwrap().unwrap().is_empty(), "old words gone");
    assert_eq!(store.postings(Term::Word("copper"), 10).await.unwrap().unwrap().len(), 1, "new words in");

    // A sale between the read and the move: the move's condition fails.
    let moved = ProductChange::Stock { id: id("adm-lamp"), from: 3, to: 10 };
    assert!(!store.apply(&write(moved, "stale-stock")).await.unwrap());
    let moved = ProductChange::Stock { id: id("adm-lamp"), from: 4, to: 10 };
    assert!(store.apply(&write(moved, "adm-lamp")).await.unwrap());
    let now = store.product_record(&id("adm-lamp")).await.unwrap().unwrap();
    assert_eq!((now.product.stock, now.version), (10, 2), "a stock move leaves the version");

    assert_eq!(audit_targets(store.as_ref()).await, ["adm-lamp", "adm-lamp", "adm-lamp"], "no entry for a refusal");
}

pub async fn archived_products_leave_every_public_read(store: Arc<impl Store>) {
    let live = record("adm-cup", "Tin cup", 2);
    store.apply(&write(ProductChange::Create(live.clone()), "adm-cup")).await.unwrap();
    let archived = ProductRecord { archived: true, version: 2, ..live.clone() };
    let change = ProductChange::Replace { record: archived.clone(), previous: live };
    assert!(store.apply(&write(change, "adm-cup")).await.unwrap());

    assert_eq!(store.product(&id("adm-cup")).await.unwrap(), None);
    assert!(store.products(&[id("adm-cup")]).await.unwrap().is_empty(), "checkout sees no such product");
    assert!(store.postings(Term::Word("tin"), 10).await.unwrap().unwrap().is_empty(), "not found");
    let listing = store.list(&CatalogFilter::default(), None, 10, 100).await.unwrap();
    assert!(listing.products.iter().all(|p| p.id.as_str() != "adm-cup"), "not listed");
    assert_eq!(store.product_record(&id("adm-cup")).await.unwrap(), Some(archived), "the back office still has it");
    assert!(!store.is_empty().await.unwrap(), "a shop of archived products is not empty (no demo import over it)");

    let only = |archived| RecordFilter { archived: Some(archived), ..Default::default() };
    let ids = |listing: galley_shared::ports::RecordListing| -> Vec<String> {
        listing.records.into_iter().map(|r| r.product.id.to_string()).collect()
    };
    assert_eq!(ids(store.product_records(&only(true), None, 10, 100).await.unwrap()), ["adm-cup"]);
    assert!(ids(store.product_records(&only(false), None, 10, 100).await.unwrap()).is_empty());
    assert_eq!(ids(store.product_records(&RecordFilter::default(), None, 10, 100).await.unwrap()), ["adm-cup"]);

    // A cart priced before the archive reaches the stock take after it: the
    // product is not sold, and it is unknown, not out of stock.
    let line = StockLine { product_id: id("adm-cup"), quantity: Quantity::new(1).unwrap() };
    match store.reserve(&[line]).await {
        Err(Error::UnknownProduct(ids)) => assert_eq!(ids, [id("adm-cup")]),
        other => panic!("an archived product was reserved: {other:?}"),
    }
    assert_eq!(store.product_record(&id("adm-cup")).await.unwrap().unwrap().product.stock, 2, "stock untouched");
}

/// A catalog import rewrites fields and stock, but an archived product
/// stays archived and unfound, and every product's version moves on, so
/// an ETag read before the import no longer matches.
pub async fn an_import_keeps_archives_and_moves_versions(store: Arc<impl Store>) {
    let (kept, live) = (record("adm-imp-a", "Copper kettle", 2), record("adm-imp-l", "Steel kettle", 2));
    for r in [&kept, &live] {
        store.apply(&write(ProductChange::Create(r.clone()), r.product.id.as_str())).await.unwrap();
    }
    let archived = ProductRecord { archived: true, version: 2, ..kept.clone() };
    assert!(store.apply(&write(ProductChange::Replace { record: archived, previous: kept }, "a")).await.unwrap());

    let mut again = [product("adm-imp-a", 9), product("adm-imp-l", 9)];
    again[0].title = "Copper kettle, large".into();
    again[1].title = "Steel kettle, large".into();
    store.upsert(&again).await.unwrap();
    let a = store.product_record(&id("adm-imp-a")).await.unwrap().unwrap();
    assert_eq!(
        (a.archived, a.version, a.product.stock, a.product.title.as_str()),
        (true, 3, 9, "Copper kettle, large")
    );
    assert_eq!(store.product(&id("adm-imp-a")).await.unwrap(), None, "still not sold or shown");
    assert!(store.postings(Term::Word("copper"), 10).await.unwrap().unwrap().is_empty(), "still not found");
    let l = store.product_record(&id("adm-imp-l")).await.unwrap().unwrap();
    assert_eq!((l.archived, l.version), (false, 2), "a live product's version moves on too");
    let found = store.postings(Term::Word("large"), 10).await.unwrap().unwrap();
    assert_eq!(found.iter().map(|p| p.product_id.as_str()).collect::<Vec<_>>(), ["adm-imp-l"]);
}

pub async fn record_listings_filter_in_title_order_and_resume(store: Arc<impl Store>) {
    for (i, title) in ["Delta", "alpha", "Charlie", "bravo"].iter().enumerate() {
        let r = record(&format!("adm-{i}"), title, i as u32);
        store.apply(&write(ProductChange::Create(r), "x")).await.unwrap();
    }
    let titles = |listing: &galley_shared::ports::RecordListing| -> Vec<String> {
        listing.records.iter().map(|r| r.product.title.clone()).collect()
    };
    let all = store.product_records(&RecordFilter::default(), None, 10, 100).await.unwrap();
    assert_eq!(titles(&all), ["alpha", "bravo", "Charlie", "Delta"]);
    let low = RecordFilter { stock_below: Some(2), ..Default::default() };
    assert_eq!(titles(&store.product_records(&low, None, 10, 100).await.unwrap()), ["alpha", "Delta"]);
    let first = store.product_records(&RecordFilter::default(), None, 2, 100).await.unwrap();
    let after = first.records.last().unwrap().product.title_order_key();
    let rest = store.product_records(&RecordFilter::default(), Some(&after), 10, 100).await.unwrap();
    assert_eq!(titles(&rest), ["Charlie", "Delta"]);
}

/// `q` on the admin listing: the catalog's matching rules (every word, the
/// last also as a prefix, title or description) over live and archived
/// products alike; walking short pages under a small budget yields exactly
/// the matches, in title order.
pub async fn record_search_matches_live_and_archived_products(store: Arc<impl Store>) {
    let titles = ["Blue mug", "Red mug", "Blue bowl", "Bluebell vase", "Mug rack", "Plain plate"];
    let mut all = Vec::new();
    for i in 0..24 {
        let mut r = record(&format!("adm-q-{i:02}"), &format!("{} {i}", titles[i % titles.len()]), 1);
        r.archived = i % 3 == 0;
        if i % 5 == 0 {
            r.product.description = "A blue glaze".into();
        }
        store.apply(&write(ProductChange::Create(r.clone()), "q")).await.unwrap();
        all.push(r);
    }
    for q in ["blue", "mug", "blue mug", "blu", "mug blue", "nothing", "bluebell", "glaze"] {
        let words = galley_shared::search::words(q);
        let mut expected: Vec<&ProductRecord> =
            all.iter().filter(|r| galley_shared::search::matches(&words, &r.product)).collect();
        expected.sort_by_key(|r| r.product.title_order_key());
        let expected: Vec<&str> = expected.iter().map(|r| r.product.id.as_str()).collect();
        for (limit, budget) in [(3, 4), (2, 100), (50, 1000)] {
            let filter = RecordFilter { words: words.clone(), ..Default::default() };
            let mut seen = Vec::new();
            let mut after: Option<String> = None;
            for _ in 0..100 {
                let page = store.product_records(&filter, after.as_deref(), limit + 1, budget).await.unwrap();
                let more = page.records.len() > limit;
                let shown: Vec<_> = page.records.iter().take(limit).collect();
                seen.extend(shown.iter().map(|r| r.product.id.to_string()));
                after = match shown.last() {
                    Some(last) if more => Some(last.product.title_order_key()),
                    _ => page.read_up_to,
                };
                if after.is_none() {
                    break;
                }
            }
            assert_eq!(seen, expected, "q={q} limit={limit} budget={budget}");
        }
    }
    let archived_blue = RecordFilter { words: vec!["blue".into()], archived: Some(true), ..Default::default() };
    let found = store.product_records(&archived_blue, None, 50, 1000).await.unwrap();
    assert!(!found.records.is_empty() && found.records.iter().all(|r| r.archived), "filters combine");
}

pub async fn an_admin_write_completes_its_key_or_nothing(store: Arc<impl Store>) {
    let cup = record("adm-key", "Key cup", 5);
    store.apply(&write(ProductChange::Create(cup), "adm-key")).await.unwrap();
    let scope = IdempotencyScope { user: UserId::generate(), key: IdempotencyKey::parse("stock-move-0001").unwrap() };
    let lease = |lease: LeaseId, now: i64| LeaseRequest {
        scope: scope.clone(),
        fingerprint: Fingerprint::of("POST", "/admin/products/adm-key/stock", b"{}"),
        lease,
        now,
        lease_until: now + 30,
        expires_at: now + 86_400,
    };
    let (first, second) = (LeaseId::generate(), LeaseId::generate());
    assert!(matches!(store.lease(&lease(first.clone(), NOW)).await.unwrap(), LeaseOutcome::Acquired { .. }));
    // The first holder's lease lapses and a retry takes the key over.
    assert!(matches!(store.lease(&lease(second.clone(), NOW + 60)).await.unwrap(), LeaseOutcome::Acquired { .. }));
    let answer = StoredResponse { status: 200, body: Bytes::from_static(br#"{"stock":4}"#) };
    let lapsed = AdminWrite {
        change: ProductChange::Stock { id: id("adm-key"), from: 5, to: 4 },
        audit: entry("adm-key", "lapsed"),
        completion: Some((Hold { scope: &scope, lease: &first }, answer.clone())),
    };
    assert!(matches!(store.apply(&lapsed).await, Err(galley_shared::Error::RequestInProgress)));
    assert_eq!(store.product_record(&id("adm-key")).await.unwrap().unwrap().product.stock, 5, "nothing moved");
    assert_eq!(audit_targets(store.as_ref()).await, ["adm-key"], "and no entry for it");

    let held = AdminWrite { completion: Some((Hold { scope: &scope, lease: &second }, answer.clone())), ..lapsed };
    assert!(store.apply(&held).await.unwrap());
    assert_eq!(store.product_record(&id("adm-key")).await.unwrap().unwrap().product.stock, 4);
    assert_eq!(store.lease(&lease(LeaseId::generate(), NOW + 61)).await.unwrap(), LeaseOutcome::Completed(answer));
}

pub async fn the_audit_log_pages_newest_first(store: Arc<impl Store>) {
    for i in 0..5 {
        let r = record(&format!("adm-log-{i}"), "Log", 1);
        let mut w = write(ProductChange::Create(r), &format!("t{i}"));
        // ULIDs made in one millisecond still sort in the order made.
        w.audit.id = AuditId::parse(&format!("01JAUDIT00000000000000000{i}")).unwrap();
        store.apply(&w).await.unwrap();
    }
    let first = store.entries(None, 2).await.unwrap();
    assert_eq!(first.iter().map(|e| e.target.id.as_str()).collect::<Vec<_>>(), ["t4", "t3"]);
    let rest = store.entries(Some(&first[1].id), 10).await.unwrap();
    assert_eq!(rest.iter().map(|e| e.target.id.as_str()).collect::<Vec<_>>(), ["t2", "t1", "t0"]);
    assert_eq!(rest[0].after, json!({"n": 1}), "entries keep their before and after");
}

/// An audit page holds as many entries as asked however large they are:
/// DynamoDB answers a Query with at most 1 MB, and 40 entries of ~40 KB
/// each are more than that.
pub async fn an_audit_page_is_whole_however_large_its_entries(store: Arc<impl Store>) {
    let bulky = "x".repeat(40_000);
    for i in 0..40 {
        let r = record(&format!("adm-big-{i:02}"), "Big", 1);
        let mut w = write(ProductChange::Create(r), &format!("big{i:02}"));
        w.audit.after = json!({ "description": bulky });
        assert!(store.apply(&w).await.unwrap());
    }
    let page = store.entries(None, 40).await.unwrap();
    assert_eq!(page.len(), 40, "a page of 40 when 40 are asked for");
    assert!(page.iter().all(|e| e.after["description"] == bulky.as_str()));
}
