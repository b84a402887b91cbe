//! On DynamoDB a product's search index items are rewritten right after the
//! admin write's transaction, not in it. A writer that dies between the two
//! leaves a note in the same transaction, and the settler's repair rewrites
//! the index from the product as it is: search is right again, and nothing
//! of the old words stays behind.

use std::sync::Arc;

use galley_shared::admin::{Actor, AuditEntry, AuditTarget, ProductRecord};
use galley_shared::auth::Email;
use galley_shared::id::{AuditId, UserId};
use galley_shared::ports::{AdminWrite, Catalog, ProductChange, ProductRecords};
use galley_shared::search::{ProductQuery, ProductSearch, words};
use galley_tests::fixtures::{self, product};
use serde_json::Value;
use time::OffsetDateTime;

async fn found(search: &ProductSearch, text: &str) -> Vec<String> {
    let query = ProductQuery { words: words(text), limit: 10, ..Default::default() };
    search.search(&query, None).await.unwrap().items.into_iter().map(|p| p.id.to_string()).collect()
}

fn write(record: ProductRecord, previous: ProductRecord, at: i64) -> AdminWrite<'static> {
    AdminWrite {
        change: ProductChange::Replace { record, previous },
        audit: AuditEntry {
            id: AuditId::generate(),
            at: OffsetDateTime::from_unix_timestamp(at).unwrap(),
            actor: Actor {
                id: UserId::parse("01JREPA1RADM1N000000000000").unwrap(),
                email: Email::parse("owner@example.com").unwrap(),
            },
            action: "product.update".into(),
            target: AuditTarget { kind: "product".into(), id: "lamp".into() },
            before: Value::Null,
            after: Value::Null,
        },
        completion: None,
    }
}

#[tokio::test]
async fn a_write_that_lost_its_index_rewrite_is_repaired_by_the_settler() {
    let store = fixtures::dynamo_store().await;
    let search = ProductSearch::new(store.clone(), store.clone());
    let mut lamp = product("lamp", 3);
    lamp.title = "Brass Reading Lamp".into();
    lamp.description = "Warm light.".into();
    store.upsert(std::slice::from_ref(&lamp)).await.unwrap();
    let v1 = store.product_record(&lamp.id).await.unwrap().unwrap();
    assert_eq!(found(&search, "brass").await, ["lamp"]);

    // Two edits in a row, each dying after its transaction: the note keeps
    // what both left stale.
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let mut v2 = ProductRecord { version: 2, updated_at: now, ..v1.clone() };
    v2.product.title = "Copper Reading Lamp".into();
    assert!(store.commit(&write(v2.clone(), v1, now)).await.unwrap());
    let mut v3 = ProductRecord { version: 3, ..v2.clone() };
    v3.product.title = "Pewter Desk Lamp".into();
    assert!(store.commit(&write(v3, v2, now)).await.unwrap());
    assert_eq!(found(&search, "brass").await, ["lamp"], "the lost rewrite left the old words");
    assert!(found(&search, "pewter").await.is_empty());

    // Within the grace a writer may still be rewriting: nothing is touched.
    assert_eq!(store.repair_index(now - 120, 100).await.unwrap(), 0);
    assert_eq!(store.repair_index(now + 1, 100).await.unwrap(), 1);
    assert_eq!(found(&search, "pewter desk").await, ["lamp"]);
    for gone in ["brass", "copper", "reading"] {
        assert!(found(&search, gone).await.is_empty(), "{gone} is no longer the lamp's word");
    }
    assert_eq!(store.repair_index(now + 1, 100).await.unwrap(), 0, "the note is cleared");
}

#[tokio::test]
async fn an_admin_write_that_completes_leaves_nothing_to_repair() {
    let store = fixtures::dynamo_store().await;
    let lamp = product("lamp", 3);
    store.upsert(std::slice::from_ref(&lamp)).await.unwrap();
    let v1 = store.product_record(&lamp.id).await.unwrap().unwrap();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let mut v2 = ProductRecord { version: 2, updated_at: now, ..v1.clone() };
    v2.archived = true;
    let store: Arc<dyn ProductRecords> = store;
    assert!(store.apply(&write(v2, v1, now)).await.unwrap());
    assert_eq!(store.repair_index(now + 1, 100).await.unwrap(), 0);
}
